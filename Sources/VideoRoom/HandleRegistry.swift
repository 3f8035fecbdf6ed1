import JanusAPI
import Synchronization

/// What the plugin knows about each attached handle: what it became (Janus's participant_type)
/// and, while it is in a room, where.
final class HandleRegistry: Sendable {
    struct Entry: Sendable, Equatable {
        enum Role: Sendable, Equatable {
            /// Attached, never joined (or its joins failed).
            case none
            /// A join is being processed; other joins on the handle are refused meanwhile.
            case joining
            /// Joined as a publisher. Janus keeps the role after leave, kick or destroy, which is why
            /// such a handle can never join again ("create a new handle").
            case publisher
            /// Joined as a subscriber (`attached`); it stays one after `leave`.
            case subscriber
        }

        var role: Role = .none
        /// The room the participant is in; nil once it left, was kicked or the room went away.
        var roomID: UInt64?
        /// Its participant id in that room.
        var participantID: UInt64?
        /// The Janus core's ALERT flag: the PeerConnection was hung up (hangup request, kick,
        /// destroyed room). Janus only tells the plugin about the first hangup, so only the first
        /// one makes others hear "unpublished". The media issue clears it when a new PeerConnection
        /// is negotiated.
        var hungUp = false

        /// The room and participant, when the handle is a publisher still in a room.
        var seat: (room: UInt64, participant: UInt64)? {
            guard role == .publisher, let roomID, let participantID else { return nil }
            return (roomID, participantID)
        }
    }

    private let entries = Mutex<[PluginHandle: Entry]>([:])

    func attach(_ handle: PluginHandle) {
        entries.withLock { $0[handle] = Entry() }
    }

    /// Forgets the handle and returns what it was doing, so the caller can take it out of its room.
    func detach(_ handle: PluginHandle) -> Entry? {
        entries.withLock { $0.removeValue(forKey: handle) }
    }

    func entry(_ handle: PluginHandle) -> Entry? {
        entries.withLock { $0[handle] }
    }

    /// Changes the entry atomically and returns what `change` returns; nil when the handle is gone.
    @discardableResult
    func update<T>(_ handle: PluginHandle, _ change: (inout Entry) -> T) -> T? {
        entries.withLock { entries in
            guard var entry = entries[handle] else { return nil }
            let result = change(&entry)
            entries[handle] = entry
            return result
        }
    }

    /// The handle is no longer in a room (left, kicked, room destroyed); its role stays.
    func leftRoom(_ handle: PluginHandle) {
        update(handle) { entry in
            entry.roomID = nil
            entry.participantID = nil
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
