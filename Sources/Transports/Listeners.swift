import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import JanusAPI
import Logging
import Prometheus
import ServiceLifecycle
import Settings

/// Builds the HTTP listeners from the settings: the public API port (Janus HTTP + WebSocket
/// upgrade + static site + /config.js), the dedicated WebSocket port and the admin port.
public struct Listeners: Sendable {
    let settings: Settings
    let gateway: Gateway
    let metrics: PrometheusCollectorRegistry
    /// ICE servers for a page, given the host the page reached us on (or general.public_url's host).
    let iceServers: @Sendable (_ host: String) -> JSON
    let logger: Logger

    public init(settings: Settings, gateway: Gateway, metrics: PrometheusCollectorRegistry,
                iceServers: @escaping @Sendable () -> JSON = { [] }, logger: Logger) {
        self.init(settings: settings, gateway: gateway, metrics: metrics,
                  iceServersForHost: { _ in iceServers() }, logger: logger)
    }

    /// `iceServersForHost` gets the host part of the URL pages use (brackets around IPv6), so TURN URLs
    /// can name the same host; credentials are minted per call.
    public init(settings: Settings, gateway: Gateway, metrics: PrometheusCollectorRegistry,
                iceServersForHost: @escaping @Sendable (_ host: String) -> JSON, logger: Logger) {
        self.settings = settings
        self.gateway = gateway
        self.metrics = metrics
        self.iceServers = iceServersForHost
        self.logger = logger
    }

    /// One service per enabled listener, for a ServiceGroup to run.
    public func services() -> [any Service] {
        var services: [any Service] = []
        if settings.http.enabled {
            gateway.registerTransport(package: JanusHTTP.package, name: "JANUS REST (HTTP/HTTPS) transport plugin",
                                      description: "Confab's Janus HTTP transport with long poll")
            services.append(apiApplication())
        }
        if settings.websockets.enabled {
            gateway.registerTransport(package: JanusWebSocket.package, name: "JANUS WebSockets transport plugin",
                                      description: "Confab's Janus WebSocket transport (janus-protocol)")
            services.append(webSocketApplication())
        }
        services.append(adminApplication())
        return services
    }

    public func apiRouter() -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.add(middleware: CORSMiddleware(allowOrigin: settings.http.allowOrigin))
        if settings.site.enabled {
            router.add(middleware: SiteFallback(site: StaticSite(root: settings.site.root)))
        }
        JanusHTTP(gateway: gateway, path: settings.http.path, maxBodySize: settings.http.maxBodySize).register(on: router)
        ClientConfiguration(publicURL: settings.general.publicURL, apiPath: settings.http.path,
                            serverName: settings.general.serverName, iceServers: iceServers).register(on: router)
        return router
    }

    public func adminRouter() -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        AdminHTTP(gateway: gateway, path: settings.admin.path, maxBodySize: settings.http.maxBodySize, metrics: metrics)
            .register(on: router)
        return router
    }

    /// `parkLongPolls`: the API port parks Janus long polls in the pipeline (`LongPollHandler`).
    private func webSocketConfiguration(parkLongPolls: Bool = false) -> HTTP1WebSocketUpgradeChannel.Configuration {
        let ping = settings.websockets.pingInterval
        let (gateway, path, origin) = (gateway, settings.http.path, settings.http.allowOrigin)
        return .init(
            http1: .init(additionalChannelHandlers: parkLongPolls
                ? [LongPollHandler(gateway: gateway, basePath: path, allowOrigin: origin)] : []),
            ws: .init(
                maxFrameSize: JanusWebSocket.maxMessageSize,
                autoPing: ping > 0 ? .enabled(timePeriod: .seconds(ping)) : .disabled))
    }

    private func upgradeRouter(_ kind: JanusWebSocket.Kind, paths: [String]) -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        JanusWebSocket(gateway: gateway, kind: kind).register(on: router, paths: paths)
        return router
    }

    /// Connections start lean (long polls only) and move to Hummingbird's HTTP/WebSocket-upgrade
    /// pipeline at their first other request: see `LeanLongPollChannel`.
    private func apiApplication() -> some Service {
        let webSocketResponder = upgradeRouter(.api, paths: ["/", settings.http.path]).buildResponder()
        let configuration = webSocketConfiguration(parkLongPolls: true)
        let (gateway, path, origin) = (gateway, settings.http.path, settings.http.allowOrigin)
        return Application(
            router: apiRouter(),
            server: HTTPServerBuilder { responder in
                LeanLongPollChannel(
                    full: HTTP1WebSocketUpgradeChannel(
                        responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                    gateway: gateway, basePath: path, allowOrigin: origin)
            },
            configuration: .init(address: .hostname(settings.http.bind, port: settings.http.port), serverName: "Confab"),
            logger: logger)
    }

    private func webSocketApplication() -> some Service {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.get("/") { _, _ in Response(status: .upgradeRequired) }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: upgradeRouter(.api, paths: ["/", "/**"]), configuration: webSocketConfiguration()),
            configuration: .init(address: .hostname(settings.websockets.bind, port: settings.websockets.port), serverName: "Confab"),
            logger: logger)
    }

    private func adminApplication() -> some Service {
        Application(
            router: adminRouter(),
            server: .http1WebSocketUpgrade(
                webSocketRouter: upgradeRouter(.admin, paths: ["/", settings.admin.path]),
                configuration: webSocketConfiguration()),
            configuration: .init(address: .hostname(settings.admin.bind, port: settings.admin.port), serverName: "Confab"),
            logger: logger)
    }
}
