import Foundation
import Testing
@testable import Settings

@Suite struct RoomsFileTests {
    /// A room using every key the file writes, with text that needs escaping.
    static var fullRoom: Settings.Room {
        var room = Settings.Room(id: 5_000_000_000, description: "Quote \" back\\slash tab\t é")
        room.isPrivate = true
        room.secret = "s3"
        room.pin = "42"
        room.publishers = 9
        room.bitrate = 256000
        room.bitrateCap = true
        room.firFreq = 4
        room.audiocodec = "opus,g722"
        room.videocodec = "vp9"
        room.notifyJoining = true
        room.requirePvtid = true
        room.audiolevelEvent = true
        room.allowed = ["a", "b"]
        room.requireE2ee = true
        room.opusFec = false
        room.videoSVC = true
        room.audiolevelExt = false
        room.audioActivePackets = 50
        room.audioLevelAverage = 40
        room.videoorientExt = false
        room.playoutdelayExt = false
        room.transportWideCCExt = false
        room.record = true
        room.recDir = "/var/rec"
        room.lockRecord = true
        return room
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("confab-rooms-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func writtenFileReadsBackTheSame() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("confab-rooms.cfg").path
        let file = RoomsFile(rooms: [Self.fullRoom, Settings.Room(id: 7, description: "Room 7")], removed: [1234, 3])
        try file.write(to: path)
        #expect(try RoomsFile.load(path: path) == file)
        // Room secrets are in there: only the owner may read it.
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["confab-rooms.cfg"])
    }

    @Test func emptyFileRoundTrips() throws {
        #expect(try RoomsFile.parse(text: RoomsFile().text, fileName: "r.cfg") == RoomsFile())
    }

    @Test func aMissingFileIsEmpty() throws {
        #expect(try RoomsFile.load(path: "/nonexistent/confab-rooms.cfg") == RoomsFile())
    }

    /// The new contents arrive by rename: a reader holding the old file still sees it whole, and no
    /// temporary file is left behind.
    @Test func replacingIsAtomic() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("rooms.cfg").path
        let first = RoomsFile(rooms: [Settings.Room(id: 1, description: "First")])
        try first.write(to: path)
        let oldReader = try #require(FileHandle(forReadingAtPath: path))
        defer { try? oldReader.close() }
        let oldInode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)

        var second = first
        second.save(Settings.Room(id: 2, description: "Second"))
        try second.write(to: path)

        let newInode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)
        #expect(newInode != oldInode)
        let oldText = String(decoding: try #require(try oldReader.readToEnd()), as: UTF8.self)
        #expect(oldText == first.text)
        #expect(try RoomsFile.load(path: path) == second)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["rooms.cfg"])
    }

    @Test func aFailedWriteLeavesTheOldFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("rooms.cfg").path
        try RoomsFile(rooms: [Settings.Room(id: 1, description: "One")]).write(to: path)
        // A directory where the file should go: the rename fails, whoever runs the test.
        let blocked = directory.appendingPathComponent("blocked").path
        try FileManager.default.createDirectory(atPath: blocked, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: blocked + "/x", withIntermediateDirectories: false)
        #expect(throws: AtomicFile.WriteError.self) { try RoomsFile().write(to: blocked) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["blocked", "rooms.cfg"])
        #expect(try RoomsFile.load(path: path).rooms.map(\.id) == [1])
    }

    @Test(arguments: [
        ("rooms = (\n  { id = 1;\n    publishers = 0; }\n);", "r.cfg:3: rooms[0].publishers must be > 0, got 0"),
        ("rooms = ( { description = \"x\"; } );", "r.cfg:1: rooms[0] has no id"),
        ("rooms = ( { id = 1; },\n { id = 1; } );", "r.cfg:2: rooms[1].id 1 is already used by rooms[0]"),
        ("rooms = ( { id = 1;\n  allowed = [ 5 ]; } );", "r.cfg:2: rooms[0].allowed[0] must be a string, got an integer"),
        ("removed = [ 0 ];", "r.cfg:1: removed[0] must be > 0, got 0"),
        ("removed = 5;", "r.cfg:1: removed must be an array of room numbers, got an integer"),
        ("\nroom = ();", "r.cfg:2: unknown key room (did you mean rooms?)"),
        ("rooms = (\n  { id = 1; }", "r.cfg:2: syntax error"),
    ])
    func badFileNamesFileAndLine(text: String, message: String) {
        #expect(throws: SettingsError.self) { try RoomsFile.parse(text: text, fileName: "r.cfg") }
        do {
            _ = try RoomsFile.parse(text: text, fileName: "r.cfg")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func loadNamesTheFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("confab-rooms.cfg").path
        try "rooms = (\n  { id = 3; bitrate = \"x\"; }\n);\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: SettingsError.self) { try RoomsFile.load(path: path) }
        do { _ = try RoomsFile.load(path: path) } catch {
            #expect(error.description == "\(path):2: rooms[0].bitrate must be an integer, got a string")
        }
    }

    @Test func permanentChangesApplyToStaticRooms() {
        let demo = Settings.Room(id: 1234, description: "Demo")
        let other = Settings.Room(id: 1, description: "Other")
        var file = RoomsFile()
        var edited = demo
        edited.pin = "7"
        file.save(edited)
        file.save(Settings.Room(id: 99, description: "Created"))
        file.remove(1, isStatic: true)
        #expect(file.applied(to: [demo, other]) == [edited, Settings.Room(id: 99, description: "Created")])
        // Destroying a room created through the API leaves no trace; creating a removed number again undoes the removal.
        file.remove(99, isStatic: false)
        #expect(file.removed == [1])
        file.save(other)
        #expect(file.removed == [])
        #expect(file.applied(to: [demo, other]) == [edited, other])
    }

    @Test func pathDefaultsBesideTheSettingsFile() {
        var settings = Settings()
        #expect(RoomsFile.path(settings: settings, settingsPath: "/etc/confab/confab.cfg") == "/etc/confab/confab-rooms.cfg")
        #expect(RoomsFile.path(settings: settings, settingsPath: "confab.cfg")?.hasSuffix("/confab-rooms.cfg") == true)
        #expect(RoomsFile.path(settings: settings, settingsPath: nil) == nil)
        settings.videoroom.roomsFile = "/var/lib/confab/rooms.cfg"
        #expect(RoomsFile.path(settings: settings, settingsPath: nil) == "/var/lib/confab/rooms.cfg")
    }

    @Test func roomsFileSettingIsRead() throws {
        #expect(try parse("videoroom: { rooms_file = \"/x/r.cfg\"; };").videoroom.roomsFile == "/x/r.cfg")
    }
}
