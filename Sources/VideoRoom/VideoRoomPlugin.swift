import JanusAPI
import Logging

/// janus.plugin.videoroom, Janus 1.x multistream flavour: rooms people join to publish media and
/// subscribe to others'. This is the room-management half (create, edit, destroy, list, access
/// lists, ...); requests that need participants with PeerConnections answer 499 for now.
public final class VideoRoomPlugin: JanusPlugin {
    public static let packageName = "janus.plugin.videoroom"

    public let package = VideoRoomPlugin.packageName
    public let info = PluginInfo(
        name: "Confab VideoRoom",
        author: "Confab",
        description: "Confab's VideoRoom: an SFU with rooms where participants publish media and subscribe to each other's.",
        versionString: "0.0.9",
        version: 9)

    let rooms: RoomRegistry
    let handles = HandleRegistry()
    /// Needed by `create` (and shows private rooms in `list`) when set.
    let adminKey: String?
    let logger: Logger

    /// `rooms` are the static rooms (Janus's `room-<id>` sections); an empty `adminKey` lets anyone create rooms.
    public init(rooms: [RoomOptions], adminKey: String = "", logger: Logger = Logger(label: "confab.videoroom")) {
        self.adminKey = adminKey.isEmpty ? nil : adminKey
        self.logger = logger
        var seen = Set<UInt64>()
        var accepted: [Room] = []
        for options in rooms {
            guard seen.insert(options.id).inserted else {
                logger.warning("duplicate room ignored", metadata: ["room": "\(options.id)"])
                continue
            }
            accepted.append(Room(options: options.normalized()))
        }
        self.rooms = RoomRegistry(accepted)
    }

    /// The rooms as they are now, by number.
    public var roomOptions: [RoomOptions] { rooms.all.map(\.options) }

    // MARK: JanusPlugin

    public func attach(_ handle: PluginHandle) throws(JanusError) {
        handles.attach(handle)
    }

    public func handleMessage(_ message: PluginMessage) async -> PluginResult {
        .success(respond(to: message.body, from: .handle(message.handle)))
    }

    public func detach(_ handle: PluginHandle) {
        guard let entry = handles.detach(handle) else { return }
        // The media issue also tells the room the participant left (`leaving`/`unpublished` events).
        if let roomID = entry.roomID, let participantID = entry.participantID {
            rooms.room(roomID)?.removeParticipant(participantID)
        }
    }

    public func hangup(_ handle: PluginHandle) {
        // Nothing to tear down until participants have PeerConnections.
    }

    /// `plugin_specific` of the Admin API's handle_info, shaped like janus_videoroom_query_session().
    public func query(_ handle: PluginHandle) -> JSON {
        guard let entry = handles.entry(handle) else { return [:] }
        var info: [String: JSON] = ["hangingup": 0, "destroyed": 0]
        if let roomID = entry.roomID { info["room"] = JSON(roomID) }
        if let participantID = entry.participantID { info["id"] = JSON(participantID) }
        return .object(info)
    }

    /// Janus lets message_plugin send the synchronous requests; anything else is an unknown request.
    public func handleAdminMessage(_ body: JSON) async -> JSON? {
        respond(to: body, from: .admin)
    }

    // MARK: Dispatch

    enum Origin {
        case handle(PluginHandle)
        case admin
    }

    /// The `data` of the answer: the request's result or its error event.
    func respond(to body: JSON, from origin: Origin) -> JSON {
        do {
            return try dispatch(body, from: origin)
        } catch {
            logger.debug("videoroom request failed", metadata: ["error": "\(error)"])
            return error.json
        }
    }

    private func dispatch(_ body: JSON, from origin: Origin) throws(VideoRoomError) -> JSON {
        guard let fields = body.objectValue else { throw VideoRoomError(.invalidJSON, "JSON error: not an object") }
        let request = RequestBody(fields)
        try request.validate([.string("request", required: true)])
        let text = request.string("request") ?? ""
        guard let name = RequestName(request: text) else { throw .unknownRequest(text) }
        if case .admin = origin, !name.isSynchronous { throw .unknownRequest(text) }
        switch name {
        case .create: return try create(request)
        case .edit: return try edit(request)
        case .destroy: return try destroy(request)
        case .exists: return try exists(request)
        case .list: return try list(request)
        case .allowed: return try allowed(request)
        case .listParticipants: return try listParticipants(request)
        case .listForwarders: return try listForwarders(request)
        default:
            precondition(name.needsMedia)
            throw .notImplemented(name.rawValue)
        }
    }

    /// The room a request names; `No such room` when there is none.
    func room(for request: RequestBody) throws(VideoRoomError) -> Room {
        let id = try request.room()
        guard let room = rooms.room(id) else { throw .noSuchRoom(id) }
        return room
    }
}
