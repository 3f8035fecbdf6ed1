// janus.plugin.echotest: whatever a browser sends comes straight back to it, the classic first
// test of a Janus deployment (camera, microphone, network path, codecs).
//
// API as Janus's echotest documents it: one asynchronous request with optional `audio`,
// `video` (echo on/off), `bitrate` (cap, enforced through REMB), `keyframe` (ask the browser
// for one), `substream`/`temporal` (simulcast layer echoed back), a jsep offer to negotiate;
// events `{"echotest":"event","result":"ok"}`, errors with `error_code`/`error`, and
// `result: "done"` when the PeerConnection goes away.

import JanusAPI
import JanusMedia
import Logging
import Media
import SDP
import Synchronization

public final class EchoTestPlugin: JanusPlugin {
    public let package = "janus.plugin.echotest"
    public let info = PluginInfo(
        name: "Confab EchoTest plugin", author: "Confab",
        description: "Echoes a peer's audio, video and RTCP back to it, to test devices and the network path.",
        versionString: "0.0.7", version: 7)

    let engine: MediaEngine
    let logger: Logger
    private let sessions = Mutex<[UInt64: EchoSession]>([:])

    public init(engine: MediaEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    public func attach(_ handle: PluginHandle) throws(JanusError) {
        let session = EchoSession(handle: handle, engine: engine)
        sessions.withLock { $0[handle.id] = session }
    }

    public func detach(_ handle: PluginHandle) {
        let session = sessions.withLock { $0.removeValue(forKey: handle.id) }
        session?.webrtc.destroy()
    }

    /// The client's `hangup`: close the PeerConnection (its close sends `hangup` and `done`), or
    /// just say `done` when there is none, as Janus does.
    public func hangup(_ handle: PluginHandle) {
        guard let session = session(handle) else { return }
        if session.webrtc.connection != nil {
            session.webrtc.hangUp(reason: "Janus API")
        } else {
            handle.pushEvent(transaction: nil, data: EchoMedia.done)
        }
    }

    public func handleMessage(_ message: PluginMessage) async -> PluginResult {
        guard let session = session(message.handle) else {
            return .failure(JanusError(.pluginMessage, "No EchoTest session for this handle"))
        }
        let request: EchoRequest
        do throws(EchoError) {
            request = try EchoRequest(message.body)
            if !request.hasSupportedAttribute, message.jsep == nil {
                throw EchoError(code: 413, reason: "Message error: no supported attributes found")
            }
        } catch {
            return .ack { message.handle.pushEvent(transaction: message.transaction, data: error.eventData) }
        }
        return .ack { [logger] in
            let (data, jsep) = session.apply(request, jsep: message.jsep, logger: logger)
            message.handle.pushEvent(transaction: message.transaction, data: data, jsep: jsep)
        }
    }

    public func query(_ handle: PluginHandle) -> JSON {
        session(handle)?.media.summary ?? [:]
    }

    public func webrtcInfo(_ handle: PluginHandle) -> JSON? {
        session(handle)?.webrtc.adminInfo
    }

    private func session(_ handle: PluginHandle) -> EchoSession? {
        sessions.withLock { $0[handle.id] }
    }
}

/// The body of an echotest request, type-checked as Janus does (413 for a wrong type).
struct EchoRequest {
    var audio: Bool?
    var video: Bool?
    var bitrate: UInt32?
    var keyframe = false
    var substream: Int?
    var temporal: Int?
    var record: Bool?
    var audioCodec: String?
    var videoCodec: String?
    /// Attributes Janus's echotest knows, even those Confab only accepts (a request with none
    /// of them and no jsep is an error there, and here).
    static let known: Set<String> = [
        "audio", "video", "bitrate", "record", "filename", "substream", "temporal", "fallback", "spatial_layer",
        "temporal_layer", "audiocodec", "videocodec", "videoprofile", "min_delay", "max_delay", "keyframe",
    ]
    var hasSupportedAttribute = false

    init(_ body: JSON) throws(EchoError) {
        guard case .object(let fields) = body else { throw EchoError(code: 412, reason: "JSON error: not an object") }
        hasSupportedAttribute = fields.keys.contains { Self.known.contains($0) }
        audio = try Self.optional(body, "audio") { $0.boolValue }
        video = try Self.optional(body, "video") { $0.boolValue }
        bitrate = try Self.optional(body, "bitrate") { $0.intValue.flatMap { UInt32(exactly: $0) } }
        keyframe = try Self.optional(body, "keyframe") { $0.boolValue } ?? false
        substream = try Self.layer(body, "substream")
        temporal = try Self.layer(body, "temporal")
        record = try Self.optional(body, "record") { $0.boolValue }
        audioCodec = try Self.optional(body, "audiocodec") { $0.stringValue }
        videoCodec = try Self.optional(body, "videocodec") { $0.stringValue }
        if record == true { throw EchoError(code: 413, reason: "Recording is not supported by Confab yet") }
    }

    /// A simulcast layer index: 0, 1 or 2 (Janus's exact wording for anything else).
    private static func layer(_ body: JSON, _ key: String) throws(EchoError) -> Int? {
        guard let value = try optional(body, key, { $0.intValue.flatMap { Int(exactly: $0) } }) else { return nil }
        guard (0...2).contains(value) else {
            throw EchoError(code: 413, reason: "Invalid value (\(key) should be 0, 1 or 2)")
        }
        return value
    }

    private static func optional<T>(_ body: JSON, _ key: String, _ read: (JSON) -> T?) throws(EchoError) -> T? {
        guard let value = body[key] else { return nil }
        guard let typed = read(value) else {
            let kind = T.self == Bool.self ? "a boolean" : T.self == String.self ? "a string" : "a positive integer"
            throw EchoError(code: 413, reason: "Invalid element type (\(key) should be \(kind))")
        }
        return typed
    }
}

struct EchoError: Error {
    let code: Int
    let reason: String

    var eventData: JSON {
        ["echotest": "event", "error_code": .int(Int64(code)), "error": .string(reason)]
    }
}
