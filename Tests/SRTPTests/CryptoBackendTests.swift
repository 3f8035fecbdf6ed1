// The OpenSSL-backed AES and HMAC-SHA1 that replace libsrtp2's own (CSRTPCrypto). The known-answer,
// round-trip and tampering suites run on whichever backend is in effect — the OpenSSL one unless
// CONFAB_SRTP_CRYPTO=libsrtp is set — so these tests only pin down what is specific to it.
import COpenSSL
import Testing
@testable import SRTP

@Suite struct CryptoBackendTests {
    @Test func theOpenSSLBackendIsTheDefaultAndPassesLibsrtpsSelfTests() throws {
        // srtp_replace_cipher_type/auth_type run each replacement through libsrtp2's self-tests (its
        // own vectors for the type replaced, and ours) and refuse it on a mismatch, which
        // initialize() would report.
        if LibSRTP.backend == .openSSL { try LibSRTP.initialize() }
        #expect(LibSRTP.CryptoBackend(rawValue: "openssl") == .openSSL)
        #expect(LibSRTP.CryptoBackend(rawValue: "libsrtp") == .libsrtp)
    }

    /// A forged packet failing its tag check is routine on a media thread that also runs DTLS
    /// handshakes, whose SSL_get_error reads the thread's OpenSSL error queue: nothing may be left there.
    @Test(arguments: SRTPProfile.allCases)
    func failedUnprotectLeavesNoOpenSSLError(profile: SRTPProfile) throws {
        let (sender, receiver) = try sessionPair(profile)
        var rtp = try protectRTP(sender, rtpPacket(sequence: 9))
        rtp[rtp.count - 1] ^= 0x01
        var rtcp = try protectRTCP(sender, rtcpPacket())
        rtcp[10] ^= 0x01
        ERR_clear_error()
        #expect(throws: SRTPError.authenticationFailed) { try unprotectRTP(receiver, rtp) }
        #expect(throws: SRTPError.authenticationFailed) { try unprotectRTCP(receiver, rtcp) }
        #expect(ERR_peek_error() == 0)
    }

    /// Each session keeps its own keyed context: interleaving packets of two sessions with different
    /// keys (as a media thread does for its connections) gives the same bytes as running them apart.
    @Test(arguments: SRTPProfile.allCases)
    func interleavedSessionsKeepTheirOwnKeys(profile: SRTPProfile) throws {
        let firstAlone = try SRTPSession(profile: profile, masterKey: testMasterKey(profile, seed: 3), direction: .outbound)
        let secondAlone = try SRTPSession(profile: profile, masterKey: testMasterKey(profile, seed: 4), direction: .outbound)
        let first = try SRTPSession(profile: profile, masterKey: testMasterKey(profile, seed: 3), direction: .outbound)
        let second = try SRTPSession(profile: profile, masterKey: testMasterKey(profile, seed: 4), direction: .outbound)
        let expectedFirst = try (UInt16(1)...20).map { try protectRTP(firstAlone, rtpPacket(sequence: $0, payloadLength: 1_000)) }
        let expectedSecond = try (UInt16(1)...20).map { try protectRTP(secondAlone, rtpPacket(sequence: $0, payloadLength: 1_000)) }
        for sequence in UInt16(1)...20 {
            let index = Int(sequence) - 1
            #expect(try protectRTP(first, rtpPacket(sequence: sequence, payloadLength: 1_000)) == expectedFirst[index])
            #expect(try protectRTP(second, rtpPacket(sequence: sequence, payloadLength: 1_000)) == expectedSecond[index])
        }
    }
}
