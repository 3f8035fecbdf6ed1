// Per-outgoing-stream RTP timestamp rewriting, the counterpart of
// SequenceRewriter: after a source switch the first timestamp continues from
// the last one sent plus a caller-chosen gap (typically elapsed wall time in
// clock-rate units, or one frame), so players keep smooth timing.

public struct TimestampRewriter: Sendable, Equatable {
    private var offset: UInt32 = 0
    private var lastOut: UInt32 = 0
    private var highestIn: UInt32 = 0
    private var hasOutput = false
    private var pendingSwitch = true
    private var switchGap: UInt32 = 1

    public init() {}

    /// The last (newest) timestamp sent, if any.
    public var lastOutput: UInt32? { hasOutput ? lastOut : nil }

    /// The next packet starts a new source; its timestamp becomes last out +
    /// `gap` (at least 1 so frames never share a timestamp across sources).
    public mutating func switchSource(gap: UInt32) {
        pendingSwitch = true
        switchGap = max(gap, 1)
    }

    /// Maps an incoming timestamp to the outgoing one.
    public mutating func rewrite(_ timestamp: UInt32) -> UInt32 {
        if pendingSwitch {
            pendingSwitch = false
            offset = hasOutput ? (lastOut &+ switchGap) &- timestamp : 0
            highestIn = timestamp
            hasOutput = true
            lastOut = timestamp &+ offset
            return lastOut
        }
        if RTPTimestamp.isNewer(timestamp, than: highestIn) {
            highestIn = timestamp
            lastOut = timestamp &+ offset
        }
        // Packets of the same or an older frame keep the same offset.
        return timestamp &+ offset
    }
}
