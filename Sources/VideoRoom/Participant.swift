import JanusAPI

/// Someone in a room, reached through their handle. For now only what the room-management
/// requests read (`num_participants`, `listparticipants`, the `destroyed` notification); the media
/// issue adds streams, subscribers and the rest when `join` is implemented.
struct Participant: Sendable {
    let id: UInt64
    let handle: PluginHandle
    var display: String?
    /// Whether their PeerConnection is up and sending media.
    var publishing = false
    /// Set when the room detects speech (audio levels in use and the participant publishes audio).
    var talking: Bool?

    /// One entry of `listparticipants`.
    var json: JSON {
        var entry: [String: JSON] = ["id": JSON(id), "publisher": .bool(publishing)]
        if let display { entry["display"] = .string(display) }
        if publishing, let talking { entry["talking"] = .bool(talking) }
        return .object(entry)
    }
}
