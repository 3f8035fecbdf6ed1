// Answers generic NACKs (RFC 4585 §6.2.1) from a subscriber out of the
// outgoing stream's RetransmissionBuffer. Receivers repeat a NACK until the
// packet arrives, so a request that crosses our retransmission in flight
// would double the repair traffic; each packet is therefore resent at most
// once per `minimumResendIntervalNanoseconds` (about one round trip).
//
// No allocation: the packet-view entry point walks the FCI straight from the
// RTCP bytes, the callback is non-escaping, and the per-packet resend times
// live in the buffer's preallocated slots.

public struct NACKResponder: Sendable, Equatable {
    /// Minimum time between two resends of the same packet. Set it from the
    /// measured round-trip time when known; 100 ms is a typical RTT ceiling.
    public var minimumResendIntervalNanoseconds: UInt64

    public init(minimumResendIntervalNanoseconds: UInt64 = 100_000_000) {
        self.minimumResendIntervalNanoseconds = minimumResendIntervalNanoseconds
    }

    /// Counts of what one NACK asked for and what was done.
    public struct Summary: Sendable, Equatable {
        /// Sequence numbers named by the NACK (duplicates included).
        public var requested = 0
        public var resent = 0
        public var rateLimited = 0
        /// Not in the buffer any more (or never sent).
        public var unavailable = 0

        public init() {}

        mutating func add(_ outcome: RetransmissionBuffer.RetransmissionOutcome) {
            requested += 1
            switch outcome {
            case .resent: resent += 1
            case .rateLimited: rateLimited += 1
            case .unavailable: unavailable += 1
            }
        }
    }

    /// Answers a NACK straight from its RTCP packet view. Nil when `packet`
    /// is not a well-formed generic NACK. The caller has already matched the
    /// NACK's media SSRC to `buffer`'s stream. `resend` gets each packet to
    /// send again (wrap it with `RTXSender` if RTX was negotiated).
    public func respond(
        to packet: RTCPPacketView, from buffer: RetransmissionBuffer, nowNanoseconds: UInt64,
        _ resend: (UnsafeRawBufferPointer) -> Void
    ) -> Summary? {
        var summary = Summary()
        let ok = RTCPNack.forEachLost(in: packet) { sequenceNumber in
            summary.add(resendOne(sequenceNumber, from: buffer, nowNanoseconds: nowNanoseconds, resend))
        }
        return ok ? summary : nil
    }

    /// Answers PID+BLP entries from an already parsed NACK.
    public func respond<Entries: Sequence>(
        to entries: Entries, from buffer: RetransmissionBuffer, nowNanoseconds: UInt64,
        _ resend: (UnsafeRawBufferPointer) -> Void
    ) -> Summary where Entries.Element == RTCPNackEntry {
        var summary = Summary()
        for entry in entries {
            entry.forEachLost { sequenceNumber in
                summary.add(resendOne(sequenceNumber, from: buffer, nowNanoseconds: nowNanoseconds, resend))
            }
        }
        return summary
    }

    /// Answers a parsed NACK packet.
    public func respond(
        to nack: RTCPNack, from buffer: RetransmissionBuffer, nowNanoseconds: UInt64,
        _ resend: (UnsafeRawBufferPointer) -> Void
    ) -> Summary {
        respond(to: nack.entries, from: buffer, nowNanoseconds: nowNanoseconds, resend)
    }

    private func resendOne(
        _ sequenceNumber: UInt16, from buffer: RetransmissionBuffer, nowNanoseconds: UInt64,
        _ resend: (UnsafeRawBufferPointer) -> Void
    ) -> RetransmissionBuffer.RetransmissionOutcome {
        buffer.retransmit(sequenceNumber: sequenceNumber, nowNanoseconds: nowNanoseconds,
                          minimumIntervalNanoseconds: minimumResendIntervalNanoseconds, resend)
    }
}
