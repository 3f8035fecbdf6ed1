import Testing
@testable import RTP

/// Parses every packet of a compound; nil entries are malformed bodies.
func parseAll(_ bytes: [UInt8]) -> (packets: [RTCPPacket?], malformed: Bool) {
    withBytes(bytes) { buf in
        var it = RTCPCompoundIterator(UnsafeRawBufferPointer(buf))
        var out: [RTCPPacket?] = []
        while let p = it.next() { out.append(RTCPPacket(p)) }
        return (out, it.isMalformed)
    }
}

@Suite struct RTCPParseTests {
    @Test func compoundSenderReportSDESBye() throws {
        let (packets, malformed) = parseAll(Samples.senderReport + Samples.sdes + Samples.bye + Samples.app)
        #expect(!malformed)
        #expect(packets.count == 4)
        guard case .senderReport(let sr)? = packets[0] else { Issue.record("not SR"); return }
        #expect(sr.ssrc == 0x1111_1111)
        #expect(sr.ntpTimestamp == 0x0102_0304_0506_0708)
        #expect(sr.rtpTimestamp == 0x0A0B_0C0D)
        #expect(sr.packetCount == 100)
        #expect(sr.octetCount == 2000)
        let block = try #require(sr.reportBlocks.first)
        #expect(block == RTCPReportBlock(ssrc: 0x2222_2222, fractionLost: 0x40, cumulativeLost: -2,
                                         extendedHighestSequence: 0x10005, jitter: 7,
                                         lastSenderReport: 0x0304_0506, delaySinceLastSenderReport: 0x10000))
        guard case .sourceDescription(let sdes)? = packets[1] else { Issue.record("not SDES"); return }
        #expect(sdes.chunks == [RTCPSourceDescription.Chunk(ssrc: 0x1111_1111, cname: "abcd")])
        guard case .goodbye(let bye)? = packets[2] else { Issue.record("not BYE"); return }
        #expect(bye.ssrcs == [0x1111_1111])
        #expect(bye.reason == "bye")
        guard case .application(let app)? = packets[3] else { Issue.record("not APP"); return }
        #expect(app.subtype == 1)
        #expect(app.name == 0x5445_5354)
    }

    @Test func receiverReportWithoutBlocks() {
        let (packets, _) = parseAll([0x80, 201, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78])
        #expect(packets == [.receiverReport(RTCPReceiverReport(ssrc: 0x1234_5678))])
    }

    @Test func nackExpansion() throws {
        let (packets, _) = parseAll(Samples.nack)
        guard case .nack(let nack)? = packets.first else { Issue.record("not NACK"); return }
        #expect(nack.senderSSRC == 1)
        #expect(nack.mediaSSRC == 2)
        #expect(nack.lostSequenceNumbers == [100, 101, 103, 116])
        var walked: [UInt16] = []
        let ok = withBytes(Samples.nack) { buf -> Bool in
            var it = RTCPCompoundIterator(UnsafeRawBufferPointer(buf))
            guard let p = it.next() else { return false }
            return RTCPNack.forEachLost(in: p) { walked.append($0) }
        }
        #expect(ok)
        #expect(walked == [100, 101, 103, 116])
    }

    @Test func nackEntryWrapsAround() {
        var lost: [UInt16] = []
        RTCPNackEntry(packetID: 0xFFFF, lostBitmask: 0x0003).forEachLost { lost.append($0) }
        #expect(lost == [0xFFFF, 0, 1])
    }

    @Test func transportWideCC() throws {
        let (packets, _) = parseAll(Samples.twcc)
        guard case .transportFeedback(let fb)? = packets.first else { Issue.record("not TWCC"); return }
        #expect(fb.baseSequenceNumber == 0xFFFF)
        #expect(fb.packetStatusCount == 4)
        #expect(fb.referenceTime == -1)
        #expect(fb.feedbackPacketCount == 7)
        let results = try #require(fb.packets)
        #expect(results.map(\.sequenceNumber) == [0xFFFF, 0, 1, 2])
        #expect(results.map(\.status) == [.smallDelta, .smallDelta, .largeDelta, .notReceived])
        #expect(results.map(\.delta) == [4, 8, -4, nil])
    }

    @Test func transportWideCCWithTruncatedDeltasKeepsHeader() throws {
        // Drop the last delta word but keep framing valid (length 5 words).
        var bytes = Array(Samples.twcc.prefix(24))
        bytes[3] = 0x05
        let (packets, _) = parseAll(bytes)
        guard case .transportFeedback(let fb)? = packets.first else { Issue.record("not TWCC"); return }
        #expect(fb.baseSequenceNumber == 0xFFFF)
        #expect(fb.packets == nil)
    }

    @Test func pliFirRemb() {
        let (packets, malformed) = parseAll(Samples.pli + Samples.fir + Samples.remb)
        #expect(!malformed)
        #expect(packets.count == 3)
        #expect(packets[0] == .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2)))
        guard case .fullIntraRequest(let fir)? = packets[1] else { Issue.record("not FIR"); return }
        #expect(fir.senderSSRC == 1)
        #expect(fir.entries == [.init(ssrc: 0x3333_3333, sequenceNumber: 9)])
        guard case .receiverEstimatedBitrate(let remb)? = packets[2] else { Issue.record("not REMB"); return }
        #expect(remb.bitrate == 1_000_000)
        #expect(remb.ssrcs == [0x4444_4444])
    }

    @Test func rembExponentSaturates() {
        #expect(RTCPReceiverEstimatedBitrate.expand(mantissa: 0x3FFFF, exponent: 63) == UInt64.max)
        #expect(RTCPReceiverEstimatedBitrate.expand(mantissa: 1, exponent: 63) == 1 << 63)
        #expect(RTCPReceiverEstimatedBitrate.expand(mantissa: 0, exponent: 63) == 0)
    }

    @Test func unknownTypesAreFramedButUninterpreted() {
        // XR (207) is skipped, not an error.
        let (packets, malformed) = parseAll([0x80, 207, 0x00, 0x01, 0, 0, 0, 1] + Samples.pli)
        #expect(!malformed)
        #expect(packets.first == .unknown(packetType: 207, format: 0))
        #expect(packets.count == 2)
    }

    @Test func paddedLastPacket() {
        // PLI with 4 bytes of padding: length 3 words, P bit set.
        let bytes: [UInt8] = [0xA1, 206, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4]
        let (packets, malformed) = parseAll(bytes)
        #expect(!malformed)
        #expect(packets == [.pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2))])
    }

    @Test(arguments: [
        // length runs past the buffer
        [0x81, 205, 0x00, 0x09, 0, 0, 0, 1, 0, 0, 0, 2],
        // version 0
        [0x01, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2],
        // 3 trailing bytes
        Samples.pli + [0x80, 0xC8, 0x00],
        // padding count larger than the packet
        [0xA1, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0x20],
    ] as [[UInt8]])
    func rejectsBadFraming(bytes: [UInt8]) {
        withBytes(bytes) { #expect(!RTCPCompound.isValid(UnsafeRawBufferPointer($0))) }
    }

    @Test(arguments: [
        // SR claims one report block but has none
        [0x81, 200, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        // NACK without FCI
        [0x81, 205, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2],
        // FIR without an entry
        [0x84, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0],
        // SDES item longer than the packet
        [0x81, 202, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 0x61, 0x62],
        // BYE with 2 SSRCs declared, 1 present
        [0x82, 203, 0x00, 0x01, 0, 0, 0, 1],
    ] as [[UInt8]])
    func rejectsBadBodies(bytes: [UInt8]) {
        let (packets, malformed) = parseAll(bytes)
        #expect(!malformed)
        #expect(packets.count == 1)
        #expect(packets.first == .some(nil))
    }
}
