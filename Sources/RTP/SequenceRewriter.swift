// Per-outgoing-stream sequence number rewriting. A subscriber sees one
// continuous stream even when the SFU switches the source (simulcast layer,
// speaker change) or drops packets on purpose, so the receiver's jitter
// buffer never sees a jump or a gap that would trigger NACKs.
// Plain value state, no allocation per packet.

public struct SequenceRewriter: Sendable, Equatable {
    private var offset: UInt16 = 0
    private var lastOut: UInt16 = 0
    private var highestIn: UInt16 = 0
    /// Incoming packets at or before this number no longer have a valid
    /// mapping (they predate the current source or a skip).
    private var floorIn: UInt16 = 0
    private var hasOutput = false
    private var pendingSwitch = true

    public init() {}

    /// The last sequence number sent, if any.
    public var lastOutput: UInt16? { hasOutput ? lastOut : nil }

    /// The next packet starts a new source: it will be numbered last out + 1.
    public mutating func switchSource() {
        pendingSwitch = true
    }

    /// Maps an incoming sequence number to the outgoing one, or nil when the
    /// packet should be dropped: it is older than the current source's first
    /// packet or than the last skip, so its output number could collide with
    /// one already sent.
    public mutating func rewrite(_ seq: UInt16) -> UInt16? {
        if pendingSwitch {
            pendingSwitch = false
            offset = hasOutput ? (lastOut &+ 1) &- seq : 0
            highestIn = seq
            floorIn = seq &- 1
            hasOutput = true
            lastOut = seq &+ offset
            return lastOut
        }
        if SequenceNumber.isNewer(seq, than: highestIn) {
            highestIn = seq
            lastOut = seq &+ offset
            return lastOut
        }
        // Reordered packet of the current source: same mapping as its neighbours.
        guard SequenceNumber.isNewer(seq, than: floorIn) else { return nil }
        return seq &+ offset
    }

    /// Drops the newest incoming packet without leaving a gap (e.g. a
    /// discarded temporal layer): later packets are shifted down by one.
    /// Older packets are ignored, and packets from before the skip will be
    /// refused by `rewrite` since their mapping changed.
    public mutating func skip(_ seq: UInt16) {
        guard !pendingSwitch, SequenceNumber.isNewer(seq, than: highestIn) else { return }
        highestIn = seq
        floorIn = seq
        offset &-= 1
    }
}
