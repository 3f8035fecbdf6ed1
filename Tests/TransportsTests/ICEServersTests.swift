import Foundation
import Hummingbird
import HummingbirdTesting
import JanusAPI
import Logging
import Prometheus
import Settings
import Testing

@testable import Transports

/// `/config`'s iceServers are built for the host the page uses: general.public_url's host, else the Host
/// header without its port (`stripPort`).
@Suite struct ICEServersTests {
    func fixture(publicURL: String) -> Listeners {
        var settings = Settings()
        settings.site.enabled = false
        settings.general.publicURL = publicURL
        return Listeners(settings: settings, gateway: Gateway(configuration: .init(), plugins: []),
                         metrics: PrometheusCollectorRegistry(),
                         iceServersForHost: { host in [["urls": .string("turn:\(host):3478")]] }, logger: Logger(label: "test"))
    }

    @Test func hostFromThePublicURL() async throws {
        for (url, host) in [("https://meet.example.org", "meet.example.org"), ("https://meet.example.org:8443/x", "meet.example.org"),
                            ("http://[2001:db8::1]:8088", "[2001:db8::1]")] {
            try await Application(router: fixture(publicURL: url).apiRouter()).test(.router) { client in
                try await client.execute(uri: "/config", method: .get) { response in
                    #expect(json(response.body)["iceServers"] == [["urls": .string("turn:\(host):3478")]], "\(url)")
                }
            }
        }
    }

    @Test func portsAreStripped() {
        #expect(ClientConfiguration.stripPort("example.org:8088") == "example.org")
        #expect(ClientConfiguration.stripPort("example.org") == "example.org")
        #expect(ClientConfiguration.stripPort("[::1]:8088") == "[::1]")
        #expect(ClientConfiguration.stripPort("[::1]") == "[::1]")
        #expect(ClientConfiguration.stripPort("127.0.0.1:80") == "127.0.0.1")
    }
}
