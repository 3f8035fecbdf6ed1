import JanusAPI

/// `unpublish`: stop sending media. As in Janus 1.1.2 the participant hears `unpublished: "ok"`
/// and then the core's `hangup` ("Close PC"); everyone else hears `unpublished` twice (once from
/// the request, once from the PeerConnection going away).
extension VideoRoomPlugin {
    func unpublish(room: Room, participantID: UInt64, message: PluginMessage) throws(VideoRoomError) -> AsyncReply? {
        let publishing = try room.withParticipant(participantID) { (participant: inout Participant, _: Room.State) in
            participant.feed?.isPublishing == true
        }
        guard publishing, let feed = media.feed(message.handle) else { throw .notPublished }
        if let others = room.handles(except: participantID) {
            notify(others, ["videoroom": "event", "room": JSON(room.id), "unpublished": JSON(participantID)])
        }
        message.handle.pushEvent(transaction: message.transaction,
                                 data: ["videoroom": "event", "room": JSON(room.id), "unpublished": "ok"])
        feed.webrtc.hangUp(reason: "Close PC")
        return nil
    }
}
