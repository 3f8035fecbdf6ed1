// A send batch whose datagrams leave from different sockets: the TURN relay writes what it relays to
// peers (one relay socket per allocation) and to clients (the listener) into one preallocated batch
// during a read burst and sends each run of consecutive datagrams for the same socket with one
// sendmmsg. No allocation per datagram; one batch slab for every relay instead of one per socket.
// Back-to-back datagrams for one destination within such a run leave as one segmented message
// (`SegmentedSender`).
//
// Not Sendable: owned by one event loop.

#if canImport(Glibc)
import Glibc
import CLinux
#endif

public final class MixedSendBatch {
    private let batch: SendBatch
    private let descriptors: UnsafeMutablePointer<Int32>
    private let segmented: SegmentedSender

    /// `ipv6Socket`: every socket sending from this batch is an IPv6 socket (IPv4 peers written as mapped
    /// addresses) or every one is IPv4.
    public init(capacity: Int = 64, ipv6Socket: Bool) {
        batch = SendBatch(capacity: capacity, ipv6Socket: ipv6Socket)
        descriptors = .allocate(capacity: capacity)
        segmented = SegmentedSender(capacity: capacity)
    }

    deinit { descriptors.deallocate() }

    public var count: Int { batch.count }
    public var isEmpty: Bool { batch.count == 0 }

    /// Queues a datagram for `destination` from socket `descriptor`: `fill` writes it into the slot
    /// (at most `datagramSlotSize` bytes) and returns its length. Sends what is queued first when full.
    @inline(__always)
    public func append(from descriptor: Int32, to destination: TransportAddress,
                       _ fill: (UnsafeMutableRawBufferPointer) -> Int) {
        if batch.isFull { flush() }
        let length = fill(batch.nextSlot)
        descriptors[batch.count] = descriptor
        batch.commit(length: length, to: destination)
    }

    /// Sends everything queued, one sendmmsg per run of datagrams from the same socket (runs for one
    /// destination inside it segmented), then empties the batch. Datagrams the kernel refuses are
    /// dropped, as UDP allows; returns how many were refused.
    @discardableResult
    public func flush() -> Int {
        var refused = 0
        var start = 0
        while start < batch.count {
            let descriptor = descriptors[start]
            var end = start + 1
            while end < batch.count, descriptors[end] == descriptor { end += 1 }
            refused += segmented.send(batch.headers, start..<end, descriptor: descriptor)
            start = end
        }
        batch.reset()
        return refused
    }

    /// Whether runs for one destination still leave segmented (false once the kernel refused it: EIO).
    public var segmentsRuns: Bool { segmented.enabled }

    /// Forgets what is queued from `descriptor` (the socket is about to close) by sending it now.
    public func flush(before descriptor: Int32) {
        for index in 0..<batch.count where descriptors[index] == descriptor {
            flush()
            return
        }
    }
}
