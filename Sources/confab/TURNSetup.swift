#if canImport(FoundationEssentials)
import FoundationEssentials
import Glibc
#else
import Foundation
#endif
import JanusAPI
import Logging
import Media
import Metrics
import Net
import ServiceLifecycle
import Settings
import TLS
import TURN

/// Builds the TURN server from `turn` settings and hands pages matching credentials.
enum TURNSetup {
    /// The REST secret in use: `turn.secret`, or a random one made at start-up.
    static func secret(_ settings: Settings) -> String {
        settings.turn.secret.isEmpty ? TURNRESTCredentials.generateSecret() : settings.turn.secret
    }

    static func configuration(_ settings: Settings, secret: String, media: MediaEngine) -> TURNConfiguration {
        let turn = settings.turn
        var users: [String: String] = [:]
        for entry in turn.users {
            guard let colon = entry.firstIndex(of: ":") else { continue }
            users[String(entry[..<colon])] = String(entry[entry.index(after: colon)...])
        }
        // Confab's own media port is always a reachable peer, on loopback and on every announced address.
        var own: Set<TransportAddress> = Set(media.hostCandidates.map(\.address))
        for loopback in ["127.0.0.1", "::1"] {
            if let address = TransportAddress(ip: loopback, port: media.port) { own.insert(address) }
        }
        // Full ICE: libnice's sockets on those addresses take their ports from media.rtp_port_range.
        let libnicePorts = settings.media.iceMode == .full
            ? UInt16(settings.media.rtpPortRange.lower)...UInt16(settings.media.rtpPortRange.upper) : nil
        let policy = PeerPolicy(allow: turn.allowPeers.compactMap(CIDR.init), deny: turn.denyPeers.compactMap(CIDR.init),
                                ownEndpoints: own, ownPortRange: libnicePorts)
        let (ipv4, ipv6) = relayAddresses(bind: turn.bind, media: media)
        var configuration = TURNConfiguration(realm: turn.realm, users: users, restSecret: secret,
                                              relayIPv4: ipv4, relayIPv6: ipv6, peerPolicy: policy)
        configuration.relayPorts = UInt16(turn.relayPortRange.lower)...UInt16(turn.relayPortRange.upper)
        configuration.userQuota = turn.userQuota
        configuration.maxAllocations = turn.maxAllocations
        configuration.maxBitsPerSecond = turn.maxBPS
        configuration.unauthenticatedRate = Double(turn.unauthenticatedRate)
        configuration.unauthenticatedBurst = Double(turn.unauthenticatedRate * 4)
        (configuration.externalIPv4, configuration.externalIPv6) = externalAddresses(turn.externalIP, media: media)
        return configuration
    }

    /// The relayed addresses to announce behind NAT, per family: `turn.external_ip`, else the public address
    /// media announces (`media.nat_1_1_mapping`, an address no interface has); nil = announce the bound one.
    static func externalAddresses(_ externalIP: String, media: MediaEngine) -> (TransportAddress?, TransportAddress?) {
        if let configured = TransportAddress(ip: externalIP, port: 0) {
            return configured.isIPv4 ? (configured, nil) : (nil, configured)
        }
        let interfaces = Set(NetworkInterfaces.list().map { $0.address.with(port: 0) })
        let mapped = media.hostCandidates.map { $0.address.with(port: 0) }.filter { !interfaces.contains($0) }
        return (mapped.first(where: \.isIPv4), mapped.first { !$0.isIPv4 })
    }

    /// The addresses relays bind to and announce, per family: `turn.bind` when it names one address of that
    /// family, else the first announced media address of the family, else an interface address (loopback only
    /// when that is all the machine has). A family with none is not offered (440).
    static func relayAddresses(bind: String, media: MediaEngine) -> (TransportAddress?, TransportAddress?) {
        let specific = TransportAddress(ip: bind, port: 0).flatMap { address in
            address == TransportAddress(ip: "0.0.0.0", port: 0) || address == TransportAddress(ip: "::", port: 0)
                ? nil : address
        }
        let interfaces = NetworkInterfaces.list().filter(\.isUp).map { $0.address.with(port: 0) }
        // Only local addresses can be bound: a nat_1_1_mapping public address is announced by media, not owned.
        let announced = media.hostCandidates.map { $0.address.with(port: 0) }.filter(interfaces.contains)
        func pick(_ v4: Bool) -> TransportAddress? {
            if let specific, specific.isIPv4 == v4 { return specific }
            return announced.first { $0.isIPv4 == v4 && !$0.isLinkLocal }
                ?? interfaces.first { $0.isIPv4 == v4 && !$0.isLinkLocal && !$0.isLoopback }
                ?? interfaces.first { $0.isIPv4 == v4 && $0.isLoopback }
        }
        return (pick(true), pick(false))
    }

    /// The TURN server; with `turn.tls_port` set, also its TLS listener. The files were already checked
    /// when the settings loaded, so failing here means they changed since: reported like a settings
    /// error (stderr, exit status 2) before anything listens.
    static func server(_ settings: Settings, secret: String, media: MediaEngine, logger: Logger) -> TURNServer {
        let turn = settings.turn
        let listeners = [TURNServer.Listener(host: turn.bind, port: turn.port)]
        var tls: TLSServerContext?
        if turn.tlsPort != 0 {
            do throws(TLSContextError) {
                tls = try TLSServerContext(certificatePath: turn.tlsCertificate, privateKeyPath: turn.tlsKey)
            } catch {
                let key = error.key == .certificate ? "turn.tls_certificate" : "turn.tls_key"
                writeToStandardError("\(key): \(error.message)\n")
                exit(2)
            }
        }
        return TURNServer(configuration: configuration(settings, secret: secret, media: media), listeners: listeners,
                          tlsListeners: [TURNServer.Listener(host: turn.bind, port: turn.tlsPort)], tls: tls,
                          handover: media.configuration.relayHandover, logger: logger)
    }

    /// The `ice_servers` API answer: the same entries for the host of `general.public_url`, else the
    /// host the client used, else the TURN listener's address.
    static func apiICEServers(_ settings: Settings, secret: String) -> @Sendable (String?) -> JSON {
        let forHost = iceServers(settings, secret: secret)
        let publicHost = URL(string: settings.general.publicURL).flatMap(\.host).map { $0.contains(":") ? "[\($0)]" : $0 }
        let bind = settings.turn.bind
        let bindHost = ["0.0.0.0", "::", ""].contains(bind) ? "127.0.0.1" : (bind.contains(":") ? "[\(bind)]" : bind)
        return { clientHost in forHost(publicHost ?? clientHost ?? bindHost) }
    }

    /// The `iceServers` pages get: STUN and TURN (UDP and TCP) on the host they used, with REST credentials
    /// valid for `turn.credential_lifetime`.
    static func iceServers(_ settings: Settings, secret: String) -> @Sendable (String) -> JSON {
        let port = settings.turn.port, tlsPort = settings.turn.tlsPort, lifetime = settings.turn.credentialLifetime
        guard settings.turn.enabled else { return { _ in .array([]) } }
        return { (host: String) -> JSON in
            let (username, password) = TURNRESTCredentials.make(secret: secret, lifetime: lifetime)
            var urls: [JSON] = [.string("turn:\(host):\(port)?transport=udp"), .string("turn:\(host):\(port)?transport=tcp")]
            if tlsPort != 0 { urls.append(.string("turns:\(host):\(tlsPort)?transport=tcp")) }
            return [
                ["urls": .string("stun:\(host):\(port)")],
                ["urls": .array(urls), "username": .string(username), "credential": .string(password)],
            ]
        }
    }
}

/// Runs the TURN server for the life of the service group.
struct TURNService: Service {
    let server: TURNServer
    let logger: Logger
    func run() async throws {
        try await server.start()
        var metadata: Logger.Metadata = ["udp+tcp": "\(server.listenerDescription)"]
        if !server.tlsListenerDescription.isEmpty { metadata["tls"] = "\(server.tlsListenerDescription)" }
        logger.info("turn: listening", metadata: metadata)
        try? await gracefulShutdown()
        await server.stop()
    }
}

/// Publishes the TURN counters to /metrics once a second, as `MediaMetricsService` does for media.
struct TURNMetricsService: Service {
    let counters: TURNCounters
    func run() async throws {
        var published: [String: Int] = [:]
        let gauges = Dictionary(uniqueKeysWithValues: counters.gauges.map { ($0.0, Gauge(label: "confab_turn_\($0.0)")) })
        while !Task.isShuttingDownGracefully {
            for (name, value) in counters.totals {
                let delta = value - published[name, default: 0]
                if delta > 0 { Counter(label: "confab_turn_\(name)_total").increment(by: delta) }
                published[name] = value
            }
            for (name, value) in counters.gauges { gauges[name]?.record(value) }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
