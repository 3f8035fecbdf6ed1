import JanusAPI
import Testing
@testable import VideoRoom

/// Participants going away: `leave`, a hangup, a detached handle or destroyed session, as Janus
/// 1.1.2 tells the rest of the room.
@Suite("leave, hangup, detach")
struct LeaveTests {
    /// A room with three participants (Alice named, Bob named, Carol not).
    static func room(_ client: Client, notifyJoining: Bool = false) async throws -> [(Peer, UInt64)] {
        _ = await client.send(["request": "create", "room": 400, "notify_joining": .bool(notifyJoining)])
        var peers: [(Peer, UInt64)] = []
        for display: JSON? in ["Alice", "Bob", nil] {
            let (peer, joined) = try await client.joined(400, display.map { ["display": $0] } ?? [:])
            peers.append((peer, try #require(joined["id"]?.uint64Value)))
        }
        for (peer, _) in peers { _ = await peer.notifications() }
        return peers
    }

    @Test func leaveTellsTheOthers() async throws {
        let client = try await Client.connect()
        let peers = try await Self.room(client)
        let (alice, aliceID) = peers[0]
        #expect(await alice.send(["request": "leave"]) == ["videoroom": "event", "room": 400, "leaving": "ok"])
        for (peer, _) in peers.dropFirst() {
            #expect(await peer.notifications() == [["videoroom": "event", "room": 400, "leaving": JSON(aliceID)]])
        }
        #expect(await alice.notifications().isEmpty)
        #expect(await client.send(["request": "listparticipants", "room": 400])["participants"]?.arrayValue?.count == 2)
        #expect(await alice.handleInfo() == ["type": "publisher", "hangingup": 0, "destroyed": 0])
    }

    @Test func aHandleThatLeftStaysOut() async throws {
        let client = try await Client.connect()
        let (alice, _) = try await client.joined(1234)
        _ = await alice.send(["request": "leave"])
        for request: JSON in ["join", "joinandconfigure"] {
            expectError(await alice.send(["request": request, "room": 1234, "ptype": "publisher"]), 425,
                        "Not in a room (create a new handle)")
        }
        for request: JSON in ["leave", "configure", "publish", "unpublish", "start", "switch"] {
            expectError(await alice.send(["request": request]), 426, "No such room")
        }
        // Unknown requests are still refused synchronously.
        expectError(await alice.send(["request": "nope"]), 423, "Unknown request 'nope'")
    }

    @Test func theFirstHangupUnpublishes() async throws {
        let client = try await Client.connect()
        let peers = try await Self.room(client)
        let (alice, aliceID) = peers[0]
        #expect(await alice.core("hangup") == ["janus": "success", "session_id": JSON(alice.sessionID), "transaction": "k"])
        // Janus says so even for a participant that never published.
        for (peer, _) in peers.dropFirst() {
            #expect(await peer.notifications() == [["videoroom": "event", "room": 400, "unpublished": JSON(aliceID)]])
        }
        // The core tells the plugin only once.
        await alice.core("hangup")
        #expect(await peers[1].0.notifications().isEmpty)
        #expect(await alice.notifications().isEmpty)
    }

    @Test func aHangupBeforeJoiningCounts() async throws {
        let client = try await Client.connect()
        let (alice, _) = try await client.joined(1234)
        let bob = try await client.peer()
        await bob.core("hangup")
        let bobID = await bob.send(["request": "join", "room": 1234, "ptype": "publisher"])["id"] ?? nil
        await bob.core("hangup")
        #expect(await alice.notifications().isEmpty)
        // Detaching then hangs up only once more.
        await bob.core("detach")
        #expect(await alice.notifications() == [
            ["videoroom": "event", "room": 1234, "unpublished": bobID],
            ["videoroom": "event", "room": 1234, "leaving": bobID],
        ])
    }

    @Test func detachingLeaves() async throws {
        let client = try await Client.connect()
        let peers = try await Self.room(client, notifyJoining: true)
        let (bob, bobID) = peers[1]
        let reply = await bob.core("detach")
        #expect(reply["janus"] == "success")
        // The core hangs up, then the plugin session goes (hanging up again) and the participant leaves.
        let expected: [JSON] = [
            ["videoroom": "event", "room": 400, "unpublished": JSON(bobID)],
            ["videoroom": "event", "room": 400, "unpublished": JSON(bobID)],
            ["videoroom": "event", "room": 400, "leaving": JSON(bobID)],
        ]
        #expect(await peers[0].0.notifications() == expected)
        #expect(await peers[2].0.notifications() == expected)
        #expect(await client.send(["request": "listparticipants", "room": 400])["participants"]?.arrayValue?.count == 2)
    }

    @Test func destroyingTheSessionLeavesToo() async throws {
        let client = try await Client.connect()
        let peers = try await Self.room(client)
        let (carol, carolID) = peers[2]
        await carol.destroySession()
        #expect(await peers[0].0.notifications() == [
            ["videoroom": "event", "room": 400, "unpublished": JSON(carolID)],
            ["videoroom": "event", "room": 400, "unpublished": JSON(carolID)],
            ["videoroom": "event", "room": 400, "leaving": JSON(carolID)],
        ])
        #expect(await client.send(["request": "listparticipants", "room": 400])["participants"]?.arrayValue?.count == 2)
    }

    @Test func afterLeavingNothingMoreIsSaid() async throws {
        let client = try await Client.connect()
        let peers = try await Self.room(client)
        let (alice, _) = peers[0]
        _ = await alice.send(["request": "leave"])
        _ = await peers[1].0.notifications()
        await alice.core("hangup")
        await alice.core("detach")
        #expect(await peers[1].0.notifications().isEmpty)
    }
}

@Suite("kick")
struct KickTests {
    @Test func kickedParticipantsHearWhy() async throws {
        let client = try await Client.connect()
        let (alice, _) = try await client.joined(1234, ["display": "Alice"])
        let (bob, joined) = try await client.joined(1234, ["display": "Bob"])
        let bobID = joined["id"] ?? nil
        #expect(await client.send(["request": "kick", "room": 1234, "id": bobID, "secret": "adminpwd"]) == ["videoroom": "success"])
        #expect(await bob.notifications() == [["videoroom": "event", "room": 1234, "leaving": "ok", "reason": "kicked"]])
        #expect(await alice.notifications() == [["videoroom": "event", "room": 1234, "kicked": bobID]])
        #expect(await client.send(["request": "listparticipants", "room": 1234])["participants"]?.arrayValue?.count == 1)
        // Gone for good: the same kick fails, the handle is out of rooms.
        expectError(await client.send(["request": "kick", "room": 1234, "id": bobID, "secret": "adminpwd"]), 428,
                    "No such user \(bobID) in room 1234")
        expectError(await bob.send(["request": "configure", "display": "z"]), 426, "No such room")
        expectError(await bob.send(["request": "join", "room": 1234, "ptype": "publisher"]), 425, "Not in a room (create a new handle)")
        await bob.core("detach")
        #expect(await alice.notifications().isEmpty)
    }

    @Test(arguments: [
        (["request": "kick"], 429, "Missing mandatory element (id)"),
        (["request": "kick", "room": 1234], 429, "Missing mandatory element (id)"),
        (["request": "kick", "room": 1234, "id": "x"], 430, "Invalid element type (id should be a positive integer)"),
        // Janus only keeps the verdict on `id`: a missing or mistyped room is looked up as 0.
        (["request": "kick", "id": 5], 426, "No such room (0)"),
        (["request": "kick", "room": "x", "id": 5], 426, "No such room (0)"),
        (["request": "kick", "room": -5, "id": 5], 426, "No such room (18446744073709551611)"),
        (["request": "kick", "room": 999, "id": 5, "secret": "adminpwd"], 426, "No such room (999)"),
        (["request": "kick", "room": 1234, "id": 5, "secret": 1], 430, "Invalid element type (secret should be a string)"),
        (["request": "kick", "room": 1234, "id": 5], 429, "Missing mandatory element (secret)"),
        (["request": "kick", "room": 1234, "id": 5, "secret": "bad"], 433, "Unauthorized (wrong secret)"),
        (["request": "kick", "room": 1234, "id": 5, "secret": "adminpwd"], 428, "No such user 5 in room 1234"),
        // Room 5678 has no secret.
        (["request": "kick", "room": 5678, "id": 5], 428, "No such user 5 in room 5678"),
    ] as [(JSON, Int, String)])
    func kickErrors(body: JSON, code: Int, reason: String) async throws {
        let client = try await Client.connect()
        expectError(await client.send(body), code, reason)
    }
}
