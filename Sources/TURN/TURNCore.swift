#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import Net
import RelayHandover
import STUN

/// Who sent a packet: the client's address and the listener (UDP) or connection (TCP) it came
/// through — the 5-tuple an allocation belongs to (RFC 8656 §2).
public struct ClientKey: Hashable, Sendable, CustomStringConvertible {
    public let address: TransportAddress
    /// A UDP listener's id, or a TCP connection's id; unique within one server.
    public let connection: Int
    public let isTCP: Bool

    public init(address: TransportAddress, connection: Int, isTCP: Bool) {
        self.address = address
        self.connection = connection
        self.isTCP = isTCP
    }

    public var description: String { "\(isTCP ? "tcp" : "udp"):\(address)" }
}

public typealias RelayID = Int

/// The sockets behind the core: the listeners clients talk to and the relay sockets.
/// Everything is called on one event loop.
public protocol TURNIO: AnyObject {
    func sendToClient(_ data: ByteBuffer, _ client: ClientKey)
    /// A relayed address on `address` (port ignored) with a port from `ports` (even when `evenPort`):
    /// with `bindSocket`, a relay socket bound there; without, the port is only reserved (the relay is
    /// handed to the SFU in process and never reaches another peer). `dontFragment`: the socket sends
    /// with the DF bit set (RFC 8656 §7.2, DONT-FRAGMENT). nil when no port is free.
    func openRelay(address: TransportAddress, ports: ClosedRange<UInt16>, evenPort: Bool,
                   bindSocket: Bool, dontFragment: Bool) -> (id: RelayID, address: TransportAddress)?
    func closeRelay(_ relay: RelayID)
    func sendFromRelay(_ relay: RelayID, to peer: TransportAddress, _ data: ByteBuffer)
    /// The UDP listener socket `client` talks to, for the SFU to send ChannelData from; nil for TCP/TLS.
    func clientSocket(for client: ClientKey) -> ClientSocket?
    /// How a handed-over relay's send side reaches the core for what it cannot send itself
    /// (Data indications, stream clients): on the core's loop, as a packet from `peer` to `relay`.
    func slowPath(relay: RelayID) -> @Sendable ([UInt8], TransportAddress) -> Void
    /// A ChannelData message (channel `number`, `payload`, padded to 4 bytes on streams) to `client`:
    /// the relay's hottest path, so an I/O layer may build it straight into its send batch.
    func sendChannelData(_ number: UInt16, _ payload: ByteBuffer, to client: ClientKey)
}

extension TURNIO {
    public func sendChannelData(_ number: UInt16, _ payload: ByteBuffer, to client: ClientKey) {
        sendToClient(channelDataMessage(number, payload, stream: client.isTCP), client)
    }
}

/// ChannelData framing (RFC 8656 §12.4), with the 4-byte padding streams need (§12.5).
func channelDataMessage(_ number: UInt16, _ payload: ByteBuffer, stream: Bool) -> ByteBuffer {
    let count = payload.readableBytes
    let padding = stream ? (4 - count % 4) % 4 : 0
    var out = ByteBufferAllocator().buffer(capacity: 4 + count + padding)
    out.writeInteger(number)
    out.writeInteger(UInt16(truncatingIfNeeded: count))
    var body = payload
    out.writeBuffer(&body)
    if padding > 0 { out.writeRepeatingByte(0, count: padding) }
    return out
}

/// A permission for one peer IP (RFC 8656 §9).
struct Permission {
    /// Milliseconds on the core's clock.
    var expiry: UInt64
    /// The peer policy allows this IP whatever the port (decided once when the permission is made, so
    /// the per-packet check is a flag; only Confab's own addresses need the port looked at).
    let anyPort: Bool
}

/// One allocation: relayed addresses, permissions and channels of one client 5-tuple.
final class Allocation {
    let client: ClientKey
    let username: String
    var relays: [(id: RelayID, address: TransportAddress)]
    /// Relays handed to the SFU in process (relay id → route); empty when the SFU is elsewhere.
    var routes: [RelayID: RelayRoute] = [:]
    /// Milliseconds on the core's clock.
    var expiry: UInt64
    /// The Allocate that created it, so a retransmission gets the same answer instead of 437.
    let transactionID: [UInt8]
    var response: [UInt8] = []
    /// Peer IP (port 0) → permission.
    var permissions: [TransportAddress: Permission] = [:] { didSet { forgetFlows() } }
    var channels: [UInt16: (peer: TransportAddress, expiry: UInt64)] = [:] { didSet { forgetFlows() } }
    var channelByPeer: [TransportAddress: UInt16] = [:] { didSet { forgetFlows() } }
    /// What the lookups for the last packet each way found, reused while the next one is of the same
    /// flow: a relay mostly talks to one peer over one channel, so steady relaying skips two or three
    /// dictionary lookups per packet. Any change to permissions or channels forgets them; expiries are
    /// still compared per packet.
    private var lastFromPeer: PeerFlow?
    private var lastChannel: (number: UInt16, peer: TransportAddress, expiry: UInt64)?
    var bytesToPeers = 0
    var bytesToClient = 0
    /// `turn.max_bps`, each direction on its own.
    var limitToPeers: BandwidthLimiter
    var limitToClient: BandwidthLimiter

    init(client: ClientKey, username: String, relays: [(id: RelayID, address: TransportAddress)], expiry: UInt64,
         transactionID: [UInt8], maxBitsPerSecond: Int = 0, now: UInt64 = 0) {
        self.client = client
        self.username = username
        self.relays = relays
        self.expiry = expiry
        self.transactionID = transactionID
        limitToPeers = BandwidthLimiter(bitsPerSecond: maxBitsPerSecond, now: now)
        limitToClient = BandwidthLimiter(bitsPerSecond: maxBitsPerSecond, now: now)
    }

    func relay(for peer: TransportAddress) -> RelayID? {
        relays.first { $0.address.isIPv4 == peer.isIPv4 }?.id
    }

    /// The permission for packets from `peer`, and the channel bound to it; nil without a permission.
    func flow(from peer: TransportAddress) -> PeerFlow? {
        if let last = lastFromPeer, last.peer == peer { return last }
        guard let permission = permissions[peer.with(port: 0)] else { return nil }
        var flow = PeerFlow(peer: peer, permission: permission)
        if let number = channelByPeer[peer], let channel = channels[number] {
            flow.channel = number
            flow.channelExpiry = channel.expiry
        }
        lastFromPeer = flow
        return flow
    }

    /// The peer channel `number` is bound to, and until when.
    func binding(ofChannel number: UInt16) -> (peer: TransportAddress, expiry: UInt64)? {
        if let last = lastChannel, last.number == number { return (last.peer, last.expiry) }
        guard let channel = channels[number] else { return nil }
        lastChannel = (number, channel.peer, channel.expiry)
        return channel
    }

    private func forgetFlows() {
        lastFromPeer = nil
        lastChannel = nil
    }
}

/// Packets from one peer: its permission, and the channel bound to it (nil: Data indications).
struct PeerFlow {
    let peer: TransportAddress
    let permission: Permission
    var channel: UInt16?
    var channelExpiry: UInt64 = 0
}

/// The TURN server's logic (RFC 8656 over RFC 8489), without sockets: packets in, `TURNIO` calls out.
/// Not thread-safe; the server runs it on one event loop.
public final class TURNCore {
    public let configuration: TURNConfiguration
    public let counters: TURNCounters
    public var io: (any TURNIO)?
    let logger: Logger
    /// Monotonic milliseconds (expiry, nonces) and Unix seconds (REST credential expiry).
    let clock: () -> UInt64
    let wallClock: () -> Double
    let nonces: NonceIssuer
    var allocations: [ClientKey: Allocation] = [:]
    var byRelay: [RelayID: Allocation] = [:]
    var perUser: [String: Int] = [:]
    var unauthenticatedLimit: RateLimiter
    let allocator = ByteBufferAllocator()
    /// Confab's SFU in this process: relays to its media port are handed over without a socket.
    public var handover: RelayHandover?

    public init(configuration: TURNConfiguration, counters: TURNCounters = TURNCounters(), logger: Logger,
                clock: @escaping () -> UInt64 = { MonotonicClock.coarseMilliseconds() },
                wallClock: @escaping () -> Double = { Date().timeIntervalSince1970 }) {
        self.configuration = configuration
        self.counters = counters
        self.logger = logger
        self.clock = clock
        self.wallClock = wallClock
        nonces = NonceIssuer(lifetime: configuration.nonceLifetime)
        unauthenticatedLimit = RateLimiter(rate: configuration.unauthenticatedRate,
                                           burst: configuration.unauthenticatedBurst)
    }

    public var allocationCount: Int { allocations.count }

    // MARK: - Input from clients

    /// One datagram (UDP) or one framed message (TCP) from a client.
    public func handleClientPacket(_ buffer: ByteBuffer, from client: ClientKey) {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return malformed() }
        switch first & 0xC0 {
        case 0x40: handleChannelData(buffer, from: client)
        case 0x00: handleSTUN(buffer, from: client)
        default: malformed()
        }
    }

    private func malformed() { counters.bump(counters.malformedDropped) }
    private func unroutable() { counters.bump(counters.unroutableDropped) }

    private func handleSTUN(_ buffer: ByteBuffer, from client: ClientKey) {
        guard let bytes = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) else { return malformed() }
        if ClassicSTUNBinding.isClassic(bytes) { return handleClassicBinding(bytes, from: client) }
        guard let message = try? STUNMessage.parse(bytes) else { return malformed() }
        if message.attribute(STUNAttributeType.fingerprint) != nil, !message.verifyFingerprint() { return malformed() }
        switch message.messageClass {
        case .request: handleRequest(message, from: client)
        case .indication:
            if message.method == .send { handleSend(message, from: client) }
        case .successResponse, .errorResponse:
            unroutable()
        }
    }

    /// An RFC 3489 client (no magic cookie), e.g. libnice discovering its server-reflexive address:
    /// a Binding request gets MAPPED-ADDRESS (RFC 5389 §12.2); anything else without the cookie —
    /// every TURN method included — is dropped as malformed. Rate-limited like any unauthenticated answer.
    private func handleClassicBinding(_ bytes: [UInt8], from client: ClientKey) {
        guard let request = try? ClassicSTUNBinding.parse(bytes) else { return malformed() }
        guard admitUnauthenticated(client) else { return }
        let answer: [UInt8]
        if request.unsupportedAttributes.isEmpty {
            answer = ClassicSTUNBinding.successResponse(transactionID: request.transactionID, mapped: stun(client.address))
        } else {
            answer = ClassicSTUNBinding.unknownAttributesResponse(transactionID: request.transactionID,
                                                                  attributes: request.unsupportedAttributes)
        }
        counters.bump(counters.classicBindings)
        io?.sendToClient(ByteBuffer(bytes: answer), client)
    }

    /// The per-IP budget for answers to unauthenticated UDP requests; false (counted) = drop the answer.
    private func admitUnauthenticated(_ client: ClientKey) -> Bool {
        if client.isTCP || unauthenticatedLimit.admit(client.address, now: clock()) { return true }
        counters.bump(counters.rateLimitedDropped)
        return false
    }

    // MARK: - Requests

    struct Auth {
        let username: String
        let key: [UInt8]
        let sha256: Bool
    }

    private func handleRequest(_ request: STUNMessage, from client: ClientKey) {
        if request.method == .binding {
            if !request.unknownComprehensionRequired.isEmpty {
                return reject(request, 420, to: client, extra: [.unknownAttributes(request.unknownComprehensionRequired)])
            }
            respond(request, [.xorMappedAddress(stun(client.address))], to: client)
            return
        }
        guard [STUNMethod.allocate, .refresh, .createPermission, .channelBind].contains(request.method) else {
            return reject(request, 400, to: client)
        }
        guard let auth = authenticate(request, from: client) else { return }
        if !request.unknownComprehensionRequired.isEmpty {
            return reject(request, 420, to: client, auth: auth,
                          extra: [.unknownAttributes(request.unknownComprehensionRequired)])
        }
        switch request.method {
        case .allocate: allocate(request, from: client, auth: auth)
        case .refresh: refresh(request, from: client, auth: auth)
        case .createPermission: createPermission(request, from: client, auth: auth)
        default: channelBind(request, from: client, auth: auth)
        }
    }

    /// Long-term credentials (RFC 8489 §9.2.4). Sends the error itself and returns nil on failure.
    private func authenticate(_ request: STUNMessage, from client: ClientKey) -> Auth? {
        let sha256 = request.attribute(STUNAttributeType.messageIntegritySHA256) != nil
        guard sha256 || request.attribute(STUNAttributeType.messageIntegrity) != nil else {
            challenge(request, 401, to: client)
            return nil
        }
        guard let username = request.username, let realm = request.realm, let nonce = request.nonce else {
            reject(request, 400, to: client)
            return nil
        }
        guard nonces.check(nonce, now: clock()) == .valid else {
            challenge(request, 438, to: client)
            return nil
        }
        guard realm == configuration.realm, let password = password(for: username) else {
            counters.bump(counters.authFailures)
            challenge(request, 401, to: client)
            return nil
        }
        let key = STUNCredentials.longTermKey(username: username, realm: realm, password: password)
        guard request.verifyIntegrity(key: key) else {
            counters.bump(counters.authFailures)
            challenge(request, 401, to: client)
            return nil
        }
        return Auth(username: username, key: key, sha256: sha256)
    }

    /// A static user's password, or the REST password of an unexpired `expiry:user` name.
    func password(for username: String) -> String? {
        if let password = configuration.users[username] { return password }
        guard !configuration.restSecret.isEmpty, let expiry = TURNRESTCredentials.expiry(of: username),
              Double(expiry) > wallClock() else { return nil }
        return TURNRESTCredentials.password(secret: configuration.restSecret, username: username)
    }

    private func allocate(_ request: STUNMessage, from client: ClientKey, auth: Auth) {
        if let existing = allocations[client] {
            if existing.transactionID == request.transactionID, existing.username == auth.username {
                io?.sendToClient(ByteBuffer(bytes: existing.response), client)
                return
            }
            return reject(request, 437, to: client, auth: auth)
        }
        var transport: UInt8?, evenPort: Bool?, token = false, dontFragment = false
        var requested: STUNAddressFamily?, additional: STUNAddressFamily?, lifetime: UInt32?
        for attribute in request.attributes {
            switch attribute {
            case .requestedTransport(let p): transport = transport ?? p
            case .evenPort(let reserve): evenPort = reserve
            case .reservationToken: token = true
            case .requestedAddressFamily(let f): requested = f
            case .additionalAddressFamily(let f): additional = f
            // The draft code point coturn (and its turnutils_uclient -Z) still sends for ADDITIONAL-ADDRESS-FAMILY.
            case .unknown(type: 0x8032, let value) where value.count == 4:
                additional = STUNAddressFamily(rawValue: value[0]) ?? additional
            case .lifetime(let l): lifetime = l
            case .dontFragment: dontFragment = true
            default: break
            }
        }
        guard let transport else { return reject(request, 400, to: client, auth: auth, reason: "REQUESTED-TRANSPORT missing") }
        guard transport == 17 else { return reject(request, 442, to: client, auth: auth) }
        if token, evenPort != nil || requested != nil || additional != nil {
            return reject(request, 400, to: client, auth: auth, reason: "RESERVATION-TOKEN with EVEN-PORT or an address family")
        }
        // Ports are never reserved, so no token can be valid and the R bit cannot be honoured (RFC 8656 §7.2).
        if token { return reject(request, 508, to: client, auth: auth, reason: "No reserved port for this token") }
        if evenPort == true { return reject(request, 508, to: client, auth: auth, reason: "Port reservation not offered") }
        if requested != nil, additional != nil {
            return reject(request, 400, to: client, auth: auth, reason: "Both REQUESTED- and ADDITIONAL-ADDRESS-FAMILY")
        }
        if additional == .ipv4 { return reject(request, 400, to: client, auth: auth, reason: "ADDITIONAL-ADDRESS-FAMILY must be IPv6") }
        let primary = requested ?? .ipv4
        guard let primaryAddress = relayAddress(primary) else { return reject(request, 440, to: client, auth: auth) }
        let quota = configuration.userQuota
        if quota > 0, perUser[auth.username, default: 0] >= quota {
            return reject(request, 486, to: client, auth: auth)
        }
        if configuration.maxAllocations > 0, allocations.count >= configuration.maxAllocations {
            return reject(request, 486, to: client, auth: auth)
        }
        // With the SFU in process and no other peers allowed, relays need no socket at all.
        let handsOver = handover?.isAttached == true
        let bindSocket = !handsOver || !configuration.peerPolicy.allow.isEmpty
        guard let io, let first = io.openRelay(address: primaryAddress, ports: configuration.relayPorts,
                                                evenPort: evenPort == false, bindSocket: bindSocket,
                                                dontFragment: dontFragment) else {
            return reject(request, 508, to: client, auth: auth)
        }
        var relays = [first]
        var extra: [STUNAttribute] = []
        if additional == .ipv6 {
            if let address = relayAddress(.ipv6),
               let second = io.openRelay(address: address, ports: configuration.relayPorts, evenPort: false,
                                         bindSocket: bindSocket, dontFragment: dontFragment) {
                relays.append(second)
            } else {
                extra.append(.addressErrorCode(family: .ipv6, error: errorCode(relayAddress(.ipv6) == nil ? 440 : 508)))
            }
        }
        let seconds = grantedLifetime(lifetime)
        let now = clock()
        let allocation = Allocation(client: client, username: auth.username, relays: relays,
                                    expiry: now + UInt64(seconds) * 1000, transactionID: request.transactionID,
                                    maxBitsPerSecond: configuration.maxBitsPerSecond, now: now)
        allocations[client] = allocation
        for relay in relays { byRelay[relay.id] = allocation }
        if handsOver, let handover { handOver(allocation, to: handover, io: io) }
        perUser[auth.username, default: 0] += 1
        counters.bump(counters.allocations)
        counters.bump(counters.allocationsStarted)
        let attributes: [STUNAttribute] = relays.map { .xorRelayedAddress(stun(announced($0.address))) }
            + [.lifetime(seconds), .xorMappedAddress(stun(client.address))] + extra
        allocation.response = respond(request, attributes, to: client, auth: auth)
        logger.info("turn: allocation started", metadata: [
            "client": "\(client)", "user": "\(auth.username)",
            "relayed": "\(relays.map { announced($0.address).description }.joined(separator: ","))", "lifetime": "\(seconds)",
            "in_process": "\(handsOver)",
        ])
    }

    /// Registers the allocation's relayed addresses with the SFU's handover table.
    private func handOver(_ allocation: Allocation, to handover: RelayHandover, io: any TURNIO) {
        let socket = io.clientSocket(for: allocation.client)
        for relay in allocation.relays {
            let route = RelayRoute(relayed: relay.address, client: allocation.client.address, clientSocket: socket,
                                   maxBitsPerSecond: configuration.maxBitsPerSecond, slowPath: io.slowPath(relay: relay.id))
            allocation.routes[relay.id] = route
            handover.add(route)
        }
    }

    /// Mirrors into the allocation's routes which of Confab's endpoints it may reach now, and through
    /// which channel: called whenever a permission or channel comes or goes, never per packet.
    private func syncRoutes(_ allocation: Allocation, now: UInt64) {
        guard !allocation.routes.isEmpty else { return }
        for endpoint in configuration.peerPolicy.ownEndpoints {
            let permitted = (allocation.permissions[endpoint.with(port: 0)]?.expiry ?? 0) > now
            let channel = allocation.channelByPeer[endpoint] ?? 0
            for route in allocation.routes.values where route.relayed.isIPv4 == endpoint.isIPv4 {
                route.update(peer: endpoint, permitted: permitted, channel: channel)
            }
        }
    }

    /// What clients are told for a relay bound on `relayed`: the external address behind NAT, same port.
    func announced(_ relayed: TransportAddress) -> TransportAddress {
        let external = relayed.isIPv4 ? configuration.externalIPv4 : configuration.externalIPv6
        return external?.with(port: relayed.port) ?? relayed
    }

    private func relayAddress(_ family: STUNAddressFamily) -> TransportAddress? {
        family == .ipv4 ? configuration.relayIPv4 : configuration.relayIPv6
    }

    /// RFC 8656 §7.2: min(requested, maximum), but never below the default.
    func grantedLifetime(_ requested: UInt32?) -> UInt32 {
        guard let requested else { return configuration.defaultLifetime }
        return max(configuration.defaultLifetime, min(requested, configuration.maxLifetime))
    }

    private func ownAllocation(_ request: STUNMessage, from client: ClientKey, auth: Auth) -> Allocation? {
        guard let allocation = allocations[client] else {
            reject(request, 437, to: client, auth: auth)
            return nil
        }
        guard allocation.username == auth.username else {
            reject(request, 441, to: client, auth: auth)
            return nil
        }
        return allocation
    }

    private func refresh(_ request: STUNMessage, from client: ClientKey, auth: Auth) {
        guard let allocation = ownAllocation(request, from: client, auth: auth) else { return }
        var lifetime: UInt32?
        for attribute in request.attributes {
            switch attribute {
            case .lifetime(let l): lifetime = l
            case .requestedAddressFamily(let family):
                if !allocation.relays.contains(where: { $0.address.isIPv4 == (family == .ipv4) }) {
                    return reject(request, 443, to: client, auth: auth)
                }
            default: break
            }
        }
        if lifetime == 0 {
            remove(allocation, reason: "refresh 0")
            respond(request, [.lifetime(0)], to: client, auth: auth)
            return
        }
        let seconds = grantedLifetime(lifetime)
        allocation.expiry = clock() + UInt64(seconds) * 1000
        respond(request, [.lifetime(seconds)], to: client, auth: auth)
    }

    /// Checks a peer for a permission or channel: its family must have a relay (443) and the policy must allow it (403).
    private func admit(_ peer: TransportAddress, _ allocation: Allocation, request: STUNMessage, client: ClientKey,
                       auth: Auth, port: Bool) -> Bool {
        guard allocation.relay(for: peer) != nil else {
            reject(request, 443, to: client, auth: auth)
            return false
        }
        let policy = configuration.peerPolicy
        guard port ? policy.allows(peer) : policy.allowsPermission(peer) else {
            counters.bump(counters.deniedPeers)
            logger.debug("turn: peer refused", metadata: ["client": "\(client)", "peer": "\(peer)"])
            reject(request, 403, to: client, auth: auth)
            return false
        }
        return true
    }

    private func createPermission(_ request: STUNMessage, from client: ClientKey, auth: Auth) {
        guard let allocation = ownAllocation(request, from: client, auth: auth) else { return }
        var peers: [TransportAddress] = []
        for case .xorPeerAddress(let peer) in request.attributes {
            guard let address = transport(peer) else { return reject(request, 400, to: client, auth: auth) }
            peers.append(address)
        }
        guard !peers.isEmpty else { return reject(request, 400, to: client, auth: auth, reason: "XOR-PEER-ADDRESS missing") }
        for peer in peers {
            guard admit(peer, allocation, request: request, client: client, auth: auth, port: false) else { return }
        }
        for peer in peers { permit(peer, allocation) }
        syncRoutes(allocation, now: clock())
        respond(request, [], to: client, auth: auth)
    }

    private func permit(_ peer: TransportAddress, _ allocation: Allocation) {
        let key = peer.with(port: 0)
        let permission = Permission(expiry: clock() + UInt64(configuration.permissionLifetime * 1000),
                                    anyPort: configuration.peerPolicy.allowsAnyPort(key))
        if allocation.permissions.updateValue(permission, forKey: key) == nil {
            counters.bump(counters.permissions)
        }
    }

    private func channelBind(_ request: STUNMessage, from client: ClientKey, auth: Auth) {
        guard let allocation = ownAllocation(request, from: client, auth: auth) else { return }
        var number: UInt16?
        var peers: [STUNAddress] = []
        for attribute in request.attributes {
            switch attribute {
            case .channelNumber(let n): number = number ?? n
            case .xorPeerAddress(let p): peers.append(p)
            default: break
            }
        }
        guard let number, peers.count == 1, let peer = transport(peers[0]) else {
            return reject(request, 400, to: client, auth: auth, reason: "CHANNEL-NUMBER and one XOR-PEER-ADDRESS needed")
        }
        guard configuration.channelNumbers.contains(number) else {
            return reject(request, 400, to: client, auth: auth, reason: "Channel number out of range")
        }
        guard admit(peer, allocation, request: request, client: client, auth: auth, port: true) else { return }
        if let bound = allocation.channels[number], bound.peer != peer {
            return reject(request, 400, to: client, auth: auth, reason: "Channel bound to another peer")
        }
        if let other = allocation.channelByPeer[peer], other != number {
            return reject(request, 400, to: client, auth: auth, reason: "Peer bound to another channel")
        }
        if allocation.channels[number] == nil { counters.bump(counters.channels) }
        allocation.channels[number] = (peer, clock() + UInt64(configuration.channelLifetime * 1000))
        allocation.channelByPeer[peer] = number
        permit(peer, allocation)
        syncRoutes(allocation, now: clock())
        respond(request, [], to: client, auth: auth)
    }

    // MARK: - Data

    private func handleSend(_ indication: STUNMessage, from client: ClientKey) {
        guard let allocation = allocations[client] else { return unroutable() }
        var peer: TransportAddress?
        var data: [UInt8]?
        for attribute in indication.attributes {
            switch attribute {
            case .xorPeerAddress(let p): peer = peer ?? transport(p)
            case .data(let d): data = data ?? d
            default: break
            }
        }
        guard let peer, let data else { return unroutable() }
        let now = clock()
        guard let permission = allocation.permissions[peer.with(port: 0)], permission.expiry > now else {
            return unroutable()
        }
        guard configuration.peerPolicy.allows(peer) else { return counters.bump(counters.deniedPeers) }
        guard let relay = allocation.relay(for: peer) else { return unroutable() }
        relayToPeer(ByteBuffer(bytes: data), relay: relay, peer: peer, allocation, now: now)
    }

    private func handleChannelData(_ buffer: ByteBuffer, from client: ClientKey) {
        let start = buffer.readerIndex
        guard let number = buffer.getInteger(at: start, as: UInt16.self),
              let length = buffer.getInteger(at: start + 2, as: UInt16.self),
              Int(length) + 4 <= buffer.readableBytes,
              let payload = buffer.getSlice(at: start + 4, length: Int(length)) else { return malformed() }
        let now = clock()
        guard let allocation = allocations[client], let channel = allocation.binding(ofChannel: number),
              channel.expiry > now, let relay = allocation.relay(for: channel.peer) else { return unroutable() }
        relayToPeer(payload, relay: relay, peer: channel.peer, allocation, now: now)
    }

    private func relayToPeer(_ payload: ByteBuffer, relay: RelayID, peer: TransportAddress, _ allocation: Allocation,
                             now: UInt64) {
        let count = payload.readableBytes
        guard allocation.limitToPeers.admit(count, now: now) else { return counters.bump(counters.bandwidthDropped) }
        allocation.bytesToPeers += count
        counters.bump(counters.bytesToPeers, by: count)
        counters.bump(counters.packetsToPeers)
        if let route = allocation.routes[relay], let handover, configuration.peerPolicy.ownEndpoints.contains(peer) {
            // To Confab's own media port: straight into the SFU, as if from the relayed address.
            route.noteSent(to: peer)
            payload.withUnsafeReadableBytes { _ = handover.deliver($0, from: route.relayed) }
            return
        }
        io?.sendFromRelay(relay, to: peer, payload)
    }

    /// A datagram a relay socket received from `peer`.
    public func handlePeerPacket(_ payload: ByteBuffer, relay: RelayID, from peer: TransportAddress) {
        guard let allocation = byRelay[relay] else { return unroutable() }
        let now = clock()
        guard let flow = allocation.flow(from: peer), flow.permission.expiry > now,
              flow.permission.anyPort || configuration.peerPolicy.allows(peer) else { return unroutable() }
        let count = payload.readableBytes
        guard allocation.limitToClient.admit(count, now: now) else { return counters.bump(counters.bandwidthDropped) }
        let client = allocation.client
        let channelNumber = flow.channelExpiry > now ? flow.channel : nil
        // A Data indication must fit its 16-bit length with the XOR-PEER-ADDRESS beside the data.
        guard channelNumber != nil || count <= 0xFFF0 else { return unroutable() }
        allocation.bytesToClient += count
        counters.bump(counters.bytesToClients, by: count)
        counters.bump(counters.packetsToClients)
        if let channelNumber {
            io?.sendChannelData(channelNumber, payload, to: client)
            return
        }
        let message = STUNMessage(method: .data, class: .indication, transactionID: STUNMessage.randomTransactionID(),
                                  attributes: [.xorPeerAddress(stun(peer)),
                                               .data(payload.getBytes(at: payload.readerIndex, length: count) ?? [])])
        io?.sendToClient(ByteBuffer(bytes: message.encoded()), client)
    }

    // MARK: - Lifetimes

    /// Drops expired allocations, permissions and channels; the server calls it every second.
    public func expire() {
        let now = clock()
        unauthenticatedLimit.prune(now: now)
        // Runs every second over every allocation: nothing is built unless something is due, so a
        // server holding thousands of healthy allocations pays a scan, not thousands of arrays.
        var expired: [Allocation] = []
        for allocation in allocations.values {
            if allocation.expiry <= now {
                expired.append(allocation)
                continue
            }
            let permissionsDue = allocation.permissions.values.contains { $0.expiry <= now }
            let channelsDue = allocation.channels.values.contains { $0.expiry <= now }
            if permissionsDue || channelsDue { dropStale(allocation, now: now) }
        }
        for allocation in expired { remove(allocation, reason: "expired") }
    }

    private func dropStale(_ allocation: Allocation, now: UInt64) {
        let before = (permissions: allocation.permissions.count, channels: allocation.channels.count)
        allocation.permissions = allocation.permissions.filter { $0.value.expiry > now }
        for (number, channel) in allocation.channels where channel.expiry <= now {
            allocation.channels[number] = nil
            allocation.channelByPeer[channel.peer] = nil
        }
        counters.bump(counters.permissions, by: allocation.permissions.count - before.permissions)
        counters.bump(counters.channels, by: allocation.channels.count - before.channels)
        syncRoutes(allocation, now: now)
    }

    /// A TCP client connection closed: its allocations go with it (RFC 8656 §3.1).
    public func connectionClosed(_ connection: Int) {
        for allocation in allocations.values where allocation.client.connection == connection {
            remove(allocation, reason: "connection closed")
        }
    }

    /// Ends every allocation (shutdown).
    public func removeAll() {
        for allocation in Array(allocations.values) { remove(allocation, reason: "shutdown") }
    }

    private func remove(_ allocation: Allocation, reason: String) {
        guard allocations.removeValue(forKey: allocation.client) != nil else { return }
        for relay in allocation.relays {
            byRelay[relay.id] = nil
            io?.closeRelay(relay.id)
        }
        for route in allocation.routes.values {
            handover?.remove(route.relayed)
            allocation.bytesToClient += route.bytesToClient
        }
        let remaining = perUser[allocation.username, default: 1] - 1
        perUser[allocation.username] = remaining > 0 ? remaining : nil
        counters.bump(counters.allocations, by: -1)
        counters.bump(counters.permissions, by: -allocation.permissions.count)
        counters.bump(counters.channels, by: -allocation.channels.count)
        logger.info("turn: allocation ended", metadata: [
            "client": "\(allocation.client)", "user": "\(allocation.username)", "reason": "\(reason)",
            "bytes_to_peers": "\(allocation.bytesToPeers)", "bytes_to_client": "\(allocation.bytesToClient)",
        ])
    }

    // MARK: - Answers

    @discardableResult
    private func respond(_ request: STUNMessage, _ attributes: [STUNAttribute], to client: ClientKey,
                         auth: Auth? = nil) -> [UInt8] {
        send(request, .successResponse, attributes, to: client, auth: auth)
    }

    /// An error answer; integrity-protected once the request authenticated.
    private func reject(_ request: STUNMessage, _ code: Int, to client: ClientKey, auth: Auth? = nil,
                        reason: String? = nil, extra: [STUNAttribute] = []) {
        var error = errorCode(code)
        if let reason { error.reason = reason }
        send(request, .errorResponse, [.errorCode(error)] + extra, to: client, auth: auth)
    }

    /// 401 or 438 with REALM and a fresh NONCE, unprotected (the client has no usable key yet).
    private func challenge(_ request: STUNMessage, _ code: Int, to client: ClientKey) {
        send(request, .errorResponse,
             [.errorCode(errorCode(code)), .realm(configuration.realm), .nonce(nonces.make(now: clock()))],
             to: client, auth: nil)
    }

    @discardableResult
    private func send(_ request: STUNMessage, _ messageClass: STUNClass, _ attributes: [STUNAttribute],
                      to client: ClientKey, auth: Auth?) -> [UInt8] {
        if auth == nil, !admitUnauthenticated(client) { return [] }
        let message = STUNMessage(method: request.method, class: messageClass, transactionID: request.transactionID,
                                  attributes: attributes)
        let fingerprint = request.attribute(STUNAttributeType.fingerprint) != nil
        let bytes = message.encoded(integrity: auth?.key, sha256: auth?.sha256 ?? false, fingerprint: fingerprint)
        io?.sendToClient(ByteBuffer(bytes: bytes), client)
        return bytes
    }

    func errorCode(_ code: Int) -> STUNErrorCode {
        let reasons = [
            400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 420: "Unknown Attribute",
            437: "Allocation Mismatch", 438: "Stale Nonce", 440: "Address Family not Supported",
            441: "Wrong Credentials", 442: "Unsupported Transport Protocol", 443: "Peer Address Family Mismatch",
            486: "Allocation Quota Reached", 508: "Insufficient Capacity",
        ]
        return STUNErrorCode(code: code, reason: reasons[code] ?? "Error")
    }
}

func stun(_ address: TransportAddress) -> STUNAddress {
    STUNAddress(address: address.addressBytes, port: address.port) ?? STUNAddress(ipv4: 0, 0, 0, 0, port: 0)
}

func transport(_ address: STUNAddress) -> TransportAddress? {
    TransportAddress(bytes: address.address, port: address.port)
}
