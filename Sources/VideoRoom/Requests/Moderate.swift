import JanusAPI

/// `moderate`: a moderator mutes or unmutes one of a participant's published streams (by `mid`).
/// Without the media engine nobody has streams, so a valid request ends at "No such stream".
extension VideoRoomPlugin {
    static let moderateParameters: [Parameter] = [
        .string("secret"), .string("mid", required: true), .boolean("mute", required: true),
    ]

    func moderate(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        // As with kick, Janus keeps only the `id` verdict of its room-then-id validation.
        try request.validate([.positiveInteger("id", required: true)])
        try request.validate(Self.moderateParameters)
        let roomID = request.janusInteger("room")
        guard let room = rooms.room(roomID) else { throw .noSuchRoom(roomID) }
        let id = request.integer("id") ?? 0
        let mid = request.string("mid") ?? ""
        try room.withState { (state: inout Room.State) throws(VideoRoomError) in
            try checkSecret(state.options.secret, in: request, member: "secret")
            guard state.participants[id] != nil else { throw .noSuchUser(id, room: roomID) }
            // The media issue looks `mid` up among the participant's streams and notifies the room.
            throw .noSuchStream(mid)
        }
        return ["videoroom": "success"]
    }
}
