/// ICE-TCP (RFC 6544, `media.ice_tcp`): agents gather TCP candidates beside the UDP ones, on
/// ports of the range, and two agents given only each other's TCP candidates connect over TCP.
import Foundation
import ICE
import Media
import Testing
@testable import NiceICE

@Suite(.serialized)
struct NiceTCPTests {
    @Test func tcpCandidatesBesideUDPAndAConnectionOverTCPOnly() throws {
        let (engine, factory) = try makeEngine(ports: 29000...29999, iceTCP: true)
        defer { engine.stop() }
        let pair = try AgentPair(factory)
        defer { pair.close() }
        let (ownerA, ownerB, credentialsA, credentialsB) = (pair.ownerA, pair.ownerB, pair.credentialsA, pair.credentialsB)
        let (a, b) = (pair.a, pair.b)
        let candidatesA = a.localCandidates, candidatesB = b.localCandidates
        #expect(Set(candidatesA.map(\.transport)) == ["udp", "tcp"], "\(candidatesA)")
        #expect(candidatesA.contains { $0.transport == "tcp" && $0.tcpType == "passive" })
        for candidate in candidatesA where candidate.transport == "tcp" && candidate.tcpType == "passive" {
            #expect((29000...29999).contains(candidate.port), "port \(candidate.port) outside media.rtp_port_range")
        }

        a.setRemoteCredentials(ufrag: credentialsB.ufrag, pwd: credentialsB.pwd)
        b.setRemoteCredentials(ufrag: credentialsA.ufrag, pwd: credentialsA.pwd)
        a.addRemoteCandidates(candidatesB.filter { $0.transport == "tcp" })
        b.addRemoteCandidates(candidatesA.filter { $0.transport == "tcp" })
        #expect(waitUntil { ownerA.seen.withLock { $0.connected } == 1 && ownerB.seen.withLock { $0.connected } == 1 })
        #expect(a.selectedPair?.contains("tcp") == true, "\(a.selectedPair ?? "none")")
        let datagram: [UInt8] = [0x80, 0x60] + Array(repeating: 4, count: 60)
        #expect(waitUntil {
            _ = datagram.withUnsafeBytes { a.send($0) }
            return ownerB.seen.withLock { $0.datagrams.contains(datagram) }
        })

        // Without media.ice_tcp there are UDP candidates only.
        let (udpEngine, udpFactory) = try makeEngine(ports: 29000...29999)
        defer { udpEngine.stop() }
        let plain = try udpFactory.makeTransport(owner: RecordingOwner(), credentials: .random(), controlling: false)
        defer { plain.close() }
        #expect(Set(plain.localCandidates.map(\.transport)) == ["udp"])
    }
}
