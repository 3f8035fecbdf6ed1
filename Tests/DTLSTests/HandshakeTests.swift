import SRTP
import Testing
@testable import DTLS

@Suite struct HandshakeTests {
    @Test func backToBackHandshakeAgreesOnKeys() throws {
        let pair = try Pair()
        pair.run()
        #expect(pair.client.state == .connected)
        #expect(pair.server.state == .connected)
        let client = try #require(pair.client.keyingMaterial)
        let server = try #require(pair.server.keyingMaterial)
        // AEAD-GCM is offered first by both sides.
        #expect(client.profile == .aeadAes128Gcm)
        #expect(server.profile == client.profile)
        #expect(client.local == server.remote)
        #expect(client.remote == server.local)
        #expect(client.local != client.remote)
        #expect(pair.client.retransmissionTimeout == nil)
    }

    @Test func negotiatesTheOnlyCommonProfile() throws {
        let clientCertificate = try DTLSCertificate.generate()
        let serverCertificate = try DTLSCertificate.generate()
        let client = try DTLSEndpoint(
            context: DTLSContext(certificate: clientCertificate, srtpProfiles: [.aes128CmSha1_80]),
            role: .client, remoteFingerprint: serverCertificate.fingerprint)
        let server = try DTLSEndpoint(
            context: DTLSContext(certificate: serverCertificate),
            role: .server, remoteFingerprint: clientCertificate.fingerprint)
        client.start()
        for _ in 0..<10 {
            for datagram in client.drainOutbound() { server.receive(datagram: datagram) }
            for datagram in server.drainOutbound() { client.receive(datagram: datagram) }
        }
        #expect(client.keyingMaterial?.profile == .aes128CmSha1_80)
        #expect(server.keyingMaterial?.profile == .aes128CmSha1_80)
        #expect(client.keyingMaterial?.local == server.keyingMaterial?.remote)
    }

    @Test func outboundClosureReceivesDatagrams() throws {
        let pair = try Pair()
        var sent: [[UInt8]] = []
        pair.client.onOutbound = { sent.append($0) }
        pair.client.start()
        #expect(sent.count == 1) // ClientHello
        #expect(sent.first?.first == 22) // handshake record
        #expect(pair.client.drainOutbound().isEmpty)
        #expect(pair.client.retransmissionTimeout != nil)
    }

    @Test func datagramsRespectMTU() throws {
        let pair = try Pair()
        pair.client.start()
        var largest = 0
        for _ in 0..<10 {
            for datagram in pair.client.drainOutbound() { largest = max(largest, datagram.count); pair.server.receive(datagram: datagram) }
            for datagram in pair.server.drainOutbound() { largest = max(largest, datagram.count); pair.client.receive(datagram: datagram) }
        }
        #expect(pair.client.isConnected)
        #expect(largest > 0 && largest <= 1200)
    }

    @Test func clientDetectsServerFingerprintMismatch() throws {
        let stranger = try DTLSCertificate.generate().fingerprint
        let pair = try Pair(clientExpects: stranger)
        pair.run()
        #expect(pair.client.state == .failed(.fingerprintMismatch))
        #expect(pair.client.keyingMaterial == nil)
    }

    @Test func serverDetectsClientFingerprintMismatch() throws {
        let stranger = try DTLSCertificate.generate().fingerprint
        let pair = try Pair(serverExpects: stranger)
        pair.run()
        #expect(pair.server.state == .failed(.fingerprintMismatch))
        #expect(pair.server.keyingMaterial == nil)
        // The client finished first but then got our close_notify.
        #expect(pair.client.state == .closed)
    }

    @Test func garbageIsDroppedAndCounted() throws {
        let pair = try Pair()
        var generator = SystemRandomNumberGenerator()
        // Not DTLS-shaped (first byte outside 20...63 or too short): dropped unseen.
        for index in 0..<200 {
            var junk = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !junk.isEmpty && index.isMultiple(of: 2) { junk[0] = 0x80 } // looks like RTP
            pair.server.receive(datagram: junk)
            pair.client.receive(datagram: junk)
        }
        #expect(pair.server.droppedDatagrams > 0)
        #expect(pair.server.keyingMaterial == nil && pair.client.keyingMaterial == nil)
        // A clean handshake afterwards still works for datagrams the filter dropped.
        let clean = try Pair()
        for _ in 0..<50 { clean.server.receive(datagram: [0x80] + [UInt8](repeating: 0xAB, count: 40)) }
        clean.run()
        #expect(clean.server.state == .connected)
        #expect(clean.server.droppedDatagrams == 50)
    }

    @Test func dtlsShapedGarbageNeverCompletes() throws {
        let pair = try Pair()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var junk = (0..<Int.random(in: 13...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            junk[0] = UInt8.random(in: 20...25, using: &generator)
            junk[1] = 0xFE
            junk[2] = 0xFD
            pair.server.receive(datagram: junk)
            pair.client.receive(datagram: junk)
            _ = pair.server.drainOutbound()
            _ = pair.client.drainOutbound()
        }
        #expect(!pair.server.isConnected && !pair.client.isConnected)
        #expect(pair.server.keyingMaterial == nil && pair.client.keyingMaterial == nil)
    }

    @Test func garbageAfterConnectDoesNotBreakSession() throws {
        let pair = try Pair()
        pair.run()
        let keys = pair.server.keyingMaterial
        for length in [13, 40, 200] {
            var junk = [UInt8](repeating: 0x55, count: length)
            junk[0] = 23 // application_data with a bogus epoch/MAC: silently dropped
            junk[1] = 0xFE
            junk[2] = 0xFD
            #expect(pair.server.receive(datagram: junk).isEmpty)
        }
        #expect(pair.server.state == .connected)
        #expect(pair.server.keyingMaterial == keys)
    }

    @Test func closeNotifyClosesPeer() throws {
        let pair = try Pair()
        pair.run()
        pair.client.close()
        #expect(pair.client.state == .closed)
        let alerts = pair.client.drainOutbound()
        #expect(!alerts.isEmpty)
        for datagram in alerts { pair.server.receive(datagram: datagram) }
        #expect(pair.server.state == .closed)
    }

    @Test func applicationDataIsDelivered() throws {
        // Data channels will carry SCTP in these records.
        let pair = try Pair()
        #expect(!pair.client.send(applicationData: [1, 2, 3])) // not connected yet
        pair.run()
        let message: [UInt8] = Array("hello sctp".utf8)
        #expect(pair.client.send(applicationData: message))
        let datagrams = pair.client.drainOutbound()
        #expect(datagrams.count == 1)
        let received = datagrams.flatMap { pair.server.receive(datagram: $0) }
        #expect(received == [message])
        // A runt datagram after connect is dropped by the pre-filter.
        #expect(pair.server.receive(datagram: [UInt8](repeating: 23, count: 5)).isEmpty)
        #expect(pair.server.droppedDatagrams == 1)
    }

    @Test func retransmissionTimerResendsClientHello() async throws {
        let pair = try Pair()
        pair.client.start()
        let first = pair.client.drainOutbound()
        #expect(first.count == 1)
        let timeout = try #require(pair.client.retransmissionTimeout)
        #expect(timeout > .zero && timeout <= .seconds(1))
        try await Task.sleep(for: timeout + .milliseconds(20))
        pair.client.handleTimeout()
        let resent = pair.client.drainOutbound()
        #expect(resent.count == 1)
        // The lost flight arrives late; the handshake still completes.
        pair.server.receive(datagram: resent[0])
        pair.run()
        #expect(pair.client.isConnected && pair.server.isConnected)
    }

    @Test func roleFromSDPSetup() {
        #expect(DTLSEndpoint.Role(sdpSetup: "active") == .client)
        #expect(DTLSEndpoint.Role(sdpSetup: "PASSIVE") == .server)
        #expect(DTLSEndpoint.Role(sdpSetup: "actpass") == nil)
    }
}
