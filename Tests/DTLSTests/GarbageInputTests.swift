// Garbage datagrams into DTLSEndpoints in every state: nothing may crash, and an established
// association must survive any amount of forged records (RFC 6347 §4.1.2.7: invalid records are
// silently discarded) — anyone who can get a datagram to the shared media port can send these.

import Testing
@testable import DTLS

/// SplitMix64: deterministic, so a failing input reproduces.
struct GarbageRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<max(0, count)).map { _ in UInt8(truncatingIfNeeded: next()) } }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
}

enum Garbage {
    static func record(_ type: UInt8, _ body: [UInt8], epoch: UInt16? = nil, length: Int? = nil,
                       _ random: inout GarbageRandom) -> [UInt8] {
        let epoch = epoch ?? random.pick([0, 1, 1, 2, 0xFFFF])
        let version: [UInt8] = random.pick([[0xFE, 0xFD], [0xFE, 0xFD], [0xFE, 0xFF], [0x03, 0x03], random.bytes(2)])
        let length = UInt16(truncatingIfNeeded: length ?? body.count)
        return [type] + version + [UInt8(epoch >> 8), UInt8(epoch & 0xFF)] + random.bytes(6)
            + [UInt8(length >> 8), UInt8(length & 0xFF)] + body
    }

    static func clientHello(_ random: inout GarbageRandom) -> [UInt8] {
        var inner: [UInt8] = [0xFE, 0xFD] + random.bytes(32)
        let sessionID = random.pick([0, 32, 255])
        inner += [UInt8(sessionID)] + random.bytes(min(sessionID, 32))
        let cookie = random.pick([0, 20, 255])
        inner += [UInt8(cookie)] + random.bytes(min(cookie, 20))
        let suites = random.pick([2, 4, 0, 0xFFFE])
        inner += [UInt8(suites >> 8), UInt8(suites & 0xFF)] + random.bytes(min(suites, 8)) + [0x01, 0x00]
        let extensions = random.bytes(random.below(121))
        let extLength = random.pick([extensions.count, 0xFFFF, extensions.count + 7])
        inner += [UInt8(extLength >> 8 & 0xFF), UInt8(extLength & 0xFF)] + extensions
        func u24(_ value: Int) -> [UInt8] { [UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        var handshake: [UInt8] = [1] + u24(random.pick([inner.count, inner.count + 100, 0xFFFFFF, 0]))
            + random.bytes(2) + u24(random.pick([0, 0, 5, 0xFFFFFF]))
            + u24(random.pick([inner.count, inner.count - 1, 0xFFFFFF])) + inner
        if random.below(5) == 0 { handshake = Array(handshake.prefix(random.below(handshake.count + 1))) }
        return record(22, handshake, epoch: random.pick([0, 0, 1]),
                      length: random.pick([nil, nil, handshake.count + 50, 0xFFFF]), &random)
    }

    /// One DTLS-looking datagram (first byte 20...63 unless it is a runt).
    static func datagram(_ random: inout GarbageRandom) -> [UInt8] {
        switch random.below(6) {
        case 0:
            let count = random.below(4) == 0 ? random.below(14) : 14 + random.below(1187)
            var bytes = random.bytes(max(count, 1))
            bytes[0] = UInt8(20 + random.below(44))
            return bytes
        case 1:
            return clientHello(&random)
        case 2:
            return record(21, [random.pick([1, 2]), UInt8(truncatingIfNeeded: random.next())]
                          + random.bytes(random.pick([0, 0, 30])), &random)
        case 3:
            return record(random.pick([20, 23]), random.bytes(random.below(601)), &random)
        case 4:
            var out: [UInt8] = []
            for _ in 0..<(2 + random.below(4)) {
                out += record(random.pick([20, 21, 22, 23]), random.bytes(random.below(61)),
                              length: random.pick([nil, random.below(65536)]), &random)
            }
            return out
        default:
            let body = [random.pick([2, 3, 11, 12, 13, 14, 15, 16, 20, 0xFF] as [UInt8])] + random.bytes(random.below(301))
            return record(22, body, &random)
        }
    }
}

@Suite struct GarbageInputTests {
    /// Connected endpoints on both sides take 20,000 forged datagrams: every one is dropped and
    /// counted, the association stays up, still carries data and still closes cleanly.
    @Test func connectedEndpointsIgnoreTwentyThousandForgedDatagrams() throws {
        var random = GarbageRandom(state: 0xD715)
        let pair = try Pair()
        pair.run()
        try #require(pair.client.isConnected && pair.server.isConnected)
        let keys = (pair.client.keyingMaterial, pair.server.keyingMaterial)
        for round in 0..<20_000 {
            let endpoint = round % 2 == 0 ? pair.server : pair.client
            let datagram = Garbage.datagram(&random)
            let data = endpoint.receive(datagram: datagram)
            guard endpoint.isConnected, data.isEmpty else {
                Issue.record("round \(round): \(endpoint.role) is \(endpoint.state), \(data.count) records, after \(datagram)")
                return
            }
        }
        #expect(pair.client.droppedDatagrams == 10_000)
        #expect(pair.server.droppedDatagrams == 10_000)
        // Nothing was answered (no alert, no retransmission toward the real peer).
        #expect(pair.client.drainOutbound().isEmpty)
        #expect(pair.server.drainOutbound().isEmpty)
        #expect(pair.client.keyingMaterial == keys.0 && pair.server.keyingMaterial == keys.1)

        // Still one working association: data both ways, then close_notify.
        #expect(pair.client.send(applicationData: [1, 2, 3]))
        var received: [[UInt8]] = []
        for datagram in pair.client.drainOutbound() { received += pair.server.receive(datagram: datagram) }
        #expect(received == [[1, 2, 3]])
        #expect(pair.server.send(applicationData: [4]))
        received = []
        for datagram in pair.server.drainOutbound() { received += pair.client.receive(datagram: datagram) }
        #expect(received == [[4]])
        pair.client.close()
        for datagram in pair.client.drainOutbound() { pair.server.receive(datagram: datagram) }
        #expect(pair.server.state == .closed)
    }

    /// The two datagrams OpenSSL 3.0 took as fatal: a protected alert shorter than the AEAD
    /// overhead, and a record claiming more bytes than a datagram can hold.
    @Test func shortProtectedRecordsAndOverlongLengthsAreDropped() throws {
        let pair = try Pair()
        pair.run()
        let shortAlert: [UInt8] = [21, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 2, 2, 40]
        let overlong: [UInt8] = [23, 0xFE, 0xFD, 0xFF, 0xFF, 0, 0, 0, 0, 0, 1, 0x4C, 0xFB] + Array(repeating: 7, count: 600)
        let trailing: [UInt8] = [23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 2, 0, 30] + Array(repeating: 7, count: 30) + [1, 2, 3]
        for datagram in [shortAlert, overlong, trailing] {
            for endpoint in [pair.client, pair.server] {
                endpoint.receive(datagram: datagram)
                #expect(endpoint.isConnected, "\(endpoint.role) after \(datagram.prefix(16))")
            }
        }
        #expect(pair.client.droppedDatagrams == 3 && pair.server.droppedDatagrams == 3)
        #expect(DTLSRecord.isMalformed(shortAlert, minimumProtectedLength: 24))
        let wellFramed = Array(shortAlert.prefix(11)) + [0, 24] + Array(repeating: 0, count: 24)
        #expect(!DTLSRecord.isMalformed(wellFramed, minimumProtectedLength: 24))
        #expect(!DTLSRecord.isMalformed(wellFramed + wellFramed, minimumProtectedLength: 24))
        #expect(DTLSRecord.isMalformed(wellFramed + [1], minimumProtectedLength: 24))
    }

    /// Garbage into endpoints that are idle or mid-handshake (only an ICE-authenticated source
    /// can reach them): any outcome but a crash; a failed or closed endpoint drops the rest.
    @Test func tenThousandDatagramsIntoFreshAndHandshakingEndpoints() throws {
        var random = GarbageRandom(state: 0xBAD5EED)
        var pair = try Pair()
        var failures = 0
        for round in 0..<10_000 {
            if round % 50 == 0 {
                pair = try Pair()
                if random.below(2) == 0 { pair.client.start() }
            }
            let datagram = random.below(4) == 0 ? random.bytes(random.below(200)) : Garbage.datagram(&random)
            let target = random.below(2) == 0 ? pair.server : pair.client
            target.receive(datagram: datagram)
            _ = target.drainOutbound()
            _ = target.retransmissionTimeout
            if case .failed = target.state { failures += 1 }
            if random.below(10) == 0 { target.handleTimeout() }
        }
        // Both kinds of outcome happen: the generator reaches OpenSSL's handshake code.
        #expect(failures > 0)
    }
}
