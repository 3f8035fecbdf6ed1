/// Full ICE on libnice over loopback: two agents of one pool find each other and pass datagrams;
/// two PeerConnections complete DTLS-SRTP and echo RTP through their agents; agents, sockets and
/// GLib sources are freed when transports close.
import Foundation
import Logging
import Synchronization
import Testing
import DTLS
import ICE
import Media
import Net
import SDP
@testable import NiceICE

let loopback = TransportAddress(ip: "127.0.0.1", port: 0)!

func quietLogger() -> Logger {
    var logger = Logger(label: "nice-test")
    logger.logLevel = .error
    return logger
}

/// An engine in full-ICE mode on loopback (its shared port is bound but unused by ICE).
func makeEngine(ports: ClosedRange<UInt16> = 21000...21999,
                addresses: [TransportAddress] = [loopback],
                fullTrickle: Bool = false,
                iceTCP: Bool = false,
                consentTimeout: Duration = .seconds(30)) throws -> (MediaEngine, NiceTransportFactory) {
    var nice = NiceConfiguration(portRange: ports, localAddresses: addresses)
    nice.threads = 2
    nice.fullTrickle = fullTrickle
    nice.iceTCP = iceTCP
    let factory = try NiceTransportFactory(configuration: nice, logger: quietLogger())
    var configuration = MediaConfiguration(udpPort: 0, readerThreads: 1, announcedAddresses: [loopback],
                                           preferIPv6Socket: false)
    configuration.consentTimeout = consentTimeout
    configuration.transportFactory = factory
    let engine = try MediaEngine(configuration: configuration, certificate: try DTLSCertificate.generate(),
                                 logger: quietLogger())
    engine.start()
    return (engine, factory)
}

/// Two transports from one factory, A controlling and B controlled, each with its recording owner
/// and fresh credentials; `close()` frees both.
final class AgentPair {
    let ownerA = RecordingOwner(), ownerB = RecordingOwner()
    let credentialsA = ICECredentials.random(), credentialsB = ICECredentials.random()
    let a: any ICETransport
    let b: any ICETransport

    init(_ factory: NiceTransportFactory) throws {
        a = try factory.makeTransport(owner: ownerA, credentials: credentialsA, controlling: true)
        b = try factory.makeTransport(owner: ownerB, credentials: credentialsB, controlling: false)
    }

    func close() {
        a.close()
        b.close()
    }
}

func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

func openFileDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// Records what a transport reports.
final class RecordingOwner: ICETransportOwner {
    struct Seen {
        var connected = 0
        var failures: [String] = []
        var datagrams: [[UInt8]] = []
        var gathered: [Candidate] = []
        var gatheringFinished = 0
        /// Candidates reported after the end of gathering (must stay 0).
        var lateCandidates = 0
    }
    let seen = Mutex(Seen())

    func transportDidConnect(_ transport: any ICETransport) { seen.withLock { $0.connected += 1 } }
    func transport(_ transport: any ICETransport, didFailWithReason reason: String) {
        seen.withLock { $0.failures.append(reason) }
    }
    func transport(_ transport: any ICETransport, didGather candidate: Candidate) {
        seen.withLock { seen in
            seen.gathered.append(candidate)
            if seen.gatheringFinished > 0 { seen.lateCandidates += 1 }
        }
    }
    func transportDidFinishGathering(_ transport: any ICETransport) { seen.withLock { $0.gatheringFinished += 1 } }
    func transport(_ transport: any ICETransport, didReceive datagram: UnsafeRawBufferPointer) {
        let bytes = Array(datagram)
        seen.withLock { $0.datagrams.append(bytes) }
    }
}

@Suite(.serialized)
struct NiceTransportTests {
    @Test func twoAgentsConnectOnLoopbackAndPassDatagrams() throws {
        let (engine, factory) = try makeEngine()
        defer { engine.stop() }
        let pair = try AgentPair(factory)
        defer { pair.close() }
        let (ownerA, ownerB, credentialsA, credentialsB) = (pair.ownerA, pair.ownerB, pair.credentialsA, pair.credentialsB)
        let (a, b) = (pair.a, pair.b)
        let candidatesA = a.localCandidates, candidatesB = b.localCandidates
        #expect(!candidatesA.isEmpty && !candidatesB.isEmpty)
        for candidate in candidatesA + candidatesB {
            #expect(candidate.address == "127.0.0.1" && candidate.type == .host && candidate.transport.lowercased() == "udp")
            #expect((21000...21999).contains(candidate.port), "port \(candidate.port) outside media.rtp_port_range")
        }
        // Candidates before credentials are kept until the credentials come (trickle before the SDP).
        b.addRemoteCandidates(candidatesA)
        b.setRemoteCredentials(ufrag: credentialsA.ufrag, pwd: credentialsA.pwd)
        a.setRemoteCredentials(ufrag: credentialsB.ufrag, pwd: credentialsB.pwd)
        a.addRemoteCandidates(candidatesB)
        a.remoteCandidatesComplete()
        b.remoteCandidatesComplete()
        #expect(waitUntil { ownerA.seen.withLock { $0.connected } == 1 && ownerB.seen.withLock { $0.connected } == 1 })
        #expect(a.selectedPair?.contains("127.0.0.1") == true)

        // A DTLS-looking datagram (first byte 22) from A arrives at B unchanged, and back.
        let datagram: [UInt8] = [22, 0xfe, 0xfd] + Array(repeating: 7, count: 100)
        #expect(waitUntil {
            _ = datagram.withUnsafeBytes { a.send($0) }
            return !ownerB.seen.withLock { $0.datagrams.isEmpty }
        })
        #expect(ownerB.seen.withLock { $0.datagrams.first } == datagram)
        #expect(datagram.withUnsafeBytes { b.send($0) })
        #expect(waitUntil { ownerA.seen.withLock { $0.datagrams.contains(datagram) } })
        #expect(ownerA.seen.withLock { $0.failures }.isEmpty)
    }

    /// Full trickle: every host candidate is reported (as the description would carry it, `udp` in
    /// lower case like Janus), then the end once; half-trickle reports nothing.
    @Test func fullTrickleReportsEachCandidateThenTheEnd() throws {
        let (engine, factory) = try makeEngine(ports: 23000...23999, fullTrickle: true)
        defer { engine.stop() }
        #expect(factory.tricklesLocalCandidates)
        let owner = RecordingOwner()
        let transport = try factory.makeTransport(owner: owner, credentials: .random(), controlling: false)
        defer { transport.close() }
        #expect(waitUntil { owner.seen.withLock { $0.gatheringFinished } == 1 })
        let seen = owner.seen.withLock { $0 }
        #expect(!seen.gathered.isEmpty && seen.lateCandidates == 0)
        #expect(Set(seen.gathered) == Set(transport.localCandidates))
        for candidate in seen.gathered {
            #expect(candidate.transport == "udp" && candidate.address == "127.0.0.1" && candidate.type == .host)
            #expect((23000...23999).contains(candidate.port))
        }

        let (halfEngine, halfFactory) = try makeEngine(ports: 24000...24999)
        defer { halfEngine.stop() }
        let quiet = RecordingOwner()
        let half = try halfFactory.makeTransport(owner: quiet, credentials: .random(), controlling: false)
        defer { half.close() }
        #expect(!half.localCandidates.isEmpty)
        usleep(200_000)
        #expect(quiet.seen.withLock { $0.gathered.isEmpty && $0.gatheringFinished == 0 })
    }

    @Test func closedTransportsFreeAgentsAndSockets() throws {
        let (engine, factory) = try makeEngine(ports: 22000...22999)
        defer { engine.stop() }
        // Warm up (first agent loads libnice's lazily created state).
        let warm = try factory.makeTransport(owner: RecordingOwner(), credentials: .random(), controlling: false)
        warm.close()
        #expect(waitUntil { factory.agentCount == 0 })
        let baseline = openFileDescriptors()
        for round in 0..<5 {
            var transports: [any ICETransport] = []
            for index in 0..<20 {
                transports.append(try factory.makeTransport(owner: RecordingOwner(), credentials: .random(),
                                                            controlling: index % 2 == 0))
            }
            #expect(factory.agentCount == 20)
            for transport in transports { transport.close() }
            #expect(waitUntil { factory.agentCount == 0 }, "round \(round): agents left \(factory.agentCount)")
        }
        #expect(waitUntil { openFileDescriptors() <= baseline },
                "file descriptors: \(openFileDescriptors()) now, \(baseline) before")
    }

    @Test func natMappingReplacesHostAddresses() {
        let host = Candidate(foundation: "1", component: 1, transport: "udp", priority: 2_130_706_431,
                             address: "10.0.0.5", port: 20000, type: .host)
        let srflx = Candidate(foundation: "2", component: 1, transport: "udp", priority: 1_694_498_815,
                              address: "198.51.100.7", port: 20001, type: .serverReflexive,
                              relatedAddress: "10.0.0.5", relatedPort: 20000)
        let mapped = NiceTransport.mapped([host, srflx], publicAddress: TransportAddress(ip: "203.0.113.9", port: 0),
                                          keepPrivate: false)
        #expect(mapped.map(\.address) == ["203.0.113.9", "198.51.100.7"])
        let both = NiceTransport.mapped([host], publicAddress: TransportAddress(ip: "203.0.113.9", port: 0),
                                        keepPrivate: true)
        #expect(both.map(\.address) == ["203.0.113.9", "10.0.0.5"])
        #expect(Set(both.map(\.foundation)).count == 2)
        #expect(NiceTransport.mapped([host], publicAddress: nil, keepPrivate: false) == [host])
    }
}

@Suite(.serialized)
struct NiceRestartTests {
    @Test func iceRestartWithNewCredentialsKeepsDatagramsFlowing() throws {
        let (engine, factory) = try makeEngine(ports: 24000...24999)
        defer { engine.stop() }
        let pair = try AgentPair(factory)
        defer { pair.close() }
        let (ownerA, ownerB, credentialsA, credentialsB) = (pair.ownerA, pair.ownerB, pair.credentialsA, pair.credentialsB)
        let (a, b) = (pair.a, pair.b)
        a.setRemoteCredentials(ufrag: credentialsB.ufrag, pwd: credentialsB.pwd)
        b.setRemoteCredentials(ufrag: credentialsA.ufrag, pwd: credentialsA.pwd)
        a.addRemoteCandidates(b.localCandidates)
        b.addRemoteCandidates(a.localCandidates)
        #expect(waitUntil { ownerA.seen.withLock { $0.connected } == 1 && ownerB.seen.withLock { $0.connected } == 1 })

        // Both sides restart with fresh credentials and exchange them again.
        let newA = ICECredentials.random(), newB = ICECredentials.random()
        a.restart(credentials: newA)
        b.restart(credentials: newB)
        b.addRemoteCandidates(a.localCandidates)  // trickled before the new credentials: kept
        a.setRemoteCredentials(ufrag: newB.ufrag, pwd: newB.pwd)
        b.setRemoteCredentials(ufrag: newA.ufrag, pwd: newA.pwd)
        a.addRemoteCandidates(b.localCandidates)
        let datagram: [UInt8] = [0x80, 0x60] + Array(repeating: 1, count: 50)
        #expect(waitUntil {
            _ = datagram.withUnsafeBytes { a.send($0) }
            return ownerB.seen.withLock { $0.datagrams.contains(datagram) }
        })
        // Still up a while later (checks with the new credentials succeeded, nothing failed).
        usleep(1_500_000)
        ownerB.seen.withLock { $0.datagrams = [] }
        #expect(waitUntil(3) {
            _ = datagram.withUnsafeBytes { a.send($0) }
            return ownerB.seen.withLock { $0.datagrams.contains(datagram) }
        })
        #expect(ownerA.seen.withLock { $0.failures }.isEmpty && ownerB.seen.withLock { $0.failures }.isEmpty)
    }
}

@Suite(.serialized)
struct NiceIPv6Tests {
    @Test func agentsGatherAndConnectOnIPv6Loopback() throws {
        let v6 = TransportAddress(ip: "::1", port: 0)!
        let (engine, factory) = try makeEngine(ports: 25000...25999, addresses: [loopback, v6])
        defer { engine.stop() }
        let pair = try AgentPair(factory)
        defer { pair.close() }
        let (ownerA, ownerB, credentialsA, credentialsB) = (pair.ownerA, pair.ownerB, pair.credentialsA, pair.credentialsB)
        let (a, b) = (pair.a, pair.b)
        #expect(Set(a.localCandidates.map(\.address)) == ["127.0.0.1", "::1"])
        // Only the IPv6 candidates are exchanged: the pair must be ::1 <-> ::1.
        a.setRemoteCredentials(ufrag: credentialsB.ufrag, pwd: credentialsB.pwd)
        b.setRemoteCredentials(ufrag: credentialsA.ufrag, pwd: credentialsA.pwd)
        a.addRemoteCandidates(b.localCandidates.filter { $0.address == "::1" })
        b.addRemoteCandidates(a.localCandidates.filter { $0.address == "::1" })
        #expect(waitUntil { ownerA.seen.withLock { $0.connected } == 1 && ownerB.seen.withLock { $0.connected } == 1 })
        #expect(a.selectedPair?.hasPrefix("[::1]:") == true, "\(a.selectedPair ?? "none")")
        let datagram: [UInt8] = [0x80, 0x60] + Array(repeating: 2, count: 40)
        #expect(waitUntil {
            _ = datagram.withUnsafeBytes { a.send($0) }
            return ownerB.seen.withLock { $0.datagrams.contains(datagram) }
        })
    }
}
