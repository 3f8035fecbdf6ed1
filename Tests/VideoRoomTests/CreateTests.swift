import JanusAPI
import Testing
@testable import VideoRoom

@Suite("create")
struct CreateTests {
    @Test func createWithNumber() async throws {
        let client = try await Client.connect()
        #expect(await client.send(["request": "create", "room": 42]) == ["videoroom": "created", "room": 42, "permanent": false])
        #expect(await client.send(["request": "exists", "room": 42]) == ["videoroom": "success", "room": 42, "exists": true])
        #expect(await client.listed()[42] == Fixtures.defaultEntry(42))
    }

    @Test func createWithRandomNumber() async throws {
        let client = try await Client.connect()
        for body: JSON in [["request": "create"], ["request": "create", "room": 0]] {
            let data = await client.send(body)
            #expect(data["videoroom"] == "created")
            #expect(data["permanent"] == false)
            let id = try #require(data["room"]?.uint64Value)
            #expect(id > 0 && id < 1 << 53)
            #expect(await client.listed()[id] == Fixtures.defaultEntry(id))
        }
    }

    @Test func everyOptionShowsInList() async throws {
        let client = try await Client.connect()
        let data = await client.send([
            "request": "create", "room": 42, "description": "Forty two", "secret": "s", "pin": "p",
            "is_private": true, "publishers": 10, "bitrate": 256000, "bitrate_cap": true, "fir_freq": 5,
            "audiocodec": "opus,g722", "videocodec": "h264,vp8", "opus_fec": false, "video_svc": true,
            "audiolevel_ext": false, "audiolevel_event": true, "audio_active_packets": 50, "audio_level_average": 40,
            "videoorient_ext": false, "playoutdelay_ext": false, "transport_wide_cc_ext": false,
            "notify_joining": true, "lock_record": true, "record": true, "rec_dir": "/tmp/rec",
            "require_pvtid": true, "require_e2ee": true, "allowed": ["a", "b"],
        ])
        #expect(data == ["videoroom": "created", "room": 42, "permanent": false])
        // Janus 1.1.2's answer for the same request (video_svc dropped: not a VP9-only room; opus_fec false: absent).
        let expected: JSON = [
            "room": 42, "description": "Forty two", "pin_required": true, "is_private": true, "max_publishers": 10,
            "bitrate": 256000, "bitrate_cap": true, "fir_freq": 5, "require_pvtid": true, "require_e2ee": true,
            "dummy_publisher": false, "notify_joining": true, "audiocodec": "opus,g722", "videocodec": "h264,vp8",
            "record": true, "rec_dir": "/tmp/rec", "lock_record": true, "num_participants": 0,
            "audiolevel_ext": false, "audiolevel_event": true, "audio_active_packets": 50, "audio_level_average": 40,
            "videoorient_ext": false, "playoutdelay_ext": false, "transport_wide_cc_ext": false,
        ]
        // Private: only listed with the admin key, and this plugin has none, so look at the options.
        #expect(await client.listed()[42] == nil)
        let options = try #require(client.plugin.roomOptions.first { $0.id == 42 })
        #expect(VideoRoomPlugin.listEntry(options, participants: 0) == expected)
        #expect(options.secret == "s")
        #expect(options.pin == "p")
        #expect(options.allowed == ["a", "b"])
    }

    @Test func roomExists() async throws {
        let client = try await Client.connect()
        expectError(await client.send(["request": "create", "room": 1234]), 427, "Room 1234 already exists")
        _ = await client.send(["request": "create", "room": 7])
        expectError(await client.send(["request": "create", "room": 7]), 427, "Room 7 already exists")
    }

    @Test(arguments: [
        (["room": "x"], "Invalid element type (room should be a positive integer)"),
        (["room": -5], "Invalid element type (room should be a positive integer)"),
        (["room": 1.5], "Invalid element type (room should be a positive integer)"),
        (["description": 5], "Invalid element type (description should be a string)"),
        (["description": 5, "is_private": "x"], "Invalid element type (description should be a string)"),
        (["room": "x", "description": 5], "Invalid element type (description should be a string)"),
        (["is_private": "true"], "Invalid element type (is_private should be a boolean)"),
        (["is_private": nil], "Invalid element type (is_private should be a boolean)"),
        (["publishers": -1], "Invalid element type (publishers should be a positive integer)"),
        (["publishers": "3"], "Invalid element type (publishers should be a positive integer)"),
        (["bitrate": 1.5], "Invalid element type (bitrate should be a positive integer)"),
        (["fir_freq": -3], "Invalid element type (fir_freq should be a positive integer)"),
        (["allowed": "a"], "Invalid element type (allowed should be an array)"),
        (["allowed": ["a", 1]], "Invalid element in the allowed array (not a string)"),
        (["permanent": "yes"], "Invalid element type (permanent should be a boolean)"),
        (["opus_dtx": "x"], "Invalid element type (opus_dtx should be a boolean)"),
        (["dummy_streams": "x"], "Invalid element type (dummy_streams should be an array)"),
        (["vp9_profile": 5], "Invalid element type (vp9_profile should be a string)"),
        (["audiocodec": 5], "Invalid element type (audiocodec should be a string)"),
        (["audiocodec": "foo"], "Invalid element (audiocodec can only be or contain opus, isac32, isac16, pcmu, pcma or g722)"),
        (["audiocodec": "opus, pcmu"], "Invalid element (audiocodec can only be or contain opus, isac32, isac16, pcmu, pcma or g722)"),
        (["audiocodec": "opus,"], "Invalid element (audiocodec can only be or contain opus, isac32, isac16, pcmu, pcma or g722)"),
        (["videocodec": "vp8,foo"], "Invalid element (videocodec can only be or contain vp8, vp9, av1, h264 or h265)"),
        (["audiocodec": "foo", "allowed": [1], "permanent": true], "Invalid element (audiocodec can only be or contain opus, isac32, isac16, pcmu, pcma or g722)"),
        (["allowed": [1], "permanent": true], "Invalid element in the allowed array (not a string)"),
    ] as [([String: JSON], String)])
    func invalidElements(fields: [String: JSON], reason: String) async throws {
        let client = try await Client.connect()
        var body = fields
        body["request"] = "create"
        expectError(await client.send(.object(body)), 430, reason)
        #expect(client.plugin.roomOptions.count == 2)
    }

    @Test func permanentRoomsAreRefused() async throws {
        let client = try await Client.connect()
        expectError(await client.send(["request": "create", "room": 9, "permanent": true]),
                    499, "No configuration file, can't create permanent room")
        #expect(await client.send(["request": "exists", "room": 9])["exists"] == false)
        #expect(await client.send(["request": "create", "room": 9, "permanent": false])["videoroom"] == "created")
    }

    @Test func codecLists() async throws {
        let client = try await Client.connect()
        _ = await client.send(["request": "create", "room": 1, "audiocodec": "OPUS,multiopus", "videocodec": "VP8,H264"])
        _ = await client.send(["request": "create", "room": 2, "audiocodec": "pcmu,pcma,g722,isac16,isac32,foo"])
        _ = await client.send(["request": "create", "room": 3, "videocodec": "vp8,vp9,h264,av1,h265,vp8"])
        _ = await client.send(["request": "create", "room": 4, "audiocodec": "", "videocodec": ""])
        _ = await client.send(["request": "create", "room": 5, "audiocodec": "pcmu,pcmu,opus,l16,l16-48"])
        let rooms = await client.listed()
        #expect(rooms[1]?["audiocodec"] == "opus,multiopus")
        #expect(rooms[1]?["videocodec"] == "vp8,h264")
        #expect(rooms[2]?["audiocodec"] == "pcmu,pcma,g722,isac16,isac32")
        #expect(rooms[3]?["videocodec"] == "vp8,vp9,h264,av1,h265")
        #expect(rooms[4]?["audiocodec"] == "opus")
        #expect(rooms[4]?["videocodec"] == "vp8")
        #expect(rooms[5]?["audiocodec"] == "pcmu,pcmu,opus,l16,l16-48")
    }

    /// Behaviours checked against Janus 1.1.2.
    @Test func janusQuirks() async throws {
        let client = try await Client.connect()
        // Bitrates below 64 kbps become 64 kbps; fir_freq is 16 bits and publishers 32 bits wide.
        _ = await client.send(["request": "create", "room": 1, "bitrate": 1000, "fir_freq": 65537, "publishers": 5_000_000_000])
        // FEC stays on without Opus unless asked for; asked for, it needs Opus. SVC needs a VP9-only room.
        _ = await client.send(["request": "create", "room": 2, "audiocodec": "pcmu", "videocodec": "vp9", "video_svc": true])
        _ = await client.send(["request": "create", "room": 3, "audiocodec": "pcmu", "opus_fec": true,
                                "videocodec": "vp9,vp8", "video_svc": true, "audiolevel_event": true,
                                "audio_active_packets": 0])
        // An empty description gets the default name; an empty secret or pin still counts as one.
        _ = await client.send(["request": "create", "room": 4, "description": "", "secret": "", "pin": ""])
        let rooms = await client.listed()
        #expect(rooms[1]?["bitrate"] == 64000)
        #expect(rooms[1]?["fir_freq"] == 1)
        #expect(rooms[1]?["max_publishers"] == 705_032_704)
        #expect(rooms[2]?["opus_fec"] == true)
        #expect(rooms[2]?["video_svc"] == true)
        #expect(rooms[3]?["opus_fec"] == nil)
        #expect(rooms[3]?["video_svc"] == nil)
        #expect(rooms[3]?["audio_active_packets"] == 100)
        #expect(rooms[3]?["audio_level_average"] == 25)
        #expect(rooms[4]?["description"] == "Room 4")
        #expect(rooms[4]?["pin_required"] == true)
        expectError(await client.send(["request": "destroy", "room": 4]), 429, "Missing mandatory element (secret)")
        #expect(await client.send(["request": "destroy", "room": 4, "secret": ""])["videoroom"] == "destroyed")
    }

    @Test func adminKeyGuardsCreate() async throws {
        let client = try await Client.connect(adminKey: "supersecret")
        expectError(await client.send(["request": "create"]), 429, "Missing mandatory element (admin_key)")
        expectError(await client.send(["request": "create", "admin_key": 5]), 430, "Invalid element type (admin_key should be a string)")
        expectError(await client.send(["request": "create", "admin_key": "wrong"]), 433, "Unauthorized (wrong admin_key)")
        expectError(await client.send(["request": "create", "admin_key": "bad", "audiocodec": "foo"]), 433, "Unauthorized (wrong admin_key)")
        // The room is validated before the key.
        expectError(await client.send(["request": "create", "room": "x"]), 430, "Invalid element type (room should be a positive integer)")
        #expect(client.plugin.roomOptions.count == 2)
        #expect(await client.send(["request": "create", "room": 77, "admin_key": "supersecret"])
                == ["videoroom": "created", "room": 77, "permanent": false])
    }

    @Test func concurrentCreatesGetDistinctRooms() async throws {
        let client = try await Client.connect()
        let ids = await withTaskGroup(of: UInt64?.self) { group in
            for _ in 0..<50 { group.addTask { await client.send(["request": "create"])["room"]?.uint64Value } }
            var ids: [UInt64] = []
            for await id in group { if let id { ids.append(id) } }
            return ids
        }
        #expect(ids.count == 50)
        #expect(Set(ids).count == 50)
        #expect(client.plugin.roomOptions.count == 52)
        let winners = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 { group.addTask { await client.send(["request": "create", "room": 99])["videoroom"] == "created" } }
            var count = 0
            for await won in group where won { count += 1 }
            return count
        }
        #expect(winners == 1)
    }
}
