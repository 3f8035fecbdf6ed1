// The machine's interface addresses (getifaddrs), for choosing host candidates.

#if canImport(Glibc)
import Glibc
#endif

public struct InterfaceAddress: Sendable, Hashable {
    public let name: String
    public let address: TransportAddress
    public let isUp: Bool

    public init(name: String, address: TransportAddress, isUp: Bool = true) {
        self.name = name
        self.address = address
        self.isUp = isUp
    }
}

public enum NetworkInterfaces {
    /// Every IPv4 and IPv6 address of every interface, in the kernel's order.
    public static func list() -> [InterfaceAddress] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [] }
        defer { freeifaddrs(head) }
        var result: [InterfaceAddress] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let raw = entry.pointee.ifa_addr,
                  let address = TransportAddress(sockaddr: UnsafeRawPointer(raw)) else { continue }
            let name = String(cString: entry.pointee.ifa_name)
            let up = entry.pointee.ifa_flags & UInt32(IFF_UP) != 0
            result.append(InterfaceAddress(name: name, address: address, isUp: up))
        }
        return result
    }
}
