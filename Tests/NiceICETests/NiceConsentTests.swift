/// Confab's consent freshness on full ICE (NiceConsent.swift): the engine's consentTimeout, counted
/// from the last datagram the agent delivered, instead of libnice's fixed 10 s.
import Foundation
import ICE
import Media
import Testing
@testable import NiceICE

@Suite(.serialized)
struct NiceConsentTests {
    /// B keeps sending for longer than the timeout: A keeps consent. B goes silent (its agent still
    /// answers A's keepalive checks): A reports "ICE consent lost" one timeout later, not before.
    @Test func aSilentPeerLosesConsentAfterTheTimeoutAndATalkingOneNever() throws {
        let (engine, factory) = try makeEngine(ports: 28000...28999, consentTimeout: .seconds(3))
        defer { engine.stop() }
        #expect(factory.consentTimeoutNanos.load(ordering: .relaxed) == 3_000_000_000)
        let pair = try AgentPair(factory)
        defer { pair.close() }
        let (ownerA, ownerB, credentialsA, credentialsB) = (pair.ownerA, pair.ownerB, pair.credentialsA, pair.credentialsB)
        let (a, b) = (pair.a, pair.b)
        a.setRemoteCredentials(ufrag: credentialsB.ufrag, pwd: credentialsB.pwd)
        b.setRemoteCredentials(ufrag: credentialsA.ufrag, pwd: credentialsA.pwd)
        a.addRemoteCandidates(b.localCandidates)
        b.addRemoteCandidates(a.localCandidates)
        #expect(waitUntil { ownerA.seen.withLock { $0.connected } == 1 && ownerB.seen.withLock { $0.connected } == 1 })

        let datagram: [UInt8] = [0x80, 0xc8] + Array(repeating: 3, count: 30)
        let talkUntil = Date().addingTimeInterval(5)
        while Date() < talkUntil {
            _ = datagram.withUnsafeBytes { b.send($0) }
            usleep(200_000)
        }
        #expect(ownerA.seen.withLock { $0.datagrams.count } >= 20)
        #expect(ownerA.seen.withLock { $0.failures }.isEmpty, "A lost consent while B was talking")

        let silentSince = Date()
        #expect(waitUntil(8) { !ownerA.seen.withLock { $0.failures }.isEmpty })
        let after = Date().timeIntervalSince(silentSince)
        #expect(ownerA.seen.withLock { $0.failures } == ["ICE consent lost"])
        #expect(after >= 2.8 && after <= 4.5, "consent lost \(after) s after the silence began (timeout 3 s)")
    }
}
