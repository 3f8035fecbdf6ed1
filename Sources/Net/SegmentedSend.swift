// UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18+) for a send batch.
//
// Datagrams queued back to back for the same destination from the same socket, all of one length
// but the last (which may be shorter), leave as one message with a UDP_SEGMENT control message:
// the kernel builds one buffer and walks the socket, route and IP layers once; the datagrams are cut
// at the device (or by the NIC) and arrive as separate datagrams, exactly as if sent one by one.
// A TURN relay sees such runs whenever a peer or a client sends a burst (a video frame split into
// packets, the queued datagrams of one read); per datagram, a run of three costs 30% less CPU than
// sendmmsg of the same datagrams, a run of eight half (on loopback: scripts/bench/udp_segment.c; the
// relay as a whole: BENCHMARKS.md).
//
// Not Sendable: owned by the batch, which one thread owns.

#if canImport(Glibc)
import Glibc
import CLinux
#endif

/// Groups runs of a `SendBatch` into segmented messages and sends them, falling back to one message
/// per datagram where the kernel or the route refuses segmentation.
final class SegmentedSender {
    /// Linux's UDP_SEGMENT socket option / control message (netinet/udp.h), at level SOL_UDP.
    static let udpSegment: Int32 = 103
    static let solUDP: Int32 = 17
    /// Segments per message at most: the kernel's UDP_MAX_SEGMENTS is at least this on every version.
    static let maxSegments = 64
    /// Bytes of one message at most: an IP datagram's 65,535 less headers, with room to spare.
    static let maxMessageBytes = 60_000
    /// Control space for one UDP_SEGMENT message: CMSG_SPACE(sizeof(uint16_t)).
    static let controlSpace = MemoryLayout<cmsghdr>.size + 8

    /// The messages handed to sendmmsg: one per run (or per datagram outside runs).
    private let messages: UnsafeMutablePointer<confab_mmsghdr>
    /// Per message, the batch index of its first datagram and how many datagrams it carries.
    private let firstDatagram: UnsafeMutablePointer<Int>
    private let datagramCount: UnsafeMutablePointer<Int>
    private let controls: UnsafeMutableRawPointer

    /// Whether this kernel knows UDP_SEGMENT (Linux 4.18+; not gVisor and the like): asked once, of a
    /// throwaway socket, so an older kernel never sees a segmented message.
    static let kernelSupportsSegmentation: Bool = {
        let probe = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(probe, solUDP, udpSegment, &value, &length) == 0
    }()

    /// Off when the kernel lacks UDP_SEGMENT, or once it said it cannot segment on this path at all
    /// (EIO: no checksum offload, IPsec).
    @exclusivity(unchecked) private(set) var enabled = SegmentedSender.kernelSupportsSegmentation
    /// Segments longer than this are not coalesced: 1,500-byte Ethernet less IPv6 and UDP headers at
    /// first, lowered when a route's smaller MTU refuses a size (EINVAL), so such a path costs one
    /// refused call per size, not one per flush.
    @exclusivity(unchecked) private(set) var maxSegmentSize = 1452

    init(capacity: Int) {
        messages = .allocate(capacity: capacity)
        firstDatagram = .allocate(capacity: capacity)
        datagramCount = .allocate(capacity: capacity)
        controls = .allocate(byteCount: capacity * Self.controlSpace, alignment: 8)
        controls.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * Self.controlSpace)
    }

    deinit {
        messages.deallocate()
        firstDatagram.deallocate()
        datagramCount.deallocate()
        controls.deallocate()
    }

    /// Sends `headers[range]` (all from `descriptor`); returns how many datagrams were refused.
    func send(_ headers: UnsafeMutablePointer<confab_mmsghdr>, _ range: Range<Int>, descriptor: Int32) -> Int {
        guard enabled, range.count > 1 else { return sendMessages(headers, range, descriptor: descriptor) }
        let count = group(headers, range)
        guard count < range.count else { return sendMessages(headers, range, descriptor: descriptor) }
        var next = 0
        var refused = 0
        while next < count {
            let result = confab_sendmmsg(descriptor, messages + next, UInt32(count - next), 0)
            if result > 0 {
                next += Int(result)
                continue
            }
            if errno == EINTR { continue }
            refused += refusedMessage(next, headers, descriptor: descriptor, error: errno)
            next += 1
        }
        return refused
    }

    /// Message `index` of the last `group`.
    func message(_ index: Int) -> confab_mmsghdr { messages[index] }

    /// Builds `messages` for `headers[range]`; returns how many.
    func group(_ headers: UnsafeMutablePointer<confab_mmsghdr>, _ range: Range<Int>) -> Int {
        var count = 0
        var index = range.lowerBound
        while index < range.upperBound {
            let end = runEnd(headers, from: index, limit: range.upperBound)
            firstDatagram[count] = index
            datagramCount[count] = end - index
            messages[count] = headers[index]
            if end - index > 1 {
                messages[count].msg_hdr.msg_iovlen = end - index
                let control = controls + count * Self.controlSpace
                writeSegmentControl(control, size: UInt16(headers[index].msg_hdr.msg_iov.pointee.iov_len))
                messages[count].msg_hdr.msg_control = control
                messages[count].msg_hdr.msg_controllen = Self.controlSpace
            }
            count += 1
            index = end
        }
        return count
    }

    /// The end of the run starting at `start`: datagrams for the same address whose iovecs are adjacent
    /// (they are: one per slot), each as long as the first but the last, which may be shorter.
    private func runEnd(_ headers: UnsafeMutablePointer<confab_mmsghdr>, from start: Int, limit: Int) -> Int {
        let first = headers[start].msg_hdr
        let size = first.msg_iov.pointee.iov_len
        guard size > 0, size <= maxSegmentSize else { return start + 1 }
        var end = start + 1
        var total = size
        while end < limit, end - start < Self.maxSegments {
            let next = headers[end].msg_hdr
            let length = next.msg_iov.pointee.iov_len
            guard length > 0, length <= size, total + length <= Self.maxMessageBytes,
                  next.msg_iov == first.msg_iov + (end - start),
                  next.msg_namelen == first.msg_namelen,
                  memcmp(next.msg_name, first.msg_name, Int(first.msg_namelen)) == 0 else { break }
            total += length
            end += 1
            if length < size { break }  // a shorter datagram ends the run
        }
        return end
    }

    private func writeSegmentControl(_ control: UnsafeMutableRawPointer, size: UInt16) {
        let header = control.assumingMemoryBound(to: cmsghdr.self)
        header.pointee.cmsg_len = MemoryLayout<cmsghdr>.size + MemoryLayout<UInt16>.size
        header.pointee.cmsg_level = Self.solUDP
        header.pointee.cmsg_type = Self.udpSegment
        control.storeBytes(of: size, toByteOffset: MemoryLayout<cmsghdr>.size, as: UInt16.self)
    }

    /// Message `index` was refused with `error`. A segmented one the kernel cannot segment here goes out
    /// datagram by datagram (and segmentation is narrowed or turned off); otherwise its datagrams are
    /// dropped, as UDP allows. Returns how many datagrams were refused.
    private func refusedMessage(_ index: Int, _ headers: UnsafeMutablePointer<confab_mmsghdr>,
                                descriptor: Int32, error: Int32) -> Int {
        let carried = datagramCount[index]
        guard carried > 1, error == EIO || error == EINVAL else { return carried }
        if error == EIO {
            enabled = false
        } else {
            maxSegmentSize = min(maxSegmentSize, headers[firstDatagram[index]].msg_hdr.msg_iov.pointee.iov_len - 1)
        }
        let first = firstDatagram[index]
        return sendMessages(headers, first..<(first + carried), descriptor: descriptor)
    }
}
