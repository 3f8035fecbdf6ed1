// One m-line of a subscriber's PeerConnection fed by one publisher stream (mediasoup's
// consumer): it owns the sequence/timestamp rewriting, the simulcast layer choice and the
// "wait for a keyframe" gate, so pauses, layer switches and resubscriptions stay seamless
// for the receiver's decoder.

import JanusAPI
import Media
import Net
import RTP
import SDP
import Synchronization

/// The per-packet decisions of one subscriber stream, as plain values (unit-tested on their own).
struct ForwardingState: Sendable {
    var sequence = SequenceRewriter()
    var timestamp = TimestampRewriter()
    /// VP8 only: picture IDs and TL0PICIDX continue across layer switches and pauses.
    var pictures = VP8PictureRewriter()
    /// Video only: nothing goes out until a keyframe of the current layer arrives.
    var waitingForKeyframe: Bool
    /// The simulcast layer being forwarded, nil until the first packet picks one.
    var currentLayer: Int?
    /// The layer the subscriber asked for (`substream`), clamped to what the publisher sends.
    var targetLayer: Int
    /// The last incoming timestamp forwarded, and when, to size the gap at a layer switch.
    var lastArrival: UInt64 = 0
    /// When each simulcast layer last arrived (0 = never): a layer that stopped is replaced by
    /// the best one still arriving (a browser drops its top layer when bandwidth is short).
    var layerArrivals = SIMD4<UInt64>(repeating: 0)
    /// The newest packet the keyframe gate dropped (of the layer it waits for). A keyframe start
    /// older than it — a repair or a reordered packet, arriving after later packets of its own frame
    /// were dropped — cannot open the gate: the subscriber would get a keyframe with holes nothing
    /// can fill (those packets were never sent to it), and a decoder that does not ask for another
    /// keyframe (aiortc's) stays broken until the publisher happens to send one.
    var newestGated: (layer: Int, sequence: UInt16)?
    /// A layer silent for this long counts as stopped (Janus's default `fallback` is 250 ms).
    static let layerTimeout: UInt64 = 500_000_000

    /// The source's RTP clock, to size timestamp gaps at a switch.
    var clockRate: UInt32
    /// The highest VP8 temporal layer the subscriber asked for (`temporal`), and the one in
    /// effect: going up waits for a layer-sync frame, whose references are all forwarded.
    var targetTemporal = 2
    var temporal = 2
    /// Outgoing minus incoming timestamp of the last packet sent: maps the publisher's sender
    /// reports onto this stream's timeline (nil before the first packet).
    var timestampOffset: UInt32?

    init(isVideo: Bool, clockRate: UInt32 = 90000, targetLayer: Int = 2) {
        waitingForKeyframe = isVideo
        self.clockRate = clockRate
        self.targetLayer = targetLayer
    }

    enum Verdict: Equatable {
        /// Send with these numbers.
        case send(sequence: UInt16, timestamp: UInt32)
        /// Not this layer / not yet: drop silently.
        case drop
        /// Drop, and the publisher should send a keyframe (of the wanted layer).
        case dropNeedingKeyframe
    }

    /// Decides what happens to one packet of layer `layer` (of `layerCount`); `isKeyframe` is
    /// always true for audio.
    mutating func admit(sequence: UInt16, timestamp: UInt32, layer: Int, layerCount: Int, isKeyframe: Bool,
                        temporalLayer: Int? = nil, layerSync: Bool = false, now: UInt64) -> Verdict {
        if layer < 4 { layerArrivals[layer] = now }
        let wanted = bestArrivingLayer(layerCount: max(layerCount, 1), now: now)
        if layer != currentLayer {
            // Another layer (or the first packet after a (re)start): switch only to the wanted
            // one, and only at one of its keyframes; the current layer goes on meanwhile.
            guard layer == wanted else { return .drop }
            guard isKeyframe, !isOlderThanGated(sequence, layer: layer) else {
                return gate(sequence, layer: layer)
            }
            if lastArrival != 0 {
                let elapsedMilliseconds = (now &- lastArrival) / 1_000_000
                self.sequence.switchSource()
                self.timestamp.switchSource(gap: UInt32(truncatingIfNeeded: elapsedMilliseconds * UInt64(clockRate) / 1000))
                pictures.switchSource()
            }
            currentLayer = layer
            waitingForKeyframe = false
            newestGated = nil
        } else if waitingForKeyframe {
            guard isKeyframe, !isOlderThanGated(sequence, layer: layer) else { return gate(sequence, layer: layer) }
            waitingForKeyframe = false
            newestGated = nil
        }
        if let temporalLayer, !admitTemporal(temporalLayer, layerSync: layerSync, isKeyframe: isKeyframe) {
            // Dropped on purpose: later packets close the gap, so the receiver sees no loss.
            self.sequence.skip(sequence)
            return .drop
        }
        guard let outSequence = self.sequence.rewrite(sequence) else { return .drop }
        lastArrival = now
        let outTimestamp = self.timestamp.rewrite(timestamp)
        timestampOffset = outTimestamp &- timestamp
        return .send(sequence: outSequence, timestamp: outTimestamp)
    }

    /// Drops a packet at the keyframe gate, remembering the newest one dropped.
    private mutating func gate(_ sequence: UInt16, layer: Int) -> Verdict {
        if !isOlderThanGated(sequence, layer: layer) { newestGated = (layer, sequence) }
        return .dropNeedingKeyframe
    }

    /// Whether `sequence` comes before the newest packet of `layer` the gate dropped (RFC 1982 order).
    private func isOlderThanGated(_ sequence: UInt16, layer: Int) -> Bool {
        guard let gated = newestGated, gated.layer == layer else { return false }
        return Int16(bitPattern: gated.sequence &- sequence) > 0
    }

    /// Whether a packet of VP8 temporal layer `tid` goes out: down at once, up at a keyframe or a
    /// layer-sync frame of a layer now wanted.
    private mutating func admitTemporal(_ tid: Int, layerSync: Bool, isKeyframe: Bool) -> Bool {
        if targetTemporal < temporal { temporal = targetTemporal }
        if targetTemporal > temporal, isKeyframe || (layerSync && tid <= targetTemporal) {
            temporal = isKeyframe ? targetTemporal : max(temporal, tid)
        }
        return tid <= temporal
    }

    /// The highest arriving layer up to the target, else the lowest arriving one above it.
    func bestArrivingLayer(layerCount: Int, now: UInt64) -> Int {
        let top = min(targetLayer, layerCount - 1, 3)
        func arriving(_ layer: Int) -> Bool {
            layerArrivals[layer] != 0 && now &- layerArrivals[layer] <= Self.layerTimeout
        }
        for layer in stride(from: top, through: 0, by: -1) where arriving(layer) { return layer }
        for layer in top..<min(layerCount, 4) where arriving(layer) { return layer }
        return top
    }

    /// The next packets start a new source after a pause or resubscription (numbering continues).
    mutating func restart(isVideo: Bool) {
        waitingForKeyframe = isVideo
        timestampOffset = nil
        newestGated = nil
        currentLayer = nil
        layerArrivals = SIMD4(repeating: 0)
    }
}

final class SubscriberStream: Sendable {
    /// The subscriber's m-line.
    let mid: String
    let mLineIndex: Int
    /// The publisher stream feeding this m-line; `switch` replaces it without renegotiation.
    struct Source: Sendable {
        let feed: PublisherFeed
        let stream: PublishedStream
        let display: String?
    }
    private let source: Mutex<Source>
    var feed: PublisherFeed { source.withLock { $0.feed } }
    var feedStream: PublishedStream { source.withLock { $0.stream } }
    var feedDisplay: String? { source.withLock { $0.display } }
    var feedPosition: Int { feedStream.position }
    /// The publisher stopped publishing: the m-line stays (inactive) so the m-line order holds.
    let removed = Atomic<Bool>(false)
    let local: LocalStream
    let isVideo: Bool
    private let videoCodec: VideoCodec?
    /// Position in the subscriber's PeerConnection streams once the answer is in (-1 before).
    private let position = Atomic<Int>(-1)
    /// The shard that owns the subscriber's PeerConnection now (0 before there is one).
    var shardIndex: Int { lane.current.connection?.shardIndex ?? 0 }
    /// Started and not paused (and `send` not turned off).
    let active = Atomic<Bool>(false)
    let sendEnabled = Atomic<Bool>(true)

    /// The subscriber's PeerConnection and what forwarding to it keeps per packet: the rewriting
    /// and gating state and the packets kept for NACKs. Confined to the thread of the shard that
    /// owns the connection, so a forwarded packet takes no lock for it.
    final class Lane: @unchecked Sendable {
        // @unchecked Sendable: `state`, `appliedRestarts` and the retransmission ring are only
        // touched on the thread of the shard that owns `connection`: `forward`, `relaySenderReport`
        // and `answerNACK` check `connection.isOwned(by:)` first, and a connection's owner only
        // changes on the old owner's own thread (PeerConnection.settle), so no two threads ever
        // pass that check for one lane at the same time. The control path only reads `connection`
        // and tells the retransmission what was negotiated (atomics and its own lock).
        /// Nil in the lane a stream starts with, before its first answer.
        let connection: PeerConnection?
        // One thread (above), so the runtime's exclusivity checks (per packet) are left out.
        @exclusivity(unchecked) var state: ForwardingState
        /// The `restarts` count this state has caught up with.
        @exclusivity(unchecked) var appliedRestarts: UInt64
        /// What was sent, to answer the subscriber's NACKs (RTX when the subscriber's answer kept it).
        let retransmission = OutboundRetransmission()

        init(connection: PeerConnection?, state: ForwardingState, appliedRestarts: UInt64) {
            self.connection = connection
            self.state = state
            self.appliedRestarts = appliedRestarts
        }
    }
    /// Without a connection before the first answer; a new lane (fresh state) when the
    /// subscription gets a new PeerConnection. Read per packet from the shard's own copy, without
    /// a lock or a reference count.
    private let lane: ShardSnapshot<Lane>
    // What the control path asks of the forwarding state, applied by the owning thread before its
    // next packet (`catchUp`): the state itself is never written from anywhere else.
    private let targetLayer = Atomic<Int>(2)
    private let targetTemporal = Atomic<Int>(2)
    private let clockRate: Atomic<UInt32>
    /// Bumped for each restart (resume, `switch`, relaying back on): a lane behind it restarts.
    private let restarts = Atomic<UInt64>(0)

    /// `shards`: how many reader threads the media engine has.
    init(mid: String, mLineIndex: Int, feed: PublisherFeed, feedStream: PublishedStream, feedDisplay: String?,
         local: LocalStream, shards: Int) {
        self.mid = mid
        self.mLineIndex = mLineIndex
        source = Mutex(Source(feed: feed, stream: feedStream, display: feedDisplay))
        self.local = local
        isVideo = feedStream.kind == .video
        videoCodec = VideoCodec(encodingName: feedStream.media.codec.name)
        clockRate = Atomic(feedStream.media.codec.clockRate)
        lane = ShardSnapshot(Lane(connection: nil, state: ForwardingState(isVideo: isVideo), appliedRestarts: 0),
                             shards: shards)
    }

    /// The negotiated m-line: where to send, on which PeerConnection.
    func attach(to connection: PeerConnection, position: Int) {
        let current = lane.update { lane -> Lane in
            if lane.connection === connection { return lane }
            let fresh = Lane(connection: connection,
                             state: ForwardingState(isVideo: isVideo, clockRate: clockRate.load(ordering: .relaxed)),
                             appliedRestarts: restarts.load(ordering: .acquiring))
            lane = fresh
            return fresh
        }
        let negotiated = connection.streams.indices.contains(position) ? connection.streams[position] : nil
        // A renegotiation that keeps the RTX keeps its sequence going.
        current.retransmission.negotiated(negotiated)
        self.position.store(position, ordering: .releasing)
    }

    func setActive(_ on: Bool) {
        let on = on && !removed.load(ordering: .relaxed)
        // The restart is asked for before the first packet can pass.
        if on, !active.load(ordering: .acquiring) { restartSource() }
        let was = active.exchange(on, ordering: .acquiringAndReleasing)
        guard on, !was else { return }
        if isVideo { feed.requestKeyframe(position: feedPosition, context: nil) }
    }

    /// The publisher stream was not relayed for a while (its `send` was off): the next packets
    /// start a new source (from a keyframe), numbering continues without a gap to NACK.
    func restartSource() {
        restarts.add(1, ordering: .releasing)
    }

    /// Brings the lane's state up to what the control path asked for (on the owning thread).
    private func catchUp(_ lane: Lane) {
        let requested = restarts.load(ordering: .acquiring)
        if requested != lane.appliedRestarts {
            lane.appliedRestarts = requested
            lane.state.restart(isVideo: isVideo)
            lane.state.clockRate = clockRate.load(ordering: .relaxed)
        }
        lane.state.targetLayer = targetLayer.load(ordering: .relaxed)
        lane.state.targetTemporal = targetTemporal.load(ordering: .relaxed)
    }

    /// `switch`: another publisher's stream of the same kind and codec feeds this m-line from its
    /// next keyframe on; SSRC, sequence numbers and timestamps continue, so the receiver's decoder
    /// sees one stream. False when the kinds or codecs differ (Janus then changes nothing).
    func switchSource(to new: Source) -> Bool {
        let old = source.withLock { $0 }
        guard new.stream.kind == old.stream.kind,
              new.stream.media.codec.name.lowercased() == old.stream.media.codec.name.lowercased() else { return false }
        guard new.feed !== old.feed || new.stream.position != old.stream.position else { return true }
        old.feed.remove(self)
        source.withLock { $0 = new }
        clockRate.store(new.stream.media.codec.clockRate, ordering: .relaxed)
        restartSource()
        if position.load(ordering: .acquiring) >= 0, !removed.load(ordering: .relaxed) { new.feed.add(self) }
        if isVideo, active.load(ordering: .relaxed) { new.feed.requestKeyframe(position: new.stream.position, context: nil) }
        return true
    }

    func setTemporal(_ layer: Int) {
        targetTemporal.store(layer, ordering: .relaxed)
    }

    func setSubstream(_ layer: Int) {
        targetLayer.store(layer, ordering: .relaxed)
        if isVideo { feed.requestKeyframe(position: feedPosition, context: nil) }
    }

    // MARK: - Forwarding (the subscriber connection's reader thread)

    func forward(_ packet: UnsafeRawBufferPointer, route: InboundRoute, context: MediaSendContext) {
        // RTX is not forwarded: the subscriber's losses are repaired from Confab, not the publisher.
        guard !route.isRTX, active.load(ordering: .relaxed), sendEnabled.load(ordering: .relaxed) else { return }
        let index = position.load(ordering: .acquiring)
        guard index >= 0 else { return }
        let keyframe = !isVideo || Self.isKeyframe(packet, codec: videoCodec)
        let vp8 = videoCodec == .vp8 ? Self.vp8Descriptor(packet) : nil
        let temporal = vp8.flatMap(Self.temporalLayer)
        let (sequence, timestamp) = Self.readHeader(packet)
        let now = MonotonicClock.nanoseconds()
        lane.withValue(on: context.shardIndex) { lane in
            // A packet handed here before the fan-out learnt that the connection moved: not ours.
            guard let connection = lane.connection, connection.isOwned(by: context) else { return }
            forward(packet, position: index, route: route, keyframe: keyframe, vp8: vp8, temporal: temporal,
                    sequence: sequence, timestamp: timestamp, now: now, lane: lane, connection: connection,
                    context: context)
        }
    }

    /// `forward` on the lane's owning thread.
    private func forward(_ packet: UnsafeRawBufferPointer, position index: Int, route: InboundRoute, keyframe: Bool,
                         vp8: VP8PayloadDescriptor?, temporal: (id: UInt8, sync: Bool)?, sequence: UInt16,
                         timestamp: UInt32, now: UInt64, lane: Lane, connection: PeerConnection,
                         context: MediaSendContext) {
        catchUp(lane)
        let verdict = lane.state.admit(
            sequence: sequence, timestamp: timestamp, layer: route.layer, layerCount: route.layerCount,
            isKeyframe: keyframe, temporalLayer: temporal.map { Int($0.id) }, layerSync: temporal?.sync ?? false,
            now: now)
        var pictureFields: VP8PictureRewriter.Fields?
        if case .send = verdict, let vp8 { pictureFields = lane.state.pictures.rewrite(vp8) }
        switch verdict {
        case .drop:
            return
        case .dropNeedingKeyframe:
            feed.requestKeyframe(position: feedPosition, context: context)
        case .send(let outSequence, let outTimestamp):
            connection.sendRTP(packet, stream: index, context: context) { header in
                header.sequenceNumber = outSequence
                header.timestamp = outTimestamp
                // The copy has the same layout, so the descriptor's offsets hold.
                if let pictureFields, let vp8 { pictureFields.write(into: header.payload, descriptor: vp8) }
                // The packet as the subscriber gets it.
                lane.retransmission.keep(UnsafeRawBufferPointer(header.buffer), now: now)
            }
        }
    }

    /// The publisher's sender report for the layer this stream forwards, as this stream's own
    /// (its SSRC, its timeline): what the receiver needs to synchronise audio and video.
    func relaySenderReport(_ report: RTCPSenderReport, layer: Int, context: MediaSendContext) {
        guard active.load(ordering: .relaxed), position.load(ordering: .acquiring) >= 0,
              case let lane = lane.current, let connection = lane.connection else { return }
        // Sent from the subscriber's own shard, like its media (a message about once a second);
        // there the lane's state may be read.
        guard connection.isOwned(by: context) else {
            connection.perform { [self] context in relaySenderReport(report, layer: layer, context: context) }
            return
        }
        guard lane.state.currentLayer == layer, let offset = lane.state.timestampOffset else { return }
        let translated = RTCPSenderReport(
            ssrc: local.ssrc, ntpTimestamp: report.ntpTimestamp, rtpTimestamp: report.rtpTimestamp &+ offset,
            packetCount: report.packetCount, octetCount: report.octetCount)
        withUnsafeTemporaryAllocation(byteCount: 28, alignment: 4) { buffer in
            guard let length = RTCPWriter.writeSenderReport(translated, into: buffer) else { return }
            connection.sendRTCP(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), context: context)
        }
    }

    // MARK: - Repair (the subscriber's reader thread)

    /// Resends what a NACK from the subscriber lists, from what this stream sent: as RTX on the
    /// stream's RTX SSRC when the subscriber negotiated it (RFC 4588), else as the packet itself.
    func answerNACK(_ packet: RTCPPacketView, context: MediaSendContext) {
        let index = position.load(ordering: .acquiring)
        let lane = lane.read(on: context.shardIndex)
        guard index >= 0, let connection = lane.connection, connection.isOwned(by: context) else { return }
        lane.retransmission.answer(packet, on: connection, stream: index, context: context)
    }

    static func readHeader(_ packet: UnsafeRawBufferPointer) -> (UInt16, UInt32) {
        let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
        let timestamp = UInt32(packet[4]) << 24 | UInt32(packet[5]) << 16 | UInt32(packet[6]) << 8 | UInt32(packet[7])
        return (sequence, timestamp)
    }

    /// The VP8 payload descriptor at the start of the packet's payload (offsets relative to it).
    static func vp8Descriptor(_ packet: UnsafeRawBufferPointer) -> VP8PayloadDescriptor? {
        guard let header = RTPHeaderView(UnsafeMutableRawBufferPointer(mutating: packet)) else { return nil }
        return VP8PayloadDescriptor(UnsafeRawBufferPointer(header.payload))
    }

    /// The descriptor's temporal layer id, and whether the packet starts a layer-sync frame (a
    /// place to go up a temporal layer without missing references).
    private static func temporalLayer(_ descriptor: VP8PayloadDescriptor) -> (id: UInt8, sync: Bool)? {
        guard let id = descriptor.temporalLayerID else { return nil }
        let startsFrame = descriptor.isStartOfPartition && descriptor.partitionIndex == 0
        return (id, descriptor.layerSync && startsFrame)
    }

    static func isKeyframe(_ packet: UnsafeRawBufferPointer, codec: VideoCodec?) -> Bool {
        guard let codec else { return true }
        let mutable = UnsafeMutableRawBufferPointer(mutating: packet)
        guard let header = RTPHeaderView(mutable) else { return false }
        return KeyframeDetector.isKeyframe(codec: codec, packet: header)
    }

    // MARK: - Description

    /// One entry of `streams` in `attached` / `updated` (Janus 1.1.2's shape; a removed stream
    /// no longer names its feed).
    var json: JSON {
        var entry: [String: JSON] = [
            "type": .string(feedStream.kind.rawValue), "active": .bool(!removed.load(ordering: .relaxed)),
            "mindex": JSON(mLineIndex), "mid": .string(mid),
            "ready": .bool(!removed.load(ordering: .relaxed) && position.load(ordering: .relaxed) >= 0),
            "send": .bool(sendEnabled.load(ordering: .relaxed)),
        ]
        guard !removed.load(ordering: .relaxed) else { return .object(entry) }
        entry["feed_id"] = JSON(feed.participantID)
        entry["feed_mid"] = .string(feedStream.media.mid)
        entry["codec"] = .string(feedStream.codecName)
        if let feedDisplay { entry["feed_display"] = .string(feedDisplay) }
        if let description = feedStream.description { entry["feed_description"] = .string(description) }
        return .object(entry)
    }
}
