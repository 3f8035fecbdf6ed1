import JanusAPI
import Testing
@testable import VideoRoom

@Suite("Plugin identity and dispatch")
struct DispatchTests {
    @Test func identity() {
        let plugin = VideoRoomPlugin(rooms: [])
        #expect(plugin.package == "janus.plugin.videoroom")
        #expect(plugin.info == PluginInfo(name: "Confab VideoRoom", author: "Confab", description: plugin.info.description,
                                          versionString: "0.0.9", version: 9))
        #expect(!plugin.info.description.isEmpty)
    }

    @Test func serverInfoListsThePlugin() async throws {
        let client = try await Client.connect()
        let reply = await client.gateway.process(["janus": "info", "transaction": "i"], origin: Client.origin)
        let entry = try #require(reply.json["plugins"]?["janus.plugin.videoroom"])
        #expect(entry["name"] == "Confab VideoRoom")
        #expect(entry["version_string"] == "0.0.9")
        #expect(entry["version"] == 9)
    }

    @Test func missingRequest() async throws {
        let client = try await Client.connect()
        expectError(await client.send([:]), 429, "Missing mandatory element (request)")
        expectError(await client.send(["request": 5]), 430, "Invalid element type (request should be a string)")
        expectError(await client.send(["request": nil]), 430, "Invalid element type (request should be a string)")
    }

    @Test func unknownRequest() async throws {
        let client = try await Client.connect()
        expectError(await client.send(["request": "foo"]), 423, "Unknown request 'foo'")
        expectError(await client.send(["request": ""]), 423, "Unknown request ''")
    }

    @Test func requestNamesIgnoreCase() async throws {
        let client = try await Client.connect()
        #expect(await client.send(["request": "LIST"])["videoroom"] == "success")
        #expect(await client.send(["request": "Exists", "room": 1234]) == ["videoroom": "success", "room": 1234, "exists": true])
    }

    /// Janus acknowledges these and answers with an event, errors included.
    @Test(arguments: ["configure", "publish", "unpublish", "start", "pause", "switch", "update", "subscribe",
                      "unsubscribe", "leave", "LEAVE", "Configure"])
    func participantRequestsNeedAJoinFirst(request: String) async throws {
        let client = try await Client.connect()
        let peer = try await client.peer()
        expectError(await peer.send(["request": .string(request), "room": 1234]), 424,
                    "Invalid request on unconfigured participant")
    }

    @Test func rtpForwardIsNotImplementedYet() async throws {
        let client = try await Client.connect()
        expectError(await client.send(["request": "rtp_forward", "room": 1234, "publisher_id": 1, "host": "127.0.0.1"]), 499,
                    "Request 'rtp_forward' is not implemented yet")
        expectError(await client.send(["request": "RTP_FORWARD"]), 499, "Request 'rtp_forward' is not implemented yet")
    }

    @Test func handleInfoShowsPluginState() async throws {
        let client = try await Client.connect()
        let reply = await client.adminRequest([
            "janus": "handle_info", "session_id": JSON(client.sessionID), "handle_id": JSON(client.handleID),
        ])
        #expect(reply["info"]?["plugin_specific"] == ["hangingup": 0, "destroyed": 0])
        #expect(reply["info"]?["plugin"] == "janus.plugin.videoroom")
    }

    @Test func handlesAreForgottenOnDetach() async throws {
        let client = try await Client.connect()
        let second = try await client.attach()
        #expect(client.plugin.handles.count == 2)
        let reply = await client.gateway.process([
            "janus": "detach", "session_id": JSON(client.sessionID), "handle_id": JSON(second), "transaction": "d",
        ], origin: Client.origin)
        #expect(reply.json["janus"] == "success")
        #expect(client.plugin.handles.count == 1)
        _ = await client.gateway.process([
            "janus": "destroy", "session_id": JSON(client.sessionID), "transaction": "d",
        ], origin: Client.origin)
        #expect(client.plugin.handles.count == 0)
    }
}
