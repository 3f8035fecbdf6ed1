// VP8 RTP payload descriptor (RFC 7741 §4.2). The SFU needs keyframe
// detection (to switch simulcast layers and answer PLIs) and the picture ID /
// TL0PICIDX / TID fields (to filter temporal layers and keep IDs continuous).

public struct VP8PayloadDescriptor: Sendable, Equatable {
    /// N: non-reference frame, can be dropped without harming others.
    public var isNonReference: Bool
    /// S: this packet starts a VP8 partition.
    public var isStartOfPartition: Bool
    /// PID: partition index (0–7).
    public var partitionIndex: UInt8
    /// 7- or 15-bit picture ID, if present.
    public var pictureID: UInt16?
    /// True when the picture ID uses the 15-bit form (M bit), so a rewriter writes the same width.
    public var pictureIDIs15Bit: Bool
    public var tl0PictureIndex: UInt8?
    public var temporalLayerID: UInt8?
    /// Y: layer sync bit (only meaningful when `temporalLayerID` is present).
    public var layerSync: Bool
    public var keyIndex: UInt8?
    /// Offset of the VP8 payload (after the descriptor) within the RTP payload.
    public var headerLength: Int
    /// Offsets of fields, for in-place rewriting by a forwarder.
    public var pictureIDOffset: Int?
    public var tl0PictureIndexOffset: Int?

    /// Parses the descriptor at the start of an RTP payload; nil if truncated.
    public init?(_ payload: UnsafeRawBufferPointer) {
        guard payload.count >= 1 else { return nil }
        let b0 = payload[0]
        isNonReference = b0 & 0x20 != 0
        isStartOfPartition = b0 & 0x10 != 0
        partitionIndex = b0 & 0x07
        pictureID = nil
        pictureIDIs15Bit = false
        tl0PictureIndex = nil
        temporalLayerID = nil
        layerSync = false
        keyIndex = nil
        pictureIDOffset = nil
        tl0PictureIndexOffset = nil
        var pos = 1
        if b0 & 0x80 != 0 {
            guard payload.count > pos else { return nil }
            let x = payload[pos]
            pos += 1
            let hasI = x & 0x80 != 0, hasL = x & 0x40 != 0, hasT = x & 0x20 != 0, hasK = x & 0x10 != 0
            if hasI {
                guard payload.count > pos else { return nil }
                pictureIDOffset = pos
                if payload[pos] & 0x80 != 0 {
                    guard payload.count > pos + 1 else { return nil }
                    pictureID = payload.u16(pos) & 0x7FFF
                    pictureIDIs15Bit = true
                    pos += 2
                } else {
                    pictureID = UInt16(payload[pos])
                    pos += 1
                }
            }
            if hasL {
                guard payload.count > pos else { return nil }
                tl0PictureIndexOffset = pos
                tl0PictureIndex = payload[pos]
                pos += 1
            }
            if hasT || hasK {
                guard payload.count > pos else { return nil }
                let t = payload[pos]
                if hasT {
                    temporalLayerID = t >> 6
                    layerSync = t & 0x20 != 0
                }
                if hasK { keyIndex = t & 0x1F }
                pos += 1
            }
        }
        headerLength = pos
    }
}

public enum VP8 {
    /// True when the payload begins a keyframe: start of partition 0 and the
    /// VP8 frame tag's P (inverse key frame) bit is 0 (RFC 6386 §9.1).
    public static func isKeyframe(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard let d = VP8PayloadDescriptor(payload),
              d.isStartOfPartition, d.partitionIndex == 0,
              payload.count > d.headerLength else { return false }
        return payload[d.headerLength] & 0x01 == 0
    }

    /// Width and height from a keyframe's header (after the 3-byte tag and the
    /// 0x9D 0x01 0x2A start code); nil for inter frames or truncated data.
    public static func keyframeDimensions(_ payload: UnsafeRawBufferPointer) -> (width: UInt16, height: UInt16)? {
        guard isKeyframe(payload), let d = VP8PayloadDescriptor(payload) else { return nil }
        let o = d.headerLength
        guard payload.count >= o + 10,
              payload[o + 3] == 0x9D, payload[o + 4] == 0x01, payload[o + 5] == 0x2A else { return nil }
        // Little-endian 14-bit sizes; the top two bits are the scale.
        let width = (UInt16(payload[o + 6]) | UInt16(payload[o + 7]) << 8) & 0x3FFF
        let height = (UInt16(payload[o + 8]) | UInt16(payload[o + 9]) << 8) & 0x3FFF
        return (width, height)
    }
}
