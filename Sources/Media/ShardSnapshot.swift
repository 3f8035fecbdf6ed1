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
    // The read path is @inlinable so that it is specialised for its Value where it is called (in
    // another module, an unspecialised generic read copied the value through runtime witnesses,
    // which cost more than the lock it replaces).
    @usableFromInline struct Copy {
        @usableFromInline var generation: UInt64
        @usableFromInline var value: Value
        @usableFromInline init(generation: UInt64, value: Value) {
            self.generation = generation
            self.value = value
        }
    }
    private let published: Mutex<Copy>
    @usableFromInline let generation = Atomic<UInt64>(0)
    @usableFromInline let copies: UnsafeMutableBufferPointer<Copy>

    /// `shards`: how many reader threads may read it (`MediaEngine.readerCount`).
    public init(_ value: Value, shards: Int) {
        published = Mutex(Copy(generation: 0, value: value))
        copies = .allocate(capacity: max(shards, 0))
        // Every copy starts as what is published, generation 0.
        copies.initialize(repeating: Copy(generation: 0, value: value))
    }

    deinit {
        copies.deinitialize()
        copies.deallocate()
    }

    /// The value as last published. `shard`: the calling thread's own shard index (from its send
    /// context), or nil off the shards (control paths), which read under the lock.
    @inlinable
    public func read(on shard: Int?) -> Value {
        withValue(on: shard) { $0 }
    }

    /// `body` with the value as last published, borrowed from the calling shard's copy (no
    /// reference count for it). `shard` as for `read(on:)`.
    @inlinable
    public func withValue<Result>(on shard: Int?, _ body: (borrowing Value) -> Result) -> Result {
        guard let shard, shard >= 0, shard < copies.count else { return body(current) }
        if copies[shard].generation != generation.load(ordering: .acquiring) { refresh(shard) }
        return body(copies[shard].value)
    }

    /// Shard `shard`'s copy is behind: takes the published one (under the lock).
    @usableFromInline
    func refresh(_ shard: Int) {
        copies[shard] = published.withLock { $0 }
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
