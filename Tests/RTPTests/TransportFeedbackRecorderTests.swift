import Testing
@testable import RTP

/// Writes the recorder's next feedback packet and parses it back with Confab's own parser.
private func nextFeedback(_ recorder: inout TransportFeedbackRecorder, sender: UInt32 = 0x1111)
    -> (feedback: RTCPTransportFeedback, bytes: [UInt8])? {
    var buffer = [UInt8](repeating: 0xEE, count: TransportFeedbackRecorder.maxPacketSize)
    let length = buffer.withUnsafeMutableBytes { recorder.writeFeedback(senderSSRC: sender, into: $0) }
    guard let length else { return nil }
    let bytes = Array(buffer.prefix(length))
    let parsed = bytes.withUnsafeBytes { raw -> RTCPTransportFeedback? in
        guard RTCPCompound.isValid(raw) else { return nil }
        var iterator = RTCPCompoundIterator(raw)
        return iterator.next().flatMap { RTCPTransportFeedback($0) }
    }
    guard let parsed else { return nil }
    return (parsed, bytes)
}

/// Arrival times rebuilt from a feedback packet (reference time + running deltas), in ns.
private func arrivals(_ feedback: RTCPTransportFeedback) -> [UInt16: Int64] {
    var time = Int64(feedback.referenceTime) * 64_000_000
    var result: [UInt16: Int64] = [:]
    for packet in feedback.packets ?? [] {
        guard let delta = packet.delta else { continue }
        time += Int64(delta) * 250_000
        result[packet.sequenceNumber] = time
    }
    return result
}

@Suite struct TransportFeedbackRecorderTests {
    static let start: UInt64 = 1_000 * 64_000_000 + 5_000_000

    @Test func reportsArrivalsAndLossesInOrder() throws {
        var recorder = TransportFeedbackRecorder()
        #expect(!recorder.hasPending)
        var sent: [UInt16: Int64] = [:]
        for sequence in UInt16(100)..<130 where sequence != 107 && sequence != 108 {
            let time = Self.start + UInt64(sequence - 100) * 3_000_000
            recorder.record(sequence: sequence, arrivalNanos: time, ssrc: 0xABCD)
            sent[sequence] = Int64(time)
        }
        #expect(recorder.hasPending)
        let (feedback, bytes) = try #require(nextFeedback(&recorder))
        #expect(bytes.count % 4 == 0)
        #expect(bytes[1] == 205 && bytes[0] & 0x1F == 15)
        #expect(feedback.senderSSRC == 0x1111 && feedback.mediaSSRC == 0xABCD)
        #expect(feedback.baseSequenceNumber == 100 && feedback.packetStatusCount == 30)
        #expect(feedback.feedbackPacketCount == 0)
        let packets = try #require(feedback.packets)
        #expect(packets.filter { $0.status == .notReceived }.map(\.sequenceNumber) == [107, 108])
        for (sequence, time) in arrivals(feedback) {
            let expected = try #require(sent[sequence])
            #expect(abs(time - expected) < 250_000, "packet \(sequence)")
        }
        #expect(arrivals(feedback).count == 28)
        #expect(!recorder.hasPending)
        #expect(nextFeedback(&recorder) == nil)
    }

    @Test func nextPacketContinuesWhereTheLastEndedAndCountsFeedback() throws {
        var recorder = TransportFeedbackRecorder()
        recorder.record(sequence: 1, arrivalNanos: Self.start, ssrc: 1)
        recorder.record(sequence: 2, arrivalNanos: Self.start + 1_000_000, ssrc: 1)
        _ = try #require(nextFeedback(&recorder))
        // a late packet from the reported range is not reported again
        recorder.record(sequence: 1, arrivalNanos: Self.start + 2_000_000, ssrc: 1)
        #expect(!recorder.hasPending)
        recorder.record(sequence: 4, arrivalNanos: Self.start + 10_000_000, ssrc: 1)
        let (second, _) = try #require(nextFeedback(&recorder))
        #expect(second.baseSequenceNumber == 3 && second.packetStatusCount == 2)
        #expect(second.feedbackPacketCount == 1)
        #expect(second.packets?.map(\.status) == [.notReceived, .smallDelta])
    }

    @Test func reorderedAndDistantArrivalsUseLargeDeltas() throws {
        var recorder = TransportFeedbackRecorder()
        recorder.record(sequence: 10, arrivalNanos: Self.start, ssrc: 1)
        recorder.record(sequence: 12, arrivalNanos: Self.start + 100_000_000, ssrc: 1)  // 400 units: large
        recorder.record(sequence: 11, arrivalNanos: Self.start + 110_000_000, ssrc: 1)  // after 12: negative
        let (feedback, _) = try #require(nextFeedback(&recorder))
        let packets = try #require(feedback.packets)
        #expect(packets.map(\.status) == [.smallDelta, .largeDelta, .largeDelta])
        let times = arrivals(feedback)
        let eleven = try #require(times[11]), twelve = try #require(times[12])
        #expect(abs(eleven - twelve - 10_000_000) < 250_000 * 2)
    }

    @Test func sequenceNumbersWrapAround() throws {
        var recorder = TransportFeedbackRecorder()
        for (offset, sequence) in [UInt16(65_533), 65_534, 65_535, 0, 1].enumerated() {
            recorder.record(sequence: sequence, arrivalNanos: Self.start + UInt64(offset) * 1_000_000, ssrc: 1)
        }
        let (feedback, _) = try #require(nextFeedback(&recorder))
        #expect(feedback.baseSequenceNumber == 65_533 && feedback.packetStatusCount == 5)
        #expect(feedback.packets?.map(\.sequenceNumber) == [65_533, 65_534, 65_535, 0, 1])
        #expect(feedback.packets?.allSatisfy { $0.status == .smallDelta } == true)
    }

    @Test func longRunsAndMixedStatusesRoundTrip() throws {
        var recorder = TransportFeedbackRecorder()
        // 40 received, 20 lost, then alternating small and large deltas
        var time = Self.start
        var expected: [RTCPTransportFeedback.Status] = []
        for sequence in UInt16(0)..<40 {
            time += 500_000
            recorder.record(sequence: sequence, arrivalNanos: time, ssrc: 1)
            expected.append(.smallDelta)
        }
        expected += Array(repeating: .notReceived, count: 20)
        for sequence in UInt16(60)..<75 {
            time += sequence % 2 == 0 ? 1_000_000 : 90_000_000
            recorder.record(sequence: sequence, arrivalNanos: time, ssrc: 1)
            expected.append(sequence % 2 == 0 ? .smallDelta : .largeDelta)
        }
        let (feedback, bytes) = try #require(nextFeedback(&recorder))
        #expect(feedback.packets?.map(\.status) == expected)
        // run-length chunks keep it small: far fewer bytes than one chunk per 7 statuses
        #expect(bytes.count < 20 + 2 * 12 + 40 + 16 + 16)
    }

    @Test func moreThanOnePacketWorthIsSplit() throws {
        var recorder = TransportFeedbackRecorder()
        let total = TransportFeedbackRecorder.maxStatusesPerPacket + 50
        for sequence in 0..<total {
            recorder.record(sequence: UInt16(sequence), arrivalNanos: Self.start + UInt64(sequence) * 100_000, ssrc: 1)
        }
        let (first, _) = try #require(nextFeedback(&recorder))
        #expect(Int(first.packetStatusCount) == TransportFeedbackRecorder.maxStatusesPerPacket)
        let (second, _) = try #require(nextFeedback(&recorder))
        #expect(Int(second.baseSequenceNumber) == TransportFeedbackRecorder.maxStatusesPerPacket)
        #expect(second.packetStatusCount == 50)
        #expect(!recorder.hasPending)
    }

    @Test func aSenderFarAheadDropsTheOldestUnreported() throws {
        var recorder = TransportFeedbackRecorder()
        recorder.record(sequence: 0, arrivalNanos: Self.start, ssrc: 1)
        let far = UInt16(TransportFeedbackRecorder.capacity + 10)
        recorder.record(sequence: far, arrivalNanos: Self.start + 1_000_000, ssrc: 1)
        let (feedback, _) = try #require(nextFeedback(&recorder))
        #expect(feedback.baseSequenceNumber == far &- UInt16(TransportFeedbackRecorder.capacity - 1))
        var all: [RTCPTransportFeedback.PacketResult] = feedback.packets ?? []
        while let (more, _) = nextFeedback(&recorder) { all += more.packets ?? [] }
        #expect(all.last?.sequenceNumber == far && all.last?.status == .smallDelta)
        #expect(all.filter { $0.status != .notReceived }.count == 1)
    }

    @Test func aDeltaBeyondSixteenBitsStartsANewPacket() throws {
        var recorder = TransportFeedbackRecorder()
        recorder.record(sequence: 5, arrivalNanos: Self.start, ssrc: 1)
        recorder.record(sequence: 6, arrivalNanos: Self.start + 9_000_000_000, ssrc: 1)  // 9 s later
        let (first, _) = try #require(nextFeedback(&recorder))
        #expect(first.packetStatusCount == 1)
        let (second, _) = try #require(nextFeedback(&recorder))
        #expect(second.baseSequenceNumber == 6 && second.packetStatusCount == 1)
        #expect(Int64(second.referenceTime) == Int64(Self.start + 9_000_000_000) / 64_000_000)
    }
}
