// A subscriber handle's media: one PeerConnection carrying the streams it asked for, from one
// or more publishers. Confab offers, the browser answers; RTCP from the browser turns into
// keyframe requests to the publishers (rate-limited there), never forwarded as is.

import JanusAPI
import JanusMedia
import Media
import RTP
import SDP
import Synchronization

final class Subscription: MediaSink, Sendable {
    let roomID: UInt64
    let handle: PluginHandle
    private let session = Mutex<WebRTCSession?>(nil)
    private let table = Mutex<[SubscriberStream]>([])
    /// Set by `start`, cleared by `pause`: forwarding runs only while started.
    let started = Atomic<Bool>(false)
    /// An answer was applied at least once (Admin API's `answered`).
    let answered = Atomic<Bool>(false)
    private let hungUp: @Sendable (Subscription, String) -> Void
    /// The media engine's reader threads (each subscriber stream keeps a copy per thread).
    private let shardCount: Int

    init(roomID: UInt64, handle: PluginHandle, engine: MediaEngine,
         hungUp: @escaping @Sendable (Subscription, String) -> Void) {
        self.roomID = roomID
        self.handle = handle
        self.hungUp = hungUp
        shardCount = engine.readerCount
        session.withLock { $0 = WebRTCSession(handle: handle, engine: engine, sink: self) }
    }

    var webrtc: WebRTCSession { session.withLock { $0! } }
    var streams: [SubscriberStream] { table.withLock { $0 } }

    /// Builds the subscriber streams for `wanted` publisher streams, mids "0", "1", ... in order.
    func makeStreams(for wanted: [(feed: PublisherFeed, stream: PublishedStream, display: String?)]) -> [SubscriberStream] {
        wanted.enumerated().map { index, item in
            makeStream(mLineIndex: index, feed: item.feed, stream: item.stream, display: item.display)
        }
    }

    /// A subscriber stream on m-line `mLineIndex` (mid = the index), with fresh SSRCs.
    private func makeStream(mLineIndex: Int, feed: PublisherFeed, stream: PublishedStream,
                            display: String?) -> SubscriberStream {
        // Video whose codec has RTX gets an RTX SSRC: repairs go out as RFC 4588 retransmissions
        // when the subscriber's answer keeps RTX.
        let rtx = stream.kind == .video && stream.media.codec.rtxPayloadType != nil
        let local = LocalStream(
            ssrc: UInt32.random(in: 1...UInt32.max), rtxSSRC: rtx ? UInt32.random(in: 1...UInt32.max) : nil,
            cname: "confab-\(handle.id)",
            streamID: "confab-\(feed.participantID)",
            trackID: "\(stream.kind)-\(feed.participantID)-\(stream.media.mid)-\(UInt32.random(in: 1...UInt32.max))")
        return SubscriberStream(mid: String(mLineIndex), mLineIndex: mLineIndex, feed: feed, feedStream: stream,
                                feedDisplay: display, local: local, shards: shardCount)
    }

    /// One `update` (`subscribe`/`unsubscribe`): streams to add, selectors of streams to drop.
    struct Change: Sendable {
        var adding: [(feed: PublisherFeed, stream: PublishedStream, display: String?)]
        var removing: [StreamSelector]
    }

    /// What a change (or an answer releasing queued changes) led to.
    enum Outcome: Sendable, Equatable {
        /// An offer is still waiting for its answer: the change waits too.
        case queued
        /// Nothing to renegotiate.
        case unchanged
        /// The streams changed: this offer goes to the subscriber.
        case offer(JSON)
    }

    /// Changes made while an offer waited for its answer, applied when it comes. Its lock also
    /// keeps "is an offer pending? then offer" and "answer, then apply what waited" atomic.
    private let waiting = Mutex<[Change]>([])

    /// Applies `change` and offers, unless an offer is still unanswered (then it waits).
    func apply(_ change: Change) throws(JanusError) -> Outcome {
        try waiting.withLock { (waiting: inout [Change]) throws(JanusError) -> Outcome in
            if webrtc.hasPendingOffer {
                waiting.append(change)
                return .queued
            }
            return try applyNow([change])
        }
    }

    private func applyNow(_ changes: [Change]) throws(JanusError) -> Outcome {
        var changed = false
        for change in changes {
            // A publisher may have gone while the change waited.
            let adding = change.adding.filter { $0.feed.isPublishing }
            changed = update(adding: adding) { stream in change.removing.contains { $0.matches(stream) } } || changed
        }
        return changed ? .offer(try reoffer()) : .unchanged
    }

    /// `update`: the streams of `removing` stop (their m-lines stay, inactive), then each of
    /// `adding` takes an inactive m-line of its kind or a new one at the end, as Janus does.
    /// Returns false when nothing changed.
    func update(adding: [(feed: PublisherFeed, stream: PublishedStream, display: String?)],
                removing: (SubscriberStream) -> Bool) -> Bool {
        var lines = streams
        var changed = false
        for stream in lines where !stream.removed.load(ordering: .relaxed) && removing(stream) {
            stream.removed.store(true, ordering: .relaxed)
            stream.active.store(false, ordering: .relaxed)
            stream.feed.remove(stream)
            changed = true
        }
        for item in adding {
            let slot = lines.firstIndex { $0.removed.load(ordering: .relaxed) && $0.feedStream.kind == item.stream.kind }
            let index = slot ?? lines.count
            let made = makeStream(mLineIndex: index, feed: item.feed, stream: item.stream, display: item.display)
            if slot == nil { lines.append(made) } else { lines[index] = made }
            changed = true
        }
        table.withLock { $0 = lines }
        return changed
    }

    /// The PeerConnection moved to the reader its datagrams arrive at: each publisher regroups
    /// this subscriber's streams, so their packets are handed to the new owner from now on.
    func sessionDidMoveShard(_ session: WebRTCSession) {
        var feeds: [PublisherFeed] = []
        for stream in streams where !feeds.contains(where: { $0 === stream.feed }) { feeds.append(stream.feed) }
        for feed in feeds { feed.regroup() }
    }

    /// The offer for `streams`: each m-line forwards its publisher stream's codec as negotiated.
    /// The mid and rid extensions are left out: a subscriber routes by SSRC, and the packets
    /// still carry the publisher's mid values.
    func offer(_ streams: [SubscriberStream]) throws(JanusError) -> JSON {
        table.withLock { $0 = streams }
        return try reoffer()
    }

    /// An offer for the streams as they are now: removed ones stay as inactive m-lines.
    func reoffer() throws(JanusError) -> JSON {
        let offered = Self.withoutConflictingExtensions(streams.map { stream -> OfferStream in
            let removed = stream.removed.load(ordering: .relaxed)
            var offer = OfferStream(mid: stream.mid, forwarding: stream.feedStream.media,
                                    stream: removed ? nil : stream.local, direction: removed ? .inactive : .sendonly)
            offer.extensions.mid = nil
            offer.extensions.transportCC = nil
            offer.codec.feedback.remove(.transportCC)
            // RTX carries Confab's own repairs (SubscriberStream.answerNACK), never the
            // publisher's: offered with NACK only, on the stream's own RTX SSRC.
            if offer.codec.rtxPayloadType == nil || !offer.codec.feedback.contains(.nack) || stream.local.rtxSSRC == nil {
                offer.codec.rtxPayloadType = nil
                offer.stream?.rtxSSRC = nil
            }
            return offer
        })
        return try webrtc.offer(streams: offered)
    }

    /// One id per extension URI across the bundle (publishers may have picked different ids):
    /// the first stream's choice wins, later conflicting ones are dropped.
    static func withoutConflictingExtensions(_ streams: [OfferStream]) -> [OfferStream] {
        var idFor: [HeaderExtension: UInt8] = [:]
        var typeFor: [UInt8: HeaderExtension] = [:]
        return streams.map { stream in
            var stream = stream
            for type in HeaderExtension.allCases {
                guard let id = stream.extensions[type] else { continue }
                if idFor[type, default: id] != id || typeFor[id, default: type] != type {
                    stream.extensions[type] = nil
                    continue
                }
                idFor[type] = id
                typeFor[id] = type
            }
            return stream
        }
    }

    /// The browser's answer: attaches each stream to its negotiated m-line, then makes the changes
    /// that waited for it (`.offer` when they need a new negotiation).
    func applyAnswer(_ jsep: JSON) throws(JanusError) -> Outcome {
        try waiting.withLock { (waiting: inout [Change]) throws(JanusError) -> Outcome in
            try attachAnswer(jsep)
            guard !waiting.isEmpty else { return .unchanged }
            defer { waiting = [] }
            return try applyNow(waiting)
        }
    }

    private func attachAnswer(_ jsep: JSON) throws(JanusError) {
        let negotiated = try webrtc.applyAnswer(jsep)
        guard let connection = webrtc.connection else { throw JanusError(.webRTCState, "No PeerConnection") }
        let positions = Dictionary(uniqueKeysWithValues: connection.streams.enumerated().map { ($1.mid, $0) })
        answered.store(true, ordering: .relaxed)
        let accepted = Set(negotiated.map(\.mid))
        for stream in streams where !stream.removed.load(ordering: .relaxed) {
            guard accepted.contains(stream.mid), let position = positions[stream.mid] else { continue }
            stream.attach(to: connection, position: position)
            stream.feed.add(stream)
        }
    }

    /// `start` (again) or `pause`. Forwarding waits for the PeerConnection: a keyframe sent
    /// before SRTP is up would be lost and the decoder would wait for the next one.
    func setStarted(_ on: Bool) {
        started.store(on, ordering: .relaxed)
        let forward = on && webrtc.isConnected
        for stream in streams { stream.setActive(forward) }
    }

    /// The streams `feed` fed are gone (it unpublished); true when this subscription had any.
    func feedRemoved(_ feed: PublisherFeed) -> Bool {
        var any = false
        for stream in streams where stream.feed === feed && !stream.removed.load(ordering: .relaxed) {
            stream.removed.store(true, ordering: .relaxed)
            stream.active.store(false, ordering: .relaxed)
            any = true
        }
        return any
    }

    /// Unhooks every stream from its publisher (leave, hangup, detach).
    func detachFromFeeds() {
        let old = table.withLock { table -> [SubscriberStream] in
            defer { table = [] }
            return table
        }
        for stream in old {
            stream.active.store(false, ordering: .relaxed)
            stream.feed.remove(stream)
        }
    }

    // MARK: - MediaSink (reader threads)

    func session(_ session: WebRTCSession, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                 route: InboundRoute, on connection: PeerConnection, context: MediaSendContext) {
        // Subscribers only receive; anything they send is ignored.
    }

    func session(_ session: WebRTCSession, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                 context: MediaSendContext) {
        var iterator = RTCPCompoundIterator(UnsafeRawBufferPointer(compound))
        while let packet = iterator.next() {
            if packet.packetType == RTCPPacketType.transportFeedback, packet.format == RTCPFeedbackFormat.nack,
               packet.bytes.count >= 12 {
                let b = packet.bytes
                let ssrc = UInt32(b[8]) << 24 | UInt32(b[9]) << 16 | UInt32(b[10]) << 8 | UInt32(b[11])
                stream(forLocalSSRC: ssrc)?.answerNACK(packet, context: context)
            } else if let pli = RTCPPictureLossIndication(packet) {
                requestKeyframe(forLocalSSRC: pli.mediaSSRC, context: context)
            } else if packet.packetType == RTCPPacketType.payloadFeedback, packet.format == RTCPFeedbackFormat.fir,
                      packet.bytes.count >= 20 {
                // FIR: the first FCI entry names the SSRC (header media SSRC is 0).
                let b = packet.bytes
                let ssrc = UInt32(b[12]) << 24 | UInt32(b[13]) << 16 | UInt32(b[14]) << 8 | UInt32(b[15])
                requestKeyframe(forLocalSSRC: ssrc, context: context)
            }
        }
    }

    private func stream(forLocalSSRC ssrc: UInt32) -> SubscriberStream? {
        table.withLock { table in table.first { $0.local.ssrc == ssrc } }
    }

    private func requestKeyframe(forLocalSSRC ssrc: UInt32, context: MediaSendContext) {
        guard let target = stream(forLocalSSRC: ssrc), target.isVideo else { return }
        target.feed.requestKeyframe(position: target.feedPosition, context: context)
    }

    func sessionDidConnect(_ session: WebRTCSession) {
        // Activating a video stream asks its publisher for a keyframe: a new viewer gets one fast.
        guard started.load(ordering: .relaxed) else { return }
        for stream in streams { stream.setActive(true) }
    }

    func session(_ session: WebRTCSession, didHangUpWithReason reason: String) {
        hungUp(self, reason)
    }
}

/// Which subscriber streams an `unsubscribe` element names: `{sub_mid}` one m-line, `{feed}` every
/// stream of a publisher, `{feed, mid}` one of its streams; `{}` none (Janus 1.1.2).
struct StreamSelector: Sendable, Equatable {
    var subMid: String?
    var feed: UInt64?
    var mid: String?

    func matches(_ stream: SubscriberStream) -> Bool {
        matches(subMid: stream.mid, feed: stream.feed.participantID, feedMid: stream.feedStream.media.mid)
    }

    /// Whether the stream on m-line `subMid`, fed by `feed`'s stream `feedMid`, is named.
    func matches(subMid streamMid: String, feed streamFeed: UInt64, feedMid: String) -> Bool {
        if let subMid { return streamMid == subMid }
        guard let feed, streamFeed == feed else { return false }
        return mid.map { $0 == feedMid } ?? true
    }
}
