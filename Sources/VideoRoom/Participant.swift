import JanusAPI

/// Someone who joined a room as a publisher (Janus's janus_videoroom_publisher), reached through
/// their handle. Joining does not mean sending media: until a PeerConnection is up (media issue)
/// a participant only receives the room's events, and `publishing` stays false.
struct Participant: Sendable {
    let id: UInt64
    let handle: PluginHandle
    /// Told only to the participant; subscriptions present it to say whose they are (require_pvtid).
    let privateID: UInt32
    var display: String?
    /// The REMB cap for this participant's video: the room's at join, then joinandconfigure's or
    /// configure's `bitrate`.
    var bitrate: UInt32
    /// Whether their PeerConnection is up and sending media.
    var publishing = false
    /// Set when the room detects speech (audio levels in use and the participant publishes audio).
    var talking: Bool?
    /// Their media once they sent an offer (publish, configure or joinandconfigure with a jsep).
    var feed: PublisherFeed?
    /// Their own `record` choice (publish/configure); nil follows the room's `record`.
    var record: Bool?
    /// `filename`: the base of their recording files; nil = Janus's default name.
    var recordingBase: String?

    init(id: UInt64, handle: PluginHandle, privateID: UInt32 = 0, display: String? = nil, bitrate: UInt32 = 0,
         publishing: Bool = false, talking: Bool? = nil) {
        self.id = id
        self.handle = handle
        self.privateID = privateID
        self.display = display
        self.bitrate = bitrate
        self.publishing = publishing
        self.talking = talking
    }

    /// One entry of `listparticipants`.
    var json: JSON {
        var entry: [String: JSON] = ["id": JSON(id), "publisher": .bool(publishing)]
        if let display { entry["display"] = .string(display) }
        if publishing, let talking { entry["talking"] = .bool(talking) }
        return .object(entry)
    }

    /// One entry of `attendees` (notify_joining rooms) and of the `joining` event.
    var attendee: JSON {
        var entry: [String: JSON] = ["id": JSON(id)]
        if let display { entry["display"] = .string(display) }
        return .object(entry)
    }

    /// One entry of the `publishers` lists (`joined`, `event`): who, which codecs, which streams.
    var publisherSummary: JSON {
        let streams = feed?.streams ?? []
        var entry: [String: JSON] = ["id": JSON(id), "streams": .array(streams.map(\.json))]
        if let display { entry["display"] = .string(display) }
        if let audio = streams.first(where: { $0.kind == .audio }) { entry["audio_codec"] = .string(audio.codecName) }
        if let video = streams.first(where: { $0.kind == .video }) { entry["video_codec"] = .string(video.codecName) }
        if let talking { entry["talking"] = .bool(talking) }
        return .object(entry)
    }
}
