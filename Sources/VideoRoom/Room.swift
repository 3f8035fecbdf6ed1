import JanusAPI
import Synchronization

/// A VideoRoom room: its options, access list and participants, behind one lock.
final class Room: Sendable {
    let id: UInt64
    private let state: Mutex<State>

    struct State: Sendable {
        /// Current settings; `options.allowed` is not kept up to date, `allowed` is.
        var options: RoomOptions
        var allowed: AllowedList
        var participants: [UInt64: Participant] = [:]
        /// Set once the room leaves the registry; requests that raced with `destroy` then fail.
        var destroyed = false
    }

    init(options: RoomOptions) {
        id = options.id
        state = Mutex(State(options: options, allowed: AllowedList(options.allowed)))
    }

    /// Runs `body` with the room locked. Throws `No such room` if the room was destroyed meanwhile.
    func withState<T: Sendable>(_ body: (inout State) throws(VideoRoomError) -> T) throws(VideoRoomError) -> T {
        let id = self.id
        return try state.withLock { (state: inout State) throws(VideoRoomError) -> T in
            guard !state.destroyed else { throw .noSuchRoom(id) }
            return try body(&state)
        }
    }

    /// The settings as `RoomOptions`, with the current access list.
    var options: RoomOptions {
        state.withLock { state in
            var options = state.options
            options.allowed = state.allowed.asOption
            return options
        }
    }

    var participantCount: Int { state.withLock { $0.participants.count } }

    var participants: [Participant] {
        state.withLock { $0.participants.values.sorted { $0.id < $1.id } }
    }

    /// Marks the room gone and hands back who was in it, so the caller can tell them.
    func markDestroyed() -> [Participant] {
        state.withLock { state in
            state.destroyed = true
            let everyone = Array(state.participants.values)
            state.participants = [:]
            return everyone
        }
    }

    /// Adds a participant; false when the id is taken or the room is gone. Used by `join` (media issue).
    func add(_ participant: Participant) -> Bool {
        state.withLock { state in
            guard !state.destroyed, state.participants[participant.id] == nil else { return false }
            state.participants[participant.id] = participant
            return true
        }
    }

    @discardableResult
    func removeParticipant(_ id: UInt64) -> Participant? {
        state.withLock { $0.participants.removeValue(forKey: id) }
    }
}
