import CLinux
import Glibc
import Testing
@testable import Net

/// A non-blocking UDP socket bound to an ephemeral port on `ip` (loopback).
private struct LoopbackSocket {
    let descriptor: Int32
    let address: TransportAddress
    let isIPv6: Bool

    init(_ ip: String) throws {
        let isIPv6 = ip.contains(":")
        let descriptor = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        try #require(descriptor >= 0)
        var storage = sockaddr_storage()
        let requested = try #require(TransportAddress(ip: ip, port: 0))
        let length = withUnsafeMutableBytes(of: &storage) { requested.write(to: $0.baseAddress!, ipv6Socket: isIPv6) }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        try #require(bound == 0)
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &actualLength) }
        }
        self.address = try #require(withUnsafeBytes(of: &actual) { TransportAddress(sockaddr: $0.baseAddress!) })
        self.descriptor = descriptor
        self.isIPv6 = isIPv6
    }

    /// Every datagram waiting (after a short wait for the first), as byte arrays in arrival order.
    func drain() -> [[UInt8]] {
        var received: [[UInt8]] = []
        var idle = 0
        while idle < 20 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count >= 0 {
                received.append(Array(buffer[0..<count]))
                idle = 0
            } else {
                idle += 1
                usleep(5_000)
            }
        }
        return received
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// Datagram `tag` of `length` bytes: the tag, then a counting pattern (so a cut in the wrong place shows).
private func datagram(_ tag: UInt8, length: Int) -> [UInt8] {
    [tag] + (1..<length).map { UInt8(truncatingIfNeeded: $0 &+ Int(tag)) }
}

private func queue(_ batch: MixedSendBatch, _ bytes: [UInt8], from sender: LoopbackSocket, to receiver: LoopbackSocket) {
    batch.append(from: sender.descriptor, to: receiver.address) { slot in
        bytes.withUnsafeBytes { slot.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return bytes.count
    }
}

@Suite struct SegmentedSendTests {
    @Test func thisKernelSegments() {
        // Linux 4.18+; every test below would pass without segmentation, so make sure it is on.
        #expect(SegmentedSender.kernelSupportsSegmentation)
    }

    /// What the batch queued, per receiver, in order: a run of equal datagrams and a shorter one for A,
    /// two for B, then A again, and a second socket's datagram between.
    private func mixedTraffic(_ ip: String, prepare: (LoopbackSocket) -> Void = { _ in })
        throws -> (batch: MixedSendBatch, a: [[UInt8]], b: [[UInt8]], expectedA: [[UInt8]], expectedB: [[UInt8]]) {
        let sender = try LoopbackSocket(ip), other = try LoopbackSocket(ip)
        let a = try LoopbackSocket(ip), b = try LoopbackSocket(ip)
        defer { [sender, other, a, b].forEach { $0.close() } }
        prepare(sender)
        let batch = MixedSendBatch(capacity: 16, ipv6Socket: ip.contains(":"))
        let forA = [datagram(1, length: 300), datagram(2, length: 300), datagram(3, length: 300), datagram(4, length: 41)]
        let forB = [datagram(5, length: 300), datagram(6, length: 300)]
        for bytes in forA { queue(batch, bytes, from: sender, to: a) }
        for bytes in forB { queue(batch, bytes, from: sender, to: b) }
        let again = datagram(7, length: 300)
        queue(batch, again, from: sender, to: a)
        let fromOther = datagram(8, length: 300)
        queue(batch, fromOther, from: other, to: a)
        #expect(batch.flush() == 0)
        return (batch, a.drain(), b.drain(), forA + [again, fromOther], forB)
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func runsForOneDestinationArriveAsTheSameDatagramsInOrder(ip: String) throws {
        let sent = try mixedTraffic(ip)
        #expect(sent.a == sent.expectedA)
        #expect(sent.b == sent.expectedB)
        #expect(sent.batch.segmentsRuns)
    }

    @Test func runsAreGroupedByDestinationAndLengthWithAShorterLast() throws {
        let a = try LoopbackSocket("127.0.0.1"), b = try LoopbackSocket("127.0.0.1")
        defer { [a, b].forEach { $0.close() } }
        let batch = SendBatch(capacity: 16, ipv6Socket: false)
        // A: 300, 300, 41 (one message: a shorter last); A: 300 (the shorter one ended the run);
        // B: 300 (another address); A: 300, then 500 (longer than the run's size: a message of its own).
        for (length, to) in [(300, a), (300, a), (41, a), (300, a), (300, b), (300, a), (500, a)] {
            datagram(0, length: length).withUnsafeBytes { batch.append($0, to: to.address) }
        }
        let segmented = SegmentedSender(capacity: 16)
        let messages = segmented.group(batch.headers, 0..<batch.count)
        #expect(messages == 5)
        // Only the first message is segmented: three iovecs and a UDP_SEGMENT of 300 bytes.
        let first = segmented.message(0).msg_hdr
        #expect(first.msg_iovlen == 3)
        let control = try #require(first.msg_control)
        let header = control.load(as: cmsghdr.self)
        #expect(header.cmsg_level == Int32(IPPROTO_UDP) && header.cmsg_type == 103)
        #expect(control.load(fromByteOffset: MemoryLayout<cmsghdr>.size, as: UInt16.self) == 300)
        for index in 1..<messages {
            #expect(segmented.message(index).msg_hdr.msg_iovlen == 1)
            #expect(segmented.message(index).msg_hdr.msg_control == nil)
        }
    }

    /// With checksums off (SO_NO_CHECK) the kernel refuses to segment (EINVAL): the run goes out one
    /// datagram at a time, nothing is lost, and runs of that length are no longer coalesced.
    @Test func aRouteThatRefusesSegmentationGetsTheDatagramsOneByOne() throws {
        let sender = try LoopbackSocket("127.0.0.1"), a = try LoopbackSocket("127.0.0.1")
        defer { [sender, a].forEach { $0.close() } }
        var on: Int32 = 1
        #expect(setsockopt(sender.descriptor, SOL_SOCKET, SO_NO_CHECK, &on, socklen_t(MemoryLayout<Int32>.size)) == 0)
        let batch = SendBatch(capacity: 16, ipv6Socket: false)
        let expected = [datagram(1, length: 300), datagram(2, length: 300), datagram(3, length: 120)]
        for bytes in expected { bytes.withUnsafeBytes { batch.append($0, to: a.address) } }
        let segmented = SegmentedSender(capacity: 16)
        #expect(segmented.send(batch.headers, 0..<batch.count, descriptor: sender.descriptor) == 0)
        #expect(a.drain() == expected)
        #expect(segmented.maxSegmentSize == 299)
        #expect(segmented.enabled)
    }
}
