import Logging
import Settings
import Synchronization
import VideoRoom

/// The VideoRoom's permanent rooms, kept in the rooms file (see `RoomsFile`). Each change rewrites
/// the whole file atomically; the lock serializes the writes (API requests, never the media path).
final class RoomsFileStore: PermanentRoomStore {
    let path: String
    /// Rooms from confab.cfg: destroying one permanently must be remembered in the file.
    private let staticRoomIDs: Set<UInt64>
    private let file: Mutex<RoomsFile>
    private let logger: Logger

    init(path: String, contents: RoomsFile, staticRoomIDs: Set<UInt64>, logger: Logger) {
        self.path = path
        self.staticRoomIDs = staticRoomIDs
        self.file = Mutex(contents)
        self.logger = logger
    }

    func save(_ id: UInt64, current: () -> RoomOptions) -> Bool {
        update { $0.save(Settings.Room(current())) }
    }

    func remove(_ id: UInt64) -> Bool {
        update { $0.remove(id, isStatic: staticRoomIDs.contains(id)) }
    }

    /// Applies `change` and writes the file; on failure the file and the copy in memory stay as they were.
    private func update(_ change: (inout RoomsFile) -> Void) -> Bool {
        file.withLock { file in
            var changed = file
            change(&changed)
            do {
                try changed.write(to: path)
                file = changed
                return true
            } catch {
                logger.error("videoroom: cannot save the rooms file: \(error)")
                return false
            }
        }
    }
}
