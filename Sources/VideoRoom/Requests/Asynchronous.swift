import JanusAPI

/// Janus's janus_videoroom_handler: what an asynchronous request may do depends on what the
/// handle already is (nothing yet, or a publisher still in its room or not).
extension VideoRoomPlugin {
    func asynchronous(_ request: ParsedRequest, message: PluginMessage) throws(VideoRoomError) -> AsyncReply? {
        // A handle detached while its message waited: Janus drops the message.
        guard let entry = handles.entry(message.handle) else { return nil }
        switch entry.role {
        case .none:
            guard request.name.isJoin else { throw .unconfigured }
            return try join(request.body, name: request.name, message: message)
        case .joining:
            // Only a second join racing the first can get here (Janus runs one message at a time).
            throw request.name.isJoin ? .alreadyPublisher : .unconfigured
        case .publisher:
            // Left, kicked or destroyed: the handle keeps its role but has no room any more.
            guard let seat = entry.seat, let room = rooms.room(seat.room) else {
                throw request.name.isJoin ? .notInARoom : .roomGone
            }
            return try publisherRequest(request, room: room, participantID: seat.participant, message: message)
        case .subscriber:
            if request.name.isJoin { throw .alreadySubscriber }
            return try subscriberRequest(request, message: message)
        }
    }

    /// What a participant in a room may ask; subscriber requests (start, switch, ...) are unknown here.
    private func publisherRequest(_ request: ParsedRequest, room: Room, participantID: UInt64,
                                  message: PluginMessage) throws(VideoRoomError) -> AsyncReply? {
        switch request.name {
        case .join, .joinAndConfigure:
            throw .alreadyPublisher
        case .configure, .publish:
            return try configure(request.body, isPublish: request.name == .publish, room: room,
                                 participantID: participantID, message: message)
        case .unpublish:
            return try unpublish(room: room, participantID: participantID, message: message)
        case .leave:
            return AsyncReply(try leave(room: room, participantID: participantID, handle: message.handle))
        default:
            throw .unknownRequest(request.text)
        }
    }
}
