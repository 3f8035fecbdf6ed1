import JanusAPI
import Logging
import Media

/// janus.plugin.videoroom, Janus 1.x multistream flavour: rooms people join to publish media and
/// subscribe to others'. Rooms and participants work as in Janus 1.1.2; publishing and subscribing
/// need a media engine (without one, as in unit tests, they answer 499).
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
    /// PeerConnections; nil: no media (publish/subscribe answer 499).
    let engine: MediaEngine?
    /// Each handle's media: a publisher's feed or a subscriber's subscription.
    let media = MediaRegistry()
    /// Needed by `create` (and shows private rooms in `list`) when set.
    let adminKey: String?
    /// Keeps rooms made `permanent`; nil: no such file, and permanent requests are refused as
    /// Janus refuses them without a configuration file.
    let permanentRooms: (any PermanentRoomStore)?
    let logger: Logger

    /// `rooms` are the static rooms (Janus's `room-<id>` sections); an empty `adminKey` lets anyone create rooms.
    public init(rooms: [RoomOptions], adminKey: String = "", engine: MediaEngine? = nil,
                permanentRooms: (any PermanentRoomStore)? = nil,
                logger: Logger = Logger(label: "confab.videoroom")) {
        self.adminKey = adminKey.isEmpty ? nil : adminKey
        self.permanentRooms = permanentRooms
        self.engine = engine
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

    /// Synchronous requests are answered in the reply. The others are acknowledged and answered
    /// with an event, errors included, as Janus's handler thread does; only a malformed or unknown
    /// `request` is refused in the reply.
    public func handleMessage(_ message: PluginMessage) async -> PluginResult {
        let request: ParsedRequest
        do {
            request = try parse(message.body)
        } catch {
            return .success(failed(error))
        }
        guard !request.name.isSynchronous else {
            return .success(respond(to: request))
        }
        return .ack { [self] in
            guard let reply = self.respondAsynchronously(to: request, message: message) else { return }
            message.handle.pushEvent(transaction: message.transaction, data: reply.data, jsep: reply.jsep)
        }
    }

    public func detach(_ handle: PluginHandle) {
        dropMedia(handle)
        guard let entry = handles.detach(handle) else { return }
        depart(entry)
    }

    public func hangup(_ handle: PluginHandle) {
        hangUp(handle)
    }

    public func webrtcInfo(_ handle: PluginHandle) -> JSON? {
        (media.feed(handle)?.webrtc ?? media.subscription(handle)?.webrtc)?.adminInfo
    }

    /// `plugin_specific` of the Admin API's handle_info, shaped like janus_videoroom_query_session().
    public func query(_ handle: PluginHandle) -> JSON {
        guard let entry = handles.entry(handle) else { return [:] }
        var info: [String: JSON] = ["hangingup": 0, "destroyed": 0]
        if entry.role == .subscriber, let subscription = media.subscription(handle) {
            info["type"] = "subscriber"
            if let room = entry.roomID { info["room"] = JSON(room) }
            info["private_id"] = 0
            info["answered"] = .bool(subscription.answered.load(ordering: .relaxed))
            info["pending_offer"] = .bool(subscription.webrtc.hasPendingOffer)
            info["pending_restart"] = false
            info["paused"] = .bool(!subscription.started.load(ordering: .relaxed))
            info["streams"] = .array(subscription.streams.map(\.json))
            return .object(info)
        }
        guard entry.role == .publisher else { return .object(info) }
        info["type"] = "publisher"
        if let seat = entry.seat, let participant = rooms.room(seat.room)?.participant(seat.participant) {
            info["room"] = JSON(seat.room)
            info["id"] = JSON(participant.id)
            info["private_id"] = .int(Int64(participant.privateID))
            if let display = participant.display { info["display"] = .string(display) }
            info["bitrate"] = .int(Int64(participant.bitrate))
            info["streams"] = .array((participant.feed?.streams ?? []).map { stream in
                var entry = stream.json.objectValue ?? [:]
                entry["subscribers"] = JSON(participant.feed?.subscriberCount(position: stream.position) ?? 0)
                if stream.kind == .audio {
                    entry["talking"] = .bool(participant.talking ?? false)
                    entry["audio-level-dBov"] = 0
                }
                return .object(entry)
            })
        }
        return .object(info)
    }

    /// Janus lets message_plugin send the synchronous requests; anything else is an unknown request.
    public func handleAdminMessage(_ body: JSON) async -> JSON? {
        do throws(VideoRoomError) {
            let request = try parse(body)
            guard request.name.isSynchronous else { throw VideoRoomError.unknownRequest(request.text) }
            return respond(to: request)
        } catch {
            return failed(error)
        }
    }

    // MARK: Dispatch

    /// A request whose `request` member was understood.
    struct ParsedRequest: Sendable {
        let name: RequestName
        /// As the client spelled it: Janus echoes it in "Unknown request '...'".
        let text: String
        let body: RequestBody
    }

    private func parse(_ body: JSON) throws(VideoRoomError) -> ParsedRequest {
        guard let fields = body.objectValue else { throw VideoRoomError(.invalidJSON, "JSON error: not an object") }
        let request = RequestBody(fields)
        try request.validate([.string("request", required: true)])
        let text = request.string("request") ?? ""
        guard let name = RequestName(request: text) else { throw .unknownRequest(text) }
        return ParsedRequest(name: name, text: text, body: request)
    }

    /// The `data` of a synchronous answer: the request's result or its error event.
    private func respond(to request: ParsedRequest) -> JSON {
        do {
            return try synchronous(request)
        } catch {
            return failed(error)
        }
    }

    private func synchronous(_ request: ParsedRequest) throws(VideoRoomError) -> JSON {
        let body = request.body
        switch request.name {
        case .create: return try create(body)
        case .edit: return try edit(body)
        case .destroy: return try destroy(body)
        case .exists: return try exists(body)
        case .list: return try list(body)
        case .allowed: return try allowed(body)
        case .kick: return try kick(body)
        case .moderate: return try moderate(body)
        case .listParticipants: return try listParticipants(body)
        case .listForwarders: return try listForwarders(body)
        case .stopRTPForward: return try stopRTPForward(body)
        case .enableRecording: return try enableRecording(body)
        case .rtpForward: return try rtpForward(body)
        default: throw .unknownRequest(request.text)
        }
    }

    /// The event answering an asynchronous request (its error event included); nil when the
    /// handle went away meanwhile, as Janus then drops the message.
    private func respondAsynchronously(to request: ParsedRequest, message: PluginMessage) -> AsyncReply? {
        do {
            return try asynchronous(request, message: message)
        } catch {
            return AsyncReply(failed(error))
        }
    }

    /// The event answering an asynchronous request, with its jsep (answer or offer) if any.
    struct AsyncReply: Sendable {
        var data: JSON
        var jsep: JSON?
        init(_ data: JSON, jsep: JSON? = nil) {
            self.data = data
            self.jsep = jsep
        }
    }

    func failed(_ error: VideoRoomError) -> JSON {
        logger.debug("videoroom request failed", metadata: ["error": "\(error)"])
        return error.json
    }

    /// The room a request names; `No such room` when there is none.
    func room(for request: RequestBody) throws(VideoRoomError) -> Room {
        let id = try request.room()
        guard let room = rooms.room(id) else { throw .noSuchRoom(id) }
        return room
    }

    /// Sends an event (without transaction) to each of `handles`.
    func notify(_ handles: [PluginHandle], _ event: JSON) {
        for handle in handles { handle.pushEvent(transaction: nil, data: event) }
    }
}
