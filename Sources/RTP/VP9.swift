// VP9 RTP payload descriptor (RFC 9628 §4.2) and the start of the VP9
// uncompressed frame header (VP9 bitstream spec §6.2). The SFU needs keyframe
// detection (layer switches, PLI answers) and the picture ID, TL0PICIDX and
// layer indices (to drop layers and keep IDs continuous), like VP8.swift.
//
//   |I|P|L|F|B|E|V|Z|          I: picture ID, L: layer indices, F: flexible mode
//   |M| PICTURE ID  |          M: 15-bit picture ID (one more byte)
//   |TID|U| SID |D|            (L) then TL0PICIDX when F = 0
//   | P_DIFF    |N|            (F and P) up to 3, N: another follows
//   | SS ...                   (V) scalability structure

public struct VP9PayloadDescriptor: Sendable, Equatable {
    /// P: the frame uses inter-picture prediction (so it is not a keyframe).
    public var isInterPicturePredicted: Bool
    /// F: flexible mode (reference indices in the descriptor).
    public var isFlexibleMode: Bool
    /// B: first packet of a layer frame.
    public var isStartOfFrame: Bool
    /// E: last packet of a layer frame.
    public var isEndOfFrame: Bool
    /// V: a scalability structure follows the layer fields.
    public var hasScalabilityStructure: Bool
    /// Z: not used for inter-layer prediction by higher spatial layers.
    public var isNotUpperLayerReference: Bool
    public var pictureID: UInt16?
    public var pictureIDIs15Bit: Bool
    /// Temporal layer (0–7) when layer indices are present.
    public var temporalLayerID: UInt8?
    /// U: switching up point to a higher temporal layer.
    public var isSwitchingUpPoint: Bool
    /// Spatial layer (0–7) when layer indices are present; absent means 0.
    public var spatialLayerID: UInt8?
    /// D: depends on the spatial layer below in the same picture.
    public var isInterLayerDependent: Bool
    /// Present in non-flexible mode with layer indices.
    public var tl0PictureIndex: UInt8?
    /// Offset of the VP9 frame data (after the descriptor) within the RTP payload.
    public var headerLength: Int
    /// Offsets of fields, for in-place rewriting by a forwarder.
    public var pictureIDOffset: Int?
    public var tl0PictureIndexOffset: Int?

    /// Parses the descriptor at the start of an RTP payload; nil if truncated
    /// or if a length field in it runs past the payload.
    public init?(_ payload: UnsafeRawBufferPointer) {
        guard payload.count >= 1 else { return nil }
        let b0 = payload[0]
        isInterPicturePredicted = b0 & 0x40 != 0
        isFlexibleMode = b0 & 0x10 != 0
        isStartOfFrame = b0 & 0x08 != 0
        isEndOfFrame = b0 & 0x04 != 0
        hasScalabilityStructure = b0 & 0x02 != 0
        isNotUpperLayerReference = b0 & 0x01 != 0
        pictureID = nil
        pictureIDIs15Bit = false
        temporalLayerID = nil
        isSwitchingUpPoint = false
        spatialLayerID = nil
        isInterLayerDependent = false
        tl0PictureIndex = nil
        pictureIDOffset = nil
        tl0PictureIndexOffset = nil
        headerLength = 0
        var pos = 1
        if b0 & 0x80 != 0 { guard parsePictureID(payload, &pos) else { return nil } }
        if b0 & 0x20 != 0 { guard parseLayerIndices(payload, &pos) else { return nil } }
        if isFlexibleMode, isInterPicturePredicted {
            guard Self.skipReferenceIndices(payload, &pos) else { return nil }
        }
        if hasScalabilityStructure { guard Self.skipScalabilityStructure(payload, &pos) else { return nil } }
        headerLength = pos
    }

    private mutating func parsePictureID(_ payload: UnsafeRawBufferPointer, _ pos: inout Int) -> Bool {
        guard payload.count > pos else { return false }
        pictureIDOffset = pos
        if payload[pos] & 0x80 != 0 {
            guard payload.count > pos + 1 else { return false }
            pictureID = payload.u16(pos) & 0x7FFF
            pictureIDIs15Bit = true
            pos += 2
        } else {
            pictureID = UInt16(payload[pos])
            pos += 1
        }
        return true
    }

    private mutating func parseLayerIndices(_ payload: UnsafeRawBufferPointer, _ pos: inout Int) -> Bool {
        guard payload.count > pos else { return false }
        let b = payload[pos]
        temporalLayerID = b >> 5
        isSwitchingUpPoint = b & 0x10 != 0
        spatialLayerID = (b >> 1) & 0x07
        isInterLayerDependent = b & 0x01 != 0
        pos += 1
        // TL0PICIDX only exists in non-flexible mode.
        guard !isFlexibleMode else { return true }
        guard payload.count > pos else { return false }
        tl0PictureIndexOffset = pos
        tl0PictureIndex = payload[pos]
        pos += 1
        return true
    }

    /// P_DIFF bytes: each has N set when another follows, at most three.
    private static func skipReferenceIndices(_ payload: UnsafeRawBufferPointer, _ pos: inout Int) -> Bool {
        for _ in 0..<3 {
            guard payload.count > pos else { return false }
            let more = payload[pos] & 0x01 != 0
            pos += 1
            if !more { return true }
        }
        // A fourth reference is not allowed.
        return false
    }

    /// |N_S|Y|G|-|-|-| then (Y) N_S+1 width/height pairs, then (G) N_G and
    /// per picture |TID|U|R|-|-| plus R P_DIFF bytes.
    private static func skipScalabilityStructure(_ payload: UnsafeRawBufferPointer, _ pos: inout Int) -> Bool {
        guard payload.count > pos else { return false }
        let v = payload[pos]
        pos += 1
        if v & 0x10 != 0 { pos += (Int(v >> 5) + 1) * 4 }
        if v & 0x08 != 0 {
            guard payload.count > pos else { return false }
            let pictureCount = Int(payload[pos])
            pos += 1
            for _ in 0..<pictureCount {
                guard payload.count > pos else { return false }
                pos += 1 + Int((payload[pos] >> 2) & 0x03)
            }
        }
        return pos <= payload.count
    }

    /// True when this packet starts a frame on the base spatial layer.
    public var isStartOfBaseLayerFrame: Bool {
        isStartOfFrame && (spatialLayerID ?? 0) == 0
    }
}

/// The fields at the start of a VP9 uncompressed header that tell a keyframe
/// apart and give its size.
public struct VP9FrameHeader: Sendable, Equatable {
    public var profile: UInt8
    /// show_existing_frame: a repeat of a decoded frame, carrying no frame type.
    public var showsExistingFrame: Bool
    /// frame_type == KEY_FRAME.
    public var isKeyframe: Bool
    /// Frame size, present for keyframes (each dimension 1–65536).
    public var width: UInt32?
    public var height: UInt32?

    /// Parses the header at the start of `frame` (the bytes after the
    /// payload descriptor of a start-of-frame packet); nil when the frame
    /// marker is wrong or the bits run out.
    public init?(_ frame: UnsafeRawBufferPointer) {
        var bits = BitReader(frame)
        guard bits.read(2) == 2,
              let low = bits.read(1), let high = bits.read(1) else { return nil }
        profile = UInt8(high << 1 | low)
        if profile == 3 { guard bits.read(1) != nil else { return nil } }
        guard let showExisting = bits.read(1) else { return nil }
        showsExistingFrame = showExisting == 1
        isKeyframe = false
        width = nil
        height = nil
        if showsExistingFrame { return }
        // frame_type (0 = KEY_FRAME), show_frame, error_resilient_mode.
        guard let frameType = bits.read(1), bits.read(2) != nil else { return nil }
        isKeyframe = frameType == 0
        if isKeyframe { guard readKeyframeSize(&bits) else { return nil } }
    }

    /// frame_sync_code, color_config, frame_size (bitstream spec §6.2).
    private mutating func readKeyframeSize(_ bits: inout BitReader) -> Bool {
        guard bits.read(24) == 0x49_8342 else { return false }
        if profile >= 2 { guard bits.read(1) != nil else { return false } }
        guard let colorSpace = bits.read(3) else { return false }
        let hasSubsampling = profile == 1 || profile == 3
        // color_range (not for RGB), subsampling_x/y (profiles 1 and 3), reserved_zero.
        let colorBits = (colorSpace != 7 ? 1 : 0) + (hasSubsampling ? (colorSpace != 7 ? 3 : 1) : 0)
        if colorBits > 0 { guard bits.read(colorBits) != nil else { return false } }
        guard let widthMinusOne = bits.read(16), let heightMinusOne = bits.read(16) else { return false }
        width = widthMinusOne + 1
        height = heightMinusOne + 1
        return true
    }
}

public enum VP9 {
    /// True when the payload starts a keyframe: the first packet (B) of a
    /// base spatial layer frame that is not inter-picture predicted (P clear).
    /// When the frame header that follows parses, it must agree (frame_type
    /// KEY_FRAME): that rules out intra-only frames, which P alone cannot.
    public static func isKeyframe(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard let d = VP9PayloadDescriptor(payload), d.isStartOfBaseLayerFrame,
              !d.isInterPicturePredicted else { return false }
        guard let header = VP9FrameHeader(payload.slice(d.headerLength, payload.count - d.headerLength)) else {
            return true
        }
        return header.isKeyframe
    }

    /// Width and height of a keyframe, from its uncompressed header; nil for
    /// other frames or truncated data.
    public static func keyframeDimensions(_ payload: UnsafeRawBufferPointer) -> (width: UInt32, height: UInt32)? {
        guard isKeyframe(payload), let d = VP9PayloadDescriptor(payload),
              let header = VP9FrameHeader(payload.slice(d.headerLength, payload.count - d.headerLength)),
              let width = header.width, let height = header.height else { return nil }
        return (width, height)
    }
}

/// Reads big-endian bit fields, most significant bit first, as the VP9 and
/// AV1 specs' f(n) does. Returns nil instead of reading past the end.
struct BitReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var bitOffset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The next `count` (at most 32) bits as an unsigned value.
    mutating func read(_ count: Int) -> UInt32? {
        guard count <= 32, bitOffset + count <= bytes.count * 8 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<count {
            let bit = (bytes[bitOffset >> 3] >> (7 - UInt8(bitOffset & 7))) & 1
            value = value << 1 | UInt32(bit)
            bitOffset += 1
        }
        return value
    }
}
