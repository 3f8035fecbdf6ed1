import JanusAPI

/// `configure` and `publish` without media: a participant changes its display name or bitrate cap.
/// With an SDP offer they negotiate a PeerConnection, which needs the media engine (499 for now).
extension VideoRoomPlugin {
    /// publish_parameters of Janus 1.1.2, in its order. `audio_level_averge` is Janus's own typo:
    /// the correctly spelled `audio_level_average` is read but never checked.
    static let publishParameters: [Parameter] = [
        .array("descriptions"), .string("audiocodec"), .string("videocodec"), .positiveInteger("bitrate"),
        .boolean("keyframe"), .boolean("record"), .string("filename"), .string("display"), .string("secret"),
        .positiveInteger("audio_level_averge"), .positiveInteger("audio_active_packets"), .boolean("audio"),
        .boolean("video"), .boolean("data"), .boolean("update"), .boolean("restart"),
    ]
    /// What each element of `streams` may say about one published stream (Janus 1.1.2 checks
    /// no more than these).
    static let configureStreamParameters: [Parameter] = [
        .string("mid"), .boolean("send"), .integer("min_delay"), .integer("max_delay"),
    ]

    func configure(_ request: RequestBody, room: Room, participantID: UInt64, jsep: JSON?) throws(VideoRoomError) -> JSON {
        // (`publish` while publishing is 434 "Can't publish, already published": media issue.)
        try request.validate(Self.publishParameters)
        try Self.validateDescriptions(request["descriptions"])
        try Self.checkStreams(request)
        if jsep != nil { throw .publishingUnsupported }
        let change = try room.withParticipant(participantID) { (participant: inout Participant, state: Room.State) -> DisplayChange? in
            if let bitrate = request.integer("bitrate") { participant.bitrate = UInt32(truncatingIfNeeded: bitrate) }
            guard let display = request.string("display") else { return nil }
            let hadName = participant.display != nil
            participant.display = display
            // Janus only announces a rename, not a first name.
            return hadName ? DisplayChange(display: display, others: state.handles(except: participantID)) : nil
        }
        if let change {
            notify(change.others, ["videoroom": "event", "id": JSON(participantID), "display": .string(change.display)])
        }
        return ["videoroom": "event", "room": JSON(room.id), "configured": "ok"]
    }

    struct DisplayChange: Sendable {
        let display: String
        let others: [PluginHandle]
    }

    /// `streams` (or, without a non-empty one, the older top-level `mid`) names published streams
    /// to change. None exists until the participant publishes, so any named one is unknown. An
    /// element without `mid` means "every stream", which Janus only accepts as the sole element.
    private static func checkStreams(_ request: RequestBody) throws(VideoRoomError) {
        guard let streams = request["streams"]?.arrayValue, !streams.isEmpty else {
            // Only a string counts: Janus ignores a `mid` of any other type.
            if let mid = request.string("mid") { throw .noSuchPublishedMid(mid) }
            return
        }
        for element in streams {
            let stream = RequestBody(element: element)
            try stream.validate(configureStreamParameters)
            guard let mid = stream.string("mid") else {
                if streams.count > 1 { throw .midlessStreamAmongOthers }
                continue
            }
            throw .noSuchPublishedMid(mid)
        }
    }
}
