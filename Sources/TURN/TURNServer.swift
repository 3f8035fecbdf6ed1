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

/// The TURN server on SwiftNIO: UDP and TCP listeners, one UDP relay socket per allocation
/// (per family), all on one event loop that also runs `TURNCore`.
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
    public let eventLoop: any EventLoop
    let configuration: TURNConfiguration
    let listeners: [Listener]
    /// TURN over TLS (RFC 8656 §3.1, "turns:"): same framing and core as TCP behind a TLS layer.
    let tlsListeners: [Listener]
    let tls: TLSServerContext?
    let logger: Logger
    /// Confab's SFU in this process, when there is one (ICE-lite): relays to its media port skip sockets.
    let handover: RelayHandover?
    struct State {
        var channels: [any Channel] = []
        var sweep: RepeatedTask?
        var core: NIOLoopBound<TURNCore>?
        var io: NIOLoopBound<NIOTURNIO>?
    }
    let state = Mutex(State())

    /// `eventLoop`: where everything runs; nil = one loop of NIO's shared group.
    /// `tlsListeners` are bound only when `tls` is given.
    public init(configuration: TURNConfiguration, listeners: [Listener], tlsListeners: [Listener] = [],
                tls: TLSServerContext? = nil, handover: RelayHandover? = nil, eventLoop: (any EventLoop)? = nil,
                logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
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
        let (configuration, counters, logger, eventLoop) = (self.configuration, self.counters, self.logger, self.eventLoop)
        let handover = self.handover
        let (coreBox, ioBox) = try await eventLoop.submit {
            let core = TURNCore(configuration: configuration, counters: counters, logger: logger)
            core.handover = handover
            let io = NIOTURNIO(eventLoop: eventLoop, logger: logger)
            io.handover = handover
            let coreBox = NIOLoopBound(core, eventLoop: eventLoop)
            io.core = coreBox
            core.io = io
            return (coreBox, NIOLoopBound(io, eventLoop: eventLoop))
        }.get()
        state.withLock {
            $0.core = coreBox
            $0.io = ioBox
        }
        var bound: [SocketAddress] = []
        for listener in listeners {
            let udpID = try await eventLoop.submit { ioBox.value.newConnectionID() }.get()
            // Bound here rather than by NIO so that the SFU's threads can send ChannelData from it too.
            let descriptor = try Self.bindUDP(host: listener.host, port: listener.port)
            let shared = dup(descriptor)
            let udp: any Channel
            do {
                udp = try await DatagramBootstrap(group: eventLoop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_sndbuf), value: 4 << 20)
                .channelOption(.datagramVectorReadMessageCount, value: 32)
                // One recvmmsg per readiness: NIO's epoll is level-triggered, so what is left raises the
                // next wakeup, and a second read that would only say EAGAIN is saved.
                .channelOption(.maxMessagesPerRead, value: 1)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2048))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            DatagramBurstHandler.listener(id: udpID, core: coreBox.value, io: ioBox.value))
                    }
                }
                .withBoundSocket(descriptor).get()
            } catch {
                close(shared)
                throw error
            }
            state.withLock { $0.channels.append(udp) }
            let isIPv6 = udp.localAddress?.protocol == .inet6
            let clientSocket = ClientSocket(descriptor: shared, isIPv6: isIPv6)
            try await eventLoop.submit { ioBox.value.udpListeners[udpID] = (udp, isIPv6, clientSocket) }.get()
            let port = udp.localAddress?.port ?? listener.port
            let tcp = try await bindStream(host: listener.host, port: port, tls: nil, core: coreBox, io: ioBox)
            bound += [udp.localAddress, tcp.localAddress].compactMap { $0 }
        }
        if let tls {
            for listener in tlsListeners {
                let channel = try await bindStream(host: listener.host, port: listener.port, tls: tls, core: coreBox, io: ioBox)
                bound += [channel.localAddress].compactMap { $0 }
            }
        }
        let sweep = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            coreBox.value.expire()
        }
        state.withLock { $0.sweep = sweep }
        return bound
    }

    /// A UDP socket bound to `host`:`port` (SO_REUSEADDR, as NIO would), handed to NIO afterwards.
    static func bindUDP(host: String, port: Int) throws -> Int32 {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        // Every client's datagrams queue here while the loop relays: 16 MiB when the process may exceed
        // net.core.rmem_max (CAP_NET_ADMIN), else 4 MiB as far as rmem_max allows.
        var size: Int32 = 16 << 20
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            size = 4 << 20
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let result = address.withSockAddr { bind(descriptor, $0, socklen_t($1)) }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            throw IOError(errnoCode: code, reason: "bind UDP \(host):\(port)")
        }
        return descriptor
    }

    /// A TCP listener; with `tls`, each connection gets a TLS layer in front of the same framing.
    private func bindStream(host: String, port: Int, tls: TLSServerContext?, core coreBox: NIOLoopBound<TURNCore>,
                            io ioBox: NIOLoopBound<NIOTURNIO>) async throws -> any Channel {
        let (counters, logger) = (self.counters, self.logger)
        let channel = try await ServerBootstrap(group: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let io = ioBox.value
                    let id = io.newConnectionID()
                    io.tcpConnections[id] = channel
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        let remote = channel.remoteAddress
                        try pipeline.addHandler(TLSServerHandler(context: tls) { failure in
                            counters.bump(counters.tlsFailures)
                            logger.debug("turn: TLS connection closed", metadata: [
                                "client": "\(remote.map(\.description) ?? "?")", "reason": "\(failure)",
                            ])
                        })
                    }
                    try pipeline.addHandler(ByteToMessageHandler(TURNStreamDecoder()))
                    try pipeline.addHandler(TCPConnectionHandler(id: id, core: coreBox.value, io: io))
                }
            }
            .bind(host: host, port: port).get()
        state.withLock { $0.channels.append(channel) }
        return channel
    }

    /// Closes the listeners and every allocation.
    public func stop() async {
        let state = state.withLock { value in
            defer { value = State() }
            return value
        }
        state.sweep?.cancel()
        for channel in state.channels { try? await channel.close() }
        guard let coreBox = state.core, let ioBox = state.io else { return }
        try? await eventLoop.submit {
            coreBox.value.removeAll()
            coreBox.value.io = nil
            ioBox.value.closeAll()
            ioBox.value.core = nil
        }.get()
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
        guard let coreBox = state.withLock({ $0.core }) else { return 0 }
        return (try? await eventLoop.submit { coreBox.value.allocationCount }.get()) ?? 0
    }
}

// MARK: - Socket plumbing

/// `TURNIO` on NIO channels. Lives on the server's event loop.
///
/// NIO reads every socket; UDP datagrams leave without it: what a read burst relays (to peers from the
/// relay sockets, to clients from the listener) is written straight into one preallocated send batch per
/// address family and sent with sendmmsg when the burst ends. That skips NIO's per-datagram
/// `AddressedEnvelope`, `SocketAddress` and pending-write bookkeeping, and ChannelData towards clients is
/// framed in the batch slot instead of a fresh `ByteBuffer`. TCP/TLS writes stay on NIO.
final class NIOTURNIO: TURNIO {
    let eventLoop: any EventLoop
    let logger: Logger
    var core: NIOLoopBound<TURNCore>?
    var udpListeners: [Int: (channel: any Channel, isIPv6: Bool, shared: ClientSocket)] = [:]
    var handover: RelayHandover?
    var tcpConnections: [Int: any Channel] = [:]
    struct Relay {
        /// False for a relay handed to the SFU in process: its port is reserved, no socket exists.
        var bound = true
        /// The relay socket (NIO reads it; sends go straight to it); -1 when none.
        var descriptor: Int32 = -1
        var channel: (any Channel)?
        var port: UInt16
        var isIPv6: Bool
    }
    var relays: [RelayID: Relay] = [:]
    var usedPorts: Set<UInt16> = []
    private var nextID = 1

    init(eventLoop: any EventLoop, logger: Logger) {
        self.eventLoop = eventLoop
        self.logger = logger
    }

    func newConnectionID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    /// Channels written to since the last flush. Sends happen while handling a read, and the reading
    /// handler flushes them all in `channelReadComplete`, so a burst leaves in one batch (sendmmsg for UDP).
    private var dirty: [ObjectIdentifier: any Channel] = [:]
    private var inRead = 0
    /// UDP datagrams queued during a read burst, from IPv4 and from IPv6 sockets.
    private let outbox4 = MixedSendBatch(capacity: 64, ipv6Socket: false)
    private let outbox6 = MixedSendBatch(capacity: 64, ipv6Socket: true)

    private func outbox(ipv6Socket: Bool) -> MixedSendBatch { ipv6Socket ? outbox6 : outbox4 }

    /// Sends the queued UDP datagrams unless a read burst is under way (its end sends them).
    private func flushUnlessReading() {
        if inRead == 0 { flushDatagrams() }
    }

    private func flushDatagrams() {
        if !outbox4.isEmpty { outbox4.flush() }
        if !outbox6.isEmpty { outbox6.flush() }
    }

    private func write<T: Sendable>(_ value: T, on channel: any Channel) {
        if inRead > 0 {
            channel.write(value, promise: nil)
            dirty[ObjectIdentifier(channel)] = channel
        } else {
            channel.writeAndFlush(value, promise: nil)
        }
    }

    func beginRead() { inRead += 1 }

    func endRead() {
        inRead = max(0, inRead - 1)
        // What handed-over datagrams made the SFU forward leaves now, in one batch.
        if inRead == 0 {
            flushDatagrams()
            handover?.flush()
        }
        guard !dirty.isEmpty else { return }
        let channels = dirty.values
        dirty = [:]
        for channel in channels { channel.flush() }
    }

    func sendToClient(_ data: ByteBuffer, _ client: ClientKey) {
        if client.isTCP {
            if let channel = tcpConnections[client.connection] { write(data, on: channel) }
        } else if let listener = udpListeners[client.connection] {
            guard data.readableBytes <= datagramSlotSize else {
                let envelope = AddressedEnvelope(remoteAddress: socketAddress(client.address, ipv6Socket: listener.isIPv6),
                                                 data: data)
                return write(envelope, on: listener.channel)
            }
            queue(data, from: listener.shared.descriptor, ipv6Socket: listener.isIPv6, to: client.address)
        }
    }

    func sendChannelData(_ number: UInt16, _ payload: ByteBuffer, to client: ClientKey) {
        let count = payload.readableBytes
        guard !client.isTCP, count + 4 <= datagramSlotSize, let listener = udpListeners[client.connection] else {
            return sendToClient(channelDataMessage(number, payload, stream: client.isTCP), client)
        }
        outbox(ipv6Socket: listener.isIPv6).append(from: listener.shared.descriptor, to: client.address) { slot in
            slot.storeBytes(of: number.bigEndian, toByteOffset: 0, as: UInt16.self)
            slot.storeBytes(of: UInt16(count).bigEndian, toByteOffset: 2, as: UInt16.self)
            payload.withUnsafeReadableBytes { bytes in
                if count > 0 { (slot.baseAddress! + 4).copyMemory(from: bytes.baseAddress!, byteCount: count) }
            }
            return 4 + count
        }
        flushUnlessReading()
    }

    func sendFromRelay(_ relay: RelayID, to peer: TransportAddress, _ data: ByteBuffer) {
        guard let state = relays[relay], state.bound, state.descriptor >= 0,
              data.readableBytes <= datagramSlotSize else { return }
        queue(data, from: state.descriptor, ipv6Socket: state.isIPv6, to: peer)
    }

    private func queue(_ data: ByteBuffer, from descriptor: Int32, ipv6Socket: Bool, to destination: TransportAddress) {
        let count = data.readableBytes
        outbox(ipv6Socket: ipv6Socket).append(from: descriptor, to: destination) { slot in
            data.withUnsafeReadableBytes { bytes in
                if count > 0 { slot.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: count) }
            }
            return count
        }
        flushUnlessReading()
    }

    func clientSocket(for client: ClientKey) -> ClientSocket? {
        client.isTCP ? nil : udpListeners[client.connection]?.shared
    }

    func slowPath(relay: RelayID) -> @Sendable ([UInt8], TransportAddress) -> Void {
        let (eventLoop, me) = (self.eventLoop, NIOLoopBound(self, eventLoop: eventLoop))
        return { bytes, peer in
            eventLoop.execute {
                me.value.core?.value.handlePeerPacket(ByteBuffer(bytes: bytes), relay: relay, from: peer)
                me.value.endReadIfIdle()
            }
        }
    }

    /// Flushes what a slow-path hand-over wrote when no read burst will.
    private func endReadIfIdle() {
        guard inRead == 0 else { return }
        flushDatagrams()
        guard !dirty.isEmpty else { return }
        let channels = dirty.values
        dirty = [:]
        for channel in channels { channel.flush() }
    }

    func openRelay(address: TransportAddress, ports: ClosedRange<UInt16>, evenPort: Bool,
                   bindSocket: Bool, dontFragment: Bool) -> (id: RelayID, address: TransportAddress)? {
        // A handed-over relay sends no IP datagram at all, so DONT-FRAGMENT holds trivially there.
        guard bindSocket else { return reserveRelay(address: address, ports: ports, evenPort: evenPort) }
        guard let core else { return nil }
        let isIPv6 = !address.isIPv4
        // Non-blocking from the start: datagrams are sent on it before NIO has registered it.
        let descriptor = socket(isIPv6 ? AF_INET6 : AF_INET,
                                Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        if isIPv6 {
            var on: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        var buffer: Int32 = 1 << 20
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        if dontFragment { setDontFragment(descriptor, ipv6: isIPv6) }
        let count = Int(ports.upperBound) - Int(ports.lowerBound) + 1
        let start = Int.random(in: 0..<count)
        var chosen: UInt16?
        for step in 0..<count {
            let port = UInt16(Int(ports.lowerBound) + (start + step) % count)
            if usedPorts.contains(port) || (evenPort && port % 2 != 0) { continue }
            var storage = sockaddr_storage()
            let length = withUnsafeMutableBytes(of: &storage) { raw in
                address.with(port: port).write(to: raw.baseAddress!, ipv6Socket: isIPv6)
            }
            let result = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
            }
            if result == 0 {
                chosen = port
                break
            }
            if errno != EADDRINUSE && errno != EACCES { break }
        }
        guard let port = chosen else {
            close(descriptor)
            logger.warning("turn: no free relay port in \(ports.lowerBound)-\(ports.upperBound)")
            return nil
        }
        let id = newConnectionID()
        usedPorts.insert(port)
        relays[id] = Relay(descriptor: descriptor, channel: nil, port: port, isIPv6: isIPv6)
        let me = NIOLoopBound(self, eventLoop: eventLoop)
        DatagramBootstrap(group: eventLoop)
            .channelOption(.datagramVectorReadMessageCount, value: 8)
            .channelOption(.maxMessagesPerRead, value: 1)  // as the listener: one recvmmsg per readiness
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 8 * 2048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramBurstHandler.relay(id: id, core: core.value, io: me.value))
                }
            }
            .withBoundSocket(descriptor)
            .whenComplete { result in
                let io = me.value
                switch result {
                case .success(let channel):
                    guard io.relays[id] != nil else {
                        channel.close(promise: nil)
                        return
                    }
                    io.relays[id]?.channel = channel
                case .failure(let error):
                    io.logger.warning("turn: relay socket failed: \(error)")
                    io.flushDatagrams()
                    io.relays[id]?.descriptor = -1
                    close(descriptor)
                }
            }
        return (id, address.with(port: port))
    }

    /// A relayed address for the in-process hand-over: a port from the range no other relay uses, and no socket.
    private func reserveRelay(address: TransportAddress, ports: ClosedRange<UInt16>,
                              evenPort: Bool) -> (id: RelayID, address: TransportAddress)? {
        let count = Int(ports.upperBound) - Int(ports.lowerBound) + 1
        let start = Int.random(in: 0..<count)
        for step in 0..<count {
            let port = UInt16(Int(ports.lowerBound) + (start + step) % count)
            if usedPorts.contains(port) || (evenPort && port % 2 != 0) { continue }
            let id = newConnectionID()
            usedPorts.insert(port)
            relays[id] = Relay(bound: false, channel: nil, port: port, isIPv6: !address.isIPv4)
            return (id, address.with(port: port))
        }
        logger.warning("turn: no free relay port in \(ports.lowerBound)-\(ports.upperBound)")
        return nil
    }

    func closeRelay(_ relay: RelayID) {
        guard let state = relays.removeValue(forKey: relay) else { return }
        usedPorts.remove(state.port)
        // Nothing queued may go out on a descriptor number the kernel could hand to another socket.
        if state.descriptor >= 0 { outbox(ipv6Socket: state.isIPv6).flush(before: state.descriptor) }
        state.channel?.close(promise: nil)
    }

    func closeAll() {
        for id in Array(relays.keys) { closeRelay(id) }
        for channel in tcpConnections.values { channel.close(promise: nil) }
        tcpConnections = [:]
        flushDatagrams()
        for listener in udpListeners.values { close(listener.shared.descriptor) }
        udpListeners = [:]
    }
}

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

/// Reads datagrams (a client listener's or a relay socket's) and hands each to `deliver`, telling
/// the I/O layer when a read burst starts and ends so replies go out in one flush per burst.
/// UDP errors (ICMP port unreachable and the like) are ignored: the socket keeps going.
final class DatagramBurstHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let io: NIOTURNIO
    let deliver: (ByteBuffer, TransportAddress) -> Void
    var reading = false

    init(io: NIOTURNIO, deliver: @escaping (ByteBuffer, TransportAddress) -> Void) {
        self.io = io
        self.deliver = deliver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !reading {
            reading = true
            io.beginRead()
        }
        let envelope = unwrapInboundIn(data)
        guard let from = transportAddress(envelope.remoteAddress) else { return }
        deliver(envelope.data, from)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if reading {
            reading = false
            io.endRead()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}

    /// A client listener: every datagram comes from a client (STUN or ChannelData).
    static func listener(id: Int, core: TURNCore, io: NIOTURNIO) -> DatagramBurstHandler {
        DatagramBurstHandler(io: io) { data, from in
            core.handleClientPacket(data, from: ClientKey(address: from, connection: id, isTCP: false))
        }
    }

    /// A relay socket: every datagram comes from a peer of allocation `id`.
    static func relay(id: RelayID, core: TURNCore, io: NIOTURNIO) -> DatagramBurstHandler {
        DatagramBurstHandler(io: io) { data, from in core.handlePeerPacket(data, relay: id, from: from) }
    }
}

final class TCPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let id: Int
    let core: TURNCore
    let io: NIOTURNIO
    var client: ClientKey?
    var reading = false

    init(id: Int, core: TURNCore, io: NIOTURNIO) {
        self.id = id
        self.core = core
        self.io = io
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.remoteAddress.flatMap(transportAddress) {
            client = ClientKey(address: remote, connection: id, isTCP: true)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let client else { return }
        if !reading {
            reading = true
            io.beginRead()
        }
        core.handleClientPacket(unwrapInboundIn(data), from: client)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if reading {
            reading = false
            io.endRead()
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if reading {
            reading = false
            io.endRead()
        }
        io.tcpConnections[id] = nil
        core.connectionClosed(id)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is TURNStreamDecoder.Garbage { core.counters.bump(core.counters.malformedDropped) }
        context.close(promise: nil)
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
