// The SFU gives each subscriber its own SSRCs. Feedback from a subscriber
// names those SSRCs, so before relaying it to the publisher the media SSRCs
// are mapped back in place, and the sender SSRC replaced by the SFU's own.

public enum RTCPSSRCRewriter {
    /// Rewrites a compound RTCP packet in place.
    /// - `senderSSRC`: if non-nil, replaces the sender SSRC of RR/SR/RTPFB/PSFB packets.
    /// - `map`: called with each media SSRC (feedback media source, FIR and
    ///   REMB entries, report block sources); returning nil leaves it unchanged.
    /// Returns false if the compound is malformed; packets before the bad one
    /// have already been rewritten, so the caller should drop the whole buffer.
    @discardableResult
    public static func rewrite(
        _ compound: UnsafeMutableRawBufferPointer, senderSSRC: UInt32?, map: (UInt32) -> UInt32?
    ) -> Bool {
        let readable = compound.readOnly
        var it = RTCPCompoundIterator(readable)
        while let packet = it.next() {
            let b = packet.bytes
            let base = packet.offset
            func remap(_ o: Int) {
                if let mapped = map(b.u32(o)) { compound.put32(mapped, at: base + o) }
            }
            func replaceSender() {
                if let senderSSRC, b.count >= 8 { compound.put32(senderSSRC, at: base + 4) }
            }
            switch packet.packetType {
            case RTCPPacketType.senderReport, RTCPPacketType.receiverReport:
                let first = packet.packetType == RTCPPacketType.senderReport ? 28 : 8
                let blocks = Int(packet.count)
                guard first + blocks * RTCPReportBlock.length <= b.count else { return false }
                replaceSender()
                for i in 0..<blocks { remap(first + i * RTCPReportBlock.length) }
            case RTCPPacketType.transportFeedback, RTCPPacketType.payloadFeedback:
                guard b.count >= 12 else { return false }
                replaceSender()
                if packet.packetType == RTCPPacketType.payloadFeedback, packet.format == RTCPFeedbackFormat.fir {
                    guard (b.count - 12) % 8 == 0 else { return false }
                    for o in stride(from: 12, to: b.count, by: 8) { remap(o) }
                } else if packet.packetType == RTCPPacketType.payloadFeedback,
                          packet.format == RTCPFeedbackFormat.applicationLayer,
                          b.count >= 20, b.u32(12) == RTCPReceiverEstimatedBitrate.identifier {
                    let n = Int(b[16])
                    guard 20 + n * 4 <= b.count else { return false }
                    for i in 0..<n { remap(20 + i * 4) }
                } else {
                    remap(8)
                }
            default:
                break
            }
        }
        return !it.isMalformed
    }
}
