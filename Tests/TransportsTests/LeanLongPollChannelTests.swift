import JanusAPI
import NIOCore
import NIOEmbedded
import Testing

@testable import Transports

/// Collects whatever reaches the "full" pipeline after a hand-over.
private final class FullPipelineStandIn: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    var received = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
    }
}

/// Counts the reads the pipeline asks the socket for.
private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

/// A lean API connection on an EmbeddedChannel, with a stand-in for Hummingbird's pipeline.
private struct LeanConnection {
    let gateway = Gateway(configuration: .init(), plugins: [])
    let channel = EmbeddedChannel()
    let standIn = FullPipelineStandIn()
    let handover: EventLoopFuture<Int?>

    init() throws {
        let (channel, standIn) = (channel, standIn)
        handover = try LeanLongPollChannel.addLeanPipeline(
            to: channel, gateway: gateway, basePath: "/janus", allowOrigin: "",
            setUpFull: { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(standIn)
                    return 7
                }
            })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
    }

    func send(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        channel.embeddedEventLoop.run()
    }

    /// Everything written to the socket so far.
    func written() throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = data { text += String(buffer: buffer) }
        }
        return text
    }

    var isLean: Bool { (try? channel.pipeline.syncOperations.handler(type: LongPollHandler.self)) != nil }

    func createSession() async -> Session {
        let reply = await gateway.process(["janus": "create", "transaction": "t"], origin: RequestOrigin(transport: "test"))
        return gateway.session(reply.json["data"]?["id"]?.uint64Value ?? 0)!
    }
}

@Suite struct LeanLongPollChannelTests {
    private func classify(_ text: String) -> LeanRequestHead.Kind {
        LeanRequestHead.classify(ByteBuffer(string: text).readableBytesView, basePath: "/janus")
    }

    @Test func sortsRequestHeads() {
        let poll = "GET /janus/123?maxev=5 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        #expect(classify(poll) == .longPoll(headLength: poll.utf8.count))
        #expect(classify(poll + "POST /janus HTTP/1.1\r\n") == .longPoll(headLength: poll.utf8.count))
        #expect(classify("GE") == .incomplete)
        #expect(classify("GET /janus/123 HTTP/1.1\r\nHost: x\r\n") == .incomplete)
        #expect(classify("POST /janus/123 HTTP/1.1\r\n\r\n") == .other)
        #expect(classify("GET /janus/info HTTP/1.1\r\n\r\n") == .other)
        #expect(classify("GET /janus/123 HTTP/1.0\r\n\r\n") == .other, "HTTP/1.0 keep-alive rules: Hummingbird's")
        #expect(classify("GET /janus/123 HTTP/1.1\r\nUpgrade: websocket\r\n\r\n") == .other)
        #expect(classify("GET /janus/123 HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc") == .other)
        #expect(classify("GET /janus/123 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == .other)
        #expect(classify("GET /janus/123 HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n") == .other)
    }

    @Test func pollIsAnsweredOnTheLeanPipeline() throws {
        let connection = try LeanConnection()
        try connection.send("GET /janus/4242?maxev=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.written().hasPrefix("HTTP/1.1 404"))
        #expect(connection.isLean)
        #expect(connection.standIn.received == "")
    }

    @Test func otherRequestHandsTheConnectionOverWithItsBytes() throws {
        let connection = try LeanConnection()
        try connection.send("GET /janus/4242 HTTP/1.1\r\n\r\n")
        _ = try connection.written()
        let post = "POST /janus HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
        try connection.send(String(post.prefix(10)))
        try connection.send(String(post.dropFirst(10)))
        #expect(!connection.isLean)
        #expect(connection.standIn.received == post)
        #expect(try connection.handover.wait() == 7)
    }

    @Test func bytesArrivingWhileTheHandOverIsUnderWayAreReplayedToo() throws {
        let connection = try LeanConnection()
        let post = "POST /janus HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
        // No loop turn between the reads: NIO's decoder leaves the pipeline only on the next one.
        try connection.channel.writeInbound(ByteBuffer(string: String(post.prefix(10))))
        try connection.channel.writeInbound(ByteBuffer(string: String(post.dropFirst(10))))
        connection.channel.embeddedEventLoop.run()
        #expect(!connection.isLean)
        #expect(connection.standIn.received == post)
        #expect(connection.channel.isActive)
    }

    @Test func requestPipelinedBehindAParkedPollWaitsForItsAnswer() async throws {
        let connection = try LeanConnection()
        let session = await connection.createSession()
        try connection.send("GET /janus/\(session.id) HTTP/1.1\r\n\r\nGET /index.html HTTP/1.1\r\n\r\n")
        #expect(connection.isLean, "the poll is parked; the page request waits behind it")
        #expect(connection.standIn.received == "")
        session.deliver(["janus": "event"])
        connection.channel.embeddedEventLoop.run()
        #expect(try connection.written().contains(#"{"janus":"event"}"#))
        #expect(!connection.isLean)
        #expect(connection.standIn.received == "GET /index.html HTTP/1.1\r\n\r\n")
    }

    @Test func aClientFloodingBehindAParkedPollStopsBeingReadUntilTheAnswer() async throws {
        let connection = try LeanConnection()
        let counter = ReadCounter()
        try connection.channel.pipeline.syncOperations.addHandler(counter, position: .first)
        let session = await connection.createSession()
        try connection.send("GET /janus/\(session.id) HTTP/1.1\r\n\r\n")
        connection.channel.read()
        #expect(counter.reads == 1, "a parked poll alone does not stop reading")
        let flood = String(repeating: "x", count: 16 * 1024)
        for _ in 0..<5 { try connection.send(flood) }
        connection.channel.read()
        #expect(counter.reads == 1, "80 KiB behind a parked poll: no more reads")
        session.deliver(["janus": "event"])
        connection.channel.embeddedEventLoop.run()
        #expect(try connection.written().contains(#"{"janus":"event"}"#))
        #expect(counter.reads == 2, "the held read goes out once the poll is answered")
    }

    @Test func closingWhileLeanEndsWithoutHandover() throws {
        let connection = try LeanConnection()
        try connection.send("GET /janus/4242 HTTP/1.1\r\n\r\n")
        _ = try connection.channel.finish()
        #expect(try connection.handover.wait() == nil)
    }
}
