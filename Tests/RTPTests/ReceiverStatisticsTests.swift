import Testing
@testable import RTP

/// 20 ms of 8 kHz audio: one packet's timestamp step.
private let step: UInt32 = 160
private let twentyMilliseconds: UInt64 = 20_000_000
/// Arrival times start well past zero, as a monotonic clock's would.
private let boot: UInt64 = 3_000_000_000_000

extension ReceiverStatistics {
    /// `makeReportBlock`, failing the test on nil (a mutating call cannot sit inside `#require`).
    mutating func requireReportBlock(
        at now: UInt64, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> RTCPReportBlock {
        let block = makeReportBlock(nowNanoseconds: now)
        return try #require(block, sourceLocation: sourceLocation)
    }
}

@Suite struct ReceiverStatisticsTests {
    /// Feeds `sequenceNumbers` as 8 kHz packets sent every 20 ms, arriving on time.
    static func feed(_ stats: inout ReceiverStatistics, _ sequenceNumbers: [UInt16]) {
        for seq in sequenceNumbers {
            let index = UInt64(seq)
            stats.record(sequenceNumber: seq, rtpTimestamp: UInt32(seq) &* step,
                         arrivalNanoseconds: boot + index * twentyMilliseconds)
        }
    }

    @Test func noReportBeforeTheFirstPacket() {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        #expect(stats.makeReportBlock(nowNanoseconds: boot) == nil)
        #expect(stats.expectedPackets == 0)
    }

    @Test func inOrderPacketsLoseNothing() throws {
        var stats = ReceiverStatistics(ssrc: 0xABCD, clockRate: 8000)
        Self.feed(&stats, Array(100...109))
        #expect(stats.packetsReceived == 10)
        #expect(stats.expectedPackets == 10)
        #expect(stats.cumulativeLost == 0)
        #expect(stats.extendedHighestSequence == 109)
        #expect(stats.jitter == 0)
        let block = try stats.requireReportBlock(at: boot)
        #expect(block == RTCPReportBlock(ssrc: 0xABCD, extendedHighestSequence: 109))
    }

    @Test func lossAndFractionPerInterval() throws {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [0, 1, 2, 5, 6])
        // A.3: expected 7, received 5; fraction = (2 << 8) / 7 = 73.
        var block = try stats.requireReportBlock(at: boot)
        #expect(block.cumulativeLost == 2)
        #expect(block.fractionLost == 73)
        // The next interval has no loss, the cumulative count stays.
        Self.feed(&stats, [7, 8, 9])
        block = try stats.requireReportBlock(at: boot)
        #expect(block.cumulativeLost == 2)
        #expect(block.fractionLost == 0)
        // Everything lost in an interval but the last packet: 3 of 4 → 192.
        Self.feed(&stats, [13])
        block = try stats.requireReportBlock(at: boot)
        #expect(block.fractionLost == 192)
        #expect(block.cumulativeLost == 5)
    }

    @Test func sequenceWrapExtendsTheHighest() throws {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [65534, 65535, 0, 1])
        #expect(stats.extendedHighestSequence == 0x1_0001)
        #expect(stats.expectedPackets == 4)
        #expect(stats.cumulativeLost == 0)
        let block = try stats.requireReportBlock(at: boot)
        #expect(block.extendedHighestSequence == 0x1_0001)
    }

    @Test func reorderingIsNotLoss() {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [10, 11, 13, 12, 14])
        #expect(stats.extendedHighestSequence == 14)
        #expect(stats.cumulativeLost == 0)
        #expect(stats.packetsReceived == 5)
    }

    @Test func duplicatesMakeLossNegativeAndFractionZero() throws {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [1, 2, 2, 3, 3])
        #expect(stats.cumulativeLost == -2)
        let block = try stats.requireReportBlock(at: boot)
        #expect(block.cumulativeLost == -2)
        #expect(block.fractionLost == 0)
    }

    @Test func largeJumpNeedsASecondPacketToRestart() {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [100, 101])
        // A.1: a jump beyond MAX_DROPOUT is not counted on its own...
        let counted = stats.record(sequenceNumber: 20_000, rtpTimestamp: 0, arrivalNanoseconds: boot)
        #expect(!counted)
        #expect(stats.packetsReceived == 2)
        #expect(stats.extendedHighestSequence == 101)
        // ...and a packet that is neither next to it nor in the old stream keeps it pending.
        let stillPending = stats.record(sequenceNumber: 30_000, rtpTimestamp: 0, arrivalNanoseconds: boot)
        #expect(!stillPending)
        // The packet right after the jump confirms a restart: counters start over there.
        let confirmed = stats.record(sequenceNumber: 30_001, rtpTimestamp: 0, arrivalNanoseconds: boot)
        #expect(confirmed)
        #expect(stats.packetsReceived == 1)
        #expect(stats.extendedHighestSequence == 30_001)
        #expect(stats.expectedPackets == 1)
        #expect(stats.cumulativeLost == 0)
    }

    @Test func jumpWithinMaxDropoutIsLoss() {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [0])
        let counted = stats.record(sequenceNumber: 2999, rtpTimestamp: 0, arrivalNanoseconds: boot)
        #expect(counted)
        #expect(stats.cumulativeLost == 2998)
    }

    @Test func randomLossAcrossWrapMatchesTheModel() {
        var rng = SplitMix64(state: 42)
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 90000)
        var seq: UInt16 = 60_000
        var dropped: Int64 = 0
        stats.record(sequenceNumber: seq, rtpTimestamp: 0, arrivalNanoseconds: boot)
        for _ in 0..<20_000 {
            // Lose up to 4 in a row about one time in ten.
            let gap = rng.next() % 10 == 0 ? UInt16(rng.next() % 5) : 0
            dropped += Int64(gap)
            seq &+= 1 &+ gap
            stats.record(sequenceNumber: seq, rtpTimestamp: 0, arrivalNanoseconds: boot)
        }
        #expect(stats.cumulativeLost == dropped)
        #expect(stats.expectedPackets == 20_001 + UInt64(dropped))
    }

    // MARK: Jitter (RFC 3550 A.8)

    @Test func steadyArrivalHasNoJitter() {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, Array(0..<50))
        #expect(stats.jitter == 0)
    }

    @Test func oneLatePacketFollowsTheFormula() {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [0, 1])
        // Packet 2 arrives 10 ms (80 units) late: D = 80, J = 0 + (80 − 0) / 16 = 5.
        stats.record(sequenceNumber: 2, rtpTimestamp: 2 * step,
                     arrivalNanoseconds: boot + 2 * twentyMilliseconds + 10_000_000)
        #expect(stats.jitter == 5)
        // Packet 3 on time: D = 80 again, J = 5 + (80 − 5) / 16 = 9.6875; the
        // integer form of A.8 reports 9 (155 / 16).
        stats.record(sequenceNumber: 3, rtpTimestamp: 3 * step, arrivalNanoseconds: boot + 3 * twentyMilliseconds)
        #expect(stats.jitter == 9)
    }

    @Test func integerJitterTracksTheFloatingPointFormula() {
        var rng = SplitMix64(state: 7)
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        var reference = 0.0
        var lastTransit = 0.0
        for i in 0..<2000 {
            // Up to 30 ms of network delay, in whole 8 kHz ticks (125 µs) so
            // both versions see the same arrival times.
            let delayTicks = rng.next() % 240
            let arrival = boot + UInt64(i) * twentyMilliseconds + delayTicks * 125_000
            stats.record(sequenceNumber: UInt16(i), rtpTimestamp: UInt32(i) * step, arrivalNanoseconds: arrival)
            // A.8 verbatim, in floating point, on arrival relative to boot.
            let transit = Double(arrival - boot) * 8000 / 1e9 - Double(UInt32(i) * step)
            if i > 0 { reference += (abs(transit - lastTransit) - reference) / 16 }
            lastTransit = transit
        }
        #expect(reference > 50)
        #expect(abs(Double(stats.jitter) - reference) <= 1)
    }

    @Test func reorderedPacketsDoNotFeedJitter() {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [0, 1, 2])
        // A very late copy of packet 1 (a retransmission) leaves jitter alone.
        stats.record(sequenceNumber: 1, rtpTimestamp: step, arrivalNanoseconds: boot + 900_000_000)
        #expect(stats.jitter == 0)
    }

    // MARK: LSR / DLSR (RFC 3550 §6.4.1 example)

    @Test func ntpTimestampOfTheRFCExample() {
        // 10 Nov 1995 11:33:25.125 UTC is NTP 0xB44DB705:20000000.
        #expect(NTPTime.timestamp(unixNanoseconds: 816_003_205_125_000_000) == 0xB44D_B705_2000_0000)
        #expect(NTPTime.middle32(0xB44D_B705_2000_0000) == 0xB705_2000)
        #expect(NTPTime.timestamp(unixNanoseconds: 0) == NTPTime.unixEpochOffsetSeconds << 32)
        #expect(NTPTime.compactDuration(nanoseconds: 5_250_000_000) == 0x0005_4000)
        #expect(NTPTime.compactDuration(nanoseconds: UInt64.max) == UInt32.max)
        #expect(NTPTime.nanoseconds(compactDuration: 0x0006_2000) == 6_125_000_000)
    }

    @Test func lastSenderReportAndDelayMatchTheRFCExample() throws {
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 8000)
        Self.feed(&stats, [0])
        var block = try stats.requireReportBlock(at: boot)
        #expect(block.lastSenderReport == 0)
        #expect(block.delaySinceLastSenderReport == 0)
        // The SR (LSR 0xB705:2000) arrives; we report 5.25 s later.
        stats.recordSenderReport(ntpTimestamp: 0xB44D_B705_2000_0000, arrivalNanoseconds: boot)
        block = try stats.requireReportBlock(at: boot + 5_250_000_000)
        #expect(block.lastSenderReport == 0xB705_2000)
        #expect(block.delaySinceLastSenderReport == 0x0005_4000)
        // The sender gets it at A = 0xB710:8000: round trip 0x0006:2000 = 6.125 s.
        #expect(block.roundTripDelay(arrivalNTPMiddle: 0xB710_8000) == 0x0006_2000)
        // An arrival before LSR + DLSR is inconsistent.
        #expect(block.roundTripDelay(arrivalNTPMiddle: 0xB705_2000) == nil)
        #expect(RTCPReportBlock(ssrc: 1).roundTripDelay(arrivalNTPMiddle: 5) == nil)
    }

    @Test func cumulativeLostIsClampedTo24Bits() {
        #expect(ReceiverStatistics.clampToReportRange(10_000_000) == 0x7F_FFFF)
        #expect(ReceiverStatistics.clampToReportRange(-10_000_000) == -0x80_0000)
        #expect(ReceiverStatistics.clampToReportRange(-3) == -3)
    }

    @Test func recordsFromAHeaderView() throws {
        var stats = ReceiverStatistics(ssrc: 0xDEAD_BEEF, clockRate: 90000)
        try withBytes(Samples.plainRTP) { buf in
            let view = try #require(RTPHeaderView(buf))
            let counted = stats.record(view, arrivalNanoseconds: boot)
            #expect(counted)
        }
        #expect(stats.extendedHighestSequence == 0x1234)
    }
}

@Suite struct SenderStatisticsTests {
    @Test func countsPacketsAndPayloadOctets() {
        var stats = SenderStatistics(ssrc: 5, clockRate: 90000)
        #expect(stats.makeSenderReport(unixNanoseconds: 0, monotonicNanoseconds: 0) == nil)
        for i in 0..<3 {
            stats.record(payloadLength: 1000 + i, rtpTimestamp: 3000, sentAtNanoseconds: boot)
        }
        #expect(stats.packetsSent == 3)
        #expect(stats.payloadOctetsSent == 3003)
    }

    @Test func senderReportMapsWallClockToExtrapolatedRTPTime() throws {
        var stats = SenderStatistics(ssrc: 5, clockRate: 90000)
        stats.record(payloadLength: 100, rtpTimestamp: 1000, sentAtNanoseconds: boot)
        // A late packet of an older frame does not pull the mapping back.
        stats.record(payloadLength: 100, rtpTimestamp: 997, sentAtNanoseconds: boot + 100_000_000)
        let report = stats.makeSenderReport(unixNanoseconds: 816_003_205_125_000_000,
                                            monotonicNanoseconds: boot + 500_000_000)
        let sr = try #require(report)
        #expect(sr.ssrc == 5)
        #expect(sr.ntpTimestamp == 0xB44D_B705_2000_0000)
        // Half a second at 90 kHz after timestamp 1000.
        #expect(sr.rtpTimestamp == 46_000)
        #expect(sr.packetCount == 2)
        #expect(sr.octetCount == 200)
    }

    @Test func timestampWrapsAndCountersWrap() {
        var stats = SenderStatistics(ssrc: 5, clockRate: 48000)
        stats.record(payloadLength: 10, rtpTimestamp: 0xFFFF_FF00, sentAtNanoseconds: boot)
        stats.record(payloadLength: 10, rtpTimestamp: 0x0000_0100, sentAtNanoseconds: boot + 1_000_000)
        #expect(stats.rtpTimestamp(atNanoseconds: boot + 1_000_000) == 0x100)
        // One second at 48 kHz later.
        let oneSecondLater: UInt32 = 0x100 + 48000
        #expect(stats.rtpTimestamp(atNanoseconds: boot + 1_000_000 + 1_000_000_000) == oneSecondLater)
    }
}

@Suite struct RTCPGenerationTests {
    let cname = Array("abcd".utf8)

    @Test func sdesCNAMEMatchesHandBuiltBytes() {
        let bytes = written { RTCPWriter.writeSourceDescription(ssrc: 0x1111_1111, cname: cname, into: $0) }
        #expect(bytes == Samples.sdes)
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 6, 7, 8, 100, 255])
    func sdesRoundTripsEveryPadding(length: Int) throws {
        let name = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        let bytes = try #require(written { RTCPWriter.writeSourceDescription(ssrc: 9, cname: name, into: $0) })
        #expect(bytes.count % 4 == 0)
        let (packets, malformed) = parseAll(bytes)
        #expect(!malformed)
        guard case .sourceDescription(let sdes)? = packets.first else { Issue.record("not SDES"); return }
        #expect(sdes.chunks == [RTCPSourceDescription.Chunk(ssrc: 9, cname: String(decoding: name, as: UTF8.self))])
    }

    @Test func sdesRefusesLongCNAMEAndSmallBuffers() {
        let tooLong = [UInt8](repeating: 0x61, count: 256)
        #expect(written { RTCPWriter.writeSourceDescription(ssrc: 9, cname: tooLong, into: $0) } == nil)
        var small = [UInt8](repeating: 0, count: 15)
        let n = small.withUnsafeMutableBytes { RTCPWriter.writeSourceDescription(ssrc: 9, cname: cname, into: $0) }
        #expect(n == nil)
    }

    @Test func receiverReportCompoundFromStatistics() throws {
        var stats = ReceiverStatistics(ssrc: 0x2222_2222, clockRate: 8000)
        ReceiverStatisticsTests.feed(&stats, [0, 1, 3])
        let block = try stats.requireReportBlock(at: boot)
        let rr = RTCPReceiverReport(ssrc: 0x1111_1111, reportBlocks: [block])
        let bytes = try #require(written { RTCPWriter.writeReceiverReport(rr, cname: cname, into: $0) })
        #expect(bytes.count == 32 + 16)
        #expect(withBytes(bytes) { RTCPCompound.isValid(UnsafeRawBufferPointer($0)) })
        let (packets, malformed) = parseAll(bytes)
        #expect(!malformed)
        #expect(packets.count == 2)
        #expect(packets.first == .receiverReport(rr))
        #expect(Array(bytes[32...]) == Samples.sdes)
    }

    @Test func senderReportCompound() throws {
        var stats = SenderStatistics(ssrc: 0x1111_1111, clockRate: 90000)
        stats.record(payloadLength: 1200, rtpTimestamp: 90000, sentAtNanoseconds: boot)
        let report = stats.makeSenderReport(unixNanoseconds: 1_700_000_000_000_000_000, monotonicNanoseconds: boot)
        let sr = try #require(report)
        let bytes = try #require(written { RTCPWriter.writeSenderReport(sr, cname: cname, into: $0) })
        let (packets, malformed) = parseAll(bytes)
        #expect(!malformed)
        #expect(packets.first == .senderReport(sr))
        guard case .sourceDescription(let sdes)? = packets.last else { Issue.record("not SDES"); return }
        #expect(sdes.chunks.first?.ssrc == 0x1111_1111)
        #expect(sdes.chunks.first?.cname == "abcd")
    }

    @Test func compoundRefusesWhenTheSDESDoesNotFit() {
        let rr = RTCPReceiverReport(ssrc: 1)
        var out = [UInt8](repeating: 0, count: 8 + 15)
        let n = out.withUnsafeMutableBytes { RTCPWriter.writeReceiverReport(rr, cname: cname, into: $0) }
        #expect(n == nil)
    }
}
