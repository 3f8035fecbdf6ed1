import Foundation
import Hummingbird
import HummingbirdTesting
import JanusAPI
import Logging
import Prometheus
import Settings
import Testing

@testable import Transports

/// The HTTP transport through Hummingbird's in-process test client.
struct HTTPFixture: Sendable {
    let gateway: Gateway
    let listeners: Listeners

    init(configure: (inout Settings) -> Void = { _ in }) {
        var settings = Settings()
        settings.site.enabled = false
        configure(&settings)
        gateway = Gateway(configuration: .init(), plugins: [])
        listeners = Listeners(settings: settings, gateway: gateway, metrics: PrometheusCollectorRegistry(),
                              iceServers: { [["urls": "stun:127.0.0.1:3478"]] }, logger: Logger(label: "test"))
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: listeners.apiRouter()).test(.router, body)
    }
}

func json(_ buffer: ByteBuffer) -> JSON { (try? JSON.parse(Array(buffer.readableBytesView))) ?? .null }

@Suite struct JanusHTTPTests {
    @Test func createThenLongPollBatchesWithMaxev() async throws {
        let fixture = HTTPFixture()
        try await fixture.test { client in
            let created = try await client.execute(uri: "/janus", method: .post, body: ByteBuffer(string: #"{"janus":"create","transaction":"t"}"#)) {
                json($0.body)
            }
            let id = created["data"]?["id"]?.uint64Value ?? 0
            let session = fixture.gateway.session(id)!
            session.deliver(["janus": "event", "n": 1])
            session.deliver(["janus": "event", "n": 2])
            try await client.execute(uri: "/janus/\(id)?maxev=5", method: .get) { response in
                #expect(json(response.body) == [["janus": "event", "n": 1], ["janus": "event", "n": 2]])
            }
            session.deliver(["janus": "event", "n": 3])
            try await client.execute(uri: "/janus/\(id)", method: .get) { response in
                #expect(json(response.body) == ["janus": "event", "n": 3], "without maxev a single object")
            }
            try await client.execute(uri: "/janus/999", method: .get) { response in
                #expect(response.status == .notFound, "Janus answers an unknown session's long poll with a bare 404")
            }
        }
    }

    @Test func pathIDsAreUsedAndValidated() async throws {
        let fixture = HTTPFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/janus/123", method: .post, body: ByteBuffer(string: #"{"janus":"keepalive","transaction":"t"}"#)) {
                #expect(json($0.body)["error"]?["code"] == 458)
            }
            try await client.execute(uri: "/janus/abc", method: .post, body: ByteBuffer(string: #"{"janus":"keepalive","transaction":"t"}"#)) {
                #expect(json($0.body)["error"]?["code"] == 457)
            }
        }
    }

    @Test func oversizedBodyIsRefusedWithJanusError() async throws {
        let fixture = HTTPFixture { $0.http.maxBodySize = 1024 }
        try await fixture.test { client in
            let big = #"{"janus":"ping","transaction":"t","pad":""# + String(repeating: "x", count: 4096) + #""}"#
            try await client.execute(uri: "/janus", method: .post, body: ByteBuffer(string: big)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(json(response.body)["janus"] == "error")
            }
            try await client.execute(uri: "/janus", method: .post, body: ByteBuffer(string: #"{"janus":"ping","transaction":"t"}"#)) {
                #expect(json($0.body)["janus"] == "pong", "the server still answers")
            }
        }
    }

    @Test func corsPreflightAndOrigin() async throws {
        try await HTTPFixture().test { client in
            try await client.execute(uri: "/janus", method: .options,
                                     headers: [.origin: "http://page.example", .accessControlRequestHeaders: "content-type"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.accessControlAllowOrigin] == "http://page.example")
                #expect(response.headers[.accessControlAllowHeaders] == "content-type")
                #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
            }
            try await client.execute(uri: "/janus/info", method: .get, headers: [.origin: "http://page.example"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == "http://page.example")
                #expect(json(response.body)["janus"] == "server_info")
            }
        }
    }

    @Test func configDerivesURLsFromPublicURLOrHost() async throws {
        try await HTTPFixture { $0.general.publicURL = "https://meet.example.org" }.test { client in
            try await client.execute(uri: "/config", method: .get) { response in
                let config = json(response.body)
                #expect(config["httpURL"] == "https://meet.example.org/janus")
                #expect(config["wsURL"] == "wss://meet.example.org/janus")
                #expect(config["iceServers"] == [["urls": "stun:127.0.0.1:3478"]])
            }
        }
        try await HTTPFixture().test { client in
            try await client.execute(uri: "/config.js", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.hasPrefix("window.confabConfig = "))
                #expect(text.contains("\"wsURL\" : \"ws://"), "derived from the request when no public URL is set")
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            }
        }
    }
}
