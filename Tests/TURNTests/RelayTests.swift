import NIOCore
import Net
import RelayHandover
import STUN
import Testing
@testable import TURN

@Suite struct RelayTests {
    let publicPeer = TransportAddress(ip: "203.0.113.5", port: 5000)!

    @Test func channelBindRules() throws {
        let h = Harness()
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        let a = peer("203.0.113.5", 5000), b = peer("203.0.113.5", 5001)
        #expect(c.request(.channelBind, [.channelNumber(0x4000), .xorPeerAddress(a)])?.isSuccess == true)
        // Refreshing the same binding is fine.
        #expect(c.request(.channelBind, [.channelNumber(0x4000), .xorPeerAddress(a)])?.isSuccess == true)
        // The channel is taken by another peer, or the peer already has another channel: 400.
        #expect(c.request(.channelBind, [.channelNumber(0x4000), .xorPeerAddress(b)])?.code == 400)
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(a)])?.code == 400)
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(b)])?.isSuccess == true)
        #expect(h.core.counters.channels.load(ordering: .relaxed) == 2)
        // The strict RFC 8656 range can be configured.
        let strict = Harness { $0.channelNumbers = 0x4000...0x4FFF }
        let s = strict.client()
        #expect(s.allocate()?.isSuccess == true)
        #expect(s.request(.channelBind, [.channelNumber(0x5000), .xorPeerAddress(a)])?.code == 400)
    }

    @Test func channelDataBothWays() throws {
        let h = Harness()
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(stun(publicPeer))])?.isSuccess == true)
        // Client → peer: ChannelData (UDP may carry trailing padding).
        c.raw([0x40, 0x01, 0x00, 0x03, 1, 2, 3, 0])
        #expect(h.io.toPeers.count == 1)
        #expect(h.io.toPeers.last?.1 == publicPeer)
        #expect(h.io.toPeers.last?.2 == [1, 2, 3])
        // Peer → client: ChannelData, unpadded on UDP.
        h.core.handlePeerPacket(ByteBuffer(bytes: [9, 8, 7]), relay: 1, from: publicPeer)
        #expect(h.io.toClients.last?.1 == [0x40, 0x01, 0x00, 0x03, 9, 8, 7])
        // An unbound channel, or a length running past the datagram, goes nowhere.
        c.raw([0x40, 0x02, 0x00, 0x01, 1])
        c.raw([0x40, 0x01, 0x00, 0x09, 1])
        #expect(h.io.toPeers.count == 1)
        #expect(h.core.counters.malformedDropped.load(ordering: .relaxed) == 1)
        #expect(h.core.counters.bytesToPeers.load(ordering: .relaxed) == 3)
        #expect(h.core.counters.bytesToClients.load(ordering: .relaxed) == 3)
    }

    @Test func channelDataToTCPClientsIsPadded() throws {
        let h = Harness()
        let c = h.client(tcp: true)
        #expect(c.allocate()?.isSuccess == true)
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(stun(publicPeer))])?.isSuccess == true)
        h.core.handlePeerPacket(ByteBuffer(bytes: [9, 8, 7, 6, 5]), relay: 1, from: publicPeer)
        #expect(h.io.toClients.last?.1 == [0x40, 0x01, 0x00, 0x05, 9, 8, 7, 6, 5, 0, 0, 0])
    }

    @Test func sendAndDataIndicationsNeedAPermission() throws {
        let h = Harness()
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        let send = STUNMessage(method: .send, class: .indication, transactionID: STUNMessage.randomTransactionID(),
                               attributes: [.xorPeerAddress(stun(publicPeer)), .data([1, 2])])
        c.raw(send.encoded())
        #expect(h.io.toPeers.isEmpty, "no permission yet")
        h.core.handlePeerPacket(ByteBuffer(bytes: [5]), relay: 1, from: publicPeer)
        #expect(h.core.counters.packetsToClients.load(ordering: .relaxed) == 0)
        #expect(c.request(.createPermission, [.xorPeerAddress(peer("203.0.113.5", 1))])?.isSuccess == true)
        c.raw(send.encoded())
        #expect(h.io.toPeers.last?.2 == [1, 2])
        // The permission covers the IP, any port.
        let otherPort = publicPeer.with(port: 6000)
        h.core.handlePeerPacket(ByteBuffer(bytes: [5, 6]), relay: 1, from: otherPort)
        let data = try STUNMessage.parse(try #require(h.io.toClients.last?.1))
        #expect(data.method == .data && data.messageClass == .indication)
        #expect(data.attributes.contains(.xorPeerAddress(stun(otherPort))))
        #expect(data.attributes.contains(.data([5, 6])))
        // Permissions expire after 300 s.
        h.clock.advance(seconds: 301)
        c.raw(send.encoded())
        #expect(h.io.toPeers.count == 1)
    }

    /// A steady flow reuses what its last packet's lookups found (Allocation.flow(from:)); every
    /// change to permissions or channels must be seen by the very next packet.
    @Test func aFlowSeesEveryChangeToItsPermissionAndChannel() throws {
        let h = Harness()
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        #expect(c.request(.createPermission, [.xorPeerAddress(stun(publicPeer))])?.isSuccess == true)
        func fromPeer() -> [UInt8]? {
            let before = h.io.toClients.count
            h.core.handlePeerPacket(ByteBuffer(bytes: [7, 7]), relay: 1, from: publicPeer)
            return h.io.toClients.count > before ? h.io.toClients.last?.1 : nil
        }
        let indication = try #require(fromPeer())
        #expect(try STUNMessage.parse(indication).method == .data)
        #expect(try STUNMessage.parse(try #require(fromPeer())).method == .data, "the same flow again")
        // A channel bound now carries the next packet.
        #expect(c.request(.channelBind, [.channelNumber(0x4002), .xorPeerAddress(stun(publicPeer))])?.isSuccess == true)
        #expect(fromPeer() == [0x40, 0x02, 0x00, 0x02, 7, 7])
        c.raw([0x40, 0x02, 0x00, 0x01, 5])
        #expect(h.io.toPeers.last?.2 == [5])
        // The channel lapses after 10 minutes unless refreshed; the permission (refreshed) goes on.
        for seconds in [250.0, 251, 100] {
            h.clock.advance(seconds: seconds)
            // The nonce has gone stale meanwhile (438, with a fresh one): the next try succeeds.
            if c.request(.refresh, [.lifetime(600)])?.code == 438 { _ = c.request(.refresh, [.lifetime(600)]) }
            #expect(c.request(.createPermission, [.xorPeerAddress(stun(publicPeer))])?.isSuccess == true)
        }
        h.core.expire()
        #expect(try STUNMessage.parse(try #require(fromPeer())).method == .data, "back to Data indications")
        let sent = h.io.toPeers.count
        c.raw([0x40, 0x02, 0x00, 0x01, 5])
        #expect(h.io.toPeers.count == sent, "an expired channel carries nothing")
        // Once the permission lapses too, nothing from the peer gets through, cached or not.
        h.clock.advance(seconds: 301)
        #expect(fromPeer() == nil)
    }

    @Test func permissionForTheSFUAddressDoesNotOpenItsOtherPorts() throws {
        let h = Harness()
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        #expect(c.request(.createPermission, [.xorPeerAddress(peer("127.0.0.1", 1))])?.isSuccess == true)
        for port in [Harness.mediaPort, Harness.mediaPort + 1] {
            let send = STUNMessage(method: .send, class: .indication, transactionID: STUNMessage.randomTransactionID(),
                                   attributes: [.xorPeerAddress(peer("127.0.0.1", port)), .data([1])])
            c.raw(send.encoded())
        }
        #expect(h.io.toPeers.map(\.1.port) == [Harness.mediaPort])
        #expect(h.core.counters.deniedPeers.load(ordering: .relaxed) == 1)
    }

    @Test func loopbackPeersWhenAllowed() throws {
        let h = Harness { $0.peerPolicy.allow = [CIDR("127.0.0.0/8")!, CIDR("::1/128")!] }
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        #expect(c.request(.channelBind, [.channelNumber(0x4000), .xorPeerAddress(peer("127.0.0.1", 3480))])?.isSuccess == true)
        #expect(c.request(.createPermission, [.xorPeerAddress(peer("0.0.0.0", 1))])?.code == 403)
    }

    @Test func malformedInputIsCountedAndDropped() throws {
        let h = Harness()
        let c = h.client()
        let binding = STUNMessage(method: .binding, class: .request, transactionID: STUNMessage.randomTransactionID())
        var bad = binding.encoded(fingerprint: true)
        bad[bad.count - 1] ^= 0xFF  // wrong FINGERPRINT
        let inputs: [[UInt8]] = [
            [], [0x00], Array(binding.encoded().prefix(19)), [0xFF, 1, 2, 3, 4, 5, 6, 7],
            binding.encoded() + [0, 0, 0, 0],  // length mismatch
            // No cookie: an RFC 3489 request, but only Binding is answered that way (ClassicBindingTests).
            [0x00, 0x03, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef] + [UInt8](repeating: 0, count: 12),
            [0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 0, count: 12) + [0x00, 0x06, 0x01, 0x00, 0, 0, 0, 0],
            bad, [0x40, 0x00, 0xFF, 0xFF],
        ]
        for input in inputs { #expect(c.raw(input).isEmpty) }
        #expect(h.core.counters.malformedDropped.load(ordering: .relaxed) == inputs.count)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let length = Int.random(in: 0..<200, using: &generator)
            c.raw((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        #expect(c.send(.binding, [], authenticate: false)?.isSuccess == true)
    }

    @Test func streamFraming() {
        func length(_ bytes: [UInt8]) -> Int? { TURNStreamDecoder.frameLength(ByteBuffer(bytes: bytes)) }
        #expect(length([0x00, 0x01]) == nil)
        #expect(length([0x00, 0x01, 0x00, 0x08]) == 28)
        #expect(length([0x00, 0x01, 0x00, 0x07]) == 0)
        #expect(length([0x40, 0x00, 0x00, 0x05]) == 12)
        #expect(length([0x40, 0x00, 0x00, 0x08]) == 12)
        #expect(length([0x80, 0x00, 0x00, 0x00]) == 0)
    }
}

@Suite struct PeerPolicyTests {
    @Test(arguments: [
        ("203.0.113.5", true), ("8.8.8.8", true), ("2001:db8::1", true),
        ("127.0.0.1", false), ("127.9.9.9", false), ("0.0.0.0", false), ("::", false), ("::1", false),
        ("169.254.169.254", false), ("fe80::1", false), ("224.0.0.251", false), ("ff02::1", false),
        ("255.255.255.255", false), ("::ffff:127.0.0.1", false), ("::ffff:169.254.1.1", false),
        ("10.20.30.40", false), ("10.0.0.0", false), ("11.0.0.1", true), ("9.255.255.255", true),
        ("100.64.0.1", false), ("100.127.255.255", false), ("100.63.255.255", true), ("100.128.0.0", true),
        ("172.16.0.1", false), ("172.31.255.255", false), ("172.15.0.1", true), ("172.32.0.1", true),
        ("192.168.0.1", false), ("192.169.0.1", true), ("240.0.0.1", false), ("239.255.255.255", false),
        ("fc00::1", false), ("fdff::1", false), ("fe80::1", false), ("febf::1", false), ("fec0::1", false),
        ("::ffff:10.0.0.1", false), ("::ffff:100.64.0.1", false), ("::ffff:0.0.0.0", false), ("::ffff:8.8.8.8", true),
        ("64:ff9b::7f00:1", false), ("64:ff9b::a9fe:a9fe", false), ("64:ff9b::808:808", true),
        ("2002:c0a8:0101::1", false), ("2002:0808:0808::1", true), ("::a00:1", false), ("::808:808", true),
        ("203.0.113.200", false), ("203.0.113.127", true),
    ])
    func builtInDenials(ip: String, allowed: Bool) {
        // allow_peers = 0.0.0.0/0, ::/0 opens public peers but none of the special-purpose ranges.
        let policy = PeerPolicy(allow: [CIDR("0.0.0.0/0")!, CIDR("::/0")!], deny: [CIDR("203.0.113.128/25")!],
                                ownEndpoints: [TransportAddress(ip: "127.0.0.1", port: 10000)!])
        #expect(policy.allows(TransportAddress(ip: ip, port: 1234)!) == allowed, "\(ip)")
    }

    /// Without turn.allow_peers a relay reaches Confab's media port and nothing else.
    @Test(arguments: ["203.0.113.5", "8.8.8.8", "2001:db8::1", "127.0.0.2", "10.0.0.1", "::ffff:8.8.8.8"])
    func byDefaultOnlyTheOwnEndpoint(ip: String) {
        let own = TransportAddress(ip: "127.0.0.1", port: 10000)!
        let policy = PeerPolicy(ownEndpoints: [own])
        #expect(!policy.allows(TransportAddress(ip: ip, port: 10000)!), "\(ip)")
        #expect(!policy.allowsPermission(TransportAddress(ip: ip, port: 0)!), "\(ip)")
        #expect(policy.allows(own))
        #expect(policy.isOwn(own))
        #expect(!policy.isOwn(own.with(port: 10001)))
    }

    /// Full ICE: libnice's ports (media.rtp_port_range) on an own address are Confab too.
    @Test func ownPortRangeForFullICE() {
        let own = TransportAddress(ip: "192.0.2.1", port: 10000)!
        let policy = PeerPolicy(ownEndpoints: [own], ownPortRange: 20000...40000)
        #expect(policy.allows(own.with(port: 20000)))
        #expect(policy.allows(own.with(port: 40000)))
        #expect(!policy.allows(own.with(port: 40001)))
        #expect(!policy.allows(own.with(port: 22)))
        #expect(!policy.allows(TransportAddress(ip: "192.0.2.2", port: 30000)!))
    }

    @Test func ownEndpointAndLoopbackSwitch() {
        let own = TransportAddress(ip: "127.0.0.1", port: 10000)!
        let policy = PeerPolicy(ownEndpoints: [own])
        #expect(policy.allows(own))
        #expect(!policy.allows(own.with(port: 10001)))
        #expect(policy.allowsPermission(own.with(port: 1)))
        #expect(!policy.allowsPermission(TransportAddress(ip: "127.0.0.2", port: 1)!))
        let tests = PeerPolicy(allow: [CIDR("127.0.0.0/8")!, CIDR("::1/128")!], deny: [CIDR("127.0.0.5")!])
        #expect(tests.allows(TransportAddress(ip: "127.0.0.1", port: 3480)!))
        #expect(tests.allows(TransportAddress(ip: "::1", port: 3480)!))
        #expect(!tests.allows(TransportAddress(ip: "127.0.0.5", port: 3480)!), "deny_peers still wins")
        #expect(!tests.allows(TransportAddress(ip: "0.0.0.0", port: 3480)!))
        #expect(tests.allows(TransportAddress(ip: "::ffff:127.0.0.1", port: 3480)!), "mapped loopback follows 127/8")
        #expect(!tests.allows(TransportAddress(ip: "10.0.0.1", port: 3480)!), "other built-in ranges stay refused")
    }

    @Test func allowPeersOpensOnlyWhatItLists() {
        let policy = PeerPolicy(allow: [CIDR("10.1.0.0/16")!, CIDR("fd00:1::/32")!])
        #expect(policy.allows(TransportAddress(ip: "10.1.2.3", port: 1)!))
        #expect(policy.allows(TransportAddress(ip: "::ffff:10.1.2.3", port: 1)!))
        #expect(!policy.allows(TransportAddress(ip: "10.2.0.1", port: 1)!))
        #expect(policy.allows(TransportAddress(ip: "fd00:1::5", port: 1)!))
        #expect(!policy.allows(TransportAddress(ip: "fd00:2::5", port: 1)!))
        #expect(!policy.allows(TransportAddress(ip: "169.254.169.254", port: 80)!))
        // NAT64 of an allowed range is allowed; of a refused one, refused.
        #expect(policy.allows(TransportAddress(ip: "64:ff9b::a01:203", port: 1)!))
        #expect(!policy.allows(TransportAddress(ip: "64:ff9b::a02:1", port: 1)!))
        // A catch-all opens public peers only; a special range needs its own entry.
        let everything = PeerPolicy(allow: [CIDR("0.0.0.0/0")!, CIDR("::/0")!])
        #expect(everything.allows(TransportAddress(ip: "198.51.100.1", port: 80)!))
        #expect(!everything.allows(TransportAddress(ip: "169.254.169.254", port: 80)!))
        #expect(!everything.allows(TransportAddress(ip: "::1", port: 80)!))
        #expect(!everything.allows(TransportAddress(ip: "10.1.2.3", port: 80)!))
        let metadata = PeerPolicy(allow: [CIDR("169.254.169.254/32")!, CIDR("::1")!])
        #expect(metadata.allows(TransportAddress(ip: "169.254.169.254", port: 80)!))
        #expect(!metadata.allows(TransportAddress(ip: "169.254.169.253", port: 80)!))
        #expect(metadata.allows(TransportAddress(ip: "::1", port: 80)!))
    }

    @Test func cidrParsing() {
        #expect(CIDR("10.0.0.0/8")?.contains(TransportAddress(ip: "10.255.0.1", port: 0)!) == true)
        #expect(CIDR("fc00::/7")?.contains(TransportAddress(ip: "fd12::1", port: 0)!) == true)
        #expect(CIDR("fc00::/7")?.contains(TransportAddress(ip: "fe00::1", port: 0)!) == false)
        #expect(CIDR("0.0.0.0/0")?.contains(TransportAddress(ip: "1.2.3.4", port: 0)!) == true)
        #expect(CIDR("0.0.0.0/0")?.contains(TransportAddress(ip: "::1", port: 0)!) == false)
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("nonsense") == nil)
    }

    @Test func restUsernames() {
        #expect(TURNRESTCredentials.expiry(of: "1700000000:alice") == 1_700_000_000)
        #expect(TURNRESTCredentials.expiry(of: "1700000000") == 1_700_000_000)
        #expect(TURNRESTCredentials.expiry(of: "alice") == nil)
        #expect(TURNRESTCredentials.expiry(of: ":alice") == nil)
        // Known answer: base64(HMAC-SHA1("secret", "1700000000:alice")).
        #expect(TURNRESTCredentials.password(secret: "secret", username: "1700000000:alice")
            == "d8soP47RbdIKLDUOpnJPVQyq5Ts=")
    }
}

/// turn.max_bps: a token bucket per allocation and direction; excess is dropped and counted.
@Suite struct BandwidthCapTests {
    let publicPeer = TransportAddress(ip: "203.0.113.5", port: 5000)!

    @Test func bucketHoldsHalfASecondThenRefillsAtTheRate() {
        var limiter = BandwidthLimiter(bitsPerSecond: 80_000, now: 0)  // 10 bytes/ms, 5,000 bytes of burst
        var admitted = 0
        for _ in 0..<10 where limiter.admit(1000, now: 0) { admitted += 1 }
        #expect(admitted == 5)
        let at50 = limiter.admit(1000, now: 50)
        let at100 = limiter.admit(1000, now: 100)
        let oneMore = limiter.admit(1, now: 100)
        #expect(!at50)
        #expect(at100, "100 ms later: 1,000 bytes more")
        #expect(!oneMore)
        var unlimited = BandwidthLimiter(bitsPerSecond: 0, now: 0)
        var all = true
        for _ in 0..<1000 where !unlimited.admit(65_535, now: 0) { all = false }
        #expect(all)
    }

    @Test func excessRelayedTrafficIsDroppedAndCountedEachWay() throws {
        let h = Harness { $0.maxBitsPerSecond = 160_000 }  // 20,000 B/s: 10,000 bytes of burst
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(stun(publicPeer))])?.isSuccess == true)
        let payload = [UInt8](repeating: 7, count: 1000)
        let frame: [UInt8] = [0x40, 0x01, 0x03, 0xE8] + payload
        for _ in 0..<30 { c.raw(frame) }
        #expect(h.io.toPeers.count == 10)
        for _ in 0..<30 { h.core.handlePeerPacket(ByteBuffer(bytes: payload), relay: 1, from: publicPeer) }
        let toClient = h.io.toClients.filter { $0.1.first == 0x40 }.count
        #expect(toClient == 10, "the other direction has its own bucket")
        #expect(h.core.counters.bandwidthDropped.load(ordering: .relaxed) == 40)
        #expect(h.core.counters.bytesToPeers.load(ordering: .relaxed) == 10_000)
        // Half a second later there is room for 10 more packets each way again, not more.
        h.clock.advance(seconds: 0.5)
        for _ in 0..<15 { c.raw(frame) }
        #expect(h.io.toPeers.count == 20)
        // Another allocation has its own budget.
        let d = h.client(40001)
        #expect(d.allocate()?.isSuccess == true)
        #expect(d.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(stun(publicPeer))])?.isSuccess == true)
        for _ in 0..<5 { d.raw(frame) }
        #expect(h.io.toPeers.count == 25)
    }
}
