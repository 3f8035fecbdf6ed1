import Testing
@testable import RTP

/// Random and mutated inputs through every parser: none may crash or read
/// out of bounds (debug builds trap on raw buffer overruns).
@Suite struct FuzzTests {
    static let seeds: [[UInt8]] = [
        Samples.plainRTP, Samples.oneByteExtensions, Samples.twoByteExtensions, Samples.paddedWithCSRCs,
        Samples.senderReport + Samples.sdes + Samples.bye, Samples.app, Samples.nack, Samples.twcc,
        Samples.pli + Samples.fir + Samples.remb,
        VP8Tests.descriptor + VP8Tests.keyframeHeader,
        [0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE],
    ]

    static func mutate(_ seed: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        switch rng.next() % 4 {
        case 0:
            // Entirely random bytes, biased toward RTP/RTCP first bytes.
            let count = Int(rng.next() % 80)
            bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if !bytes.isEmpty, rng.next() % 2 == 0 { bytes[0] = 0x80 | (bytes[0] & 0x3F) }
        case 1:
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
        case 2:
            for _ in 0..<(1 + rng.next() % 4) where !bytes.isEmpty {
                bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
        default:
            for _ in 0..<(1 + rng.next() % 3) {
                bytes.append(UInt8(truncatingIfNeeded: rng.next()))
            }
            if !bytes.isEmpty { bytes[Int(rng.next() % UInt64(bytes.count))] ^= 0xFF }
        }
        return bytes
    }

    /// Touches everything a parser exposes so lazily-read fields are exercised too.
    static func exercise(_ buf: UnsafeMutableRawBufferPointer) -> Int {
        var touched = 0
        let readable = UnsafeRawBufferPointer(buf)
        _ = PacketDemux.classify(readable)
        if let v = RTPHeaderView(buf) {
            touched += Int(v.sequenceNumber) &+ Int(v.payloadType) &+ v.payload.count
            for id in UInt8(0)...16 {
                touched += v.extensionValue(id: id)?.count ?? 0
                _ = v.audioLevel(id: id)
                _ = v.absSendTime(id: id)
                _ = v.transportSequenceNumber(id: id)
                _ = v.stringExtension(id: id)
                v.setTransportSequenceNumber(1, id: id)
            }
            _ = VP8.keyframeDimensions(UnsafeRawBufferPointer(v.payload))
            _ = H264.isKeyframe(UnsafeRawBufferPointer(v.payload))
        }
        var it = RTCPCompoundIterator(readable)
        while let p = it.next() {
            if let packet = RTCPPacket(p) { touched += packet == .unknown(packetType: 0, format: 0) ? 0 : 1 }
            RTCPNack.forEachLost(in: p) { touched &+= Int($0) }
        }
        _ = RTCPSSRCRewriter.rewrite(buf, senderSSRC: 1) { $0 &+ 1 }
        _ = VP8.keyframeDimensions(readable)
        _ = H264.isKeyframe(readable)
        return touched
    }

    @Test func twentyThousandInputsDoNotCrash() {
        var rng = SplitMix64(state: 0x5EED)
        var total = 0
        for i in 0..<20_000 {
            var bytes = Self.mutate(Self.seeds[i % Self.seeds.count], &rng)
            total &+= bytes.withUnsafeMutableBytes { Self.exercise($0) }
        }
        #expect(total != Int.min)
    }
}
