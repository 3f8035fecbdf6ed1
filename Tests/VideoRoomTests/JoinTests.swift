import JanusAPI
import Testing
@testable import VideoRoom

/// `join` as Janus 1.1.2 answers it (checked against the real one).
@Suite("join")
struct JoinTests {
    @Test func publisherJoinsAndIsListed() async throws {
        let client = try await Client.connect()
        let (alice, joined) = try await client.joined(1234, ["display": "Alice"])
        let id = try #require(joined["id"]?.uint64Value)
        let privateID = try #require(joined["private_id"]?.uint64Value)
        #expect(id > 0 && id < 1 << 53)
        #expect(privateID > 0 && privateID <= UInt64(UInt32.max))
        #expect(joined == [
            "videoroom": "joined", "room": 1234, "description": "Demo Room", "id": JSON(id),
            "private_id": JSON(privateID), "publishers": [],
        ])
        #expect(await client.send(["request": "listparticipants", "room": 1234]) == [
            "videoroom": "participants", "room": 1234, "participants": [["id": JSON(id), "display": "Alice", "publisher": false]],
        ])
        #expect(await client.listed()[1234]?["num_participants"] == 1)
        #expect(await alice.handleInfo() == [
            "type": "publisher", "room": 1234, "id": JSON(id), "private_id": JSON(privateID), "display": "Alice",
            "bitrate": 128000, "streams": [], "hangingup": 0, "destroyed": 0,
        ])
        // Without notify_joining nobody hears about it.
        #expect(await alice.notifications().isEmpty)
    }

    @Test func requestedIDsAndTakenOnes() async throws {
        let client = try await Client.connect()
        let (_, first) = try await client.joined(1234, ["id": 42])
        #expect(first["id"] == 42)
        let second = try await client.peer()
        expectError(await second.send(["request": "join", "room": 1234, "ptype": "publisher", "id": 42]), 436,
                    "User ID 42 already exists")
        // id 0 asks for a random one; the handle is still free after the failure.
        let joined = await second.send(["request": "join", "room": 1234, "ptype": "publisher", "id": 0])
        #expect(joined["id"] != 0 && joined["id"] != 42 && joined["videoroom"] == "joined")
    }

    @Test(arguments: [
        (["request": "join"], 429, "Missing mandatory element (room)"),
        (["request": "join", "room": 1234], 429, "Missing mandatory element (ptype)"),
        (["request": "join", "room": "x", "ptype": "publisher"], 430, "Invalid element type (room should be a positive integer)"),
        (["request": "join", "room": 999, "ptype": "publisher"], 426, "No such room (999)"),
        (["request": "join", "room": 1234, "ptype": 5], 430, "Invalid element type (ptype should be a string)"),
        (["request": "join", "room": 1234, "ptype": "foo"], 430, "Invalid element (ptype)"),
        (["request": "join", "room": 1234, "ptype": "PUBLISHER", "display": 5], 430, "Invalid element type (display should be a string)"),
        (["request": "join", "room": 1234, "ptype": "publisher", "id": "x"], 430, "Invalid element type (id should be a positive integer)"),
        (["request": "join", "room": 1234, "ptype": "publisher", "id": -1], 430, "Invalid element type (id should be a positive integer)"),
        (["request": "join", "room": 1234, "ptype": "publisher", "token": 5], 430, "Invalid element type (token should be a string)"),
        (["request": "join", "room": 1234, "ptype": "publisher", "bitrate": "x"], 430, "Invalid element type (bitrate should be a positive integer)"),
        (["request": "join", "room": 1234, "ptype": "publisher", "record": "x"], 430, "Invalid element type (record should be a boolean)"),
        (["request": "join", "room": 1234, "ptype": "publisher", "audio": 1], 430, "Invalid element type (audio should be a boolean)"),
        (["request": "join", "room": 1234, "ptype": "publisher", "descriptions": [["mid": 1]]], 430, "Invalid element type (mid should be a string)"),
        (["request": "join", "room": 1234, "ptype": "publisher", "descriptions": [["mid": "0"]]], 429, "Missing mandatory element (description)"),
        // The id is checked before the descriptions, the join parameters before the room.
        (["request": "join", "room": 1234, "ptype": "publisher", "id": "x", "descriptions": [5]], 430, "Invalid element type (id should be a positive integer)"),
        (["request": "join", "room": 999, "ptype": "publisher", "audio": 1], 430, "Invalid element type (audio should be a boolean)"),
        // Pin (room 5678) before ptype; the access list only for publishers.
        (["request": "join", "room": 5678, "ptype": "publisher"], 429, "Missing mandatory element (pin)"),
        (["request": "join", "room": 5678, "ptype": "foo", "pin": 5], 430, "Invalid element type (pin should be a string)"),
        (["request": "join", "room": 5678, "ptype": "foo", "pin": "0000"], 433, "Unauthorized (wrong pin)"),
        (["request": "join", "room": 5678, "ptype": "foo", "pin": "1111"], 430, "Invalid element (ptype)"),
    ] as [(JSON, Int, String)])
    func joinErrors(body: JSON, code: Int, reason: String) async throws {
        let client = try await Client.connect()
        let peer = try await client.peer()
        expectError(await peer.send(body), code, reason)
        #expect(await peer.handleInfo() == ["hangingup": 0, "destroyed": 0])
    }

    @Test func unknownRequestOptionsAreIgnoredAsInJanus() async throws {
        let client = try await Client.connect()
        // Janus reads descriptions only when they are an array, and never checks these two at join.
        let (_, joined) = try await client.joined(1234, ["descriptions": 5, "audio_active_packets": "x", "metadata": 5])
        #expect(joined["audio_active_packets"] == nil)
        let (_, echoing) = try await client.joined(1234, ["audio_active_packets": 7, "audio_level_average": 9])
        #expect(echoing["audio_active_packets"] == 7 && echoing["audio_level_average"] == 9)
    }

    @Test func pinAndAccessList() async throws {
        let client = try await Client.connect()
        _ = await client.send(["request": "create", "room": 300, "allowed": ["tok"]])
        let peer = try await client.peer()
        expectError(await peer.send(["request": "join", "room": 300, "ptype": "publisher"]), 433, "Unauthorized (not in the allowed list)")
        expectError(await peer.send(["request": "join", "room": 300, "ptype": "publisher", "token": "bad"]), 433,
                    "Unauthorized (not in the allowed list)")
        #expect(await peer.send(["request": "join", "room": 300, "ptype": "publisher", "token": "tok"])["videoroom"] == "joined")
        let (_, joined) = try await client.joined(5678, ["pin": "1111"])
        #expect(joined["description"] == "Private")
    }

    @Test func aHandleJoinsOnce() async throws {
        let client = try await Client.connect()
        let (alice, _) = try await client.joined(1234)
        for request: JSON in ["join", "joinandconfigure", "JOIN"] {
            // Checked before anything else, even a body that would fail.
            expectError(await alice.send(["request": request, "room": 999, "ptype": "subscriber"]), 425,
                        "Already in as a publisher on this handle")
        }
    }

    @Test func notifyJoiningRooms() async throws {
        let client = try await Client.connect()
        _ = await client.send(["request": "create", "room": 301, "notify_joining": true])
        let (alice, first) = try await client.joined(301, ["display": "Alice"])
        #expect(first["attendees"] == [])
        let (bob, second) = try await client.joined(301, ["display": "Bob"])
        #expect(second["attendees"] == [["id": first["id"] ?? nil, "display": "Alice"]])
        let (_, third) = try await client.joined(301)
        #expect(third["attendees"]?.arrayValue?.count == 2)
        #expect(await alice.notifications() == [
            ["videoroom": "event", "room": 301, "joining": ["id": second["id"] ?? nil, "display": "Bob"]],
            ["videoroom": "event", "room": 301, "joining": ["id": third["id"] ?? nil]],
        ])
        #expect(await bob.notifications() == [["videoroom": "event", "room": 301, "joining": ["id": third["id"] ?? nil]]])
    }

    @Test func joinAndConfigureWithoutMediaSetsTheBitrate() async throws {
        let client = try await Client.connect()
        let peer = try await client.peer()
        let joined = await peer.send(["request": "joinandconfigure", "room": 1234, "ptype": "publisher", "bitrate": 4000,
                                      "audiocodec": "nonsense"])
        #expect(joined["videoroom"] == "joined")
        #expect(await peer.handleInfo()?["bitrate"] == 4000)
        // A plain join ignores the bitrate: the room's applies.
        let (plain, _) = try await client.joined(1234, ["bitrate": 4000])
        #expect(await plain.handleInfo()?["bitrate"] == 128000)
    }

    @Test func publishingOnJoinNeedsTheMediaEngine() async throws {
        let client = try await Client.connect()
        let peer = try await client.peer()
        let offer: JSON = ["type": "offer", "sdp": "v=0\r\n"]
        for request: JSON in ["joinandconfigure", "join"] {
            expectError(await peer.send(["request": request, "room": 1234, "ptype": "publisher"], jsep: offer), 499,
                        "Publishing media is not supported yet")
        }
        // Refused before joining; and the usual checks still come first.
        #expect(await client.send(["request": "listparticipants", "room": 1234])["participants"] == [])
        expectError(await peer.send(["request": "joinandconfigure", "room": 5678, "ptype": "publisher"], jsep: offer), 429,
                    "Missing mandatory element (pin)")
    }

    @Test func subscribersNeedAPublishingFeed() async throws {
        let client = try await Client.connect()
        _ = await client.send(["request": "create", "room": 302, "require_pvtid": true])
        let (_, alice) = try await client.joined(302)
        let aliceID = alice["id"] ?? nil
        let peer = try await client.peer()
        let cases: [(JSON, Int, String)] = [
            (["request": "join", "room": 302, "ptype": "subscriber"], 429, "Missing mandatory element (feed)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "streams": []], 429, "Missing mandatory element (feed)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "streams": 5], 430, "Invalid element type (streams should be an array)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "feed": "x"], 430, "Invalid element type (feed should be a positive integer)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "feed": 999], 428, "No such feed (999)"),
            // Joined but not publishing is no feed either.
            (["request": "join", "room": 302, "ptype": "Subscriber", "feed": aliceID], 428, "No such feed (\(aliceID))"),
            (["request": "join", "room": 302, "ptype": "subscriber", "streams": [[:]]], 429, "Missing mandatory element (feed)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "streams": [5]], 429, "Missing mandatory element (feed)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "streams": [["feed": 999, "mid": 5]]], 430,
             "Invalid element type (mid should be a string)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "streams": [["feed": 5], ["feed": "x"]]], 428, "No such feed (5)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "streams": [["feed": "x"], ["feed": 5]]], 430,
             "Invalid element type (feed should be a positive integer)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "feed": 999, "private_id": "x"], 430,
             "Invalid element type (private_id should be a positive integer)"),
            (["request": "join", "room": 302, "ptype": "subscriber", "feed": 999, "close_pc": 5], 428, "No such feed (999)"),
        ]
        for (body, code, reason) in cases {
            expectError(await peer.send(body), code, reason)
        }
        // A failed subscription leaves the handle free to join as a publisher.
        #expect(await peer.send(["request": "join", "room": 302, "ptype": "publisher"])["videoroom"] == "joined")
    }

    @Test func concurrentJoinsForOneIDHaveOneWinner() async throws {
        let client = try await Client.connect()
        var peers: [Peer] = []
        for _ in 0..<8 { peers.append(try await client.peer()) }
        let winners = await withTaskGroup(of: Bool.self) { group in
            for peer in peers {
                group.addTask { await peer.send(["request": "join", "room": 1234, "ptype": "publisher", "id": 7])["videoroom"] == "joined" }
            }
            var count = 0
            for await won in group where won { count += 1 }
            return count
        }
        #expect(winners == 1)
        #expect(await client.send(["request": "listparticipants", "room": 1234])["participants"]?.arrayValue?.count == 1)
    }
}
