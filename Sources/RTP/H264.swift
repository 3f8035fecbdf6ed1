// H.264 keyframe detection over RTP (RFC 6184): a packet carries a keyframe
// start when it holds an IDR slice (5), SPS (7) or PPS (8), either as a single
// NAL unit, inside a STAP-A aggregate, or as the first fragment of a FU-A.

public enum H264 {
    static func isKeyNALType(_ type: UInt8) -> Bool {
        type == 5 || type == 7 || type == 8
    }

    public static func isKeyframe(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard payload.count >= 1 else { return false }
        let type = payload[0] & 0x1F
        switch type {
        case 1...23:
            return isKeyNALType(type)
        case 24:
            // STAP-A: (16-bit size, NAL unit)*; stop at the first bad size.
            var pos = 1
            while pos + 2 < payload.count {
                let size = Int(payload.u16(pos))
                pos += 2
                guard size > 0, pos + size <= payload.count else { return false }
                if isKeyNALType(payload[pos] & 0x1F) { return true }
                pos += size
            }
            return false
        case 28:
            // FU-A: FU header's S bit marks the first fragment.
            guard payload.count >= 2 else { return false }
            let fu = payload[1]
            return fu & 0x80 != 0 && isKeyNALType(fu & 0x1F)
        default:
            return false
        }
    }
}
