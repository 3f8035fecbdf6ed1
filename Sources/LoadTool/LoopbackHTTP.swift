// A minimal HTTP/1.1 client on SwiftNIO for the load tool's signalling: one connection per
// request (`Connection: close`), a deadline that closes the channel, the body collected whole.
// Foundation's URLSession on Linux crashed under the load tool's few hundred concurrent long
// polls ("Trying to access a behaviour for a task that in not in the registry"), and a full
// HTTP client library would pull TLS and HTTP/2 into the build for plain loopback requests.

import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

enum LoopbackHTTP {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends one request and returns the response body; fails on a non-2xx status, a closed
    /// connection before the end of the response, or when `timeout` seconds pass first.
    static func send(_ method: HTTPMethod, _ url: URL, body: Data? = nil, timeout: Double) async throws -> Data {
        guard url.scheme == "http", let host = url.host else {
            throw Failure(description: "confab-load speaks plain http:// only (point it at the server's own port, not nginx): \(url)")
        }
        let port = url.port ?? 80
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        // Closing the channel at the deadline ends the inbound stream below.
        let deadline = channel.channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) {
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            var request: [HTTPClientRequestPart] = [.head(head(method, url, host: host, port: port, bodyLength: body?.count ?? 0))]
            if let body { request.append(.body(.byteBuffer(ByteBuffer(data: body)))) }
            request.append(.end(nil))
            // One write, one flush. A server that answers as soon as it has the request may close
            // the connection (we asked for `Connection: close`) before the trailing empty `.end`
            // is written; the answer is in the inbound stream all the same.
            do { try await outbound.write(contentsOf: request) } catch ChannelError.ioOnClosedChannel {}
            return try await collect(inbound, url: url)
        }
    }

    private static func head(_ method: HTTPMethod, _ url: URL, host: String, port: Int, bodyLength: Int) -> HTTPRequestHead {
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(bodyLength))
        return head
    }

    private static func collect(_ inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>, url: URL) async throws -> Data {
        var status: HTTPResponseStatus = .ok
        var body = ByteBuffer()
        for try await part in inbound {
            switch part {
            case .head(let head): status = head.status
            case .body(var chunk): body.writeBuffer(&chunk)
            case .end:
                guard (200..<300).contains(status.code) else {
                    throw Failure(description: "\(url): HTTP \(status.code)")
                }
                return Data(buffer: body)
            }
        }
        throw Failure(description: "\(url): connection closed before the response ended (timeout?)")
    }
}
