import Testing
import RTP

/// Gaps in a publisher's video and the NACKs that ask for them: asked at once, again after the
/// retry interval, at most `maximumRequests` times, never once too old; repairs close gaps.
@Suite("upstream loss tracking")
struct LossTrackerTests {
    static let ms: UInt64 = 1_000_000

    /// `due` as an array (the tests only).
    static func due(_ tracker: inout LossTracker, at now: UInt64, room: Int = 32) -> [UInt16] {
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: room) { out in
            let count = tracker.due(now: now, into: out)
            return Array(out[0..<count])
        }
    }

    static func receive(_ tracker: inout LossTracker, _ sequences: [UInt16], at now: UInt64, ssrc: UInt32 = 7) {
        for sequence in sequences {
            tracker.received(sequence: sequence, ssrc: ssrc, payloadType: 96, now: now)
        }
    }

    @Test func aGapIsAskedForAtOnceThenRetriedAFewTimesThenGivenUp() {
        var tracker = LossTracker()
        Self.receive(&tracker, [100, 101, 104], at: 10 * Self.ms)
        #expect(tracker.missing.map(\.sequence) == [102, 103])
        let asked1 = Self.due(&tracker, at: 10 * Self.ms)
        #expect(asked1 == [102, 103])
        // Not again before the retry interval.
        let asked2 = Self.due(&tracker, at: 60 * Self.ms)
        #expect(asked2 == [])
        // Asked `maximumRequests` times in all, a retry interval apart; given up one interval later.
        var now = 111 * Self.ms
        for _ in 1..<LossTracker.maximumRequests {
            #expect(Self.due(&tracker, at: now) == [102, 103])
            now += 101 * Self.ms
        }
        #expect(Self.due(&tracker, at: now) == [])
        #expect(!tracker.hasGaps && tracker.abandoned == 2 && tracker.nacksSent == LossTracker.maximumRequests)
    }

    @Test func repairsAndReorderedPacketsCloseGaps() {
        var tracker = LossTracker()
        Self.receive(&tracker, [10, 13], at: Self.ms)
        let repairs6 = tracker.repair(11)
        #expect(repairs6)
        let repairs7 = tracker.repair(11)
        #expect(!repairs7, "a duplicate repairs nothing")
        let repairs8 = tracker.repair(5)
        #expect(!repairs8, "neither does a packet that was never missing")
        tracker.received(sequence: 12, ssrc: 7, payloadType: 96, now: 2 * Self.ms)   // late, plain
        #expect(!tracker.hasGaps && tracker.repaired == 2)
        let asked9 = Self.due(&tracker, at: 3 * Self.ms)
        #expect(asked9 == [])
    }

    @Test func nacksAreSpacedAndBatched() {
        var tracker = LossTracker()
        Self.receive(&tracker, [0, 2], at: 0)
        let asked10 = Self.due(&tracker, at: 20 * Self.ms)
        #expect(asked10 == [1])
        // A new gap 5 ms later waits for the minimum interval.
        Self.receive(&tracker, [4], at: 25 * Self.ms)
        let asked11 = Self.due(&tracker, at: 25 * Self.ms)
        #expect(asked11 == [])
        let asked12 = Self.due(&tracker, at: 30 * Self.ms)
        #expect(asked12 == [3])
        // More gaps than one NACK carries: the rest go in the next one.
        Self.receive(&tracker, [45], at: 40 * Self.ms)
        let asked13 = Self.due(&tracker, at: 40 * Self.ms, room: 32)
        #expect(asked13 == Array(5...36))
        let asked14 = Self.due(&tracker, at: 50 * Self.ms, room: 32)
        #expect(asked14 == Array(37...44))
    }

    @Test func oldGapsAreDroppedAndJumpsAreNotLosses() {
        var tracker = LossTracker()
        Self.receive(&tracker, [1, 3], at: 0)
        let asked15 = Self.due(&tracker, at: 1_001 * Self.ms)
        #expect(asked15 == [], "older than a second")
        #expect(tracker.abandoned == 1)
        // A jump longer than the capacity (a new source, an outage) opens no gaps.
        Self.receive(&tracker, [3 &+ 500], at: 1_002 * Self.ms)
        #expect(!tracker.hasGaps)
        // A new SSRC starts over.
        Self.receive(&tracker, [9000], at: 1_003 * Self.ms, ssrc: 8)
        Self.receive(&tracker, [9001], at: 1_004 * Self.ms, ssrc: 8)
        #expect(!tracker.hasGaps && tracker.ssrc == 8)
    }

    @Test func sequenceNumbersWrap() {
        var tracker = LossTracker()
        Self.receive(&tracker, [65534, 1], at: 0)
        #expect(tracker.missing.map(\.sequence) == [65535, 0])
        let repairs16 = tracker.repair(0)
        #expect(repairs16)
        let asked17 = Self.due(&tracker, at: 20 * Self.ms)
        #expect(asked17 == [65535])
    }

    @Test func atMostCapacityGapsAreFollowed() {
        var tracker = LossTracker()
        Self.receive(&tracker, [0, 100, 200], at: 0)
        #expect(tracker.missing.count == LossTracker.capacity)
        // 1...99 and 101...199 missed: the oldest 70 were pushed out.
        #expect(tracker.missing.first?.sequence == 71 && tracker.missing.last?.sequence == 199)
        #expect(tracker.abandoned == 70)
    }
}
