// confab-media-bench: the per-packet cost of the media hot path, measured through real sockets.
//
// One in-process "browser" (a UDP socket on 127.0.0.1 with its own ICE credentials, DTLS client
// and SRTP sessions) connects to a MediaEngine with one reader thread, exactly as a browser does
// (STUN check with USE-CANDIDATE, DTLS handshake, SRTP keys), then sends VP8-sized SRTP packets
// as fast as the engine echoes them. Each echoed packet is the full path: recvmmsg batch →
// demultiplex → SRTP unprotect → route → SSRC rewrite → SRTP protect → sendmmsg batch.
// The figure is the reader thread's own CPU time (from /proc/self/task) per echoed packet.
//
//   swift run -c release confab-media-bench [seconds] [payload-bytes]
//
// `confab-media-bench srtp [packets] [payload-bytes]` measures SRTP alone: protect and unprotect
// in place on one buffer, per profile, on this thread's CPU clock — and, being deterministic, under
// `valgrind --tool=callgrind` as an instruction count. `CONFAB_SRTP_CRYPTO=libsrtp` runs it on
// libsrtp2's own crypto (NSS on Debian) instead of OpenSSL, to compare the two.

import DTLS
import Foundation
import ICE
import Logging
import Media
import PeerClient
import Net
import SDP
import SRTP
import STUN
import Synchronization

final class Echo: PeerConnectionDelegate {
    let connected = Atomic<Bool>(false)
    func peerConnectionDidConnect(_ connection: PeerConnection) { connected.store(true, ordering: .releasing) }
    func peerConnection(_ connection: PeerConnection, stream: MediaStream, receiving: Bool) {}
    func peerConnection(_ connection: PeerConnection, didCloseWithReason reason: String) {}
    func peerConnection(_ connection: PeerConnection, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                        route: InboundRoute, context: MediaSendContext) {
        connection.sendRTP(UnsafeRawBufferPointer(packet), stream: route.stream, rtx: route.isRTX, context: context)
    }
    func peerConnection(_ connection: PeerConnection, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                        context: MediaSendContext) {}
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
}

@main
struct MediaBench {
    static func main() throws {
        if CommandLine.arguments.dropFirst().first == "srtp" {
            let numbers = CommandLine.arguments.dropFirst(2).compactMap { Int($0) }
            try SRTPBench.run(packets: numbers.first ?? 200_000, payloadBytes: numbers.count > 1 ? numbers[1] : 1100)
            return
        }
        let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
        let seconds = arguments.first ?? 10
        let payloadBytes = arguments.count > 1 ? arguments[1] : 1100

        let serverCertificate = try DTLSCertificate.generate()
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let loopback = TransportAddress(ip: "127.0.0.1", port: 0)!
        let engine = try MediaEngine(
            configuration: MediaConfiguration(udpPort: 0, readerThreads: 1, announcedAddresses: [loopback],
                                              preferIPv6Socket: false),
            certificate: serverCertificate, logger: logger)
        engine.start()
        defer { engine.stop() }

        let echo = Echo()
        let connection = engine.makePeerConnection(label: "bench", delegate: echo)
        let client = try PeerClient(server: loopback.with(port: engine.port))
        let serverCredentials = connection.applyRemoteICE(ufrag: client.credentials.ufrag)
        let remoteSSRC: UInt32 = 0x1234_5678
        var stream = MediaStream(index: 0, mid: "0", kind: .video, codec: "VP8", clockRate: 90000, payloadType: 96,
                                 localSSRC: 0xBEEF_0001, sends: true, receives: true)
        stream.remoteSSRCs = [remoteSSRC]
        try connection.configure(remoteFingerprint: client.certificate.fingerprint, dtlsRole: .server, streams: [stream])

        try client.checkConnectivity(serverUfrag: serverCredentials.ufrag, serverPwd: serverCredentials.pwd)
        try client.handshake(serverFingerprint: serverCertificate.fingerprint)
        usleep(100_000)
        guard echo.connected.load(ordering: .acquiring), let outbound = client.outbound, let inbound = client.inbound else {
            throw BenchError(description: "server did not connect")
        }
        let socket = client.socket
        let server = client.server

        // Warm up one second, then measure.
        let warmUp = blast(socket, server, outbound, inbound, ssrc: remoteSSRC, payloadBytes: payloadBytes, seconds: 1,
                           firstSequence: 0)
        let cpuBefore = readerCPUSeconds()
        let started = Date()
        let result = blast(socket, server, outbound, inbound, ssrc: remoteSSRC, payloadBytes: payloadBytes,
                           seconds: Double(seconds), firstSequence: warmUp.nextSequence)
        let wall = Date().timeIntervalSince(started)
        let cpu = readerCPUSeconds() - cpuBefore
        let perPacket = cpu / Double(max(1, result.echoed)) * 1e6
        print(String(format: "payload %d B, %.1f s: sent %d, echoed %d (verified %d), %.0f packets/s wall",
                     payloadBytes, wall, result.sent, result.echoed, result.verified, Double(result.echoed) / wall))
        print(String(format: "reader thread CPU %.2f s: %.2f µs per forwarded packet = %.0f packets/s per core",
                     cpu, perPacket, Double(result.echoed) / max(cpu, 0.001)))
        print("engine counters: " + engine.counters.snapshot.map { "\($0)=\($1)" }.joined(separator: " "))
        print("RESULT payload=\(payloadBytes) echoed=\(result.echoed) cpu_us_per_packet=\(String(format: "%.3f", perPacket)) pps_per_core=\(Int(Double(result.echoed) / max(cpu, 0.001)))")
    }

    struct BlastResult {
        var sent = 0
        var echoed = 0
        var verified = 0
        /// Sequence numbers must continue across runs: SRTP derives the rollover counter from them.
        var nextSequence: UInt32 = 0
    }

    /// Sends batches of 32 protected packets while keeping at most `window` unanswered, and
    /// counts (and spot-checks by decrypting) what comes back.
    static func blast(_ socket: UDPSocket, _ server: TransportAddress, _ outbound: SRTPSession, _ inbound: SRTPSession,
                      ssrc: UInt32, payloadBytes: Int, seconds: Double, firstSequence: UInt32) -> BlastResult {
        let sendBatch = SendBatch(capacity: 32, ipv6Socket: socket.isIPv6)
        let receiveBatch = ReceiveBatch(capacity: 64)
        let window = 512
        var result = BlastResult()
        var sequence = firstSequence
        var forgiven = 0
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if result.sent - result.echoed - forgiven < window {
                for _ in 0..<sendBatch.capacity {
                    let slot = sendBatch.nextSlot
                    let length = PeerClient.writeRTP(slot, sequence: UInt16(truncatingIfNeeded: sequence),
                                                     timestamp: sequence &* 3000, ssrc: ssrc, payloadBytes: payloadBytes)
                    sequence &+= 1
                    guard let protected = try? outbound.protect(rtp: slot, length: length) else { continue }
                    sendBatch.commit(length: protected, to: server)
                }
                result.sent += sendBatch.count
                socket.send(sendBatch)
            } else {
                _ = wait(socket, milliseconds: 1)
                // Packets lost on the way never come back; after a quiet moment stop waiting for them.
                if !wait(socket, milliseconds: 20) { forgiven = result.sent - result.echoed }
            }
            while socket.receive(into: receiveBatch) > 0 {
                result.echoed += receiveBatch.count
                // Decrypt one in 64 to prove the echo is real SRTP with the expected keys.
                if (try? inbound.unprotect(rtp: receiveBatch.slot(0), length: receiveBatch.length(0))) != nil {
                    result.verified += 1
                }
            }
        }
        result.nextSequence = sequence
        return result
    }

    static func wait(_ socket: UDPSocket, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// utime + stime of the thread named confab-media0, in seconds.
    static func readerCPUSeconds() -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for task in tasks {
            guard let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                  name.hasPrefix("confab-media0"),
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            return (user + system) / ticks
        }
        return 0
    }
}
