import SRTP
import Testing
@testable import DTLS

/// End to end: keys from a real DTLS handshake drive libsrtp on both sides.
@Suite struct SRTPInteropTests {
    private static func rtpPacket(sequence: UInt16) -> [UInt8] {
        var packet: [UInt8] = [0x80, 111, UInt8(sequence >> 8), UInt8(sequence & 0xFF),
                               0, 0, 0x10, 0, // timestamp
                               0x12, 0x34, 0x56, 0x78] // SSRC
        packet += (0..<160).map { UInt8(truncatingIfNeeded: $0) }
        return packet
    }

    private static func send(from sender: SRTPSession, to receiver: SRTPSession, sequence: UInt16) throws -> Bool {
        let plain = rtpPacket(sequence: sequence)
        var buffer = plain + [UInt8](repeating: 0, count: SRTPSession.maxRTPTrailer)
        let protectedLength = try buffer.withUnsafeMutableBytes { try sender.protect(rtp: $0, length: plain.count) }
        #expect(protectedLength > plain.count)
        #expect(Array(buffer[12..<plain.count]) != Array(plain[12...])) // payload encrypted
        let length = try buffer.withUnsafeMutableBytes { try receiver.unprotect(rtp: $0, length: protectedLength) }
        return Array(buffer.prefix(length)) == plain
    }

    @Test func srtpInteroperatesBothWays() throws {
        let pair = try Pair()
        pair.run()
        let client = try #require(pair.client.keyingMaterial)
        let server = try #require(pair.server.keyingMaterial)
        let clientOut = try SRTPSession(profile: client.profile, masterKey: client.local, direction: .outbound)
        let clientIn = try SRTPSession(profile: client.profile, masterKey: client.remote, direction: .inbound)
        let serverOut = try SRTPSession(profile: server.profile, masterKey: server.local, direction: .outbound)
        let serverIn = try SRTPSession(profile: server.profile, masterKey: server.remote, direction: .inbound)
        for sequence: UInt16 in 1...5 {
            #expect(try Self.send(from: clientOut, to: serverIn, sequence: sequence))
            #expect(try Self.send(from: serverOut, to: clientIn, sequence: sequence))
        }
        // Crossed keys must not verify: the directions really differ.
        let wrong = try SRTPSession(profile: client.profile, masterKey: client.local, direction: .inbound)
        #expect(throws: SRTPError.authenticationFailed) { try Self.send(from: serverOut, to: wrong, sequence: 9) }
    }
}
