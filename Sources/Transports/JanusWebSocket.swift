import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import JanusAPI
import Logging
import ServiceLifecycle
import Synchronization

/// The Janus WebSocket transport (`janus-protocol`), and the Admin API's (`janus-admin-protocol`).
/// Requests on one socket are handled in order; replies and pushed events share one outbound
/// queue, so an `ack` always precedes the events it announces.
struct JanusWebSocket: Sendable {
    static let package = "janus.transport.websockets"
    static let maxMessageSize = 1 << 20
    /// Replies and events waiting to be written to one socket.
    static let maxQueuedMessages = 10_000
    private static let nextConnectionID = Atomic<UInt64>(0)

    enum Kind: Sendable {
        case api
        case admin
        var subprotocol: String { self == .api ? "janus-protocol" : "janus-admin-protocol" }
    }

    let gateway: Gateway
    let kind: Kind

    /// Accepts sockets asking for our subprotocol (or none, as libwebsockets does) and echoes it.
    func shouldUpgrade(_ request: Request) -> RouterShouldUpgrade {
        let offered = request.headers[values: .secWebSocketProtocol]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingWhitespace }
        if offered.isEmpty { return .upgrade([:]) }
        guard offered.contains(kind.subprotocol) else { return .dontUpgrade }
        return .upgrade([.secWebSocketProtocol: kind.subprotocol])
    }

    func register<Context: WebSocketRequestContext>(on router: Router<Context>, paths: [String]) {
        for path in paths {
            router.ws(RouterPath(path), shouldUpgrade: { request, _ in shouldUpgrade(request) }) { inbound, outbound, context in
                let host = context.request.head.authority.map(ClientConfiguration.stripPort)
                await serve(inbound: inbound, outbound: outbound, host: host, logger: context.logger)
            }
        }
    }

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, host: String?, logger: Logger) async {
        // Bounded: a client that stops reading is disconnected rather than left to grow memory.
        let (queue, continuation) = AsyncStream<JSON>.makeStream(bufferingPolicy: .bufferingOldest(Self.maxQueuedMessages))
        let overflowed = OverflowFlag()
        let send: @Sendable (JSON) -> Void = { message in
            if case .dropped = continuation.yield(message), overflowed.raise() {
                continuation.finish()
            }
        }
        let sink = EventSink(id: Self.nextConnectionID.add(1, ordering: .relaxed).newValue, send: send)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in queue {
                    do { try await outbound.write(.text(message.serialized())) } catch { break }
                }
                if overflowed.isRaised {
                    logger.warning("websocket client is not reading its events; closing it")
                    try? await outbound.close(.policyViolation, reason: "too many undelivered messages")
                }
            }
            // On SIGTERM the read loop is cancelled, so the server can close the socket and stop.
            do {
                try await cancelWhenGracefulShutdown {
                    for try await message in inbound.messages(maxSize: Self.maxMessageSize) {
                        let bytes: [UInt8]
                        switch message {
                        case .text(let text): bytes = Array(text.utf8)
                        case .binary(let buffer): bytes = Array(buffer.readableBytesView)
                        }
                        await handle(bytes, sink: sink, host: host, reply: send)
                    }
                }
            } catch {
                logger.debug("websocket closed with error", metadata: ["error": "\(error)"])
            }
            continuation.finish()
            if kind == .api { gateway.connectionClosed(sink) }
            group.cancelAll()
        }
    }

    private func handle(_ bytes: [UInt8], sink: EventSink, host: String?, reply: @Sendable (JSON) -> Void) async {
        switch kind {
        case .api:
            var origin = RequestOrigin(transport: Self.package, sink: sink)
            origin.host = host
            let result = await gateway.process(bytes, origin: origin)
            reply(result.json)
            if let after = result.afterSending { Task { await after() } }
        case .admin:
            reply(await gateway.processAdmin(bytes, origin: RequestOrigin(transport: Self.package)))
        }
    }
}

/// Set once when a socket's outbound queue overflows.
private final class OverflowFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    /// True for the one caller that raised it.
    func raise() -> Bool { !flag.exchange(true, ordering: .relaxed) }
    var isRaised: Bool { flag.load(ordering: .relaxed) }
}
