// `confab-media-bench srtp`: the cost of SRTP protect and unprotect alone, per profile.

import Foundation
import PeerClient
import SRTP

enum SRTPBench {
    static func run(packets: Int, payloadBytes: Int) throws {
        try LibSRTP.initialize()
        print("SRTP crypto: \(LibSRTP.backend.rawValue), \(LibSRTP.version), \(packets) packets of \(payloadBytes) B payload")
        for profile in [SRTPProfile.aeadAes128Gcm, .aes128CmSha1_80] {
            let key = SRTPMasterKey(key: (0..<profile.keyLength).map { UInt8($0) },
                                    salt: (0..<profile.saltLength).map { UInt8(0x80 + $0) })
            let sender = try SRTPSession(profile: profile, masterKey: key, direction: .outbound)
            let receiver = try SRTPSession(profile: profile, masterKey: key, direction: .inbound)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_500 + SRTPSession.maxRTCPTrailer, alignment: 16)
            defer { buffer.deallocate() }
            // One clock reading around the loop (a reading per call would cost as much as the
            // cipher); the RTP writer's share is measured apart and taken off.
            let writing = measure(packets) { sequence in
                _ = PeerClient.writeRTP(buffer, sequence: UInt16(truncatingIfNeeded: sequence),
                                        timestamp: UInt32(truncatingIfNeeded: sequence) &* 3000,
                                        ssrc: 0x1234_5678, payloadBytes: payloadBytes)
            }
            var failures = 0
            let total = measure(packets) { sequence in
                let length = PeerClient.writeRTP(buffer, sequence: UInt16(truncatingIfNeeded: sequence),
                                                 timestamp: UInt32(truncatingIfNeeded: sequence) &* 3000,
                                                 ssrc: 0x1234_5678, payloadBytes: payloadBytes)
                do {
                    let protected = try sender.protect(rtp: buffer, length: length)
                    _ = try receiver.unprotect(rtp: buffer, length: protected)
                } catch {
                    failures += 1
                }
            }
            guard failures == 0 else { throw BenchError(description: "\(failures) round trips failed") }
            let roundTrip = Double(total - min(total, writing)) / Double(packets) / 1_000
            print("RESULT srtp_backend=\(LibSRTP.backend.rawValue) profile=\(profile) payload=\(payloadBytes) "
                + String(format: "protect_plus_unprotect_us=%.3f", roundTrip))
        }
    }

    /// Thread CPU nanoseconds spent running `body` for 0..<count.
    static func measure(_ count: Int, _ body: (Int) -> Void) -> UInt64 {
        let start = threadCPUNanoseconds()
        for index in 0..<count { body(index) }
        return threadCPUNanoseconds() - start
    }

    static func threadCPUNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
