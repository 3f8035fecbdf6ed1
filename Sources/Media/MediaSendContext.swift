// The send side of one reader thread: its batch of outgoing datagrams and the socket that
// flushes it. Handed to PeerConnection delegates during a receive callback so forwarding
// appends to the batch (one sendmmsg per batch) instead of making a system call per packet.
//
// Not Sendable: it belongs to its reader thread and is only valid inside the callback.

import Net
import RelayHandover

public final class MediaSendContext {
    let socket: UDPSocket
    let batch: SendBatch
    let counters: MediaCounters
    /// Datagrams for relayed addresses (Confab's own TURN, in process) leave through here instead.
    let relayOutbox: RelayOutbox?

    init(socket: UDPSocket, counters: MediaCounters, relayHandover: RelayHandover? = nil, capacity: Int = 64) {
        self.socket = socket
        self.batch = SendBatch(capacity: capacity, ipv6Socket: socket.isIPv6)
        self.counters = counters
        relayOutbox = relayHandover.map(RelayOutbox.init)
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

    /// Sends what is queued (one sendmmsg).
    public func flush() {
        relayOutbox?.flush()
        let queued = batch.count
        guard queued > 0 else { return }
        let refused = socket.send(batch)
        MediaCounters.bump(counters.datagramsSent, by: queued - refused)
        if refused > 0 { MediaCounters.bump(counters.sendFailures, by: refused) }
    }
}
