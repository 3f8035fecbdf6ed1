// Send-side counters for one outgoing RTP stream and the sender report built
// from them (RFC 3550 §6.4.1). `record` runs for every packet sent and only
// updates integer fields of this inline struct, so it never allocates.

public struct SenderStatistics: Sendable, Equatable {
    public let ssrc: UInt32
    public let clockRate: UInt32
    /// Packets sent; wraps like the SR field it feeds.
    public private(set) var packetsSent: UInt32 = 0
    /// Payload octets sent (no header or padding, as §6.4.1 defines); wraps.
    public private(set) var payloadOctetsSent: UInt32 = 0
    private var newestTimestamp: UInt32 = 0
    private var newestTimestampSentAt: UInt64 = 0
    private var hasSent = false

    public init(ssrc: UInt32, clockRate: UInt32) {
        precondition(clockRate > 0, "an RTP clock rate is positive")
        self.ssrc = ssrc
        self.clockRate = clockRate
    }

    /// Records one packet sent at `sentAtNanoseconds` (monotonic clock).
    public mutating func record(payloadLength: Int, rtpTimestamp: UInt32, sentAtNanoseconds: UInt64) {
        packetsSent &+= 1
        payloadOctetsSent &+= UInt32(truncatingIfNeeded: max(0, payloadLength))
        // Keep the newest frame's timestamp: packets of an older frame sent
        // late must not move the SR's clock mapping backwards.
        if !hasSent || RTPTimestamp.isNewer(rtpTimestamp, than: newestTimestamp) {
            newestTimestamp = rtpTimestamp
            newestTimestampSentAt = sentAtNanoseconds
            hasSent = true
        }
    }

    /// Records a packet from a validated header view.
    public mutating func record(_ packet: RTPHeaderView, sentAtNanoseconds: UInt64) {
        record(payloadLength: packet.payloadLength, rtpTimestamp: packet.timestamp,
               sentAtNanoseconds: sentAtNanoseconds)
    }

    /// The RTP timestamp that corresponds to `nowNanoseconds`: the newest
    /// frame's timestamp advanced by the time since it was sent. An SR must
    /// pair its NTP time with the RTP time of the same instant, not with the
    /// last packet's, or receivers' lip sync drifts by the gap.
    public func rtpTimestamp(atNanoseconds nowNanoseconds: UInt64) -> UInt32? {
        guard hasSent else { return nil }
        let elapsed = nowNanoseconds >= newestTimestampSentAt ? nowNanoseconds - newestTimestampSentAt : 0
        return newestTimestamp &+ UInt32(truncatingIfNeeded: RTPClock.units(nanoseconds: elapsed, clockRate: clockRate))
    }

    /// A sender report for now, or nil before the first packet (an SR
    /// without media would announce a clock mapping for nothing).
    /// - `unixNanoseconds`: wall-clock time, for the NTP timestamp.
    /// - `monotonicNanoseconds`: the same instant on the clock passed to `record`.
    public func makeSenderReport(unixNanoseconds: UInt64, monotonicNanoseconds: UInt64,
                                 reportBlocks: [RTCPReportBlock] = []) -> RTCPSenderReport? {
        guard let rtpTimestamp = rtpTimestamp(atNanoseconds: monotonicNanoseconds) else { return nil }
        return RTCPSenderReport(ssrc: ssrc, unixNanoseconds: unixNanoseconds, rtpTimestamp: rtpTimestamp,
                                packetCount: packetsSent, octetCount: payloadOctetsSent, reportBlocks: reportBlocks)
    }
}

extension RTCPSenderReport {
    /// A sender report whose NTP timestamp is the wall-clock time `unixNanoseconds`.
    public init(ssrc: UInt32, unixNanoseconds: UInt64, rtpTimestamp: UInt32,
                packetCount: UInt32, octetCount: UInt32, reportBlocks: [RTCPReportBlock] = []) {
        self.init(ssrc: ssrc, ntpTimestamp: NTPTime.timestamp(unixNanoseconds: unixNanoseconds),
                  rtpTimestamp: rtpTimestamp, packetCount: packetCount, octetCount: octetCount,
                  reportBlocks: reportBlocks)
    }
}
