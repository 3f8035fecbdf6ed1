import JanusAPI

/// `edit`: changes a few of a room's settings; the room secret is required when it has one.
extension VideoRoomPlugin {
    static let editParameters: [Parameter] = [
        .string("secret"), .string("new_description"), .boolean("new_is_private"), .string("new_secret"),
        .string("new_pin"), .boolean("new_require_pvtid"), .positiveInteger("new_bitrate"),
        .positiveInteger("new_fir_freq"), .positiveInteger("new_publishers"), .boolean("new_lock_record"),
        .string("new_rec_dir"), .boolean("permanent"),
    ]

    func edit(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        _ = try request.room()
        try request.validate(Self.editParameters)
        let permanent = request.bool("permanent") == true
        let store = permanentRooms
        if permanent && store == nil { throw .noConfigurationFile("edit room permanently") }
        let room = try room(for: request)
        try room.withState { (state: inout Room.State) throws(VideoRoomError) in
            try checkSecret(state.options.secret, in: request, member: "secret")
            Self.apply(request, to: &state.options)
        }
        // The whole room is recorded, so a static room edited permanently keeps its other options too.
        let saved = permanent && store?.save(room.id, current: { room.options }) == true
        logger.info("room edited", metadata: ["room": "\(room.id)", "permanent": "\(saved)"])
        return ["videoroom": "edited", "room": JSON(room.id), "permanent": .bool(saved)]
    }

    /// Janus ignores empty new_description, new_secret and new_pin (so a pin can't be removed).
    private static func apply(_ request: RequestBody, to options: inout RoomOptions) {
        if let description = request.string("new_description"), !description.isEmpty { options.description = description }
        if let isPrivate = request.bool("new_is_private") { options.isPrivate = isPrivate }
        if let requirePvtid = request.bool("new_require_pvtid") { options.requirePvtid = requirePvtid }
        if let publishers = request.integer("new_publishers") { options.publishers = Int(Int32(truncatingIfNeeded: publishers)) }
        if let bitrate = request.integer("new_bitrate") {
            options.bitrate = UInt32(truncatingIfNeeded: bitrate)
            if options.bitrate > 0 && options.bitrate < RoomOptions.minimumBitrate { options.bitrate = RoomOptions.minimumBitrate }
        }
        if let firFreq = request.integer("new_fir_freq") { options.firFreq = UInt16(truncatingIfNeeded: firFreq) }
        if let secret = request.string("new_secret"), !secret.isEmpty { options.secret = secret }
        if let pin = request.string("new_pin"), !pin.isEmpty { options.pin = pin }
        if let lockRecord = request.bool("new_lock_record") { options.lockRecord = lockRecord }
        if let recDir = request.string("new_rec_dir") { options.recDir = recDir }
    }
}
