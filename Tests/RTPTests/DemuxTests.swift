import Testing
@testable import RTP

@Suite struct DemuxTests {
    @Test func firstByteRanges() {
        #expect(PacketDemux.classify(firstByte: 0) == .stun)
        #expect(PacketDemux.classify(firstByte: 3) == .stun)
        #expect(PacketDemux.classify(firstByte: 20) == .dtls)
        #expect(PacketDemux.classify(firstByte: 63) == .dtls)
        #expect(PacketDemux.classify(firstByte: 128) == .rtp)
        #expect(PacketDemux.classify(firstByte: 191) == .rtp)
        #expect(PacketDemux.classify(firstByte: 4) == .unknown)
        #expect(PacketDemux.classify(firstByte: 192) == .unknown)
    }

    @Test func rtpVersusRTCP() {
        withBytes(Samples.plainRTP) { #expect(PacketDemux.classify(UnsafeRawBufferPointer($0)) == .rtp) }
        withBytes(Samples.pli) { #expect(PacketDemux.classify(UnsafeRawBufferPointer($0)) == .rtcp) }
        withBytes(Samples.senderReport) { #expect(PacketDemux.classify(UnsafeRawBufferPointer($0)) == .rtcp) }
        // PT 96 with marker is 224: RTP, not RTCP.
        #expect(!PacketDemux.isRTCPPacketType(secondByte: 0xE0))
        withBytes([0x80, 200]) { #expect(PacketDemux.classify(UnsafeRawBufferPointer($0)) == .unknown) }
        withBytes([]) { #expect(PacketDemux.classify(UnsafeRawBufferPointer($0)) == .unknown) }
    }
}
