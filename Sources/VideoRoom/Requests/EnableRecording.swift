import JanusAPI

/// `enable_recording`: turns the room's `record` flag on or off (what `list` shows). Recording
/// the participants' streams when it is on is the media issue's part.
extension VideoRoomPlugin {
    func enableRecording(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        try request.validate([.boolean("record", required: true)])
        // Janus does not validate `room` here: a missing or mistyped one is "No such room (0)".
        let roomID = request.janusInteger("room")
        guard let room = rooms.room(roomID) else { throw .noSuchRoom(roomID) }
        let record = request.bool("record") ?? false
        try room.withState { (state: inout Room.State) throws(VideoRoomError) in
            try checkSecret(state.options.secret, in: request, member: "secret")
            state.options.record = record
        }
        logger.info("room recording changed", metadata: ["room": "\(roomID)", "record": "\(record)"])
        return ["videoroom": "success", "record": .bool(record)]
    }
}
