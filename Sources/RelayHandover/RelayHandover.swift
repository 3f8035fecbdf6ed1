// TURN relays handed to the SFU inside the process.
//
// A browser behind a strict firewall reaches Confab through Confab's own TURN server. Relaying
// through a real relay socket would mean: ChannelData in on the TURN port, a sendto from the relay
// socket to the media port over loopback, a recvmmsg on the media port — and the same again
// backwards. Instead the TURN server allocates the relayed address (a port from
// `turn.relay_port_range`) without binding any socket, and:
//
// - client → SFU: the TURN loop hands the payload of each ChannelData / Send indication addressed to
//   Confab's media port straight to the media engine (`RelayedDatagramSink`), which treats it as a
//   datagram that arrived on the media port from the relayed address;
// - SFU → client: whatever the media engine sends to a relayed address is caught before the
//   `sendmmsg` (`RelayOutbox`, one per sending thread), wrapped as ChannelData and sent from the
//   TURN listener's own UDP socket to the client, in the same kind of batch.
//
// The TURN core stays the authority for allocations, permissions and channels; it mirrors what the
// send side needs into a `RelayRoute` per relayed address.

import Net
import Synchronization

/// Where the TURN server hands datagrams a client sent to Confab's own media port.
/// Only ever called on the TURN server's event loop (one thread).
public protocol RelayedDatagramSink: AnyObject {
    /// One datagram from the client behind `relayed`, as if it had arrived on the media port from that
    /// address. The sink copies what it keeps.
    func receive(_ datagram: UnsafeRawBufferPointer, from relayed: TransportAddress)
    /// The end of a read burst: send whatever those datagrams made the SFU queue.
    func flush()
}

/// Counters of the handed-over traffic in the SFU → client direction (the other direction is counted
/// by the TURN core, which sees every packet).
public final class HandoverCounters: Sendable {
    public let packetsToClients = Atomic<Int>(0)
    public let bytesToClients = Atomic<Int>(0)
    /// Dropped for exceeding the allocation's `turn.max_bps`.
    public let bandwidthDropped = Atomic<Int>(0)
    /// Sent to a relayed address whose client has no permission for any of Confab's endpoints yet.
    public let unroutableDropped = Atomic<Int>(0)
    public init() {}
}

/// The table of relayed addresses handled in process, shared by the TURN server (which writes it)
/// and the media engine's sending threads (which read it).
public final class RelayHandover: Sendable {
    /// `turn.relay_port_range`: a destination outside it is never relayed, decided with two compares.
    public let relayPorts: ClosedRange<UInt16>
    public let counters = HandoverCounters()
    private let routes = Mutex<[TransportAddress: RelayRoute]>([:])
    /// Bumped whenever a route comes or goes, so outboxes drop their caches.
    let generation = Atomic<UInt64>(0)
    let routeCount = Atomic<Int>(0)
    private let sinkBox = Mutex<SinkBox?>(nil)

    /// @unchecked Sendable: the sink is set once at start-up and then only called on the TURN loop
    /// (`RelayedDatagramSink`'s contract); the box only carries the reference there.
    private struct SinkBox: @unchecked Sendable {
        let sink: any RelayedDatagramSink
    }

    public init(relayPorts: ClosedRange<UInt16>) {
        self.relayPorts = relayPorts
    }

    // MARK: - Media engine side

    /// The media engine registers where handed-over datagrams go.
    public func attach(_ sink: any RelayedDatagramSink) {
        sinkBox.withLock { $0 = SinkBox(sink: sink) }
    }

    /// The engine stops: nothing more is handed over (and the engine can be freed).
    public func detach() {
        sinkBox.withLock { $0 = nil }
    }

    /// True once an SFU listens: the TURN server then relays to Confab's media port in process.
    public var isAttached: Bool { sinkBox.withLock { $0 != nil } }

    /// Could `destination` be a relayed address? Cheap enough for every datagram sent.
    @inline(__always)
    func mayClaim(_ destination: TransportAddress) -> Bool {
        relayPorts.contains(destination.port) && routeCount.load(ordering: .relaxed) > 0
    }

    /// A datagram sent outside any batch (timers, control RTCP): true when `destination` is relayed
    /// and the datagram was sent (or dropped) through its allocation; false = send it normally.
    public func sendNow(_ datagram: UnsafeRawBufferPointer, to destination: TransportAddress) -> Bool {
        guard mayClaim(destination), let route = route(destination) else { return false }
        route.sendNow(datagram, counters: counters)
        return true
    }

    // MARK: - TURN side (its event loop)

    public func add(_ route: RelayRoute) {
        let replaced = routes.withLock { $0.updateValue(route, forKey: route.relayed) }
        if replaced == nil { routeCount.add(1, ordering: .relaxed) }
        generation.add(1, ordering: .releasing)
    }

    public func remove(_ relayed: TransportAddress) {
        guard routes.withLock({ $0.removeValue(forKey: relayed) }) != nil else { return }
        routeCount.subtract(1, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
    }

    public func route(_ relayed: TransportAddress) -> RelayRoute? {
        routes.withLock { $0[relayed] }
    }

    /// Hands one datagram from the client behind `relayed` to the SFU; false when no SFU is attached.
    @discardableResult
    public func deliver(_ datagram: UnsafeRawBufferPointer, from relayed: TransportAddress) -> Bool {
        guard let sink = sinkBox.withLock({ $0?.sink }) else { return false }
        sink.receive(datagram, from: relayed)
        return true
    }

    /// The end of the TURN loop's read burst.
    public func flush() {
        sinkBox.withLock { $0?.sink }?.flush()
    }
}
