import JanusAPI

/// `kick`: a moderator (with the room secret) takes a participant out. They hear
/// `leaving: "ok", reason: "kicked"` and the core's hangup ("Close PC"), everyone else
/// `kicked: <id>` (and no `unpublished`); the handle cannot join again, a new handle can.
extension VideoRoomPlugin {
    static let kickParameters: [Parameter] = [.string("secret")]

    func kick(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        // Janus validates `room` then `id` but keeps only the second verdict, so a missing or
        // mistyped room turns into "No such room (0)" below.
        try request.validate([.positiveInteger("id", required: true)])
        try request.validate(Self.kickParameters)
        let roomID = request.janusInteger("room")
        guard let room = rooms.room(roomID) else { throw .noSuchRoom(roomID) }
        let id = request.integer("id") ?? 0
        let (kicked, others) = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> (Participant, [PluginHandle]) in
            try checkSecret(state.options.secret, in: request, member: "secret")
            guard let kicked = state.participants.removeValue(forKey: id) else { throw .noSuchUser(id, room: roomID) }
            return (kicked, state.handles(except: nil))
        }
        // Janus also asks the core to close the PeerConnection, which sets the hangup flag.
        handles.update(kicked.handle) { entry in
            entry.roomID = nil
            entry.participantID = nil
            entry.hungUp = true
        }
        kicked.handle.pushEvent(transaction: nil, data: [
            "videoroom": "event", "room": JSON(roomID), "leaving": "ok", "reason": "kicked",
        ])
        notify(others, ["videoroom": "event", "room": JSON(roomID), "kicked": JSON(id)])
        // Janus closes the PeerConnection the way `unpublish` does: the hangup says "Close PC".
        closeMedia(kicked.handle, reason: "Close PC")
        logger.info("participant kicked", metadata: ["room": "\(roomID)", "id": "\(id)"])
        return ["videoroom": "success"]
    }
}
