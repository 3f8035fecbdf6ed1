import JanusAPI

/// `enable_recording`: turns the room's `record` flag on or off (what `list` shows), and with it
/// the recording of every publisher in the room (see Recording.swift).
extension VideoRoomPlugin {
    func enableRecording(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        try request.validate([.boolean("record", required: true)])
        // Janus does not validate `room` here: a missing or mistyped one is "No such room (0)".
        let roomID = request.janusInteger("room")
        guard let room = rooms.room(roomID) else { throw .noSuchRoom(roomID) }
        let record = request.bool("record") ?? false
        let participants = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> [UInt64] in
            try checkSecret(state.options.secret, in: request, member: "secret")
            state.options.record = record
            // Everyone follows the room again, whatever they chose themselves.
            for id in state.participants.keys { state.participants[id]?.record = nil }
            return Array(state.participants.keys)
        }
        for id in participants { refreshRecording(room: room, participantID: id) }
        logger.info("room recording changed", metadata: ["room": "\(roomID)", "record": "\(record)"])
        return ["videoroom": "success", "record": .bool(record)]
    }
}
