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
        case .switchFeeds, .update, .subscribe, .unsubscribe:
            throw .notImplemented(request.name.rawValue)
        default:
            throw .unknownRequest(request.text)
        }
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
            }
        }
    }
}
