// Monotonic time in nanoseconds, read with one vDSO call and no allocation, for per-packet
// timestamps (consent freshness, receiver statistics) on the media loop.

#if canImport(Glibc)
import Glibc
#endif

public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    public static func milliseconds() -> UInt64 { nanoseconds() / 1_000_000 }

    /// Milliseconds from the kernel's tick-granular clock (CLOCK_MONOTONIC_COARSE, a few ms
    /// resolution): a vDSO read without the time-stamp counter, for lifetimes and rate budgets
    /// that a few milliseconds do not change (the TURN server checks one per relayed packet).
    public static func coarseMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }
}
