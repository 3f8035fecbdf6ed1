#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import Net
import RelayHandover
import Synchronization
import TLS

/// The TURN server: UDP and TCP listeners and one UDP relay socket per allocation (per family), read
/// by Confab's own epoll loop on one thread that also runs `TURNCore` (`TURNSockets`); TLS listeners,
/// rarely used behind nginx, stay on SwiftNIO and hand their messages to that loop.
public final class TURNServer: Sendable {
    public struct Listener: Sendable, Hashable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public let counters: TURNCounters
    let configuration: TURNConfiguration
    let listeners: [Listener]
    /// TURN over TLS (RFC 8656 §3.1, "turns:"): same framing and core as TCP behind a TLS layer.
    let tlsListeners: [Listener]
    let tls: TLSServerContext?
    let logger: Logger
    /// Confab's SFU in this process, when there is one (ICE-lite): relays to its media port skip sockets.
    let handover: RelayHandover?
    struct State {
        var loop: EpollLoop?
        var sockets: LoopBound<TURNSockets>?
        var tlsChannels: [any Channel] = []
    }
    let state = Mutex(State())

    /// `tlsListeners` are bound only when `tls` is given.
    public init(configuration: TURNConfiguration, listeners: [Listener], tlsListeners: [Listener] = [],
                tls: TLSServerContext? = nil, handover: RelayHandover? = nil, logger: Logger) {
        self.configuration = configuration
        self.listeners = listeners
        self.tlsListeners = tls == nil ? [] : tlsListeners
        self.tls = tls
        self.logger = logger
        self.handover = handover
        counters = TURNCounters(handover: handover?.counters)
    }

    /// Binds every listener (UDP and TCP on each); returns the bound addresses (ports resolved when 0 was asked).
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        let (configuration, counters, logger, handover, listeners) =
            (self.configuration, self.counters, self.logger, self.handover, self.listeners)
        let loop = try EpollLoop(name: "confab-turn")
        loop.start()
        let started = await loop.submit { () -> Result<(LoopBound<TURNSockets>, [SocketAddress]), any Error> in
            let core = TURNCore(configuration: configuration, counters: counters, logger: logger)
            core.handover = handover
            let sockets = TURNSockets(loop: loop, core: core, logger: logger)
            sockets.handover = handover
            core.io = sockets
            loop.onIterationEnd = { sockets.flush() }
            loop.every(milliseconds: 1000) { core.expire() }
            do {
                var bound: [SocketAddress] = []
                for listener in listeners {
                    let udp = try sockets.listenUDP(host: listener.host, port: listener.port)
                    // TCP on the same port, also when the UDP port was chosen by the kernel.
                    let tcp = try sockets.listenTCP(host: listener.host, port: Int(udp.port))
                    bound += [udp, tcp].map { socketAddress($0, ipv6Socket: !$0.isIPv4) }
                }
                return .success((LoopBound(sockets, loop: loop), bound))
            } catch {
                sockets.closeAll()
                return .failure(error)
            }
        }
        let sockets: LoopBound<TURNSockets>, bound: [SocketAddress]
        switch started {
        case .success(let value)?:
            (sockets, bound) = value
        case .failure(let error)?:
            await loop.stop()
            throw error
        case nil:
            await loop.stop()
            throw CancellationError()
        }
        state.withLock {
            $0.loop = loop
            $0.sockets = sockets
        }
        var all = bound
        if let tls {
            for listener in tlsListeners {
                let channel = try await bindTLS(host: listener.host, port: listener.port, tls: tls, sockets: sockets)
                all += [channel.localAddress].compactMap { $0 }
            }
        }
        return all
    }

    /// A TLS listener on SwiftNIO: each connection's decrypted messages are framed there and handed to
    /// the TURN loop; what the core sends back is written through NIO.
    private func bindTLS(host: String, port: Int, tls: TLSServerContext,
                         sockets: LoopBound<TURNSockets>) async throws -> any Channel {
        let (counters, logger) = (self.counters, self.logger)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let remote = channel.remoteAddress
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(TLSServerHandler(context: tls) { failure in
                        counters.bump(counters.tlsFailures)
                        logger.debug("turn: TLS connection closed", metadata: [
                            "client": "\(remote.map(\.description) ?? "?")", "reason": "\(failure)",
                        ])
                    })
                    try pipeline.addHandler(ByteToMessageHandler(TURNStreamDecoder()))
                    try pipeline.addHandler(TLSConnectionHandler(sockets: sockets, counters: counters))
                }
            }
            .bind(host: host, port: port).get()
        state.withLock { $0.tlsChannels.append(channel) }
        return channel
    }

    /// Closes the listeners and every allocation.
    public func stop() async {
        let state = state.withLock { value in
            defer { value = State() }
            return value
        }
        for channel in state.tlsChannels { try? await channel.close() }
        guard let loop = state.loop, let sockets = state.sockets else { return }
        _ = await loop.submit {
            sockets.value.core?.removeAll()
            sockets.value.closeAll()
        }
        await loop.stop()
    }

    /// "host:port, ..." of the configured listeners, for logs.
    public var listenerDescription: String { Self.describe(listeners) }
    /// The same for the TLS listeners ("" when TLS is off).
    public var tlsListenerDescription: String { Self.describe(tlsListeners) }

    static func describe(_ listeners: [Listener]) -> String {
        listeners.map { $0.host.contains(":") ? "[\($0.host)]:\($0.port)" : "\($0.host):\($0.port)" }
            .joined(separator: ", ")
    }

    /// Allocations alive now (read on the loop).
    public func allocationCount() async -> Int {
        guard let (loop, sockets) = state.withLock({ state in state.loop.flatMap { loop in state.sockets.map { (loop, $0) } } })
        else { return 0 }
        return await loop.submit { sockets.value.core?.allocationCount ?? 0 } ?? 0
    }
}

/// One TLS connection's messages, handed to the TURN loop once per read burst.
final class TLSConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let sockets: LoopBound<TURNSockets>
    let counters: TURNCounters
    var client: ClientKey?
    var frames: [ByteBuffer] = []

    init(sockets: LoopBound<TURNSockets>, counters: TURNCounters) {
        self.sockets = sockets
        self.counters = counters
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.remoteAddress.flatMap(transportAddress) {
            let key = ClientKey(address: remote, connection: TURNSockets.newConnectionID(), isTCP: true)
            client = key
            let (sockets, channel) = (self.sockets, context.channel)
            sockets.loop.execute { sockets.value.tlsChannels[key.connection] = channel }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        frames.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        handOver()
        context.fireChannelReadComplete()
    }

    private func handOver() {
        guard let client, !frames.isEmpty else { return }
        let (sockets, frames) = (self.sockets, self.frames)
        self.frames = []
        sockets.loop.execute {
            for frame in frames { sockets.value.core?.handleClientPacket(frame, from: client) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handOver()
        if let client {
            let sockets = self.sockets
            sockets.loop.execute {
                sockets.value.tlsChannels[client.connection] = nil
                sockets.value.core?.connectionClosed(client.connection)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is TURNStreamDecoder.Garbage { counters.bump(counters.malformedDropped) }
        context.close(promise: nil)
    }
}

// MARK: - Addresses and framing

func socketAddress(_ address: TransportAddress, ipv6Socket: Bool) -> SocketAddress {
    if ipv6Socket || !address.isIPv4 {
        var v6 = sockaddr_in6()
        withUnsafeMutableBytes(of: &v6) { _ = address.write(to: $0.baseAddress!, ipv6Socket: true) }
        return SocketAddress(v6, host: "")
    }
    var v4 = sockaddr_in()
    withUnsafeMutableBytes(of: &v4) { _ = address.write(to: $0.baseAddress!, ipv6Socket: false) }
    return SocketAddress(v4, host: "")
}

func transportAddress(_ address: SocketAddress) -> TransportAddress? {
    switch address {
    case .v4(let v4):
        var raw = v4.address
        return withUnsafeBytes(of: &raw) { TransportAddress(sockaddr: $0.baseAddress!) }
    case .v6(let v6):
        var raw = v6.address
        return withUnsafeBytes(of: &raw) { TransportAddress(sockaddr: $0.baseAddress!) }
    default:
        return nil
    }
}

/// Splits a TCP byte stream into STUN messages (by their length field) and ChannelData messages
/// (padded to 4 bytes on streams, RFC 8656 §12.5). Anything else ends the connection.
struct TURNStreamDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    struct Garbage: Error {}

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = Self.frameLength(buffer) else { return .needMoreData }
        guard length > 0 else { throw Garbage() }
        guard buffer.readableBytes >= length, let frame = buffer.readSlice(length: length) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)  // a half message at EOF is dropped
        return .needMoreData
    }

    /// The whole frame's length, 0 for garbage, nil when the 4-byte prefix has not arrived.
    static func frameLength(_ buffer: ByteBuffer) -> Int? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
              let length = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
        switch first & 0xC0 {
        case 0x00:
            return length % 4 == 0 ? 20 + Int(length) : 0
        case 0x40:
            return 4 + (Int(length) + 3) & ~3
        default:
            return 0
        }
    }
}

/// DONT-FRAGMENT (RFC 8656 §7.2): datagrams leave with the DF bit set (IPv4: path MTU discovery "do";
/// IPv6 never fragments in the network, IPV6_DONTFRAG also stops the sender's own fragmentation).
/// Returns whether the option took.
@discardableResult
func setDontFragment(_ descriptor: Int32, ipv6: Bool) -> Bool {
    if ipv6 {
        var on: Int32 = 1
        return setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_DONTFRAG, &on, socklen_t(MemoryLayout<Int32>.size)) == 0
    }
    var mode = Int32(IP_PMTUDISC_DO)
    return setsockopt(descriptor, Int32(IPPROTO_IP), IP_MTU_DISCOVER, &mode, socklen_t(MemoryLayout<Int32>.size)) == 0
}
