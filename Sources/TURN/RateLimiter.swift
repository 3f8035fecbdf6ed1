import Net

/// Token buckets per client IP (any port), so answers to unauthenticated requests — Binding, the 401
/// and 438 challenges, errors before authentication — cannot be turned into a flood toward a spoofed
/// source address. Each IP may get `burst` answers at once and `rate` per second after that.
/// At most `maxTracked` IPs get their own bucket; beyond that (a spoofed sweep) new ones share one.
/// Not thread-safe: owned by `TURNCore` on its event loop.
struct RateLimiter {
    /// Answers per second per IP; 0 = no limit.
    let rate: Double
    let burst: Double
    let maxTracked: Int

    private struct Bucket {
        var tokens: Double
        /// Milliseconds on the core's clock.
        var updated: UInt64
    }
    private var buckets: [TransportAddress: Bucket] = [:]
    /// The key of the bucket IPs share once `maxTracked` are tracked (no real address has this form).
    private static let overflowKey = TransportAddress(high: .max, low: .max, port: 0)

    init(rate: Double, burst: Double, maxTracked: Int = 10_000) {
        self.rate = rate
        self.burst = max(1, burst)
        self.maxTracked = maxTracked
    }

    var trackedCount: Int { buckets.count }

    /// Takes one token from the IP's bucket; false = over the limit, drop the answer.
    mutating func admit(_ address: TransportAddress, now: UInt64) -> Bool {
        guard rate > 0 else { return true }
        var key = address.with(port: 0)
        if buckets[key] == nil, buckets.count >= maxTracked { key = Self.overflowKey }
        var bucket = refilled(buckets[key] ?? Bucket(tokens: burst, updated: now), now: now)
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        buckets[key] = bucket
        return admitted
    }

    /// Forgets buckets that have refilled completely (they would start full anyway).
    mutating func prune(now: UInt64) {
        guard rate > 0 else { return }
        buckets = buckets.filter { refilled($0.value, now: now).tokens < burst }
    }

    private func refilled(_ bucket: Bucket, now: UInt64) -> Bucket {
        let elapsed = Double(now &- bucket.updated) / 1000
        guard now > bucket.updated else { return bucket }
        return Bucket(tokens: min(burst, bucket.tokens + elapsed * rate), updated: now)
    }
}
