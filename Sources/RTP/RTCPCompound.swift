// In-place walking of a compound RTCP packet (RFC 3550 §6.1). Each packet's
// length field is checked against the remaining bytes; iteration stops at the
// first malformed packet so a bad length can never move us past the buffer.

/// RTCP packet types the SFU understands.
public enum RTCPPacketType {
    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let goodbye: UInt8 = 203
    public static let application: UInt8 = 204
    /// Transport-layer feedback (RFC 4585): NACK, TWCC.
    public static let transportFeedback: UInt8 = 205
    /// Payload-specific feedback (RFC 4585): PLI, FIR, REMB.
    public static let payloadFeedback: UInt8 = 206
}

/// One packet inside a compound RTCP packet.
public struct RTCPPacketView {
    /// The packet's bytes including its 4-byte header, excluding padding.
    public let bytes: UnsafeRawBufferPointer
    /// Offset of this packet inside the compound buffer (for in-place rewriting).
    public let offset: Int
    /// Total bytes of this packet in the compound, including padding.
    public let totalLength: Int

    /// RC / SC / FMT / subtype: the 5-bit field after V and P.
    public var count: UInt8 { bytes[0] & 0x1F }
    /// Alias for `count` in feedback packets.
    public var format: UInt8 { count }
    public var packetType: UInt8 { bytes[1] }
    public var hasPadding: Bool { bytes[0] & 0x20 != 0 }
    /// Bytes after the 4-byte header.
    public var body: UnsafeRawBufferPointer { bytes.slice(4, bytes.count - 4) }

    /// Validates the packet at the start of `remaining`; nil if malformed.
    init?(at offset: Int, in compound: UnsafeRawBufferPointer) {
        let remaining = compound.count - offset
        guard remaining >= 4 else { return nil }
        let b0 = compound[offset]
        guard b0 >> 6 == 2 else { return nil }
        let total = (Int(compound.u16(offset + 2)) + 1) * 4
        guard total <= remaining else { return nil }
        var length = total
        if b0 & 0x20 != 0 {
            // Padding count in the last byte must leave at least the header.
            let padding = Int(compound[offset + total - 1])
            guard padding > 0, total - padding >= 4 else { return nil }
            length = total - padding
        }
        self.bytes = compound.slice(offset, length)
        self.offset = offset
        self.totalLength = total
    }
}

/// Iterates the packets of a compound RTCP buffer without allocating.
public struct RTCPCompoundIterator: IteratorProtocol, Sequence {
    public let compound: UnsafeRawBufferPointer
    private var offset = 0
    /// Set when iteration ended because of a malformed packet rather than the end of the buffer.
    public private(set) var isMalformed = false

    public init(_ compound: UnsafeRawBufferPointer) {
        self.compound = compound
    }

    public mutating func next() -> RTCPPacketView? {
        guard offset < compound.count, !isMalformed else { return nil }
        guard let packet = RTCPPacketView(at: offset, in: compound) else {
            isMalformed = true
            return nil
        }
        offset += packet.totalLength
        return packet
    }
}

public enum RTCPCompound {
    /// True when the buffer is a non-empty sequence of well-framed RTCP packets
    /// filling it exactly.
    public static func isValid(_ compound: UnsafeRawBufferPointer) -> Bool {
        guard compound.count >= 4 else { return false }
        var it = RTCPCompoundIterator(compound)
        while it.next() != nil {}
        return !it.isMalformed
    }
}
