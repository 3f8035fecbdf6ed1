import JanusAPI
import Testing
@testable import VideoRoom

@Suite("Admin API message_plugin")
struct AdminTests {
    @Test func synchronousRequests() async throws {
        let client = try await Client.connect(adminKey: "supersecret")
        #expect(await client.admin(["request": "exists", "room": 1234]) == ["videoroom": "success", "room": 1234, "exists": true])
        #expect(await client.admin(["request": "list"])["list"]?.arrayValue?.count == 1)
        #expect(await client.admin(["request": "list", "admin_key": "supersecret"])["list"]?.arrayValue?.count == 2)
        expectError(await client.admin(["request": "create", "room": 300]), 429, "Missing mandatory element (admin_key)")
        #expect(await client.admin(["request": "create", "room": 300, "admin_key": "supersecret"])
                == ["videoroom": "created", "room": 300, "permanent": false])
        #expect(await client.admin(["request": "edit", "room": 300, "new_description": "Three hundred"])["videoroom"] == "edited")
        #expect(await client.admin(["request": "listparticipants", "room": 300])["participants"] == [])
        #expect(await client.admin(["request": "allowed", "room": 300, "action": "add", "allowed": ["x"]])["allowed"] == ["x"])
        #expect(await client.admin(["request": "listforwarders", "room": 300])["publishers"] == [])
        #expect(await client.admin(["request": "destroy", "room": 300])["videoroom"] == "destroyed")
        // Same state as the handles see.
        #expect(await client.send(["request": "exists", "room": 300])["exists"] == false)
    }

    @Test func errors() async throws {
        let client = try await Client.connect()
        expectError(await client.admin([:]), 429, "Missing mandatory element (request)")
        expectError(await client.admin(["request": 1]), 430, "Invalid element type (request should be a string)")
        expectError(await client.admin(["request": "nope"]), 423, "Unknown request 'nope'")
        // Asynchronous requests are not reachable from the Admin API, even when implemented.
        expectError(await client.admin(["request": "join", "room": 1234]), 423, "Unknown request 'join'")
        expectError(await client.admin(["request": "Leave"]), 423, "Unknown request 'Leave'")
        // The synchronous participant requests work there too; rtp_forward needs the media engine.
        expectError(await client.admin(["request": "kick", "room": 1234, "id": 1]), 429, "Missing mandatory element (secret)")
        expectError(await client.admin(["request": "kick", "room": 1234, "id": 1, "secret": "adminpwd"]), 428,
                    "No such user 1 in room 1234")
        expectError(await client.admin(["request": "rtp_forward", "room": 1234]), 499, "Request 'rtp_forward' is not implemented yet")
    }

    @Test func participantRequests() async throws {
        let client = try await Client.connect()
        let (alice, joined) = try await client.joined(1234)
        let id = joined["id"] ?? nil
        #expect(await client.admin(["request": "kick", "room": 1234, "id": id, "secret": "adminpwd"]) == ["videoroom": "success"])
        #expect(await alice.notifications() == [["videoroom": "event", "room": 1234, "leaving": "ok", "reason": "kicked"]])
        #expect(await client.admin(["request": "enable_recording", "room": 1234, "record": true, "secret": "adminpwd"])
                == ["videoroom": "success", "record": true])
    }
}
