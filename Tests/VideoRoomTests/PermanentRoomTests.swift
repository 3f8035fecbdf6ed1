import JanusAPI
import Synchronization
import Testing
@testable import VideoRoom

/// A store in memory, or one whose disk is full.
final class MemoryRoomStore: PermanentRoomStore {
    let rooms = Mutex<[UInt64: RoomOptions]>([:])
    let failing: Bool
    init(failing: Bool = false) { self.failing = failing }

    func save(_ id: UInt64, current: () -> RoomOptions) -> Bool {
        guard !failing else { return false }
        let options = current()
        rooms.withLock { $0[id] = options }
        return true
    }

    func remove(_ id: UInt64) -> Bool {
        guard !failing else { return false }
        rooms.withLock { $0[id] = nil }
        return true
    }

    subscript(id: UInt64) -> RoomOptions? { rooms.withLock { $0[id] } }
}

@Suite("permanent rooms")
struct PermanentRoomTests {
    @Test func createEditDestroyReachTheStore() async throws {
        let store = MemoryRoomStore()
        let client = try await Client.connect(permanentRooms: store)
        #expect(await client.send([
            "request": "create", "room": 9, "permanent": true, "description": "Kept", "pin": "1", "secret": "s",
            "publishers": 7, "allowed": ["t1"], "record": true, "rec_dir": "/tmp/r",
        ]) == ["videoroom": "created", "room": 9, "permanent": true])
        let created = try #require(store[9])
        #expect(created.description == "Kept")
        #expect(created.pin == "1")
        #expect(created.secret == "s")
        #expect(created.publishers == 7)
        #expect(created.allowed == ["t1"])
        #expect(created.record && created.recDir == "/tmp/r")

        // Not permanent: the store keeps the earlier state.
        #expect(await client.send(["request": "edit", "room": 9, "secret": "s", "new_description": "Temp"])["permanent"] == false)
        #expect(store[9]?.description == "Kept")
        #expect(await client.send([
            "request": "edit", "room": 9, "secret": "s", "new_description": "Renamed", "new_publishers": 2, "permanent": true,
        ]) == ["videoroom": "edited", "room": 9, "permanent": true])
        #expect(store[9]?.description == "Renamed")
        #expect(store[9]?.publishers == 2)

        // A static room edited permanently is recorded whole.
        #expect(await client.send(["request": "edit", "room": 1234, "secret": "adminpwd", "new_pin": "9", "permanent": true])["permanent"] == true)
        #expect(store[1234]?.pin == "9")
        #expect(store[1234]?.secret == "adminpwd")

        #expect(await client.send(["request": "destroy", "room": 9, "secret": "s", "permanent": true])
                == ["videoroom": "destroyed", "room": 9, "permanent": true])
        #expect(store[9] == nil)
        #expect(await client.send(["request": "exists", "room": 9])["exists"] == false)
    }

    @Test func aStoreThatCannotSaveAnswersNotPermanent() async throws {
        let client = try await Client.connect(permanentRooms: MemoryRoomStore(failing: true))
        #expect(await client.send(["request": "create", "room": 9, "permanent": true])
                == ["videoroom": "created", "room": 9, "permanent": false])
        #expect(await client.send(["request": "exists", "room": 9])["exists"] == true)
        #expect(await client.send(["request": "destroy", "room": 9, "permanent": true])
                == ["videoroom": "destroyed", "room": 9, "permanent": false])
    }
}
