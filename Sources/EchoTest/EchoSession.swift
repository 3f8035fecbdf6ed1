// One echotest handle: its settings (read per packet, so atomics) and its WebRTC session.

import JanusAPI
import JanusMedia
import Logging
import Media
import Net
import RTP
import SDP
import Synchronization

final class EchoSession: Sendable {
    let handle: PluginHandle
    let webrtc: WebRTCSession
    let media: EchoMedia

    init(handle: PluginHandle, engine: MediaEngine) {
        self.handle = handle
        media = EchoMedia(handle: handle, shards: engine.readerCount)
        webrtc = WebRTCSession(handle: handle, engine: engine, sink: media)
    }

    /// Applies a request; returns the event data and the answer jsep, if any.
    func apply(_ request: EchoRequest, jsep: JSON?, logger: Logger) -> (JSON, JSON?) {
        let videoWasOn = media.videoOn
        media.apply(request)
        var answer: JSON?
        if let jsep {
            do {
                answer = try webrtc.answer(offer: jsep, codecs: Self.codecs(request)) { $0.direction ?? .sendrecv }
                if let connection = webrtc.connection { media.negotiated(connection.streams) }
            } catch {
                logger.info("echotest: \(handle): offer refused: \(error.reason)")
                return (EchoError(code: 414, reason: error.reason).eventData, nil)
            }
        }
        // Janus asks for a keyframe when video is switched back on (the echo resumes cleanly),
        // and announces a new cap (or "no cap": 10 Mbit/s) with an immediate REMB.
        let keyframe = request.keyframe || (request.video == true && !videoWasOn)
        if keyframe || request.bitrate != nil, let connection = webrtc.connection {
            media.sendFeedback(connection, keyframe: keyframe, remb: request.bitrate.map { $0 == 0 ? 10_000_000 : $0 },
                               context: nil)
        }
        return (["echotest": "event", "result": "ok"], answer)
    }

    /// Janus lets a request force a codec for a new PeerConnection.
    static func codecs(_ request: EchoRequest) -> CodecPreferences {
        var codecs = CodecPreferences()
        if let audio = request.audioCodec { codecs.audio = [audio] + codecs.audio.filter { $0.lowercased() != audio.lowercased() } }
        if let video = request.videoCodec { codecs.video = [video] + codecs.video.filter { $0.lowercased() != video.lowercased() } }
        return codecs
    }
}

/// The echo's settings (read per packet, hence atomics) and its media callbacks.
///
/// Losses are repaired on each leg separately, as Janus's core does for every plugin: gaps in
/// what the browser sends are NACKed upstream (its RTX repairs restored and echoed as the packets
/// they carry), and the browser's NACKs about the echo are answered from what Confab sent it.
/// Relaying the browser's NACKs back to it instead would make it repair both legs itself.
final class EchoMedia: MediaSink, Sendable {
    let handle: PluginHandle
    private let audioEnabled = Atomic<Bool>(true)
    private let videoEnabled = Atomic<Bool>(true)
    /// Cap in bits per second, 0 = none.
    private let bitrateCap = Atomic<UInt32>(0)
    /// Simulcast layer echoed back (clamped to what the browser sends); highest by default.
    private let substream = Atomic<Int>(2)
    private let keyframeRequests = Atomic<Int>(0)
    /// Gaps in what the browser sends, on the streams that negotiated NACK.
    private let upstreamLosses = InboundLossRecovery()
    /// What was echoed on each stream (by position), to answer the browser's NACKs; kept across
    /// renegotiations for the positions that stay. Read per packet without a lock.
    private let retransmissions: ShardSnapshot<[OutboundRetransmission]>

    static let done: JSON = ["echotest": "event", "result": "done"]

    /// `shards`: how many reader threads the media engine has.
    init(handle: PluginHandle, shards: Int) {
        self.handle = handle
        retransmissions = ShardSnapshot([], shards: shards)
    }

    var videoOn: Bool { videoEnabled.load(ordering: .relaxed) }

    func apply(_ request: EchoRequest) {
        if let audio = request.audio { audioEnabled.store(audio, ordering: .relaxed) }
        if let video = request.video { videoEnabled.store(video, ordering: .relaxed) }
        if let bitrate = request.bitrate { bitrateCap.store(bitrate, ordering: .relaxed) }
        if let layer = request.substream { substream.store(max(0, min(2, layer)), ordering: .relaxed) }
    }

    /// A negotiation completed: which streams to follow for gaps, and each stream's RTX.
    func negotiated(_ streams: [MediaStream]) {
        upstreamLosses.follow(streamCount: streams.count, positions: streams.indices.lazy
            .filter { streams[$0].receives && streams[$0].feedback.contains(.nack) })
        let table = retransmissions.update { table -> [OutboundRetransmission] in
            while table.count < streams.count { table.append(OutboundRetransmission()) }
            table.removeLast(table.count - streams.count)
            return table
        }
        for (repair, stream) in zip(table, streams) { repair.negotiated(stream) }
    }

    var summary: JSON {
        [
            "audio_active": .bool(audioEnabled.load(ordering: .relaxed)),
            "video_active": .bool(videoEnabled.load(ordering: .relaxed)),
            "bitrate": .int(Int64(bitrateCap.load(ordering: .relaxed))),
            "substream": .int(Int64(substream.load(ordering: .relaxed))),
            "keyframe_requests": .int(Int64(keyframeRequests.load(ordering: .relaxed))),
        ]
    }

    // MARK: - MediaSink (reader threads)

    func session(_ session: WebRTCSession, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                 route: InboundRoute, on connection: PeerConnection, context: MediaSendContext) {
        guard let packet = upstreamLosses.received(packet, route: route, connection: { connection },
                                                   context: context) else { return }
        let enabled = route.isVideo ? videoEnabled.load(ordering: .relaxed) : audioEnabled.load(ordering: .relaxed)
        guard enabled, route.layer == echoedLayer(route) else { return }
        let table = retransmissions.read(on: context.shardIndex)
        let repair = table.indices.contains(route.stream) ? table[route.stream] : nil
        let now = MonotonicClock.nanoseconds()
        // Echoed as media even when it came as RTX: the loss recovery restored it to the packet it repairs.
        connection.sendRTP(UnsafeRawBufferPointer(packet), stream: route.stream, context: context) { header in
            // The packet as the browser gets it.
            repair?.keep(UnsafeRawBufferPointer(header.buffer), now: now)
        }
    }

    func session(_ session: WebRTCSession, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                 context: MediaSendContext) {
        guard let connection = session.connection else { return }
        answerNACKs(UnsafeRawBufferPointer(compound), connection: connection, context: context)
        let kept = EchoRTCP.removeFeedbackAnsweredHere(compound)
        guard kept > 0 else { return }
        let compound = UnsafeMutableRawBufferPointer(rebasing: compound[0..<kept])
        let swap = ssrcSwap(connection)
        // What the browser reports about the echo (our SSRCs) is about its own streams, and
        // its sender reports describe what it will receive back: swap every SSRC both ways.
        guard RTCPSSRCRewriter.rewrite(compound, senderSSRC: nil, map: { swap[$0] }) else { return }
        EchoRTCP.remapSenders(compound) { swap[$0] }
        let cap = bitrateCap.load(ordering: .relaxed)
        if cap > 0 { EchoRTCP.setREMB(compound, to: cap) }
        connection.sendRTCP(UnsafeRawBufferPointer(compound), context: context)
    }

    func sessionDidConnect(_ session: WebRTCSession) {}

    func session(_ session: WebRTCSession, didHangUpWithReason reason: String) {
        // A new PeerConnection starts afresh: nothing of this one's packets is to be repaired.
        upstreamLosses.stop()
        retransmissions.update { $0 = [] }
        handle.pushEvent(transaction: nil, data: Self.done)
    }

    // MARK: - Helpers

    /// The browser's generic NACKs about the echo, answered from what each stream sent (RTX when
    /// negotiated, else the packets themselves).
    private func answerNACKs(_ compound: UnsafeRawBufferPointer, connection: PeerConnection,
                             context: MediaSendContext) {
        var iterator = RTCPCompoundIterator(compound)
        while let packet = iterator.next() {
            guard packet.packetType == RTCPPacketType.transportFeedback, packet.format == RTCPFeedbackFormat.nack,
                  packet.bytes.count >= 12 else { continue }
            let b = packet.bytes
            let mediaSSRC = UInt32(b[8]) << 24 | UInt32(b[9]) << 16 | UInt32(b[10]) << 8 | UInt32(b[11])
            guard let position = connection.streams.firstIndex(where: { $0.localSSRC == mediaSSRC }),
                  case let table = retransmissions.read(on: context.shardIndex),
                  let repair = table.indices.contains(position) ? table[position] : nil
            else { continue }
            repair.answer(packet, on: connection, stream: position, context: context)
        }
    }

    private func echoedLayer(_ route: InboundRoute) -> Int {
        min(substream.load(ordering: .relaxed), route.layerCount - 1)
    }

    /// Browser SSRC ↔ Confab SSRC for every stream echoed back (the echoed simulcast layer only).
    private func ssrcSwap(_ connection: PeerConnection) -> [UInt32: UInt32] {
        let streams = connection.streams
        var swap: [UInt32: UInt32] = [:]
        for (ssrc, route) in connection.inboundSources where route.layer == echoedLayer(route) {
            guard streams.indices.contains(route.stream) else { continue }
            let stream = streams[route.stream]
            guard let local = route.isRTX ? stream.localRTXSSRC : stream.localSSRC else { continue }
            swap[ssrc] = local
            swap[local] = ssrc
        }
        return swap
    }

    /// PLI toward the browser's video streams, and a REMB of `remb` bits per second.
    func sendFeedback(_ connection: PeerConnection, keyframe: Bool, remb: UInt32?, context: MediaSendContext?) {
        let streams = connection.streams
        let sources = connection.inboundSources.filter { !$0.route.isRTX && $0.route.isVideo }
        var buffer = [UInt8](repeating: 0, count: 512)
        let length = buffer.withUnsafeMutableBytes { out -> Int in
            var used = 0
            let sender = streams.first?.localSSRC ?? 1
            if keyframe {
                for source in sources {
                    let slice = UnsafeMutableRawBufferPointer(rebasing: out[used...])
                    used += RTCPWriter.writePictureLossIndication(senderSSRC: sender, mediaSSRC: source.ssrc, into: slice) ?? 0
                }
            }
            if let remb, !sources.isEmpty {
                let slice = UnsafeMutableRawBufferPointer(rebasing: out[used...])
                used += RTCPWriter.writeReceiverEstimatedBitrate(
                    senderSSRC: sender, bitrate: UInt64(remb), ssrcs: sources.map(\.ssrc), into: slice) ?? 0
            }
            return used
        }
        if keyframe { keyframeRequests.add(1, ordering: .relaxed) }
        guard length > 0 else { return }
        buffer.withUnsafeBytes { connection.sendRTCP(UnsafeRawBufferPointer(rebasing: $0[0..<length]), context: context) }
    }
}
