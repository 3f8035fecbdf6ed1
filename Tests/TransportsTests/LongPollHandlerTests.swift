import HTTPTypes
import JanusAPI
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import Transports

/// The pipeline long poll on an EmbeddedChannel: what it answers, and that it leaves other
/// requests (and their order) alone.
struct LongPollChannel {
    let gateway = Gateway(configuration: .init(), plugins: [])
    let channel = EmbeddedChannel()

    init() throws {
        try channel.pipeline.syncOperations.addHandler(LongPollHandler(gateway: gateway, basePath: "/janus", allowOrigin: ""))
    }

    func get(_ path: String, headers: HTTPFields = [:]) throws {
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: "x", path: path, headerFields: headers)))
        try channel.writeInbound(HTTPRequestPart.end(nil))
    }

    /// The response written so far: status and body text.
    func response() throws -> (HTTPResponse.Status, String, HTTPFields)? {
        guard case .head(let head)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        var body = ""
        while let part = try channel.readOutbound(as: HTTPResponsePart.self) {
            if case .body(let buffer) = part { body += String(buffer: buffer) }
            if case .end = part { break }
        }
        return (head.status, body, head.headerFields)
    }

    func createSession() async -> Session {
        let reply = await gateway.process(["janus": "create", "transaction": "t"], origin: RequestOrigin(transport: "test"))
        return gateway.session(reply.json["data"]?["id"]?.uint64Value ?? 0)!
    }
}

@Suite struct LongPollHandlerTests {
    @Test func unknownSessionIsABare404() throws {
        let fixture = try LongPollChannel()
        try fixture.get("/janus/4242?maxev=1")
        let response = try fixture.response()
        #expect(response?.0 == .notFound)
        #expect(response?.1 == "")
    }

    @Test func parkedPollAnswersWhenAnEventArrives() async throws {
        let fixture = try LongPollChannel()
        let session = await fixture.createSession()
        try fixture.get("/janus/\(session.id)?maxev=3", headers: [.origin: "http://page"])
        #expect(try fixture.response() == nil, "nothing yet: the poll waits")
        session.deliver(["janus": "event", "n": 1])
        fixture.channel.embeddedEventLoop.run()
        let response = try fixture.response()
        #expect(response?.0 == .ok)
        #expect(response?.1 == #"[{"janus":"event","n":1}]"#)
        #expect(response?.2[.accessControlAllowOrigin] == "http://page")
    }

    @Test func otherRequestsPassThroughAndPipelinedOnesWait() async throws {
        let fixture = try LongPollChannel()
        try fixture.get("/janus/info")
        #expect(try fixture.channel.readInbound(as: HTTPRequestPart.self) != nil, "/janus/info goes to the router")
        _ = try fixture.channel.readInbound(as: HTTPRequestPart.self)
        try fixture.channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try fixture.channel.writeOutbound(HTTPResponsePart.end(nil))
        _ = try fixture.response()

        let session = await fixture.createSession()
        try fixture.get("/janus/\(session.id)")
        try fixture.get("/janus/info")  // pipelined behind the waiting poll
        #expect(try fixture.channel.readInbound(as: HTTPRequestPart.self) == nil, "held until the poll is answered")
        session.deliver(["janus": "event"])
        fixture.channel.embeddedEventLoop.run()
        #expect(try fixture.response()?.1 == #"{"janus":"event"}"#)
        #expect(try fixture.channel.readInbound(as: HTTPRequestPart.self) != nil, "then replayed to the router")
    }

    @Test func closedConnectionReleasesTheWaiter() async throws {
        let fixture = try LongPollChannel()
        let session = await fixture.createSession()
        try fixture.get("/janus/\(session.id)")
        _ = try fixture.channel.finish()
        // The session still works for the next poll: no waiter is left to swallow its event.
        session.deliver(["janus": "event"])
        #expect(await session.nextEvents(max: 1, deadline: .now + .seconds(1)) == [["janus": "event"]])
    }
}
