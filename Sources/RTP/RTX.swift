// RFC 4588 retransmission payload format, session-multiplexed (the form
// WebRTC uses): an RTX packet is the original packet with the RTX payload
// type, SSRC and sequence number, and the original sequence number (OSN) as
// the first two payload bytes. Sending resends as RTX keeps the media
// stream's loss statistics honest and lets the receiver tell repairs apart.

public enum RTX {
    /// Bytes an RTX packet adds in front of the original payload.
    public static let originalSequenceNumberLength = 2

    /// Writes the RTX form of `original` into `out` and returns its length,
    /// or nil if `original` is not valid RTP or `out` is too small. The fixed
    /// header, CSRCs and header extensions are copied (§4: the extension
    /// SHOULD be carried); the marker and timestamp stay; padding is dropped
    /// because it is not part of the payload being repaired. `out` may be
    /// the buffer holding `original` if it has two spare bytes at the end.
    public static func write(
        original: UnsafeRawBufferPointer, payloadType: UInt8, ssrc: UInt32, sequenceNumber: UInt16,
        into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        guard let layout = RTPPacketLayout(validating: original) else { return nil }
        let headerLength = layout.payloadOffset
        let length = headerLength + originalSequenceNumberLength + layout.payloadLength
        guard length <= out.count, let source = original.baseAddress, let destination = out.baseAddress else {
            return nil
        }
        // Read the OSN before any write, in case the buffers are the same.
        let originalSequenceNumber = original.u16(2)
        // copyMemory is memmove: overlap is allowed. Payload first, so an
        // in-place conversion shifts it before the OSN lands in front of it.
        (destination + headerLength + originalSequenceNumberLength)
            .copyMemory(from: source + headerLength, byteCount: layout.payloadLength)
        destination.copyMemory(from: source, byteCount: headerLength)
        out.put16(originalSequenceNumber, at: headerLength)
        rewriteHeader(out, payloadType: payloadType, ssrc: ssrc, sequenceNumber: sequenceNumber)
        return length
    }

    /// The original sequence number carried by an RTX packet; nil if the
    /// packet is not valid RTP or its payload is shorter than the OSN.
    public static func originalSequenceNumber(of rtxPacket: UnsafeRawBufferPointer) -> UInt16? {
        guard let layout = RTPPacketLayout(validating: rtxPacket),
              layout.payloadLength >= originalSequenceNumberLength else { return nil }
        return rtxPacket.u16(layout.payloadOffset)
    }

    /// Turns a received RTX packet back into the original packet in place,
    /// with the media stream's payload type and SSRC, and returns the new
    /// length; nil if it is not a valid RTX packet (nothing is changed then).
    /// Padding is removed: the restored packet ends with its payload.
    public static func restoreOriginal(
        _ packet: UnsafeMutableRawBufferPointer, payloadType: UInt8, ssrc: UInt32
    ) -> Int? {
        guard let layout = RTPPacketLayout(validating: packet.readOnly),
              layout.payloadLength >= originalSequenceNumberLength,
              let base = packet.baseAddress else { return nil }
        let headerLength = layout.payloadOffset
        let originalSequenceNumber = packet.readOnly.u16(headerLength)
        let payloadLength = layout.payloadLength - originalSequenceNumberLength
        (base + headerLength).copyMemory(from: base + headerLength + originalSequenceNumberLength,
                                         byteCount: payloadLength)
        rewriteHeader(packet, payloadType: payloadType, ssrc: ssrc, sequenceNumber: originalSequenceNumber)
        return headerLength + payloadLength
    }

    /// Sets PT (keeping the marker), sequence number and SSRC; clears P.
    private static func rewriteHeader(
        _ out: UnsafeMutableRawBufferPointer, payloadType: UInt8, ssrc: UInt32, sequenceNumber: UInt16
    ) {
        out[0] &= ~0x20
        out[1] = (out[1] & 0x80) | (payloadType & 0x7F)
        out.put16(sequenceNumber, at: 2)
        out.put32(ssrc, at: 8)
    }
}

/// The RTX stream paired with one outgoing media stream: its payload type,
/// SSRC and its own sequence counter, which advances once per RTX packet
/// written (RFC 4588 §4: RTX sequence numbers are independent of the media's).
public struct RTXSender: Sendable, Equatable {
    public let payloadType: UInt8
    public let ssrc: UInt32
    /// Sequence number the next RTX packet gets.
    public private(set) var nextSequenceNumber: UInt16

    /// `initialSequenceNumber` should be random (RFC 3550 §5.1).
    public init(payloadType: UInt8, ssrc: UInt32, initialSequenceNumber: UInt16) {
        self.payloadType = payloadType & 0x7F
        self.ssrc = ssrc
        self.nextSequenceNumber = initialSequenceNumber
    }

    /// Writes the RTX packet for `original` into `out`; the counter only
    /// advances when a packet was written, so failures leave no gap.
    public mutating func write(original: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let length = RTX.write(original: original, payloadType: payloadType, ssrc: ssrc,
                                     sequenceNumber: nextSequenceNumber, into: out) else { return nil }
        nextSequenceNumber &+= 1
        return length
    }
}
