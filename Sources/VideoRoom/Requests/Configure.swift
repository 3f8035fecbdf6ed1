import JanusAPI
import SDP

/// `configure` and `publish`: a participant changes its display name or bitrate cap, and with an
/// SDP offer (re)negotiates what it publishes.
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

    func configure(_ request: RequestBody, isPublish: Bool, room: Room, participantID: UInt64,
                   message: PluginMessage) throws(VideoRoomError) -> AsyncReply {
        try request.validate(Self.publishParameters)
        try Self.validateDescriptions(request["descriptions"])
        let feed = media.feed(message.handle)
        try Self.checkStreams(request, published: Set((feed?.streams ?? []).map(\.media.mid)))
        if message.jsep != nil, engine == nil { throw .publishingUnsupported }
        if isPublish, message.jsep != nil, feed?.isPublishing == true { throw .alreadyPublished }
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
        if let bitrate = request.integer("bitrate"), let feed {
            feed.bitrate.store(UInt32(truncatingIfNeeded: bitrate), ordering: .relaxed)
            feed.sendREMB(context: nil)
        }
        if let feed { Self.applyRelaying(request, to: feed) }
        if request.bool("keyframe") == true, let feed {
            for stream in feed.streams where stream.kind == .video { feed.requestKeyframe(position: stream.position, context: nil) }
        }
        if message.jsep == nil {
            try applyRecordingRequest(request, room: room, participantID: participantID)
            refreshRecording(room: room, participantID: participantID)
        }
        if let offer = message.jsep {
            let (event, answer) = try publish(offer: offer, request: request, room: room, participantID: participantID,
                                              handle: message.handle)
            return AsyncReply(event, jsep: answer)
        }
        return AsyncReply(["videoroom": "event", "room": JSON(room.id), "configured": "ok"])
    }

    struct DisplayChange: Sendable {
        let display: String
        let others: [PluginHandle]
    }

    /// `send` per stream (Janus ignores it in an element without `mid`), after the older
    /// `audio` / `video` booleans that mean every stream of that kind: Janus then stops or
    /// resumes relaying those streams to subscribers.
    private static func applyRelaying(_ request: RequestBody, to feed: PublisherFeed) {
        let published = feed.streams
        for (kind, key) in [(MediaKind.audio, "audio"), (.video, "video")] {
            guard let on = request.bool(key) else { continue }
            for stream in published where stream.kind == kind { feed.setRelaying(on, position: stream.position) }
        }
        for element in request["streams"]?.arrayValue ?? [] {
            let wanted = RequestBody(element: element)
            guard let on = wanted.bool("send"), let mid = wanted.string("mid") else { continue }
            for stream in published where stream.media.mid == mid {
                feed.setRelaying(on, position: stream.position)
            }
        }
    }

    /// `streams` (or, without a non-empty one, the older top-level `mid`) names published streams
    /// to change. None exists until the participant publishes, so any named one is unknown. An
    /// element without `mid` means "every stream", which Janus only accepts as the sole element.
    private static func checkStreams(_ request: RequestBody, published: Set<String>) throws(VideoRoomError) {
        guard let streams = request["streams"]?.arrayValue, !streams.isEmpty else {
            // Only a string counts: Janus ignores a `mid` of any other type.
            if let mid = request.string("mid"), !published.contains(mid) { throw .noSuchPublishedMid(mid) }
            return
        }
        for element in streams {
            let stream = RequestBody(element: element)
            try stream.validate(configureStreamParameters)
            guard let mid = stream.string("mid") else {
                if streams.count > 1 { throw .midlessStreamAmongOthers }
                continue
            }
            if !published.contains(mid) { throw .noSuchPublishedMid(mid) }
        }
    }
}
