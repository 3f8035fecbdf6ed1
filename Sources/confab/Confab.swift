import ArgumentParser
import EchoTest
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
import Prometheus
import ServiceLifecycle
import Settings
import Transports
import TURN
import VideoRoom

/// `confab`: loads the settings and runs every part of the server until SIGTERM/SIGINT.
@main
struct Confab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A Janus-API-compatible WebRTC SFU, TURN server and web server in one binary.")

    @Option(name: .long, help: "Settings file (default: ./confab.cfg when present, else built-in defaults).")
    var config: String?

    @Option(name: .customLong("check-config"), help: "Validate a settings file and exit (0 = good, 2 = bad).")
    var checkConfig: String?

    func run() async throws {
        if let checkConfig {
            let settings = try loadSettings(path: checkConfig)
            _ = try loadRoomsFile(settings, settingsPath: checkConfig)
            writeToStandardError("\(checkConfig): settings are valid\n")
            return
        }
        let settingsPath = config ?? (FileManager.default.fileExists(atPath: "confab.cfg") ? "confab.cfg" : nil)
        let settings = try loadSettings(path: settingsPath)
        let roomsFile = try loadRoomsFile(settings, settingsPath: settingsPath)
        LogLevelControl.shared.bootstrap(settings.general.logLevel)
        let logger = Logger(label: "confab")
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))

        let media: MediaEngine
        do {
            media = try MediaSetup.engine(settings, logger: logger)
        } catch {
            logger.critical("media: cannot start: \(error)")
            throw ExitCode(1)
        }
        let turnSecret = TURNSetup.secret(settings)
        let turn = settings.turn.enabled ? TURNSetup.server(settings, secret: turnSecret, media: media, logger: logger) : nil
        var configuration = gatewayConfiguration(settings)
        configuration.iceServers = TURNSetup.apiICEServers(settings, secret: turnSecret)
        configuration.statusExtras = { [counters = media.counters, turnCounters = turn?.counters] in
            Self.statusExtras(media: counters, turn: turnCounters)
        }
        let gateway = Gateway(configuration: configuration,
                              plugins: plugins(settings, roomsFile: roomsFile, media: media, logger: logger),
                              logger: logger)
        let iceServers = TURNSetup.iceServers(settings, secret: turnSecret)
        let listeners = Listeners(settings: settings, gateway: gateway, metrics: metrics,
                                  iceServersForHost: iceServers, logger: logger)
        var turnServices: [any Service] = []
        if let turn {
            turnServices = [TURNService(server: turn, logger: logger), TURNMetricsService(counters: turn.counters)]
        }
        let services: [any Service] = [MediaService(engine: media), MediaMetricsService(engine: media)] + turnServices
            + listeners.services() + [GatewayTimers(gateway: gateway)]
        logger.info("confab starting", metadata: [
            "http": "\(settings.http.bind):\(settings.http.port)\(settings.http.path)",
            "websockets": "\(settings.websockets.bind):\(settings.websockets.port)",
            "admin": "\(settings.admin.bind):\(settings.admin.port)\(settings.admin.path)",
            "media": "udp \(media.port)",
            "turn": "\(settings.turn.enabled ? "\(settings.turn.bind):\(settings.turn.port)" : "off")",
        ])
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }

    /// Settings errors go to stderr as `file:line: message` lines with exit status 2.
    private func loadSettings(path: String?) throws -> Settings {
        do {
            if let path { return try SettingsLoader.load(path: path) }
            return try SettingsLoader.defaults()
        } catch {
            writeToStandardError("\(error)\n")
            throw ExitCode(2)
        }
    }

    /// The rooms file (rooms made permanent through the API) and its path; nil when there is none.
    /// Its errors are reported and exit as the settings' do.
    private func loadRoomsFile(_ settings: Settings, settingsPath: String?) throws -> (path: String, contents: RoomsFile)? {
        guard let path = RoomsFile.path(settings: settings, settingsPath: settingsPath) else { return nil }
        do {
            return (path, try RoomsFile.load(path: path))
        } catch {
            writeToStandardError("\(error)\n")
            throw ExitCode(2)
        }
    }

    private func gatewayConfiguration(_ settings: Settings) -> Gateway.Configuration {
        var configuration = Gateway.Configuration()
        configuration.serverName = settings.general.serverName
        configuration.sessionTimeout = settings.general.sessionTimeout
        configuration.reclaimSessionTimeout = settings.general.reclaimSessionTimeout
        configuration.adminSecret = settings.admin.secret
        configuration.apiSecret = settings.security.apiSecret
        configuration.iceLite = settings.media.iceMode != .full
        configuration.fullTrickle = settings.media.iceMode == .full && settings.media.fullTrickle
        configuration.iceTCP = settings.media.iceMode == .full && settings.media.iceTCP
        if !settings.security.tokenAuthSecret.isEmpty {
            configuration.tokenMode = .signed(secret: settings.security.tokenAuthSecret)
        } else if settings.security.tokenAuth {
            configuration.tokenMode = .stored
        }
        configuration.logLevel = LogLevelControl.janusLevel(settings.general.logLevel)
        configuration.applyLogLevel = { LogLevelControl.shared.set(janusLevel: $0) }
        return configuration
    }

    /// `get_status`'s `media` and `turn` objects: the counters /metrics exposes, as one snapshot.
    private static func statusExtras(media: MediaCounters, turn: TURNCounters?) -> [String: JSON] {
        func object(_ pairs: [(String, Int)]) -> JSON {
            .object(Dictionary(pairs.map { ($0.0, JSON.int(Int64($0.1))) }, uniquingKeysWith: { $1 }))
        }
        var extras: [String: JSON] = ["media": object(media.snapshot)]
        if let turn { extras["turn"] = object(turn.gauges + turn.totals.map { ("\($0.0)_total", $0.1) }) }
        return extras
    }

    private func plugins(_ settings: Settings, roomsFile: (path: String, contents: RoomsFile)?, media: MediaEngine,
                         logger: Logger) -> [any JanusPlugin] {
        let staticRooms = settings.videoroom.rooms
        let store = roomsFile.map {
            RoomsFileStore(path: $0.path, contents: $0.contents, staticRoomIDs: Set(staticRooms.map(\.id)), logger: logger)
        }
        let rooms = roomsFile?.contents.applied(to: staticRooms) ?? staticRooms
        return [
            VideoRoomPlugin(rooms: rooms.map(RoomOptions.init), adminKey: settings.videoroom.adminKey,
                            engine: media, permanentRooms: store, logger: logger),
            EchoTestPlugin(engine: media, logger: logger),
        ]
    }
}

/// Runs the gateway's once-a-second timers (long-poll and session expiry) as a service. Listed
/// last, it stops first: its shutdown ends every session so the listeners can drain.
struct GatewayTimers: Service {
    let gateway: Gateway
    func run() async throws {
        await cancelWhenGracefulShutdown { await gateway.runTimers() }
        gateway.shutdown()
        // Ending the sessions closed every recording; let the writer thread finish the files.
        await VideoRoomPlugin.finishRecordings(timeout: .seconds(3))
    }
}

/// A line for the terminal (settings errors, `--check-config`), before or beside logging.
func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}
