import JanusAPI

/// What a subscriber handle may ask once `attached`: `start` (with the browser's answer the first
/// time), `pause`, `configure` (per-stream `send`, simulcast `substream`), `leave`.
extension VideoRoomPlugin {
    static let subscriberConfigureParameters: [Parameter] = [
        .array("streams"), .string("mid"), .boolean("send"), .positiveInteger("substream"), .positiveInteger("temporal"),
    ]

    func subscriberRequest(_ request: ParsedRequest, message: PluginMessage) throws(VideoRoomError) -> AsyncReply? {
        guard let roomID = handles.entry(message.handle)?.roomID, let subscription = media.subscription(message.handle) else {
            throw .roomGone
        }
        switch request.name {
        case .start:
            if let answer = message.jsep {
                do {
                    try subscription.applyAnswer(answer)
                } catch {
                    throw VideoRoomError(.invalidSDP, error.reason)
                }
            }
            subscription.setStarted(true)
            return AsyncReply(["videoroom": "event", "room": JSON(roomID), "started": "ok"])
        case .pause:
            subscription.setStarted(false)
            return AsyncReply(["videoroom": "event", "room": JSON(roomID), "paused": "ok"])
        case .configure:
            try configureSubscription(request.body, subscription)
            return AsyncReply(["videoroom": "event", "room": JSON(roomID), "configured": "ok"])
        case .leave:
            subscription.detachFromFeeds()
            subscription.webrtc.hangUp(reason: "Close PC")
            handles.update(message.handle) { $0.roomID = nil }
            return AsyncReply(["videoroom": "event", "room": JSON(roomID), "left": "ok"])
        case .update:
            return try update(request.body, subscription: subscription, roomID: roomID)
        case .switchFeeds:
            return try switchFeeds(request.body, subscription: subscription, roomID: roomID)
        case .subscribe, .unsubscribe:
            throw .notImplemented(request.name.rawValue)
        default:
            throw .unknownRequest(request.text)
        }
    }

    static let updateParameters: [Parameter] = [.array("subscribe"), .array("unsubscribe")]
    static let unsubscribeParameters: [Parameter] = [.positiveInteger("feed"), .string("mid"), .string("sub_mid")]

    /// `update`: `subscribe` adds publishers' streams (`{feed, mid?}`), `unsubscribe` drops some
    /// (`{feed, mid?}` or `{sub_mid}`); the answer is `updated` with a new offer (Janus 1.1.2).
    private func update(_ body: RequestBody, subscription: Subscription, roomID: UInt64) throws(VideoRoomError) -> AsyncReply {
        try body.validate(Self.updateParameters)
        let subscribe = (body["subscribe"]?.arrayValue ?? []).map(RequestBody.init(element:))
        let unsubscribe = (body["unsubscribe"]?.arrayValue ?? []).map(RequestBody.init(element:))
        guard !subscribe.isEmpty || !unsubscribe.isEmpty else {
            throw VideoRoomError(.missingElement, "At least one of either 'subscribe' or 'unsubscribe' must be present")
        }
        guard let room = rooms.room(roomID) else {
            // Destroyed meanwhile: Janus finds none of the feeds.
            if let first = subscribe.first {
                try first.validate(Self.subscriberStreamParameters)
                try first.validate(Self.feedParameters)
                throw .noSuchFeed(first.integer("feed") ?? 0)
            }
            throw .roomGone
        }
        let sources = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> [FeedSource] in
            var sources: [FeedSource] = []
            for stream in subscribe {
                try stream.validate(Self.subscriberStreamParameters)
                try stream.validate(Self.feedParameters)
                let feed = stream.integer("feed") ?? 0
                guard let publisher = state.participants[feed], publisher.publishing else { throw .noSuchFeed(feed) }
                sources += try Self.sources(of: publisher, mid: stream.string("mid"))
            }
            return sources
        }
        for element in unsubscribe { try element.validate(Self.unsubscribeParameters) }
        _ = subscription.update(adding: sources.map { ($0.feed, $0.stream, $0.display) }) { stream in
            unsubscribe.contains { element in
                if let subMid = element.string("sub_mid") { return stream.mid == subMid }
                guard let feed = element.integer("feed"), stream.feed.participantID == feed else { return false }
                return element.string("mid").map { $0 == stream.feedStream.media.mid } ?? true
            }
        }
        let offer: JSON
        do {
            offer = try subscription.reoffer()
        } catch {
            throw VideoRoomError(.unknown, error.reason)
        }
        return AsyncReply(["videoroom": "updated", "room": JSON(roomID),
                           "streams": .array(subscription.streams.map(\.json))], jsep: offer)
    }

    static let switchParameters: [Parameter] = [
        .positiveInteger("feed", required: true), .string("mid", required: true), .string("sub_mid", required: true),
    ]

    /// `switch`: `streams: [{feed, mid, sub_mid}]` puts another publisher's stream on an existing
    /// m-line, without renegotiation; kinds or codecs that differ, or an unknown `sub_mid`, change
    /// nothing (Janus counts only the `changes` made).
    private func switchFeeds(_ body: RequestBody, subscription: Subscription, roomID: UInt64) throws(VideoRoomError) -> AsyncReply {
        try body.validate([.array("streams")])
        let elements = (body["streams"]?.arrayValue ?? []).map(RequestBody.init(element:))
        guard !elements.isEmpty else { throw .noSuchFeed(0) }
        guard let room = rooms.room(roomID) else { throw .noSuchRoom(roomID) }
        let switches = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> [(String, FeedSource)] in
            var switches: [(String, FeedSource)] = []
            for element in elements {
                try element.validate(Self.switchParameters)
                let feed = element.integer("feed") ?? 0
                guard let publisher = state.participants[feed], publisher.publishing else { throw .noSuchFeed(feed) }
                let mid = element.string("mid")
                guard let source = try Self.sources(of: publisher, mid: mid).first else { throw .noSuchFeed(feed) }
                switches.append((element.string("sub_mid") ?? "", source))
            }
            return switches
        }
        var changes = 0
        for (subMid, source) in switches {
            guard let stream = subscription.streams.first(where: { $0.mid == subMid && !$0.removed.load(ordering: .relaxed) }),
                  stream.switchSource(to: .init(feed: source.feed, stream: source.stream, display: source.display)) else { continue }
            changes += 1
        }
        return AsyncReply(["videoroom": "event", "room": JSON(roomID), "switched": "ok", "changes": JSON(changes),
                           "streams": .array(subscription.streams.map(\.json))])
    }

    /// `streams: [{mid, send, substream}]`, or the same fields at the top for every stream.
    private func configureSubscription(_ body: RequestBody, _ subscription: Subscription) throws(VideoRoomError) {
        try body.validate(Self.subscriberConfigureParameters)
        let changes = body["streams"]?.arrayValue.map { $0.map(RequestBody.init(element:)) } ?? [body]
        for change in changes {
            try change.validate(Self.subscriberConfigureParameters)
            let mid = change.string("mid")
            for stream in subscription.streams where mid == nil || stream.mid == mid {
                if let send = change.bool("send") { stream.sendEnabled.store(send, ordering: .relaxed) }
                if let layer = change.integer("substream") { stream.setSubstream(Int(min(layer, 2))) }
                if let layer = change.integer("temporal") { stream.setTemporal(Int(min(layer, 2))) }
            }
        }
    }
}
