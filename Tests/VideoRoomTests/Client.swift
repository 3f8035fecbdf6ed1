import JanusAPI
import Synchronization
import Testing
@testable import VideoRoom

/// A Janus client talking to a Gateway that runs the VideoRoom plugin: one session, one handle.
struct Client {
    static let adminSecret = "adminpw"
    static let origin = RequestOrigin(transport: "test")

    let gateway: Gateway
    let plugin: VideoRoomPlugin
    let sessionID: UInt64
    let handleID: UInt64

    static func connect(rooms: [RoomOptions] = Fixtures.rooms, adminKey: String = "",
                        permanentRooms: (any PermanentRoomStore)? = nil) async throws -> Client {
        let plugin = VideoRoomPlugin(rooms: rooms, adminKey: adminKey, permanentRooms: permanentRooms)
        var configuration = Gateway.Configuration()
        configuration.adminSecret = adminSecret
        let gateway = Gateway(configuration: configuration, plugins: [plugin])
        let created = await gateway.process(["janus": "create", "transaction": "c"], origin: origin)
        let sessionID = try #require(created.json["data"]?["id"]?.uint64Value)
        let client = Client(gateway: gateway, plugin: plugin, sessionID: sessionID, handleID: 0)
        return Client(gateway: gateway, plugin: plugin, sessionID: sessionID, handleID: try await client.attach())
    }

    /// Attaches another handle to the same session.
    func attach() async throws -> UInt64 {
        let reply = await gateway.process([
            "janus": "attach", "session_id": JSON(sessionID), "plugin": "janus.plugin.videoroom", "transaction": "a",
        ], origin: Self.origin)
        return try #require(reply.json["data"]?["id"]?.uint64Value, "attach failed: \(reply.json)")
    }

    /// Sends a `message` and returns its `plugindata.data` (or the whole reply when there is none).
    func send(_ body: JSON, handle: UInt64? = nil) async -> JSON {
        let reply = await gateway.process([
            "janus": "message", "session_id": JSON(sessionID), "handle_id": JSON(handle ?? handleID),
            "transaction": "m", "body": body,
        ], origin: Self.origin)
        #expect(reply.json["janus"] == "success", "not a synchronous success: \(reply.json)")
        #expect(reply.json["plugindata"]?["plugin"] == "janus.plugin.videoroom")
        return reply.json["plugindata"]?["data"] ?? reply.json
    }

    /// Sends an Admin API `message_plugin` and returns its `response`.
    func admin(_ body: JSON) async -> JSON {
        let reply = await gateway.processAdmin([
            "janus": "message_plugin", "transaction": "x", "admin_secret": .string(Self.adminSecret),
            "plugin": "janus.plugin.videoroom", "request": body,
        ], origin: Self.origin)
        #expect(reply["janus"] == "success", "message_plugin failed: \(reply)")
        return reply["response"] ?? reply
    }

    func adminRequest(_ fields: [String: JSON]) async -> JSON {
        var request = fields
        request["transaction"] = "y"
        request["admin_secret"] = .string(Self.adminSecret)
        return await gateway.processAdmin(request, origin: Self.origin)
    }

    var session: Session? { gateway.session(sessionID) }
    var pluginHandle: PluginHandle? { session?.handle(handleID) }

    /// The list entries by room number.
    func listed(_ body: JSON = ["request": "list"]) async -> [UInt64: JSON] {
        let reply = await send(body)
        var rooms: [UInt64: JSON] = [:]
        for entry in reply["list"]?.arrayValue ?? [] {
            if let id = entry["room"]?.uint64Value { rooms[id] = entry }
        }
        return rooms
    }
}

/// Asserts a plugin error event.
func expectError(_ data: JSON, _ code: Int, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(data == ["videoroom": "event", "error_code": .int(Int64(code)), "error": .string(reason)],
            sourceLocation: sourceLocation)
}

enum Fixtures {
    /// A public room with a secret, and a private one with a pin, like Janus's sample configuration.
    static var rooms: [RoomOptions] {
        var demo = RoomOptions(id: 1234, description: "Demo Room")
        demo.secret = "adminpwd"
        demo.publishers = 6
        demo.bitrate = 128000
        demo.firFreq = 10
        var hidden = RoomOptions(id: 5678, description: "Private")
        hidden.isPrivate = true
        hidden.pin = "1111"
        hidden.audiocodec = ["opus", "pcmu"]
        hidden.videocodec = ["vp9", "vp8"]
        hidden.audiolevelEvent = true
        hidden.bitrateCap = true
        return [demo, hidden]
    }

    /// What `list` shows for a room created with no options (as Janus 1.1.2 answers it).
    static func defaultEntry(_ id: UInt64) -> JSON {
        [
            "room": JSON(id), "description": .string("Room \(id)"), "pin_required": false, "is_private": false,
            "max_publishers": 3, "bitrate": 0, "fir_freq": 0, "require_pvtid": false, "require_e2ee": false,
            "dummy_publisher": false, "notify_joining": false, "audiocodec": "opus", "videocodec": "vp8",
            "opus_fec": true, "record": false, "lock_record": false, "num_participants": 0,
            "audiolevel_ext": true, "audiolevel_event": false, "videoorient_ext": true, "playoutdelay_ext": true,
            "transport_wide_cc_ext": true,
        ]
    }
}

// MARK: - Participants

extension Client {
    /// Another client of the same gateway: its own session (so its events are its own) and handle.
    func peer() async throws -> Peer {
        let created = await gateway.process(["janus": "create", "transaction": "c"], origin: Self.origin)
        let sessionID = try #require(created.json["data"]?["id"]?.uint64Value)
        let attached = await gateway.process([
            "janus": "attach", "session_id": JSON(sessionID), "plugin": "janus.plugin.videoroom", "transaction": "a",
        ], origin: Self.origin)
        let handleID = try #require(attached.json["data"]?["id"]?.uint64Value)
        return Peer(client: self, sessionID: sessionID, handleID: handleID)
    }

    /// A peer that joined `room` as a publisher; returns it with its `joined` event.
    func joined(_ room: UInt64, _ fields: [String: JSON] = [:]) async throws -> (Peer, JSON) {
        let peer = try await self.peer()
        var body = fields
        body["request"] = "join"
        body["room"] = JSON(room)
        body["ptype"] = body["ptype"] ?? "publisher"
        let joined = await peer.send(.object(body))
        #expect(joined["videoroom"] == "joined", "join failed: \(joined)")
        return (peer, joined)
    }
}

/// One participant's client. `send` answers what the client would see for a `message`: the
/// reply's data when synchronous, or (after checking the ack) the data of the event carrying the
/// same transaction. Other events are kept for `notifications()`.
struct Peer: Sendable {
    let client: Client
    let sessionID: UInt64
    let handleID: UInt64
    private let inbox = Inbox()

    init(client: Client, sessionID: UInt64, handleID: UInt64) {
        self.client = client
        self.sessionID = sessionID
        self.handleID = handleID
    }

    var session: Session? { client.gateway.session(sessionID) }
    var handle: PluginHandle? { session?.handle(handleID) }

    func send(_ body: JSON, jsep: JSON? = nil, sourceLocation: SourceLocation = #_sourceLocation) async -> JSON {
        let transaction = "t\(UInt64.random(in: 1..<UInt64.max))"
        var request: [String: JSON] = [
            "janus": "message", "session_id": JSON(sessionID), "handle_id": JSON(handleID),
            "transaction": .string(transaction), "body": body,
        ]
        if let jsep { request["jsep"] = jsep }
        let reply = await client.gateway.process(request, origin: Client.origin)
        switch reply.json["janus"] {
        case "success":
            return reply.json["plugindata"]?["data"] ?? reply.json
        case "ack":
            #expect(reply.json == ["janus": "ack", "session_id": JSON(sessionID), "transaction": .string(transaction)],
                    sourceLocation: sourceLocation)
            // What the transport does once the ack is out.
            await reply.afterSending?()
            var answer: JSON?
            for event in await pending() {
                if answer == nil, event["transaction"] == .string(transaction) {
                    #expect(event["janus"] == "event" && event["sender"] == JSON(handleID), sourceLocation: sourceLocation)
                    answer = event["plugindata"]?["data"]
                } else {
                    inbox.keep(event)
                }
            }
            #expect(answer != nil, "no event answered \(body)", sourceLocation: sourceLocation)
            return answer ?? .null
        default:
            return reply.json
        }
    }

    /// The plugin events pushed to this peer without a transaction since the last call, in order.
    func notifications(sourceLocation: SourceLocation = #_sourceLocation) async -> [JSON] {
        for event in await pending() { inbox.keep(event) }
        return inbox.takeAll().map { event in
            #expect(event["janus"] == "event" && event["transaction"] == nil && event["sender"] == JSON(handleID),
                    "unexpected event \(event)", sourceLocation: sourceLocation)
            return event["plugindata"]?["data"] ?? event
        }
    }

    /// A core request on the handle (`hangup`, `detach`); returns the reply.
    @discardableResult
    func core(_ verb: String) async -> JSON {
        await client.gateway.process([
            "janus": .string(verb), "session_id": JSON(sessionID), "handle_id": JSON(handleID), "transaction": "k",
        ], origin: Client.origin).json
    }

    /// Destroys the whole session, as a closing WebSocket or a timeout does.
    func destroySession() async {
        _ = await client.gateway.process(["janus": "destroy", "session_id": JSON(sessionID), "transaction": "d"],
                                         origin: Client.origin)
    }

    /// `plugin_specific` of the Admin API's handle_info for this handle.
    func handleInfo() async -> JSON? {
        await client.adminRequest([
            "janus": "handle_info", "session_id": JSON(sessionID), "handle_id": JSON(handleID),
        ])["info"]?["plugin_specific"]
    }

    /// Everything queued for the session right now, without waiting: a marker is queued behind it
    /// and reading stops there. Core events (`detached`) are dropped.
    private func pending() async -> [JSON] {
        guard let session else { return [] }
        let marker: JSON = ["confab-test": "end of queue"]
        session.deliver(marker)
        var events: [JSON] = []
        while true {
            let batch = await session.nextEvents(max: 1000, deadline: .now + .seconds(5))
            // Empty only when the session is gone.
            if batch.isEmpty { return events.filter { $0["janus"] == "event" } }
            for event in batch {
                if event == marker { return events.filter { $0["janus"] == "event" } }
                events.append(event)
            }
        }
    }
}

/// Events a peer read but nobody asked for yet.
final class Inbox: Sendable {
    private let events = Mutex<[JSON]>([])
    func keep(_ event: JSON) { events.withLock { $0.append(event) } }
    func takeAll() -> [JSON] { events.withLock { events in defer { events.removeAll() }; return events } }
}
