import Net

/// What the TURN server needs to know, already validated (the executable builds it from `Settings`).
public struct TURNConfiguration: Sendable {
    /// REALM sent in 401/438 answers and mixed into the long-term key.
    public var realm: String
    /// Long-term users: name → password.
    public var users: [String: String]
    /// Shared secret of the TURN REST API scheme; empty = REST credentials are refused.
    public var restSecret: String
    /// Seconds: the lifetime an allocation gets when the client asks for less or nothing, and the most it may get.
    public var defaultLifetime: UInt32 = 600
    public var maxLifetime: UInt32 = 3600
    /// Seconds a permission and a channel binding last (RFC 8656 §9, §12).
    public var permissionLifetime: Double = 300
    public var channelLifetime: Double = 600
    /// Channel numbers ChannelBind accepts (400 outside). RFC 8656 §12 narrowed the range to 0x4000–0x4FFF,
    /// but RFC 5766 clients — coturn's own `turnutils_uclient` among them — pick from 0x4000–0x7FFF, and
    /// coturn accepts those; on a port that carries only STUN and ChannelData the wider range is unambiguous.
    public var channelNumbers: ClosedRange<UInt16> = 0x4000...0x7FFF
    /// Seconds a NONCE stays valid; after that requests get 438 Stale Nonce with a fresh one.
    public var nonceLifetime: Double = 600
    /// Allocations one user may hold at once (486 beyond); 0 = no limit.
    public var userQuota: Int = 12
    /// Allocations in total (486 beyond); 0 = no limit.
    public var maxAllocations: Int = 0
    /// Ports relay sockets are bound from.
    public var relayPorts: ClosedRange<UInt16> = 49152...49999
    /// The address relay sockets bind to and XOR-RELAYED-ADDRESS announces, per family; nil = that family is
    /// not offered (440 Address Family not Supported).
    public var relayIPv4: TransportAddress?
    public var relayIPv6: TransportAddress?
    /// Which peers relays may reach.
    public var peerPolicy: PeerPolicy

    public init(realm: String, users: [String: String] = [:], restSecret: String = "",
                relayIPv4: TransportAddress? = TransportAddress(ip: "127.0.0.1", port: 0),
                relayIPv6: TransportAddress? = nil, peerPolicy: PeerPolicy = PeerPolicy()) {
        self.realm = realm
        self.users = users
        self.restSecret = restSecret
        self.relayIPv4 = relayIPv4
        self.relayIPv6 = relayIPv6
        self.peerPolicy = peerPolicy
    }
}

/// An address prefix such as `10.0.0.0/8` or `fe80::/10`; IPv4 is kept IPv4-mapped like `TransportAddress`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64
    /// Prefix length over the 128-bit (mapped) form.
    public let bits: Int
    public let text: String

    /// `"10.0.0.0/8"`, `"::1"`, `"192.0.2.1"` (no prefix = a single address).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), let address = TransportAddress(ip: parts[0], port: 0) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value) else { return nil }
            length = value
        }
        bits = address.isIPv4 ? 96 + length : length
        let (maskHigh, maskLow) = Self.mask(bits)
        high = address.high & maskHigh
        low = address.low & maskLow
        self.text = text
    }

    public func contains(_ address: TransportAddress) -> Bool {
        let (maskHigh, maskLow) = Self.mask(bits)
        return address.high & maskHigh == high && address.low & maskLow == low
    }

    public var description: String { text }

    static func mask(_ bits: Int) -> (UInt64, UInt64) {
        let high: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : ~UInt64(0) << (64 - bits))
        let low: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? .max : ~UInt64(0) << (128 - bits))
        return (high, low)
    }
}

/// Which peers a relay may talk to. Safe by default: the unspecified, loopback, link-local and multicast
/// ranges are refused (403), plus whatever `deny` lists — except Confab's own media endpoints (the SFU),
/// which are always reachable. IPv4-mapped IPv6 peers are judged as the IPv4 address they carry.
public struct PeerPolicy: Sendable {
    /// Ranges refused whatever the settings say (but see `allowLoopback` and `ownEndpoints`).
    public static let builtInDenied: [CIDR] = [
        "0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32",
        "::/128", "::1/128", "fe80::/10", "ff00::/8",
    ].compactMap { CIDR($0) }
    static let loopback: [CIDR] = ["127.0.0.0/8", "::1/128"].compactMap { CIDR($0) }

    /// `turn.deny_peers`.
    public var deny: [CIDR]
    /// `turn.allow_loopback_peers`: tests relay to peers on 127.0.0.1.
    public var allowLoopback: Bool
    /// The SFU's media sockets (address and port), reachable even on loopback.
    public var ownEndpoints: Set<TransportAddress>

    public init(deny: [CIDR] = [], allowLoopback: Bool = false, ownEndpoints: Set<TransportAddress> = []) {
        self.deny = deny
        self.allowLoopback = allowLoopback
        self.ownEndpoints = ownEndpoints
    }

    /// May a relay exchange packets with this peer (address and port)?
    public func allows(_ peer: TransportAddress) -> Bool {
        if ownEndpoints.contains(peer) { return true }
        return allowsAddress(peer)
    }

    /// May a permission be installed for this peer's IP? True when some port of it is reachable
    /// (the own endpoints' IPs count; the port is checked again per packet by `allows`).
    public func allowsPermission(_ peer: TransportAddress) -> Bool {
        if ownEndpoints.contains(where: { $0.high == peer.high && $0.low == peer.low }) { return true }
        return allowsAddress(peer)
    }

    private func allowsAddress(_ peer: TransportAddress) -> Bool {
        if deny.contains(where: { $0.contains(peer) }) { return false }
        if allowLoopback, Self.loopback.contains(where: { $0.contains(peer) }) { return true }
        return !Self.builtInDenied.contains { $0.contains(peer) }
    }
}
