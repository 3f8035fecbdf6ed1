import Foundation
import Synchronization
import Testing

@testable import JanusAPI

/// A plugin that answers `{"sync":true}` synchronously and anything else with an ack and an event,
/// and records what the core told it.
final class RecordingPlugin: JanusPlugin {
    let package = "janus.plugin.recording"
    let info = PluginInfo(name: "Recording", author: "tests", description: "records calls", versionString: "1", version: 1)
    let detached = Mutex<[UInt64]>([])

    func attach(_ handle: PluginHandle) throws(JanusError) {}
    func detach(_ handle: PluginHandle) { detached.withLock { $0.append(handle.id) } }
    func handleMessage(_ message: PluginMessage) async -> PluginResult {
        if message.body["sync"]?.boolValue == true { return .success(["echo": message.body]) }
        return .ack {
            message.handle.pushEvent(transaction: message.transaction, data: ["result": "done"], jsep: message.jsep)
        }
    }
}

struct Fixture {
    let gateway: Gateway
    let plugin = RecordingPlugin()

    init(configure: (inout Gateway.Configuration) -> Void = { _ in }) {
        var configuration = Gateway.Configuration()
        configure(&configuration)
        gateway = Gateway(configuration: configuration, plugins: [plugin])
    }

    func send(_ request: JSON, session: UInt64? = nil, handle: UInt64? = nil) async -> JSON {
        let origin = RequestOrigin(transport: "test", pathSessionID: session, pathHandleID: handle)
        let reply = await gateway.process(request.objectValue ?? [:], origin: origin)
        await reply.afterSending?()
        return reply.json
    }

    func raw(_ text: String) async -> JSON {
        await gateway.process(Array(text.utf8), origin: RequestOrigin(transport: "test")).json
    }

    func createSession() async -> UInt64 {
        await send(["janus": "create", "transaction": "c"])["data"]?["id"]?.uint64Value ?? 0
    }

    func attach(_ session: UInt64) async -> UInt64 {
        await send(["janus": "attach", "transaction": "a", "plugin": "janus.plugin.recording"], session: session)["data"]?["id"]?
            .uint64Value ?? 0
    }
}

func errorCode(_ reply: JSON) -> Int64? { reply["error"]?["code"]?.intValue }

@Suite struct EnvelopeTests {
    @Test(arguments: [
        ("{", 454), ("[1,2]", 455), ("\"text\"", 454), ("{\"janus\":\"ping\"}", 456),
        ("{\"transaction\":\"t\"}", 456), ("{\"transaction\":1,\"janus\":\"ping\"}", 467),
        ("{\"transaction\":\"t\",\"janus\":5}", 467), ("{\"transaction\":\"t\",\"janus\":\"attach\"}", 457),
        ("{\"transaction\":\"t\",\"janus\":\"keepalive\",\"session_id\":\"x\"}", 467),
        ("{\"transaction\":\"t\",\"janus\":\"keepalive\",\"session_id\":42}", 458),
    ])
    func badRequestsGetJanusCodes(text: String, code: Int64) async {
        let reply = await Fixture().raw(text)
        #expect(reply["janus"] == "error")
        #expect(errorCode(reply) == code, "\(text) → \(reply)")
    }

    @Test func pingAndInfo() async {
        let fixture = Fixture()
        #expect(await fixture.send(["janus": "ping", "transaction": "p"]) == ["janus": "pong", "transaction": "p"])
        let info = await fixture.send(["janus": "info", "transaction": "i"])
        #expect(info["janus"] == "server_info")
        #expect(info["transaction"] == "i")
        #expect(info["plugins"]?["janus.plugin.recording"]?["name"] == "Recording")
    }

    @Test func unknownRequestAtSessionIs453() async {
        let fixture = Fixture()
        let session = await fixture.createSession()
        let reply = await fixture.send(["janus": "dance", "transaction": "d"], session: session)
        #expect(errorCode(reply) == 453)
        #expect(reply["session_id"]?.uint64Value == session)
    }
}

@Suite struct SessionLifecycleTests {
    @Test func createAttachMessageDetachDestroy() async {
        let fixture = Fixture()
        let session = await fixture.createSession()
        #expect(session > 0 && session < 1 << 53)
        let handle = await fixture.attach(session)
        #expect(handle > 0)

        let sync = await fixture.send(["janus": "message", "transaction": "m", "body": ["sync": true]], session: session, handle: handle)
        #expect(sync["janus"] == "success")
        #expect(sync["sender"]?.uint64Value == handle)
        #expect(sync["plugindata"]?["plugin"] == "janus.plugin.recording")
        #expect(sync["plugindata"]?["data"]?["echo"]?["sync"] == true)

        let ack = await fixture.send(["janus": "message", "transaction": "m2", "body": [:]], session: session, handle: handle)
        #expect(ack["janus"] == "ack")
        let events = await fixture.gateway.session(session)!.nextEvents(max: 10, deadline: .now + .seconds(1))
        #expect(events.count == 1)
        #expect(events.first?["janus"] == "event")
        #expect(events.first?["transaction"] == "m2")
        #expect(events.first?["plugindata"]?["data"]?["result"] == "done")

        let detach = await fixture.send(["janus": "detach", "transaction": "x"], session: session, handle: handle)
        #expect(detach["janus"] == "success")
        #expect(fixture.plugin.detached.withLock { $0 } == [handle])
        #expect(errorCode(await fixture.send(["janus": "detach", "transaction": "x"], session: session, handle: handle)) == 459)

        #expect(await fixture.send(["janus": "destroy", "transaction": "d"], session: session)["janus"] == "success")
        #expect(errorCode(await fixture.send(["janus": "keepalive", "transaction": "k"], session: session)) == 458)
        #expect(fixture.gateway.sessionCount == 0)
    }

    @Test func clientChosenSessionIDAndConflict() async {
        let fixture = Fixture()
        let first = await fixture.send(["janus": "create", "transaction": "c", "id": 12345])
        #expect(first["data"]?["id"] == 12345)
        #expect(errorCode(await fixture.send(["janus": "create", "transaction": "c", "id": 12345])) == 468)
    }

    @Test func attachErrors() async {
        let fixture = Fixture()
        let session = await fixture.createSession()
        #expect(errorCode(await fixture.send(["janus": "attach", "transaction": "a"], session: session)) == 456)
        #expect(errorCode(await fixture.send(["janus": "attach", "transaction": "a", "plugin": 3], session: session)) == 467)
        let missing = await fixture.send(["janus": "attach", "transaction": "a", "plugin": "janus.plugin.nope"], session: session)
        #expect(errorCode(missing) == 460)
        #expect(missing["error"]?["reason"] == "No such plugin 'janus.plugin.nope'")
    }

    @Test func messageAndTrickleValidation() async {
        let fixture = Fixture()
        let session = await fixture.createSession()
        let handle = await fixture.attach(session)
        func send(_ request: JSON) async -> JSON { await fixture.send(request, session: session, handle: handle) }
        #expect(errorCode(await send(["janus": "message", "transaction": "m"])) == 456)
        #expect(errorCode(await send(["janus": "message", "transaction": "m", "body": "x"])) == 467)
        #expect(errorCode(await send(["janus": "message", "transaction": "m", "body": [:], "jsep": ["type": "pranswer", "sdp": "v=0"]])) == 464)
        #expect(await send(["janus": "trickle", "transaction": "t", "candidate": ["completed": true]])["janus"] == "ack")
        let candidate: JSON = ["candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0", "sdpMLineIndex": 0]
        #expect(await send(["janus": "trickle", "transaction": "t", "candidate": candidate])["janus"] == "ack")
        #expect(await send(["janus": "trickle", "transaction": "t", "candidates": [candidate, ["completed": true]]])["janus"] == "ack")
        #expect(errorCode(await send(["janus": "trickle", "transaction": "t"])) == 456)
        #expect(errorCode(await send(["janus": "trickle", "transaction": "t", "candidate": candidate, "candidates": []])) == 454)
        #expect(errorCode(await send(["janus": "trickle", "transaction": "t", "candidates": "x"])) == 467)
    }

    @Test func sessionTimesOutWithEventAndDetachesHandles() async {
        let fixture = Fixture { $0.sessionTimeout = 1 }
        let session = await fixture.createSession()
        let handle = await fixture.attach(session)
        let object = fixture.gateway.session(session)!
        async let events = object.nextEvents(max: 5, deadline: .now + .seconds(10))
        try? await Task.sleep(for: .milliseconds(50))  // let the long poll start waiting
        fixture.gateway.sweep(now: .now + .seconds(2))
        let received = await events
        #expect(received == [["janus": "timeout", "session_id": JSON(session)]])
        #expect(fixture.gateway.sessionCount == 0)
        #expect(fixture.plugin.detached.withLock { $0 } == [handle])
    }

    @Test func longPollExpiresEmpty() async {
        let fixture = Fixture()
        let session = fixture.gateway.session(await fixture.createSession())!
        // The deadline is fixed before the poll starts: `async let` would evaluate it in the child task.
        let deadline = ContinuousClock.now + .milliseconds(10)
        async let events = session.nextEvents(max: 1, deadline: deadline)
        try? await Task.sleep(for: .milliseconds(30))
        fixture.gateway.sweep(now: .now)  // expires it if it was waiting; a late start sees the past deadline
        #expect(await events.isEmpty)
    }

    @Test func closedSocketDestroysItsSessionsOnly() async {
        let fixture = Fixture()
        let sink = EventSink(id: 1) { _ in }
        let owned = await fixture.gateway.process(["janus": "create", "transaction": "c"], origin: RequestOrigin(transport: "ws", sink: sink))
        let other = await fixture.createSession()
        fixture.gateway.connectionClosed(sink)
        #expect(fixture.gateway.session(owned.json["data"]?["id"]?.uint64Value ?? 0) == nil)
        #expect(fixture.gateway.session(other) != nil)
    }

    @Test func claimMovesEventsToTheNewSocket() async {
        let fixture = Fixture { $0.reclaimSessionTimeout = 30 }
        let received = Mutex<[JSON]>([])
        let first = EventSink(id: 1) { _ in }
        let second = EventSink(id: 2) { event in received.withLock { $0.append(event) } }
        let created = await fixture.gateway.process(["janus": "create", "transaction": "c"], origin: RequestOrigin(transport: "ws", sink: first))
        let id = created.json["data"]?["id"]?.uint64Value ?? 0
        fixture.gateway.connectionClosed(first)
        #expect(fixture.gateway.session(id) != nil, "kept for reclaim_session_timeout")
        fixture.gateway.session(id)?.deliver(["janus": "event", "n": 1])
        let claim = await fixture.gateway.process(
            ["janus": "claim", "transaction": "cl", "session_id": JSON(id)], origin: RequestOrigin(transport: "ws", sink: second))
        #expect(claim.json["janus"] == "success")
        #expect(received.withLock { $0 } == [["janus": "event", "n": 1]])
    }
}

@Suite struct AuthTests {
    @Test func apiSecret() async {
        let fixture = Fixture { $0.apiSecret = "s3cret" }
        #expect(errorCode(await fixture.send(["janus": "create", "transaction": "c"])) == 403)
        #expect(errorCode(await fixture.send(["janus": "create", "transaction": "c", "apisecret": "wrong"])) == 403)
        let ok = await fixture.send(["janus": "create", "transaction": "c", "apisecret": "s3cret"])
        #expect(ok["janus"] == "success")
        #expect(await fixture.send(["janus": "ping", "transaction": "p"])["janus"] == "pong", "ping needs no secret")
        let session = ok["data"]?["id"]?.uint64Value ?? 0
        #expect(errorCode(await fixture.send(["janus": "keepalive", "transaction": "k"], session: session)) == 403)
    }

    @Test func signedTokens() async {
        let secret = "janus"
        let fixture = Fixture { $0.tokenMode = .signed(secret: secret) }
        let future = Int64(Date().timeIntervalSince1970) + 3600
        let good = Authenticator.signedToken(expiry: future, plugins: ["janus.plugin.recording"], secret: secret)
        let otherPlugin = Authenticator.signedToken(expiry: future, plugins: ["janus.plugin.videoroom"], secret: secret)
        let expired = Authenticator.signedToken(expiry: future - 7200, plugins: ["janus.plugin.recording"], secret: secret)
        let forged = Authenticator.signedToken(expiry: future, plugins: ["janus.plugin.recording"], secret: "other")
        for bad in [expired, forged, "garbage", ""] {
            #expect(errorCode(await fixture.send(["janus": "create", "transaction": "c", "token": .string(bad)])) == 403)
        }
        let created = await fixture.send(["janus": "create", "transaction": "c", "token": .string(otherPlugin)])
        let session = created["data"]?["id"]?.uint64Value ?? 0
        let refused = await fixture.send(
            ["janus": "attach", "transaction": "a", "plugin": "janus.plugin.recording", "token": .string(otherPlugin)], session: session)
        #expect(errorCode(refused) == 405)
        let allowed = await fixture.send(
            ["janus": "attach", "transaction": "a", "plugin": "janus.plugin.recording", "token": .string(good)], session: session)
        #expect(allowed["janus"] == "success")
    }

    /// The signature format Janus documents: HMAC-SHA1 over "expiry,janus,plugins", base64.
    @Test func signatureMatchesKnownVector() {
        // HMAC-SHA1(key "key", "The quick brown fox jumps over the lazy dog") = de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9
        #expect(Authenticator.sign("The quick brown fox jumps over the lazy dog", secret: "key") == "3nybhbi3iqa8ino29wqQcBydtNk=")
    }
}

@Suite struct AdminTests {
    let fixture = Fixture {
        $0.adminSecret = "admin"
        $0.tokenMode = .stored
    }

    func admin(_ request: JSON, session: UInt64? = nil, handle: UInt64? = nil) async -> JSON {
        var body = request.objectValue ?? [:]
        body["admin_secret"] = "admin"
        return await fixture.gateway.processAdmin(body, origin: RequestOrigin(transport: "test", pathSessionID: session, pathHandleID: handle))
    }

    /// `ice_servers`: TURN credentials for API clients, authenticated like `create`, for the host they used.
    @Test func iceServersNeedTheSameAuthenticationAsCreate() async {
        let fixture = Fixture {
            $0.apiSecret = "s3cret"
            $0.iceServers = { host in [["urls": .string("turn:\(host ?? "?"):3478"), "username": "u", "credential": "c"]] }
        }
        var origin = RequestOrigin(transport: "test")
        origin.host = "meet.example.org"
        let refused = await fixture.gateway.process(["janus": "ice_servers", "transaction": "t"], origin: origin)
        #expect(errorCode(refused.json) == 403)
        let reply = await fixture.gateway.process(["janus": "ice_servers", "transaction": "t", "apisecret": "s3cret"],
                                                  origin: origin)
        #expect(reply.json["janus"] == "success")
        #expect(reply.json["transaction"] == "t")
        let server = reply.json["data"]?["iceServers"]?.arrayValue?.first
        #expect(server?["urls"] == "turn:meet.example.org:3478")
        #expect(server?["credential"] == "c")
    }

    /// Confab's own figures (TURN, media) ride along in get_status; Janus's fields keep their meaning.
    @Test func statusCarriesTheExtrasWithoutOverridingJanusFields() async {
        let fixture = Fixture {
            $0.adminSecret = "admin"
            $0.statusExtras = { ["turn": ["allocations": 3], "session_timeout": 999] }
        }
        let reply = await fixture.gateway.processAdmin(["janus": "get_status", "transaction": "t", "admin_secret": "admin"],
                                                       origin: RequestOrigin(transport: "test"))
        #expect(reply["status"]?["turn"]?["allocations"] == 3)
        #expect(reply["status"]?["session_timeout"] == 60)
        #expect(reply["status"]?["log_level"] != nil)
    }

    @Test func requiresSecret() async {
        let reply = await fixture.gateway.processAdmin(["janus": "list_sessions", "transaction": "t"], origin: RequestOrigin(transport: "t"))
        #expect(errorCode(reply) == 403)
        let disabled = Fixture()
        let off = await disabled.gateway.processAdmin(["janus": "list_sessions", "transaction": "t", "admin_secret": ""], origin: RequestOrigin(transport: "t"))
        #expect(errorCode(off) == 403, "an empty admin secret turns the Admin API off")
    }

    @Test func sessionsHandlesAndInfo() async {
        let token = "tok"
        _ = await admin(["janus": "add_token", "transaction": "t", "token": .string(token)])
        let session = fixture.gateway.session(
            (await fixture.send(["janus": "create", "transaction": "c", "token": .string(token)]))["data"]?["id"]?.uint64Value ?? 0)!
        let handle = await fixture.send(["janus": "attach", "transaction": "a", "plugin": "janus.plugin.recording", "token": .string(token)],
                                        session: session.id)["data"]?["id"]?.uint64Value ?? 0
        #expect(await admin(["janus": "list_sessions", "transaction": "t"])["sessions"] == [JSON(session.id)])
        #expect(await admin(["janus": "list_handles", "transaction": "t"], session: session.id)["handles"] == [JSON(handle)])
        let info = await admin(["janus": "handle_info", "transaction": "t"], session: session.id, handle: handle)
        #expect(info["info"]?["plugin"] == "janus.plugin.recording")
        #expect(await admin(["janus": "destroy_session", "transaction": "t"], session: session.id)["janus"] == "success")
        #expect(fixture.gateway.sessionCount == 0)
    }

    @Test func tokensAndSettings() async {
        let added = await admin(["janus": "add_token", "transaction": "t", "token": "abc", "plugins": ["janus.plugin.recording"]])
        #expect(added["data"]?["plugins"] == ["janus.plugin.recording"])
        let listed = await admin(["janus": "list_tokens", "transaction": "t"])
        #expect(listed["data"]?["tokens"] == [["token": "abc", "allowed_plugins": ["janus.plugin.recording"]]])
        #expect(await admin(["janus": "remove_token", "transaction": "t", "token": "abc"])["janus"] == "success")
        #expect(errorCode(await admin(["janus": "remove_token", "transaction": "t", "token": "abc"])) == 490)
        #expect(await admin(["janus": "set_session_timeout", "transaction": "t", "timeout": 5])["timeout"] == 5)
        #expect(await admin(["janus": "get_status", "transaction": "t"])["status"]?["session_timeout"] == 5)
        #expect(errorCode(await admin(["janus": "set_log_level", "transaction": "t", "level": 9])) == 467)
        #expect(errorCode(await admin(["janus": "nonsense", "transaction": "t"])) == 457)
        var badPath = RequestOrigin(transport: "test")
        badPath.invalidPath = true  // e.g. POST /admin/abc
        let reply = await fixture.gateway.processAdmin(["janus": "list_handles", "transaction": "t", "admin_secret": "admin"], origin: badPath)
        #expect(errorCode(reply) == 457)
    }
}
