// Time conversions RTCP needs. Callers pass plain nanosecond counts: wall-clock
// time since the Unix epoch for SR NTP timestamps, and a monotonic clock
// (e.g. CLOCK_MONOTONIC) for arrival times, ages and delays, so nothing here
// reads a clock itself and tests can feed exact numbers.

public enum NTPTime {
    /// Seconds from the NTP era 0 epoch (1900-01-01) to the Unix epoch (1970-01-01).
    public static let unixEpochOffsetSeconds: UInt64 = 2_208_988_800

    static let nanosecondsPerSecond: UInt64 = 1_000_000_000

    /// 64-bit NTP timestamp (32.32 fixed point seconds since 1900) for a wall-clock
    /// time given as nanoseconds since the Unix epoch. The fraction is rounded down.
    public static func timestamp(unixNanoseconds: UInt64) -> UInt64 {
        let seconds = unixNanoseconds / nanosecondsPerSecond + unixEpochOffsetSeconds
        let remainder = unixNanoseconds % nanosecondsPerSecond
        // remainder < 1e9, so remainder << 32 < 2^62: no overflow.
        let fraction = (remainder << 32) / nanosecondsPerSecond
        // Era 0 ends in 2036; the seconds field wraps like every NTP implementation's.
        return (seconds & 0xFFFF_FFFF) << 32 | fraction
    }

    /// The middle 32 bits of an NTP timestamp: what a receiver echoes as LSR.
    @inlinable
    public static func middle32(_ ntpTimestamp: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ntpTimestamp >> 16)
    }

    /// A duration in the 16.16 fixed-point seconds of DLSR and round-trip
    /// delays, saturating at UInt32.max (about 18 hours).
    public static func compactDuration(nanoseconds: UInt64) -> UInt32 {
        let seconds = nanoseconds / nanosecondsPerSecond
        guard seconds < 0x1_0000 else { return UInt32.max }
        let fraction = ((nanoseconds % nanosecondsPerSecond) << 16) / nanosecondsPerSecond
        return UInt32(seconds << 16 | fraction)
    }

    /// Nanoseconds in a 16.16 fixed-point duration (e.g. a round-trip delay).
    public static func nanoseconds(compactDuration: UInt32) -> UInt64 {
        (UInt64(compactDuration) * nanosecondsPerSecond) >> 16
    }
}

enum RTPClock {
    /// Monotonic nanoseconds in units of `clockRate`, modulo 2^64. Split into
    /// whole seconds and remainder so the multiplication cannot overflow for
    /// realistic uptimes; callers only use differences, so wrapping is harmless.
    @inline(__always)
    static func units(nanoseconds: UInt64, clockRate: UInt32) -> UInt64 {
        let rate = UInt64(clockRate)
        let seconds = nanoseconds / NTPTime.nanosecondsPerSecond
        let remainder = nanoseconds % NTPTime.nanosecondsPerSecond
        return seconds &* rate &+ remainder * rate / NTPTime.nanosecondsPerSecond
    }
}
