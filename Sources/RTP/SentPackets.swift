// What one outgoing stream sent, kept to answer its receiver's NACKs: a RetransmissionBuffer
// behind a lock, so the thread that sends the stream and the one that reads the receiver's RTCP
// can share it. It starts small at the first packet (a receiver that never loses anything, most
// on a good network, costs little) and grows to its full size at the receiver's first NACK,
// keeping what it held: the packets that first NACK asks for are there to resend.

import Synchronization

/// A RetransmissionBuffer (a non-Sendable class) behind a lock.
/// @unchecked Sendable: `buffer` is only read or written inside `lock`.
public final class SentPackets: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private var buffer: RetransmissionBuffer?
    /// Slots before the first NACK and after it (powers of two), and bytes per slot.
    public let initialSlots: Int
    public let fullSlots: Int
    public let packetLength: Int

    public init(initialSlots: Int, fullSlots: Int, packetLength: Int) {
        precondition(initialSlots <= fullSlots, "the buffer only grows")
        self.initialSlots = initialSlots
        self.fullSlots = fullSlots
        self.packetLength = packetLength
    }

    /// Slots the buffer has now (0 before the first packet).
    public var capacity: Int { lock.withLock { _ in buffer?.capacity ?? 0 } }

    /// Keeps a copy of `packet`; the first one makes the small buffer (once per stream).
    public func store(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        lock.withLock { _ in
            if buffer == nil {
                buffer = RetransmissionBuffer(capacity: initialSlots, maximumPacketLength: packetLength)
            }
            _ = buffer?.store(packet, nowNanoseconds: now)
        }
    }

    /// The receiver lost something: the buffer grows to its full size (once), keeping its packets.
    public func growToFullSize() {
        lock.withLock { _ in
            guard let small = buffer, small.capacity < fullSlots else { return }
            let full = RetransmissionBuffer(capacity: fullSlots, maximumPacketLength: packetLength)
            small.copyContents(into: full)
            buffer = full
        }
    }

    /// Copies packet `sequenceNumber` into `out` if it may be resent now; its length, or 0.
    public func copy(_ sequenceNumber: UInt16, now: UInt64, minimumInterval: UInt64,
                     into out: UnsafeMutableRawBufferPointer) -> Int {
        lock.withLock { _ in
            var length = 0
            _ = buffer?.retransmit(sequenceNumber: sequenceNumber, nowNanoseconds: now,
                                   minimumIntervalNanoseconds: minimumInterval) { stored in
                guard stored.count <= out.count else { return }
                out.copyMemory(from: stored)
                length = stored.count
            }
            return length
        }
    }
}
