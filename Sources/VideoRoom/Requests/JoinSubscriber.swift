import JanusAPI
import Media

/// `join` with `ptype: "subscriber"`: a handle asks for other participants' streams (every feed
/// must be a participant who publishes) and gets `attached` with an SDP offer carrying them.
extension VideoRoomPlugin {
    /// subscriber_parameters of Janus 1.1.2 (`close_pc` is not checked there).
    static let subscriberParameters: [Parameter] = [
        .array("streams"), .positiveInteger("private_id"), .boolean("audio"), .boolean("video"), .boolean("data"),
        .boolean("offer_audio"), .boolean("offer_video"), .boolean("offer_data"), .positiveInteger("substream"),
        .positiveInteger("temporal"), .positiveInteger("fallback"), .positiveInteger("spatial_layer"),
        .positiveInteger("temporal_layer"),
    ]
    static let subscriberStreamParameters: [Parameter] = [
        .string("mid"), .positiveInteger("substream"), .positiveInteger("temporal"), .positiveInteger("spatial_layer"),
        .positiveInteger("temporal_layer"), .integer("min_delay"), .integer("max_delay"),
    ]
    static let feedParameters: [Parameter] = [.positiveInteger("feed", required: true)]

    func joinAsSubscriber(_ request: RequestBody, room: Room, message: PluginMessage) throws(VideoRoomError) -> AsyncReply? {
        try request.validate(Self.subscriberParameters)
        let wanted: [RequestBody]
        if let streams = request["streams"]?.arrayValue, !streams.isEmpty {
            wanted = streams.map(RequestBody.init(element:))
        } else {
            // The legacy form: one publisher, all of its streams.
            try request.validate(Self.feedParameters)
            wanted = [RequestBody(["feed": request["feed"] ?? .null])]
        }
        let sources = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> [FeedSource] in
            var sources: [FeedSource] = []
            for stream in wanted {
                try stream.validate(Self.subscriberStreamParameters)
                try stream.validate(Self.feedParameters)
                let feed = stream.integer("feed") ?? 0
                guard let publisher = state.participants[feed], publisher.publishing else { throw .noSuchFeed(feed) }
                sources += try Self.sources(of: publisher, mid: stream.string("mid"))
            }
            if state.options.requirePvtid {
                let privateID = request.integer("private_id") ?? 0
                guard privateID != 0, state.participants.values.contains(where: { UInt64($0.privateID) == privateID }) else {
                    throw .privateIDRequired
                }
            }
            return sources
        }
        guard let engine else { throw .subscribingUnsupported }
        return try subscribe(sources, room: room, handle: message.handle, engine: engine)
    }

    /// One publisher stream a subscriber asked for, with who publishes it.
    struct FeedSource: Sendable {
        let feed: PublisherFeed
        let stream: PublishedStream
        let display: String?
    }

    /// The streams of `publisher` a subscription names: the one with `mid`, or all of them.
    static func sources(of publisher: Participant, mid: String?) throws(VideoRoomError) -> [FeedSource] {
        guard let feed = publisher.feed else { throw .noSuchFeed(publisher.id) }
        let streams = feed.streams.filter { mid == nil || $0.media.mid == mid }
        if let mid, streams.isEmpty { throw VideoRoomError(.noSuchFeed, "No such mid '\(mid)' in feed (\(publisher.id))") }
        return streams.map { FeedSource(feed: feed, stream: $0, display: publisher.display) }
    }

    /// Makes the handle a subscriber and offers it the streams (`attached` with the jsep offer).
    private func subscribe(_ sources: [FeedSource], room: Room, handle: PluginHandle,
                           engine: MediaEngine) throws(VideoRoomError) -> AsyncReply? {
        let claimed = handles.update(handle) { entry -> Bool in
            guard entry.role == .none else { return false }
            entry.role = .joining
            return true
        }
        guard let claimed else { return nil }
        guard claimed else { throw .alreadySubscriber }
        let subscription = Subscription(roomID: room.id, handle: handle, engine: engine) { [weak self] subscription, _ in
            self?.subscriptionHungUp(subscription)
        }
        let streams = subscription.makeStreams(for: sources.map { ($0.feed, $0.stream, $0.display) })
        let offer: JSON
        do {
            offer = try subscription.offer(streams)
        } catch {
            handles.update(handle) { $0.role = .none }
            throw VideoRoomError(.unknown, error.reason)
        }
        media.setSubscription(subscription, for: handle)
        handles.update(handle) { entry in
            entry.role = .subscriber
            entry.roomID = room.id
        }
        let listed = streams.map(\.json)
        logger.info("subscriber attached", metadata: ["room": "\(room.id)", "streams": "\(streams.count)"])
        return AsyncReply(["videoroom": "attached", "room": JSON(room.id), "streams": .array(listed)], jsep: offer)
    }

    private func subscriptionHungUp(_ subscription: Subscription) {
        subscription.setStarted(false)
    }
}
