// Process-wide media counters for /metrics and the Admin API. Relaxed atomics: they are
// statistics, read occasionally, bumped from every reader thread.

import Synchronization

public final class MediaCounters: Sendable {
    public let datagramsReceived = Atomic<Int>(0)
    public let datagramsSent = Atomic<Int>(0)
    public let sendFailures = Atomic<Int>(0)
    /// STUN that did not parse, or checks for an unknown ufrag or that failed authentication.
    public let stunDropped = Atomic<Int>(0)
    /// Datagrams from an address no PeerConnection validated.
    public let unknownSourceDropped = Atomic<Int>(0)
    /// Empty datagrams, and those whose first byte is no protocol we speak (RFC 7983).
    public let unclassifiedDropped = Atomic<Int>(0)
    /// SRTP/SRTCP that failed authentication or replay checks, or RTP that did not parse.
    public let srtpDropped = Atomic<Int>(0)
    /// DTLS datagrams a PeerConnection's endpoint dropped: malformed, forged or undecryptable
    /// records, duplicates, or arriving after the association ended.
    public let dtlsDropped = Atomic<Int>(0)
    /// Datagrams handed over in process by Confab's own TURN server (client → SFU), and datagrams
    /// the SFU sent back to relayed addresses through it (counted in neither received nor sent).
    public let datagramsRelayedIn = Atomic<Int>(0)
    public let datagramsRelayedOut = Atomic<Int>(0)
    /// Datagrams passed to the shard that owns their connection (from another reader, the TURN
    /// loop or a full-ICE transport; and plain packets a plugin passed between shards), and those
    /// dropped because that shard's handoff ring was full.
    public let datagramsHandedOver = Atomic<Int>(0)
    public let handoffDropped = Atomic<Int>(0)
    public let peerConnectionsOpened = Atomic<Int>(0)
    public let peerConnectionsClosed = Atomic<Int>(0)

    public init() {}

    @inline(__always)
    static func bump(_ counter: borrowing Atomic<Int>, by amount: Int = 1) {
        counter.add(amount, ordering: .relaxed)
    }

    /// Name → value, for exposition.
    public var snapshot: [(String, Int)] {
        [
            ("datagrams_received", datagramsReceived.load(ordering: .relaxed)),
            ("datagrams_sent", datagramsSent.load(ordering: .relaxed)),
            ("send_failures", sendFailures.load(ordering: .relaxed)),
            ("stun_dropped", stunDropped.load(ordering: .relaxed)),
            ("unknown_source_dropped", unknownSourceDropped.load(ordering: .relaxed)),
            ("unclassified_dropped", unclassifiedDropped.load(ordering: .relaxed)),
            ("srtp_dropped", srtpDropped.load(ordering: .relaxed)),
            ("dtls_dropped", dtlsDropped.load(ordering: .relaxed)),
            ("datagrams_relayed_in", datagramsRelayedIn.load(ordering: .relaxed)),
            ("datagrams_relayed_out", datagramsRelayedOut.load(ordering: .relaxed)),
            ("datagrams_handed_over", datagramsHandedOver.load(ordering: .relaxed)),
            ("handoff_dropped", handoffDropped.load(ordering: .relaxed)),
            ("peerconnections_opened", peerConnectionsOpened.load(ordering: .relaxed)),
            ("peerconnections_closed", peerConnectionsClosed.load(ordering: .relaxed)),
        ]
    }
}
