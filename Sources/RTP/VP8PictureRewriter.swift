// VP8 picture ID and TL0PICIDX continuity for one outgoing stream (RFC 7741 §4.2). Each
// simulcast layer has its own picture ID counter and TL0PICIDX (Chrome starts both at random),
// so a forwarder that switches layers, or resumes after a pause, would show the receiver a jump:
// libwebrtc's VP8 reference finder then waits for pictures that never come, or mis-links frames.
// At a switch the first picture of the new source is numbered last sent + 1 (its first TL0
// frame, last TL0PICIDX + 1); within a source the differences are kept, so a gap left by dropped
// temporal layers stays a gap, as the sender made it. Plain value state, no allocation.

public struct VP8PictureRewriter: Sendable, Equatable {
    /// The values one packet's descriptor gets (nil: the field is absent, left as is).
    public struct Fields: Sendable, Equatable {
        public var pictureID: UInt16?
        public var tl0PictureIndex: UInt8?

        public init(pictureID: UInt16?, tl0PictureIndex: UInt8?) {
            self.pictureID = pictureID
            self.tl0PictureIndex = tl0PictureIndex
        }

        /// Writes the values over the fields of `descriptor` (parsed from `payload`, or from a
        /// byte-identical copy of it) in place, each in the width the packet uses.
        public func write(into payload: UnsafeMutableRawBufferPointer, descriptor: VP8PayloadDescriptor) {
            if let pictureID, let offset = descriptor.pictureIDOffset {
                if descriptor.pictureIDIs15Bit {
                    guard offset + 1 < payload.count else { return }
                    payload[offset] = 0x80 | UInt8(truncatingIfNeeded: (pictureID >> 8) & 0x7F)
                    payload[offset + 1] = UInt8(truncatingIfNeeded: pictureID)
                } else {
                    guard offset < payload.count else { return }
                    payload[offset] = UInt8(truncatingIfNeeded: pictureID & 0x7F)
                }
            }
            if let tl0PictureIndex, let offset = descriptor.tl0PictureIndexOffset, offset < payload.count {
                payload[offset] = tl0PictureIndex
            }
        }
    }

    private var pictureIDs = ContinuousCounter(mask: 0x7FFF)
    private var tl0PictureIndices = ContinuousCounter(mask: 0xFF)

    public init() {}

    /// The next packets come from another source (simulcast layer, publisher, or the same one
    /// after a pause): each field continues from the last value sent + 1 at its next appearance.
    public mutating func switchSource() {
        pictureIDs.switchSource()
        tl0PictureIndices.switchSource()
    }

    /// The values a forwarded packet with `descriptor` carries out.
    public mutating func rewrite(_ descriptor: VP8PayloadDescriptor) -> Fields {
        var fields = Fields(pictureID: nil, tl0PictureIndex: nil)
        if let pictureID = descriptor.pictureID {
            // A 7-bit ID wraps at 128; its low bits are those of the 15-bit sequence.
            let width: UInt16 = descriptor.pictureIDIs15Bit ? 0x7FFF : 0x7F
            fields.pictureID = pictureIDs.rewrite(pictureID, width: width) & width
        }
        if let index = descriptor.tl0PictureIndex {
            fields.tl0PictureIndex = UInt8(truncatingIfNeeded: tl0PictureIndices.rewrite(UInt16(index), width: 0xFF))
        }
        return fields
    }

    /// Parses the descriptor at the start of `payload` and rewrites it in place (a payload
    /// without a descriptor extension is left untouched).
    public mutating func rewrite(payload: UnsafeMutableRawBufferPointer) {
        guard let descriptor = VP8PayloadDescriptor(UnsafeRawBufferPointer(payload)) else { return }
        rewrite(descriptor).write(into: payload, descriptor: descriptor)
    }
}

/// One wrapping counter (picture ID, TL0PICIDX) made continuous across source switches: the
/// SequenceRewriter's idea for a field whose modulus is smaller than 16 bits.
private struct ContinuousCounter: Sendable, Equatable {
    /// 2^bits − 1: the largest value.
    let mask: UInt16
    private var offset: UInt16 = 0
    private var highestIn: UInt16 = 0
    private var lastOut: UInt16 = 0
    private var hasOutput = false
    private var pendingSwitch = true

    init(mask: UInt16) {
        self.mask = mask
    }

    mutating func switchSource() {
        pendingSwitch = true
    }

    /// The outgoing value for `value`; `width` (≤ mask) is the modulus the packet's field uses,
    /// for telling a newer value from a reordered older one.
    mutating func rewrite(_ value: UInt16, width: UInt16) -> UInt16 {
        let value = value & width
        if pendingSwitch {
            pendingSwitch = false
            // The very first source keeps its own numbers, as the sequence numbers do.
            offset = hasOutput ? (lastOut &+ 1 &- value) & mask : 0
            hasOutput = true
            highestIn = value
            lastOut = (value &+ offset) & mask
            return lastOut
        }
        let ahead = (value &- highestIn) & width
        if ahead != 0, ahead <= width / 2 {
            highestIn = value
            lastOut = (value &+ offset) & mask
            return lastOut
        }
        // The same picture again (its other packets) or a reordered older one: same mapping.
        return (value &+ offset) & mask
    }
}
