// A non-blocking UDP socket with batched receive and send (recvmmsg / sendmmsg).
//
// The media transport shares one port between every PeerConnection; each reader thread owns
// one of these sockets (SO_REUSEPORT lets several bind the same port, the kernel spreading
// remote addresses across them) and reuses the same preallocated batches forever, so the
// per-packet path makes no allocation.

#if canImport(Glibc)
import Glibc
import CLinux
#endif

public struct SocketError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

public final class UDPSocket: @unchecked Sendable {
    // @unchecked Sendable: the descriptor is immutable after init; the kernel serialises
    // concurrent sendmmsg/sendto calls on one socket, and `close()` is called once, by the owner,
    // after the reader threads have stopped.
    public let descriptor: Int32
    /// True when the socket is a dual-stack IPv6 socket (IPv4 peers appear as mapped addresses).
    public let isIPv6: Bool
    public let localPort: UInt16

    /// Binds `port` on the wildcard address: dual-stack `::` when the host has IPv6, `0.0.0.0`
    /// otherwise. `reusePort` lets several sockets (one per reader thread) share the port.
    public init(port: UInt16, reusePort: Bool, preferIPv6: Bool = true, receiveBufferBytes: Int32 = 4 << 20) throws(SocketError) {
        var fd: Int32 = -1
        var ipv6 = false
        if preferIPv6 {
            fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            ipv6 = fd >= 0
        }
        if fd < 0 {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        guard fd >= 0 else { throw SocketError("socket") }
        var on: Int32 = 1
        var off: Int32 = 0
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size)) }
        if ipv6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size)) }
        var bufferSize = receiveBufferBytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))

        var storage = sockaddr_storage()
        let length: socklen_t = withUnsafeMutableBytes(of: &storage) { raw in
            if ipv6 {
                var any = sockaddr_in6()
                any.sin6_family = sa_family_t(AF_INET6)
                any.sin6_port = port.bigEndian
                raw.storeBytes(of: any, as: sockaddr_in6.self)
                return socklen_t(MemoryLayout<sockaddr_in6>.size)
            }
            var any = sockaddr_in()
            any.sin_family = sa_family_t(AF_INET)
            any.sin_port = port.bigEndian
            raw.storeBytes(of: any, as: sockaddr_in.self)
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let error = SocketError("bind UDP port \(port)")
            Glibc.close(fd)
            throw error
        }
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        self.localPort = withUnsafeBytes(of: &actual) { TransportAddress(sockaddr: $0.baseAddress!)?.port } ?? port
        self.descriptor = fd
        self.isIPv6 = ipv6
    }

    public func close() {
        Glibc.close(descriptor)
    }

    /// Receives up to `batch.capacity` datagrams without blocking; returns how many arrived
    /// (0 when none were waiting).
    public func receive(into batch: ReceiveBatch) -> Int {
        receiveBatch(batch, descriptor: descriptor)
    }

    /// Sends every datagram queued in `batch`, then empties it. Datagrams the kernel refuses
    /// (buffer full, unreachable) are dropped, as UDP allows; returns how many were refused.
    @discardableResult
    public func send(_ batch: SendBatch) -> Int {
        sendBatch(batch, descriptor: descriptor)
    }

    /// Sends one datagram at once, from any thread (control traffic outside the batch loop).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, to address: TransportAddress) -> Bool {
        sendDatagram(bytes, descriptor: descriptor, ipv6Socket: isIPv6, to: address)
    }

    public func send(_ bytes: [UInt8], to address: TransportAddress) -> Bool {
        bytes.withUnsafeBytes { send($0, to: address) }
    }
}

/// Receives up to `batch.capacity` datagrams from the UDP socket `descriptor` without blocking;
/// returns how many arrived (0 when none were waiting).
public func receiveBatch(_ batch: ReceiveBatch, descriptor: Int32) -> Int {
    batch.prepareForReceive()
    let count = confab_recvmmsg(descriptor, batch.headers, UInt32(batch.capacity), Int32(MSG_DONTWAIT))
    batch.count = max(0, Int(count))
    return batch.count
}

/// Sends every datagram queued in `batch` on the UDP socket `descriptor` (any thread), then empties it.
/// Datagrams the kernel refuses are dropped, as UDP allows; returns how many were refused.
@discardableResult
public func sendBatch(_ batch: SendBatch, descriptor: Int32) -> Int {
    let refused = sendMessages(batch.headers, 0..<batch.count, descriptor: descriptor)
    batch.reset()
    return refused
}

/// `sendmmsg` of `headers[range]` on `descriptor` until all went or were refused: a datagram the
/// kernel refuses at the head (buffer full, unreachable) is skipped and counted, the rest go on.
func sendMessages(_ headers: UnsafeMutablePointer<confab_mmsghdr>, _ range: Range<Int>, descriptor: Int32) -> Int {
    var sent = range.lowerBound
    var refused = 0
    while sent < range.upperBound {
        let result = confab_sendmmsg(descriptor, headers + sent, UInt32(range.upperBound - sent), 0)
        if result > 0 {
            sent += Int(result)
        } else if errno == EINTR {
            continue
        } else {
            refused += 1
            sent += 1
        }
    }
    return refused
}

/// Sends one datagram on the UDP socket `descriptor` at once, from any thread.
@discardableResult
public func sendDatagram(_ bytes: UnsafeRawBufferPointer, descriptor: Int32, ipv6Socket: Bool,
                         to address: TransportAddress) -> Bool {
    var storage = sockaddr_storage()
    let length = withUnsafeMutableBytes(of: &storage) { address.write(to: $0.baseAddress!, ipv6Socket: ipv6Socket) }
    let result = withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, length)
        }
    }
    return result == bytes.count
}
