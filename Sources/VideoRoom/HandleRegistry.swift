import JanusAPI
import Synchronization

/// What the plugin knows about each attached handle. Today only that it exists; the media issue
/// records here whether a handle is a publisher or a subscriber, and in which room.
final class HandleRegistry: Sendable {
    struct Entry: Sendable, Equatable {
        /// The room the handle's participant is in, if it joined one.
        var roomID: UInt64?
        /// Its participant id in that room.
        var participantID: UInt64?
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

    func update(_ handle: PluginHandle, _ change: (inout Entry) -> Void) {
        entries.withLock { entries in
            guard var entry = entries[handle] else { return }
            change(&entry)
            entries[handle] = entry
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
