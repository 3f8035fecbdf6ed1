// Test helpers: two endpoints wired back-to-back in memory.

import DTLS

struct Pair {
    let client: DTLSEndpoint
    let server: DTLSEndpoint
    let clientCertificate: DTLSCertificate
    let serverCertificate: DTLSCertificate

    /// Each side pins the other's real fingerprint unless overridden.
    init(clientExpects: DTLSFingerprint? = nil, serverExpects: DTLSFingerprint? = nil) throws {
        clientCertificate = try DTLSCertificate.generate(commonName: "client")
        serverCertificate = try DTLSCertificate.generate(commonName: "server")
        let clientContext = try DTLSContext(certificate: clientCertificate)
        let serverContext = try DTLSContext(certificate: serverCertificate)
        client = try DTLSEndpoint(
            context: clientContext, role: .client,
            remoteFingerprint: clientExpects ?? serverCertificate.fingerprint)
        server = try DTLSEndpoint(
            context: serverContext, role: .server,
            remoteFingerprint: serverExpects ?? clientCertificate.fingerprint)
    }

    /// Shuttles datagrams until neither side has anything to send.
    /// Returns the number of rounds used.
    @discardableResult
    func run(maxRounds: Int = 20) -> Int {
        client.start()
        server.start()
        for round in 1...maxRounds {
            let toServer = client.drainOutbound()
            let toClient = server.drainOutbound()
            if toServer.isEmpty && toClient.isEmpty { return round }
            for datagram in toServer { server.receive(datagram: datagram) }
            for datagram in toClient { client.receive(datagram: datagram) }
        }
        return maxRounds
    }
}
