// Which local addresses Confab announces as host candidates on the shared media port.
//
// Rules, in order: interfaces that are down, IPv6 link-local addresses (they need a scope id
// browsers cannot use) and, unless IPv6 is enabled, IPv6 addresses are skipped; an address
// matching `ignore` (interface name prefix or exact address) is skipped; when `allow` is not
// empty only matching addresses stay. Loopback is announced when `allow` names it, or when it
// is all the machine has (a test namespace, a sandbox), so a bare `confab` always answers
// on 127.0.0.1 there. A 1:1 NAT address replaces the private ones, or joins them.

import Net

public struct HostCandidatePolicy: Sendable, Equatable {
    public var allow: [String]
    public var ignore: [String]
    public var ipv6: Bool
    /// Public address announced instead of (or beside, with `keepPrivate`) the local ones.
    public var publicAddress: TransportAddress?
    public var keepPrivate: Bool

    public init(allow: [String] = [], ignore: [String] = [], ipv6: Bool = true,
                publicAddress: TransportAddress? = nil, keepPrivate: Bool = false) {
        self.allow = allow
        self.ignore = ignore
        self.ipv6 = ipv6
        self.publicAddress = publicAddress
        self.keepPrivate = keepPrivate
    }

    /// The addresses to announce (port 0; the caller adds the media port), most preferred first.
    public func select(from interfaces: [InterfaceAddress]) -> [TransportAddress] {
        let usable = interfaces.filter { entry in
            entry.isUp && !entry.address.isLinkLocal && (ipv6 || entry.address.isIPv4)
                && !ignore.contains { Self.matches($0, entry) }
                && (allow.isEmpty || allow.contains { Self.matches($0, entry) })
        }
        let explicitLoopback = allow.contains { rule in usable.contains { $0.address.isLoopback && Self.matches(rule, $0) } }
        let external = usable.filter { !$0.address.isLoopback }
        var chosen = external.isEmpty || explicitLoopback ? usable : external
        // IPv4 first: it is what most peers reach, and browsers pair IPv4 with IPv4 sooner.
        chosen.sort { $0.address.isIPv4 && !$1.address.isIPv4 }
        var addresses = Self.unique(chosen.map { $0.address.with(port: 0) })
        if let publicAddress {
            let mapped = publicAddress.with(port: 0)
            addresses = keepPrivate ? Self.unique([mapped] + addresses) : [mapped]
        }
        return addresses
    }

    /// A rule names an interface (exact name or name prefix such as "docker") or an address.
    static func matches(_ rule: String, _ entry: InterfaceAddress) -> Bool {
        if let address = TransportAddress(ip: rule, port: 0) { return address == entry.address.with(port: 0) }
        return entry.name == rule || entry.name.hasPrefix(rule)
    }

    private static func unique(_ addresses: [TransportAddress]) -> [TransportAddress] {
        var seen = Set<TransportAddress>()
        return addresses.filter { seen.insert($0).inserted }
    }
}

/// An SDP `a=candidate` value for a host candidate on the shared port (RFC 8839 §5.1).
public struct HostCandidate: Sendable, Hashable {
    public let address: TransportAddress
    public let foundation: String
    public let priority: UInt32

    /// `index` orders the candidates: the first one gets the highest local preference.
    public init(address: TransportAddress, index: Int) {
        self.address = address
        foundation = String(index + 1)
        // RFC 8445 §5.1.2.1: type preference 126 (host), local preference, component 1.
        let localPreference = UInt32(max(0, 65535 - index))
        priority = (126 << 24) | (localPreference << 8) | (256 - 1)
    }

    /// `1 1 udp 2130706431 127.0.0.1 10000 typ host`
    public var sdpValue: String {
        "\(foundation) 1 udp \(priority) \(address.ip) \(address.port) typ host"
    }
}
