import JanusAPI
import Testing
@testable import VideoRoom

@Suite("list, exists, listparticipants, listforwarders")
struct ListTests {
    @Test func listShowsPublicRoomsAsJanusDoes() async throws {
        let client = try await Client.connect()
        let reply = await client.send(["request": "list"])
        #expect(reply == ["videoroom": "success", "list": [
            [
                "room": 1234, "description": "Demo Room", "pin_required": false, "is_private": false,
                "max_publishers": 6, "bitrate": 128000, "fir_freq": 10, "require_pvtid": false, "require_e2ee": false,
                "dummy_publisher": false, "notify_joining": false, "audiocodec": "opus", "videocodec": "vp8",
                "opus_fec": true, "record": false, "lock_record": false, "num_participants": 0,
                "audiolevel_ext": true, "audiolevel_event": false, "videoorient_ext": true, "playoutdelay_ext": true,
                "transport_wide_cc_ext": true,
            ],
        ]])
    }

    @Test func privateRoomsNeedTheAdminKey() async throws {
        let client = try await Client.connect(adminKey: "supersecret")
        #expect(Set(await client.listed().keys) == [1234])
        #expect(Set(await client.listed(["request": "list", "admin_key": ""]).keys) == [1234])
        #expect(Set(await client.listed(["request": "list", "admin_key": 5]).keys) == [1234])
        expectError(await client.send(["request": "list", "admin_key": "wrong"]), 433, "Unauthorized (wrong admin_key)")
        let all = await client.listed(["request": "list", "admin_key": "supersecret"])
        #expect(Set(all.keys) == [1234, 5678])
        #expect(all[5678] == [
            "room": 5678, "description": "Private", "pin_required": true, "is_private": true, "max_publishers": 3,
            "bitrate": 0, "bitrate_cap": true, "fir_freq": 0, "require_pvtid": false, "require_e2ee": false,
            "dummy_publisher": false, "notify_joining": false, "audiocodec": "opus,pcmu", "videocodec": "vp9,vp8",
            "opus_fec": true, "record": false, "lock_record": false, "num_participants": 0, "audiolevel_ext": true,
            "audiolevel_event": true, "audio_active_packets": 100, "audio_level_average": 25,
            "videoorient_ext": true, "playoutdelay_ext": true, "transport_wide_cc_ext": true,
        ])
    }

    @Test func withoutAnAdminKeyPrivateRoomsStayHidden() async throws {
        let client = try await Client.connect()
        #expect(Set(await client.listed(["request": "list", "admin_key": "anything"]).keys) == [1234])
        #expect(await client.send(["request": "exists", "room": 5678])["exists"] == true)
    }

    @Test func listIsSortedByRoom() async throws {
        let client = try await Client.connect()
        for id in [900, 3, 77] { _ = await client.send(["request": "create", "room": .int(Int64(id))]) }
        let ids = await client.send(["request": "list"])["list"]?.arrayValue?.compactMap { $0["room"]?.uint64Value }
        #expect(ids == [3, 77, 900, 1234])
    }

    @Test func exists() async throws {
        let client = try await Client.connect()
        #expect(await client.send(["request": "exists", "room": 1234]) == ["videoroom": "success", "room": 1234, "exists": true])
        #expect(await client.send(["request": "exists", "room": 99]) == ["videoroom": "success", "room": 99, "exists": false])
        #expect(await client.send(["request": "exists", "room": 0]) == ["videoroom": "success", "room": 0, "exists": false])
        expectError(await client.send(["request": "exists"]), 429, "Missing mandatory element (room)")
        expectError(await client.send(["request": "exists", "room": "1234"]), 430, "Invalid element type (room should be a positive integer)")
        expectError(await client.send(["request": "exists", "room": -1]), 430, "Invalid element type (room should be a positive integer)")
        expectError(await client.send(["request": "exists", "room": nil]), 430, "Invalid element type (room should be a positive integer)")
    }

    @Test func listParticipants() async throws {
        let client = try await Client.connect()
        expectError(await client.send(["request": "listparticipants"]), 429, "Missing mandatory element (room)")
        expectError(await client.send(["request": "listparticipants", "room": 999]), 426, "No such room (999)")
        // No secret needed, private rooms included.
        #expect(await client.send(["request": "listparticipants", "room": 1234])
                == ["videoroom": "participants", "room": 1234, "participants": []])
        #expect(await client.send(["request": "listparticipants", "room": 5678])
                == ["videoroom": "participants", "room": 5678, "participants": []])
    }

    @Test func listForwarders() async throws {
        let client = try await Client.connect()
        expectError(await client.send(["request": "listforwarders"]), 429, "Missing mandatory element (room)")
        expectError(await client.send(["request": "listforwarders", "room": 999]), 426, "No such room (999)")
        expectError(await client.send(["request": "listforwarders", "room": 1234]), 429, "Missing mandatory element (secret)")
        expectError(await client.send(["request": "listforwarders", "room": 1234, "secret": "no"]), 433, "Unauthorized (wrong secret)")
        #expect(await client.send(["request": "listforwarders", "room": 1234, "secret": "adminpwd"])
                == ["videoroom": "forwarders", "room": 1234, "publishers": []])
        #expect(await client.send(["request": "listforwarders", "room": 5678])
                == ["videoroom": "forwarders", "room": 5678, "publishers": []])
    }

    @Test func staticRoomsAreNormalized() {
        var low = RoomOptions(id: 1, description: "")
        low.bitrate = 1000
        low.audiocodec = ["PCMU", "bogus"]
        low.videocodec = []
        low.videoSVC = true
        low.audioActivePackets = 0
        var duplicate = RoomOptions(id: 1, description: "second")
        duplicate.isPrivate = true
        let plugin = VideoRoomPlugin(rooms: [low, duplicate, RoomOptions(id: 2)])
        let rooms = plugin.roomOptions
        #expect(rooms.map(\.id) == [1, 2])
        #expect(rooms[0].description == "Room 1")
        #expect(rooms[0].bitrate == 64000)
        #expect(rooms[0].audiocodec == ["pcmu"])
        #expect(rooms[0].videocodec == ["vp8"])
        #expect(rooms[0].videoSVC == false)
        #expect(rooms[0].audioActivePackets == 100)
        #expect(rooms[0].isPrivate == false)
        #expect(rooms[1] == RoomOptions(id: 2, description: "Room 2"))
    }
}
