// AV1 over RTP (AOMedia "RTP Payload Format For AV1" v1.0, §4.4): every
// payload starts with a one-byte aggregation header, followed by OBU
// elements, each prefixed by a LEB128 length except possibly the last.
//
//   |Z|Y| W |N|-|-|-|    Z: first element continues an OBU from the previous
//                        packet, Y: last element continues in the next one,
//                        W: element count (0 = all carry a length),
//                        N: first packet of a coded video sequence.

public struct AV1AggregationHeader: Sendable, Equatable {
    /// Z: the first OBU element is the rest of a fragmented OBU.
    public var continuesPreviousOBU: Bool
    /// Y: the last OBU element is continued in the next packet.
    public var continuesInNextPacket: Bool
    /// W: number of OBU elements (1–3), or 0 when every element has a length field.
    public var elementCount: UInt8
    /// N: this packet starts a new coded video sequence.
    public var startsNewCodedVideoSequence: Bool

    public init?(_ payload: UnsafeRawBufferPointer) {
        guard payload.count >= 1 else { return nil }
        let b = payload[0]
        continuesPreviousOBU = b & 0x80 != 0
        continuesInNextPacket = b & 0x40 != 0
        elementCount = (b >> 4) & 0x03
        startsNewCodedVideoSequence = b & 0x08 != 0
    }
}

/// AV1 OBU types the SFU cares about (AV1 spec §6.2.2).
public enum AV1OBUType {
    public static let sequenceHeader: UInt8 = 1
    public static let temporalDelimiter: UInt8 = 2
    public static let frameHeader: UInt8 = 3
    public static let frame: UInt8 = 6
}

public enum AV1 {
    /// True when the packet starts a keyframe. The payload format sets N on
    /// the first packet of a coded video sequence, and a new sequence can
    /// only begin with a key frame, so N is the keyframe signal an SFU uses
    /// (Z must be clear too: a sequence cannot start mid-OBU).
    public static func isKeyframe(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard let header = AV1AggregationHeader(payload) else { return false }
        return header.startsNewCodedVideoSequence && !header.continuesPreviousOBU
    }

    /// Calls `body` with each OBU element's bytes in order (`body` returns
    /// false to stop). Returns false when the element lengths do not fit the
    /// payload or a LEB128 length is malformed.
    @discardableResult
    public static func forEachOBUElement(
        in payload: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Bool
    ) -> Bool {
        guard let header = AV1AggregationHeader(payload) else { return false }
        let count = Int(header.elementCount)
        var pos = 1
        var index = 0
        while pos < payload.count {
            index += 1
            // With W > 0 the W-th element has no length: it runs to the end.
            let length: Int
            if count > 0, index == count {
                length = payload.count - pos
            } else {
                guard let (value, size) = readLEB128(payload, at: pos), value <= payload.count - pos - size else {
                    return false
                }
                pos += size
                length = value
            }
            if !body(payload.slice(pos, length)) { return true }
            pos += length
            if count > 0, index == count { break }
        }
        return true
    }

    /// True when the first OBU element is a complete OBU (not a continuation)
    /// of type sequence header: what a keyframe's first packet carries.
    public static func startsWithSequenceHeader(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard let header = AV1AggregationHeader(payload), !header.continuesPreviousOBU else { return false }
        var type: UInt8?
        forEachOBUElement(in: payload) { element in
            if element.count >= 1 { type = (element[0] >> 3) & 0x0F }
            return false
        }
        return type == AV1OBUType.sequenceHeader
    }

    /// leb128() from AV1 spec §4.10.5: up to 8 bytes, 7 bits each, little
    /// endian. Returns the value and the bytes used; nil when it runs past the
    /// buffer or exceeds 32 bits (the spec's limit).
    static func readLEB128(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (value: Int, size: Int)? {
        var value: UInt64 = 0
        for i in 0..<8 {
            guard offset + i < bytes.count else { return nil }
            let byte = bytes[offset + i]
            value |= UInt64(byte & 0x7F) << (7 * UInt64(i))
            if byte & 0x80 == 0 {
                return value <= UInt64(UInt32.max) ? (Int(value), i + 1) : nil
            }
        }
        return nil
    }
}
