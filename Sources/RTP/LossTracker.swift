// Losses on a stream Confab receives: sequence gaps in one incoming RTP stream, turned into
// generic NACKs (RFC 4585 §6.2.1) so the sender resends what Confab missed before anyone it
// forwards to notices. Plain value state with a fixed capacity: no allocation once made.

/// The gaps of one incoming RTP stream (one SSRC) and when each was asked for.
public struct LossTracker: Sendable {
    public struct Missing: Sendable, Equatable {
        public var sequence: UInt16
        /// When the gap was seen.
        public var since: UInt64
        /// When it was last asked for (0: not yet) and how often.
        public var askedAt: UInt64 = 0
        public var requests: Int = 0
    }

    /// The gaps still open, oldest first (never more than `capacity`).
    public private(set) var missing: [Missing]
    /// The SSRC and payload type of the last media packet (RTX repairs are restored to them).
    public private(set) var ssrc: UInt32 = 0
    public private(set) var payloadType: UInt8 = 0
    private var highest: UInt16 = 0
    private var started = false
    /// When the last NACK went out, to space them.
    private var lastNACK: UInt64 = 0
    /// Repairs that arrived (RTX or plain) and gaps given up (asked too often, too old, pushed out).
    public private(set) var repaired = 0
    public private(set) var abandoned = 0
    /// NACK packets built.
    public private(set) var nacksSent = 0

    /// Gaps followed at once; a jump longer than this is a discontinuity, not a loss.
    public static let capacity = 128
    /// A gap is asked for again after this long without its packet (a round trip or two)…
    public static let retryInterval: UInt64 = 100_000_000
    /// …at most this many times in all, and not once it is older than `maximumAge` (the
    /// receivers' jitter buffers have given up on it by then; a keyframe request follows).
    /// Five: at 5% loss each way a try fails one time in ten, so three tries left one loss in a
    /// thousand unrepaired (for 100 packets/s of video, a picture frozen until the next keyframe
    /// every three minutes or so); five leave one in a hundred thousand.
    public static let maximumRequests = 5
    public static let maximumAge: UInt64 = 1_000_000_000
    /// NACKs for one stream are at least this far apart.
    public static let minimumNACKInterval: UInt64 = 10_000_000

    public init() {
        missing = []
        missing.reserveCapacity(Self.capacity)
    }

    /// Whether a NACK may be due (a cheap test before `due`).
    public var hasGaps: Bool { !missing.isEmpty }

    /// A media packet arrived: a jump ahead opens gaps for the numbers skipped; an older number
    /// closes its gap (a repair, or a packet that was only reordered). Returns whether it
    /// closed a gap.
    @discardableResult
    public mutating func received(sequence: UInt16, ssrc: UInt32, payloadType: UInt8, now: UInt64) -> Bool {
        self.payloadType = payloadType
        guard started, ssrc == self.ssrc else {
            restart(at: sequence, ssrc: ssrc)
            return false
        }
        let ahead = Int(Int16(bitPattern: sequence &- highest))
        if ahead > 0 {
            if ahead > Self.capacity {
                // A jump (a new source, a long outage): nothing sensible to ask for.
                abandoned += missing.count
                missing.removeAll(keepingCapacity: true)
            } else {
                var next = highest &+ 1
                while next != sequence {
                    if missing.count == Self.capacity {
                        missing.removeFirst()
                        abandoned += 1
                    }
                    missing.append(Missing(sequence: next, since: now))
                    next &+= 1
                }
            }
            highest = sequence
            return false
        }
        return repair(sequence)
    }

    /// A retransmission (its original sequence number) arrived: true when it closes a gap,
    /// false for one that was never missing (a duplicate, or a sender's bandwidth probe).
    public mutating func repair(_ sequence: UInt16) -> Bool {
        guard let index = missing.firstIndex(where: { $0.sequence == sequence }) else { return false }
        missing.remove(at: index)
        repaired += 1
        return true
    }

    /// The sequence numbers to ask for now, written to `out` (at most its count); each is marked
    /// asked. Gaps asked `maximumRequests` times or older than `maximumAge` are given up. Returns
    /// how many were written (0: no NACK now, also when the last one is too recent).
    public mutating func due(now: UInt64, into out: UnsafeMutableBufferPointer<UInt16>) -> Int {
        guard !missing.isEmpty, now &- lastNACK >= Self.minimumNACKInterval else { return 0 }
        var written = 0
        var kept = 0
        for index in missing.indices {
            var gap = missing[index]
            if now &- gap.since > Self.maximumAge
                || (gap.requests >= Self.maximumRequests && now &- gap.askedAt >= Self.retryInterval) {
                abandoned += 1
                continue
            }
            if written < out.count, gap.requests < Self.maximumRequests,
               gap.requests == 0 || now &- gap.askedAt >= Self.retryInterval {
                out[written] = gap.sequence
                written += 1
                gap.requests += 1
                gap.askedAt = now
            }
            missing[kept] = gap
            kept += 1
        }
        missing.removeLast(missing.count - kept)
        if written > 0 {
            lastNACK = now
            nacksSent += 1
        }
        return written
    }

    private mutating func restart(at sequence: UInt16, ssrc: UInt32) {
        started = true
        self.ssrc = ssrc
        highest = sequence
        abandoned += missing.count
        missing.removeAll(keepingCapacity: true)
    }
}
