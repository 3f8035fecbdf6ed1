/// Where rooms made permanent through the API are kept (in Confab, the rooms file beside
/// confab.cfg). The plugin calls it after the change is made in memory; a store that cannot save
/// answers false, and the reply then says `"permanent": false` as Janus's does when saving fails.
public protocol PermanentRoomStore: Sendable {
    /// Records room `id` as `current()` returns it at the moment of writing. The store serializes
    /// writes and reads the room inside them, so two edits racing each other cannot leave the older
    /// state on disk.
    func save(_ id: UInt64, current: () -> RoomOptions) -> Bool
    /// Forgets room `id` (destroyed permanently), so it is not created at the next start.
    func remove(_ id: UInt64) -> Bool
}
