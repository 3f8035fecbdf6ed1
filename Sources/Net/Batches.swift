// Preallocated message vectors for recvmmsg / sendmmsg: one slab of packet buffers, one of
// socket addresses, the iovecs and the mmsghdrs pointing into them, all allocated once.
//
// Not Sendable: a batch belongs to the one reader thread that fills and drains it. Its counters
// skip the runtime's exclusivity checks (a begin/end access pair per use, per packet): one thread
// and plain integer updates leave nothing for them to catch.

#if canImport(Glibc)
import Glibc
import CLinux
#endif

/// Largest datagram the media transport accepts or sends. Browsers keep RTP under ~1200 bytes;
/// the slack leaves room for SRTP trailers (`SRTPSession.maxRTPTrailer`) when protecting in place.
public let datagramSlotSize = 2048

public final class ReceiveBatch {
    public let capacity: Int
    @exclusivity(unchecked) public internal(set) var count = 0
    private var initialized = false
    let headers: UnsafeMutablePointer<confab_mmsghdr>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let slab: UnsafeMutableRawPointer

    public init(capacity: Int = 64) {
        self.capacity = capacity
        headers = .allocate(capacity: capacity)
        iovecs = .allocate(capacity: capacity)
        addresses = .allocate(capacity: capacity)
        slab = .allocate(byteCount: capacity * datagramSlotSize, alignment: 16)
        for index in 0..<capacity {
            iovecs[index] = iovec(iov_base: slab + index * datagramSlotSize, iov_len: datagramSlotSize)
        }
        for index in 0..<capacity {
            var header = msghdr()
            header.msg_name = UnsafeMutableRawPointer(addresses + index)
            header.msg_iov = iovecs + index
            header.msg_iovlen = 1
            headers[index] = confab_mmsghdr(msg_hdr: header, msg_len: 0)
        }
        prepareForReceive()
    }

    deinit {
        headers.deallocate()
        iovecs.deallocate()
        addresses.deallocate()
        slab.deallocate()
    }

    /// Readies the headers for the next recvmmsg. The kernel only writes back the address length,
    /// flags and `msg_len` of the datagrams it filled, so only those are reset — not the whole vector
    /// for a read that usually brings one or two datagrams.
    func prepareForReceive() {
        let used = count == 0 && !initialized ? capacity : count
        initialized = true
        for index in 0..<used {
            headers[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            headers[index].msg_hdr.msg_flags = 0
            headers[index].msg_len = 0
        }
    }

    /// The whole slot of datagram `index` (its bytes are `[0..<length(index)]`); writable so
    /// SRTP can decrypt in place.
    public func slot(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: slab + index * datagramSlotSize, count: datagramSlotSize)
    }

    public func length(_ index: Int) -> Int { Int(headers[index].msg_len) }

    /// Sender of datagram `index`; nil for an address family we do not speak.
    public func source(_ index: Int) -> TransportAddress? {
        TransportAddress(sockaddr: UnsafeRawPointer(addresses + index))
    }
}

public final class SendBatch {
    public let capacity: Int
    @exclusivity(unchecked) public private(set) var count = 0
    let headers: UnsafeMutablePointer<confab_mmsghdr>
    private let iovecs: UnsafeMutablePointer<iovec>
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    private let slab: UnsafeMutableRawPointer
    private let ipv6Socket: Bool

    public init(capacity: Int = 64, ipv6Socket: Bool) {
        self.capacity = capacity
        self.ipv6Socket = ipv6Socket
        headers = .allocate(capacity: capacity)
        iovecs = .allocate(capacity: capacity)
        addresses = .allocate(capacity: capacity)
        slab = .allocate(byteCount: capacity * datagramSlotSize, alignment: 16)
    }

    deinit {
        headers.deallocate()
        iovecs.deallocate()
        addresses.deallocate()
        slab.deallocate()
    }

    public var isFull: Bool { count == capacity }

    /// The next free slot, to be filled and then committed with `commit(length:to:)`.
    /// Callers flush the batch first when `isFull`.
    public var nextSlot: UnsafeMutableRawBufferPointer {
        precondition(count < capacity, "SendBatch full; flush before writing")
        return UnsafeMutableRawBufferPointer(start: slab + count * datagramSlotSize, count: datagramSlotSize)
    }

    /// Queues the first `length` bytes of `nextSlot` for `destination`.
    public func commit(length: Int, to destination: TransportAddress) {
        let name = UnsafeMutableRawPointer(addresses + count)
        let nameLength = destination.write(to: name, ipv6Socket: ipv6Socket)
        iovecs[count] = iovec(iov_base: slab + count * datagramSlotSize, iov_len: length)
        var header = msghdr()
        header.msg_name = name
        header.msg_namelen = nameLength
        header.msg_iov = iovecs + count
        header.msg_iovlen = 1
        headers[count] = confab_mmsghdr(msg_hdr: header, msg_len: 0)
        count += 1
    }

    /// Copies `bytes` into the next slot and queues it.
    public func append(_ bytes: UnsafeRawBufferPointer, to destination: TransportAddress) {
        let slot = nextSlot
        let length = min(bytes.count, slot.count)
        slot.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: length)
        commit(length: length, to: destination)
    }

    func reset() { count = 0 }
}
