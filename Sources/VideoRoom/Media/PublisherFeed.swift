// A publisher's media (mediasoup's producer): its PeerConnection, the streams it publishes and
// the subscriber streams each one fans out to. The fan-out list is an immutable snapshot
// swapped on subscribe/unsubscribe, so the forwarding path takes a lock only to copy one
// reference per packet.

import JanusAPI
import JanusMedia
import Media
import Net
import RTP
import SDP
import Synchronization

/// One stream a publisher negotiated, as the room describes it (`publishers`, `configured`).
struct PublishedStream: Sendable {
    /// Position in the publisher's PeerConnection streams (what `InboundRoute.stream` says).
    let position: Int
    let media: NegotiatedMedia
    var description: String?

    var kind: MediaKind { media.kind }
    var codecName: String { media.codec.name.lowercased() }
    var isSimulcast: Bool { media.simulcastRIDs.count > 1 || media.remoteSimulcastSSRCs.count > 1 }

    /// One entry of `streams` in `configured` and in the `publishers` lists (Janus 1.1.2 order).
    var json: JSON {
        var entry: [String: JSON] = [
            "type": .string(kind.rawValue), "mindex": JSON(media.mLineIndex), "mid": .string(media.mid),
            "codec": .string(codecName),
        ]
        if let description { entry["description"] = .string(description) }
        if isSimulcast { entry["simulcast"] = true }
        return .object(entry)
    }
}

/// One `rtp_forward` target: a published stream's packets as plain RTP to a UDP address
/// (recording and streaming pipelines: GStreamer, FFmpeg, Janus's own tools).
struct RTPForwarder: Sendable {
    let id: UInt32
    /// The published stream's position (what `InboundRoute.stream` says).
    let position: Int
    let kind: MediaKind
    let host: String
    let destination: TransportAddress
    let ssrc: UInt32
    /// The simulcast layer forwarded (`port` 0, `port_2` 1, `port_3` 2; Janus's "substream").
    var layer = 0
    /// `simulcast: true`: the best layer instead of one fixed layer, renumbered as one stream.
    var simulcast: SimulcastForward? = nil
    /// Whether `ssrc` was asked for (Janus lists it only then).
    var ssrcRequested = false
    /// `pt`: the payload type the copies carry instead of the publisher's (as asked, shown as asked).
    var payloadType: UInt64? = nil
    /// `srtp_suite` + `srtp_crypto`: the copies go out SRTP-protected.
    var srtp: ForwardingSRTP? = nil
    /// `rtcp_port`: where the recipient's RTCP comes back (PLI/FIR ask the publisher for a keyframe).
    var feedback: ForwarderFeedback? = nil

    /// One entry of `forwarders` (rtp_forward, listforwarders), Janus 1.1.2's shape.
    var json: JSON {
        var entry: [String: JSON] = [
            "stream_id": JSON(UInt64(id)), "type": .string(kind.rawValue), "host": .string(host),
            "port": JSON(Int(destination.port)),
        ]
        if let feedback {
            entry["local_rtcp_port"] = JSON(Int(feedback.localPort))
            entry["remote_rtcp_port"] = JSON(Int(feedback.remote.port))
        }
        if let payloadType { entry["pt"] = JSON(payloadType) }
        if layer > 0 { entry["substream"] = JSON(layer) }
        if ssrcRequested { entry["ssrc"] = JSON(UInt64(ssrc)) }
        if srtp != nil { entry["srtp"] = true }
        return .object(entry)
    }
}

/// Whether one published stream is relayed to its subscribers (`configure` with `send`, or the
/// older `audio` / `video` booleans). Flipped on the control path, read once per packet.
final class RelaySwitch: Sendable {
    let isOn = Atomic<Bool>(true)
}

/// Who receives each published stream, by stream position, and whether it is relayed at all.
/// Immutable: replaced, never changed (the switches themselves are shared by every snapshot).
final class FanOut: Sendable {
    let targets: [[SubscriberStream]]
    /// The same subscriber streams by stream position, grouped by the shard (reader thread) that
    /// owns their PeerConnection: a packet goes to each other shard once, not once per subscriber.
    let groups: [[ShardGroup]]
    let switches: [RelaySwitch]

    init(targets: [[SubscriberStream]], switches: [RelaySwitch]) {
        self.targets = targets
        self.switches = switches
        groups = targets.map { streams in
            var byShard: [Int: [SubscriberStream]] = [:]
            for stream in streams { byShard[stream.shardIndex, default: []].append(stream) }
            return byShard.keys.sorted().map { ShardGroup(shard: $0, streams: byShard[$0]!) }
        }
    }

    static let empty = FanOut(targets: [], switches: [])
}

/// The subscriber streams of one published stream that one shard owns. On that shard a packet is
/// forwarded to them directly; from any other, it is handed over to that shard first, so each
/// subscriber's rewriting, retransmission buffer and SRTP run on its own connection's thread.
final class ShardGroup: HandedOverPacketHandler, Sendable {
    let shard: Int
    let streams: [SubscriberStream]

    init(shard: Int, streams: [SubscriberStream]) {
        self.shard = shard
        self.streams = streams
    }

    func forward(_ packet: UnsafeRawBufferPointer, route: InboundRoute, context: MediaSendContext) {
        if context.shardIndex == shard {
            for stream in streams { stream.forward(packet, route: route, context: context) }
        } else {
            context.handOver(packet, route: route, toShard: shard, handler: self)
        }
    }

    func handle(handedOver packet: UnsafeMutableRawBufferPointer, length: Int, route: InboundRoute,
                context: MediaSendContext) {
        let packet = UnsafeRawBufferPointer(rebasing: packet[0..<length])
        for stream in streams { stream.forward(packet, route: route, context: context) }
    }
}

final class PublisherFeed: MediaSink, Sendable {
    let participantID: UInt64
    let roomID: UInt64
    let handle: PluginHandle
    /// Set right after init (the session needs the feed as its sink).
    private let session = Mutex<WebRTCSession?>(nil)
    private let published = Mutex<[PublishedStream]>([])
    /// Read by the publisher's reader thread once per packet, without a lock.
    private let fanOut: ShardSnapshot<FanOut>
    /// Monotonic nanoseconds of the last keyframe request per stream position.
    private let lastKeyframeRequest = Mutex<[UInt64]>([])
    private let lastREMB = Atomic<UInt64>(0)
    /// The REMB cap in bits per second (0: none).
    let bitrate: Atomic<UInt32>
    /// Called on the control path when the PeerConnection comes up or goes away.
    private let events: FeedEvents

    struct FeedEvents: Sendable {
        let connected: @Sendable (PublisherFeed) -> Void
        let hungUp: @Sendable (PublisherFeed, String) -> Void
        /// Talking started or stopped on an audio stream (rooms with `audiolevel_event`).
        let talking: @Sendable (PublisherFeed, PublishedStream, AudioLevelAverager.Event) -> Void
    }

    /// Talk detection on one audio stream from its RFC 6464 levels.
    struct TalkDetection: Sendable {
        let stream: PublishedStream
        let extensionID: UInt8
        var averager: AudioLevelAverager
    }
    /// Set up by the negotiation, run by the publisher connection's owning thread per audio packet.
    private let talk = OwnerConfined<TalkDetection?>(nil)
    /// rtp_forward targets; read once per packet, without a lock.
    private let forwarderTable: ShardSnapshot<[RTPForwarder]>
    /// The .mjr recorders while recording (see PublisherFeed+Recording.swift); read once per
    /// packet, without a lock.
    let recorders: ShardSnapshot<RecorderSet>
    /// Gaps in the publisher's video (streams that negotiated NACK), asked for with NACKs; RTX
    /// repairs restored. Set up when the publisher negotiates.
    private let upstreamLosses = InboundLossRecovery()

    /// At most one keyframe request per stream this often (subscribers' PLIs are merged).
    static let keyframeInterval: UInt64 = 500_000_000
    static let rembInterval: UInt64 = 1_000_000_000

    init(participantID: UInt64, roomID: UInt64, handle: PluginHandle, bitrate: UInt32, engine: MediaEngine,
         events: FeedEvents) {
        self.participantID = participantID
        self.roomID = roomID
        self.handle = handle
        self.bitrate = Atomic(bitrate)
        self.events = events
        fanOut = ShardSnapshot(.empty, shards: engine.readerCount)
        forwarderTable = ShardSnapshot([], shards: engine.readerCount)
        recorders = ShardSnapshot(.none, shards: engine.readerCount)
        session.withLock { $0 = WebRTCSession(handle: handle, engine: engine, sink: self) }
    }

    var webrtc: WebRTCSession { session.withLock { $0! } }
    var streams: [PublishedStream] { published.withLock { $0 } }
    var isPublishing: Bool { !streams.isEmpty }

    /// Records what the negotiation accepted (`descriptions` name streams by mid); `talkDetection`
    /// (threshold, packets per window) when the room reports who is talking.
    func setPublished(_ media: [NegotiatedMedia], positions: [String: Int], descriptions: [String: String],
                      talkDetection: (threshold: Int, packets: Int)? = nil) {
        let streams = media.compactMap { item -> PublishedStream? in
            guard let position = positions[item.mid], item.localDirection.receives else { return nil }
            return PublishedStream(position: position, media: item, description: descriptions[item.mid])
        }
        let count = (positions.values.max() ?? -1) + 1
        published.withLock { $0 = streams }
        lastKeyframeRequest.withLock { $0 = Array(repeating: 0, count: count) }
        upstreamLosses.follow(streamCount: count, positions: streams.lazy
            .filter { $0.kind == .video && $0.media.codec.feedback.contains(.nack) }.map(\.position))
        changeFanOut { _ in }   // a relay switch for every position
        let audio = streams.first { $0.kind == .audio && $0.media.extensions.audioLevel != nil }
        if let talkDetection, let audio, let id = audio.media.extensions.audioLevel {
            talk.reset(to: TalkDetection(stream: audio, extensionID: id, averager: AudioLevelAverager(
                threshold: UInt8(clamping: talkDetection.threshold), packetsPerWindow: max(1, talkDetection.packets))))
        } else {
            talk.reset(to: nil)
        }
    }

    /// Stops publishing: nothing is forwarded any more; returns the subscriber streams that were fed.
    func unpublish() -> [SubscriberStream] {
        stopRecording()
        published.withLock { $0 = [] }
        upstreamLosses.stop()
        let forwards = forwarderTable.update { table in
            defer { table = [] }
            return table
        }
        for forwarder in forwards { forwarder.feedback?.stop() }
        let old = fanOut.update { fanOut -> FanOut in
            defer { fanOut = .empty }
            return fanOut
        }
        return old.targets.flatMap { $0 }
    }

    /// How many subscriber streams stream `position` feeds (Admin API).
    func subscriberCount(position: Int) -> Int {
        let table = fanOut.current
        return table.targets.indices.contains(position) ? table.targets[position].count : 0
    }

    // MARK: - RTP forwarders

    var forwarders: [RTPForwarder] { forwarderTable.current }

    func addForwarder(_ forwarder: RTPForwarder) {
        forwarderTable.update { $0.append(forwarder) }
    }

    /// Removes forwarder `id`; false when there is none.
    func removeForwarder(_ id: UInt32) -> Bool {
        let removed = forwarderTable.update { table -> RTPForwarder? in
            guard let index = table.firstIndex(where: { $0.id == id }) else { return nil }
            return table.remove(at: index)
        }
        removed?.feedback?.stop()
        return removed != nil
    }

    /// RTP copies for the stream's forwarders (simulcast: each its own layer, or the best one for
    /// `simulcast: true`; no RTX), with the forwarder's SSRC (and payload type, if it has one);
    /// SRTP-protected for SRTP forwarders.
    private func forwardPlain(_ packet: UnsafeRawBufferPointer, route: InboundRoute, context: MediaSendContext) {
        guard !route.isRTX else { return }
        let table = forwarderTable.read(on: context.shardIndex)
        for forwarder in table where forwarder.position == route.stream
            && (forwarder.simulcast != nil || forwarder.layer == route.layer) {
            // A constant, so the non-escaping edit closure below captures it without a box.
            let decision: SimulcastForward.Decision?
            if let simulcast = forwarder.simulcast {
                let verdict = simulcast.admit(packet, route: route, now: MonotonicClock.nanoseconds())
                switch verdict {
                case .drop: continue
                case .dropNeedingKeyframe:
                    requestKeyframe(position: route.stream, context: context)
                    continue
                case .send: decision = verdict
                }
            } else {
                decision = nil
            }
            let setSSRC = { (copy: UnsafeMutableRawBufferPointer) in
                if let decision { SimulcastForward.apply(decision, to: copy) }
                if let payloadType = forwarder.payloadType {
                    copy[1] = copy[1] & 0x80 | UInt8(truncatingIfNeeded: payloadType) & 0x7F
                }
                copy[8] = UInt8(truncatingIfNeeded: forwarder.ssrc >> 24)
                copy[9] = UInt8(truncatingIfNeeded: forwarder.ssrc >> 16)
                copy[10] = UInt8(truncatingIfNeeded: forwarder.ssrc >> 8)
                copy[11] = UInt8(truncatingIfNeeded: forwarder.ssrc)
            }
            if let srtp = forwarder.srtp {
                context.enqueueProtected(packet, to: forwarder.destination, srtp: srtp, edit: setSSRC)
            } else {
                context.enqueuePlain(packet, to: forwarder.destination, edit: setSSRC)
            }
        }
    }

    // MARK: - Subscribers (control path)

    func add(_ stream: SubscriberStream) {
        changeFanOut { targets in
            guard targets.indices.contains(stream.feedPosition),
                  !targets[stream.feedPosition].contains(where: { $0 === stream }) else { return }
            targets[stream.feedPosition].append(stream)
        }
    }

    /// Groups the subscriber streams by their connections' shards again (one of them moved).
    func regroup() {
        changeFanOut { _ in }
    }

    func remove(_ stream: SubscriberStream) {
        changeFanOut { targets in
            guard targets.indices.contains(stream.feedPosition) else { return }
            targets[stream.feedPosition].removeAll { $0 === stream }
        }
    }

    private func changeFanOut(_ change: (inout [[SubscriberStream]]) -> Void) {
        let count = lastKeyframeRequest.withLock { $0.count }
        fanOut.update { fanOut in
            var targets = fanOut.targets
            if targets.count < count { targets += Array(repeating: [], count: count - targets.count) }
            var switches = fanOut.switches
            while switches.count < count { switches.append(RelaySwitch()) }
            change(&targets)
            fanOut = FanOut(targets: targets, switches: switches)
        }
    }

    // MARK: - Relaying on and off (control path)

    /// Turns relaying of stream `position` to subscribers on or off (rtp_forward targets keep
    /// getting it). Turning a video stream back on asks the publisher for a keyframe, so
    /// subscribers can decode again at once. False when there is no such stream.
    @discardableResult
    func setRelaying(_ on: Bool, position: Int) -> Bool {
        let table = fanOut.current
        guard table.switches.indices.contains(position) else { return false }
        let relaySwitch = table.switches[position]
        guard on != relaySwitch.isOn.load(ordering: .acquiring) else { return true }
        if on {
            // Subscribers restart before the first packet passes, so the gap is not a loss.
            for target in table.targets[position] { target.restartSource() }
        }
        relaySwitch.isOn.store(on, ordering: .releasing)
        if on, streams.contains(where: { $0.position == position && $0.kind == .video }) {
            requestKeyframe(position: position, context: nil, force: true)
        }
        return true
    }

    /// Whether stream `position` is relayed to subscribers.
    func isRelaying(position: Int) -> Bool {
        let table = fanOut.current
        return !table.switches.indices.contains(position) || table.switches[position].isOn.load(ordering: .relaxed)
    }

    // MARK: - MediaSink (reader threads)

    func session(_ session: WebRTCSession, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                 route: InboundRoute, on connection: PeerConnection, context: MediaSendContext) {
        var received = packet
        var route = route
        if route.isVideo {
            // Losses between the publisher and Confab are asked for with NACKs; an RTX repair comes
            // back restored in place, RTX that repairs nothing is dropped.
            guard let repaired = upstreamLosses.received(received, route: route, connection: { connection },
                                                         context: context) else { return }
            received = repaired
            route.isRTX = false
        } else {
            detectTalking(received, route: route)
        }
        let packet = UnsafeRawBufferPointer(received)
        forwardPlain(packet, route: route, context: context)
        record(packet, route: route, shard: context.shardIndex)
        fanOut.withValue(on: context.shardIndex) { table in
            guard table.groups.indices.contains(route.stream),
                  table.switches[route.stream].isOn.load(ordering: .relaxed) else { return }
            for group in table.groups[route.stream] {
                group.forward(packet, route: route, context: context)
            }
        }
    }

    /// Feeds the packet's audio level to the talk detector; a change of state is reported (rare:
    /// at most once per window of packets).
    private func detectTalking(_ packet: UnsafeMutableRawBufferPointer, route: InboundRoute) {
        let change = talk.withValue { talk -> (PublishedStream, AudioLevelAverager.Event)? in
            guard var detection = talk, detection.stream.position == route.stream,
                  let level = RTPHeaderView(packet)?.audioLevel(id: detection.extensionID) else { return nil }
            let event = detection.averager.add(level)
            talk = detection
            return event.map { (detection.stream, $0) }
        }
        if let (stream, event) = change { events.talking(self, stream, event) }
    }

    func session(_ session: WebRTCSession, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                 context: MediaSendContext) {
        relaySenderReports(UnsafeRawBufferPointer(compound), session: session, context: context)
        // The publisher's reports arrive about once a second: the beat for the REMB cap.
        let now = MonotonicClock.nanoseconds()
        let last = lastREMB.load(ordering: .relaxed)
        guard now &- last >= Self.rembInterval,
              lastREMB.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else { return }
        sendREMB(context: context)
    }

    /// Each sender report goes on to the subscriber streams fed by its SSRC (about once a second
    /// per stream, so looking the SSRC up in the connection's table is affordable).
    private func relaySenderReports(_ compound: UnsafeRawBufferPointer, session: WebRTCSession,
                                    context: MediaSendContext) {
        var iterator = RTCPCompoundIterator(compound)
        while let packet = iterator.next() {
            guard packet.packetType == RTCPPacketType.senderReport, let report = RTCPSenderReport(packet),
                  let route = session.connection?.inboundSources.first(where: { $0.ssrc == report.ssrc })?.route,
                  !route.isRTX else { continue }
            let table = fanOut.read(on: context.shardIndex)
            guard table.targets.indices.contains(route.stream) else { continue }
            for target in table.targets[route.stream] {
                target.relaySenderReport(report, layer: route.layer, context: context)
            }
        }
    }

    func sessionDidConnect(_ session: WebRTCSession) {
        sendREMB(context: nil)
        events.connected(self)
    }

    func session(_ session: WebRTCSession, didHangUpWithReason reason: String) {
        events.hungUp(self, reason)
    }

    // MARK: - Feedback toward the publisher

    /// Asks the publisher for a keyframe on stream `position` (every simulcast layer), at most
    /// once per `keyframeInterval`. `context`: the caller's reader thread, nil off the media path.
    /// `force`: even if one was sent within the interval (a stream that comes back on).
    func requestKeyframe(position: Int, context: MediaSendContext?, force: Bool = false) {
        let now = MonotonicClock.nanoseconds()
        let due = lastKeyframeRequest.withLock { last -> Bool in
            guard last.indices.contains(position), force || now &- last[position] >= Self.keyframeInterval
            else { return false }
            last[position] = now
            return true
        }
        guard due, let connection = webrtc.connection else { return }
        let sender = connection.streams.first?.localSSRC ?? 1
        withUnsafeTemporaryAllocation(byteCount: 12 * 4, alignment: 4) { buffer in
            var used = 0
            for (ssrc, route) in connection.inboundSources where route.stream == position && !route.isRTX {
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[used...])
                guard let written = RTCPWriter.writePictureLossIndication(senderSSRC: sender, mediaSSRC: ssrc, into: slice)
                else { break }
                used += written
            }
            guard used > 0 else { return }
            connection.sendRTCP(UnsafeRawBufferPointer(rebasing: buffer[0..<used]), context: context)
        }
    }

    /// The room's (or configure's) bitrate cap as a REMB for every video SSRC; nothing without a cap.
    func sendREMB(context: MediaSendContext?) {
        let cap = bitrate.load(ordering: .relaxed)
        guard cap > 0, let connection = webrtc.connection else { return }
        let ssrcs = connection.inboundSources.filter { $0.route.isVideo && !$0.route.isRTX }.map(\.ssrc)
        guard !ssrcs.isEmpty else { return }
        let sender = connection.streams.first?.localSSRC ?? 1
        withUnsafeTemporaryAllocation(byteCount: 20 + 4 * ssrcs.count, alignment: 4) { buffer in
            guard let length = RTCPWriter.writeReceiverEstimatedBitrate(
                senderSSRC: sender, bitrate: UInt64(cap), ssrcs: ssrcs, into: buffer) else { return }
            connection.sendRTCP(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), context: context)
        }
    }
}
