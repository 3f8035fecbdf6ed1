import HTTPTypes
import JanusAPI
import NIOCore
import NIOHTTPTypes

/// Parks Janus long polls (`GET <path>/<session>`) in the channel pipeline, so a waiting poll
/// costs a small callback instead of a suspended request task: 10,000 sessions each holding a
/// long poll is the normal load of an HTTP-only deployment. Everything else passes through to
/// Hummingbird untouched. A poll that arrives while Hummingbird is still answering an earlier
/// request on the same connection (HTTP pipelining) is passed through too, and the routed
/// fallback answers it, so responses never overtake each other.
final class LongPollHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A poll we own: its answer is written once the request has ended and the answer is known.
    private struct Parked {
        var session: Session?
        var waiter: UInt64?
        let poll: LongPoll
        let head: HTTPRequest
        var requestEnded = false
        var answer: (status: HTTPResponse.Status, body: JSON?)?
    }

    private enum State {
        case idle
        /// A request went to Hummingbird; its response has not ended yet.
        case forwarding
        case parked(Parked)
    }

    private let gateway: Gateway
    private let basePath: String
    private let allowOrigin: String
    private var state = State.idle
    /// Requests that arrived while a parked poll was waiting (pipelining); replayed after it.
    private var backlog: [NIOAny] = []

    init(gateway: Gateway, basePath: String, allowOrigin: String) {
        self.gateway = gateway
        self.basePath = basePath
        self.allowOrigin = allowOrigin
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .forwarding:
            context.fireChannelRead(data)
        case .parked(var parked) where !parked.requestEnded:
            // A GET has no body worth reading; only its end matters.
            guard case .end = unwrapInboundIn(data) else { return }
            parked.requestEnded = true
            state = .parked(parked)
            writeAnswerIfReady(context: context)
        case .parked:
            backlog.append(data)
        case .idle:
            guard case .head(let head) = unwrapInboundIn(data), head.method == .get,
                let target = head.path, let poll = LongPoll(target: target, basePath: basePath)
            else {
                state = .forwarding
                context.fireChannelRead(data)
                return
            }
            park(poll, head: head, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .forwarding = state, case .end = unwrapOutboundIn(data) { state = .idle }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .parked(let parked) = state, let waiter = parked.waiter { parked.session?.releaseWaiter(waiter) }
        state = .idle
        backlog.removeAll()
        context.fireChannelInactive()
    }

    private func park(_ poll: LongPoll, head: HTTPRequest, context: ChannelHandlerContext) {
        state = .parked(Parked(poll: poll, head: head))
        switch poll.check(with: gateway) {
        case .notFound:
            respond(.notFound, body: nil, context: context)
        case .forbidden:
            respond(.forbidden, body: nil, context: context)
        case .wait(let session):
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            // As in Janus, a waiting long poll is not activity: clients send keepalives.
            let waiter = session.waitForEvents(max: poll.maxEvents, deadline: .now + LongPoll.timeout) { events in
                loop.execute {
                    let (handler, context) = bound.value
                    handler.respond(.ok, body: poll.body(for: events), context: context)
                }
            }
            if case .parked(var parked) = state {
                parked.session = session
                parked.waiter = waiter
                state = .parked(parked)
            }
        }
    }

    private func respond(_ status: HTTPResponse.Status, body: JSON?, context: ChannelHandlerContext) {
        guard case .parked(var parked) = state, parked.answer == nil else { return }
        parked.answer = (status, body)
        state = .parked(parked)
        writeAnswerIfReady(context: context)
    }

    /// Writes the poll's response, then replays whatever the client sent meanwhile.
    private func writeAnswerIfReady(context: ChannelHandlerContext) {
        guard case .parked(let parked) = state, parked.requestEnded, let answer = parked.answer else { return }
        let bytes = answer.body.map { Array($0.serializedBytes()) } ?? []
        var response = HTTPResponse(status: answer.status)
        if answer.body != nil { response.headerFields[.contentType] = "application/json" }
        response.headerFields[.contentLength] = String(bytes.count)
        if let origin = parked.head.headerFields[.origin] {
            response.headerFields[.accessControlAllowOrigin] = allowOrigin.isEmpty ? origin : allowOrigin
            response.headerFields[.vary] = "Origin"
        }
        let closeAfter = parked.head.headerFields[.connection]?.lowercased() == "close"
        if closeAfter { response.headerFields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if !bytes.isEmpty {
            context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: bytes))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        if closeAfter { written.futureResult.whenComplete { _ in context.close(promise: nil) } }
        state = .idle
        let pending = backlog
        backlog.removeAll()
        for data in pending { channelRead(context: context, data: data) }
    }
}
