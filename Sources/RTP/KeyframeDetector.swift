// One entry point for "does this packet start a keyframe?" across the video
// codecs a room can carry, so the forwarding path can switch on the codec it
// learned from SDP once and call the same function for every packet.

/// Video codecs the SFU understands at the payload level.
public enum VideoCodec: String, Sendable, CaseIterable {
    case vp8, vp9, h264, h265, av1

    /// The codec for an SDP rtpmap encoding name (compared ignoring ASCII
    /// case, without allocating); nil for anything else. "AV1X" is the name
    /// early Chrome versions used for AV1.
    public init?(encodingName: some StringProtocol) {
        for (name, codec) in Self.encodingNames where Self.equalIgnoringASCIICase(encodingName.utf8, name.utf8Bytes) {
            self = codec
            return
        }
        return nil
    }

    private static let encodingNames: [(StaticString, VideoCodec)] = [
        ("VP8", .vp8), ("VP9", .vp9), ("H264", .h264), ("H265", .h265), ("AV1", .av1), ("AV1X", .av1),
    ]

    private static func equalIgnoringASCIICase<A: Collection>(_ a: A, _ b: UnsafeBufferPointer<UInt8>) -> Bool
        where A.Element == UInt8 {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { lowercased($0) == lowercased($1) }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}

extension StaticString {
    fileprivate var utf8Bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: utf8Start, count: utf8CodeUnitCount)
    }
}

public enum KeyframeDetector {
    /// True when the RTP payload starts a keyframe of `codec`.
    public static func isKeyframe(codec: VideoCodec, payload: UnsafeRawBufferPointer) -> Bool {
        switch codec {
        case .vp8: return VP8.isKeyframe(payload)
        case .vp9: return VP9.isKeyframe(payload)
        case .h264: return H264.isKeyframe(payload)
        case .h265: return H265.isKeyframe(payload)
        case .av1: return AV1.isKeyframe(payload)
        }
    }

    /// Same, for a validated packet view.
    public static func isKeyframe(codec: VideoCodec, packet: RTPHeaderView) -> Bool {
        isKeyframe(codec: codec, payload: UnsafeRawBufferPointer(packet.payload))
    }
}
