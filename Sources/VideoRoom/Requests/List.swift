import JanusAPI

/// `list`: the rooms and their settings. Private rooms only show with the plugin's admin key
/// (never when none is configured); a wrong non-empty admin_key is refused.
extension VideoRoomPlugin {
    func list(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        var includePrivate = false
        if let adminKey, let given = request.string("admin_key"), !given.isEmpty {
            try checkSecret(adminKey, in: request, member: "admin_key")
            includePrivate = true
        }
        let entries = rooms.all
            .map { ($0.options, $0.participantCount) }
            .filter { includePrivate || !$0.0.isPrivate }
            .map { Self.listEntry($0.0, participants: $0.1) }
        return ["videoroom": "success", "list": .array(entries)]
    }

    /// One room as janus_videoroom.c lists it: some keys only appear when set.
    static func listEntry(_ room: RoomOptions, participants: Int) -> JSON {
        var entry: [String: JSON] = [
            "room": JSON(room.id),
            "description": .string(room.description),
            "pin_required": .bool(room.pin != nil),
            "is_private": .bool(room.isPrivate),
            "max_publishers": .int(Int64(room.publishers)),
            "bitrate": .int(Int64(room.bitrate)),
            "fir_freq": .int(Int64(room.firFreq)),
            "require_pvtid": .bool(room.requirePvtid),
            "require_e2ee": .bool(room.requireE2ee),
            "dummy_publisher": false,
            "notify_joining": .bool(room.notifyJoining),
            "audiocodec": .string(room.audiocodec.joined(separator: ",")),
            "videocodec": .string(room.videocodec.joined(separator: ",")),
            "record": .bool(room.record),
            "lock_record": .bool(room.lockRecord),
            "num_participants": .int(Int64(participants)),
            "audiolevel_ext": .bool(room.audiolevelExt),
            "audiolevel_event": .bool(room.audiolevelEvent),
            "videoorient_ext": .bool(room.videoorientExt),
            "playoutdelay_ext": .bool(room.playoutdelayExt),
            "transport_wide_cc_ext": .bool(room.transportWideCCExt),
        ]
        if room.bitrateCap { entry["bitrate_cap"] = true }
        if room.opusFec { entry["opus_fec"] = true }
        if room.videoSVC { entry["video_svc"] = true }
        if let recDir = room.recDir { entry["rec_dir"] = .string(recDir) }
        if room.audiolevelEvent {
            entry["audio_active_packets"] = .int(Int64(room.audioActivePackets))
            entry["audio_level_average"] = .int(Int64(room.audioLevelAverage))
        }
        return .object(entry)
    }
}
