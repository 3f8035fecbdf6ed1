// Writers for the RTCP packets the SFU originates: RR/SR toward publishers,
// NACK/PLI/FIR/REMB feedback. Each writes into a caller buffer and returns the
// bytes written, or nil when the buffer is too small or the input cannot be
// encoded (nothing is partially meaningful in that case).

public enum RTCPWriter {
    /// Writes the common 4-byte header for a packet of `length` bytes (multiple of 4).
    @inline(__always)
    static func header(_ out: UnsafeMutableRawBufferPointer, count: UInt8, type: UInt8, length: Int) {
        out[0] = 0x80 | (count & 0x1F)
        out[1] = type
        out.put16(UInt16(length / 4 - 1), at: 2)
    }

    static func putBlock(_ block: RTCPReportBlock, _ out: UnsafeMutableRawBufferPointer, at o: Int) {
        out.put32(block.ssrc, at: o)
        out[o + 4] = block.fractionLost
        // Clamp to the signed 24-bit range before truncating.
        let lost = max(-0x80_0000, min(0x7F_FFFF, block.cumulativeLost))
        out.put24(UInt32(bitPattern: lost) & 0xFF_FFFF, at: o + 5)
        out.put32(block.extendedHighestSequence, at: o + 8)
        out.put32(block.jitter, at: o + 12)
        out.put32(block.lastSenderReport, at: o + 16)
        out.put32(block.delaySinceLastSenderReport, at: o + 20)
    }

    /// Receiver Report with up to 31 report blocks.
    public static func writeReceiverReport(
        _ report: RTCPReceiverReport, into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let n = report.reportBlocks.count
        let length = 8 + n * RTCPReportBlock.length
        guard n <= 31, length <= out.count else { return nil }
        header(out, count: UInt8(n), type: RTCPPacketType.receiverReport, length: length)
        out.put32(report.ssrc, at: 4)
        for (i, block) in report.reportBlocks.enumerated() { putBlock(block, out, at: 8 + i * RTCPReportBlock.length) }
        return length
    }

    /// Sender Report with up to 31 report blocks.
    public static func writeSenderReport(
        _ report: RTCPSenderReport, into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        let n = report.reportBlocks.count
        let length = 28 + n * RTCPReportBlock.length
        guard n <= 31, length <= out.count else { return nil }
        header(out, count: UInt8(n), type: RTCPPacketType.senderReport, length: length)
        out.put32(report.ssrc, at: 4)
        out.put64(report.ntpTimestamp, at: 8)
        out.put32(report.rtpTimestamp, at: 16)
        out.put32(report.packetCount, at: 20)
        out.put32(report.octetCount, at: 24)
        for (i, block) in report.reportBlocks.enumerated() { putBlock(block, out, at: 28 + i * RTCPReportBlock.length) }
        return length
    }

    /// Generic NACK for `lost` sequence numbers. Numbers within 16 after an
    /// entry's PID share its bitmask; pass them in ascending (wrap-aware)
    /// order for the most compact packet. Generic over the collection so a
    /// caller's fixed storage can be used without allocating.
    public static func writeNack<Lost: Collection>(
        senderSSRC: UInt32, mediaSSRC: UInt32, lost: Lost, into out: UnsafeMutableRawBufferPointer
    ) -> Int? where Lost.Element == UInt16 {
        guard !lost.isEmpty, out.count >= 16 else { return nil }
        var pos = 12
        var pid: UInt16 = 0
        var mask: UInt16 = 0
        var open = false
        for seq in lost {
            let distance = seq &- pid
            if open, distance == 0 { continue }
            if open, distance >= 1, distance <= 16 {
                mask |= 1 << (distance - 1)
                continue
            }
            if open {
                guard pos + 4 <= out.count else { return nil }
                out.put16(pid, at: pos)
                out.put16(mask, at: pos + 2)
                pos += 4
            }
            pid = seq
            mask = 0
            open = true
        }
        guard pos + 4 <= out.count, pos + 4 <= 4 * 65536 else { return nil }
        out.put16(pid, at: pos)
        out.put16(mask, at: pos + 2)
        pos += 4
        header(out, count: RTCPFeedbackFormat.nack, type: RTCPPacketType.transportFeedback, length: pos)
        out.put32(senderSSRC, at: 4)
        out.put32(mediaSSRC, at: 8)
        return pos
    }

    /// Picture Loss Indication: asks the publisher for a keyframe.
    public static func writePictureLossIndication(
        senderSSRC: UInt32, mediaSSRC: UInt32, into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        guard out.count >= 12 else { return nil }
        header(out, count: RTCPFeedbackFormat.pli, type: RTCPPacketType.payloadFeedback, length: 12)
        out.put32(senderSSRC, at: 4)
        out.put32(mediaSSRC, at: 8)
        return 12
    }

    /// Full Intra Request for one media SSRC; `sequenceNumber` must increase
    /// per new request (RFC 5104 §4.3.1.1) so the sender can tell repeats apart.
    public static func writeFullIntraRequest(
        senderSSRC: UInt32, mediaSSRC: UInt32, sequenceNumber: UInt8, into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        guard out.count >= 20 else { return nil }
        header(out, count: RTCPFeedbackFormat.fir, type: RTCPPacketType.payloadFeedback, length: 20)
        out.put32(senderSSRC, at: 4)
        out.put32(0, at: 8)
        out.put32(mediaSSRC, at: 12)
        out.put32(UInt32(sequenceNumber) << 24, at: 16)
        return 20
    }

    /// REMB with the bitrate encoded as an 18-bit mantissa and 6-bit exponent
    /// (rounded down, so we never advertise more than asked).
    public static func writeReceiverEstimatedBitrate<SSRCs: Collection>(
        senderSSRC: UInt32, bitrate: UInt64, ssrcs: SSRCs, into out: UnsafeMutableRawBufferPointer
    ) -> Int? where SSRCs.Element == UInt32 {
        let n = ssrcs.count
        let length = 20 + n * 4
        guard n <= 255, length <= out.count else { return nil }
        var mantissa = bitrate
        var exponent: UInt64 = 0
        while mantissa > 0x3_FFFF { mantissa >>= 1; exponent += 1 }
        header(out, count: RTCPFeedbackFormat.applicationLayer, type: RTCPPacketType.payloadFeedback, length: length)
        out.put32(senderSSRC, at: 4)
        out.put32(0, at: 8)
        out.put32(RTCPReceiverEstimatedBitrate.identifier, at: 12)
        out[16] = UInt8(n)
        out.put24(UInt32(exponent << 18 | mantissa), at: 17)
        for (i, ssrc) in ssrcs.enumerated() { out.put32(ssrc, at: 20 + i * 4) }
        return length
    }
}
