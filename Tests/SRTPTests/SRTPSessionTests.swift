// Round trips, tampering, replay and buffer checks for every profile.
import Testing
@testable import SRTP

@Suite struct SRTPSessionTests {
    @Test func initializeIsIdempotent() throws {
        try LibSRTP.initialize()
        try LibSRTP.initialize()
        #expect(LibSRTP.version.contains("2."))
    }

    @Test(arguments: SRTPProfile.allCases)
    func rtpRoundTrip(profile: SRTPProfile) throws {
        let (sender, receiver) = try sessionPair(profile)
        for sequence in UInt16(1)...5 {
            let plain = rtpPacket(sequence: sequence)
            let protected = try protectRTP(sender, plain)
            #expect(protected.count == plain.count + profile.rtpOverhead)
            #expect(Array(protected[0..<12]) == Array(plain[0..<12]), "header stays in clear")
            #expect(Array(protected[12..<plain.count]) != Array(plain[12...]), "payload is encrypted")
            #expect(try unprotectRTP(receiver, protected) == plain)
        }
    }

    @Test(arguments: SRTPProfile.allCases)
    func rtcpRoundTrip(profile: SRTPProfile) throws {
        let (sender, receiver) = try sessionPair(profile)
        for _ in 0..<3 {
            let plain = rtcpPacket()
            let protected = try protectRTCP(sender, plain)
            #expect(protected.count == plain.count + profile.rtcpOverhead)
            #expect(try unprotectRTCP(receiver, protected) == plain)
        }
    }

    @Test(arguments: SRTPProfile.allCases)
    func tamperedRTPFailsAuthentication(profile: SRTPProfile) throws {
        let (sender, receiver) = try sessionPair(profile)
        var protected = try protectRTP(sender, rtpPacket(sequence: 7))
        protected[20] ^= 0x01
        #expect(throws: SRTPError.authenticationFailed) { try unprotectRTP(receiver, protected) }
    }

    @Test(arguments: SRTPProfile.allCases)
    func tamperedRTCPFailsAuthentication(profile: SRTPProfile) throws {
        let (sender, receiver) = try sessionPair(profile)
        var protected = try protectRTCP(sender, rtcpPacket())
        protected[protected.count - 1] ^= 0x80
        #expect(throws: SRTPError.authenticationFailed) { try unprotectRTCP(receiver, protected) }
    }

    @Test(arguments: SRTPProfile.allCases)
    func wrongKeyFailsAuthentication(profile: SRTPProfile) throws {
        let sender = try SRTPSession(profile: profile, masterKey: testMasterKey(profile, seed: 1), direction: .outbound)
        let receiver = try SRTPSession(profile: profile, masterKey: testMasterKey(profile, seed: 2), direction: .inbound)
        let protected = try protectRTP(sender, rtpPacket(sequence: 1))
        #expect(throws: SRTPError.authenticationFailed) { try unprotectRTP(receiver, protected) }
    }

    @Test(arguments: SRTPProfile.allCases)
    func replayedPacketsAreRejected(profile: SRTPProfile) throws {
        let (sender, receiver) = try sessionPair(profile)
        let rtp = try protectRTP(sender, rtpPacket(sequence: 100))
        _ = try unprotectRTP(receiver, rtp)
        #expect(throws: SRTPError.replayed) { try unprotectRTP(receiver, rtp) }

        let rtcp = try protectRTCP(sender, rtcpPacket())
        _ = try unprotectRTCP(receiver, rtcp)
        #expect(throws: SRTPError.replayed) { try unprotectRTCP(receiver, rtcp) }
    }

    @Test func packetsOlderThanTheWindowAreRejected() throws {
        let (sender, receiver) = try sessionPair(.aes128CmSha1_80)
        let old = try protectRTP(sender, rtpPacket(sequence: 1))
        let fresh = try protectRTP(sender, rtpPacket(sequence: 2000))
        _ = try unprotectRTP(receiver, fresh)
        #expect(throws: SRTPError.tooOld) { try unprotectRTP(receiver, old) }
    }

    @Test func reorderedPacketsInsideTheWindowAreAccepted() throws {
        let (sender, receiver) = try sessionPair(.aeadAes128Gcm)
        let packets = try (UInt16(1)...600).map { try protectRTP(sender, rtpPacket(sequence: $0)) }
        // Deliver the newest first: 1024-packet window keeps all 600 acceptable.
        for (index, packet) in packets.enumerated().reversed() {
            #expect(try unprotectRTP(receiver, packet) == rtpPacket(sequence: UInt16(index + 1)))
        }
    }

    @Test func retransmissionsAreProtectedOnlyWhenAllowed() throws {
        let key = testMasterKey(.aes128CmSha1_80)
        let allowing = try SRTPSession(profile: .aes128CmSha1_80, masterKey: key, direction: .outbound)
        let first = try protectRTP(allowing, rtpPacket(sequence: 9))
        #expect(try protectRTP(allowing, rtpPacket(sequence: 9)) == first, "same key and index, same bytes")

        let strict = try SRTPSession(profile: .aes128CmSha1_80, masterKey: key, direction: .outbound,
                                     allowRetransmissions: false)
        _ = try protectRTP(strict, rtpPacket(sequence: 9))
        #expect(throws: SRTPError.replayed) { try protectRTP(strict, rtpPacket(sequence: 9)) }
    }

    @Test func protectRequiresTrailerRoom() throws {
        let (sender, _) = try sessionPair(.aes128CmSha1_80)
        var tight = rtpPacket(sequence: 1) + [UInt8](repeating: 0, count: 10) // exactly the real tag, less than documented
        let length = tight.count - 10
        tight.withUnsafeMutableBytes { raw in
            #expect(throws: SRTPError.insufficientCapacity(required: length + SRTPSession.maxRTPTrailer, available: raw.count)) {
                try sender.protect(rtp: raw, length: length)
            }
            #expect(throws: SRTPError.invalidLength(length: -1, capacity: raw.count)) {
                try sender.protect(rtp: raw, length: -1)
            }
            #expect(throws: SRTPError.invalidLength(length: raw.count + 1, capacity: raw.count)) {
                try sender.unprotect(rtp: raw, length: raw.count + 1)
            }
        }
        #expect(throws: SRTPError.invalidLength(length: 0, capacity: 0)) {
            try sender.protect(rtp: UnsafeMutableRawBufferPointer(start: nil, count: 0), length: 0)
        }
    }

    @Test func truncatedPacketsAreRejected() throws {
        let (_, receiver) = try sessionPair(.aes128CmSha1_80)
        var short: [UInt8] = [0x80, 0x00, 0x00]
        short.withUnsafeMutableBytes { raw in
            #expect(throws: SRTPError.self) { try receiver.unprotect(rtp: raw, length: raw.count) }
            #expect(throws: SRTPError.self) { try receiver.unprotectRTCP(raw, length: raw.count) }
        }
    }

    @Test func badMasterKeysAndWindowsAreRejected() {
        let short = SRTPMasterKey(key: [UInt8](repeating: 1, count: 15), salt: [UInt8](repeating: 2, count: 14))
        #expect(throws: SRTPError.invalidMasterKey(expected: 16, actual: 15)) {
            try SRTPSession(profile: .aes128CmSha1_80, masterKey: short, direction: .outbound)
        }
        let gcmSalt = SRTPMasterKey(key: [UInt8](repeating: 1, count: 16), salt: [UInt8](repeating: 2, count: 14))
        #expect(throws: SRTPError.invalidMasterKey(expected: 12, actual: 14)) {
            try SRTPSession(profile: .aeadAes128Gcm, masterKey: gcmSalt, direction: .inbound)
        }
        #expect(throws: SRTPError.invalidReplayWindow(32)) {
            try SRTPSession(profile: .aes128CmSha1_80, masterKey: testMasterKey(.aes128CmSha1_80),
                            direction: .inbound, replayWindow: 32)
        }
    }

    /// Profiles without a published vector here: two independent contexts built
    /// from the same key must agree byte for byte (a fresh context has no state
    /// that could make the output differ), and differ from another key's output.
    @Test(arguments: SRTPProfile.allCases)
    func independentContextsAgree(profile: SRTPProfile) throws {
        let a = try SRTPSession(profile: profile, masterKey: testMasterKey(profile), direction: .outbound)
        let b = try SRTPSession(profile: profile, masterKey: testMasterKey(profile), direction: .outbound)
        let other = try SRTPSession(profile: profile, masterKey: testMasterKey(profile, seed: 9), direction: .outbound)
        let plain = rtpPacket(sequence: 4242)
        let fromA = try protectRTP(a, plain)
        #expect(try protectRTP(b, plain) == fromA)
        #expect(try protectRTP(other, plain) != fromA)
        #expect(try protectRTCP(a, rtcpPacket()) == protectRTCP(b, rtcpPacket()))
    }
}
