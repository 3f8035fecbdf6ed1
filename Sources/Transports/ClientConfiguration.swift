#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird
import JanusAPI
import NIOCore

/// `/config.js` and `/config`: where the pages find the API (HTTP and WebSocket URLs) and which
/// ICE servers to use, so nobody edits JavaScript to point a page at the server.
struct ClientConfiguration: Sendable {
    /// `general.public_url`; empty = derive from the request's Host (and X-Forwarded-Proto).
    let publicURL: String
    let apiPath: String
    let serverName: String
    /// ICE servers for the page, given the host it uses (TURN credentials are minted per request).
    let iceServers: @Sendable (_ host: String) -> JSON

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/config.js") { request, _ in
            let script = "window.confabConfig = \(document(for: request).serialized(pretty: true));\n"
            var headers = HTTPFields()
            headers[.contentType] = "text/javascript; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: script)))
        }
        router.get("/config") { request, _ in
            var response = Response.json(document(for: request))
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    func document(for request: Request) -> JSON {
        let (httpBase, wsBase) = bases(for: request)
        return [
            "httpURL": .string(httpBase + apiPath),
            "wsURL": .string(wsBase + apiPath),
            "iceServers": iceServers(host(for: request)),
            "serverName": .string(serverName),
        ]
    }

    /// The host of the public URL, else of the request's Host header, without the port (IPv6 in brackets).
    func host(for request: Request) -> String {
        if let url = URL(string: publicURL), url.scheme != nil, let host = url.host, !host.isEmpty {
            return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
        return Self.stripPort(request.head.authority ?? "localhost")
    }

    /// `"[::1]:8088"` → `"[::1]"`, `"example.org:80"` → `"example.org"`.
    static func stripPort(_ authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[...end])
        }
        if let colon = authority.lastIndex(of: ":"), authority.firstIndex(of: ":") == colon {
            return String(authority[..<colon])
        }
        return authority
    }

    /// `https://host[:port]` and `wss://host[:port]` for the public URL or the request.
    private func bases(for request: Request) -> (String, String) {
        if let url = URL(string: publicURL), let scheme = url.scheme, let host = url.host {
            let secure = scheme == "https"
            let port = url.port.map { ":\($0)" } ?? ""
            let hostPart = host.contains(":") ? "[\(host)]" : host
            return ("\(secure ? "https" : "http")://\(hostPart)\(port)", "\(secure ? "wss" : "ws")://\(hostPart)\(port)")
        }
        let host = request.head.authority ?? "localhost"
        let forwarded = HTTPField.Name("X-Forwarded-Proto").flatMap { request.headers[$0] }?.lowercased()
        let secure = forwarded == "https"
        return ("\(secure ? "https" : "http")://\(host)", "\(secure ? "wss" : "ws")://\(host)")
    }
}
