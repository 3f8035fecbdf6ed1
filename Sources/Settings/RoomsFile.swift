#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The rooms file: VideoRoom rooms made permanent through the API (`create`, `edit` and `destroy`
/// with `"permanent": true`). Confab keeps them apart from confab.cfg so it never rewrites the
/// self-hoster's own file (libconfig cannot write a file back with its comments). The file uses the
/// same syntax and room keys as `videoroom.rooms`, and is read by the same code, so a hand-edited
/// mistake is reported as `confab-rooms.cfg:LINE: rooms[0].publishers must be > 0, got 0`.
public struct RoomsFile: Sendable, Equatable {
    /// The name used beside the settings file when `videoroom.rooms_file` is empty.
    public static let defaultName = "confab-rooms.cfg"

    /// Rooms created or edited permanently. One with the number of a static room replaces it.
    public var rooms: [Settings.Room] = []
    /// Static rooms (from confab.cfg) destroyed permanently: they are not created at start-up.
    public var removed: [UInt64] = []

    public init(rooms: [Settings.Room] = [], removed: [UInt64] = []) {
        self.rooms = rooms
        self.removed = removed
    }

    /// Where the rooms file lives: `videoroom.rooms_file` when set, else `confab-rooms.cfg` beside the
    /// settings file; nil when Confab runs on built-in defaults with no rooms file set (as Janus with
    /// no configuration file, permanent requests are then refused).
    public static func path(settings: Settings, settingsPath: String?) -> String? {
        if !settings.videoroom.roomsFile.isEmpty { return settings.videoroom.roomsFile }
        guard let settingsPath else { return nil }
        let directory = URL(fileURLWithPath: settingsPath).deletingLastPathComponent()
        return directory.appendingPathComponent(defaultName).path
    }

    // MARK: Reading

    /// Reads the file at `path`; a missing file is an empty one (nothing was made permanent yet).
    public static func load(path: String) throws(SettingsError) -> RoomsFile {
        guard FileManager.default.fileExists(atPath: path) else { return RoomsFile() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingsError(.init(file: path, line: nil, key: nil, message: "cannot read the file"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SettingsError(.init(file: path, line: nil, key: nil, message: "is not UTF-8 text"))
        }
        return try parse(text: text, fileName: path)
    }

    /// Parses rooms-file text; `fileName` prefixes the messages.
    public static func parse(text: String, fileName: String) throws(SettingsError) -> RoomsFile {
        let root: ConfigNode
        do throws(LibConfigDocument.SyntaxError) {
            root = try LibConfigDocument.parse(text, includeDirectory: nil)
        } catch {
            throw SettingsError(.init(file: error.file ?? fileName, line: error.line, key: nil, message: error.message))
        }
        let document = if case .group(let members) = root.value { members } else { [ConfigNode]() }
        var file = RoomsFile()
        var report = Report(fileName: fileName)
        let input = Input(key: "", value: root.value, origin: .file(fileName, line: 0))
        Field.decodeMembers(document, of: input, fields: schema, into: &file, report: &report)
        if let first = report.problems.first {
            throw SettingsError(first, Array(report.problems.dropFirst()))
        }
        return file
    }

    private static let schema: [Field<RoomsFile>] = [
        Rooms.field("rooms", \.rooms),
        .value("removed", \.removed) { input throws(Failure) in
            let nodes: [ConfigNode]
            switch input.value {
            case .array(let elements), .list(let elements): nodes = elements
            default: throw input.typeMismatch("an array of room numbers")
            }
            var ids: [UInt64] = []
            for (index, node) in nodes.enumerated() {
                ids.append(UInt64(try input.child(node, key: "\(input.key)[\(index)]").integer(1...Int.max)))
            }
            return ids
        },
    ]

    // MARK: Changing

    /// The rooms to create at start-up: the static ones less those destroyed permanently, each
    /// replaced by its permanent edit when it has one, then the rooms created permanently.
    public func applied(to staticRooms: [Settings.Room]) -> [Settings.Room] {
        let saved = Dictionary(rooms.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        let gone = Set(removed)
        let staticIDs = Set(staticRooms.map(\.id))
        return staticRooms.filter { !gone.contains($0.id) }.map { saved[$0.id] ?? $0 }
            + rooms.filter { !staticIDs.contains($0.id) }
    }

    /// Records a room created or edited permanently (replacing its earlier record).
    public mutating func save(_ room: Settings.Room) {
        removed.removeAll { $0 == room.id }
        if let index = rooms.firstIndex(where: { $0.id == room.id }) {
            rooms[index] = room
        } else {
            rooms.append(room)
        }
    }

    /// Forgets a room destroyed permanently; a static room is remembered as removed so confab.cfg
    /// does not bring it back at the next start.
    public mutating func remove(_ id: UInt64, isStatic: Bool) {
        rooms.removeAll { $0.id == id }
        if isStatic, !removed.contains(id) { removed.append(id) }
    }

    // MARK: Writing

    /// The file's text: libconfig, every room option spelled out so the file reads on its own.
    public var text: String {
        var lines = [
            "# Confab's permanent VideoRoom rooms: created, edited or destroyed through the API with",
            "# \"permanent\": true. Confab rewrites this file on each such request; edit it only while",
            "# Confab is stopped. Rooms here replace confab.cfg's rooms with the same id; `removed` lists",
            "# confab.cfg rooms destroyed permanently. Same keys as videoroom.rooms in confab.cfg.",
            "rooms = (",
        ]
        for (index, room) in rooms.enumerated() {
            lines.append("  {")
            lines += Self.members(room).map { "    \($0.key) = \($0.value);" }
            lines.append(index == rooms.count - 1 ? "  }" : "  },")
        }
        lines.append(");")
        lines.append("removed = [ \(removed.map(Self.integer).joined(separator: ", ")) ];")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func members(_ room: Settings.Room) -> [(key: String, value: String)] {
        // Optional keys are written only when set, so the file stays as short as the room is simple.
        let allowed = room.allowed.map { "[ " + $0.map(quoted).joined(separator: ", ") + " ]" }
        var list: [(key: String, value: String)] = [
            ("id", integer(room.id)),
            ("description", quoted(room.description)),
            ("is_private", bool(room.isPrivate)),
            ("secret", quoted(room.secret)),
            ("pin", quoted(room.pin)),
            ("require_pvtid", bool(room.requirePvtid)),
            ("require_e2ee", bool(room.requireE2ee)),
            ("publishers", "\(room.publishers)"),
            ("bitrate", "\(room.bitrate)"),
            ("bitrate_cap", bool(room.bitrateCap)),
            ("fir_freq", "\(room.firFreq)"),
            ("audiocodec", quoted(room.audiocodec)),
            ("videocodec", quoted(room.videocodec)),
            ("opus_fec", bool(room.opusFec)),
            ("video_svc", bool(room.videoSVC)),
            ("audiolevel_ext", bool(room.audiolevelExt)),
            ("audiolevel_event", bool(room.audiolevelEvent)),
            ("audio_active_packets", "\(room.audioActivePackets)"),
            ("audio_level_average", "\(room.audioLevelAverage)"),
            ("videoorient_ext", bool(room.videoorientExt)),
            ("playoutdelay_ext", bool(room.playoutdelayExt)),
            ("transport_wide_cc_ext", bool(room.transportWideCCExt)),
            ("notify_joining", bool(room.notifyJoining)),
            ("record", bool(room.record)),
            ("rec_dir", quoted(room.recDir)),
            ("lock_record", bool(room.lockRecord)),
        ]
        if let allowed { list.append(("allowed", allowed)) }
        return list
    }

    /// libconfig needs the `L` suffix for integers beyond 32 bits.
    private static func integer(_ value: UInt64) -> String {
        value > UInt64(Int32.max) ? "\(value)L" : "\(value)"
    }

    private static func bool(_ value: Bool) -> String { value ? "true" : "false" }

    /// A libconfig string literal: quotes and backslashes escaped, control characters as `\xNN`.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\u{00}"..."\u{1F}", "\u{7F}":
                let hex = String(scalar.value, radix: 16)
                result += "\\x" + (scalar.value < 16 ? "0" : "") + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
