import Glibc
import NIOCore
import Net
import RelayHandover
import STUN
import Testing
@testable import TURN

/// Stands in for the media engine: records what the TURN core hands over.
final class RecordingSink: RelayedDatagramSink {
    var received: [(bytes: [UInt8], from: TransportAddress)] = []
    var flushes = 0
    func receive(_ datagram: UnsafeRawBufferPointer, from relayed: TransportAddress) {
        received.append((Array(datagram), relayed))
    }
    func flush() { flushes += 1 }
}

/// A UDP socket on 127.0.0.1 for the tests' "TURN listener" and "client".
final class LoopbackSocket {
    let descriptor: Int32
    let address: TransportAddress

    init() {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.descriptor = descriptor
        var any = sockaddr_in()
        any.sin_family = sa_family_t(AF_INET)
        any.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &any) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        address = withUnsafeBytes(of: &bound) { TransportAddress(sockaddr: $0.baseAddress!)! }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// The next datagram (waits up to a second); nil when none came.
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count >= 0 ? Array(buffer[0..<count]) : nil
    }
}

/// TURN relays to Confab's own media port handed to the SFU inside the process: no relay socket,
/// the SFU sees the relayed address, and its answers leave as ChannelData from the TURN listener.
@Suite struct HandoverTests {
    let own = TransportAddress(ip: "127.0.0.1", port: Harness.mediaPort)!

    /// A harness whose core hands over to `sink`, with the default policy (only the own endpoint)
    /// unless `allowPeers` is given; the "client" is a real UDP socket the listener sends to.
    func setUp(allowPeers: [CIDR] = []) -> (Harness, RelayHandover, RecordingSink, listener: LoopbackSocket,
                                            client: LoopbackSocket) {
        let listener = LoopbackSocket(), clientSocket = LoopbackSocket()
        let h = Harness {
            $0.peerPolicy = PeerPolicy(allow: allowPeers, ownEndpoints: [own])
            $0.relayIPv4 = TransportAddress(ip: "127.0.0.1", port: 0)
        }
        let handover = RelayHandover(relayPorts: 50000...50999)
        let sink = RecordingSink()
        handover.attach(sink)
        h.core.handover = handover
        h.io.listenerSocket = ClientSocket(descriptor: listener.descriptor, isIPv6: false)
        return (h, handover, sink, listener, clientSocket)
    }

    func client(_ h: Harness, at socket: LoopbackSocket) -> Client {
        Client(harness: h, key: ClientKey(address: socket.address, connection: 1, isTCP: false), user: "alice", password: "pw")
    }

    func relayed(_ answer: STUNMessage?) -> TransportAddress? {
        answer?.relayed.flatMap(transport)
    }

    @Test func relaysToTheSFUWithoutASocketBothWays() throws {
        let (h, handover, sink, listener, clientSocket) = setUp()
        defer { withExtendedLifetime(listener) {} }
        let c = client(h, at: clientSocket)
        let relayedAddress = try #require(relayed(c.allocate()))
        #expect(h.io.unbound.count == 1, "no relay socket is bound by default")
        #expect(handover.route(relayedAddress) != nil)
        #expect(c.request(.channelBind, [.channelNumber(0x4002), .xorPeerAddress(stun(own))])?.isSuccess == true)

        // Client → SFU: the payload arrives from the relayed address; no packet goes to a relay socket.
        c.raw([0x40, 0x02, 0x00, 0x04, 0x80, 0x60, 0x00, 0x01])
        #expect(sink.received.count == 1)
        #expect(sink.received.first?.bytes == [0x80, 0x60, 0x00, 0x01])
        #expect(sink.received.first?.from == relayedAddress)
        #expect(h.io.toPeers.isEmpty)
        #expect(h.core.counters.packetsToPeers.load(ordering: .relaxed) == 1)

        // SFU → client: caught on the media side, ChannelData from the TURN listener's socket.
        let outbox = RelayOutbox(handover: handover)
        let answer: [UInt8] = [0x80, 0x6F, 0x12, 0x34, 1, 2, 3]
        let taken = answer.withUnsafeBytes { outbox.take($0, to: relayedAddress) }
        #expect(taken)
        outbox.flush()
        #expect(clientSocket.receive() == [0x40, 0x02, 0x00, 0x07] + answer)
        #expect(handover.counters.packetsToClients.load(ordering: .relaxed) == 1)
        #expect(TURNCounters(handover: handover.counters).totals.first { $0.0 == "relayed_bytes_to_clients" }?.1 == answer.count)

        // Other destinations, even in the relay port range, are not the outbox's.
        let stranger = relayedAddress.with(port: relayedAddress.port + 100)
        #expect(!answer.withUnsafeBytes { outbox.take($0, to: stranger) })
        #expect(!answer.withUnsafeBytes { outbox.take($0, to: TransportAddress(ip: "127.0.0.1", port: 5000)!) })

        // Timers' one-off sends go the same way.
        #expect(answer.withUnsafeBytes { handover.sendNow($0, to: relayedAddress) })
        #expect(clientSocket.receive() == [0x40, 0x02, 0x00, 0x07] + answer)

        // Refresh 0 ends it: the route is gone, the SFU's sends to that address are ordinary again.
        #expect(c.request(.refresh, [.lifetime(0)])?.isSuccess == true)
        #expect(handover.route(relayedAddress) == nil)
        #expect(!answer.withUnsafeBytes { outbox.take($0, to: relayedAddress) })
    }

    @Test func sendIndicationsAndDataIndicationsBeforeAChannel() throws {
        let (h, handover, sink, listener, clientSocket) = setUp()
        defer { withExtendedLifetime(listener) {} }
        let c = client(h, at: clientSocket)
        let relayedAddress = try #require(relayed(c.allocate()))
        // Nothing permitted yet: what the SFU sends is dropped and counted, not leaked anywhere.
        let outbox = RelayOutbox(handover: handover)
        #expect(([1, 2] as [UInt8]).withUnsafeBytes { outbox.take($0, to: relayedAddress) })
        #expect(handover.counters.unroutableDropped.load(ordering: .relaxed) == 1)

        #expect(c.request(.createPermission, [.xorPeerAddress(stun(own))])?.isSuccess == true)
        let send = STUNMessage(method: .send, class: .indication, transactionID: STUNMessage.randomTransactionID(),
                               attributes: [.xorPeerAddress(stun(own)), .data([0x00, 0x01, 0x00, 0x00])])
        c.raw(send.encoded())
        #expect(sink.received.last?.bytes == [0x00, 0x01, 0x00, 0x00])
        #expect(sink.received.last?.from == relayedAddress)

        // No channel: the answer takes the core's path and becomes a Data indication from the own endpoint.
        let before = h.io.toClients.count
        #expect(([7, 7, 7] as [UInt8]).withUnsafeBytes { outbox.take($0, to: relayedAddress) })
        let data = try #require(h.io.toClients.dropFirst(before).last.map { try STUNMessage.parse($0.1) })
        #expect(data.method == .data)
        #expect(data.attributes.contains { if case .data(let bytes) = $0 { bytes == [7, 7, 7] } else { false } }, "\(data.attributes)")
        #expect(data.attributes.contains { if case .xorPeerAddress(let p) = $0 { transport(p) == own } else { false } })

        // The permission expires: the route forgets the endpoint.
        h.clock.advance(seconds: 301)
        h.core.expire()
        #expect(([7] as [UInt8]).withUnsafeBytes { outbox.take($0, to: relayedAddress) })
        #expect(handover.counters.unroutableDropped.load(ordering: .relaxed) == 2)
    }

    @Test func onlyTheOwnMediaPortIsReachableByDefault() throws {
        let (h, _, sink, _, clientSocket) = setUp()
        let c = client(h, at: clientSocket)
        _ = try #require(relayed(c.allocate()))
        // The SFU's address on another port, another loopback address, a public peer: 403.
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(stun(own.with(port: 22)))])?.code == 403)
        #expect(c.request(.createPermission, [.xorPeerAddress(peer("127.0.0.2", 10000))])?.code == 403)
        #expect(c.request(.createPermission, [.xorPeerAddress(peer("203.0.113.5", 10000))])?.code == 403)
        // A permission for the SFU's IP does not let Send indications reach its other ports.
        #expect(c.request(.createPermission, [.xorPeerAddress(stun(own))])?.isSuccess == true)
        let send = STUNMessage(method: .send, class: .indication, transactionID: STUNMessage.randomTransactionID(),
                               attributes: [.xorPeerAddress(stun(own.with(port: 22))), .data([1])])
        c.raw(send.encoded())
        #expect(sink.received.isEmpty)
        #expect(h.io.toPeers.isEmpty)
    }

    @Test func allowPeersBindsARealSocketButStillHandsOverTheSFU() throws {
        let (h, _, sink, _, clientSocket) = setUp(allowPeers: [CIDR("0.0.0.0/0")!])
        let c = client(h, at: clientSocket)
        _ = try #require(relayed(c.allocate()))
        #expect(h.io.unbound.isEmpty, "other peers need a real relay socket")
        let publicPeer = TransportAddress(ip: "203.0.113.5", port: 5000)!
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(stun(publicPeer))])?.isSuccess == true)
        #expect(c.request(.channelBind, [.channelNumber(0x4002), .xorPeerAddress(stun(own))])?.isSuccess == true)
        c.raw([0x40, 0x01, 0x00, 0x01, 0xAA])
        c.raw([0x40, 0x02, 0x00, 0x01, 0xBB])
        #expect(h.io.toPeers.map(\.2) == [[0xAA]])
        #expect(sink.received.map(\.bytes) == [[0xBB]])
    }

    @Test func withoutAnSFUAttachedRelaysUseSockets() throws {
        let h = Harness()
        h.core.handover = RelayHandover(relayPorts: 50000...50999)  // nothing attached: full ICE, or no media
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        #expect(h.io.unbound.isEmpty)
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(stun(own))])?.isSuccess == true)
        c.raw([0x40, 0x01, 0x00, 0x01, 0xCC])
        #expect(h.io.toPeers.map(\.1) == [own])
    }

    @Test func bandwidthCapAppliesToTheFastPath() throws {
        let listener = LoopbackSocket(), clientSocket = LoopbackSocket()
        let h = Harness {
            $0.peerPolicy = PeerPolicy(ownEndpoints: [own])
            $0.maxBitsPerSecond = 80_000  // 5,000 bytes of burst
        }
        let handover = RelayHandover(relayPorts: 50000...50999)
        handover.attach(RecordingSink())
        h.core.handover = handover
        h.io.listenerSocket = ClientSocket(descriptor: listener.descriptor, isIPv6: false)
        let c = client(h, at: clientSocket)
        let relayedAddress = try #require(relayed(c.allocate()))
        #expect(c.request(.channelBind, [.channelNumber(0x4002), .xorPeerAddress(stun(own))])?.isSuccess == true)
        c.raw([0x40, 0x02, 0x00, 0x01, 0x80])  // the client sent to the SFU first
        let outbox = RelayOutbox(handover: handover)
        let packet = [UInt8](repeating: 0x80, count: 1000)
        for _ in 0..<10 { _ = packet.withUnsafeBytes { outbox.take($0, to: relayedAddress) } }
        outbox.flush()
        #expect(handover.counters.packetsToClients.load(ordering: .relaxed) == 5)
        #expect(handover.counters.bandwidthDropped.load(ordering: .relaxed) == 5)
    }
}
