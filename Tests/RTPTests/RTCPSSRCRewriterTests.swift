import Testing
@testable import RTP

@Suite struct RTCPSSRCRewriterTests {
    @Test func mapsMediaSSRCsAndSender() {
        // RR with one block for 0x22222222, then NACK/PLI for 2, FIR and REMB entries.
        let rr: [UInt8] = [0x81, 201, 0x00, 0x07, 0x11, 0x11, 0x11, 0x11] + Array(Samples.senderReport[28...])
        var bytes = rr + Samples.nack + Samples.pli + Samples.fir + Samples.remb
        let ok = bytes.withUnsafeMutableBytes { buf in
            RTCPSSRCRewriter.rewrite(buf, senderSSRC: 0xABCD_0000) { ssrc in
                switch ssrc {
                case 0x2222_2222: return 0xA
                case 2: return 0xB
                case 0x3333_3333: return 0xC
                case 0x4444_4444: return 0xD
                default: return nil
                }
            }
        }
        #expect(ok)
        let packets = parseAll(bytes).packets
        guard case .receiverReport(let r)? = packets[0] else { Issue.record("not RR"); return }
        #expect(r.ssrc == 0xABCD_0000)
        #expect(r.reportBlocks.first?.ssrc == 0xA)
        guard case .nack(let nack)? = packets[1] else { Issue.record("not NACK"); return }
        #expect(nack.senderSSRC == 0xABCD_0000 && nack.mediaSSRC == 0xB)
        #expect(nack.lostSequenceNumbers == [100, 101, 103, 116])
        #expect(packets[2] == .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 0xABCD_0000, mediaSSRC: 0xB)))
        guard case .fullIntraRequest(let fir)? = packets[3] else { Issue.record("not FIR"); return }
        #expect(fir.entries.first?.ssrc == 0xC)
        guard case .receiverEstimatedBitrate(let remb)? = packets[4] else { Issue.record("not REMB"); return }
        #expect(remb.ssrcs == [0xD])
        #expect(remb.senderSSRC == 0xABCD_0000)
    }

    @Test func unmappedSSRCsAreLeftAlone() {
        var bytes = Samples.pli
        let ok = bytes.withUnsafeMutableBytes { RTCPSSRCRewriter.rewrite($0, senderSSRC: nil) { _ in nil } }
        #expect(ok)
        #expect(bytes == Samples.pli)
    }

    @Test func malformedCompoundIsReported() {
        var bytes = Samples.pli + [0x81, 205, 0x00, 0x09]
        let ok = bytes.withUnsafeMutableBytes { RTCPSSRCRewriter.rewrite($0, senderSSRC: nil) { $0 &+ 1 } }
        #expect(!ok)
    }
}
