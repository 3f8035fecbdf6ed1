/// Malformed input is refused with the right typed error, and random input never crashes.
import Testing
@testable import STUN

@Suite struct MalformedTests {
    /// A valid empty Binding request header plus `body`, with the length field set to match.
    static func message(_ body: [UInt8], type: [UInt8] = [0x00, 0x01]) -> [UInt8] {
        type + [UInt8(body.count >> 8), UInt8(body.count & 0xFF), 0x21, 0x12, 0xA4, 0x42] + Array(1...12) + body
    }

    static func error(_ bytes: [UInt8]) -> STUNError? {
        do {
            _ = try STUNMessage.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func truncatedHeader() {
        #expect(Self.error([]) == .truncatedHeader(length: 0))
        #expect(Self.error(Array(RFC5769.request.prefix(19))) == .truncatedHeader(length: 19))
    }

    @Test func topBitsSet() {
        #expect(Self.error(Self.message([], type: [0x40, 0x01])) == .notSTUN(firstByte: 0x40))
    }

    @Test func badCookie() {
        var bytes = Self.message([])
        bytes[7] = 0x43
        #expect(Self.error(bytes) == .badMagicCookie(0x2112_A443))
    }

    @Test func lengthNotMultipleOfFour() {
        var bytes = Self.message([0, 0x25, 0, 0, 0])  // 5-byte body
        bytes[3] = 5
        #expect(Self.error(bytes) == .lengthNotMultipleOfFour(5))
    }

    @Test func lengthMismatch() {
        #expect(Self.error(Array(RFC5769.request.prefix(104))) == .lengthMismatch(declared: 88, actual: 84))
        #expect(Self.error(RFC5769.request + [0, 0, 0, 0]) == .lengthMismatch(declared: 88, actual: 92))
    }

    @Test func attributeOverrun() {
        // USERNAME claims 8 bytes but only 4 follow.
        #expect(Self.error(Self.message([0x00, 0x06, 0x00, 0x08, 0x61, 0x62, 0x63, 0x64]))
                == .attributeOverrun(type: 0x0006, offset: 20, length: 8))
        // A 5-byte SOFTWARE value needs 8 bytes once padded; only 4 follow its header.
        #expect(Self.error(Self.message([0x80, 0x22, 0x00, 0x05, 1, 2, 3, 4]))
                == .attributeOverrun(type: 0x8022, offset: 20, length: 5))
    }

    @Test func badFamily() {
        #expect(Self.error(Self.message([0x00, 0x20, 0x00, 0x08, 0x00, 0x03, 0xA1, 0x47, 0xE1, 0x12, 0xA6, 0x43]))
                == .badAddressFamily(type: 0x0020, family: 3))
        #expect(Self.error(Self.message([0x00, 0x17, 0x00, 0x04, 0x00, 0, 0, 0]))
                == .badAddressFamily(type: 0x0017, family: 0))
    }

    @Test func truncatedXORAddress() {
        // IPv6 family but only an IPv4-sized value.
        #expect(Self.error(Self.message([0x00, 0x20, 0x00, 0x08, 0x00, 0x02, 0xA1, 0x47, 0xE1, 0x12, 0xA6, 0x43]))
                == .badAttributeLength(type: 0x0020, length: 8))
        // Too short to hold even the family.
        #expect(Self.error(Self.message([0x00, 0x12, 0x00, 0x02, 0x00, 0x01, 0, 0]))
                == .badAttributeLength(type: 0x0012, length: 2))
    }

    @Test func badFixedLengthsAndValues() {
        #expect(Self.error(Self.message([0x00, 0x08, 0x00, 0x04, 0, 0, 0, 0])) == .badAttributeLength(type: 0x0008, length: 4))
        #expect(Self.error(Self.message([0x80, 0x28, 0x00, 0x00])) == .badAttributeLength(type: 0x8028, length: 0))
        #expect(Self.error(Self.message([0x00, 0x25, 0x00, 0x01, 1, 0, 0, 0])) == .badAttributeLength(type: 0x0025, length: 1))
        // ERROR-CODE class 7 is invalid.
        #expect(Self.error(Self.message([0x00, 0x09, 0x00, 0x04, 0, 0, 7, 0])) == .invalidValue(type: 0x0009))
        // USERNAME that is not UTF-8.
        #expect(Self.error(Self.message([0x00, 0x06, 0x00, 0x02, 0xC3, 0x28, 0, 0])) == .invalidUTF8(type: 0x0006))
    }

    @Test func integrityChecksRejectGarbage() {
        #expect(!STUNMessage.verifyIntegrity(bytes: [1, 2, 3], key: []))
        #expect(!STUNMessage.verifyFingerprint(bytes: Array(RFC5769.request.prefix(40))))
        var flipped = RFC5769.request
        flipped[30] ^= 0x01
        #expect(!STUNMessage.verifyFingerprint(bytes: flipped))
        #expect(!STUNMessage.verifyIntegrity(bytes: flipped, key: RFC5769.shortTermKey))
    }

    /// Random bytes, random mutations of valid messages, and every truncation: no input may trap.
    @Test func fuzz() {
        var rng = SplitMix64(state: 0x5EED)
        let seeds = [RFC5769.request, RFC5769.ipv4Response, RFC5769.ipv6Response, RFC5769.longTermRequest]
        var accepted = 0
        for round in 0..<20_000 {
            var input: [UInt8]
            switch round % 4 {
            case 0:  // pure noise, sometimes with a plausible header so attribute parsing is reached
                input = (0..<Int.random(in: 0...128, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if input.count >= 20, Bool.random(using: &rng) {
                    input[0] &= 0x3F
                    input.replaceSubrange(4..<8, with: [0x21, 0x12, 0xA4, 0x42])
                    let length = input.count - 20
                    input[2] = UInt8(length >> 8)
                    input[3] = UInt8(length & 0xFF)
                }
            case 1:  // truncation of a valid message
                let seed = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
                input = Array(seed.prefix(Int.random(in: 0...seed.count, using: &rng)))
            default:  // a few flipped bytes in a valid message (keeps framing often valid)
                input = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    input[Int.random(in: 20..<input.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            if let message = try? STUNMessage.parse(input) {
                accepted += 1
                // Whatever parses must verify without trapping and re-encode to something parseable.
                _ = message.verifyIntegrity(key: RFC5769.shortTermKey)
                _ = message.verifyFingerprint()
                _ = message.unknownComprehensionRequired
                #expect((try? STUNMessage.parse(message.encoded(fingerprint: true))) != nil)
            }
            _ = STUNMessage.isSTUN(input)
        }
        #expect(accepted > 0)
    }
}
