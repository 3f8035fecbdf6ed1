import JanusAPI
import Testing
@testable import VideoRoom

@Suite("allowed")
struct AllowedTests {
    static func connect() async throws -> Client {
        let client = try await Client.connect()
        _ = await client.send(["request": "create", "room": 200, "secret": "sec", "allowed": ["b", "a", "a"]])
        _ = await client.send(["request": "create", "room": 201])
        return client
    }

    @Test func validation() async throws {
        let client = try await Self.connect()
        expectError(await client.send(["request": "allowed"]), 429, "Missing mandatory element (room)")
        expectError(await client.send(["request": "allowed", "room": 200]), 429, "Missing mandatory element (action)")
        expectError(await client.send(["request": "allowed", "room": 200, "action": 5]), 430, "Invalid element type (action should be a string)")
        expectError(await client.send(["request": "allowed", "room": 1, "action": 5, "allowed": "x", "secret": 5]), 430,
                    "Invalid element type (secret should be a string)")
        expectError(await client.send(["request": "allowed", "room": 200, "action": "add", "allowed": "x"]), 430,
                    "Invalid element type (allowed should be an array)")
        // The action is checked before the room.
        expectError(await client.send(["request": "allowed", "room": 999, "action": "bogus"]), 430, "Unsupported action 'bogus' (allowed)")
        expectError(await client.send(["request": "allowed", "room": 999, "action": "enable"]), 426, "No such room (999)")
        expectError(await client.send(["request": "allowed", "room": 200, "action": "enable"]), 429, "Missing mandatory element (secret)")
        expectError(await client.send(["request": "allowed", "room": 200, "action": "enable", "secret": "bad"]), 433, "Unauthorized (wrong secret)")
        // The array's contents are checked after the secret.
        expectError(await client.send(["request": "allowed", "room": 200, "action": "add", "allowed": [1]]), 429, "Missing mandatory element (secret)")
        expectError(await client.send(["request": "allowed", "room": 200, "action": "add", "secret": "sec", "allowed": [1]]), 430,
                    "Invalid element in the allowed array (not a string)")
    }

    @Test func actions() async throws {
        let client = try await Self.connect()
        func allowed(_ fields: [String: JSON]) async -> JSON {
            var body = fields
            body["request"] = "allowed"
            body["room"] = 200
            body["secret"] = "sec"
            return await client.send(.object(body))
        }
        #expect(await allowed(["action": "enable"]) == ["videoroom": "success", "room": 200, "allowed": ["a", "b"]])
        #expect(await allowed(["action": "disable"]) == ["videoroom": "success", "room": 200])
        #expect(client.plugin.rooms.room(200)?.options.allowed == nil)
        // Disabling keeps the tokens; adding works either way.
        #expect(await allowed(["action": "add", "allowed": ["c", "a"]]) == ["videoroom": "success", "room": 200, "allowed": ["a", "b", "c"]])
        #expect(await allowed(["action": "remove", "allowed": ["a", "zz"]]) == ["videoroom": "success", "room": 200, "allowed": ["b", "c"]])
        #expect(await allowed(["action": "add"]) == ["videoroom": "success", "room": 200, "allowed": ["b", "c"]])
        #expect(await allowed(["action": "ADD", "allowed": ["d"]]) == ["videoroom": "success", "room": 200, "allowed": ["b", "c", "d"]])
        #expect(client.plugin.rooms.room(200)?.options.allowed == nil)
        #expect(await allowed(["action": "Enable"]) == ["videoroom": "success", "room": 200, "allowed": ["b", "c", "d"]])
        #expect(client.plugin.rooms.room(200)?.options.allowed == ["b", "c", "d"])
    }

    @Test func roomWithoutListOrSecret() async throws {
        let client = try await Self.connect()
        #expect(client.plugin.rooms.room(201)?.options.allowed == nil)
        #expect(await client.send(["request": "allowed", "room": 201, "action": "enable"]) == ["videoroom": "success", "room": 201, "allowed": []])
        #expect(client.plugin.rooms.room(201)?.options.allowed == [])
        #expect(await client.send(["request": "allowed", "room": 201, "action": "remove", "allowed": []])
                == ["videoroom": "success", "room": 201, "allowed": []])
    }

    @Test func admission() {
        #expect(AllowedList(nil).admits(nil))
        #expect(AllowedList(["t"]).admits("t"))
        #expect(!AllowedList(["t"]).admits("u"))
        #expect(!AllowedList(["t"]).admits(nil))
    }
}
