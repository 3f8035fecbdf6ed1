// Micro-benchmark-style check of the hot path: 10,000 protect/unprotect round
// trips through ONE preallocated buffer. Allocation-freedom can't be asserted
// from Swift Testing, so the loop is written the way the media loop should be:
// the buffer is allocated once outside the loop, only the header's sequence
// number and the payload are rewritten in place, and SRTPSession's calls use a
// stack length and typed throws (no boxing). Run under `heaptrack` or
// Instruments' Allocations to confirm nothing is allocated inside the loop
// (libsrtp allocates once, for the first packet of the SSRC).
import Testing
@testable import SRTP

@Suite struct ThroughputTests {
    @Test(arguments: [SRTPProfile.aes128CmSha1_80, .aeadAes128Gcm])
    func tenThousandPacketsOnOneBuffer(profile: SRTPProfile) throws {
        let (sender, receiver) = try sessionPair(profile)
        let payloadLength = 1_000
        let packetLength = 12 + payloadLength
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_500 + SRTPSession.maxRTCPTrailer, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        let header: [UInt8] = [0x80, 96, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78]
        for (index, byte) in header.enumerated() { buffer[index] = byte }

        var mismatches = 0
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            for packet in 0..<10_000 {
                let sequence = UInt16(truncatingIfNeeded: packet)
                buffer[2] = UInt8(sequence >> 8)
                buffer[3] = UInt8(sequence & 0xFF)
                let fill = UInt8(truncatingIfNeeded: packet)
                for offset in 12..<packetLength { buffer[offset] = fill }

                let protectedLength = try sender.protect(rtp: buffer, length: packetLength)
                let plainLength = try receiver.unprotect(rtp: buffer, length: protectedLength)
                if plainLength != packetLength || buffer[12] != fill || buffer[packetLength - 1] != fill {
                    mismatches += 1
                }
            }
        }
        #expect(mismatches == 0)
        // Generous bound (debug build, shared CI): catches pathological slowness only.
        #expect(elapsed < .seconds(20))
    }
}
