// Publishers and subscribers with real ICE, DTLS and SRTP (PeerClient), negotiated through the
// Janus VideoRoom API exactly as a browser page would, and the threads that send and count media.

import DTLS
import Foundation
import ICE
import Net
import PeerClient
import RTP
import SDP
import SRTP

/// What a subscriber saw; read by the reporter under `lock`.
final class ReceptionCounters: @unchecked Sendable {
    // @unchecked Sendable: every field is read and written under `lock`.
    let lock = NSLock()
    var received = 0
    var expected = 0
    var latenciesMicros: [UInt32] = []
    /// Packets per stream, keyed `SSRC << 8 | payload type`, for `--verbose`.
    var perStream: [UInt64: Int] = [:]
}

/// Negotiated transport parameters for connecting a PeerClient.
struct RemoteTransport {
    var address: TransportAddress
    var ufrag: String
    var pwd: String
    var fingerprint: DTLSFingerprint
    var role: DTLSEndpoint.Role

    init(description: SessionDescription, transport: NegotiatedTransport) throws {
        let candidates = description.media.flatMap(\.candidates).filter { $0.transport.lowercased() == "udp" }
        guard let first = candidates.first(where: { !$0.address.contains(":") }) ?? candidates.first,
              let address = TransportAddress(ip: first.address, port: first.port) else {
            throw SignallingError("no usable UDP candidate in the server's SDP")
        }
        self.address = address
        ufrag = transport.remoteUfrag
        pwd = transport.remotePwd
        fingerprint = try DTLSFingerprint(sdpValue: "\(transport.remoteFingerprint.hashFunction) \(transport.remoteFingerprint.value)")
        role = transport.localSetup == .active ? .client : .server
    }
}

/// The client a join hands to its connecting thread. @unchecked Sendable: the join awaits that
/// thread, so nothing else touches the client meanwhile.
private struct Handoff: @unchecked Sendable {
    let client: PeerClient
    let remote: RemoteTransport
}

enum Negotiation {
    static let opus = NegotiatedCodec(payloadType: 111, name: "opus", clockRate: 48000, channels: 2,
                                      fmtp: "minptime=10;useinbandfec=1")
    static let vp8 = NegotiatedCodec(payloadType: 96, name: "VP8", clockRate: 90000,
                                     feedback: [.nack, .nackPli, .ccmFir, .googRemb])

    /// Our side of the transport: a full (not lite) agent, so ICE-lite servers get checks.
    static func local(_ client: PeerClient, setup: SetupRole) -> LocalTransport {
        let candidate = Candidate(foundation: "1", component: 1, transport: "udp", priority: 2_130_706_431,
                                  address: "127.0.0.1", port: client.socket.localPort, type: .host)
        return LocalTransport(ufrag: client.credentials.ufrag, pwd: client.credentials.pwd,
                              fingerprint: Fingerprint(hashFunction: "sha-256", value: client.certificate.fingerprint.hex),
                              setup: setup, candidates: [candidate], iceLite: false)
    }

    /// ICE checks and the DTLS handshake. They block (they poll the peer's socket), so they run on
    /// a thread of their own: on the few threads of Swift's cooperative pool, concurrent joins would
    /// wait for each other and starve the HTTP side.
    static func connect(_ client: PeerClient, _ remote: RemoteTransport) async throws {
        let work = Handoff(client: client, remote: remote)
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            LoadTool.spawn {
                let client = work.client, remote = work.remote
                do {
                    client.server = remote.address
                    try client.checkConnectivity(serverUfrag: remote.ufrag, serverPwd: remote.pwd, attempts: 300)
                    // Generous: on a small machine the load itself slows the handshakes of the last peers.
                    try client.handshake(serverFingerprint: remote.fingerprint, role: remote.role, timeout: 30)
                    done.resume()
                } catch {
                    done.resume(throwing: error)
                }
            }
        }
    }
}

/// A publisher: joins, offers sendonly Opus + VP8, connects, then sends paced media.
final class Publisher: @unchecked Sendable {
    // @unchecked Sendable: after `join`, only the media thread touches `client`.
    let client: PeerClient
    let audioSSRC = UInt32.random(in: 1...UInt32.max)
    let videoSSRC = UInt32.random(in: 1...UInt32.max)
    var feedID: UInt64 = 0
    var remote: RemoteTransport?

    /// Video packets per second (113 ≈ 1 Mbit/s of 1100-byte packets); 0 sends audio only.
    let videoPacketsPerSecond: Int

    init(videoPacketsPerSecond: Int = 113) throws {
        client = try PeerClient(server: TransportAddress(ip: "127.0.0.1", port: 9)!)
        self.videoPacketsPerSecond = videoPacketsPerSecond
    }

    func join(_ session: JanusSession, room: UInt64, index: Int) async throws {
        let handle = try await session.attach("janus.plugin.videoroom")
        let joined = try await session.message(handle, ["request": "join", "ptype": "publisher", "room": room,
                                                        "display": "load-pub-\(index)"])
        guard let data = (joined["plugindata"] as? JSONObject)?["data"] as? JSONObject,
              let id = (data["id"] as? NSNumber)?.uint64Value else { throw SignallingError("join failed: \(joined)") }
        feedID = id
        let streams = [
            OfferStream(mid: "0", kind: .audio, codec: Negotiation.opus,
                        stream: LocalStream(ssrc: audioSSRC, cname: "load", streamID: "load", trackID: "a")),
            OfferStream(mid: "1", kind: .video, codec: Negotiation.vp8,
                        stream: LocalStream(ssrc: videoSSRC, cname: "load", streamID: "load", trackID: "v")),
        ]
        let offer = try Offerer.offer(streams: streams, local: Negotiation.local(client, setup: .actpass),
                                      sessionID: UInt64.random(in: 1..<(1 << 53)), version: 1)
        let event = try await session.message(handle, ["request": "publish", "audio": true, "video": true],
                                              jsep: ["type": "offer", "sdp": offer.serialized()])
        guard let jsep = event["jsep"] as? JSONObject, let sdp = jsep["sdp"] as? String else {
            throw SignallingError("publish: no answer: \(event)")
        }
        let answer = try SessionDescription.parse(sdp)
        let negotiated = try Offerer.applyAnswer(answer: answer, offer: offer)
        guard let transport = negotiated.first?.transport else { throw SignallingError("publish: nothing accepted") }
        let remote = try RemoteTransport(description: answer, transport: transport)
        try await Negotiation.connect(client, remote)
        self.remote = remote
    }

    /// VP8-shaped video (by default ~1 Mbit/s: 113 packets/s, keyframe every 2 s) and 50 Opus packets/s,
    /// each carrying its send time (monotonic ns) in its last 8 bytes.
    func run(until stop: @escaping @Sendable () -> Bool) {
        guard let remote, let srtp = client.outbound else { return }
        let batch = ReceiveBatch(capacity: 16)
        var buffer = [UInt8](repeating: 0, count: datagramSlotSize)
        var videoSequence: UInt16 = 0, audioSequence: UInt16 = 0, packetIndex = 0
        var nextVideo = MonotonicClock.nanoseconds(), nextAudio = nextVideo, nextCheck = nextVideo
        var keyframeRequested = false
        while !stop() {
            let now = MonotonicClock.nanoseconds()
            if videoPacketsPerSecond > 0, now >= nextVideo {
                let frameStart = packetIndex % 4 == 0
                // A keyframe every 2 s, and at the next frame after a PLI/FIR, as browsers do.
                let keyframe = frameStart && (packetIndex % (videoPacketsPerSecond * 2) == 0 || keyframeRequested)
                if keyframe { keyframeRequested = false }
                send(&buffer, srtp, pt: 96, sequence: videoSequence, timestamp: UInt32(truncatingIfNeeded: packetIndex / 4 * 3000),
                     ssrc: videoSSRC, marker: packetIndex % 4 == 3, payload: 1100,
                     prefix: frameStart ? (keyframe ? [0x10, 0x50, 0x2E, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01] : [0x10, 0x31])
                                        : [0x00])
                videoSequence &+= 1
                packetIndex += 1
                nextVideo += 1_000_000_000 / UInt64(videoPacketsPerSecond)
            }
            if now >= nextAudio {
                send(&buffer, srtp, pt: 111, sequence: audioSequence, timestamp: UInt32(truncatingIfNeeded: Int(audioSequence) * 960),
                     ssrc: audioSSRC, marker: false, payload: 100, prefix: [])
                audioSequence &+= 1
                nextAudio += 20_000_000
            }
            if now >= nextCheck {
                client.sendConsentCheck(serverUfrag: remote.ufrag, serverPwd: remote.pwd)
                nextCheck += 5_000_000_000
            }
            // Answer the server's checks; honour its keyframe requests; drop other feedback.
            if client.wait(milliseconds: 1) {
                while client.socket.receive(into: batch) > 0 {
                    for i in 0..<batch.count {
                        let slot = batch.slot(i)
                        if slot[0] <= 3 {
                            client.answerCheck(UnsafeRawBufferPointer(rebasing: slot[0..<batch.length(i)]), from: batch.source(i))
                        } else if slot[0] >= 128, (192...223).contains(slot[1]),
                                  let length = try? client.inbound?.unprotectRTCP(slot, length: batch.length(i)) {
                            keyframeRequested = keyframeRequested || Self.asksForKeyframe(UnsafeRawBufferPointer(rebasing: slot[0..<length]))
                        }
                    }
                }
            }
        }
    }

    /// PLI (PSFB FMT 1) or FIR (PSFB FMT 4) anywhere in the compound.
    static func asksForKeyframe(_ compound: UnsafeRawBufferPointer) -> Bool {
        var iterator = RTCPCompoundIterator(compound)
        while let packet = iterator.next() {
            if packet.packetType == RTCPPacketType.payloadFeedback,
               packet.format == RTCPFeedbackFormat.pli || packet.format == RTCPFeedbackFormat.fir { return true }
        }
        return false
    }

    private func send(_ buffer: inout [UInt8], _ srtp: SRTPSession, pt: UInt8, sequence: UInt16, timestamp: UInt32,
                      ssrc: UInt32, marker: Bool, payload: Int, prefix: [UInt8]) {
        let socket = client.socket, server = client.server
        buffer.withUnsafeMutableBytes { slot in
            var length = PeerClient.writeRTP(slot, payloadType: pt, sequence: sequence, timestamp: timestamp, ssrc: ssrc,
                                             payloadBytes: payload)
            if marker { slot[1] |= 0x80 }
            for (i, byte) in prefix.enumerated() { slot[12 + i] = byte }
            let sent = MonotonicClock.nanoseconds()
            for i in 0..<8 { slot[length - 8 + i] = UInt8(truncatingIfNeeded: sent >> (56 - 8 * UInt64(i))) }
            guard let protected = try? srtp.protect(rtp: slot, length: length) else { return }
            length = protected
            _ = socket.send(UnsafeRawBufferPointer(rebasing: slot[0..<length]), to: server)
        }
    }
}

/// A subscriber to one publisher: answers the server's offer recvonly, connects, counts.
final class Subscriber: @unchecked Sendable {
    // @unchecked Sendable: after `join`, only the media thread touches `client`.
    let client: PeerClient
    let counters = ReceptionCounters()
    var remote: RemoteTransport?

    init() throws {
        client = try PeerClient(server: TransportAddress(ip: "127.0.0.1", port: 9)!)
    }

    func join(_ session: JanusSession, room: UInt64, feeds: [UInt64]) async throws {
        let handle = try await session.attach("janus.plugin.videoroom")
        let attached = try await session.message(handle, ["request": "join", "ptype": "subscriber", "room": room,
                                                          "streams": feeds.map { ["feed": $0] }])
        guard let jsep = attached["jsep"] as? JSONObject, let sdp = jsep["sdp"] as? String else {
            throw SignallingError("subscribe: no offer: \(attached)")
        }
        let offer = try SessionDescription.parse(sdp)
        // A full-ICE server's offer makes it the controlling agent; against ICE-lite we control.
        client.controlling = offer.iceLite
        let (answer, media) = try Answerer.answer(offer: offer, local: Negotiation.local(client, setup: .active),
                                                  direction: { _ in .recvonly }, localStreams: { _ in nil },
                                                  sessionID: UInt64.random(in: 1..<(1 << 53)))
        guard let transport = media.first?.transport else { throw SignallingError("subscribe: nothing to receive") }
        let remote = try RemoteTransport(description: offer, transport: transport)
        _ = try await session.message(handle, ["request": "start"], jsep: ["type": "answer", "sdp": answer.serialized()])
        try await Negotiation.connect(client, remote)
        self.remote = remote
    }

    // Reception state, touched only by the ReceiverThread that owns this subscriber.
    /// Per received SSRC (two or a few): a linear search costs less than hashing per packet.
    private var statistics: [ReceiverStatistics] = []
    private var nextReport: UInt64 = 0
    private var nextCheck: UInt64 = 0

    /// Sends receiver reports every second and consent checks every 5 s; called often by the
    /// owning ReceiverThread.
    func tick(now: UInt64) {
        guard let remote else { return }
        if now >= nextCheck {
            client.sendConsentCheck(serverUfrag: remote.ufrag, serverPwd: remote.pwd)
            nextCheck = now + 5_000_000_000
        }
        if now >= nextReport {
            if nextReport != 0 { sendReport(now: now) }
            nextReport = now + 1_000_000_000
        }
    }

    /// Reads everything waiting on the socket: counts packets per SSRC (loss from sequence
    /// gaps), measures latency from the send time in the payload, answers the server's checks.
    func drain(_ batch: ReceiveBatch) {
        guard let srtp = client.inbound else { return }
        defer { commitCounts() }
        while true {
            let received = client.socket.receive(into: batch)
            guard received > 0 else { return }
            for i in 0..<received {
                let slot = batch.slot(i)
                let length = batch.length(i)
                if slot[0] <= 3 {
                    client.answerCheck(UnsafeRawBufferPointer(rebasing: slot[0..<length]), from: batch.source(i))
                    continue
                }
                guard slot[0] >= 128, !(192...223).contains(slot[1]),
                      let header = RTPHeaderView(UnsafeMutableRawBufferPointer(rebasing: slot[0..<length])) else { continue }
                let arrived = MonotonicClock.nanoseconds()
                count(header, arrived: arrived)
                // The RTP header travels in the clear, so loss is counted from every packet; the
                // send time is in the encrypted payload, so one packet in `latencySampling` is
                // decrypted for it. This keeps the load tool's CPU (same machine) small.
                sampleCountdown -= 1
                if sampleCountdown <= 0, let plain = try? srtp.unprotect(rtp: slot, length: length),
                   let clear = RTPHeaderView(UnsafeMutableRawBufferPointer(rebasing: slot[0..<plain])),
                   clear.payloadLength >= 8 {
                    sampleCountdown = Self.latencySampling
                    recordLatency(clear, slot: slot, arrived: arrived)
                }
            }
            // A short batch emptied the socket (level-triggered epoll reports what comes later):
            // asking again would only cost a system call that says EAGAIN.
            if received < batch.capacity { return }
        }
    }

    static let latencySampling = 8
    private var sampleCountdown = 0

    private func recordLatency(_ header: RTPHeaderView, slot: UnsafeMutableRawBufferPointer, arrived: UInt64) {
        var sent: UInt64 = 0
        let end = header.payloadOffset + header.payloadLength
        for j in (end - 8)..<end { sent = sent << 8 | UInt64(slot[j]) }
        guard sent > 0, arrived > sent else { return }
        counters.lock.withLock { counters.latenciesMicros.append(UInt32(clamping: (arrived - sent) / 1000)) }
    }

    private func count(_ header: RTPHeaderView, arrived: UInt64) {
        let ssrc = header.ssrc
        let index = statistics.firstIndex { $0.ssrc == ssrc } ?? {
            statistics.append(ReceiverStatistics(ssrc: ssrc, clockRate: header.payloadType == 111 ? 48000 : 90000))
            return statistics.count - 1
        }()
        let expectedBefore = statistics[index].expectedPackets
        _ = statistics[index].record(header, arrivalNanoseconds: arrived)
        // A source restart (e.g. a sequence jump) resets the count: treat it as one packet.
        let grown = Int(truncatingIfNeeded: statistics[index].expectedPackets &- expectedBefore)
        let newlyExpected = (0...10_000).contains(grown) ? grown : 1
        pending.received += 1
        pending.expected += newlyExpected
        let stream = UInt64(ssrc) << 8 | UInt64(header.payloadType)
        if let known = pending.perStream.firstIndex(where: { $0.stream == stream }) {
            pending.perStream[known].packets += 1
        } else {
            pending.perStream.append((stream, 1))
        }
    }

    /// Counts since the last commit: published to `counters` once per drain, not per packet (the
    /// load tool shares the machine with the server it measures).
    private var pending = (received: 0, expected: 0, perStream: [(stream: UInt64, packets: Int)]())

    private func commitCounts() {
        guard pending.received > 0 else { return }
        counters.lock.withLock {
            counters.received += pending.received
            counters.expected += pending.expected
            for (stream, packets) in pending.perStream { counters.perStream[stream, default: 0] += packets }
        }
        pending.received = 0
        pending.expected = 0
        pending.perStream.removeAll(keepingCapacity: true)
    }

    private func sendReport(now: UInt64) {
        var blocks: [RTCPReportBlock] = []
        for index in statistics.indices {
            if let block = statistics[index].makeReportBlock(nowNanoseconds: now) { blocks.append(block) }
        }
        guard !blocks.isEmpty else { return }
        var out = [UInt8](repeating: 0, count: 64 + blocks.count * RTCPReportBlock.length)
        let length = out.withUnsafeMutableBytes {
            RTCPWriter.writeReceiverReport(RTCPReceiverReport(ssrc: 0x10AD, reportBlocks: blocks), cname: Array("load".utf8), into: $0)
        }
        if let length { try? client.sendRTCP(Array(out.prefix(length))) }
    }
}
