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

    /// Tells everyone who was in a destroyed room, as Janus does. Their handles keep their role but
    /// lose the room (so they cannot join again). Janus also asks the core to close their
    /// PeerConnections, which sets the hangup flag; closing them is the media issue's part.
    func notifyDestroyed(_ roomID: UInt64, _ participants: [Participant]) {
        let event: JSON = ["videoroom": "destroyed", "room": JSON(roomID)]
        for participant in participants.sorted(by: { $0.id < $1.id }) {
            handles.update(participant.handle) { entry in
                entry.roomID = nil
                entry.participantID = nil
                entry.hungUp = true
            }
            participant.handle.pushEvent(transaction: nil, data: event)
            closeMedia(participant.handle, reason: "Room destroyed")
        }
    }
}
