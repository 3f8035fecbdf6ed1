// Reception statistics for one incoming RTP stream (one SSRC), following RFC
// 3550 Appendix A.1 (sequence validation), A.3 (expected and lost packets)
// and A.8 (interarrival jitter), and the report block they feed (§6.4.1).
//
// `record` runs on the media loop for every packet. It touches only the
// integer fields of this struct, which lives inline wherever the caller keeps
// it: no class, no array, no existential, so it cannot allocate.

public struct ReceiverStatistics: Sendable, Equatable {
    /// The stream's SSRC, echoed in report blocks.
    public let ssrc: UInt32
    /// RTP clock rate (e.g. 48000 for Opus, 90000 for video); jitter is in these units.
    public let clockRate: UInt32

    /// A.1: a forward jump smaller than this is loss, not a restart.
    public static let maxDropout: UInt16 = 3000
    /// A.1: packets up to this far behind the highest are reordering, not a restart.
    public static let maxMisorder: UInt16 = 100

    private var isStarted = false
    private var baseSequence: UInt16 = 0
    private var highestSequence: UInt16 = 0
    private var wrapCount: UInt64 = 0
    /// A.1's bad_seq: the sequence number that would confirm a restart (a
    /// value above 0xFFFF means none is pending).
    private var restartCandidate: UInt32 = 0x1_0001
    public private(set) var packetsReceived: UInt64 = 0
    private var expectedAtLastReport: UInt64 = 0
    private var receivedAtLastReport: UInt64 = 0
    /// Arrival minus RTP timestamp, in clock units, of the last in-order packet.
    private var lastTransit: UInt32 = 0
    /// Jitter × 16, the integer form of A.8 that avoids floating point.
    private var scaledJitter: Int64 = 0
    private var lastSenderReportNTPMiddle: UInt32 = 0
    private var lastSenderReportArrival: UInt64 = 0
    private var hasSenderReport = false

    public init(ssrc: UInt32, clockRate: UInt32) {
        precondition(clockRate > 0, "an RTP clock rate is positive")
        self.ssrc = ssrc
        self.clockRate = clockRate
    }

    // MARK: Per packet

    /// Records one received packet. `arrivalNanoseconds` comes from a
    /// monotonic clock. Returns false when A.1 does not count the packet: the
    /// first packet after a very large sequence jump (a second, consecutive
    /// one confirms that the sender restarted and resets the counters).
    ///
    /// A.1's probation (counting a source only after two sequential packets)
    /// is left out: SRTP authentication and the SSRCs signalled in SDP already
    /// tell the SFU the source is real, and probation would hide its first packet.
    @discardableResult
    public mutating func record(sequenceNumber: UInt16, rtpTimestamp: UInt32, arrivalNanoseconds: UInt64) -> Bool {
        let arrival = UInt32(truncatingIfNeeded: RTPClock.units(nanoseconds: arrivalNanoseconds, clockRate: clockRate))
        switch classify(sequenceNumber) {
        case .ignoredJump:
            return false
        case .restarted:
            // The first packet, or the first of a confirmed restart: the jitter
            // estimate carries on from this packet's transit time.
            packetsReceived = 1
            lastTransit = arrival &- rtpTimestamp
        case .inOrder:
            packetsReceived += 1
            updateJitter(transit: arrival &- rtpTimestamp)
        case .reorderedOrDuplicate:
            // A reordered or retransmitted packet's late arrival says nothing
            // about network jitter and would inflate it (libwebrtc agrees).
            packetsReceived += 1
        }
        return true
    }

    private enum SequenceClass {
        case inOrder, reorderedOrDuplicate, restarted, ignoredJump
    }

    /// A.1's update_seq without probation (the first packet starts the numbering).
    private mutating func classify(_ seq: UInt16) -> SequenceClass {
        guard isStarted else {
            restart(at: seq)
            return .restarted
        }
        let step = seq &- highestSequence
        if step == 0 { return .reorderedOrDuplicate }
        if step < Self.maxDropout {
            // In order, with a permissible gap.
            if seq < highestSequence { wrapCount += 1 }
            highestSequence = seq
            return .inOrder
        }
        if Int(step) <= 0x1_0000 - Int(Self.maxMisorder) {
            // A very large jump: count it only when the next packet follows it,
            // which means the sender restarted its numbering.
            guard UInt32(seq) == restartCandidate else {
                restartCandidate = UInt32(seq &+ 1)
                return .ignoredJump
            }
            restart(at: seq)
            return .restarted
        }
        return .reorderedOrDuplicate
    }

    /// A.1's init_seq: a new numbering starts at `seq`.
    private mutating func restart(at seq: UInt16) {
        isStarted = true
        baseSequence = seq
        highestSequence = seq
        wrapCount = 0
        restartCandidate = 0x1_0001
        packetsReceived = 0
        expectedAtLastReport = 0
        receivedAtLastReport = 0
    }

    /// A.8 in integer form: J += (|D| − J) / 16, kept ×16 with rounding.
    private mutating func updateJitter(transit: UInt32) {
        let difference = Int64(Int32(bitPattern: transit &- lastTransit).magnitude)
        lastTransit = transit
        scaledJitter += difference - ((scaledJitter + 8) >> 4)
    }

    // MARK: Sender reports

    /// Remembers a sender report from this source so the next report block
    /// can carry LSR and DLSR, letting the sender measure the round trip.
    public mutating func recordSenderReport(ntpTimestamp: UInt64, arrivalNanoseconds: UInt64) {
        lastSenderReportNTPMiddle = NTPTime.middle32(ntpTimestamp)
        lastSenderReportArrival = arrivalNanoseconds
        hasSenderReport = true
    }

    // MARK: Derived values

    /// Extended highest sequence number received (wraps << 16 | highest).
    public var extendedHighestSequence: UInt64 { wrapCount << 16 | UInt64(highestSequence) }

    /// A.3: packets expected since the first one (or the last restart).
    public var expectedPackets: UInt64 {
        isStarted ? extendedHighestSequence - UInt64(baseSequence) + 1 : 0
    }

    /// A.3: expected minus received; negative when duplicates arrived.
    public var cumulativeLost: Int64 { Int64(bitPattern: expectedPackets &- packetsReceived) }

    /// Interarrival jitter in RTP timestamp units.
    public var jitter: UInt32 { UInt32(clamping: scaledJitter >> 4) }

    // MARK: Reports

    /// A report block for an RR or SR sent at `nowNanoseconds` (same monotonic
    /// clock as arrivals), or nil before the first packet. Mutating because
    /// the fraction lost covers the interval since the previous block.
    public mutating func makeReportBlock(nowNanoseconds: UInt64) -> RTCPReportBlock? {
        guard isStarted else { return nil }
        return RTCPReportBlock(
            ssrc: ssrc,
            fractionLost: takeFractionLost(),
            cumulativeLost: Self.clampToReportRange(cumulativeLost),
            extendedHighestSequence: UInt32(truncatingIfNeeded: extendedHighestSequence),
            jitter: jitter,
            lastSenderReport: hasSenderReport ? lastSenderReportNTPMiddle : 0,
            delaySinceLastSenderReport: delaySinceLastSenderReport(nowNanoseconds: nowNanoseconds))
    }

    /// A.3: lost/expected over the interval since the last report, in 1/256,
    /// then starts a new interval. Zero when packets were duplicated.
    private mutating func takeFractionLost() -> UInt8 {
        let expected = expectedPackets
        let expectedInterval = expected &- expectedAtLastReport
        let receivedInterval = packetsReceived &- receivedAtLastReport
        expectedAtLastReport = expected
        receivedAtLastReport = packetsReceived
        let lostInterval = Int64(bitPattern: expectedInterval &- receivedInterval)
        guard expectedInterval > 0, lostInterval > 0, lostInterval <= Int64(expectedInterval) else { return 0 }
        return UInt8(truncatingIfNeeded: (UInt64(lostInterval) << 8) / expectedInterval)
    }

    /// DLSR in 1/65536 s; 0 when no SR has been received (RFC 3550 §6.4.1).
    private func delaySinceLastSenderReport(nowNanoseconds: UInt64) -> UInt32 {
        guard hasSenderReport, nowNanoseconds >= lastSenderReportArrival else { return 0 }
        return NTPTime.compactDuration(nanoseconds: nowNanoseconds - lastSenderReportArrival)
    }

    /// The report block's cumulative lost field is signed 24-bit (A.3 clamps it).
    static func clampToReportRange(_ lost: Int64) -> Int32 {
        Int32(max(-0x80_0000, min(0x7F_FFFF, lost)))
    }
}

extension ReceiverStatistics {
    /// Records a packet from a validated header view.
    @discardableResult
    public mutating func record(_ packet: RTPHeaderView, arrivalNanoseconds: UInt64) -> Bool {
        record(sequenceNumber: packet.sequenceNumber, rtpTimestamp: packet.timestamp,
               arrivalNanoseconds: arrivalNanoseconds)
    }
}

extension RTCPReportBlock {
    /// Round-trip delay in 1/65536 s computed by the sender of the SR this
    /// block answers (RFC 3550 §6.4.1: A − LSR − DLSR), where
    /// `arrivalNTPMiddle` is the middle 32 bits of our NTP time when the block
    /// arrived. Nil when the block carries no LSR or the result is negative
    /// (clock steps or a bogus DLSR).
    public func roundTripDelay(arrivalNTPMiddle: UInt32) -> UInt32? {
        guard lastSenderReport != 0 else { return nil }
        let delay = arrivalNTPMiddle &- lastSenderReport &- delaySinceLastSenderReport
        // A "negative" result shows up as a huge unsigned value.
        return delay < 0x8000_0000 ? delay : nil
    }
}
