import JanusAPI

/// `join` with `ptype: "subscriber"`: a handle asks for other participants' streams. Every feed
/// must be a participant who publishes; until the media engine exists nobody does, so this answers
/// what Janus answers then ("No such feed"), and 499 where Janus would send its SDP offer.
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

    func joinAsSubscriber(_ request: RequestBody, room: Room) throws(VideoRoomError) -> JSON? {
        try request.validate(Self.subscriberParameters)
        let wanted: [RequestBody]
        if let streams = request["streams"]?.arrayValue, !streams.isEmpty {
            wanted = streams.map(RequestBody.init(element:))
        } else {
            // The legacy form: one publisher, all of its streams.
            try request.validate(Self.feedParameters)
            wanted = [RequestBody(["feed": request["feed"] ?? .null])]
        }
        try room.withState { (state: inout Room.State) throws(VideoRoomError) in
            for stream in wanted {
                try stream.validate(Self.subscriberStreamParameters)
                try stream.validate(Self.feedParameters)
                let feed = stream.integer("feed") ?? 0
                guard let publisher = state.participants[feed], publisher.publishing else { throw .noSuchFeed(feed) }
            }
            if state.options.requirePvtid {
                let privateID = request.integer("private_id") ?? 0
                guard privateID != 0, state.participants.values.contains(where: { UInt64($0.privateID) == privateID }) else {
                    throw .privateIDRequired
                }
            }
        }
        throw .subscribingUnsupported
    }
}
