import JanusAPI

/// `destroy`: removes a room (static or created); everyone in it gets a `destroyed` event and
/// their PeerConnections close.
extension VideoRoomPlugin {
    func destroy(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        _ = try request.room()
        try request.validate([.boolean("permanent")])
        let permanent = request.bool("permanent") == true
        let store = permanentRooms
        if permanent && store == nil { throw .noConfigurationFile("destroy room permanently") }
        let room = try room(for: request)
        try room.withState { (state: inout Room.State) throws(VideoRoomError) in
            try checkSecret(state.options.secret, in: request, member: "secret")
        }
        guard rooms.remove(room) else { throw .noSuchRoom(room.id) }
        let participants = room.markDestroyed()
        // Subscriptions first: once unhooked, the publishers' PeerConnections closing below no
        // longer renegotiate them (an `updated` offer for a room that is gone).
        let subscriptions = media.allSubscriptions.filter { $0.roomID == room.id }
        notifyDestroyed(room.id, subscriptions)
        notifyDestroyed(room.id, participants)
        let removed = permanent && store?.remove(room.id) == true
        logger.info("room destroyed", metadata: [
            "room": "\(room.id)", "participants": "\(participants.count)", "permanent": "\(removed)",
        ])
        return ["videoroom": "destroyed", "room": JSON(room.id), "permanent": .bool(removed)]
    }

    /// Tells everyone who was in a destroyed room, as Janus does. Their handles keep their role but
    /// lose the room (so they cannot join again). As Janus, their PeerConnections are closed
    /// ("Close PC"), which sets the hangup flag.
    func notifyDestroyed(_ roomID: UInt64, _ participants: [Participant]) {
        let event: JSON = ["videoroom": "destroyed", "room": JSON(roomID)]
        for participant in participants.sorted(by: { $0.id < $1.id }) {
            handles.update(participant.handle) { entry in
                entry.roomID = nil
                entry.participantID = nil
                entry.hungUp = true
            }
            participant.handle.pushEvent(transaction: nil, data: event)
            closeMedia(participant.handle, reason: "Close PC")
        }
    }

    /// Subscribers of a destroyed room hear `destroyed` too (Janus 1.1.2 tells only the room's
    /// participants and leaves subscribers with a PeerConnection that carries nothing any more):
    /// their streams are unhooked and their PeerConnections closed ("Close PC"). The handle stays
    /// a subscriber: `start`, `pause`, `configure` and `leave` still answer as in Janus.
    func notifyDestroyed(_ roomID: UInt64, _ subscriptions: [Subscription]) {
        let event: JSON = ["videoroom": "destroyed", "room": JSON(roomID)]
        for subscription in subscriptions {
            subscription.detachFromFeeds()
            subscription.handle.pushEvent(transaction: nil, data: event)
            subscription.webrtc.hangUp(reason: "Close PC")
        }
    }
}
