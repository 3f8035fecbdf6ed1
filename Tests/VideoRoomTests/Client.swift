import JanusAPI
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

    static func connect(rooms: [RoomOptions] = Fixtures.rooms, adminKey: String = "") async throws -> Client {
        let plugin = VideoRoomPlugin(rooms: rooms, adminKey: adminKey)
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
