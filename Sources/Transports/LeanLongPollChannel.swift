#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HummingbirdCore
import HummingbirdWebSocket
import JanusAPI
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The API port's connections start on a lean SwiftNIO pipeline that only serves Janus long polls,
/// and move to Hummingbird's full HTTP/WebSocket pipeline at their first other request.
///
/// Why: an HTTP-only deployment holds one long poll per session, usually each on its own
/// connection, and Hummingbird's connection (its request task's async frames, `NIOAsyncChannel`
/// streams, upgrade handler) costs ≈17 KiB while it waits; heaptrack put ≈9 KiB of that in the
/// connection task's stack slabs alone. A lean connection is NIO's HTTP/1 decoder and encoder plus
/// `LongPollHandler`, and its task only awaits the hand-over future.
struct LeanLongPollChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        /// Hummingbird's set-up once the connection was handed over; nil when it closed while lean.
        let handover: EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value?>
    }

    let full: HTTP1WebSocketUpgradeChannel
    let gateway: Gateway
    let basePath: String
    let allowOrigin: String

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let full = self.full
            // NIO keeps each connection's receive buffer for its next read: 2 KiB by default, more
            // than a poll's head needs (reads that fill it grow it). A connection handed over goes
            // back to NIO's default.
            try channel.syncOptions?.setOption(.recvAllocator, value: Self.leanReceiveBuffers)
            let handover = try Self.addLeanPipeline(
                to: channel, gateway: gateway, basePath: basePath, allowOrigin: allowOrigin,
                setUpFull: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.syncOptions?.setOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator())
                    }.flatMap { full.setup(channel: channel, logger: logger) }
                })
            return Value(channel: channel, handover: handover)
        }
    }

    static let leanReceiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    /// Adds the lean handlers (on the channel's event loop); the future gives `setUpFull`'s value
    /// once the connection was handed over, nil if it closed while lean.
    static func addLeanPipeline<FullValue: Sendable>(
        to channel: any Channel, gateway: Gateway, basePath: String, allowOrigin: String,
        setUpFull: @escaping (any Channel) -> EventLoopFuture<FullValue>
    ) throws -> EventLoopFuture<FullValue?> {
        let handover = channel.eventLoop.makePromise(of: FullValue?.self)
        let encoder = HTTPResponseEncoder()
        let leanHandlers: [any RemovableChannelHandler] = [
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
            HTTP1ToHTTPServerCodec(secure: false),
            LongPollHandler(gateway: gateway, basePath: basePath, allowOrigin: allowOrigin),
            LeanConnectionTail(),
        ]
        let front = LeanConnectionFront(
            basePath: basePath, leanHandlers: [encoder] + leanHandlers, handover: handover, setUpFull: setUpFull)
        let pipeline = channel.pipeline.syncOperations
        // Order: the front sees raw request bytes before the decoder, and response parts
        // (to know when a poll was answered) before the encoder.
        try pipeline.addHandler(encoder)
        try pipeline.addHandler(front)
        try pipeline.addHandlers(leanHandlers)
        return handover.futureResult
    }

    func handle(value: Value, logger: Logger) async {
        guard let fullValue = try? await value.handover.get() else { return }
        await full.handle(value: fullValue, logger: logger)
    }
}

/// Passes complete long-poll requests to the lean pipeline one at a time; at the first request
/// that is anything else (or that it cannot judge), removes the lean handlers, sets up
/// Hummingbird's pipeline on the channel and replays the bytes received since the last poll.
/// `FullValue` is what setting up the full pipeline yields (Hummingbird's, or a test's stand-in).
final class LeanConnectionFront<FullValue: Sendable>: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let basePath: String
    private var leanHandlers: [any RemovableChannelHandler]
    private let handover: EventLoopPromise<FullValue?>
    private let setUpFull: (any Channel) -> EventLoopFuture<FullValue>
    /// Bytes received and not yet passed on (a partial head, requests pipelined behind a poll, or
    /// everything received while the hand-over is under way).
    private var pending: ByteBuffer?
    private var pollInFlight = false
    /// Set at the hand-over's start. Removing NIO's decoder completes on a later loop tick, so
    /// reads can still arrive here before Hummingbird's handlers are in place: they are kept for
    /// the replay.
    private var handedOver = false
    private var handoverCompleted = false
    /// A read held back because a client kept sending behind a parked poll (see `read`).
    private var readDeferred = false
    /// Bytes kept behind a parked poll before the connection stops reading: Janus clients do not
    /// pipeline, so this only bounds what a misbehaving client can make the server hold.
    static var maxPendingBehindPoll: Int { 64 * 1024 }

    init(basePath: String, leanHandlers: [any RemovableChannelHandler],
         handover: EventLoopPromise<FullValue?>,
         setUpFull: @escaping (any Channel) -> EventLoopFuture<FullValue>) {
        self.basePath = basePath
        self.leanHandlers = leanHandlers
        self.handover = handover
        self.setUpFull = setUpFull
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if pending == nil { pending = bytes } else { pending!.writeBuffer(&bytes) }
        if !pollInFlight, !handedOver { examinePending(context: context) }
    }

    func read(context: ChannelHandlerContext) {
        if pollInFlight, !handedOver, let pending, pending.readableBytes >= Self.maxPendingBehindPoll {
            readDeferred = true
            return
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        guard isEnd, !handedOver else { return }
        pollInFlight = false
        // Not from inside LongPollHandler's write: it finishes its own bookkeeping first.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (front, context) = bound.value
            if !front.handedOver, !front.pollInFlight, context.channel.isActive { front.examinePending(context: context) }
            if front.readDeferred, context.channel.isActive {
                front.readDeferred = false
                context.read()
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard !handedOver else { return context.fireUserInboundEventTriggered(event) }
        switch event {
        case is ChannelShouldQuiesceEvent, ChannelEvent.inputClosed as ChannelEvent:
            // Shutting down, or the client sent all it will: a parked poll has no one to answer to
            // that Janus clients would not reconnect anyway.
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        completeHandover(nil)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if !handedOver { completeHandover(nil) }
    }

    private func completeHandover(_ value: FullValue?) {
        guard !handoverCompleted else { return }
        handoverCompleted = true
        handover.succeed(value)
    }

    private func examinePending(context: ChannelHandlerContext) {
        guard var bytes = pending, bytes.readableBytes > 0 else { return }
        switch LeanRequestHead.classify(bytes.readableBytesView, basePath: basePath) {
        case .incomplete where bytes.readableBytes <= LeanRequestHead.maxHeadSize:
            return
        case .longPoll(let headLength):
            let head = bytes.readSlice(length: headLength)!
            pending = bytes.readableBytes > 0 ? bytes : nil
            pollInFlight = true
            context.fireChannelRead(wrapInboundOut(head))
        case .incomplete, .other:
            handOver(context: context)
        }
    }

    private func handOver(context: ChannelHandlerContext) {
        handedOver = true
        let channel = context.channel
        let pipeline = context.pipeline
        let removals = leanHandlers.map { pipeline.syncOperations.removeHandler($0) }
        leanHandlers = []
        EventLoopFuture.andAllSucceed(removals, on: context.eventLoop).assumeIsolated()
            .flatMap { self.setUpFull(channel) }
            .whenComplete { result in
                switch result {
                case .success(let value):
                    let replay = self.pending
                    self.pending = nil
                    pipeline.syncOperations.removeHandler(context: context, promise: nil)
                    self.completeHandover(value)
                    if let replay {
                        pipeline.syncOperations.fireChannelRead(NIOAny(replay))
                        pipeline.syncOperations.fireChannelReadComplete()
                    }
                case .failure:
                    self.completeHandover(nil)
                    channel.close(promise: nil)
                }
            }
    }
}

/// Ends the lean pipeline: anything reaching it (a request `LongPollHandler` would forward, a
/// decoding error) means the connection cannot be served lean, so it is closed.
final class LeanConnectionTail: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Decides from raw bytes whether a request head is a plain Janus long poll
/// (`GET <path>/<session> HTTP/1.1`, no body, no upgrade). It only sorts requests: NIO's decoder
/// parses (and validates) the polls, Hummingbird everything else.
enum LeanRequestHead {
    /// Longest request head judged here; longer ones go to Hummingbird, which has its own limits.
    static let maxHeadSize = 8192

    enum Kind: Equatable {
        case incomplete
        case longPoll(headLength: Int)
        case other
    }

    static func classify(_ bytes: ByteBufferView, basePath: String) -> Kind {
        let get = Array("GET /".utf8)
        let prefixLength = min(bytes.count, get.count)
        guard bytes.prefix(prefixLength).elementsEqual(get.prefix(prefixLength)) else { return .other }
        guard let end = headEnd(bytes) else { return .incomplete }
        let head = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, requestLine[2] == "HTTP/1.1",
            LongPoll(target: String(requestLine[1]), basePath: basePath) != nil
        else { return .other }
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), line.first != " ", line.first != "\t" else { return .other }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingWhitespace
            switch name {
            case "content-length" where value != "0": return .other
            case "transfer-encoding", "upgrade", "expect": return .other
            default: continue
            }
        }
        return .longPoll(headLength: end - bytes.startIndex + 4)
    }

    /// Index of the `\r\n\r\n` ending the head, if it is there.
    private static func headEnd(_ bytes: ByteBufferView) -> ByteBufferView.Index? {
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }
}
