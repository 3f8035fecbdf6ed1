import JanusAPI
import Testing
@testable import VideoRoom

/// `configure`, `publish` and `unpublish` for participants without media, as Janus 1.1.2 answers.
@Suite("configure, publish, unpublish")
struct ConfigureTests {
    static let configured: JSON = ["videoroom": "event", "room": 1234, "configured": "ok"]

    @Test func renamesAreAnnounced() async throws {
        let client = try await Client.connect()
        let (alice, joined) = try await client.joined(1234, ["display": "Alice"])
        let (bob, _) = try await client.joined(1234)
        let aliceID = joined["id"] ?? nil
        #expect(await alice.send(["request": "configure", "display": "Alice2"]) == Self.configured)
        // Others hear it (without the room number, as in Janus); the one renamed does not.
        #expect(await bob.notifications() == [["videoroom": "event", "id": aliceID, "display": "Alice2"]])
        #expect(await alice.notifications().isEmpty)
        // A first name is not announced; later ones are, even when unchanged.
        #expect(await bob.send(["request": "configure", "display": "Bob"]) == Self.configured)
        #expect(await alice.notifications().isEmpty)
        _ = await bob.send(["request": "configure", "display": "Bob"])
        #expect(await alice.notifications().count == 1)
        // `publish` without an offer is a configure.
        #expect(await alice.send(["request": "publish", "display": ""]) == Self.configured)
        #expect(await bob.notifications() == [["videoroom": "event", "id": aliceID, "display": ""]])
        #expect(await client.send(["request": "listparticipants", "room": 1234])["participants"]?.arrayValue?
                    .contains(["id": aliceID, "display": "", "publisher": false]) == true)
    }

    @Test func bitrateShowsInHandleInfo() async throws {
        let client = try await Client.connect()
        let (alice, _) = try await client.joined(1234)
        #expect(await alice.send(["request": "configure", "bitrate": 300000, "record": true, "filename": "f"]) == Self.configured)
        #expect(await alice.handleInfo()?["bitrate"] == 300000)
        _ = await alice.send(["request": "configure", "bitrate": 0])
        #expect(await alice.handleInfo()?["bitrate"] == 0)
    }

    @Test(arguments: [
        (["request": "configure", "descriptions": 5, "bitrate": "x"], 430, "Invalid element type (descriptions should be an array)"),
        (["request": "configure", "audiocodec": 5, "bitrate": "x"], 430, "Invalid element type (audiocodec should be a string)"),
        (["request": "configure", "bitrate": -1], 430, "Invalid element type (bitrate should be a positive integer)"),
        (["request": "configure", "keyframe": 5], 430, "Invalid element type (keyframe should be a boolean)"),
        (["request": "configure", "display": 5, "secret": 5], 430, "Invalid element type (display should be a string)"),
        (["request": "configure", "audio_level_averge": "x"], 430, "Invalid element type (audio_level_averge should be a positive integer)"),
        (["request": "configure", "audio_active_packets": -1], 430, "Invalid element type (audio_active_packets should be a positive integer)"),
        (["request": "configure", "audio": 5, "restart": 5], 430, "Invalid element type (audio should be a boolean)"),
        (["request": "configure", "update": "x"], 430, "Invalid element type (update should be a boolean)"),
        (["request": "publish", "descriptions": [["mid": "0"]]], 429, "Missing mandatory element (description)"),
        (["request": "configure", "descriptions": [5]], 429, "Missing mandatory element (mid)"),
        // Streams are named by mid; nobody has any without media.
        (["request": "configure", "mid": "0"], 428, "No such mid '0' published"),
        (["request": "configure", "mid": "0", "send": "x", "display": "X"], 428, "No such mid '0' published"),
        (["request": "publish", "streams": [["mid": "a"]], "mid": "b"], 428, "No such mid 'a' published"),
        (["request": "configure", "streams": [["mid": 5]]], 430, "Invalid element type (mid should be a string)"),
        (["request": "configure", "streams": [["mid": "0", "send": "x"]]], 430, "Invalid element type (send should be a boolean)"),
        (["request": "configure", "streams": [["min_delay": "x"]]], 430, "Invalid element type (min_delay should be an integer)"),
        (["request": "configure", "streams": [["send": true], ["mid": "z"]]], 430, "Invalid value (mid can't be null in a streams array)"),
        (["request": "configure", "descriptions": [["mid": "0", "description": 5]], "streams": [["mid": "a"]]], 430,
         "Invalid element type (description should be a string)"),
        (["request": "unpublish"], 435, "Can't unpublish, not published"),
        // Subscriber requests are unknown to a publisher handle.
        (["request": "start"], 423, "Unknown request 'start'"),
        (["request": "Pause"], 423, "Unknown request 'Pause'"),
        (["request": "switch"], 423, "Unknown request 'switch'"),
        (["request": "update"], 423, "Unknown request 'update'"),
        (["request": "subscribe"], 423, "Unknown request 'subscribe'"),
        (["request": "unsubscribe"], 423, "Unknown request 'unsubscribe'"),
    ] as [(JSON, Int, String)])
    func errors(body: JSON, code: Int, reason: String) async throws {
        let client = try await Client.connect()
        let (alice, _) = try await client.joined(1234, ["display": "Alice"])
        let (bob, _) = try await client.joined(1234)
        expectError(await alice.send(body), code, reason)
        // A refused configure changes nothing.
        #expect(await bob.notifications().isEmpty)
        #expect(await alice.handleInfo()?["display"] == "Alice")
    }

    /// What Janus accepts without a word (unchecked members, streams without mids).
    @Test(arguments: [
        ["request": "configure", "send": "x"], ["request": "configure", "mid": 5], ["request": "configure", "streams": 5],
        ["request": "configure", "streams": [5]], ["request": "configure", "streams": [["send": true]]],
        ["request": "configure", "streams": [["keyframe": 5, "substream": "x", "max_delay": -1]]],
        ["request": "configure", "min_delay": "x", "audio_level_average": "x"],
        ["request": "configure", "descriptions": [["mid": "0", "description": "cam"]]],
        ["request": "configure", "record": true, "secret": "bad"], ["request": "publish", "audiocodec": "zz"],
    ] as [JSON])
    func accepted(body: JSON) async throws {
        let client = try await Client.connect()
        let (alice, _) = try await client.joined(1234)
        #expect(await alice.send(body) == Self.configured)
    }

    @Test func offersNeedTheMediaEngine() async throws {
        let client = try await Client.connect()
        let (alice, _) = try await client.joined(1234, ["display": "Alice"])
        let (bob, _) = try await client.joined(1234)
        let offer: JSON = ["type": "offer", "sdp": "v=0\r\n"]
        for request: JSON in ["configure", "publish"] {
            expectError(await alice.send(["request": request, "display": "X"], jsep: offer), 499, "Publishing media is not supported yet")
        }
        // Checks still come first, and nothing was applied.
        expectError(await alice.send(["request": "publish", "bitrate": "x"], jsep: offer), 430,
                    "Invalid element type (bitrate should be a positive integer)")
        #expect(await bob.notifications().isEmpty)
    }
}
