import NIOCore
import Net
import STUN
import Testing
@testable import TURN

@Suite struct RateLimitTests {
    let address = TransportAddress(ip: "198.51.100.7", port: 40000)!

    @Test func bucketAllowsABurstThenTheRate() {
        var limiter = RateLimiter(rate: 10, burst: 3)
        let burst = (0..<5).map { _ in limiter.admit(address, now: 1000) }
        #expect(burst == [true, true, true, false, false])
        let otherPort = limiter.admit(address.with(port: 1), now: 1000)
        #expect(!otherPort, "any port of the IP shares the bucket")
        let otherIP = limiter.admit(TransportAddress(ip: "198.51.100.8", port: 1)!, now: 1000)
        #expect(otherIP, "another IP has its own")
        let refilled = [limiter.admit(address, now: 1100), limiter.admit(address, now: 1100)]
        #expect(refilled == [true, false], "0.1 s at 10/s refills one")
        let later = (0..<4).map { _ in limiter.admit(address, now: 11_000) }
        #expect(later == [true, true, true, false], "never beyond the burst")
    }

    @Test func zeroRateMeansNoLimit() {
        var limiter = RateLimiter(rate: 0, burst: 0)
        let all = (0..<1000).allSatisfy { _ in limiter.admit(address, now: 0) }
        #expect(all)
        #expect(limiter.trackedCount == 0)
    }

    @Test func refilledBucketsAreForgottenAndTheTableIsBounded() {
        var limiter = RateLimiter(rate: 1, burst: 2, maxTracked: 3)
        for last in 1...3 { _ = limiter.admit(TransportAddress(high: 0, low: 0xFFFF_0A00_0000 | UInt64(last), port: 1), now: 0) }
        #expect(limiter.trackedCount == 3)
        // A spoofed sweep over more IPs shares one overflow bucket.
        let sweep = (4...10).map { limiter.admit(TransportAddress(high: 0, low: 0xFFFF_0A00_0000 | UInt64($0), port: 1), now: 0) }
        #expect(sweep == [true, true, false, false, false, false, false])
        #expect(limiter.trackedCount == 4)
        limiter.prune(now: 1000)
        #expect(limiter.trackedCount == 1, "the overflow bucket is still refilling")
        limiter.prune(now: 2000)
        #expect(limiter.trackedCount == 0)
    }

    @Test func unauthenticatedAnswersAreLimitedPerIPAndCounted() throws {
        let h = Harness {
            $0.unauthenticatedRate = 5
            $0.unauthenticatedBurst = 10
        }
        let c = h.client()
        let answered = (0..<30).filter { _ in c.send(.binding, [], authenticate: false) != nil }.count
        #expect(answered == 10)
        #expect(h.core.counters.rateLimitedDropped.load(ordering: .relaxed) == 20)
        // 401 challenges draw on the same bucket.
        #expect(h.client(40001).send(.allocate, [.requestedTransport(17)], authenticate: false) == nil)
        // Another IP is unaffected.
        let other = Client(harness: h, key: ClientKey(address: TransportAddress(ip: "203.0.113.9", port: 1)!, connection: 1,
                                                      isTCP: false), user: "alice", password: "pw")
        #expect(other.send(.binding, [], authenticate: false)?.isSuccess == true)
        // TCP cannot be spoofed, so it is not limited.
        #expect(h.client(40002, tcp: true).send(.binding, [], authenticate: false)?.isSuccess == true)
        h.clock.advance(seconds: 1)
        let later = (0..<10).filter { _ in c.send(.binding, [], authenticate: false) != nil }.count
        #expect(later == 5)
    }

    @Test func authenticatedRequestsAreNotLimited() throws {
        let h = Harness {
            $0.unauthenticatedRate = 1
            $0.unauthenticatedBurst = 1
        }
        let c = h.client()
        #expect(c.allocate()?.isSuccess == true, "the one 401 fits the burst")
        #expect(c.send(.binding, [], authenticate: false) == nil, "the bucket is empty")
        for _ in 0..<20 { #expect(c.send(.refresh, [.lifetime(600)])?.isSuccess == true) }
        #expect(c.request(.createPermission, [.xorPeerAddress(peer("203.0.113.5", 1))])?.isSuccess == true)
        // Errors after authentication are answered too (integrity-protected, not reflected blindly).
        #expect(c.send(.allocate, [.requestedTransport(17)])?.code == 437)
    }
}
