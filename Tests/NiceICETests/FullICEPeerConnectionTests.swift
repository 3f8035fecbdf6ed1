/// Two PeerConnections of a full-ICE engine talk to each other over their libnice agents:
/// ICE (one controlling, one controlled), DTLS (one client, one server), SRTP both ways, and
/// closing one frees its agent.
import Foundation
import Synchronization
import Testing
import DTLS
import ICE
import Media
import Net
import SDP
@testable import NiceICE

/// Echoes RTP back (the Confab side) or records it (the "browser" side).
final class Endpoint: PeerConnectionDelegate {
    struct Seen {
        var connected = 0
        var closeReasons: [String] = []
        var rtp: [UInt32] = []
    }
    let echo: Bool
    let seen = Mutex(Seen())
    init(echo: Bool) { self.echo = echo }

    func peerConnectionDidConnect(_ connection: PeerConnection) { seen.withLock { $0.connected += 1 } }
    func peerConnection(_ connection: PeerConnection, stream: MediaStream, receiving: Bool) {}
    func peerConnection(_ connection: PeerConnection, didCloseWithReason reason: String) {
        seen.withLock { $0.closeReasons.append(reason) }
    }
    func peerConnection(_ connection: PeerConnection, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                        route: InboundRoute, context: MediaSendContext) {
        let sequence = UInt32(packet[2]) << 8 | UInt32(packet[3])
        seen.withLock { $0.rtp.append(sequence) }
        if echo { connection.sendRTP(UnsafeRawBufferPointer(packet), stream: route.stream, context: context) }
    }
    func peerConnection(_ connection: PeerConnection, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                        context: MediaSendContext) {}
}

func stream(local: UInt32, remote: UInt32) -> MediaStream {
    var stream = MediaStream(index: 0, mid: "0", kind: .audio, codec: "opus", clockRate: 48000, payloadType: 111,
                             localSSRC: local, sends: true, receives: true)
    stream.remoteSSRCs = [remote]
    return stream
}

func rtpPacket(sequence: UInt16, ssrc: UInt32) -> [UInt8] {
    var packet: [UInt8] = [0x80, 111, UInt8(sequence >> 8), UInt8(sequence & 0xff), 0, 0, 0, 1]
    packet += [UInt8(ssrc >> 24), UInt8(ssrc >> 16 & 0xff), UInt8(ssrc >> 8 & 0xff), UInt8(ssrc & 0xff)]
    return packet + Array(repeating: 0x55, count: 160)
}

@Suite(.serialized)
struct FullICEPeerConnectionTests {
    @Test func dtlsSRTPEchoOverLibniceAgents() throws {
        let (engine, factory) = try makeEngine(ports: 23000...23999)
        defer { engine.stop() }
        let server = Endpoint(echo: true), browser = Endpoint(echo: false)
        let confab = engine.makePeerConnection(label: "confab", delegate: server)
        let peer = engine.makePeerConnection(label: "browser", delegate: browser)
        #expect(confab.usesFullICE)
        // Confab offers (controlling, DTLS client as if the browser answered passive); the peer answers.
        let confabCandidates = try confab.localCandidates(controlling: true)
        let peerCandidates = try peer.localCandidates(controlling: false)
        #expect(factory.agentCount == 2)
        let fingerprint = engine.certificate.fingerprint
        try confab.configure(remoteFingerprint: fingerprint, dtlsRole: .client, streams: [stream(local: 0xC0, remote: 0xB0)])
        try peer.configure(remoteFingerprint: fingerprint, dtlsRole: .server, streams: [stream(local: 0xB0, remote: 0xC0)])
        let confabCredentials = confab.localCredentials, peerCredentials = peer.localCredentials
        // The peer's candidates arrive by trickle before its answer's credentials are applied.
        confab.addRemoteCandidates(peerCandidates, complete: false)
        peer.setRemoteICE(ufrag: confabCredentials.ufrag, pwd: confabCredentials.pwd, candidates: confabCandidates,
                          complete: true)
        confab.setRemoteICE(ufrag: peerCredentials.ufrag, pwd: peerCredentials.pwd, candidates: peerCandidates,
                            complete: true)
        #expect(waitUntil { server.seen.withLock { $0.connected } == 1 && browser.seen.withLock { $0.connected } == 1 },
                "DTLS did not complete: \(confab.statistics.iceState)/\(confab.statistics.dtlsState)")
        #expect(confab.statistics.iceState == "connected")
        #expect(confab.statistics.selectedPair?.contains("127.0.0.1") == true)

        // The peer sends RTP; Confab's delegate echoes it back through its agent.
        // From the peer connection's owning thread, as plugins send.
        peer.perform { context in
            for sequence in UInt16(1)...20 {
                rtpPacket(sequence: sequence, ssrc: 0xB0).withUnsafeBytes { peer.sendRTP($0, stream: 0, context: context) }
            }
        }
        #expect(waitUntil { browser.seen.withLock { $0.rtp.count } >= 18 },
                "echoed \(browser.seen.withLock { $0.rtp.count }) of 20")
        #expect(server.seen.withLock { $0.rtp.count } >= 18)

        // Closing one end frees its agent; the other hears the DTLS close_notify.
        confab.close(reason: "test done")
        #expect(waitUntil { browser.seen.withLock { $0.closeReasons } == ["DTLS alert"] })
        #expect(waitUntil { factory.agentCount == 0 })
        #expect(engine.connectionCount == 0)
    }
}
