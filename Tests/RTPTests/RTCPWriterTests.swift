import Testing
@testable import RTP

/// Runs a writer into a 1500-byte buffer and returns exactly the written bytes.
func written(_ write: (UnsafeMutableRawBufferPointer) -> Int?) -> [UInt8]? {
    var out = [UInt8](repeating: 0xEE, count: 1500)
    let n = out.withUnsafeMutableBytes { write($0) }
    guard let n else { return nil }
    return Array(out.prefix(n))
}

@Suite struct RTCPWriterTests {
    let block = RTCPReportBlock(ssrc: 9, fractionLost: 3, cumulativeLost: -5, extendedHighestSequence: 0x2_0001,
                                jitter: 11, lastSenderReport: 12, delaySinceLastSenderReport: 13)

    @Test func receiverReportRoundTrip() throws {
        let rr = RTCPReceiverReport(ssrc: 7, reportBlocks: [block, block])
        let bytes = try #require(written { RTCPWriter.writeReceiverReport(rr, into: $0) })
        #expect(bytes.count == 56)
        #expect(parseAll(bytes).packets == [.receiverReport(rr)])
    }

    @Test func senderReportRoundTrip() throws {
        let sr = RTCPSenderReport(ssrc: 1, ntpTimestamp: 0xE000_0000_8000_0000, rtpTimestamp: 90000,
                                  packetCount: 10, octetCount: 1000, reportBlocks: [block])
        let bytes = try #require(written { RTCPWriter.writeSenderReport(sr, into: $0) })
        #expect(parseAll(bytes).packets == [.senderReport(sr)])
    }

    @Test func senderReportMatchesHandBuiltBytes() throws {
        let sr = RTCPSenderReport(ssrc: 0x1111_1111, ntpTimestamp: 0x0102_0304_0506_0708, rtpTimestamp: 0x0A0B_0C0D,
                                  packetCount: 100, octetCount: 2000,
                                  reportBlocks: [RTCPReportBlock(ssrc: 0x2222_2222, fractionLost: 0x40, cumulativeLost: -2,
                                                                 extendedHighestSequence: 0x10005, jitter: 7,
                                                                 lastSenderReport: 0x0304_0506,
                                                                 delaySinceLastSenderReport: 0x10000)])
        #expect(written { RTCPWriter.writeSenderReport(sr, into: $0) } == Samples.senderReport)
    }

    @Test func nackCompactsIntoEntries() throws {
        let lost: [UInt16] = [100, 101, 103, 116, 117, 65535, 0, 3]
        let bytes = try #require(written {
            RTCPWriter.writeNack(senderSSRC: 1, mediaSSRC: 2, lost: lost, into: $0)
        })
        guard case .nack(let nack)? = parseAll(bytes).packets.first else { Issue.record("not NACK"); return }
        // 100..116 fit one entry; 117 starts another; 65535 wraps with 0 and 3.
        #expect(nack.entries.count == 3)
        #expect(nack.lostSequenceNumbers == lost)
        // Same first entry as the hand-built sample; only the length field differs.
        #expect(Array(bytes[4..<16]) == Array(Samples.nack[4...]))
        #expect(bytes.count == 24)
    }

    @Test func nackRejectsEmptyAndSmallBuffers() {
        #expect(written { RTCPWriter.writeNack(senderSSRC: 1, mediaSSRC: 2, lost: [UInt16](), into: $0) } == nil)
        var small = [UInt8](repeating: 0, count: 16)
        let n = small.withUnsafeMutableBytes {
            RTCPWriter.writeNack(senderSSRC: 1, mediaSSRC: 2, lost: [1, 100] as [UInt16], into: $0)
        }
        #expect(n == nil)
    }

    @Test func pliFirRembMatchSamples() {
        #expect(written { RTCPWriter.writePictureLossIndication(senderSSRC: 1, mediaSSRC: 2, into: $0) } == Samples.pli)
        #expect(written {
            RTCPWriter.writeFullIntraRequest(senderSSRC: 1, mediaSSRC: 0x3333_3333, sequenceNumber: 9, into: $0)
        } == Samples.fir)
        #expect(written {
            RTCPWriter.writeReceiverEstimatedBitrate(senderSSRC: 1, bitrate: 1_000_000, ssrcs: [0x4444_4444 as UInt32], into: $0)
        } == Samples.remb)
    }

    @Test(arguments: [0, 1, 262_143, 262_144, 2_500_000, 1 << 40, UInt64.max] as [UInt64])
    func rembBitrateRoundsDown(bitrate: UInt64) throws {
        let bytes = try #require(written {
            RTCPWriter.writeReceiverEstimatedBitrate(senderSSRC: 1, bitrate: bitrate, ssrcs: [UInt32](), into: $0)
        })
        guard case .receiverEstimatedBitrate(let remb)? = parseAll(bytes).packets.first else { Issue.record("not REMB"); return }
        #expect(remb.bitrate <= bitrate)
        // 18 significant bits: the loss is under 1/2^17 of the value.
        #expect(bitrate - remb.bitrate <= bitrate >> 17)
    }

    @Test func writersRefuseShortBuffers() {
        var tiny = [UInt8](repeating: 0, count: 11)
        tiny.withUnsafeMutableBytes { buf in
            #expect(RTCPWriter.writePictureLossIndication(senderSSRC: 1, mediaSSRC: 2, into: buf) == nil)
            #expect(RTCPWriter.writeFullIntraRequest(senderSSRC: 1, mediaSSRC: 2, sequenceNumber: 0, into: buf) == nil)
            #expect(RTCPWriter.writeReceiverReport(RTCPReceiverReport(ssrc: 1, reportBlocks: [block]), into: buf) == nil)
            #expect(RTCPWriter.writeReceiverEstimatedBitrate(senderSSRC: 1, bitrate: 1, ssrcs: [UInt32](), into: buf) == nil)
        }
    }
}
