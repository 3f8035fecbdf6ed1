import Glibc
import NIOCore
import Net
import STUN
import Testing
@testable import TURN

@Suite struct AllocationTests {
    @Test func unauthenticatedAllocateGets401WithRealmAndNonceThenSucceeds() throws {
        let h = Harness()
        let c = h.client()
        let challenge = try #require(c.send(.allocate, [.requestedTransport(17)], authenticate: false))
        #expect(challenge.code == 401)
        #expect(challenge.realm == Harness.realm)
        #expect(challenge.nonce != nil)
        #expect(challenge.attribute(STUNAttributeType.messageIntegrity) == nil)
        let answer = try #require(c.send(.allocate, [.requestedTransport(17)]))
        #expect(answer.isSuccess)
        #expect(answer.verifyIntegrity(key: c.keyBytes))
        #expect(answer.verifyFingerprint())
        #expect(answer.relayed == STUNAddress(ipv4: 192, 0, 2, 10, port: 50001))
        #expect(answer.lifetime == 600)
        #expect(answer.xorMappedAddress == STUNAddress(ipv4: 198, 51, 100, 7, port: 40000))
        #expect(h.core.allocationCount == 1)
        #expect(h.core.counters.allocations.load(ordering: .relaxed) == 1)
    }

    /// DONT-FRAGMENT is honoured, not ignored: the relay socket is asked to send with the DF bit.
    @Test func dontFragmentReachesTheRelaySocket() throws {
        let h = Harness()
        let plain = h.client(40001)
        #expect(plain.allocate()?.isSuccess == true)
        let df = h.client(40002)
        #expect(df.allocate([.requestedTransport(17), .dontFragment])?.isSuccess == true)
        #expect(h.io.dontFragmentRelays == [2])
        // And on a real socket the option takes: IPv4 path MTU discovery "do".
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        #expect(setDontFragment(descriptor, ipv6: false))
        var mode: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, Int32(IPPROTO_IP), IP_MTU_DISCOVER, &mode, &length)
        #expect(mode == Int32(IP_PMTUDISC_DO))
    }

    /// The challenge an unauthenticated client draws stays small: a first Allocate (REQUESTED-TRANSPORT,
    /// FINGERPRINT: 36 bytes) gets 76 bytes back with a 4-character realm (the 32-character nonce made it 88).
    @Test func challengeStaysSmall() throws {
        let h = Harness()
        let request = STUNMessage(method: .allocate, class: .request, transactionID: STUNMessage.randomTransactionID(),
                                  attributes: [.requestedTransport(17)]).encoded(fingerprint: true)
        #expect(request.count == 36)
        let answer = try #require(h.client().raw(request).last)
        let challenge = try STUNMessage.parse(answer)
        #expect(challenge.code == 401)
        #expect(answer.count <= 76, "401 of \(answer.count) bytes")
        let nonce = try #require(challenge.nonce)
        #expect(nonce.count <= 20)
        #expect(nonce.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    @Test func noncesAreCheckedForMACAndAge() {
        let issuer = NonceIssuer(lifetime: 600)
        let nonce = issuer.make(now: 5_000_000)
        #expect(issuer.check(nonce, now: 5_000_000) == .valid)
        #expect(issuer.check(nonce, now: 5_599_000) == .valid)
        #expect(issuer.check(nonce, now: 5_600_000) == .stale)
        #expect(issuer.check(nonce, now: 4_000_000) == .invalid, "issued in the future")
        var forged = Array(nonce)
        forged[forged.count - 1] = forged.last == "A" ? "B" : "A"
        #expect(issuer.check(String(forged), now: 5_000_000) == .invalid)
        #expect(NonceIssuer(lifetime: 600).check(nonce, now: 5_000_000) == .invalid, "another process's key")
        #expect(NonceIssuer.base64URL([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(NonceIssuer.base64URL(Array("Man".utf8) + [0x4D]) == "TWFuTQ")
    }

    /// Table: one request on a fresh client (after a successful allocation when `allocated`) → expected code.
    @Test(arguments: [
        // (label, allocated first, method, attributes, expected error code or 0 for success)
        ("second allocate on the same 5-tuple", true, STUNMethod.allocate, [STUNAttribute.requestedTransport(17)], 437),
        ("TCP relay requested", false, .allocate, [.requestedTransport(6)], 442),
        ("no REQUESTED-TRANSPORT", false, .allocate, [], 400),
        ("DONT-FRAGMENT accepted", false, .allocate, [.requestedTransport(17), .dontFragment], 0),
        ("EVEN-PORT without reservation", false, .allocate, [.requestedTransport(17), .evenPort(reserveNext: false)], 0),
        ("EVEN-PORT R bit: no reservations", false, .allocate, [.requestedTransport(17), .evenPort(reserveNext: true)], 508),
        ("RESERVATION-TOKEN: none is valid", false, .allocate, [.requestedTransport(17), .reservationToken([1, 2, 3, 4, 5, 6, 7, 8])], 508),
        ("RESERVATION-TOKEN with EVEN-PORT", false, .allocate,
         [.requestedTransport(17), .evenPort(reserveNext: false), .reservationToken([1, 2, 3, 4, 5, 6, 7, 8])], 400),
        ("IPv6 relay without IPv6", false, .allocate, [.requestedTransport(17), .requestedAddressFamily(.ipv6)], 440),
        ("both address family attributes", false, .allocate,
         [.requestedTransport(17), .requestedAddressFamily(.ipv4), .additionalAddressFamily(.ipv6)], 400),
        ("ADDITIONAL-ADDRESS-FAMILY IPv4", false, .allocate, [.requestedTransport(17), .additionalAddressFamily(.ipv4)], 400),
        ("unknown comprehension-required attribute", false, .allocate, [.requestedTransport(17), .unknown(type: 0x7777, value: [1])], 420),
        ("refresh without allocation", false, .refresh, [], 437),
        ("refresh", true, .refresh, [.lifetime(1200)], 0),
        ("create permission without allocation", false, .createPermission, [.xorPeerAddress(peer("203.0.113.5", 1))], 437),
        ("create permission without a peer", true, .createPermission, [], 400),
        ("create permission to an IPv6 peer on an IPv4 relay", true, .createPermission, [.xorPeerAddress(peer("2001:db8::1", 1))], 443),
        ("create permission to a public peer", true, .createPermission, [.xorPeerAddress(peer("203.0.113.5", 1))], 0),
        ("create permission to loopback", true, .createPermission, [.xorPeerAddress(peer("127.0.0.2", 1))], 403),
        ("create permission to 0.0.0.0/8", true, .createPermission, [.xorPeerAddress(peer("0.1.2.3", 1))], 403),
        ("create permission to link-local metadata", true, .createPermission, [.xorPeerAddress(peer("169.254.169.254", 80))], 403),
        ("create permission to multicast", true, .createPermission, [.xorPeerAddress(peer("239.1.2.3", 1))], 403),
        ("create permission to IPv4-mapped loopback", true, .createPermission, [.xorPeerAddress(peer("::ffff:127.0.0.2", 1))], 403),
        ("create permission to a turn.deny_peers range", true, .createPermission, [.xorPeerAddress(peer("203.0.113.200", 1))], 403),
        ("create permission to RFC 1918 10/8", true, .createPermission, [.xorPeerAddress(peer("10.1.2.3", 1))], 403),
        ("create permission to RFC 1918 172.16/12", true, .createPermission, [.xorPeerAddress(peer("172.31.0.1", 1))], 403),
        ("create permission to RFC 1918 192.168/16", true, .createPermission, [.xorPeerAddress(peer("192.168.1.1", 1))], 403),
        ("create permission to CGNAT 100.64/10", true, .createPermission, [.xorPeerAddress(peer("100.100.0.1", 1))], 403),
        ("create permission to reserved 240/4", true, .createPermission, [.xorPeerAddress(peer("240.0.0.1", 1))], 403),
        ("create permission to IPv4-mapped private", true, .createPermission, [.xorPeerAddress(peer("::ffff:192.168.0.1", 1))], 403),
        ("channel bind to a private peer", true, .channelBind,
         [.channelNumber(0x4000), .xorPeerAddress(peer("192.168.1.1", 5000))], 403),
        ("channel bind to IPv4-mapped metadata", true, .channelBind,
         [.channelNumber(0x4000), .xorPeerAddress(peer("::ffff:169.254.169.254", 80))], 403),
        ("one denied peer fails the whole request", true, .createPermission,
         [.xorPeerAddress(peer("203.0.113.5", 1)), .xorPeerAddress(peer("127.0.0.2", 1))], 403),
        ("channel bind to the SFU's own media port", true, .channelBind,
         [.channelNumber(0x4000), .xorPeerAddress(peer("127.0.0.1", Harness.mediaPort))], 0),
        ("channel bind to loopback on another port", true, .channelBind,
         [.channelNumber(0x4000), .xorPeerAddress(peer("127.0.0.1", Harness.mediaPort + 1))], 403),
        ("channel number below the range", true, .channelBind, [.channelNumber(0x3FFF), .xorPeerAddress(peer("203.0.113.5", 1))], 400),
        ("channel number above the range", true, .channelBind, [.channelNumber(0x8000), .xorPeerAddress(peer("203.0.113.5", 1))], 400),
        ("channel bind without a number", true, .channelBind, [.xorPeerAddress(peer("203.0.113.5", 1))], 400),
        ("channel bind without a peer", true, .channelBind, [.channelNumber(0x4000)], 400),
        ("unknown method", false, STUNMethod(rawValue: 0x00B), [], 400),
    ])
    func requests(label: String, allocated: Bool, method: STUNMethod, attributes: [STUNAttribute], expected: Int) throws {
        let h = Harness()
        let c = h.client()
        if allocated { #expect(c.allocate()?.isSuccess == true, "\(label): allocation") }
        let answer = try #require(c.request(method, attributes), "\(label): no answer")
        if expected == 0 {
            #expect(answer.isSuccess, "\(label): got \(answer.code ?? 0) \(answer.errorCode?.reason ?? "")")
        } else {
            #expect(answer.code == expected, "\(label): got \(answer.code.map(String.init) ?? "success")")
        }
        if expected == 420 {
            #expect(answer.attributes.contains(.unknownAttributes([0x7777])))
        }
        if expected != 0, expected != 400 || method != STUNMethod(rawValue: 0x00B) {
            #expect(answer.verifyIntegrity(key: c.keyBytes), "\(label): errors after authentication are protected")
        }
    }

    @Test func retransmittedAllocateGetsTheSameAnswerNot437() throws {
        let h = Harness()
        let c = h.client()
        _ = c.send(.allocate, [.requestedTransport(17)], authenticate: false)
        let id = STUNMessage.randomTransactionID()
        let first = try #require(c.send(.allocate, [.requestedTransport(17)], transactionID: id))
        let again = try #require(c.send(.allocate, [.requestedTransport(17)], transactionID: id))
        #expect(first.isSuccess && again.isSuccess)
        #expect(first.relayed == again.relayed)
        #expect(h.io.open.count == 1)
    }

    @Test func evenPortGivesAnEvenPort() throws {
        let h = Harness()
        let answer = try #require(h.client().allocate([.requestedTransport(17), .evenPort(reserveNext: false)]))
        #expect(answer.relayed.map { $0.port % 2 == 0 } == true)
    }

    @Test func ipv6RelaysWhenTheHostHasIPv6() throws {
        let h = Harness { $0.relayIPv6 = TransportAddress(ip: "2001:db8::10", port: 0) }
        let v6 = try #require(h.client(1).allocate([.requestedTransport(17), .requestedAddressFamily(.ipv6)]))
        #expect(v6.relayed?.family == .ipv6)
        let dual = try #require(h.client(2).allocate([.requestedTransport(17), .additionalAddressFamily(.ipv6)]))
        let relayed = dual.attributes.compactMap { if case .xorRelayedAddress(let a) = $0 { a.family } else { nil } }
        #expect(relayed == [.ipv4, .ipv6])
        // coturn's clients send ADDITIONAL-ADDRESS-FAMILY with the draft code point 0x8032.
        let legacy = try #require(h.client(3).allocate([.requestedTransport(17), .unknown(type: 0x8032, value: [2, 0, 0, 0])]))
        #expect(legacy.attributes.filter { if case .xorRelayedAddress = $0 { true } else { false } }.count == 2)
        // Without IPv6 the IPv4 half still succeeds and the IPv6 half reports 440.
        let v4only = Harness()
        let half = try #require(v4only.client().allocate([.requestedTransport(17), .additionalAddressFamily(.ipv6)]))
        #expect(half.isSuccess)
        #expect(half.attributes.contains { if case .addressErrorCode(.ipv6, let e) = $0 { e.code == 440 } else { false } })
    }

    @Test func ipv6RelaysRefuseSpecialIPv6Peers() throws {
        let h = Harness { $0.relayIPv6 = TransportAddress(ip: "2001:db8::10", port: 0) }
        let c = h.client()
        #expect(c.allocate([.requestedTransport(17), .additionalAddressFamily(.ipv6)])?.isSuccess == true)
        for ip in ["::1", "::", "fd00::1", "fc12::1", "fe80::1", "ff02::1", "64:ff9b::a00:1", "2002:a00:1::1"] {
            #expect(c.request(.createPermission, [.xorPeerAddress(peer(ip, 1))])?.code == 403, "\(ip)")
            #expect(c.request(.channelBind, [.channelNumber(0x4000), .xorPeerAddress(peer(ip, 1))])?.code == 403, "\(ip)")
        }
        #expect(c.request(.createPermission, [.xorPeerAddress(peer("2001:db8::1", 1))])?.isSuccess == true)
    }

    @Test func lifetimeIsClampedBetweenDefaultAndMaximum() throws {
        for (asked, granted) in [(UInt32(30), UInt32(600)), (900, 900), (100_000, 3600)] {
            let answer = try #require(Harness().client().allocate([.requestedTransport(17), .lifetime(asked)]))
            #expect(answer.lifetime == granted)
        }
    }

    @Test func staleNonceGets438WithAFreshNonce() throws {
        let h = Harness { $0.nonceLifetime = 60 }
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        let old = c.nonce
        h.clock.advance(seconds: 61)
        let stale = try #require(c.send(.refresh, [.lifetime(600)]))
        #expect(stale.code == 438)
        #expect(stale.realm == Harness.realm)
        #expect(stale.nonce != nil && stale.nonce != old)
        // The client retries with the fresh nonce and succeeds.
        #expect(c.send(.refresh, [.lifetime(600)])?.isSuccess == true)
        // A nonce this server never issued is treated as stale too.
        c.nonce = "0-00"
        #expect(c.send(.refresh, [])?.code == 438)
    }

    @Test func wrongPasswordAndUnknownUserGet401AndCount() throws {
        let h = Harness()
        #expect(h.client(1, password: "nope").allocate()?.code == 401)
        #expect(h.client(2, user: "mallory").allocate()?.code == 401)
        #expect(h.core.counters.authFailures.load(ordering: .relaxed) == 2)
        #expect(h.core.allocationCount == 0)
    }

    @Test func anotherUsersRequestOnTheAllocationGets441() throws {
        let h = Harness()
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        c.user = "bob"
        c.password = "pw2"
        #expect(c.send(.refresh, [])?.code == 441)
    }

    @Test func userQuotaGives486() throws {
        let h = Harness { $0.userQuota = 2 }
        #expect(h.client(1).allocate()?.isSuccess == true)
        #expect(h.client(2).allocate()?.isSuccess == true)
        #expect(h.client(3).allocate()?.code == 486)
        #expect(h.client(4, user: "bob", password: "pw2").allocate()?.isSuccess == true)
        // Freeing one makes room again.
        #expect(h.client(1).request(.refresh, [.lifetime(0)])?.isSuccess == true)
        #expect(h.client(3).allocate()?.isSuccess == true)
    }

    @Test func maxAllocationsGives486ServerWide() throws {
        let h = Harness { $0.maxAllocations = 2 }
        #expect(h.client(1).allocate()?.isSuccess == true)
        #expect(h.client(2, user: "bob", password: "pw2").allocate()?.isSuccess == true)
        let full = try #require(h.client(3, user: "bob", password: "pw2").allocate())
        #expect(full.code == 486)
        #expect(full.errorCode?.reason == "Allocation Quota Reached")
        #expect(full.verifyIntegrity(key: h.client(3, user: "bob", password: "pw2").keyBytes))
        #expect(h.io.open.count == 2, "no relay opened for the refused one")
        #expect(h.client(1).request(.refresh, [.lifetime(0)])?.isSuccess == true)
        #expect(h.client(3, user: "bob", password: "pw2").allocate()?.isSuccess == true)
    }

    @Test func externalIPIsAnnouncedAsTheRelayedAddress() throws {
        let h = Harness {
            $0.relayIPv6 = TransportAddress(ip: "2001:db8::10", port: 0)
            $0.externalIPv4 = TransportAddress(ip: "203.0.113.99", port: 0)
        }
        let answer = try #require(h.client().allocate([.requestedTransport(17), .additionalAddressFamily(.ipv6)]))
        let relayed = answer.attributes.compactMap { if case .xorRelayedAddress(let a) = $0 { a } else { nil } }
        #expect(relayed == [STUNAddress(ipv4: 203, 0, 113, 99, port: 50001), peer("2001:db8::10", 50002)])
        // The relay socket is still bound on the local address.
        #expect(h.io.open[1] == TransportAddress(ip: "192.0.2.10", port: 50001))
    }

    @Test func noFreeRelayPortGives508() throws {
        let h = Harness()
        h.io.refuseRelays = true
        #expect(h.client().allocate()?.code == 508)
    }

    @Test func refreshZeroDeletesAtOnce() throws {
        let h = Harness()
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true)
        let answer = try #require(c.request(.refresh, [.lifetime(0)]))
        #expect(answer.isSuccess)
        #expect(answer.lifetime == 0)
        #expect(h.core.allocationCount == 0)
        #expect(h.io.closed == [1])
        #expect(c.request(.refresh, [])?.code == 437)
        #expect(c.allocate()?.isSuccess == true, "the 5-tuple is free again")
    }

    @Test func restCredentialsWorkUntilTheyExpire() throws {
        let h = Harness()
        let (user, password) = TURNRESTCredentials.make(secret: "rest", user: "web", lifetime: 100, now: h.clock.unix)
        #expect(password == TURNRESTCredentials.password(secret: "rest", username: user))
        #expect(h.client(1, user: user, password: password).allocate()?.isSuccess == true)
        #expect(h.client(2, user: user, password: "forged").allocate()?.code == 401)
        h.clock.advance(seconds: 101)
        #expect(h.client(3, user: user, password: password).allocate()?.code == 401)
        // Without a secret, REST names are just unknown users.
        let none = Harness { $0.restSecret = "" }
        let (u2, p2) = TURNRESTCredentials.make(secret: "", user: "web", lifetime: 100, now: none.clock.unix)
        #expect(none.client(user: u2, password: p2).allocate()?.code == 401)
    }

    @Test func allocationsPermissionsAndChannelsExpire() throws {
        let h = Harness()
        let c = h.client()
        #expect(c.allocate([.requestedTransport(17), .lifetime(1200)])?.lifetime == 1200)
        #expect(c.request(.createPermission, [.xorPeerAddress(peer("203.0.113.5", 1))])?.isSuccess == true)
        #expect(c.request(.channelBind, [.channelNumber(0x4001), .xorPeerAddress(peer("203.0.113.6", 7))])?.isSuccess == true)
        #expect(h.core.counters.permissions.load(ordering: .relaxed) == 2)
        #expect(h.core.counters.channels.load(ordering: .relaxed) == 1)
        h.clock.advance(seconds: 301)
        h.core.expire()
        #expect(h.core.counters.permissions.load(ordering: .relaxed) == 0)
        #expect(h.core.counters.channels.load(ordering: .relaxed) == 1)
        h.clock.advance(seconds: 300)
        h.core.expire()
        #expect(h.core.counters.channels.load(ordering: .relaxed) == 0)
        #expect(h.core.allocationCount == 1)
        h.clock.advance(seconds: 600)
        h.core.expire()
        #expect(h.core.allocationCount == 0)
        #expect(h.io.closed == [1])
        #expect(h.core.counters.allocations.load(ordering: .relaxed) == 0)
    }

    @Test func tcpConnectionClosingEndsItsAllocation() throws {
        let h = Harness()
        #expect(h.client(tcp: true).allocate()?.isSuccess == true)
        h.core.connectionClosed(99)
        #expect(h.core.allocationCount == 0)
    }

    @Test func bindingNeedsNoCredentials() throws {
        let h = Harness()
        let answer = try #require(h.client().send(.binding, [], authenticate: false))
        #expect(answer.isSuccess)
        #expect(answer.xorMappedAddress == STUNAddress(ipv4: 198, 51, 100, 7, port: 40000))
        #expect(h.client().send(.binding, [.unknown(type: 0x0042, value: [])], authenticate: false)?.code == 420)
    }
}
