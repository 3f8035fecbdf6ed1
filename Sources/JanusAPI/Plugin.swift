import Synchronization

/// A Janus plugin (`janus.plugin.videoroom`, `janus.plugin.echotest`, ...), as Janus's plugin.h
/// describes one: the core owns sessions and handles, the plugin owns what a handle means.
public protocol JanusPlugin: Sendable {
    /// The package name clients attach to, e.g. `janus.plugin.videoroom`.
    var package: String { get }
    var info: PluginInfo { get }

    /// A handle was attached; throw to refuse it (reported as 461).
    func attach(_ handle: PluginHandle) throws(JanusError)
    /// A `message` request. Synchronous requests answer `.success`; asynchronous ones `.ack`
    /// and push their outcome as an event afterwards.
    func handleMessage(_ message: PluginMessage) async -> PluginResult
    /// The handle is going away (detach, session destroyed or timed out). Free everything it owns.
    func detach(_ handle: PluginHandle)
    /// The client asked to tear down its PeerConnection (`hangup`), or the media engine lost it.
    func hangup(_ handle: PluginHandle)
    /// Plugin-specific state for the Admin API's `handle_info`.
    func query(_ handle: PluginHandle) -> JSON
    /// The handle's WebRTC state for `handle_info` (`flags`, `sdps`, `streams`, ...), merged at
    /// the top level as Janus's core reports it; nil when the handle has no media.
    func webrtcInfo(_ handle: PluginHandle) -> JSON?
    /// An Admin API `message_plugin` request; nil when the plugin takes none.
    func handleAdminMessage(_ body: JSON) async -> JSON?
}

extension JanusPlugin {
    public func hangup(_ handle: PluginHandle) {}
    public func query(_ handle: PluginHandle) -> JSON { [:] }
    public func webrtcInfo(_ handle: PluginHandle) -> JSON? { nil }
    public func handleAdminMessage(_ body: JSON) async -> JSON? { nil }
}

/// What `info` lists for a plugin.
public struct PluginInfo: Sendable, Equatable {
    public var name: String
    public var author: String
    public var description: String
    public var versionString: String
    public var version: Int

    public init(name: String, author: String, description: String, versionString: String, version: Int) {
        self.name = name
        self.author = author
        self.description = description
        self.versionString = versionString
        self.version = version
    }

    var json: JSON {
        [
            "name": .string(name), "author": .string(author), "description": .string(description),
            "version_string": .string(versionString), "version": .int(Int64(version)),
        ]
    }
}

/// A `message` request as a plugin sees it.
public struct PluginMessage: Sendable {
    public let handle: PluginHandle
    public let transaction: String
    public let body: JSON
    public let jsep: JSON?

    public init(handle: PluginHandle, transaction: String, body: JSON, jsep: JSON?) {
        self.handle = handle
        self.transaction = transaction
        self.body = body
        self.jsep = jsep
    }
}

/// How a plugin answers a `message`.
public enum PluginResult: Sendable {
    /// A synchronous answer: `{"janus":"success","plugindata":{...}}`.
    case success(JSON)
    /// An `ack` now; `then` runs after the ack has gone out and pushes the real answer as an event,
    /// so a client never sees an event before the ack for the same transaction.
    case ack(hint: String? = nil, then: @Sendable () async -> Void)
    /// A core-level error (e.g. 462); plugin-level errors travel inside `.success` or events.
    case failure(JanusError)
}

/// The plugin's view of a handle: its identity and the way to send it events.
public final class PluginHandle: Sendable, Hashable, CustomStringConvertible {
    public let id: UInt64
    public let sessionID: UInt64
    public let opaqueID: String?
    /// The token the handle was attached with (stored or signed), for plugins that check it.
    public let token: String?
    public let createdAt = ContinuousClock.now
    let plugin: any JanusPlugin
    private let deliver: @Sendable (JSON) -> Void

    init(id: UInt64, sessionID: UInt64, opaqueID: String?, token: String?, plugin: any JanusPlugin,
         deliver: @escaping @Sendable (JSON) -> Void) {
        self.id = id
        self.sessionID = sessionID
        self.opaqueID = opaqueID
        self.token = token
        self.plugin = plugin
        self.deliver = deliver
    }

    /// Sends `{"janus":"event","plugindata":{"plugin":..,"data":data},"jsep":..}` to the session's client.
    public func pushEvent(transaction: String?, data: JSON, jsep: JSON? = nil) {
        var event: [String: JSON] = [
            "janus": "event",
            "session_id": JSON(sessionID),
            "sender": JSON(id),
            "plugindata": ["plugin": .string(plugin.package), "data": data],
        ]
        if let transaction { event["transaction"] = .string(transaction) }
        if let jsep { event["jsep"] = jsep }
        deliver(.object(event))
    }

    /// Sends a core event about this handle (`webrtcup`, `media`, `hangup`, `slowlink`, ...).
    public func pushCoreEvent(_ type: String, _ fields: [String: JSON] = [:]) {
        var event = fields
        event["janus"] = .string(type)
        event["session_id"] = JSON(sessionID)
        event["sender"] = JSON(id)
        deliver(.object(event))
    }

    /// Where `trickle` requests' candidates go (the handle's WebRTC session registers itself;
    /// ICE-lite ignores them, full ICE feeds them to its agent). Each call gets the `candidate`
    /// object or the `candidates` array as the request carried it.
    private let trickleReceiver = Mutex<(@Sendable (JSON) -> Void)?>(nil)

    public func onTrickle(_ receiver: @escaping @Sendable (JSON) -> Void) {
        trickleReceiver.withLock { $0 = receiver }
    }

    func deliverTrickle(_ candidates: JSON) {
        trickleReceiver.withLock { $0 }?(candidates)
    }

    public static func == (lhs: PluginHandle, rhs: PluginHandle) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
    public var description: String { "handle \(id) (session \(sessionID))" }
}
