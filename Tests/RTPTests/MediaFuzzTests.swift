import Testing
@testable import RTP

/// Random and mutated inputs through the media-engine parsers and state
/// added next to the packet views: none may crash or read out of bounds
/// (debug builds trap on raw buffer overruns and integer overflow), and the
/// round trips must hold for every input they accept.
@Suite struct MediaFuzzTests {
    static let seeds: [[UInt8]] = [
        VP9Tests.keyframeDescriptor + VP9Tests.keyframeHeader,
        [0xF8, 0x05, 0x20, 0x03, 0x04, 0x99],
        AV1Tests.keyframeStart,
        [0x20, 0x01, 0x12, 0x32, 0x01, 0x02],
        [0x60, 0x01, 0x00, 0x02, 0x40, 0x01, 0x00, 0x02, 0x42, 0x01],
        [0x62, 0x01, 0x93, 0xAF],
        RTXTests.original,
        rtpPacket(sequenceNumber: 9, payload: [0x12, 0x34, 0x90, 0xE0, 0x81]),
        Samples.nack + Samples.pli,
        Samples.oneByteExtensions,
    ]

    /// Parsers over arbitrary bytes, read-only.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Int {
        var touched = 0
        if let d = VP9PayloadDescriptor(bytes) {
            touched &+= d.headerLength &+ Int(d.pictureID ?? 0) &+ Int(d.spatialLayerID ?? 0)
            #expect(d.headerLength <= bytes.count)
        }
        touched &+= Int(VP9FrameHeader(bytes)?.width ?? 0)
        touched &+= Int(VP9.keyframeDimensions(bytes)?.height ?? 0)
        if AV1AggregationHeader(bytes)?.startsNewCodedVideoSequence == true { touched &+= 1 }
        AV1.forEachOBUElement(in: bytes) { touched &+= $0.count; return true }
        if AV1.startsWithSequenceHeader(bytes) { touched &+= 1 }
        for codec in VideoCodec.allCases where KeyframeDetector.isKeyframe(codec: codec, payload: bytes) {
            touched &+= 1
        }
        touched &+= Int(RTX.originalSequenceNumber(of: bytes) ?? 0)
        return touched
    }

    /// RTX write then restore gives back the original without padding.
    static func checkRTXRoundTrip(_ bytes: UnsafeRawBufferPointer) {
        guard let layout = RTPPacketLayout(validating: bytes) else { return }
        var out = [UInt8](repeating: 0, count: bytes.count + 2)
        let written = out.withUnsafeMutableBytes {
            RTX.write(original: bytes, payloadType: 97, ssrc: 0x5555_5555, sequenceNumber: 3, into: $0)
        }
        guard let written else { Issue.record("RTX refused a valid packet"); return }
        #expect(written == layout.payloadOffset + 2 + layout.payloadLength)
        let restored = out.withUnsafeMutableBytes {
            RTX.restoreOriginal(UnsafeMutableRawBufferPointer(rebasing: $0[0..<written]),
                                payloadType: bytes[1] & 0x7F, ssrc: bytes.u32(8))
        }
        var expected = Array(bytes.prefix(layout.payloadOffset + layout.payloadLength))
        expected[0] &= ~0x20
        #expect(restored.map { Array(out.prefix($0)) } == expected)
    }

    /// Everything that mutates: in-place RTX restore, buffer, NACK responder, statistics.
    static func exerciseState(_ bytes: inout [UInt8], _ rng: inout SplitMix64, _ state: FuzzState) {
        let now = state.clock
        state.clock &+= rng.next() % 50_000_000
        bytes.withUnsafeBytes { readable in
            state.buffer.store(readable, nowNanoseconds: now)
            var it = RTCPCompoundIterator(readable)
            while let packet = it.next() {
                _ = state.responder.respond(to: packet, from: state.buffer, nowNanoseconds: now) { resent in
                    #expect(resent.count <= state.buffer.maximumPacketLength)
                    var out = [UInt8](repeating: 0, count: 1600)
                    _ = out.withUnsafeMutableBytes { state.rtx.write(original: resent, into: $0) }
                }
            }
            if readable.count >= 12 {
                state.receiver.record(sequenceNumber: readable.u16(2), rtpTimestamp: readable.u32(4),
                                      arrivalNanoseconds: now)
                state.sender.record(payloadLength: readable.count - 12, rtpTimestamp: readable.u32(4),
                                    sentAtNanoseconds: now)
            }
            if let first = readable.first { _ = state.talk.add(level: first) }
        }
        _ = bytes.withUnsafeMutableBytes { RTX.restoreOriginal($0, payloadType: 96, ssrc: 1) }
        if rng.next() % 64 == 0 {
            let block = state.receiver.makeReportBlock(nowNanoseconds: now)
            #expect(block.map { $0.cumulativeLost >= -0x80_0000 && $0.cumulativeLost <= 0x7F_FFFF } ?? true)
            _ = state.sender.makeSenderReport(unixNanoseconds: now, monotonicNanoseconds: now)
        }
    }

    final class FuzzState {
        let buffer = RetransmissionBuffer(capacity: 64, maximumPacketLength: 64)
        var responder = NACKResponder(minimumResendIntervalNanoseconds: 1_000_000)
        var rtx = RTXSender(payloadType: 97, ssrc: 7, initialSequenceNumber: 0)
        var receiver = ReceiverStatistics(ssrc: 1, clockRate: 90000)
        var sender = SenderStatistics(ssrc: 2, clockRate: 48000)
        var talk = AudioLevelAverager(packetsPerWindow: 7, hysteresis: 3)
        var clock: UInt64 = 1_000_000_000
    }

    @Test func twentyThousandInputsDoNotCrash() {
        var rng = SplitMix64(state: 0xC0FFEE)
        let state = FuzzState()
        var total = 0
        for i in 0..<20_000 {
            var bytes = FuzzTests.mutate(Self.seeds[i % Self.seeds.count], &rng)
            total &+= bytes.withUnsafeBytes { Self.parse($0) }
            bytes.withUnsafeBytes { Self.checkRTXRoundTrip($0) }
            Self.exerciseState(&bytes, &rng, state)
        }
        #expect(total != Int.min)
        #expect(state.receiver.packetsReceived > 0)
    }

    @Test func statisticsSurviveArbitrarySequenceAndTimestampStreams() {
        var rng = SplitMix64(state: 99)
        var stats = ReceiverStatistics(ssrc: 1, clockRate: 90000)
        var now: UInt64 = 0
        for i in 0..<20_000 {
            now &+= rng.next() % 100_000_000
            stats.record(sequenceNumber: UInt16(truncatingIfNeeded: rng.next()),
                         rtpTimestamp: UInt32(truncatingIfNeeded: rng.next()), arrivalNanoseconds: now)
            if i % 500 == 0 {
                stats.recordSenderReport(ntpTimestamp: rng.next(), arrivalNanoseconds: now)
                _ = stats.makeReportBlock(nowNanoseconds: now &+ rng.next() % 10_000_000_000)
            }
        }
        #expect(stats.packetsReceived <= 20_000)
        // Arrival times near the top of the clock's range must not overflow either.
        stats.record(sequenceNumber: 1, rtpTimestamp: 1, arrivalNanoseconds: UInt64.max)
        _ = stats.makeReportBlock(nowNanoseconds: UInt64.max)
    }
}
