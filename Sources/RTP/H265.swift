// H.265 keyframe detection over RTP (RFC 7798), the counterpart of H264.swift
// for rooms that allow h265 (Janus does). A packet carries a keyframe start
// when it holds an IRAP picture (BLA, IDR or CRA: NAL types 16–21) or a
// parameter set (VPS 32, SPS 33, PPS 34), as a single NAL unit, inside an
// aggregation packet, or as the first fragment of a fragmentation unit.
// The two-byte NAL header carries the type in bits 1–6 of the first byte.
// DONL fields (sprop-max-don-diff > 0) are not used by WebRTC and not parsed.

public enum H265 {
    static let aggregationPacket: UInt8 = 48
    static let fragmentationUnit: UInt8 = 49

    static func isKeyNALType(_ type: UInt8) -> Bool {
        (16...21).contains(type) || (32...34).contains(type)
    }

    static func nalType(_ firstHeaderByte: UInt8) -> UInt8 {
        (firstHeaderByte >> 1) & 0x3F
    }

    public static func isKeyframe(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard payload.count >= 2 else { return false }
        let type = nalType(payload[0])
        switch type {
        case aggregationPacket:
            return aggregateContainsKeyNAL(payload)
        case fragmentationUnit:
            // FU header |S|E|FuType|: S marks the first fragment.
            guard payload.count >= 3 else { return false }
            let fu = payload[2]
            return fu & 0x80 != 0 && isKeyNALType(fu & 0x3F)
        default:
            return isKeyNALType(type)
        }
    }

    /// AP: (16-bit size, NAL unit)* after the 2-byte header; stops at the first bad size.
    private static func aggregateContainsKeyNAL(_ payload: UnsafeRawBufferPointer) -> Bool {
        var pos = 2
        while pos + 2 < payload.count {
            let size = Int(payload.u16(pos))
            pos += 2
            guard size >= 2, pos + size <= payload.count else { return false }
            if isKeyNALType(nalType(payload[pos])) { return true }
            pos += size
        }
        return false
    }
}
