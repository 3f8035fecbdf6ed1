// The send side of one reader thread: its batch of outgoing datagrams and the socket that
// flushes it. Handed to PeerConnection delegates during a receive callback so forwarding
// appends to the batch (one sendmmsg per batch) instead of making a system call per packet.
//
// Not Sendable: it belongs to its reader thread and is only valid inside the callback.
//
// It also carries what the thread hands to other shards (`handOver`): pushed into their rings at
// once, woken with one eventfd write each when the batch is flushed.

import Net
import RelayHandover

public final class MediaSendContext {
    let socket: UDPSocket
    let batch: SendBatch
    let counters: MediaCounters
    /// Datagrams for relayed addresses (Confab's own TURN, in process) leave through here instead.
    let relayOutbox: RelayOutbox?
    /// The shard whose thread this context belongs to (nil: a TURN loop's or a test's context).
    /// unowned(unsafe): the shard owns its context; no reference count per packet.
    private unowned(unsafe) let shard: MediaShard?
    /// Shards handed something since the last `flush`, to wake once each.
    /// (One thread, so without the runtime's exclusivity checks.)
    @exclusivity(unchecked) private var handedOver: [MediaShard] = []

    init(socket: UDPSocket, counters: MediaCounters, relayHandover: RelayHandover? = nil, capacity: Int = 64,
         shard: MediaShard? = nil) {
        self.socket = socket
        self.batch = SendBatch(capacity: capacity, ipv6Socket: socket.isIPv6)
        self.counters = counters
        relayOutbox = relayHandover.map(RelayOutbox.init)
        self.shard = shard
        handedOver.reserveCapacity(8)
    }

    /// The index of the shard this context's thread reads for (nil off the shards).
    public var shardIndex: Int? { shard?.index }

    /// Passes a copy of plain RTP `packet` to `handler` on shard `index`'s thread (a publisher's
    /// packet for the subscribers another shard owns). Dropped and counted when that shard's ring
    /// is full.
    public func handOver(_ packet: UnsafeRawBufferPointer, route: InboundRoute, toShard index: Int,
                         handler: any HandedOverPacketHandler) {
        guard let shards = shard?.engine.shards, shards.indices.contains(index) else { return }
        handOver(packet, from: TransportAddress(high: 0, low: 0, port: 0), item: .packet(handler, route),
                 to: shards[index])
    }

    func handOver(_ bytes: UnsafeRawBufferPointer, from source: TransportAddress, item: HandoffItem,
                  to target: MediaShard) {
        guard target.handoff.push(bytes, from: source, tag: item) else {
            MediaCounters.bump(counters.handoffDropped)
            return
        }
        MediaCounters.bump(counters.datagramsHandedOver)
        if !handedOver.contains(where: { $0 === target }) { handedOver.append(target) }
    }

    /// A free slot to write a datagram into; flushes first when the batch is full, so call it
    /// before taking any lock.
    func reserve() -> UnsafeMutableRawBufferPointer {
        if batch.isFull { flush() }
        return batch.nextSlot
    }

    func commit(length: Int, to destination: TransportAddress) {
        if let relayOutbox, relayOutbox.take(UnsafeRawBufferPointer(rebasing: batch.nextSlot[0..<length]), to: destination) {
            MediaCounters.bump(counters.datagramsRelayedOut)
            return
        }
        batch.commit(length: length, to: destination)
    }

    func enqueue(_ bytes: [UInt8], to destination: TransportAddress) {
        let slot = reserve()
        guard bytes.count <= slot.count else { return }
        bytes.withUnsafeBytes { slot.copyMemory(from: $0) }
        commit(length: bytes.count, to: destination)
    }

    /// Queues a plain (unprotected) copy of `packet` for `destination`, edited in place by `edit`
    /// first: the VideoRoom's RTP forwarders send publishers' media to local UDP ports this way.
    public func enqueuePlain(_ packet: UnsafeRawBufferPointer, to destination: TransportAddress,
                             edit: (UnsafeMutableRawBufferPointer) -> Void) {
        let slot = reserve()
        guard packet.count <= slot.count else { return }
        slot.copyMemory(from: packet)
        let copy = UnsafeMutableRawBufferPointer(rebasing: slot[0..<packet.count])
        edit(copy)
        commit(length: packet.count, to: destination)
    }

    /// Sends what is queued (one sendmmsg) and wakes the shards handed something.
    public func flush() {
        if !handedOver.isEmpty {
            for target in handedOver { target.handoff.signal() }
            handedOver.removeAll(keepingCapacity: true)
        }
        relayOutbox?.flush()
        let queued = batch.count
        guard queued > 0 else { return }
        let refused = socket.send(batch)
        MediaCounters.bump(counters.datagramsSent, by: queued - refused)
        if refused > 0 { MediaCounters.bump(counters.sendFailures, by: refused) }
    }
}
