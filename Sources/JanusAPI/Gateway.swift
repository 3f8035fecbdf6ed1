#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Metrics
import Synchronization

/// Where a request came from: which transport, the pushing socket (if any), and for HTTP the
/// session and handle named in the URL path.
public struct RequestOrigin: Sendable {
    public var transport: String
    public var sink: EventSink?
    public var pathSessionID: UInt64?
    public var pathHandleID: UInt64?
    /// The URL named a session or handle that is not a number; Janus answers 457 for any request there.
    public var invalidPath = false
    /// The host the client reached the server at (HTTP Host, or the WebSocket upgrade's), without the
    /// port: where the TURN URLs of an `ice_servers` answer point when no public URL is set.
    public var host: String?

    public init(transport: String, sink: EventSink? = nil, pathSessionID: UInt64? = nil, pathHandleID: UInt64? = nil) {
        self.transport = transport
        self.sink = sink
        self.pathSessionID = pathSessionID
        self.pathHandleID = pathHandleID
    }
}

/// A reply to a request, plus work (a plugin's asynchronous answer) to start once it has been sent.
public struct Reply: Sendable {
    public var json: JSON
    public var afterSending: (@Sendable () async -> Void)?

    public init(_ json: JSON, afterSending: (@Sendable () async -> Void)? = nil) {
        self.json = json
        self.afterSending = afterSending
    }
}

/// The Janus API core: sessions, handles, plugins and authorisation, free of any transport.
public final class Gateway: Sendable {
    public struct Configuration: Sendable {
        public var serverName = "Confab"
        /// Seconds without activity before a session times out; 0 = never.
        public var sessionTimeout = 60
        /// Seconds a session outlives the socket that owned it, waiting for a `claim`; 0 = none.
        public var reclaimSessionTimeout = 0
        /// Empty = the Admin API refuses everything.
        public var adminSecret = ""
        public var apiSecret = ""
        public var tokenMode: Authenticator.TokenMode = .off
        /// Janus log level (0..7) at start-up, and how to change the process's level.
        public var logLevel = 4
        public var applyLogLevel: @Sendable (Int) -> Void = { _ in }
        /// More objects for the Admin API's `get_status`, from the parts of Confab beside the API
        /// (the TURN server's allocations and relayed traffic, the media engine's counters).
        public var statusExtras: @Sendable () -> [String: JSON] = { [:] }
        /// `ice_servers` (Confab's own request): the STUN/TURN servers with fresh credentials for a
        /// client that reached the server at this host (nil: unknown) — what `/config.js` gives pages,
        /// for clients that authenticate first (apisecret, token). Empty = no TURN to hand out.
        public var iceServers: @Sendable (_ host: String?) -> JSON = { _ in .array([]) }
        /// The address media is announced on, for `info`'s `local-ip`.
        public var localIP = "127.0.0.1"
        /// `info`'s `ice-lite`, `full-trickle` and `ice-tcp`: ICE-lite on the shared port, or full ICE
        /// with or without full trickle and ICE-TCP (`media.ice_mode`, `media.full_trickle`, `media.ice_tcp`).
        public var iceLite = true
        public var fullTrickle = false
        public var iceTCP = false
        /// Library versions for `info`'s `dependencies` (name → version).
        public var dependencies: [String: JSON] = [:]
        public init() {}
    }

    /// The Janus API level Confab implements; clients that check versions see Janus 1.1.2.
    public static let apiVersion = 1102
    public static let apiVersionString = "1.1.2"
    public static let confabVersion = "0.1.0"

    let logger: Logger
    public let auth: Authenticator
    let plugins: [String: any JanusPlugin]
    let sessions = Mutex<[UInt64: Session]>([:])
    let transports = Mutex<[String: JSON]>([:])
    let runtime: Mutex<Runtime>
    /// Live handles across all sessions, for the `confab_janus_handles` gauge.
    let handleCount = Atomic<Int>(0)
    let configuration: Configuration

    struct Runtime {
        var sessionTimeout: Int
        var logLevel: Int
        var acceptingSessions = true
    }

    public init(configuration: Configuration, plugins: [any JanusPlugin], logger: Logger = Logger(label: "confab.janus")) {
        self.configuration = configuration
        self.logger = logger
        self.auth = Authenticator(apiSecret: configuration.apiSecret, tokenMode: configuration.tokenMode)
        self.plugins = Dictionary(plugins.map { ($0.package, $0) }, uniquingKeysWith: { first, _ in first })
        self.runtime = Mutex(Runtime(sessionTimeout: configuration.sessionTimeout, logLevel: configuration.logLevel))
    }

    /// Transports announce themselves so `info` lists them as Janus does.
    public func registerTransport(package: String, name: String, description: String) {
        let info: JSON = [
            "name": .string(name), "author": "Confab", "description": .string(description),
            "version_string": .string(Self.confabVersion), "version": 1,
        ]
        transports.withLock { $0[package] = info }
    }

    public var sessionCount: Int { sessions.withLock { $0.count } }
    public func session(_ id: UInt64) -> Session? { sessions.withLock { $0[id] } }
    public var allSessions: [Session] { sessions.withLock { Array($0.values) } }

    // MARK: Requests

    /// Handles one Janus API request body, returning the reply to send on the same channel.
    public func process(_ body: some Collection<UInt8>, origin: RequestOrigin) async -> Reply {
        let request: [String: JSON]
        switch Self.decodeObject(body, arrayAsEmptyObject: origin.sink != nil) {
        case .success(let object): request = object
        case .failure(let error): return Reply(fail(error, transaction: nil))
        }
        return await process(request, origin: origin)
    }

    public func process(_ request: [String: JSON], origin: RequestOrigin) async -> Reply {
        let transaction: String
        let verb: String
        switch Self.envelope(of: request) {
        case .success(let fields): (transaction, verb) = fields
        case .failure(let error):
            // Janus does not echo the transaction when the envelope itself is malformed.
            return Reply(fail(error, transaction: nil))
        }
        Metrics.Counter(label: "confab_janus_requests_total", dimensions: [("request", Self.metricName(verb))]).increment()
        if origin.invalidPath { return Reply(fail(Self.unhandled(verb), transaction: transaction)) }
        var ids: (session: UInt64, handle: UInt64)
        switch Self.target(of: request, origin: origin) {
        case .success(let target): ids = target
        case .failure(let error): return Reply(fail(error, transaction: transaction))
        }
        if ids.session == 0 && ids.handle == 0 {
            return Reply(processRoot(verb, request, transaction: transaction, origin: origin))
        }
        guard ids.session != 0 else {
            return Reply(fail(.wrongType("session_id", "a positive integer"), transaction: transaction))
        }
        guard auth.authorizes(request) else {
            return Reply(fail(JanusError(.unauthorized), transaction: transaction, session: ids.session))
        }
        guard let session = session(ids.session), !session.isDestroyed else {
            return Reply(fail(JanusError(.sessionNotFound, "No such session \(ids.session)"), transaction: transaction, session: ids.session))
        }
        session.touch()
        if ids.handle == 0 {
            return Reply(processSession(verb, request, session: session, transaction: transaction, origin: origin))
        }
        guard let handle = session.handle(ids.handle) else {
            let error = JanusError(.handleNotFound, "No such handle \(ids.handle) in session \(ids.session)")
            return Reply(fail(error, transaction: transaction, session: ids.session))
        }
        return await processHandle(verb, request, handle: handle, session: session, transaction: transaction)
    }

    /// `info`, `ping`, `create` and Confab's `ice_servers`: the only requests without a session.
    private func processRoot(_ verb: String, _ request: [String: JSON], transaction: String, origin: RequestOrigin) -> JSON {
        switch verb {
        case "info":
            return serverInfo(transaction: transaction)
        case "ping":
            return ["janus": "pong", "transaction": .string(transaction)]
        case "create":
            guard runtime.withLock({ $0.acceptingSessions }) else {
                return fail(JanusError(.notAcceptingSessions), transaction: transaction)
            }
            guard auth.authorizes(request) else { return fail(JanusError(.unauthorized), transaction: transaction) }
            switch createSession(requestedID: request["id"], origin: origin) {
            case .success(let session):
                return ["janus": "success", "transaction": .string(transaction), "data": ["id": JSON(session.id)]]
            case .failure(let error):
                let conflicting = error.code == JanusError.Code.sessionConflict.rawValue ? request["id"]?.uint64Value : nil
                return fail(error, transaction: transaction, session: conflicting)
            }
        case "ice_servers":
            // Authenticated like `create`: TURN credentials only for clients allowed to make sessions.
            guard auth.authorizes(request) else { return fail(JanusError(.unauthorized), transaction: transaction) }
            return ["janus": "success", "transaction": .string(transaction),
                    "data": ["iceServers": configuration.iceServers(origin.host)]]
        default:
            return fail(Self.unhandled(verb), transaction: transaction)
        }
    }

    private func processSession(_ verb: String, _ request: [String: JSON], session: Session, transaction: String,
                                origin: RequestOrigin) -> JSON {
        let ok: JSON = ["janus": "success", "session_id": JSON(session.id), "transaction": .string(transaction)]
        switch verb {
        case "keepalive":
            return ["janus": "ack", "session_id": JSON(session.id), "transaction": .string(transaction)]
        case "attach":
            switch attach(request, to: session) {
            case .success(let handle):
                return ["janus": "success", "session_id": JSON(session.id), "transaction": .string(transaction),
                        "data": ["id": JSON(handle.id)]]
            case .failure(let error):
                return fail(error, transaction: transaction, session: session.id)
            }
        case "destroy":
            destroySession(session, reason: "destroy request")
            return ok
        case "claim":
            session.claim(by: origin.sink)
            return ok
        case "detach", "hangup", "message", "trickle":
            return fail(Self.unhandled(verb), transaction: transaction, session: session.id)
        default:
            return fail(JanusError(.unknownRequest, "Unknown request '\(verb)'"), transaction: transaction, session: session.id)
        }
    }

    private func processHandle(_ verb: String, _ request: [String: JSON], handle: Handle, session: Session,
                               transaction: String) async -> Reply {
        let ok: JSON = ["janus": "success", "session_id": JSON(session.id), "transaction": .string(transaction)]
        switch verb {
        case "detach":
            detach(handle, from: session)
            return Reply(ok)
        case "hangup":
            handle.plugin.hangup(handle)
            return Reply(ok)
        case "message":
            return await message(request, handle: handle, transaction: transaction)
        case "trickle":
            if let error = Self.validateTrickle(request) {
                return Reply(fail(error, transaction: transaction, session: session.id))
            }
            if let candidates = request["candidate"] ?? request["candidates"] { handle.deliverTrickle(candidates) }
            return Reply(["janus": "ack", "session_id": JSON(session.id), "transaction": .string(transaction)])
        case "keepalive":
            return Reply(["janus": "ack", "session_id": JSON(session.id), "transaction": .string(transaction)])
        case "attach", "destroy", "claim":
            return Reply(fail(Self.unhandled(verb), transaction: transaction, session: session.id))
        default:
            return Reply(fail(JanusError(.unknownRequest, "Unknown request '\(verb)'"), transaction: transaction, session: session.id))
        }
    }

    // MARK: Sessions and handles

    func createSession(requestedID: JSON?, origin: RequestOrigin) -> Result<Session, JanusError> {
        var wanted: UInt64?
        if let requestedID, !requestedID.isNull {
            guard let id = requestedID.uint64Value, id > 0 else { return .failure(.wrongType("id", "a positive integer")) }
            wanted = id
        }
        let now = ContinuousClock.now
        let created: Session? = sessions.withLock { sessions in
            let id = wanted ?? Self.freshID { sessions[$0] == nil }
            guard sessions[id] == nil else { return nil }
            let session = Session(id: id, transport: origin.transport, sink: origin.sink, now: now)
            sessions[id] = session
            return session
        }
        guard let created else { return .failure(JanusError(.sessionConflict, "Session ID already in use")) }
        Metrics.Gauge(label: "confab_janus_sessions").record(sessionCount)
        logger.debug("session created", metadata: ["session": "\(created.id)"])
        return .success(created)
    }

    private func attach(_ request: [String: JSON], to session: Session) -> Result<Handle, JanusError> {
        guard let pluginField = request["plugin"] else { return .failure(.missing("plugin")) }
        guard let package = pluginField.stringValue else { return .failure(.wrongType("plugin", "a string")) }
        if let opaque = request["opaque_id"], opaque.stringValue == nil {
            return .failure(.wrongType("opaque_id", "a string"))
        }
        guard let plugin = plugins[package] else {
            return .failure(JanusError(.pluginNotFound, "No such plugin '\(package)'"))
        }
        let token = request["token"]?.stringValue
        if auth.tokensEnabled, !auth.allows(token: token, plugin: package) {
            return .failure(JanusError(.unauthorizedPlugin, "Provided token can't access plugin '\(package)'"))
        }
        let handleID = Self.freshID { session.handle($0) == nil }
        let handle = PluginHandle(
            id: handleID, sessionID: session.id, opaqueID: request["opaque_id"]?.stringValue, token: token,
            plugin: plugin, deliver: { [weak session] event in session?.deliver(event) })
        do {
            try plugin.attach(handle)
        } catch {
            return .failure(JanusError(.pluginAttach, "Couldn't attach to plugin: error '\(error.code)'"))
        }
        guard session.add(handle) else {
            plugin.detach(handle)
            return .failure(JanusError(.sessionNotFound, "No such session \(session.id)"))
        }
        Metrics.Counter(label: "confab_janus_handles_attached_total", dimensions: [("plugin", package)]).increment()
        handlesChanged(by: 1)
        return .success(handle)
    }

    private func detach(_ handle: Handle, from session: Session) {
        guard session.removeHandle(handle.id) != nil else { return }
        handlesChanged(by: -1)
        handle.plugin.detach(handle)
        handle.pushCoreEvent("detached")
    }

    /// Destroys a session and every handle in it, telling the plugins. Safe to call twice.
    public func destroySession(_ session: Session, reason: String, finalEvent: JSON? = nil) {
        let removed = sessions.withLock { $0.removeValue(forKey: session.id) != nil }
        let handles = session.markDestroyed(finalEvent: finalEvent)
        for handle in handles { handle.plugin.detach(handle) }
        if !handles.isEmpty { handlesChanged(by: -handles.count) }
        if removed {
            Metrics.Gauge(label: "confab_janus_sessions").record(sessionCount)
            logger.debug("session destroyed", metadata: ["session": "\(session.id)", "reason": "\(reason)"])
        }
    }

    // MARK: Messages

    private func message(_ request: [String: JSON], handle: Handle, transaction: String) async -> Reply {
        guard let body = request["body"] else { return Reply(fail(.missing("body"), transaction: transaction, session: handle.sessionID)) }
        guard case .object = body else {
            return Reply(fail(.wrongType("body", "an object"), transaction: transaction, session: handle.sessionID))
        }
        let jsep = request["jsep"]
        if let jsep, let error = Self.validateJSEP(jsep) {
            return Reply(fail(error, transaction: transaction, session: handle.sessionID))
        }
        let result = await handle.plugin.handleMessage(
            PluginMessage(handle: handle, transaction: transaction, body: body, jsep: jsep))
        switch result {
        case .success(let data):
            return Reply([
                "janus": "success", "session_id": JSON(handle.sessionID), "transaction": .string(transaction),
                "sender": JSON(handle.id), "plugindata": ["plugin": .string(handle.plugin.package), "data": data],
            ])
        case .ack(let hint, let then):
            var ack: [String: JSON] = ["janus": "ack", "session_id": JSON(handle.sessionID), "transaction": .string(transaction)]
            if let hint { ack["hint"] = .string(hint) }
            return Reply(.object(ack), afterSending: then)
        case .failure(let error):
            return Reply(fail(error, transaction: transaction, session: handle.sessionID))
        }
    }

    // MARK: Transport events

    /// A push transport's connection closed: its sessions are destroyed, or kept for a `claim`
    /// during `reclaim_session_timeout`.
    public func connectionClosed(_ sink: EventSink) {
        let now = ContinuousClock.now
        for session in allSessions where session.sink === sink {
            if configuration.reclaimSessionTimeout > 0 {
                _ = session.orphan(from: sink, now: now)
            } else {
                destroySession(session, reason: "transport closed")
            }
        }
    }

    // MARK: Timers

    /// Expires long polls, idle sessions and unclaimed orphans. Runs until cancelled.
    public func runTimers(interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            sweep(now: .now)
            try? await Task.sleep(for: interval)
        }
    }

    /// Stopping: destroys every session (plugins are told) and ends waiting long polls, so the
    /// HTTP listeners can drain instead of waiting for requests that would never finish.
    public func shutdown() {
        runtime.withLock { $0.acceptingSessions = false }
        for session in allSessions { destroySession(session, reason: "shutdown") }
    }

    func sweep(now: ContinuousClock.Instant) {
        let timeout = runtime.withLock { $0.sessionTimeout }
        let reclaim = configuration.reclaimSessionTimeout
        for session in allSessions {
            session.expireWaiters(now: now)
            if let orphanedAt = session.orphanedAt, now - orphanedAt >= .seconds(reclaim) {
                destroySession(session, reason: "not reclaimed")
            } else if timeout > 0, now - session.lastActivity >= .seconds(timeout) {
                Metrics.Counter(label: "confab_janus_session_timeouts_total").increment()
                destroySession(session, reason: "timeout", finalEvent: ["janus": "timeout", "session_id": JSON(session.id)])
            }
        }
    }

    // MARK: Helpers

    private func handlesChanged(by delta: Int) {
        let total = handleCount.add(delta, ordering: .relaxed).newValue
        Metrics.Gauge(label: "confab_janus_handles").record(total)
    }

    func fail(_ error: JanusError, transaction: String?, session: UInt64? = nil) -> JSON {
        Metrics.Counter(label: "confab_janus_errors_total", dimensions: [("code", String(error.code))]).increment()
        return error.reply(transaction: transaction, sessionID: session)
    }

    static func unhandled(_ verb: String) -> JanusError {
        JanusError(.invalidRequestPath, "Unhandled request '\(verb)' at this path")
    }

    /// Keeps metric label values bounded: unknown verbs share one label.
    static let knownVerbs: Set<String> = [
        "info", "ping", "create", "attach", "message", "trickle", "keepalive", "detach", "hangup", "destroy", "claim",
        "ice_servers",
    ]
    static func metricName(_ verb: String) -> String { knownVerbs.contains(verb) ? verb : "other" }

    /// A random id below 2^53, so JavaScript clients hold it exactly.
    static func freshID(isFree: (UInt64) -> Bool) -> UInt64 {
        while true {
            let id = UInt64.random(in: 1..<(1 << 53))
            if isFree(id) { return id }
        }
    }
}
