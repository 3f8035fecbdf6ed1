import Testing
@testable import RTP

@Suite struct SequenceTests {
    @Test func isNewerWrapsAround() {
        #expect(SequenceNumber.isNewer(1, than: 0))
        #expect(SequenceNumber.isNewer(0, than: 65535))
        #expect(SequenceNumber.isNewer(5, than: 65530))
        #expect(!SequenceNumber.isNewer(65535, than: 0))
        #expect(!SequenceNumber.isNewer(7, than: 7))
        #expect(SequenceNumber.isNewer(0x7FFF, than: 0))
        #expect(!SequenceNumber.isNewer(0x8000, than: 0))
        #expect(SequenceNumber.distance(from: 65535, to: 2) == 3)
        #expect(SequenceNumber.distance(from: 2, to: 65535) == -3)
        #expect(RTPTimestamp.isNewer(10, than: 0xFFFF_FFF0))
        #expect(!RTPTimestamp.isNewer(0xFFFF_FFF0, than: 10))
    }

    @Test func extendedTrackerCountsCycles() {
        var t = ExtendedSequenceTracker()
        #expect(t.update(65534) == 65534)
        #expect(t.update(65535) == 65535)
        #expect(t.update(0) == 65536)
        #expect(t.update(1) == 65537)
        // Late packet from before the wrap keeps its old cycle.
        #expect(t.update(65533) == 65533)
        #expect(t.cycles == 1)
        #expect(t.extendedHighest == 65537)
        // Duplicate of the highest.
        #expect(t.update(1) == 65537)
    }

    @Test func sequenceRewriterContinuesAcrossSwitch() {
        var r = SequenceRewriter()
        #expect(r.rewrite(100) == 100)
        #expect(r.rewrite(101) == 101)
        #expect(r.rewrite(102) == 102)
        r.switchSource()
        #expect(r.rewrite(5000) == 103)
        #expect(r.rewrite(5002) == 105)
        // Reordered packet of the new source keeps its slot.
        #expect(r.rewrite(5001) == 104)
        // Packet from before the switch point would collide: dropped.
        #expect(r.rewrite(4999) == nil)
        #expect(r.lastOutput == 105)
    }

    @Test func sequenceRewriterWrapsOutput() {
        var r = SequenceRewriter()
        #expect(r.rewrite(65534) == 65534)
        r.switchSource()
        #expect(r.rewrite(10) == 65535)
        #expect(r.rewrite(11) == 0)
        #expect(r.rewrite(12) == 1)
    }

    @Test func sequenceRewriterSkipLeavesNoGap() {
        var r = SequenceRewriter()
        #expect(r.rewrite(10) == 10)
        r.skip(11)
        #expect(r.rewrite(12) == 11)
        r.skip(13)
        r.skip(14)
        #expect(r.rewrite(15) == 12)
        // Packet from before the skip has no valid slot any more.
        #expect(r.rewrite(11) == nil)
    }

    @Test func timestampRewriterAddsGapOnSwitch() {
        var t = TimestampRewriter()
        #expect(t.rewrite(1000) == 1000)
        #expect(t.rewrite(4000) == 4000)
        t.switchSource(gap: 3000)
        #expect(t.rewrite(90000) == 7000)
        #expect(t.rewrite(93000) == 10000)
        // Older frame of the same source: same offset.
        #expect(t.rewrite(90000) == 7000)
        #expect(t.lastOutput == 10000)
        t.switchSource(gap: 0)
        #expect(t.rewrite(0xFFFF_FFFF) == 10001)
        #expect(t.rewrite(2999) == 13001)
    }
}
