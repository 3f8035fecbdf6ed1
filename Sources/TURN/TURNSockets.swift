// The TURN server's sockets on Confab's own epoll loop (`EpollLoop`): the UDP listener, the relay
// sockets and plain TCP connections, all on the thread that runs `TURNCore`.
//
// Why not SwiftNIO here: a relay does almost nothing per packet (find the channel, forward), so the
// general-purpose machinery around each datagram — an `AddressedEnvelope` with a fresh
// `SocketAddress`, a pipeline walk — was most of the server's user-space CPU. Here a readiness event
// reads a whole batch with one recvmmsg into preallocated slots; each datagram is copied into one
// reused `ByteBuffer` for the core (no allocation); whatever the core relays is framed straight into
// a preallocated send batch, and at the end of each loop iteration everything queued leaves together:
// one sendmmsg per run of datagrams from the same socket, one write per TCP connection.

#if canImport(Glibc)
import Glibc
import CLinux
#endif
import Logging
import NIOCore
import Net
import RelayHandover
import Synchronization

/// `TURNIO` on raw sockets. Lives on the TURN loop; every method runs there.
final class TURNSockets: TURNIO {
    let loop: EpollLoop
    let logger: Logger
    /// Strong, and the core holds this object: the cycle is broken by `closeAll` when the server stops.
    var core: TURNCore?
    var handover: RelayHandover?

    struct UDPListener {
        let socket: ClientSocket
    }
    var udpListeners: [Int: UDPListener] = [:]
    var tcpListeners: [Int32] = []
    var streams: [Int: StreamConnection] = [:]
    /// TLS connections (SwiftNIO channels); what the core sends them is written through NIO.
    var tlsChannels: [Int: any Channel] = [:]

    struct Relay {
        /// False for a relay handed to the SFU in process: its port is reserved, no socket exists.
        var bound = true
        var descriptor: Int32 = -1
        var port: UInt16
        var isIPv6: Bool
    }
    var relays: [RelayID: Relay] = [:]
    var usedPorts: Set<UInt16> = []

    /// Connection ids are unique across the loop and the TLS side (which numbers its connections on NIO's threads).
    private static let connectionIDs = Atomic<Int>(0)
    static func newConnectionID() -> Int { connectionIDs.add(1, ordering: .relaxed).newValue }

    private let received = ReceiveBatch(capacity: 32)
    /// The datagram handed to the core; refilled for each one (the core copies what it keeps).
    private var scratch = ByteBufferAllocator().buffer(capacity: datagramSlotSize)
    /// What leaves from the listener (to clients) and from relay sockets (to peers), per address family.
    /// Kept apart so that everything an iteration sends to clients is one run from one socket: one
    /// sendmmsg, however the ready relay sockets and the listener were interleaved.
    private let toClients4 = MixedSendBatch(capacity: 64, ipv6Socket: false)
    private let toClients6 = MixedSendBatch(capacity: 64, ipv6Socket: true)
    private let toPeers4 = MixedSendBatch(capacity: 64, ipv6Socket: false)
    private let toPeers6 = MixedSendBatch(capacity: 64, ipv6Socket: true)
    /// TCP connections with bytes queued since the last flush.
    private var unflushed: [StreamConnection] = []
    /// A listener stopped accepting because the process ran out of descriptors; retried every second.
    private var pausedListeners: [Int32] = []

    /// A TCP client that does not read what is relayed to it is cut off beyond this many queued bytes.
    static let maxQueuedBytes = 4 << 20
    /// Bytes read from one connection per readiness before the other sockets get their turn.
    static let readQuantum = 256 << 10

    init(loop: EpollLoop, core: TURNCore, logger: Logger) {
        self.loop = loop
        self.core = core
        self.logger = logger
        loop.every(milliseconds: 1000) { [unowned self] in resumeListeners() }
    }

    // MARK: - Listeners

    /// The client-facing UDP socket on `host`:`port`; returns its bound address.
    func listenUDP(host: String, port: Int) throws -> TransportAddress {
        let address = try resolve(host, port: port)
        let descriptor = try Self.bindUDP(address)
        let id = Self.newConnectionID()
        let isIPv6 = !address.isIPv4
        udpListeners[id] = UDPListener(socket: ClientSocket(descriptor: descriptor, isIPv6: isIPv6))
        _ = loop.register(descriptor, events: EpollLoop.readable) { [unowned self] _ in
            readDatagrams(descriptor) { core, datagram, from in
                core.handleClientPacket(datagram, from: ClientKey(address: from, connection: id, isTCP: false))
            }
        }
        return localAddress(descriptor) ?? address
    }

    /// The TCP listener on `host`:`port`; returns its bound address.
    func listenTCP(host: String, port: Int) throws -> TransportAddress {
        let address = try resolve(host, port: port)
        let descriptor = socket(address.isIPv4 ? AF_INET : AF_INET6,
                                Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("socket") }
        setOption(descriptor, SOL_SOCKET, SO_REUSEADDR, 1)
        guard bindTo(descriptor, address), listen(descriptor, 1024) == 0 else {
            let error = SocketError("bind TCP \(address)")
            Glibc.close(descriptor)
            throw error
        }
        tcpListeners.append(descriptor)
        _ = loop.register(descriptor, events: EpollLoop.readable) { [unowned self] _ in accept(on: descriptor) }
        return localAddress(descriptor) ?? address
    }

    private func resolve(_ host: String, port: Int) throws -> TransportAddress {
        let resolved = try SocketAddress.makeAddressResolvingHost(host, port: port)
        guard let address = transportAddress(resolved) else { throw SocketError("resolve \(host)", code: EAFNOSUPPORT) }
        return address
    }

    /// A UDP socket bound to `address` for clients (SO_REUSEADDR); the SFU's threads send ChannelData from it too.
    static func bindUDP(_ address: TransportAddress) throws -> Int32 {
        let descriptor = socket(address.isIPv4 ? AF_INET : AF_INET6,
                                Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("socket") }
        setOption(descriptor, SOL_SOCKET, SO_REUSEADDR, 1)
        // Every client's datagrams queue here while the loop relays: 16 MiB when the process may exceed
        // net.core.rmem_max (CAP_NET_ADMIN), else 4 MiB as far as rmem_max allows.
        if !setOption(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20) {
            setOption(descriptor, SOL_SOCKET, SO_RCVBUF, 4 << 20)
        }
        setOption(descriptor, SOL_SOCKET, SO_SNDBUF, 4 << 20)
        guard bindTo(descriptor, address) else {
            let error = SocketError("bind UDP \(address)")
            Glibc.close(descriptor)
            throw error
        }
        return descriptor
    }

    private func resumeListeners() {
        for descriptor in pausedListeners { loop.modify(descriptor, events: EpollLoop.readable) }
        pausedListeners = []
    }

    // MARK: - UDP

    /// One recvmmsg on `descriptor`; each datagram goes to `deliver` in the reused scratch buffer.
    /// What is left waiting raises the next (level-triggered) readiness, after the other sockets.
    @inline(__always)
    private func readDatagrams(_ descriptor: Int32, _ deliver: (TURNCore, ByteBuffer, TransportAddress) -> Void) {
        guard let core else { return }
        let count = receiveBatch(received, descriptor: descriptor)
        for index in 0..<count {
            guard let from = received.source(index) else { continue }
            let slot = received.slot(index)
            scratch.clear()
            scratch.writeBytes(UnsafeRawBufferPointer(rebasing: slot[0..<received.length(index)]))
            deliver(core, scratch, from)
        }
    }

    private func outbox(ipv6Socket: Bool, toClient: Bool) -> MixedSendBatch {
        toClient ? (ipv6Socket ? toClients6 : toClients4) : (ipv6Socket ? toPeers6 : toPeers4)
    }

    private func queue(_ data: ByteBuffer, from descriptor: Int32, ipv6Socket: Bool, toClient: Bool,
                       to destination: TransportAddress) {
        let count = data.readableBytes
        guard count <= datagramSlotSize else {
            // Larger than a batch slot (a Data indication around a big datagram): at once, after what is queued.
            outbox(ipv6Socket: ipv6Socket, toClient: toClient).flush()
            data.withUnsafeReadableBytes { _ = sendDatagram($0, descriptor: descriptor, ipv6Socket: ipv6Socket, to: destination) }
            return
        }
        outbox(ipv6Socket: ipv6Socket, toClient: toClient).append(from: descriptor, to: destination) { slot in
            data.withUnsafeReadableBytes { bytes in
                if count > 0 { slot.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: count) }
            }
            return count
        }
    }

    // MARK: - TCP

    private func accept(on listener: Int32) {
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let descriptor = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    confab_accept4(listener, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            guard descriptor >= 0 else {
                if errno == EMFILE || errno == ENFILE {
                    // Level-triggered: the pending connection would wake the loop forever. Pause a second.
                    logger.warning("turn: out of file descriptors, TCP accepts paused")
                    loop.modify(listener, events: 0)
                    pausedListeners.append(listener)
                }
                return
            }
            guard let remote = withUnsafeBytes(of: &storage, { TransportAddress(sockaddr: $0.baseAddress!) }) else {
                Glibc.close(descriptor)
                continue
            }
            setOption(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            let client = ClientKey(address: remote, connection: Self.newConnectionID(), isTCP: true)
            let connection = StreamConnection(descriptor: descriptor, client: client)
            streams[client.connection] = connection
            // The connection is held strongly here: a failed write may close it (and drop it from
            // `streams`) before the read below looks at it. Unregistering on close frees the handler.
            _ = loop.register(descriptor, events: EpollLoop.readable) { [unowned self] events in
                if events & EpollLoop.writable != 0 { write(connection) }
                if !connection.closed && events & (EpollLoop.readable | EpollLoop.hangUp) != 0 { read(connection) }
            }
        }
    }

    /// Reads what arrived (up to `readQuantum`) and hands each complete message to the core.
    private func read(_ connection: StreamConnection) {
        var total = 0
        while !connection.closed && total < Self.readQuantum {
            var result = 0, room = 0
            connection.input.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 << 10) { raw in
                room = raw.count
                result = Glibc.read(connection.descriptor, raw.baseAddress, raw.count)
                return max(result, 0)
            }
            if result > 0 {
                total += result
                deliverFrames(connection)
                // A short read emptied the socket: asking again would only say EAGAIN (level-triggered
                // epoll reports whatever arrives later).
                if result < room { return }
                continue
            }
            if result == 0 { return close(connection) }  // a half message at EOF is dropped
            if errno == EINTR { continue }
            if errno != EAGAIN && errno != EWOULDBLOCK { close(connection) }
            return
        }
    }

    private func deliverFrames(_ connection: StreamConnection) {
        while !connection.closed, let length = TURNStreamDecoder.frameLength(connection.input) {
            guard length > 0 else {
                core?.counters.bump(core!.counters.malformedDropped)
                return close(connection)
            }
            guard connection.input.readableBytes >= length,
                  let frame = connection.input.readSlice(length: length) else { break }
            core?.handleClientPacket(frame, from: connection.client)
        }
        // Keeps the buffer from creeping: what is left is at most one partial message.
        if connection.input.readerIndex > 32 << 10 || connection.input.readableBytes == 0 {
            connection.input.discardReadBytes()
        }
    }

    /// Bytes for a stream client, sent when the loop iteration ends.
    private func enqueue(_ connection: StreamConnection, _ fill: (inout ByteBuffer) -> Void) {
        guard !connection.closed else { return }
        fill(&connection.output)
        if connection.output.readableBytes > Self.maxQueuedBytes {
            logger.debug("turn: TCP client not reading, closed", metadata: ["client": "\(connection.client)"])
            return close(connection)
        }
        if !connection.queued {
            connection.queued = true
            unflushed.append(connection)
        }
    }

    /// Writes what is queued; what the kernel does not take waits for EPOLLOUT.
    private func write(_ connection: StreamConnection) {
        while !connection.closed && connection.output.readableBytes > 0 {
            let result = connection.output.withUnsafeReadableBytes {
                send(connection.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if result > 0 {
                connection.output.moveReaderIndex(forwardBy: result)
            } else if result < 0 && errno == EINTR {
                continue
            } else if result < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if !connection.waitingToWrite {
                    connection.waitingToWrite = true
                    loop.modify(connection.descriptor, events: EpollLoop.readable | EpollLoop.writable)
                }
                return
            } else {
                return close(connection)
            }
        }
        guard !connection.closed else { return }
        connection.output.clear()
        if connection.waitingToWrite {
            connection.waitingToWrite = false
            loop.modify(connection.descriptor, events: EpollLoop.readable)
        }
    }

    private func close(_ connection: StreamConnection) {
        guard !connection.closed else { return }
        connection.closed = true
        loop.unregister(connection.descriptor)
        Glibc.close(connection.descriptor)
        streams[connection.client.connection] = nil
        core?.connectionClosed(connection.client.connection)
    }

    // MARK: - TURNIO

    func sendToClient(_ data: ByteBuffer, _ client: ClientKey) {
        if client.isTCP {
            if let connection = streams[client.connection] {
                enqueue(connection) { output in output.writeImmutableBuffer(data) }
            } else if let channel = tlsChannels[client.connection] {
                channel.writeAndFlush(data, promise: nil)
            }
        } else if let listener = udpListeners[client.connection] {
            queue(data, from: listener.socket.descriptor, ipv6Socket: listener.socket.isIPv6, toClient: true, to: client.address)
        }
    }

    func sendChannelData(_ number: UInt16, _ payload: ByteBuffer, to client: ClientKey) {
        let count = payload.readableBytes
        if client.isTCP {
            guard let connection = streams[client.connection] else {
                return sendToClient(channelDataMessage(number, payload, stream: true), client)
            }
            return enqueue(connection) { output in
                output.writeInteger(number)
                output.writeInteger(UInt16(truncatingIfNeeded: count))
                output.writeImmutableBuffer(payload)
                let padding = (4 - count % 4) % 4
                if padding > 0 { output.writeRepeatingByte(0, count: padding) }
            }
        }
        guard let listener = udpListeners[client.connection] else { return }
        guard count + 4 <= datagramSlotSize else {
            return sendToClient(channelDataMessage(number, payload, stream: false), client)
        }
        outbox(ipv6Socket: listener.socket.isIPv6, toClient: true).append(from: listener.socket.descriptor, to: client.address) { slot in
            slot.storeBytes(of: number.bigEndian, toByteOffset: 0, as: UInt16.self)
            slot.storeBytes(of: UInt16(count).bigEndian, toByteOffset: 2, as: UInt16.self)
            payload.withUnsafeReadableBytes { bytes in
                if count > 0 { (slot.baseAddress! + 4).copyMemory(from: bytes.baseAddress!, byteCount: count) }
            }
            return 4 + count
        }
    }

    func sendFromRelay(_ relay: RelayID, to peer: TransportAddress, _ data: ByteBuffer) {
        guard let state = relays[relay], state.bound, state.descriptor >= 0 else { return }
        queue(data, from: state.descriptor, ipv6Socket: state.isIPv6, toClient: false, to: peer)
    }

    func clientSocket(for client: ClientKey) -> ClientSocket? {
        client.isTCP ? nil : udpListeners[client.connection]?.socket
    }

    func slowPath(relay: RelayID) -> @Sendable ([UInt8], TransportAddress) -> Void {
        let me = LoopBound(self, loop: loop)
        return { bytes, peer in
            me.loop.execute { me.value.core?.handlePeerPacket(ByteBuffer(bytes: bytes), relay: relay, from: peer) }
        }
    }

    func openRelay(address: TransportAddress, ports: ClosedRange<UInt16>, evenPort: Bool,
                   bindSocket: Bool, dontFragment: Bool) -> (id: RelayID, address: TransportAddress)? {
        // A handed-over relay sends no IP datagram at all, so DONT-FRAGMENT holds trivially there.
        guard bindSocket else { return reserveRelay(address: address, ports: ports, evenPort: evenPort) }
        let isIPv6 = !address.isIPv4
        let descriptor = socket(isIPv6 ? AF_INET6 : AF_INET,
                                Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        if isIPv6 { setOption(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        setOption(descriptor, SOL_SOCKET, SO_RCVBUF, 1 << 20)
        if dontFragment { setDontFragment(descriptor, ipv6: isIPv6) }
        guard let port = bindRelayPort(descriptor, address: address, ports: ports, evenPort: evenPort) else {
            Glibc.close(descriptor)
            logger.warning("turn: no free relay port in \(ports.lowerBound)-\(ports.upperBound)")
            return nil
        }
        let id = Self.newConnectionID()
        guard loop.register(descriptor, events: EpollLoop.readable, { [unowned self] _ in
            readDatagrams(descriptor) { core, datagram, from in core.handlePeerPacket(datagram, relay: id, from: from) }
        }) else {
            Glibc.close(descriptor)
            return nil
        }
        usedPorts.insert(port)
        relays[id] = Relay(descriptor: descriptor, port: port, isIPv6: isIPv6)
        return (id, address.with(port: port))
    }

    /// Binds `descriptor` to a port from `ports` no other relay uses, starting at a random one.
    private func bindRelayPort(_ descriptor: Int32, address: TransportAddress, ports: ClosedRange<UInt16>,
                               evenPort: Bool) -> UInt16? {
        let count = Int(ports.upperBound) - Int(ports.lowerBound) + 1
        let start = Int.random(in: 0..<count)
        for step in 0..<count {
            let port = UInt16(Int(ports.lowerBound) + (start + step) % count)
            if usedPorts.contains(port) || (evenPort && port % 2 != 0) { continue }
            if bindTo(descriptor, address.with(port: port)) { return port }
            if errno != EADDRINUSE && errno != EACCES { return nil }
        }
        return nil
    }

    /// A relayed address for the in-process hand-over: a port from the range no other relay uses, and no socket.
    private func reserveRelay(address: TransportAddress, ports: ClosedRange<UInt16>,
                              evenPort: Bool) -> (id: RelayID, address: TransportAddress)? {
        let count = Int(ports.upperBound) - Int(ports.lowerBound) + 1
        let start = Int.random(in: 0..<count)
        for step in 0..<count {
            let port = UInt16(Int(ports.lowerBound) + (start + step) % count)
            if usedPorts.contains(port) || (evenPort && port % 2 != 0) { continue }
            let id = Self.newConnectionID()
            usedPorts.insert(port)
            relays[id] = Relay(bound: false, port: port, isIPv6: !address.isIPv4)
            return (id, address.with(port: port))
        }
        logger.warning("turn: no free relay port in \(ports.lowerBound)-\(ports.upperBound)")
        return nil
    }

    func closeRelay(_ relay: RelayID) {
        guard let state = relays.removeValue(forKey: relay) else { return }
        usedPorts.remove(state.port)
        guard state.descriptor >= 0 else { return }
        // Nothing queued may go out on a descriptor number the kernel could hand to another socket.
        outbox(ipv6Socket: state.isIPv6, toClient: false).flush(before: state.descriptor)
        loop.unregister(state.descriptor)
        Glibc.close(state.descriptor)
    }

    // MARK: - Flushing and closing

    /// The end of a loop iteration: everything queued leaves now, in batches.
    func flush() {
        if !toPeers4.isEmpty { toPeers4.flush() }
        if !toPeers6.isEmpty { toPeers6.flush() }
        if !toClients4.isEmpty { toClients4.flush() }
        if !toClients6.isEmpty { toClients6.flush() }
        // What handed-over datagrams made the SFU send goes out in one batch too.
        handover?.flush()
        guard !unflushed.isEmpty else { return }
        for connection in unflushed {
            connection.queued = false
            if !connection.waitingToWrite { write(connection) }
        }
        unflushed.removeAll(keepingCapacity: true)
    }

    /// Closes every socket and breaks the core ↔ I/O cycle (the server is stopping).
    func closeAll() {
        for id in Array(relays.keys) { closeRelay(id) }
        for connection in Array(streams.values) { close(connection) }
        for channel in tlsChannels.values { channel.close(promise: nil) }
        tlsChannels = [:]
        flush()
        for listener in udpListeners.values {
            loop.unregister(listener.socket.descriptor)
            Glibc.close(listener.socket.descriptor)
        }
        udpListeners = [:]
        for descriptor in tcpListeners {
            loop.unregister(descriptor)
            Glibc.close(descriptor)
        }
        tcpListeners = []
        core?.io = nil
        core = nil
    }
}

/// One plain TCP client connection: its bytes not yet framed and those not yet written.
final class StreamConnection {
    let descriptor: Int32
    let client: ClientKey
    var input = ByteBufferAllocator().buffer(capacity: 16 << 10)
    var output = ByteBufferAllocator().buffer(capacity: 0)
    var queued = false
    var waitingToWrite = false
    var closed = false

    init(descriptor: Int32, client: ClientKey) {
        self.descriptor = descriptor
        self.client = client
    }
}

@discardableResult
private func setOption(_ descriptor: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
    var value = value
    return setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
}

private func bindTo(_ descriptor: Int32, _ address: TransportAddress) -> Bool {
    var storage = sockaddr_storage()
    let length = withUnsafeMutableBytes(of: &storage) { address.write(to: $0.baseAddress!, ipv6Socket: !address.isIPv4) }
    return withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
    } == 0
}

private func localAddress(_ descriptor: Int32) -> TransportAddress? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let result = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    guard result == 0 else { return nil }
    return withUnsafeBytes(of: &storage) { TransportAddress(sockaddr: $0.baseAddress!) }
}
