// The RTCP edits an echo needs beyond SSRC mapping: sender SSRCs of reports and feedback
// (RTCPSSRCRewriter leaves those to a fixed value), REMB values above the bitrate cap, and the
// feedback Confab answers itself taken out.

import RTP

enum EchoRTCP {
    /// Maps the sender SSRC (bytes 4..<8) of every SR, RR and feedback packet in place.
    static func remapSenders(_ compound: UnsafeMutableRawBufferPointer, _ map: (UInt32) -> UInt32?) {
        var iterator = RTCPCompoundIterator(UnsafeRawBufferPointer(compound))
        while let packet = iterator.next() {
            switch packet.packetType {
            case RTCPPacketType.senderReport, RTCPPacketType.receiverReport,
                 RTCPPacketType.transportFeedback, RTCPPacketType.payloadFeedback:
                guard packet.bytes.count >= 8 else { continue }
                let offset = packet.offset + 4
                if let mapped = map(read32(compound, offset)) { write32(compound, offset, mapped) }
            default:
                continue
            }
        }
    }

    /// Sets every REMB to `cap` (bits per second) in place, as Janus's echotest does: the
    /// browser then encodes at the cap whatever its receiver estimated (REMB: PSFB with FMT 15,
    /// "REMB" at byte 12, exponent 6 bits and mantissa 18 bits at bytes 17..<20).
    static func setREMB(_ compound: UnsafeMutableRawBufferPointer, to cap: UInt32) {
        var iterator = RTCPCompoundIterator(UnsafeRawBufferPointer(compound))
        while let packet = iterator.next() {
            guard packet.packetType == RTCPPacketType.payloadFeedback, packet.format == 15,
                  packet.bytes.count >= 20, read32(compound, packet.offset + 12) == 0x5245_4D42 else { continue }
            let o = packet.offset
            var newMantissa = UInt64(cap)
            var newExponent: UInt64 = 0
            while newMantissa > 0x3_FFFF { newMantissa >>= 1; newExponent += 1 }
            compound[o + 17] = UInt8(newExponent << 2) | UInt8(newMantissa >> 16)
            compound[o + 18] = UInt8(truncatingIfNeeded: newMantissa >> 8)
            compound[o + 19] = UInt8(truncatingIfNeeded: newMantissa)
        }
    }

    /// Removes the feedback Confab acts on itself from the compound in place and returns its new
    /// length. Both kinds are about Confab's echo, and Confab already does its part toward the
    /// browser: transport-wide CC (the engine sends the browser feedback about the packets it
    /// receives; relayed too, the browser's estimator would get two reports for each packet) and
    /// generic NACKs (answered from what Confab sent; relayed, the browser would resend packets
    /// that reached Confab and repair both legs itself).
    static func removeFeedbackAnsweredHere(_ compound: UnsafeMutableRawBufferPointer) -> Int {
        var kept = 0
        var iterator = RTCPCompoundIterator(UnsafeRawBufferPointer(compound))
        while let packet = iterator.next() {
            let length = packet.totalLength
            if packet.packetType == RTCPPacketType.transportFeedback,
               packet.format == RTCPFeedbackFormat.transportWideCC || packet.format == RTCPFeedbackFormat.nack {
                continue
            }
            if kept != packet.offset, let base = compound.baseAddress {
                (base + kept).copyMemory(from: base + packet.offset, byteCount: length)
            }
            kept += length
        }
        return kept
    }

    private static func read32(_ bytes: UnsafeMutableRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func write32(_ bytes: UnsafeMutableRawBufferPointer, _ offset: Int, _ value: UInt32) {
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
    }
}
