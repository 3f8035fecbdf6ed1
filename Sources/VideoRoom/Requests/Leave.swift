import JanusAPI

/// `leave`: the participant goes; everyone else hears "leaving". The handle stays a (roomless)
/// publisher, as in Janus, so it cannot join again.
extension VideoRoomPlugin {
    func leave(room: Room, participantID: UInt64, handle: PluginHandle) throws(VideoRoomError) -> JSON {
        guard let removed = room.remove(participantID) else { throw .roomGone }
        handles.leftRoom(handle)
        notify(removed.others, ["videoroom": "event", "room": JSON(room.id), "leaving": JSON(participantID)])
        // Its PeerConnection closes after it left, so the room hears `leaving` only (Janus 1.1.2);
        // its subscribers get `updated`.
        media.feed(handle)?.webrtc.hangUp(reason: "Close PC")
        logger.info("participant left", metadata: ["room": "\(room.id)", "id": "\(participantID)"])
        return ["videoroom": "event", "room": JSON(room.id), "leaving": "ok"]
    }
}
