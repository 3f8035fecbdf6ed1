/// The shared-port engine against a browser-like client over real loopback sockets: ICE-lite
/// checks, DTLS-SRTP, SRTP echo, address moves, ICE restart, consent loss and garbage input.
import Foundation
import Logging
import Synchronization
import Testing
import DTLS
import ICE
import Net
import PeerClient
@testable import Media

/// Echoes every RTP packet back on its stream and records what the connection reports.
final class RecordingEcho: PeerConnectionDelegate {
    struct Events {
        var connected = 0
        var closeReasons: [String] = []
        var receiving: [Bool] = []
        var slowLinks: [(uplink: Bool, lost: Int)] = []
    }
    let events = Mutex(Events())

    func peerConnectionDidConnect(_ connection: PeerConnection) { events.withLock { $0.connected += 1 } }
    func peerConnection(_ connection: PeerConnection, stream: MediaStream, receiving: Bool) {
        events.withLock { $0.receiving.append(receiving) }
    }
    func peerConnection(_ connection: PeerConnection, stream: MediaStream, slowLink uplink: Bool, lost: Int) {
        events.withLock { $0.slowLinks.append((uplink, lost)) }
    }
    func peerConnection(_ connection: PeerConnection, didCloseWithReason reason: String) {
        events.withLock { $0.closeReasons.append(reason) }
    }
    func peerConnection(_ connection: PeerConnection, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                        route: InboundRoute, context: MediaSendContext) {
        connection.sendRTP(UnsafeRawBufferPointer(packet), stream: route.stream, rtx: route.isRTX, context: context)
    }
    func peerConnection(_ connection: PeerConnection, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                        context: MediaSendContext) {}
}

/// One engine, one connection, one client, connected and keyed.
struct Call {
    static let remoteSSRC: UInt32 = 0x0102_0304
    static let localSSRC: UInt32 = 0xA0B0_C0D0
    let engine: MediaEngine
    let connection: PeerConnection
    let client: PeerClient
    let echo = RecordingEcho()
    var serverCredentials: ICECredentials

    init(consentTimeout: Duration = .seconds(30), slowlinkThreshold: Int = 0) throws {
        var configuration = MediaConfiguration(udpPort: 0, readerThreads: 1,
                                               announcedAddresses: [TransportAddress(ip: "127.0.0.1", port: 0)!],
                                               preferIPv6Socket: false)
        configuration.consentTimeout = consentTimeout
        configuration.slowlinkThreshold = slowlinkThreshold
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let certificate = try DTLSCertificate.generate()
        engine = try MediaEngine(configuration: configuration, certificate: certificate, logger: logger)
        engine.start()
        connection = engine.makePeerConnection(label: "test", delegate: echo)
        client = try PeerClient(server: TransportAddress(ip: "127.0.0.1", port: engine.port)!)
        serverCredentials = connection.applyRemoteICE(ufrag: client.credentials.ufrag)
        var stream = MediaStream(index: 0, mid: "0", kind: .audio, codec: "opus", clockRate: 48000, payloadType: 96,
                                 localSSRC: Self.localSSRC, sends: true, receives: true)
        stream.remoteSSRCs = [Self.remoteSSRC]
        try connection.configure(remoteFingerprint: client.certificate.fingerprint, dtlsRole: .server, streams: [stream])
        try client.checkConnectivity(serverUfrag: serverCredentials.ufrag, serverPwd: serverCredentials.pwd)
        try client.handshake(serverFingerprint: certificate.fingerprint)
    }

    /// Sends `count` packets from `first` and returns the echoed ones (decrypted).
    func echo(count: Int, first: UInt16) throws -> [[UInt8]] {
        for offset in 0..<count {
            let sequence = first &+ UInt16(offset)
            try client.sendRTP(sequence: sequence, timestamp: UInt32(sequence) * 960, ssrc: Self.remoteSSRC)
        }
        var received: [[UInt8]] = []
        let deadline = Date().addingTimeInterval(2)
        while received.count < count, Date() < deadline { received += client.receiveRTP(milliseconds: 100) }
        return received
    }

    func waitUntil(_ condition: () -> Bool, seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(), Date() < deadline { usleep(20_000) }
        return condition()
    }
}

extension [UInt8] {
    var rtpSSRC: UInt32 { UInt32(self[8]) << 24 | UInt32(self[9]) << 16 | UInt32(self[10]) << 8 | UInt32(self[11]) }
    var rtpSequence: UInt16 { UInt16(self[2]) << 8 | UInt16(self[3]) }
}

@Suite(.serialized) struct PeerConnectionTests {
    @Test func echoesSRTPWithTheLocalSSRCAfterICEAndDTLS() throws {
        let call = try Call()
        defer { call.engine.stop() }
        let echoed = try call.echo(count: 20, first: 100)
        #expect(echoed.count >= 18)
        #expect(echoed.allSatisfy { $0.rtpSSRC == Call.localSSRC })
        #expect(Set(echoed.map(\.rtpSequence)).isSubset(of: Set((100..<120).map { UInt16($0) })))
        #expect(call.echo.events.withLock { $0.connected } == 1)
        #expect(call.waitUntil { call.echo.events.withLock { $0.receiving } == [true] })
        let stats = call.connection.statistics
        #expect(stats.iceState == "connected" && stats.dtlsState == "connected")
        #expect(stats.packetsReceived >= 18 && stats.packetsSent >= 18)
        #expect(stats.selectedAddress?.port == call.client.socket.localPort)
        // 1 s without packets: the stream is reported as no longer receiving (Janus's media event).
        #expect(call.waitUntil({ call.echo.events.withLock { $0.receiving } == [true, false] }, seconds: 3))
    }

    @Test func sendsReceiverReportsAboutTheIncomingStream() throws {
        let call = try Call()
        defer { call.engine.stop() }
        // A gap of 5 packets (sequence 20..<25 never sent) must show up as loss.
        _ = try call.echo(count: 20, first: 0)
        _ = try call.echo(count: 20, first: 25)
        // Reports go out once a second, so one may describe only the first 20: wait for one whose
        // extended highest sequence number (block offset 8, packet bytes 16..<20) covers the second.
        func highestSequence(_ report: [UInt8]) -> UInt32 {
            UInt32(report[16]) << 24 | UInt32(report[17]) << 16 | UInt32(report[18]) << 8 | UInt32(report[19])
        }
        let deadline = Date().addingTimeInterval(3)
        var block: [UInt8]?
        while block == nil, Date() < deadline {
            _ = call.client.receiveRTP(milliseconds: 100)
            block = call.client.rtcpReceived.first {
                $0.count >= 32 && $0[1] == 201 && $0[0] & 0x1F >= 1 && highestSequence($0) >= 44
            }
        }
        let report = try #require(block, "no receiver report from the server")
        // RR: sender SSRC at 4, first report block at 8 (source SSRC, fraction, cumulative lost).
        let source = UInt32(report[8]) << 24 | UInt32(report[9]) << 16 | UInt32(report[10]) << 8 | UInt32(report[11])
        let lost = Int(report[13]) << 16 | Int(report[14]) << 8 | Int(report[15])
        #expect(source == Call.remoteSSRC)
        #expect(lost == 5)
        let sender = UInt32(report[4]) << 24 | UInt32(report[5]) << 16 | UInt32(report[6]) << 8 | UInt32(report[7])
        #expect(sender == Call.localSSRC)
    }

    /// The media path belongs to the connection's owning shard: RTCP from any other thread (here
    /// the test's, as signalling would) is sent from there, RTP from a thread that does not own the
    /// connection is refused, and the control path still reads the owner's counters and routes.
    @Test func theMediaPathIsUsedOnlyFromTheOwningThread() throws {
        let call = try Call()
        defer { call.engine.stop() }
        #expect(try call.echo(count: 10, first: 1).count >= 9)
        // Routes are published for the control path by the owner.
        #expect(call.waitUntil { call.connection.inboundSources.map(\.ssrc) == [Call.remoteSSRC] })

        // A PLI from this thread: a copy goes out from the owner.
        var pli = [UInt8](repeating: 0, count: 12)
        pli[0] = 0x81; pli[1] = 206; pli[3] = 2
        for i in 0..<4 { pli[4 + i] = UInt8(truncatingIfNeeded: Call.localSSRC >> (24 - 8 * UInt32(i))) }
        for i in 0..<4 { pli[8 + i] = UInt8(truncatingIfNeeded: Call.remoteSSRC >> (24 - 8 * UInt32(i))) }
        let plisBefore = call.connection.statistics.feedbackSent.plis
        pli.withUnsafeBytes { call.connection.sendRTCP($0, context: nil) }
        let deadline = Date().addingTimeInterval(3)
        while !call.client.rtcpReceived.contains(where: { $0.count >= 12 && $0[1] == 206 && $0[0] & 0x1F == 1 }),
              Date() < deadline {
            _ = call.client.receiveRTP(milliseconds: 100)
        }
        #expect(call.client.rtcpReceived.contains { $0.count >= 12 && $0[1] == 206 && $0[0] & 0x1F == 1 })
        #expect(call.connection.statistics.feedbackSent.plis == plisBefore + 1)

        // RTP with a send context that is not the owner's is dropped and counted.
        let sentBefore = call.connection.statistics.packetsSent
        let failuresBefore = call.engine.counters.sendFailures.load(ordering: .relaxed)
        let foreign = call.engine.makeSendContext()
        let packet = [UInt8](repeating: 0, count: 20).enumerated().map { $0.offset == 0 ? 0x80 : $0.element }
        packet.withUnsafeBytes { call.connection.sendRTP($0, stream: 0, context: foreign) }
        foreign.flush()
        #expect(call.engine.counters.sendFailures.load(ordering: .relaxed) == failuresBefore + 1)
        #expect(call.connection.statistics.packetsSent == sentBefore)
        #expect(call.client.receiveRTP(milliseconds: 200).isEmpty)
    }

    @Test func slowLinksAreReportedBothWaysAboveTheThreshold() throws {
        let call = try Call(slowlinkThreshold: 4)
        defer { call.engine.stop() }
        // Uplink: 6 packets never arrive (sequence 10..<16).
        _ = try call.echo(count: 10, first: 0)
        _ = try call.echo(count: 10, first: 16)
        // Downlink: the browser NACKs 5 of the packets Confab sent (PID 3, BLP 0b1111 = 3...7).
        var nack = [UInt8](repeating: 0, count: 16)
        nack[0] = 0x81; nack[1] = 205; nack[3] = 3
        for i in 0..<4 { nack[8 + i] = UInt8(truncatingIfNeeded: Call.localSSRC >> (24 - 8 * UInt32(i))) }
        nack[13] = 3; nack[15] = 0x0F
        try call.client.sendRTCP(nack)
        #expect(call.waitUntil({ call.echo.events.withLock { $0.slowLinks.count } >= 2 }, seconds: 3))
        let links = call.echo.events.withLock { $0.slowLinks }
        #expect(links.contains { $0.uplink && $0.lost == 6 })
        #expect(links.contains { !$0.uplink && $0.lost == 5 })
    }

    @Test func wrongPasswordIs401AndItsSenderIsNotRouted() throws {
        let call = try Call()
        defer { call.engine.stop() }
        let stranger = try PeerClient(server: call.client.server)
        let answer = try stranger.checkConnectivity(serverUfrag: call.serverCredentials.ufrag, serverPwd: "wrong-password-000000000")
        #expect(answer.errorCode?.code == 401)
        #expect(call.connection.statistics.checksRejected == 1)
        // The real client is undisturbed.
        #expect(try call.echo(count: 10, first: 1).count >= 9)
    }

    @Test func followsAClientToANewAddressOnlyAfterAnAuthenticatedNomination() throws {
        let call = try Call()
        defer { call.engine.stop() }
        #expect(try call.echo(count: 10, first: 1).count >= 9)
        try call.client.moveToNewPort()
        let unknownBefore = call.engine.counters.unknownSourceDropped.load(ordering: .relaxed)
        #expect(try call.echo(count: 5, first: 11).isEmpty)
        #expect(call.engine.counters.unknownSourceDropped.load(ordering: .relaxed) >= unknownBefore + 5)
        try call.client.checkConnectivity(serverUfrag: call.serverCredentials.ufrag, serverPwd: call.serverCredentials.pwd)
        #expect(try call.echo(count: 10, first: 16).count >= 9)
        #expect(call.connection.statistics.selectedAddress?.port == call.client.socket.localPort)
    }

    @Test func iceRestartRetiresTheOldCredentialsAndKeepsTheMediaFlowing() throws {
        var call = try Call()
        defer { call.engine.stop() }
        let old = call.serverCredentials
        call.client.credentials = ICECredentials(ufrag: "restart1", pwd: "restart-password-0123456789")
        call.serverCredentials = call.connection.applyRemoteICE(ufrag: "restart1")
        #expect(call.serverCredentials != old)
        #expect(throws: PeerClientError.self) {
            try call.client.checkConnectivity(serverUfrag: old.ufrag, serverPwd: old.pwd, attempts: 3)
        }
        try call.client.checkConnectivity(serverUfrag: call.serverCredentials.ufrag, serverPwd: call.serverCredentials.pwd)
        #expect(try call.echo(count: 10, first: 1).count >= 9)
    }

    @Test func consentLossHangsUpAndFreesTheConnection() throws {
        let call = try Call(consentTimeout: .seconds(1))
        defer { call.engine.stop() }
        #expect(try call.echo(count: 5, first: 1).count >= 4)
        // No more checks: after the consent timeout the connection ends once, with a reason.
        #expect(call.waitUntil({ !call.echo.events.withLock { $0.closeReasons }.isEmpty }, seconds: 4))
        #expect(call.echo.events.withLock { $0.closeReasons } == ["ICE consent lost"])
        #expect(call.engine.connectionCount == 0)
        #expect(call.connection.isClosed)
        #expect(try call.echo(count: 3, first: 6).isEmpty)
    }

    @Test func garbageIsCountedAndDroppedWhileTheCallGoesOn() throws {
        let call = try Call()
        defer { call.engine.stop() }
        var generator = SystemRandomNumberGenerator()
        let noise = try UDPSocket(port: 0, reusePort: false, preferIPv6: false)
        defer { noise.close() }
        let before = call.engine.counters.datagramsReceived.load(ordering: .relaxed)
        for index in 0..<5_000 {
            var bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Make a share of them look like STUN, DTLS and RTP so every parser sees them.
            if !bytes.isEmpty { bytes[0] = [bytes[0], 0x00, 0x01, 22, 0x80, 0x90][index % 6] }
            _ = noise.send(bytes, to: call.client.server)
            // The call's own client sends garbage too (its address is validated).
            if index % 10 == 0 { _ = call.client.socket.send(bytes, to: call.client.server) }
        }
        #expect(try call.echo(count: 20, first: 1).count >= 18)
        let counters = call.engine.counters
        let dropped = counters.stunDropped.load(ordering: .relaxed) + counters.unknownSourceDropped.load(ordering: .relaxed)
            + counters.unclassifiedDropped.load(ordering: .relaxed) + counters.srtpDropped.load(ordering: .relaxed)
            + counters.dtlsDropped.load(ordering: .relaxed)
        let received = counters.datagramsReceived.load(ordering: .relaxed) - before
        #expect(received >= 5_000)
        // Everything that arrived except the 20 real packets (and DTLS the endpoint ignores) was dropped.
        #expect(dropped >= received - 20 - 500 / 6 - 100)
        #expect(!call.connection.isClosed)
    }
}
