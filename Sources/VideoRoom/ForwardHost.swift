// Where an rtp_forward sends: `host` (an IP address or a name) and `host_family`, globally or
// per stream, resolved once when the forwarder is made (Janus 1.x does the same).

#if canImport(Glibc)
import Glibc
#endif
import Net

enum ForwardHost {
    enum Family: String {
        case ipv4, ipv6
    }

    /// `host_family` as given: nil when absent; an unknown name is Janus's 430 error.
    static func family(_ name: String?) throws(VideoRoomError) -> Family? {
        guard let name else { return nil }
        guard let family = Family(rawValue: name) else {
            throw VideoRoomError(.invalidElement, "Unsupported protocol family (\(name))")
        }
        return family
    }

    /// The address `host` stands for (port 0), in `family` when one is given: an IP literal of
    /// the other family, or a name without such an address, cannot be resolved.
    static func resolve(_ host: String, family: Family?) throws(VideoRoomError) -> TransportAddress {
        if let literal = TransportAddress(ip: host, port: 0) {
            if family == nil || (family == .ipv4) == literal.isIPv4 { return literal }
            throw unresolved(host)
        }
        var hints = addrinfo()
        hints.ai_family = switch family {
        case .ipv4: AF_INET
        case .ipv6: AF_INET6
        case nil: AF_UNSPEC
        }
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        // A blocking look-up on the control path (names are rare here; literals skip it).
        guard getaddrinfo(host, nil, &hints, &found) == 0, let found else { throw unresolved(host) }
        defer { freeaddrinfo(found) }
        var entry: UnsafeMutablePointer<addrinfo>? = found
        while let current = entry {
            if let sockaddr = current.pointee.ai_addr, let address = TransportAddress(sockaddr: UnsafeRawPointer(sockaddr)) {
                return address.with(port: 0)
            }
            entry = current.pointee.ai_next
        }
        throw unresolved(host)
    }

    private static func unresolved(_ host: String) -> VideoRoomError {
        VideoRoomError(.invalidElement, "Could not resolve address (\(host))...")
    }
}
