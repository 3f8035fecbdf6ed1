// An IP address and UDP port as a small value: two words and a port, so the media loop can
// hash it and compare it per packet without allocating or formatting strings.
//
// IPv4 is kept as an IPv4-mapped IPv6 address (::ffff:a.b.c.d), the form a dual-stack socket
// reports, so one key type covers both families.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct TransportAddress: Hashable, Sendable, CustomStringConvertible {
    /// The first and last 8 bytes of the (possibly IPv4-mapped) IPv6 address, in network order.
    public let high: UInt64
    public let low: UInt64
    public let port: UInt16

    public init(high: UInt64, low: UInt64, port: UInt16) {
        self.high = high
        self.low = low
        self.port = port
    }

    /// From 4 (IPv4) or 16 (IPv6) address bytes in network order.
    public init?(bytes: some Collection<UInt8>, port: UInt16) {
        let array = Array(bytes)
        switch array.count {
        case 4:
            self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(Self.word(array, 0, 4)), port: port)
        case 16:
            self.init(high: Self.word(array, 0, 8), low: Self.word(array, 8, 8), port: port)
        default:
            return nil
        }
    }

    /// Parses a numeric IPv4 or IPv6 address ("127.0.0.1", "::1"); no name lookups.
    public init?(ip: String, port: UInt16) {
        var v4 = in_addr()
        if inet_pton(AF_INET, ip, &v4) == 1 {
            let bytes = withUnsafeBytes(of: v4) { Array($0) }
            self.init(bytes: bytes, port: port)
            return
        }
        var v6 = in6_addr()
        let bare = ip.hasPrefix("[") && ip.hasSuffix("]") ? String(ip.dropFirst().dropLast()) : ip
        guard inet_pton(AF_INET6, bare, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        self.init(bytes: bytes, port: port)
    }

    /// Reads a `sockaddr_in` or `sockaddr_in6`; nil for any other family.
    public init?(sockaddr storage: UnsafeRawPointer) {
        let family = storage.load(as: sockaddr.self).sa_family
        switch Int32(family) {
        case AF_INET:
            let v4 = storage.load(as: sockaddr_in.self)
            let raw = UInt32(bigEndian: v4.sin_addr.s_addr)
            self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(raw), port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = storage.load(as: sockaddr_in6.self)
            let (high, low) = withUnsafeBytes(of: v6.sin6_addr) { raw in
                (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            self.init(high: high, low: low, port: UInt16(bigEndian: v6.sin6_port))
        default:
            return nil
        }
    }

    public var isIPv4: Bool { high == 0 && low >> 32 == 0x0000_FFFF }
    public var isLoopback: Bool {
        isIPv4 ? (low >> 24) & 0xFF == 127 : (high == 0 && low == 1)
    }
    public var isLinkLocal: Bool {
        isIPv4 ? (low >> 16) & 0xFFFF == 0xA9FE : (high >> 54) == (0xFE80 >> 6)
    }

    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public var addressBytes: [UInt8] {
        if isIPv4 { return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt64($0))) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    /// The same address with another port.
    public func with(port: UInt16) -> TransportAddress { TransportAddress(high: high, low: low, port: port) }

    /// Numeric form without the port: "127.0.0.1", "::1".
    public var ip: String {
        var bytes = addressBytes
        let family = isIPv4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, &bytes, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { isIPv4 ? "\(ip):\(port)" : "[\(ip)]:\(port)" }

    /// Writes this address as a `sockaddr_in6` (IPv4 as mapped) for a dual-stack IPv6 socket,
    /// or as a `sockaddr_in` for an IPv4 socket. Returns the length to pass to the kernel.
    public func write(to storage: UnsafeMutableRawPointer, ipv6Socket: Bool) -> socklen_t {
        if ipv6Socket {
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &v6.sin6_addr) { raw in
                raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            storage.storeBytes(of: v6, as: sockaddr_in6.self)
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        var v4 = sockaddr_in()
        v4.sin_family = sa_family_t(AF_INET)
        v4.sin_port = port.bigEndian
        v4.sin_addr.s_addr = UInt32(truncatingIfNeeded: low).bigEndian
        storage.storeBytes(of: v4, as: sockaddr_in.self)
        return socklen_t(MemoryLayout<sockaddr_in>.size)
    }

    private static func word(_ bytes: [UInt8], _ start: Int, _ count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in start..<(start + count) { value = value << 8 | UInt64(bytes[index]) }
        return value
    }
}
