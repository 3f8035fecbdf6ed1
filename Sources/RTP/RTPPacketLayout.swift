// Validation of an RTP packet's framing (RFC 3550 §5.1) without copying.
// Every length in the packet (CSRC count, extension length, padding count) is
// checked against the real buffer size before it is used.

/// Offsets of the parts of a validated RTP packet. A plain value, so it can be
/// computed once and kept next to the caller's buffer.
public struct RTPPacketLayout: Sendable, Equatable {
    /// Total packet length in bytes, including padding.
    public let packetLength: Int
    /// Number of CSRC entries after the fixed header.
    public let csrcCount: Int
    /// The 16-bit "defined by profile" value of the extension header, if any
    /// (0xBEDE one-byte, 0x1000–0x100F two-byte, RFC 8285).
    public let extensionProfile: UInt16?
    /// Offset of the extension data (after the 4-byte extension header).
    public let extensionDataOffset: Int
    /// Length of the extension data in bytes (a multiple of 4).
    public let extensionDataLength: Int
    /// Offset of the payload: the full header length.
    public let payloadOffset: Int
    /// Payload length, excluding padding.
    public let payloadLength: Int
    /// Padding bytes at the end (including the count byte); 0 when P is clear.
    public let paddingLength: Int

    /// Smallest possible RTP header.
    public static let fixedHeaderLength = 12

    /// Validates `bytes` as an RTP packet. Returns nil for anything malformed:
    /// wrong version, CSRCs or extension running past the end, or padding
    /// that is zero or larger than what follows the header.
    public init?(validating bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        guard count >= Self.fixedHeaderLength else { return nil }
        let b0 = bytes[0]
        guard b0 >> 6 == 2 else { return nil }
        let hasPadding = b0 & 0x20 != 0
        let hasExtension = b0 & 0x10 != 0
        let cc = Int(b0 & 0x0F)
        var offset = Self.fixedHeaderLength + cc * 4
        guard offset <= count else { return nil }

        var profile: UInt16?
        var extOffset = 0
        var extLength = 0
        if hasExtension {
            guard offset + 4 <= count else { return nil }
            profile = bytes.u16(offset)
            extLength = Int(bytes.u16(offset + 2)) * 4
            extOffset = offset + 4
            guard extOffset + extLength <= count else { return nil }
            offset = extOffset + extLength
        }

        var padding = 0
        if hasPadding {
            // The last byte counts the padding including itself; zero is invalid.
            guard count > offset else { return nil }
            padding = Int(bytes[count - 1])
            guard padding > 0, offset + padding <= count else { return nil }
        }

        self.packetLength = count
        self.csrcCount = cc
        self.extensionProfile = profile
        self.extensionDataOffset = extOffset
        self.extensionDataLength = extLength
        self.payloadOffset = offset
        self.payloadLength = count - offset - padding
        self.paddingLength = padding
    }
}
