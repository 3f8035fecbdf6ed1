// Wrap-aware arithmetic for 16-bit RTP sequence numbers and 32-bit
// timestamps (RFC 3550 Appendix A.1): "newer" means less than half the
// number space ahead.

public enum SequenceNumber {
    /// True when `a` comes after `b`, allowing for wrap-around.
    @inlinable
    public static func isNewer(_ a: UInt16, than b: UInt16) -> Bool {
        a != b && a &- b < 0x8000
    }

    /// Signed distance from `b` to `a` (positive when `a` is newer).
    @inlinable
    public static func distance(from b: UInt16, to a: UInt16) -> Int {
        Int(Int16(bitPattern: a &- b))
    }
}

public enum RTPTimestamp {
    /// True when `a` comes after `b`, allowing for wrap-around.
    @inlinable
    public static func isNewer(_ a: UInt32, than b: UInt32) -> Bool {
        a != b && a &- b < 0x8000_0000
    }
}

/// Extends 16-bit sequence numbers with a cycle count so receive statistics
/// (extended highest sequence, losses) survive wrap-around. Late packets from
/// before a wrap get the previous cycle instead of jumping a whole cycle ahead.
public struct ExtendedSequenceTracker: Sendable, Equatable {
    public private(set) var cycles: UInt32 = 0
    public private(set) var highest: UInt16 = 0
    public private(set) var isStarted = false

    public init() {}

    /// The extended highest sequence number seen (cycles << 16 | highest).
    public var extendedHighest: UInt64 { UInt64(cycles) << 16 | UInt64(highest) }

    /// Records `seq` and returns its extended value.
    @discardableResult
    public mutating func update(_ seq: UInt16) -> UInt64 {
        guard isStarted else {
            isStarted = true
            highest = seq
            return UInt64(seq)
        }
        if SequenceNumber.isNewer(seq, than: highest) {
            if seq < highest { cycles &+= 1 }
            highest = seq
            return extendedHighest
        }
        // Older (or duplicate): if it is numerically above the highest, it
        // belongs to the cycle before the last wrap.
        if seq > highest, cycles > 0 {
            return UInt64(cycles - 1) << 16 | UInt64(seq)
        }
        return UInt64(cycles) << 16 | UInt64(seq)
    }
}
