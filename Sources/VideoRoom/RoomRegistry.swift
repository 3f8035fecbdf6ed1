import Synchronization

/// Every room, by number.
final class RoomRegistry: Sendable {
    private let rooms: Mutex<[UInt64: Room]>

    init(_ initial: [Room] = []) {
        var table: [UInt64: Room] = [:]
        for room in initial where table[room.id] == nil { table[room.id] = room }
        rooms = Mutex(table)
    }

    func room(_ id: UInt64) -> Room? { rooms.withLock { $0[id] } }

    func contains(_ id: UInt64) -> Bool { rooms.withLock { $0[id] != nil } }

    /// All rooms, by number (Janus lists them in hash-table order; a stable order reads better).
    var all: [Room] { rooms.withLock { $0.values.sorted { $0.id < $1.id } } }

    var count: Int { rooms.withLock { $0.count } }

    /// Adds a room numbered `requestedID`, or a fresh random number when it is 0.
    /// `build` makes the options once the number is known.
    func create(requestedID: UInt64, _ build: (UInt64) -> RoomOptions) throws(VideoRoomError) -> Room {
        try rooms.withLock { (rooms: inout [UInt64: Room]) throws(VideoRoomError) -> Room in
            var id = requestedID
            if id == 0 {
                repeat { id = Self.randomID() } while rooms[id] != nil
            } else if rooms[id] != nil {
                throw .roomExists(id)
            }
            let room = Room(options: build(id))
            rooms[id] = room
            return room
        }
    }

    /// Removes this room (not a newer one that reused its number); false if it was already gone.
    func remove(_ room: Room) -> Bool {
        rooms.withLock { rooms in
            guard rooms[room.id] === room else { return false }
            rooms[room.id] = nil
            return true
        }
    }

    /// Janus's janus_random_uint64(): below 2^53, so JavaScript clients keep it exact.
    static func randomID() -> UInt64 { UInt64.random(in: 1..<(1 << 53)) }
}
