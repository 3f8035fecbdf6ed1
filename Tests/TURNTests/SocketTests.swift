// The TURN server on its own epoll loop with real sockets on loopback: UDP, TCP framing across
// reads, pipelined messages, garbage, a relay with a channel over TCP, and the loop itself.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import Net
import STUN
import Synchronization
import Testing
@testable import TURN

@Suite(.serialized)
struct SocketTests {
    // MARK: - The loop

    @Test func loopRunsTasksInOrderOnItsThreadAndWatchesSockets() async throws {
        let loop = try EpollLoop(name: "test-loop")
        loop.start()
        let seen = Mutex<[Int]>([])
        for index in 0..<100 { loop.execute { seen.withLock { $0.append(index) } } }
        let onLoop = await loop.submit { loop.inLoop }
        #expect(onLoop == true)
        #expect(!loop.inLoop)
        #expect(seen.withLock { $0 } == Array(0..<100))

        // A datagram on a registered socket reaches its handler; ticks fire.
        let receiver = try UDPSocket(port: 0, reusePort: false, preferIPv6: false)
        let datagrams = Atomic<Int>(0), ticks = Atomic<Int>(0)
        _ = await loop.submit {
            let batch = ReceiveBatch(capacity: 8)
            _ = loop.register(receiver.descriptor, events: EpollLoop.readable) { _ in
                datagrams.add(receiveBatch(batch, descriptor: receiver.descriptor), ordering: .relaxed)
            }
            loop.every(milliseconds: 10) { ticks.add(1, ordering: .relaxed) }
        }
        let sender = try UDPSocket(port: 0, reusePort: false, preferIPv6: false)
        for _ in 0..<3 { _ = sender.send([1, 2, 3], to: TransportAddress(ip: "127.0.0.1", port: receiver.localPort)!) }
        try await waitUntil { datagrams.load(ordering: .relaxed) == 3 && ticks.load(ordering: .relaxed) >= 3 }
        _ = await loop.submit { loop.unregister(receiver.descriptor) }
        await loop.stop()
        // After stop nothing more runs, and asking does not hang.
        let after = await loop.submit { 1 }
        #expect(after == nil)
        receiver.close()
        sender.close()
    }

    // MARK: - The server's sockets

    @Test func udpAndTCPBindingsAreAnsweredAcrossSplitAndPipelinedMessages() async throws {
        let (server, port) = try await startServer()
        defer { Task { await server.stop() } }

        let udp = try UDPSocket(port: 0, reusePort: false, preferIPv6: false)
        defer { udp.close() }
        let request = binding()
        _ = udp.send(request.bytes, to: TransportAddress(ip: "127.0.0.1", port: port)!)
        let answer = try receiveDatagram(udp)
        #expect(try STUNMessage.parse(answer).transactionID == request.id)

        // One request in two writes with a pause between them, then two requests in one write.
        let tcp = try connectTCP(port)
        defer { close(tcp) }
        let first = binding(), second = binding(), third = binding()
        writeAll(tcp, Array(first.bytes[0..<7]))
        try await Task.sleep(for: .milliseconds(50))
        writeAll(tcp, Array(first.bytes[7...]) + second.bytes + third.bytes)
        var stream = StreamReader(descriptor: tcp)
        for expected in [first.id, second.id, third.id] {
            let message = try stream.nextFrame()
            #expect(try STUNMessage.parse(message).transactionID == expected)
        }
    }

    @Test func tcpGarbageClosesOnlyThatConnection() async throws {
        let (server, port) = try await startServer()
        defer { Task { await server.stop() } }
        let healthy = try connectTCP(port)
        defer { close(healthy) }
        let bad = try connectTCP(port)
        defer { close(bad) }
        writeAll(bad, [0xFF, 0x00, 0x00, 0x10] + Array(repeating: 0, count: 16))
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(read(bad, &buffer, 16) == 0, "the server closes a connection that sent garbage")
        #expect(server.counters.malformedDropped.load(ordering: .relaxed) >= 1)

        let request = binding()
        writeAll(healthy, request.bytes)
        var stream = StreamReader(descriptor: healthy)
        #expect(try STUNMessage.parse(try stream.nextFrame()).transactionID == request.id)
    }

    @Test func tcpClientRelaysThroughAChannelToAUDPPeerAndBack() async throws {
        let (server, port) = try await startServer()
        defer { Task { await server.stop() } }
        let peer = try UDPSocket(port: 0, reusePort: false, preferIPv6: false)
        defer { peer.close() }
        let peerAddress = STUNAddress(address: [127, 0, 0, 1], port: peer.localPort)!
        let tcp = try connectTCP(port)
        defer { close(tcp) }
        var stream = StreamReader(descriptor: tcp)
        let key = STUNCredentials.longTermKey(username: "alice", realm: "test", password: "pw")

        func request(_ method: STUNMethod, _ attributes: [STUNAttribute], nonce: String?) throws -> STUNMessage {
            var attributes = attributes
            if let nonce { attributes += [.username("alice"), .realm("test"), .nonce(nonce)] }
            let message = STUNMessage(method: method, class: .request, transactionID: STUNMessage.randomTransactionID(),
                                      attributes: attributes)
            writeAll(tcp, message.encoded(integrity: nonce == nil ? nil : key, fingerprint: true))
            return try STUNMessage.parse(try stream.nextFrame())
        }
        let challenge = try request(.allocate, [.requestedTransport(17)], nonce: nil)
        let nonce = try #require(challenge.nonce)
        let allocated = try request(.allocate, [.requestedTransport(17)], nonce: nonce)
        #expect(allocated.messageClass == .successResponse)
        let bound = try request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(peerAddress)], nonce: nonce)
        #expect(bound.messageClass == .successResponse)

        // 5 bytes of payload: the ChannelData frame is padded to 12 bytes on the stream.
        writeAll(tcp, [0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 0, 0, 0])
        let toPeer = try receiveDatagramWithSource(peer)
        #expect(toPeer.bytes == [1, 2, 3, 4, 5])
        _ = peer.send([9, 8, 7], to: toPeer.source)
        #expect(try stream.nextFrame() == [0x40, 0x01, 0x00, 0x03, 9, 8, 7, 0])
        #expect(await server.allocationCount() == 1)
        // The server must see the connection end; the descriptor itself is closed once, by the defer
        // (closing it twice could close a descriptor number another test reopened meanwhile).
        shutdown(tcp, Int32(SHUT_RDWR))
        try await waitUntil { await server.allocationCount() == 0 }
    }

    // MARK: - Helpers

    func startServer() async throws -> (TURNServer, UInt16) {
        var configuration = TURNConfiguration(realm: "test")
        configuration.users = ["alice": "pw"]
        configuration.relayIPv4 = TransportAddress(ip: "127.0.0.1", port: 0)
        configuration.relayPorts = 46000...46999
        configuration.peerPolicy = PeerPolicy(allow: [CIDR("127.0.0.0/8")!], deny: [], ownEndpoints: [])
        let server = TURNServer(configuration: configuration, listeners: [.init(host: "127.0.0.1", port: 0)],
                                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let bound = try await server.start()
        return (server, UInt16(try #require(bound.first?.port)))
    }

    func binding() -> (bytes: [UInt8], id: [UInt8]) {
        let message = STUNMessage(method: .binding, class: .request, transactionID: STUNMessage.randomTransactionID())
        return (message.encoded(fingerprint: true), message.transactionID)
    }

    func waitUntil(_ condition: () async -> Bool) async throws {
        for _ in 0..<200 {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition not met within 2 s")
    }
}

struct TimedOut: Error {}

private func setTimeout(_ descriptor: Int32) {
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
}

private func receiveDatagramWithSource(_ socket: UDPSocket) throws -> (bytes: [UInt8], source: TransportAddress) {
    let batch = ReceiveBatch(capacity: 1)
    for _ in 0..<200 {
        if socket.receive(into: batch) == 1, let source = batch.source(0) {
            return (Array(UnsafeRawBufferPointer(rebasing: batch.slot(0)[0..<batch.length(0)])), source)
        }
        usleep(10_000)
    }
    throw TimedOut()
}

private func receiveDatagram(_ socket: UDPSocket) throws -> [UInt8] { try receiveDatagramWithSource(socket).bytes }

private func connectTCP(_ port: UInt16) throws -> Int32 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard result == 0 else { throw SocketError("connect") }
    setTimeout(descriptor)
    return descriptor
}

private func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written > 0 else { return }
        offset += written
    }
}

/// Reads whole STUN / ChannelData frames (with stream padding) from a blocking TCP socket.
private struct StreamReader {
    let descriptor: Int32
    var pending: [UInt8] = []

    mutating func nextFrame() throws -> [UInt8] {
        while true {
            if let length = TURNStreamDecoder.frameLength(ByteBuffer(bytes: pending)), length > 0, pending.count >= length {
                defer { pending.removeFirst(length) }
                return Array(pending[0..<length])
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(descriptor, &chunk, chunk.count)
            guard count > 0 else { throw TimedOut() }
            pending += chunk[0..<count]
        }
    }
}
