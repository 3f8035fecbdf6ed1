import JanusAPI

/// `create`: a new room, numbered by the client or at random.
extension VideoRoomPlugin {
    /// janus_videoroom.c's create_parameters, in its order (it decides which error comes first).
    /// Settings Confab does not implement (signed_tokens, vp9_profile, h264_profile, opus_dtx,
    /// dummy_publisher, dummy_streams) are type-checked like Janus does, then ignored.
    static let createParameters: [Parameter] = [
        .string("description"), .boolean("is_private"), .array("allowed"), .string("secret"), .string("pin"),
        .boolean("require_pvtid"), .boolean("signed_tokens"), .positiveInteger("bitrate"), .boolean("bitrate_cap"),
        .positiveInteger("fir_freq"), .positiveInteger("publishers"), .string("audiocodec"), .string("videocodec"),
        .string("vp9_profile"), .string("h264_profile"), .boolean("opus_fec"), .boolean("opus_dtx"),
        .boolean("video_svc"), .boolean("audiolevel_ext"), .boolean("audiolevel_event"),
        .positiveInteger("audio_active_packets"), .positiveInteger("audio_level_average"),
        .boolean("videoorient_ext"), .boolean("playoutdelay_ext"), .boolean("transport_wide_cc_ext"),
        .boolean("record"), .string("rec_dir"), .boolean("lock_record"), .boolean("permanent"),
        .boolean("notify_joining"), .boolean("require_e2ee"), .boolean("dummy_publisher"), .array("dummy_streams"),
    ]

    func create(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        try request.validate(Self.createParameters)
        try request.validate([.positiveInteger("room")])
        try checkSecret(adminKey, in: request, member: "admin_key")
        let audio = try CodecList.audio.parse(request.string("audiocodec"))
        let video = try CodecList.video.parse(request.string("videocodec"))
        let allowed = try Self.tokens(request["allowed"])
        let permanent = request.bool("permanent") == true
        let store = permanentRooms
        if permanent && store == nil { throw .noConfigurationFile("create permanent room") }
        let room = try rooms.create(requestedID: request.integer("room") ?? 0) { id in
            Self.options(id: id, request, audio: audio, video: video, allowed: allowed)
        }
        // As Janus: the room exists either way; a failed save only turns "permanent" false.
        let saved = permanent && store?.save(room.id, current: { room.options }) == true
        logger.info("room created", metadata: ["room": "\(room.id)", "permanent": "\(saved)"])
        return ["videoroom": "created", "room": JSON(room.id), "permanent": .bool(saved)]
    }

    /// An `allowed` array's tokens; every element must be a string.
    static func tokens(_ value: JSON?) throws(VideoRoomError) -> [String]? {
        guard let list = value?.arrayValue else { return nil }
        var tokens: [String] = []
        for item in list {
            guard let token = item.stringValue else { throw .allowedNotStrings }
            tokens.append(token)
        }
        return tokens
    }

    /// The room Janus would build from this request, quirks included (see the comments).
    private static func options(id: UInt64, _ request: RequestBody, audio: [String]?, video: [String]?,
                                allowed: [String]?) -> RoomOptions {
        var options = RoomOptions(id: id, description: request.string("description"))
        options.isPrivate = request.bool("is_private") ?? false
        options.requirePvtid = request.bool("require_pvtid") ?? false
        options.requireE2ee = request.bool("require_e2ee") ?? false
        options.secret = request.string("secret")
        options.pin = request.string("pin")
        // Janus stores publishers in an int, bitrate in a uint32 and fir_freq in a uint16.
        if let publishers = request.integer("publishers") {
            options.publishers = Int(Int32(truncatingIfNeeded: publishers))
            if options.publishers < 0 { options.publishers = 3 }
        }
        if let bitrate = request.integer("bitrate") {
            options.bitrate = UInt32(truncatingIfNeeded: bitrate)
            if options.bitrate > 0 && options.bitrate < RoomOptions.minimumBitrate { options.bitrate = RoomOptions.minimumBitrate }
        }
        options.bitrateCap = request.bool("bitrate_cap") ?? false
        if let firFreq = request.integer("fir_freq") { options.firFreq = UInt16(truncatingIfNeeded: firFreq) }
        if let audio { options.audiocodec = audio }
        if let video { options.videocodec = video }
        // FEC defaults to on even without Opus; only an explicit opus_fec is dropped for Opus-less rooms.
        if let fec = request.bool("opus_fec") { options.opusFec = fec && options.audiocodec.contains("opus") }
        options.videoSVC = request.bool("video_svc") == true && options.videocodec == ["vp9"]
        options.audiolevelExt = request.bool("audiolevel_ext") ?? true
        options.audiolevelEvent = request.bool("audiolevel_event") ?? false
        if let packets = request.integer("audio_active_packets"), packets > 0 {
            options.audioActivePackets = Int(Int32(truncatingIfNeeded: packets))
        }
        if let average = request.integer("audio_level_average"), average > 0 {
            options.audioLevelAverage = Int(Int32(truncatingIfNeeded: average))
        }
        options.videoorientExt = request.bool("videoorient_ext") ?? true
        options.playoutdelayExt = request.bool("playoutdelay_ext") ?? true
        options.transportWideCCExt = request.bool("transport_wide_cc_ext") ?? true
        options.notifyJoining = request.bool("notify_joining") ?? false
        options.record = request.bool("record") ?? false
        options.recDir = request.string("rec_dir")
        options.lockRecord = request.bool("lock_record") ?? false
        options.allowed = allowed.map(Set.init)
        return options
    }
}
