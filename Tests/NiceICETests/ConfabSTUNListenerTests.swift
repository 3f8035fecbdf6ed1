/// media.stun_server pointing at Confab's own STUN/TURN listener: libnice's server-reflexive
/// discovery sends RFC 3489 Binding requests (no magic cookie) and must accept Confab's answer.
import Foundation
import Logging
import Testing
import ICE
import Media
import Net
import TURN
@testable import NiceICE

@Suite(.serialized)
struct ConfabSTUNListenerTests {
    /// On loopback the mapped address equals the host candidate, so libnice keeps no separate srflx
    /// candidate (RFC 8445 §5.1.3 redundancy); tests/test_full_ice.py puts a NAT in front to see one.
    /// Here the proof is that discovery is answered once and done: libnice retransmits a request it
    /// got no acceptable answer to (RFC 3489 backs off from 100 ms), so exactly one request means
    /// its STUN code took Confab's MAPPED-ADDRESS answer, and gathering ends without a timeout.
    @Test func libniceDiscoveryIsAnsweredByConfabsListener() async throws {
        let server = TURNServer(configuration: TURNConfiguration(realm: "test"),
                                listeners: [.init(host: "127.0.0.1", port: 0)], logger: quietLogger())
        let bound = try await server.start()
        guard let port = bound.first?.port else { throw CancellationError() }

        var nice = NiceConfiguration(portRange: 27000...27999, localAddresses: [loopback])
        nice.threads = 1
        nice.stunServer = TransportAddress(ip: "127.0.0.1", port: UInt16(port))
        let factory = try NiceTransportFactory(configuration: nice, logger: quietLogger())
        var configuration = MediaConfiguration(udpPort: 0, readerThreads: 1, announcedAddresses: [loopback],
                                               preferIPv6Socket: false)
        configuration.transportFactory = factory
        let engine = try MediaEngine(configuration: configuration, certificate: try .generate(), logger: quietLogger())
        engine.start()

        let started = ContinuousClock.now
        let transport = try factory.makeTransport(owner: RecordingOwner(), credentials: .random(), controlling: false)
        let candidates = transport.localCandidates
        let gathering = ContinuousClock.now - started
        try await Task.sleep(for: .seconds(1))  // room for retransmissions, had the answer been refused
        let answered = server.counters.classicBindings.load(ordering: .relaxed)
        let malformed = server.counters.malformedDropped.load(ordering: .relaxed)
        transport.close()
        engine.stop()
        await server.stop()

        #expect(candidates.contains { $0.type == .host && $0.address == "127.0.0.1" })
        #expect(answered == 1, "RFC 3489 Bindings answered: \(answered), malformed: \(malformed)")
        #expect(malformed == 0)
        #expect(gathering < .seconds(2), "gathering took \(gathering)")
    }
}
