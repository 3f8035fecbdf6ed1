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

    /// Adds a participant; false when the id is taken or the room is gone.
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

    func participant(_ id: UInt64) -> Participant? {
        state.withLock { $0.destroyed ? nil : $0.participants[id] }
    }

    /// Runs `body` on participant `id` with the room locked. A handle whose room was destroyed, or
    /// that is no longer in it, gets Janus's "No such room" (without a number).
    func withParticipant<T: Sendable>(_ id: UInt64, _ body: (inout Participant, State) throws(VideoRoomError) -> T)
        throws(VideoRoomError) -> T
    {
        try state.withLock { (state: inout State) throws(VideoRoomError) -> T in
            guard !state.destroyed, var participant = state.participants[id] else { throw .roomGone }
            let result = try body(&participant, state)
            state.participants[id] = participant
            return result
        }
    }

    /// Takes participant `id` out and returns them with everyone still in the room (to tell);
    /// nil when they were not in it (or the room is gone).
    func remove(_ id: UInt64) -> (participant: Participant, others: [PluginHandle])? {
        state.withLock { state in
            guard !state.destroyed, let participant = state.participants.removeValue(forKey: id) else { return nil }
            return (participant, state.handles(except: nil))
        }
    }

    /// Everyone in the room but participant `id`; nil when `id` is not in it (or the room is gone).
    func handles(except id: UInt64) -> [PluginHandle]? {
        state.withLock { state in
            guard !state.destroyed, state.participants[id] != nil else { return nil }
            return state.handles(except: id)
        }
    }
}

extension Room.State {
    /// Handles of everyone in the room but `id`, by participant id (Janus's order is a hash table's).
    func handles(except id: UInt64?) -> [PluginHandle] {
        participants.values.filter { $0.id != id }.sorted { $0.id < $1.id }.map(\.handle)
    }

    /// A participant id nobody here has: Janus's janus_random_uint64(), below 2^53.
    func freshParticipantID() -> UInt64 {
        while true {
            let id = RoomRegistry.randomID()
            if participants[id] == nil { return id }
        }
    }

    /// A private id nobody here has: Janus's janus_random_uint32(), never 0.
    func freshPrivateID() -> UInt32 {
        while true {
            let id = UInt32.random(in: 1...UInt32.max)
            if !participants.values.contains(where: { $0.privateID == id }) { return id }
        }
    }
}
