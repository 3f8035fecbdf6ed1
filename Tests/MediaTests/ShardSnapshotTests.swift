/// `ShardSnapshot`: what reader threads read per packet without a lock must still be what the
/// control path last published, on every shard, and never go back to an older value.
import Dispatch
import Net
import Synchronization
import Testing
@testable import Media

#if canImport(Glibc)
import Glibc
#endif

struct ShardSnapshotTests {
    @Test func everyShardSeesEachUpdateAtItsNextRead() {
        let snapshot = ShardSnapshot([1], shards: 3)
        #expect(snapshot.read(on: 0) == [1])
        #expect(snapshot.read(on: 2) == [1])
        snapshot.update { $0.append(2) }
        #expect(snapshot.read(on: 0) == [1, 2])
        #expect(snapshot.read(on: 1) == [1, 2])
        #expect(snapshot.read(on: 2) == [1, 2])
        let removed = snapshot.update { $0.removeFirst() }
        #expect(removed == 1)
        #expect(snapshot.read(on: 2) == [2])
        #expect(snapshot.current == [2])
    }

    @Test func readsOffTheShardsOrBeyondThemGoThroughTheLock() {
        let snapshot = ShardSnapshot("a", shards: 1)
        snapshot.update { $0 = "b" }
        #expect(snapshot.read(on: nil) == "b")
        #expect(snapshot.read(on: 5) == "b")
        #expect(snapshot.read(on: -1) == "b")
        #expect(snapshot.read(on: 0) == "b")
    }

    /// Two reader threads (real threads, as the shards are), each reading its own shard's copy as
    /// fast as it can while the test counts up: every reader sees the counter only go up and
    /// ends on the final value.
    @Test func readersOnTheirOwnShardsNeverSeeAnOlderValue() {
        let snapshot = ShardSnapshot(0, shards: 2)
        let finalValue = 20_000
        let wentBack = Atomic<Int>(0)
        let lastSeen = Mutex<[Int]>([])
        let started = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        // A reader whose copy stopped following the updates gives up after the deadline.
        let deadline = ContinuousClock.now + .seconds(20)
        for shard in 0..<2 {
            spawnThread(name: "snapshot\(shard)") {
                started.signal()
                var last = 0
                while last < finalValue, ContinuousClock.now < deadline {
                    let value = snapshot.read(on: shard)
                    if value < last { wentBack.add(1, ordering: .relaxed) }
                    last = value
                }
                lastSeen.withLock { $0.append(last) }
                done.signal()
            }
        }
        started.wait()
        started.wait()
        for _ in 0..<finalValue { snapshot.update { $0 += 1 } }
        done.wait()
        done.wait()
        #expect(lastSeen.withLock { $0 } == [finalValue, finalValue])
        #expect(wentBack.load(ordering: .relaxed) == 0)
    }
}

/// `OwnerConfined`: the owner's changes persist between uses until the control path starts the
/// state over, and the owner sees that at its next use, whatever thread published it.
struct OwnerConfinedTests {
    @Test func theOwnersChangesLastUntilTheControlPathResetsTheState() {
        let state = OwnerConfined(0)
        state.withValue { $0 += 5 }
        #expect(state.withValue { $0 } == 5)
        state.reset(to: 100)
        #expect(state.withValue { value -> Int in value += 1; return value } == 101)
        #expect(state.withValue { $0 } == 101)
    }

    @Test func aResetFromAnotherThreadIsSeenAtTheNextUse() {
        let state = OwnerConfined([1])
        #expect(state.withValue { $0 } == [1])
        let published = DispatchSemaphore(value: 0)
        spawnThread(name: "control") {
            state.reset(to: [7, 8])
            published.signal()
        }
        published.wait()
        #expect(state.withValue { value -> [Int] in value.append(9); return value } == [7, 8, 9])
    }
}
