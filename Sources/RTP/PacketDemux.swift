// RFC 7983 demultiplexing: one UDP 5-tuple carries STUN, DTLS and SRTP/SRTCP,
// told apart by the first byte; RTP and RTCP share the port (RFC 5761) and are
// told apart by the second byte (RTCP packet types 192–223).

/// What kind of packet arrived on a bundled ICE transport.
public enum DemuxedPacketKind: Sendable, Equatable {
    case stun
    case zrtp
    case dtls
    case turnChannel
    case rtp
    case rtcp
    case unknown
}

public enum PacketDemux {
    /// Classifies by the first byte only (RFC 7983 §7). RTP and RTCP both map to `.rtp`.
    @inlinable
    public static func classify(firstByte b: UInt8) -> DemuxedPacketKind {
        switch b {
        case 0...3: return .stun
        case 16...19: return .zrtp
        case 20...63: return .dtls
        case 64...79: return .turnChannel
        case 128...191: return .rtp
        default: return .unknown
        }
    }

    /// True when the second byte of an RTP/RTCP packet is an RTCP packet type
    /// (RFC 5761 §4: 192–223 are not used as RTP payload types with the marker bit).
    @inlinable
    public static func isRTCPPacketType(secondByte b: UInt8) -> Bool {
        b >= 192 && b <= 223
    }

    /// Full classification, splitting RTP from RTCP. Packets too short to hold
    /// a fixed RTP/RTCP header are `.unknown`.
    public static func classify(_ packet: UnsafeRawBufferPointer) -> DemuxedPacketKind {
        guard packet.count > 0 else { return .unknown }
        let kind = classify(firstByte: packet[0])
        guard kind == .rtp else { return kind }
        guard packet.count >= 4 else { return .unknown }
        return isRTCPPacketType(secondByte: packet[1]) ? .rtcp : .rtp
    }
}
