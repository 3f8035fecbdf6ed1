/// RFC 3489 clients (no magic cookie) on the TURN listener: Binding answered with MAPPED-ADDRESS
/// (RFC 5389 §12.2), TURN methods refused, answers rate-limited like other unauthenticated ones.
import NIOCore
import Net
import STUN
import Testing
@testable import TURN

@Suite struct ClassicBindingTests {
    static let id: [UInt8] = Array(0x10...0x1F)

    static func classic(_ type: UInt16 = 0x0001, _ body: [UInt8] = []) -> [UInt8] {
        [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + id + body
    }

    @Test func bindingGetsMappedAddressWithTheWholeTransactionID() {
        let h = Harness()
        let answers = h.client(40123).raw(Self.classic())
        // 198.51.100.7:40123 (0x9CBB), no cookie, no FINGERPRINT, nothing XORed.
        #expect(answers == [[0x01, 0x01, 0x00, 0x0C] + Self.id + [0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x9C, 0xBB, 198, 51, 100, 7]])
        #expect(h.core.counters.classicBindings.load(ordering: .relaxed) == 1)
        // Over TCP too (same framing: the length field counts the body).
        #expect(h.client(40124, tcp: true).raw(Self.classic()).count == 1)
    }

    @Test func unsupportedAttributesGet420() {
        let h = Harness()
        let responseAddress: [UInt8] = [0x00, 0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x50, 203, 0, 113, 9]
        let answers = h.client().raw(Self.classic(0x0001, responseAddress))
        #expect(answers.count == 1)
        #expect(answers.first.map { Array($0[0..<2]) } == [0x01, 0x11])
        #expect(answers.first.map { Array($0[24..<28]) } == [0, 0, 4, 20])
        #expect(answers.first?.count ?? 99 <= 20 + responseAddress.count + 8, "no more than 8 bytes larger than the request")
    }

    @Test func turnMethodsAndOtherClassesWithoutTheCookieAreDropped() {
        let h = Harness()
        let c = h.client()
        let transport: [UInt8] = [0x00, 0x19, 0x00, 0x04, 17, 0, 0, 0]
        for type: UInt16 in [0x0003, 0x0004, 0x0008, 0x0009, 0x0016, 0x0011, 0x0101] {
            #expect(c.raw(Self.classic(type, transport)).isEmpty, "type \(type)")
        }
        #expect(h.core.allocationCount == 0)
        #expect(h.core.counters.malformedDropped.load(ordering: .relaxed) == 7)
        #expect(h.core.counters.classicBindings.load(ordering: .relaxed) == 0)
        // Bad lengths are malformed, not answered.
        var short = Self.classic()
        short[3] = 4
        #expect(c.raw(short).isEmpty)
        // And RFC 5389 clients still get XOR-MAPPED-ADDRESS.
        #expect(c.send(.binding, [], authenticate: false)?.xorMappedAddress != nil)
    }

    @Test func classicAnswersShareTheUnauthenticatedRateLimit() {
        let h = Harness {
            $0.unauthenticatedRate = 5
            $0.unauthenticatedBurst = 10
        }
        let c = h.client()
        let answered = (0..<30).filter { _ in !c.raw(Self.classic()).isEmpty }.count
        #expect(answered == 10)
        #expect(h.core.counters.rateLimitedDropped.load(ordering: .relaxed) == 20)
        #expect(c.send(.binding, [], authenticate: false) == nil, "the same bucket as RFC 5389 Bindings")
        #expect(h.client(40002, tcp: true).raw(Self.classic()).count == 1, "TCP is not limited")
    }
}
