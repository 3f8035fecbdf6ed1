import JanusAPI

/// `listforwarders`: RTP forwarders per publisher (everyone who published, as Janus lists them).
extension VideoRoomPlugin {
    func listForwarders(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        let room = try room(for: request)
        let publishers = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> [Participant] in
            try checkSecret(state.options.secret, in: request, member: "secret")
            return state.participants.values.filter { $0.feed != nil }.sorted { $0.id < $1.id }
        }
        let listed = publishers.compactMap { participant -> JSON? in
            guard let feed = participant.feed else { return nil }
            var entry: [String: JSON] = ["publisher_id": JSON(participant.id), "forwarders": .array(feed.forwarders.map(\.json))]
            if let display = participant.display { entry["display"] = .string(display) }
            return .object(entry)
        }
        return ["videoroom": "forwarders", "room": JSON(room.id), "publishers": .array(listed)]
    }
}
