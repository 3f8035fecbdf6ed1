/// `videoroom.rooms`: a list of groups, one per room created at start-up.
enum Rooms {
    static let audioCodecs = ["opus", "g722", "pcmu", "pcma", "isac16", "isac32", "multiopus"]
    static let videoCodecs = ["vp8", "vp9", "h264", "av1", "h265"]

    static let members: [Field<Settings.Room>] = [
        .roomID("id", \.id),
        .string("description", \.description),
        .bool("is_private", \.isPrivate),
        .string("secret", \.secret),
        .string("pin", \.pin),
        .integer("publishers", \.publishers, 1...),
        .integer("bitrate", \.bitrate, 0...),
        .bool("bitrate_cap", \.bitrateCap),
        .integer("fir_freq", \.firFreq, 0...),
        .codecs("audiocodec", \.audiocodec, audioCodecs),
        .codecs("videocodec", \.videocodec, videoCodecs),
        .bool("notify_joining", \.notifyJoining),
        .bool("require_pvtid", \.requirePvtid),
        .bool("audiolevel_event", \.audiolevelEvent),
        .value("allowed", \.allowed) { input throws(Failure) in try input.strings(splitCommas: false) },
        .bool("require_e2ee", \.requireE2ee),
        .bool("opus_fec", \.opusFec),
        .bool("video_svc", \.videoSVC),
        .bool("audiolevel_ext", \.audiolevelExt),
        .integer("audio_active_packets", \.audioActivePackets, 1...),
        .integer("audio_level_average", \.audioLevelAverage, 1...),
        .bool("videoorient_ext", \.videoorientExt),
        .bool("playoutdelay_ext", \.playoutdelayExt),
        .bool("transport_wide_cc_ext", \.transportWideCCExt),
        .bool("record", \.record),
        .string("rec_dir", \.recDir),
        .bool("lock_record", \.lockRecord),
    ]

    /// A list of rooms stored at `path`: `videoroom.rooms` in confab.cfg, `rooms` in the rooms file.
    static func field<Root>(_ name: String, _ path: WritableKeyPath<Root, [Settings.Room]> & Sendable) -> Field<Root> {
        Field<Root>(name: name, members: []) { root, input, report in
            let nodes: [ConfigNode]
            switch input.value {
            case .list(let elements): nodes = elements
            case .array(let elements) where elements.isEmpty: nodes = []  // `rooms = [];` reads naturally too
            default: return report.add(input.typeMismatch("a list of groups"))
            }
            var rooms: [Settings.Room] = []
            var indexByID: [UInt64: Int] = [:]
            for (index, node) in nodes.enumerated() {
                let roomInput = input.child(node, key: "\(input.key)[\(index)]")
                guard case .group(let roomMembers) = node.value else {
                    report.add(roomInput.typeMismatch("a group"))
                    continue
                }
                var room = Settings.Room(id: 0, description: "")
                Field.decodeMembers(roomMembers, of: roomInput, fields: members, into: &room, report: &report)
                let idKey = roomInput.key + ".id"
                guard room.id != 0 else {
                    if !report.failedKeys.contains(idKey) { report.add(roomInput.failure("has no id")) }
                    continue
                }
                if let earlier = indexByID[room.id] {
                    report.add("\(idKey) \(room.id) is already used by \(input.key)[\(earlier)]", blaming: idKey)
                }
                indexByID[room.id] = indexByID[room.id] ?? index
                if room.description.isEmpty { room.description = "Room \(room.id)" }
                rooms.append(room)
            }
            root[keyPath: path] = rooms
            report.origins[input.key] = input.origin
        }
    }
}
