/// A room's settings: what `create` accepts and `list` shows, named after their Janus keys
/// (`is_private` is `isPrivate`, `fir_freq` is `firFreq`, ...). Rooms given at start-up use it as is;
/// `create` builds one from a request.
public struct RoomOptions: Sendable, Equatable {
    /// The room number (`room`). String ids (`string_ids`) are not supported.
    public var id: UInt64
    /// Pretty name; Janus shows "Room <id>" when none is given.
    public var description: String
    /// Hidden from `list` unless the plugin's admin key is given.
    public var isPrivate = false
    /// Needed to edit or destroy the room (and for other moderator requests); nil = none.
    /// An empty string is a secret too: the request must then carry `"secret": ""`.
    public var secret: String?
    /// Needed to join; nil = none.
    public var pin: String?
    /// Subscribers must present a publisher's `private_id`.
    public var requirePvtid = false
    /// Participants must use end-to-end encryption (Insertable Streams).
    public var requireE2ee = false
    /// How many participants may publish at once.
    public var publishers = 3
    /// Bitrate cap (REMB) for publishers in bits per second; 0 = none, otherwise at least 64000.
    public var bitrate: UInt32 = 0
    /// Whether publishers cannot raise their bitrate above `bitrate`.
    public var bitrateCap = false
    /// Seconds between keyframe requests to publishers; 0 = only when needed.
    public var firFreq: UInt16 = 0
    /// Allowed audio codecs in order of preference (at most 5; `audiocodec` is their comma list).
    public var audiocodec = ["opus"]
    /// Allowed video codecs in order of preference (at most 5).
    public var videocodec = ["vp8"]
    /// Negotiate Opus in-band FEC.
    public var opusFec = true
    /// VP9 SVC (only honoured when VP9 is the room's only video codec).
    public var videoSVC = false
    /// Negotiate the ssrc-audio-level RTP extension.
    public var audiolevelExt = true
    /// Tell participants who is talking.
    public var audiolevelEvent = false
    /// Packets of audio level looked at before deciding someone talks (with `audiolevelEvent`).
    public var audioActivePackets = 100
    /// Average level (0 loud ... 127 muted) that counts as talking (with `audiolevelEvent`).
    public var audioLevelAverage = 25
    /// Negotiate the video-orientation RTP extension.
    public var videoorientExt = true
    /// Negotiate the playout-delay RTP extension.
    public var playoutdelayExt = true
    /// Negotiate transport-wide congestion control.
    public var transportWideCCExt = true
    /// Tell participants about everyone joining, not only publishers.
    public var notifyJoining = false
    /// Recording state can only be changed with the room secret.
    public var lockRecord = false
    /// Record publishers.
    public var record = false
    /// Where recordings go; nil = the current directory.
    public var recDir: String?
    /// Tokens allowed to join; nil = anyone may join (the check is off).
    public var allowed: Set<String>?

    public init(id: UInt64, description: String? = nil) {
        self.id = id
        self.description = Self.description(description, id: id)
    }

    static func description(_ text: String?, id: UInt64) -> String {
        if let text, !text.isEmpty { return text }
        return "Room \(id)"
    }

    /// Janus's rules for rooms given at start-up (`create` applies its own, see Create.swift): a name,
    /// a bitrate of at least 64 kbps when capped, known codecs only (at most five each), SVC only for
    /// VP9-only rooms, positive audio-level thresholds.
    func normalized() -> RoomOptions {
        var options = self
        options.description = Self.description(description, id: id)
        if options.bitrate > 0 && options.bitrate < Self.minimumBitrate { options.bitrate = Self.minimumBitrate }
        options.audiocodec = CodecList.audio.normalize(audiocodec)
        options.videocodec = CodecList.video.normalize(videocodec)
        if options.videocodec != ["vp9"] { options.videoSVC = false }
        if options.audioActivePackets <= 0 { options.audioActivePackets = 100 }
        if options.audioLevelAverage <= 0 { options.audioLevelAverage = 25 }
        return options
    }

    /// Janus never caps publishers below 64 kbps.
    static let minimumBitrate: UInt32 = 64000
}
