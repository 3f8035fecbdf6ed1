import DTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ICE
import Logging
import Metrics
import Media
import Net
import NiceICE
import RelayHandover
import ServiceLifecycle
import Settings

/// Builds the media engine from `media` settings: the shared UDP port, the addresses to
/// announce, the DTLS certificate.
enum MediaSetup {
    static func engine(_ settings: Settings, logger: Logger) throws -> MediaEngine {
        let media = settings.media
        let mappedAddress = publicAddress(media.nat11Mapping, publicURL: settings.general.publicURL, logger: logger)
        let policy = HostCandidatePolicy(
            allow: media.interfaces, ignore: media.ignoreInterfaces, ipv6: media.ipv6,
            publicAddress: mappedAddress, keepPrivate: media.keepPrivateHost)
        let announced = policy.select(from: NetworkInterfaces.list())
        if announced.isEmpty {
            logger.warning("media: no usable interface address to announce; check media.interfaces / media.ignore_interfaces")
        }
        let certificate: DTLSCertificate
        if !media.dtlsCertificate.isEmpty {
            certificate = try DTLSCertificate.load(certificatePath: media.dtlsCertificate, privateKeyPath: media.dtlsKey)
        } else {
            certificate = try DTLSCertificate.generate(commonName: "confab")
        }
        var configuration = MediaConfiguration(udpPort: UInt16(media.udpPort), announcedAddresses: announced,
                                               preferIPv6Socket: media.ipv6)
        configuration.slowlinkThreshold = media.slowlinkThreshold
        if media.iceMode == .full {
            configuration.transportFactory = try niceFactory(media, publicAddress: mappedAddress, logger: logger)
        } else if settings.turn.enabled {
            // Confab's own TURN relays to this engine's port in process (ICE-lite: one port, one engine).
            let relayPorts = UInt16(settings.turn.relayPortRange.lower)...UInt16(settings.turn.relayPortRange.upper)
            configuration.relayHandover = RelayHandover(relayPorts: relayPorts)
        }
        return try MediaEngine(configuration: configuration, certificate: certificate, logger: logger)
    }

    /// Full ICE: libnice agents gathering on the allowed interface addresses (the same rules as
    /// ICE-lite's host candidates, loopback included when allowed), ports from `rtp_port_range`.
    static func niceFactory(_ media: Settings.Media, publicAddress: TransportAddress?, logger: Logger) throws -> NiceTransportFactory {
        let local = HostCandidatePolicy(allow: media.interfaces, ignore: media.ignoreInterfaces, ipv6: media.ipv6)
            .select(from: NetworkInterfaces.list())
        var nice = NiceConfiguration(
            portRange: UInt16(media.rtpPortRange.lower)...UInt16(media.rtpPortRange.upper), localAddresses: local)
        nice.publicAddress = publicAddress
        nice.keepPrivate = media.keepPrivateHost
        nice.stunServer = server(media.stunServer, "media.stun_server", logger: logger)
        nice.turnServer = server(media.turnServer, "media.turn_server", logger: logger)
        nice.turnUser = media.turnUser
        nice.turnPassword = media.turnPassword
        nice.fullTrickle = media.fullTrickle
        nice.iceTCP = media.iceTCP
        return try NiceTransportFactory(configuration: nice, logger: logger)
    }

    /// A STUN/TURN server's `host:port` (validated by Settings), resolved once at start-up; one
    /// that does not resolve is logged and left out.
    static func server(_ text: String, _ key: String, logger: Logger) -> TransportAddress? {
        guard !text.isEmpty, let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        guard let address = TransportAddress(ip: host, port: port) ?? PublicAddress.lookup(host)?.with(port: port) else {
            logger.warning("media: cannot resolve \(host) (\(key)); gathering without it")
            return nil
        }
        return address
    }

    /// `nat_1_1_mapping`, resolved; a mapping that cannot be used is logged, not fatal.
    static func publicAddress(_ mapping: String, publicURL: String, logger: Logger) -> TransportAddress? {
        switch PublicAddress.resolve(mapping: mapping, publicURL: publicURL) {
        case .none:
            return nil
        case .address(let address):
            logger.info("media: announcing \(address.ip) (media.nat_1_1_mapping)")
            return address
        case .unusable(let reason):
            logger.warning("media: \(reason); announcing local addresses")
            return nil
        }
    }
}

/// Runs the media engine's threads for the life of the service group.
struct MediaService: Service {
    let engine: MediaEngine
    func run() async throws {
        engine.start()
        try? await gracefulShutdown()
        engine.stop()
    }
}

/// Publishes the media engine's counters to /metrics once a second (the engine keeps plain
/// atomics on its hot path; this turns them into Prometheus counters off it).
struct MediaMetricsService: Service {
    let engine: MediaEngine
    func run() async throws {
        var published: [String: Int] = [:]
        let connections = Gauge(label: "confab_media_peerconnections")
        while !Task.isShuttingDownGracefully {
            for (name, value) in engine.counters.snapshot {
                let delta = value - published[name, default: 0]
                if delta > 0 { Counter(label: "confab_media_\(name)_total").increment(by: delta) }
                published[name] = value
            }
            connections.record(engine.connectionCount)
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
