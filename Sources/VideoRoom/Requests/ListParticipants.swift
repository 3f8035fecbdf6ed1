import JanusAPI

/// `listparticipants`: who is in a room (no secret needed).
extension VideoRoomPlugin {
    func listParticipants(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        let room = try room(for: request)
        return [
            "videoroom": "participants",
            "room": JSON(room.id),
            "participants": .array(room.participants.map(\.json)),
        ]
    }
}
