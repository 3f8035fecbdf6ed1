import JanusAPI

/// `join` with `ptype: "publisher"`: the handle becomes a participant of the room, which gets it
/// the room's events; publishing media is a later step (configure/publish with an SDP offer).
extension VideoRoomPlugin {
    static let publisherParameters: [Parameter] = [.string("display")]
    static let descriptionParameters: [Parameter] = [.string("mid", required: true), .string("description", required: true)]

    func joinAsPublisher(_ request: RequestBody, name: RequestName, room: Room, message: PluginMessage)
        throws(VideoRoomError) -> AsyncReply?
    {
        try request.validate(Self.publisherParameters)
        try request.validate([.positiveInteger("id")])
        try Self.validateDescriptions(request["descriptions"])
        let handle = message.handle
        // Claim the handle so a concurrent join on it cannot also succeed.
        let claimed = handles.update(handle) { entry -> Bool in
            guard entry.role == .none else { return false }
            entry.role = .joining
            return true
        }
        guard let claimed else { return nil }
        guard claimed else { throw .alreadyPublisher }

        let joined: Joined
        do {
            joined = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> Joined in
                try Self.admit(request, jsep: message.jsep, into: &state, handle: handle, configure: name == .joinAndConfigure,
                               canPublish: engine != nil)
            }
        } catch {
            handles.update(handle) { $0.role = .none }
            throw error
        }
        let participant = joined.participant
        let registered = handles.update(handle) { entry -> Bool in
            entry.role = .publisher
            entry.roomID = room.id
            entry.participantID = participant.id
            return true
        }
        guard registered == true else {
            // Detached while joining: Janus invalidates the new publisher the same way.
            room.removeParticipant(participant.id)
            return nil
        }
        if !joined.toNotify.isEmpty {
            notify(joined.toNotify, ["videoroom": "event", "room": JSON(room.id), "joining": participant.attendee])
        }
        logger.info("participant joined", metadata: ["room": "\(room.id)", "id": "\(participant.id)"])
        // A join with an offer publishes at once: the `joined` event carries the answer.
        guard let offer = message.jsep else { return AsyncReply(joined.event) }
        let (_, answer) = try publish(offer: offer, request: request, room: room, participantID: participant.id, handle: handle)
        return AsyncReply(joined.event, jsep: answer)
    }

    /// What admitting a participant produced, computed with the room locked.
    struct Joined: Sendable {
        let participant: Participant
        let event: JSON
        /// Who hears about the newcomer (notify_joining rooms only).
        let toNotify: [PluginHandle]
    }

    /// The checks that need the room (access list, id), then the participant and its `joined` event.
    private static func admit(_ request: RequestBody, jsep: JSON?, into state: inout Room.State, handle: PluginHandle,
                              configure: Bool, canPublish: Bool) throws(VideoRoomError) -> Joined {
        guard state.allowed.admits(request.string("token")) else { throw .notAllowed }
        var id = request.integer("id") ?? 0
        if id != 0, state.participants[id] != nil { throw .idTaken(id) }
        // Everything a join can refuse has been checked: what is left needs the media engine.
        if jsep != nil, !canPublish { throw .publishingUnsupported }
        if id == 0 { id = state.freshParticipantID() }
        var participant = Participant(
            id: id, handle: handle, privateID: state.freshPrivateID(), display: request.string("display"),
            bitrate: state.options.bitrate)
        // joinandconfigure also configures; without an SDP only the bitrate is left to apply.
        if configure, let bitrate = request.integer("bitrate") { participant.bitrate = UInt32(truncatingIfNeeded: bitrate) }
        let others = state.participants.values.sorted { $0.id < $1.id }
        state.participants[id] = participant

        var event: [String: JSON] = [
            "videoroom": "joined", "room": JSON(state.options.id), "description": .string(state.options.description),
            "id": JSON(id), "private_id": .int(Int64(participant.privateID)),
            "publishers": .array(others.filter(\.publishing).map(\.publisherSummary)),
        ]
        // Janus echoes these talk-detection overrides (unvalidated, as it reads them) when not zero.
        for key in ["audio_active_packets", "audio_level_average"] {
            if let value = request[key]?.intValue, Int32(truncatingIfNeeded: value) != 0 {
                event[key] = .int(Int64(Int32(truncatingIfNeeded: value)))
            }
        }
        var toNotify: [PluginHandle] = []
        if state.options.notifyJoining {
            event["attendees"] = .array(others.filter { !$0.publishing }.map(\.attendee))
            toNotify = others.map(\.handle)
        }
        return Joined(participant: participant, event: .object(event), toNotify: toNotify)
    }

    /// `descriptions` (join, configure, publish): each element needs a `mid` and a `description`.
    /// Janus only looks inside when it is a non-empty array, so other types pass at join.
    static func validateDescriptions(_ value: JSON?) throws(VideoRoomError) {
        for element in value?.arrayValue ?? [] {
            try RequestBody(element: element).validate(descriptionParameters)
        }
    }
}
