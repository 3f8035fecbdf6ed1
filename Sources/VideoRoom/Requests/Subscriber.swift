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
            var followUp: Subscription.Outcome = .unchanged
            if let answer = message.jsep {
                do {
                    followUp = try subscription.applyAnswer(answer)
                } catch {
                    throw VideoRoomError(.invalidSDP, error.reason)
                }
            }
            subscription.setStarted(true)
            let started: JSON = ["videoroom": "event", "room": JSON(roomID), "started": "ok"]
            guard followUp != .unchanged else { return AsyncReply(started) }
            // Updates that waited for this answer: `started`, then `updated` (with the next offer)
            // without a transaction, as Janus 1.1.2 sends them.
            message.handle.pushEvent(transaction: message.transaction, data: started)
            let updated = updatedEvent(followUp, subscription: subscription, roomID: roomID)
            message.handle.pushEvent(transaction: nil, data: updated.data, jsep: updated.jsep)
            return nil
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
        case .update, .subscribe, .unsubscribe:
            return try update(request, subscription: subscription, roomID: roomID)
        case .switchFeeds:
            return try switchFeeds(request.body, subscription: subscription, roomID: roomID)
        default:
            throw .unknownRequest(request.text)
        }
    }

    static let updateParameters: [Parameter] = [.array("subscribe"), .array("unsubscribe")]
    static let subscribeParameters: [Parameter] = [.array("streams", required: true)]
    static let unsubscribeParameters: [Parameter] = [.positiveInteger("feed"), .string("mid"), .string("sub_mid")]

    /// The `subscribe` and `unsubscribe` lists of an `update`, or the `streams` of a `subscribe` or
    /// `unsubscribe` request (Janus 1.1.2 takes those two as one-sided updates), checked as Janus
    /// checks them: lists that are present must not be empty, elements must be well formed.
    static func subscriptionChanges(_ name: RequestName, _ body: RequestBody) throws(VideoRoomError)
        -> (subscribe: [RequestBody], unsubscribe: [RequestBody])
    {
        let subscribe: [JSON]?
        let unsubscribe: [JSON]?
        switch name {
        case .subscribe, .unsubscribe:
            try body.validate(subscribeParameters)
            let streams = body["streams"]?.arrayValue ?? []
            (subscribe, unsubscribe) = name == .subscribe ? (streams, nil) : (nil, streams)
        default:
            try body.validate(updateParameters)
            (subscribe, unsubscribe) = (body["subscribe"]?.arrayValue, body["unsubscribe"]?.arrayValue)
            guard subscribe != nil || unsubscribe != nil else {
                throw VideoRoomError(.missingElement, "At least one of either 'subscribe' or 'unsubscribe' must be present")
            }
        }
        if subscribe?.isEmpty == true { throw VideoRoomError(.invalidElement, "Empty subscription list") }
        if unsubscribe?.isEmpty == true { throw VideoRoomError(.invalidElement, "Empty unsubscription list") }
        let adding = (subscribe ?? []).map(RequestBody.init(element:))
        let removing = (unsubscribe ?? []).map(RequestBody.init(element:))
        for stream in adding {
            try stream.validate(Self.subscriberStreamParameters)
            try stream.validate(Self.feedParameters)
        }
        for stream in removing { try stream.validate(Self.unsubscribeParameters) }
        return (adding, removing)
    }

    /// `update`, `subscribe`, `unsubscribe`: `subscribe` adds publishers' streams (`{feed, mid?}`),
    /// `unsubscribe` drops some (`{feed, mid?}` or `{sub_mid}`); the answer is `updated` with a new
    /// offer, `updated` alone when nothing changed, or `updating` when an offer still waits for its
    /// answer (the change is made once the answer is in, then `updated` follows) — Janus 1.1.2.
    private func update(_ request: ParsedRequest, subscription: Subscription, roomID: UInt64) throws(VideoRoomError) -> AsyncReply {
        let (subscribe, unsubscribe) = try Self.subscriptionChanges(request.name, request.body)
        var sources: [FeedSource] = []
        if let first = subscribe.first {
            // Destroyed meanwhile: Janus finds none of the feeds.
            guard let room = rooms.room(roomID) else { throw .noSuchFeed(first.integer("feed") ?? 0) }
            sources = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> [FeedSource] in
                var sources: [FeedSource] = []
                for stream in subscribe {
                    let feed = stream.integer("feed") ?? 0
                    guard let publisher = state.participants[feed], publisher.publishing else { throw .noSuchFeed(feed) }
                    sources += try Self.sources(of: publisher, mid: stream.string("mid"))
                }
                return sources
            }
        }
        let change = Subscription.Change(
            adding: sources.map { ($0.feed, $0.stream, $0.display) },
            removing: unsubscribe.map { StreamSelector(subMid: $0.string("sub_mid"), feed: $0.integer("feed"), mid: $0.string("mid")) })
        let outcome: Subscription.Outcome
        do {
            outcome = try subscription.apply(change)
        } catch {
            throw VideoRoomError(.unknown, error.reason)
        }
        return updatedEvent(outcome, subscription: subscription, roomID: roomID)
    }

    /// What an update (or the updates an answer released) led to, as Janus 1.1.2 reports it.
    private func updatedEvent(_ outcome: Subscription.Outcome, subscription: Subscription, roomID: UInt64) -> AsyncReply {
        switch outcome {
        case .queued:
            return AsyncReply(["videoroom": "updating", "room": JSON(roomID)])
        case .unchanged:
            return AsyncReply(["videoroom": "updated", "room": JSON(roomID)])
        case .offer(let offer):
            return AsyncReply(["videoroom": "updated", "room": JSON(roomID),
                               "streams": .array(subscription.streams.map(\.json))], jsep: offer)
        }
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
