import Net

/// The send side of one media thread toward relayed addresses: datagrams the SFU addresses to a
/// relayed address are caught here, wrapped as ChannelData and batched per TURN listener socket
/// (one `sendmmsg` per socket per flush). No allocation per packet; the route lookup is a
/// thread-local cache, refreshed only when the route table changes.
///
/// Not Sendable: it belongs to its thread, like the media send batch it sits beside.
public final class RelayOutbox {
    let handover: RelayHandover
    /// Destination → its route, or nil for an address in the relay port range that is not relayed
    /// (browsers' own ephemeral ports often are): both answers are cached until the table changes.
    /// (One thread, so these skip the runtime's exclusivity checks, which would run per packet.)
    @exclusivity(unchecked) private var cache: [TransportAddress: RelayRoute?] = [:]
    @exclusivity(unchecked) private var cacheGeneration: UInt64 = 0
    @exclusivity(unchecked) private var batches: [ClientSocket: SendBatch] = [:]
    @exclusivity(unchecked) private var dirty = false

    public init(handover: RelayHandover) {
        self.handover = handover
    }

    /// True when `destination` is a relayed address: the datagram went (or was dropped) through its
    /// allocation and must not be sent on the media socket. False, after two compares for almost every
    /// datagram: send it normally.
    public func take(_ datagram: UnsafeRawBufferPointer, to destination: TransportAddress) -> Bool {
        guard handover.mayClaim(destination), let route = lookup(destination) else { return false }
        let counters = handover.counters
        switch route.decide(datagram.count) {
        case .channel(let number):
            guard let socket = route.clientSocket else { return true }
            let batch = batch(for: socket)
            let length = RelayRoute.writeChannelData(datagram, channel: number, into: batch.nextSlot)
            guard length > 0 else { return true }
            batch.commit(length: length, to: route.client)
            dirty = true
            counters.packetsToClients.add(1, ordering: .relaxed)
            counters.bytesToClients.add(datagram.count, ordering: .relaxed)
        case .slow(let peer):
            route.slowPath(Array(datagram), peer)
        case .overCap:
            counters.bandwidthDropped.add(1, ordering: .relaxed)
        case .unroutable:
            counters.unroutableDropped.add(1, ordering: .relaxed)
        }
        return true
    }

    /// Sends what is queued (one sendmmsg per TURN listener socket used).
    public func flush() {
        guard dirty else { return }
        dirty = false
        for (socket, batch) in batches where batch.count > 0 {
            sendBatch(batch, descriptor: socket.descriptor)
        }
    }

    private func batch(for socket: ClientSocket) -> SendBatch {
        if let batch = batches[socket] {
            if batch.isFull { sendBatch(batch, descriptor: socket.descriptor) }
            return batch
        }
        let batch = SendBatch(capacity: 64, ipv6Socket: socket.isIPv6)
        batches[socket] = batch
        return batch
    }

    private func lookup(_ destination: TransportAddress) -> RelayRoute? {
        let generation = handover.generation.load(ordering: .acquiring)
        if generation != cacheGeneration || cache.count > 4096 {
            cache.removeAll(keepingCapacity: true)
            cacheGeneration = generation
        }
        if let cached = cache[destination] { return cached }
        let route = handover.route(destination)
        cache[destination] = .some(route)
        return route
    }
}
