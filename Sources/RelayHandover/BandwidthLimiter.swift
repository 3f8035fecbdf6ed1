/// A token bucket in bytes for one direction of one allocation (`turn.max_bps`): relayed payload
/// beyond the rate is dropped, not queued — media is real-time, and a queue would only add delay.
/// Holds half a second of traffic, so a video keyframe burst within the cap passes whole.
/// A value type updated in place (on the TURN loop, or under a relay route's lock): no allocation per packet.
public struct BandwidthLimiter: Sendable {
    /// Bytes per millisecond; 0 = no limit.
    let bytesPerMillisecond: Double
    let capacity: Double
    private var tokens: Double
    /// Milliseconds on the core's clock.
    private var updated: UInt64

    public init(bitsPerSecond: Int, now: UInt64) {
        bytesPerMillisecond = Double(max(0, bitsPerSecond)) / 8 / 1000
        capacity = max(1500, bytesPerMillisecond * 500)
        tokens = capacity
        updated = now
    }

    /// Takes `bytes` from the bucket; false = over the cap, drop the packet.
    public mutating func admit(_ bytes: Int, now: UInt64) -> Bool {
        guard bytesPerMillisecond > 0 else { return true }
        if now > updated {
            tokens = min(capacity, tokens + Double(now - updated) * bytesPerMillisecond)
            updated = now
        }
        guard tokens >= Double(bytes) else { return false }
        tokens -= Double(bytes)
        return true
    }
}
