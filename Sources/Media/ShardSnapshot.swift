// A read-mostly value that the reader threads (shards) read once per packet without taking a
// lock: the control path publishes a new value under a Mutex and bumps a generation number; each
// shard keeps its own copy and refreshes it (under the lock, once) only when the generation has
// moved on. A reader thus pays one atomic load per packet, and a change reaches every shard at its
// next packet. What a VideoRoom publisher's packet is fanned out to is the first such value.
//
// A shard's copy keeps the value it last read alive until that shard's next read (or the end of
// the snapshot), so a value that is replaced must not depend on being freed at once: what it
// refers to is closed explicitly (recorders, connections), as it already had to be for a packet
// that copied it just before the change.

import Synchronization

public final class ShardSnapshot<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: copy `i` is only read and written by shard `i`'s thread (`read(on:)`
    // with that thread's own shard index, which `MediaSendContext.shardIndex` gives); `published`
    // is behind its Mutex and `generation` is atomic; `copies` itself never changes after init.
    private struct Copy {
        var generation: UInt64
        var value: Value
    }
    private let published: Mutex<Copy>
    private let generation = Atomic<UInt64>(0)
    private let copies: UnsafeMutableBufferPointer<Copy?>

    /// `shards`: how many reader threads may read it (`MediaEngine.readerCount`).
    public init(_ value: Value, shards: Int) {
        published = Mutex(Copy(generation: 0, value: value))
        copies = .allocate(capacity: max(shards, 0))
        copies.initialize(repeating: nil)
    }

    deinit {
        copies.deinitialize()
        copies.deallocate()
    }

    /// The value as last published. `shard`: the calling thread's own shard index (from its send
    /// context), or nil off the shards (control paths), which read under the lock.
    public func read(on shard: Int?) -> Value {
        guard let shard, copies.indices.contains(shard) else { return current }
        let latest = generation.load(ordering: .acquiring)
        if let copy = copies[shard], copy.generation == latest { return copy.value }
        let fresh = published.withLock { $0 }
        copies[shard] = fresh
        return fresh.value
    }

    /// The value as last published, read under the lock (any thread).
    public var current: Value { published.withLock { $0.value } }

    /// Changes the value (any thread; control paths). Every shard sees the change at its next read.
    @discardableResult
    public func update<Result>(_ change: (inout Value) -> Result) -> Result {
        published.withLock { copy in
            let result = change(&copy.value)
            copy.generation &+= 1
            generation.store(copy.generation, ordering: .releasing)
            return result
        }
    }
}
