import JanusAPI
import Testing
@testable import VideoRoom

/// The synchronous moderator requests that need no media to answer as Janus 1.1.2 does.
@Suite("moderate, stop_rtp_forward, enable_recording")
struct ModerationTests {
    @Test func moderate() async throws {
        let client = try await Client.connect()
        let (_, joined) = try await client.joined(1234)
        let id = joined["id"] ?? nil
        let cases: [(JSON, Int, String)] = [
            (["request": "moderate"], 429, "Missing mandatory element (id)"),
            (["request": "moderate", "room": 1234, "id": id], 429, "Missing mandatory element (mid)"),
            (["request": "moderate", "room": 1234, "id": id, "mid": "0"], 429, "Missing mandatory element (mute)"),
            (["request": "moderate", "room": 1234, "id": id, "mid": 0, "mute": true], 430, "Invalid element type (mid should be a string)"),
            (["request": "moderate", "room": "x", "id": 5, "mid": "0", "mute": true], 426, "No such room (0)"),
            (["request": "moderate", "room": 1234, "id": id, "mid": "0", "mute": true], 429, "Missing mandatory element (secret)"),
            (["request": "moderate", "room": 1234, "id": 5, "mid": "0", "mute": true, "secret": "adminpwd"], 428,
             "No such user 5 in room 1234"),
            // Nobody publishes a stream yet.
            (["request": "moderate", "room": 1234, "id": id, "mid": "0", "mute": true, "secret": "adminpwd"], 428, "No such stream 0"),
        ]
        for (body, code, reason) in cases {
            expectError(await client.send(body), code, reason)
        }
    }

    @Test func stopRTPForward() async throws {
        let client = try await Client.connect()
        let (_, joined) = try await client.joined(1234)
        let id = joined["id"] ?? nil
        let cases: [(JSON, Int, String)] = [
            (["request": "stop_rtp_forward"], 429, "Missing mandatory element (room)"),
            (["request": "stop_rtp_forward", "room": "x", "publisher_id": 5, "stream_id": 1], 430,
             "Invalid element type (room should be a positive integer)"),
            (["request": "stop_rtp_forward", "room": 1234], 429, "Missing mandatory element (publisher_id)"),
            (["request": "stop_rtp_forward", "room": 1234, "publisher_id": 5], 429, "Missing mandatory element (stream_id)"),
            (["request": "stop_rtp_forward", "room": 1234, "publisher_id": 5, "stream_id": "x"], 430,
             "Invalid element type (stream_id should be a positive integer)"),
            (["request": "stop_rtp_forward", "room": 999, "publisher_id": 5, "stream_id": 1], 426, "No such room (999)"),
            (["request": "stop_rtp_forward", "room": 1234, "publisher_id": id, "stream_id": 5], 429, "Missing mandatory element (secret)"),
            (["request": "stop_rtp_forward", "room": 1234, "publisher_id": 5, "stream_id": 5, "secret": "adminpwd"], 428, "No such feed (5)"),
            (["request": "stop_rtp_forward", "room": 1234, "publisher_id": id, "stream_id": 5, "secret": "adminpwd"], 428,
             "No such stream (5)"),
            // Forwarder ids are 32-bit in Janus.
            (["request": "stop_rtp_forward", "room": 1234, "publisher_id": id, "stream_id": 5_000_000_000, "secret": "adminpwd"], 428,
             "No such stream (705032704)"),
        ]
        for (body, code, reason) in cases {
            expectError(await client.send(body), code, reason)
        }
    }

    @Test func enableRecording() async throws {
        let client = try await Client.connect()
        let cases: [(JSON, Int, String)] = [
            (["request": "enable_recording"], 429, "Missing mandatory element (record)"),
            (["request": "enable_recording", "room": 1234, "record": "x"], 430, "Invalid element type (record should be a boolean)"),
            // `room` is not checked: a missing or mistyped one is room 0.
            (["request": "enable_recording", "record": true], 426, "No such room (0)"),
            (["request": "enable_recording", "room": "x", "record": true], 426, "No such room (0)"),
            (["request": "enable_recording", "room": 1234, "record": true], 429, "Missing mandatory element (secret)"),
            (["request": "enable_recording", "room": 1234, "record": true, "secret": "no"], 433, "Unauthorized (wrong secret)"),
        ]
        for (body, code, reason) in cases {
            expectError(await client.send(body), code, reason)
        }
        #expect(await client.send(["request": "enable_recording", "room": 1234, "record": true, "secret": "adminpwd"])
                == ["videoroom": "success", "record": true])
        #expect(await client.listed()[1234]?["record"] == true)
        #expect(await client.send(["request": "enable_recording", "room": 1234, "record": false, "secret": "adminpwd"])
                == ["videoroom": "success", "record": false])
        #expect(await client.listed()[1234]?["record"] == false)
    }
}
