import JanusAPI

/// What happens to a participant when its PeerConnection is hung up or its handle goes away,
/// following janus_videoroom_hangup_media() and janus_videoroom_destroy_session().
extension VideoRoomPlugin {
    /// A `hangup` (or, later, a PeerConnection the media engine lost). Janus tells the plugin only
    /// once per PeerConnection; the plugin then "unpublishes" the participant, which everyone else
    /// hears even when it never published.
    func hangUp(_ handle: PluginHandle) {
        let entry = handles.update(handle) { entry -> HandleRegistry.Entry? in
            guard !entry.hungUp else { return nil }
            entry.hungUp = true
            return entry
        }
        if let entry = entry ?? nil { unpublished(entry) }
        closeMedia(handle, reason: "Janus API")
    }

    /// The handle was detached (or its session destroyed or timed out). Janus first hangs up the
    /// PeerConnection (unless that already happened), then destroys the plugin session, which hangs
    /// up again and makes the participant leave: the others hear "unpublished" (twice, or once after
    /// an earlier hangup) and then "leaving".
    func depart(_ entry: HandleRegistry.Entry) {
        guard let seat = entry.seat, let room = rooms.room(seat.room) else { return }
        if !entry.hungUp { unpublished(entry) }
        unpublished(entry)
        guard let removed = room.remove(seat.participant) else { return }
        notify(removed.others, ["videoroom": "event", "room": JSON(room.id), "leaving": JSON(seat.participant)])
        logger.info("participant gone with its handle", metadata: ["room": "\(room.id)", "id": "\(seat.participant)"])
    }

    /// janus_videoroom_leave_or_unpublish(is_leaving: false): everyone else in the room hears
    /// `unpublished`. (The media issue also closes the participant's streams and recordings here.)
    private func unpublished(_ entry: HandleRegistry.Entry) {
        guard let seat = entry.seat, let room = rooms.room(seat.room),
              let others = room.handles(except: seat.participant) else { return }
        notify(others, ["videoroom": "event", "room": JSON(room.id), "unpublished": JSON(seat.participant)])
    }
}
