import JanusAPI

/// `destroy`: removes a room (static or created); everyone in it gets a `destroyed` event.
extension VideoRoomPlugin {
    func destroy(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        _ = try request.room()
        try request.validate([.boolean("permanent")])
        if request.bool("permanent") == true { throw .noConfigurationFile("destroy room permanently") }
        let room = try room(for: request)
        try room.withState { (state: inout Room.State) throws(VideoRoomError) in
            try checkSecret(state.options.secret, in: request, member: "secret")
        }
        guard rooms.remove(room) else { throw .noSuchRoom(room.id) }
        let participants = room.markDestroyed()
        notifyDestroyed(room.id, participants)
        logger.info("room destroyed", metadata: ["room": "\(room.id)", "participants": "\(participants.count)"])
        return ["videoroom": "destroyed", "room": JSON(room.id), "permanent": false]
    }

    /// Tells everyone who was in a destroyed room, as Janus does. Hook for the media issue: this is
    /// also where their PeerConnections get closed and their handles forget the room.
    func notifyDestroyed(_ roomID: UInt64, _ participants: [Participant]) {
        let event: JSON = ["videoroom": "destroyed", "room": JSON(roomID)]
        for participant in participants {
            handles.update(participant.handle) { entry in
                entry.roomID = nil
                entry.participantID = nil
            }
            participant.handle.pushEvent(transaction: nil, data: event)
        }
    }
}
