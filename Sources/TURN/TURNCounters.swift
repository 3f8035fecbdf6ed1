import RelayHandover
import Synchronization

/// TURN counters for /metrics and the Admin API. Written on the TURN event loop, read from anywhere.
public final class TURNCounters: Sendable {
    /// Allocations alive now, and started since start-up.
    public let allocations = Atomic<Int>(0)
    public let allocationsStarted = Atomic<Int>(0)
    public let permissions = Atomic<Int>(0)
    public let channels = Atomic<Int>(0)
    /// Payload bytes and packets relayed client → peer and peer → client.
    public let bytesToPeers = Atomic<Int>(0)
    public let bytesToClients = Atomic<Int>(0)
    public let packetsToPeers = Atomic<Int>(0)
    public let packetsToClients = Atomic<Int>(0)
    /// Requests whose credentials failed (unknown user, expired REST name, wrong MESSAGE-INTEGRITY).
    public let authFailures = Atomic<Int>(0)
    /// Input that did not parse (bad STUN, ChannelData overrunning its datagram, TCP garbage).
    public let malformedDropped = Atomic<Int>(0)
    /// Well-formed packets with nowhere to go (no allocation, no permission, unbound channel).
    public let unroutableDropped = Atomic<Int>(0)
    /// Permissions, channels or sends refused by the peer policy (403).
    public let deniedPeers = Atomic<Int>(0)
    /// Answers to unauthenticated requests dropped by the per-client-IP rate limit.
    public let rateLimitedDropped = Atomic<Int>(0)
    /// RFC 3489 Binding requests (no magic cookie) answered, with MAPPED-ADDRESS or 420.
    public let classicBindings = Atomic<Int>(0)
    /// TLS connections closed for a failed or timed-out handshake or a record that did not decrypt.
    public let tlsFailures = Atomic<Int>(0)
    /// Relayed packets dropped for exceeding an allocation's `turn.max_bps`.
    public let bandwidthDropped = Atomic<Int>(0)

    /// What the SFU sent to clients of handed-over relays without passing through the core.
    public let handover: HandoverCounters

    public init(handover: HandoverCounters? = nil) {
        self.handover = handover ?? HandoverCounters()
    }

    @inline(__always) func bump(_ counter: borrowing Atomic<Int>, by amount: Int = 1) {
        counter.add(amount, ordering: .relaxed)
    }

    /// Monotonic counters, name → value (exposed as `confab_turn_<name>_total`).
    public var totals: [(String, Int)] {
        [
            ("allocations", allocationsStarted.load(ordering: .relaxed)),
            ("relayed_bytes_to_peers", bytesToPeers.load(ordering: .relaxed)),
            ("relayed_bytes_to_clients", bytesToClients.load(ordering: .relaxed)
                + handover.bytesToClients.load(ordering: .relaxed)),
            ("relayed_packets_to_peers", packetsToPeers.load(ordering: .relaxed)),
            ("relayed_packets_to_clients", packetsToClients.load(ordering: .relaxed)
                + handover.packetsToClients.load(ordering: .relaxed)),
            ("auth_failures", authFailures.load(ordering: .relaxed)),
            ("malformed_dropped", malformedDropped.load(ordering: .relaxed)),
            ("unroutable_dropped", unroutableDropped.load(ordering: .relaxed)
                + handover.unroutableDropped.load(ordering: .relaxed)),
            ("denied_peers", deniedPeers.load(ordering: .relaxed)),
            ("rate_limited_dropped", rateLimitedDropped.load(ordering: .relaxed)),
            ("classic_bindings", classicBindings.load(ordering: .relaxed)),
            ("tls_failures", tlsFailures.load(ordering: .relaxed)),
            ("bandwidth_dropped", bandwidthDropped.load(ordering: .relaxed)
                + handover.bandwidthDropped.load(ordering: .relaxed)),
        ]
    }

    /// Current values, name → value (exposed as gauges `confab_turn_<name>`).
    public var gauges: [(String, Int)] {
        [
            ("allocations", allocations.load(ordering: .relaxed)),
            ("permissions", permissions.load(ordering: .relaxed)),
            ("channels", channels.load(ordering: .relaxed)),
        ]
    }
}
