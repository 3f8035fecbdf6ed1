// RFC 5764 §4.2 key splitting and profile constants.
import Testing
@testable import SRTP

@Suite struct KeyingMaterialTests {
    @Test func profileConstants() {
        #expect(SRTPProfile(rawValue: 0x0001) == .aes128CmSha1_80)
        #expect(SRTPProfile(rawValue: 0x0002) == .aes128CmSha1_32)
        #expect(SRTPProfile(rawValue: 0x0007) == .aeadAes128Gcm)
        #expect(SRTPProfile(rawValue: 0x0008) == .aeadAes256Gcm)
        #expect(SRTPProfile(rawValue: 0x0003) == nil)
        #expect(SRTPProfile.aes128CmSha1_80.keyingMaterialLength == 60)
        #expect(SRTPProfile.aes128CmSha1_32.keyingMaterialLength == 60)
        #expect(SRTPProfile.aeadAes128Gcm.keyingMaterialLength == 56)
        #expect(SRTPProfile.aeadAes256Gcm.keyingMaterialLength == 88)
        #expect(SRTPProfile.aes128CmSha1_80.name == "SRTP_AES128_CM_SHA1_80")
        #expect(SRTPSession.maxRTPTrailer == 144)
        #expect(SRTPSession.maxRTCPTrailer == 148)
        for profile in SRTPProfile.allCases {
            #expect(profile.rtpOverhead <= SRTPSession.maxRTPTrailer)
            #expect(profile.rtcpOverhead <= SRTPSession.maxRTCPTrailer)
        }
    }

    @Test(arguments: SRTPProfile.allCases)
    func splitsByRole(profile: SRTPProfile) throws {
        let k = profile.keyLength, s = profile.saltLength
        let exported = (0..<profile.keyingMaterialLength).map { UInt8($0) }
        let clientKey = Array(exported[0..<k]), serverKey = Array(exported[k..<2 * k])
        let clientSalt = Array(exported[2 * k..<2 * k + s]), serverSalt = Array(exported[2 * k + s..<2 * k + 2 * s])

        let asClient = try SRTPKeyingMaterial(exported: exported, profile: profile, role: .client)
        #expect(asClient.local == SRTPMasterKey(key: clientKey, salt: clientSalt))
        #expect(asClient.remote == SRTPMasterKey(key: serverKey, salt: serverSalt))

        let asServer = try SRTPKeyingMaterial(exported: exported, profile: profile, role: .server)
        #expect(asServer.local == asClient.remote)
        #expect(asServer.remote == asClient.local)
        #expect(asServer.local.keyAndSalt == serverKey + serverSalt)
    }

    @Test func concreteAes128CmLayout() throws {
        let exported = (0..<60).map { UInt8($0) }
        let material = try SRTPKeyingMaterial(exported: exported, profile: .aes128CmSha1_80, role: .client)
        #expect(material.local.key == Array(0..<16))
        #expect(material.remote.key == Array(16..<32))
        #expect(material.local.salt == Array(32..<46))
        #expect(material.remote.salt == Array(46..<60))
    }

    @Test func rejectsWrongLength() {
        #expect(throws: SRTPError.invalidKeyingMaterial(expected: 56, actual: 60)) {
            try SRTPKeyingMaterial(exported: [UInt8](repeating: 0, count: 60), profile: .aeadAes128Gcm, role: .server)
        }
    }

    @Test func descriptionRedactsKeys() {
        let key = SRTPMasterKey(key: [0xde, 0xad], salt: [0xbe, 0xef])
        #expect(!key.description.contains("222"))
        #expect(key.description.contains("redacted"))
    }

    /// Both ends split the same exporter output; each one's outbound session
    /// must be readable by the other's inbound session, in both directions.
    @Test(arguments: SRTPProfile.allCases)
    func clientAndServerInteroperate(profile: SRTPProfile) throws {
        let exported = (0..<profile.keyingMaterialLength).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        let client = try SRTPKeyingMaterial(exported: exported, profile: profile, role: .client)
        let server = try SRTPKeyingMaterial(exported: exported, profile: profile, role: .server)

        let clientOut = try SRTPSession(profile: profile, masterKey: client.local, direction: .outbound)
        let clientIn = try SRTPSession(profile: profile, masterKey: client.remote, direction: .inbound)
        let serverOut = try SRTPSession(profile: profile, masterKey: server.local, direction: .outbound)
        let serverIn = try SRTPSession(profile: profile, masterKey: server.remote, direction: .inbound)

        let up = rtpPacket(sequence: 1, ssrc: 0x1111_1111)
        #expect(try unprotectRTP(serverIn, protectRTP(clientOut, up)) == up)
        let down = rtpPacket(sequence: 1, ssrc: 0x2222_2222)
        #expect(try unprotectRTP(clientIn, protectRTP(serverOut, down)) == down)
        #expect(try unprotectRTCP(clientIn, protectRTCP(serverOut, rtcpPacket(ssrc: 0x2222_2222))) == rtcpPacket(ssrc: 0x2222_2222))

        // A server that mistakenly keyed as client cannot read the client.
        let wrong = try SRTPSession(profile: profile, masterKey: client.remote, direction: .inbound)
        #expect(throws: SRTPError.authenticationFailed) { try unprotectRTP(wrong, protectRTP(clientOut, rtpPacket(sequence: 2))) }
    }
}
