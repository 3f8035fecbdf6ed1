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
    /// Answers to unauthenticated UDP requests per second per client IP, after a burst of
    /// `unauthenticatedBurst`; more are dropped and counted. 0 = no limit. TCP is not limited: its
    /// handshake proves the address, so it cannot reflect traffic at a spoofed one.
    public var unauthenticatedRate: Double = 0
    public var unauthenticatedBurst: Double = 0
    /// Relayed payload per allocation and direction, bits per second; more is dropped and counted. 0 = no cap.
    public var maxBitsPerSecond: Int = 0
    /// Ports relay sockets are bound from.
    public var relayPorts: ClosedRange<UInt16> = 49152...49999
    /// The address relay sockets bind to and XOR-RELAYED-ADDRESS announces, per family; nil = that family is
    /// not offered (440 Address Family not Supported).
    public var relayIPv4: TransportAddress?
    public var relayIPv6: TransportAddress?
    /// Behind 1:1 NAT: the address XOR-RELAYED-ADDRESS announces instead of the bound one (same port), per family.
    public var externalIPv4: TransportAddress?
    public var externalIPv6: TransportAddress?
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

/// Which peers a relay may talk to. Safe by default: only Confab's own media endpoints (the SFU, address
/// and port) — a TURN server beside an SFU has no business relaying anywhere else. `allow`
/// (`turn.allow_peers`) widens that to the ranges it lists; even then the special-purpose ranges in
/// `builtInDenied` (unspecified, loopback, private, CGNAT, link-local with cloud metadata, multicast,
/// reserved) stay refused unless an entry inside them is listed (`127.0.0.0/8` opens loopback,
/// `0.0.0.0/0` does not). `deny` refuses more and wins over `allow`. IPv4 carried inside IPv6 (IPv4-mapped,
/// IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged as that IPv4 address too, so those forms
/// cannot bypass a denial. Refusals are 403 on CreatePermission and ChannelBind, and dropped sends.
public struct PeerPolicy: Sendable {
    /// Refused unless `turn.allow_peers` lists them (or part of them) explicitly.
    public static let builtInDenied: [CIDR] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ].compactMap { CIDR($0) }

    /// `turn.allow_peers`: the peers relays may reach besides Confab's own endpoints (tests allow 127.0.0.0/8
    /// and ::1/128). Empty = only Confab's own endpoints.
    public var allow: [CIDR]
    /// `turn.deny_peers`: ranges refused on top of the built-in ones, even when `allow` lists them.
    public var deny: [CIDR]
    /// The SFU's media sockets (address and port), reachable whatever the lists say.
    public var ownEndpoints: Set<TransportAddress>
    /// Full ICE (`media.ice_mode = "full"`): libnice's sockets use `media.rtp_port_range` on the same
    /// addresses, so any of those ports on an own endpoint's address is Confab too.
    public var ownPortRange: ClosedRange<UInt16>?

    public init(allow: [CIDR] = [], deny: [CIDR] = [], ownEndpoints: Set<TransportAddress> = [],
                ownPortRange: ClosedRange<UInt16>? = nil) {
        self.allow = allow
        self.deny = deny
        self.ownEndpoints = ownEndpoints
        self.ownPortRange = ownPortRange
    }

    /// May a relay exchange packets with this peer (address and port)?
    public func allows(_ peer: TransportAddress) -> Bool {
        isOwn(peer) || allowsAddress(peer)
    }

    /// Does the policy allow this peer's IP on every port (the lists allow it; Confab's own addresses,
    /// reachable only on their media ports, do not count)? Decided once per permission.
    public func allowsAnyPort(_ peer: TransportAddress) -> Bool {
        allowsAddress(peer)
    }

    /// Is `peer` one of Confab's own media sockets?
    public func isOwn(_ peer: TransportAddress) -> Bool {
        if ownEndpoints.contains(peer) { return true }
        guard let ownPortRange, ownPortRange.contains(peer.port) else { return false }
        return ownEndpoints.contains { $0.high == peer.high && $0.low == peer.low }
    }

    /// May a permission be installed for this peer's IP? True when some port of it is reachable
    /// (the own endpoints' IPs count; the port is checked again per packet by `allows`).
    public func allowsPermission(_ peer: TransportAddress) -> Bool {
        if ownEndpoints.contains(where: { $0.high == peer.high && $0.low == peer.low }) { return true }
        return allowsAddress(peer)
    }

    /// Every form of the address must pass: itself and the IPv4 address it carries, if any.
    /// An IPv6 form carrying IPv4 (NAT64, 6to4, ...) reaches that IPv4 host: it is allowed when the IPv4
    /// address is, unless the IPv6 form itself is denied.
    private func allowsAddress(_ peer: TransportAddress) -> Bool {
        guard let carried = Self.embeddedIPv4(peer) else { return allowsForm(peer) }
        return allowsForm(carried) && !refusesForm(peer)
    }

    private func allowsForm(_ address: TransportAddress) -> Bool {
        !refusesForm(address) && allow.contains { $0.contains(address) }
    }

    /// Denied outright: listed in `deny`, or in a special-purpose range that `allow` does not list
    /// (an entry at least as narrow as that range is needed; a catch-all like 0.0.0.0/0 is not enough).
    private func refusesForm(_ address: TransportAddress) -> Bool {
        if deny.contains(where: { $0.contains(address) }) { return true }
        guard let special = Self.builtInDenied.first(where: { $0.contains(address) }) else { return false }
        return !allow.contains { $0.contains(address) && $0.bits >= special.bits }
    }

    /// The IPv4 address inside an IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4
    /// (2002:aabb:ccdd::) IPv6 address; IPv4-mapped addresses already are IPv4 in `TransportAddress`.
    static func embeddedIPv4(_ address: TransportAddress) -> TransportAddress? {
        let carried: UInt32
        if address.isIPv4 {
            return nil
        } else if address.high == 0, address.low >> 32 == 0, address.low > 1 {
            // :: and ::1 are themselves, not IPv4-compatible forms of 0.0.0.0 and 0.0.0.1.
            carried = UInt32(truncatingIfNeeded: address.low)
        } else if address.high == 0x0064_FF9B_0000_0000, address.low >> 32 == 0 {
            carried = UInt32(truncatingIfNeeded: address.low)
        } else if address.high >> 48 == 0x2002 {
            carried = UInt32(truncatingIfNeeded: address.high >> 16)
        } else {
            return nil
        }
        return TransportAddress(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(carried), port: address.port)
    }
}
