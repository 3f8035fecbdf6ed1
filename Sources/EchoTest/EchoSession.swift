// One echotest handle: its settings (read per packet, so atomics) and its WebRTC session.

import JanusAPI
import JanusMedia
import Logging
import Media
import RTP
import SDP
import Synchronization

final class EchoSession: Sendable {
    let handle: PluginHandle
    let webrtc: WebRTCSession
    let media: EchoMedia

    init(handle: PluginHandle, engine: MediaEngine) {
        self.handle = handle
        media = EchoMedia(handle: handle)
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
final class EchoMedia: MediaSink, Sendable {
    let handle: PluginHandle
    private let audioEnabled = Atomic<Bool>(true)
    private let videoEnabled = Atomic<Bool>(true)
    /// Cap in bits per second, 0 = none.
    private let bitrateCap = Atomic<UInt32>(0)
    /// Simulcast layer echoed back (clamped to what the browser sends); highest by default.
    private let substream = Atomic<Int>(2)
    private let keyframeRequests = Atomic<Int>(0)


    static let done: JSON = ["echotest": "event", "result": "done"]

    init(handle: PluginHandle) {
        self.handle = handle
    }

    var videoOn: Bool { videoEnabled.load(ordering: .relaxed) }

    func apply(_ request: EchoRequest) {
        if let audio = request.audio { audioEnabled.store(audio, ordering: .relaxed) }
        if let video = request.video { videoEnabled.store(video, ordering: .relaxed) }
        if let bitrate = request.bitrate { bitrateCap.store(bitrate, ordering: .relaxed) }
        if let layer = request.substream { substream.store(max(0, min(2, layer)), ordering: .relaxed) }
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
                 route: InboundRoute, context: MediaSendContext) {
        let enabled = route.isVideo ? videoEnabled.load(ordering: .relaxed) : audioEnabled.load(ordering: .relaxed)
        guard enabled, route.layer == echoedLayer(route), let connection = session.connection else { return }
        connection.sendRTP(UnsafeRawBufferPointer(packet), stream: route.stream, rtx: route.isRTX, context: context)
    }

    func session(_ session: WebRTCSession, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                 context: MediaSendContext) {
        guard let connection = session.connection else { return }
        let kept = EchoRTCP.removeTransportFeedback(compound)
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
        handle.pushEvent(transaction: nil, data: Self.done)
    }

    // MARK: - Helpers

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
