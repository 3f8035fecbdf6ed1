/// RFC 3489 Binding requests (no magic cookie) and the RFC 5389 §12.2 answers to them.
import Testing
@testable import STUN

@Suite struct ClassicBindingTests {
    static let transactionID: [UInt8] = Array(0xA0...0xAF)

    /// A classic header (type, length, 16-byte transaction ID) plus `body`.
    static func request(_ body: [UInt8] = [], type: [UInt8] = [0x00, 0x01]) -> [UInt8] {
        type + [UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + transactionID + body
    }

    @Test func recognisesTheMissingCookie() {
        #expect(ClassicSTUNBinding.isClassic(Self.request()))
        #expect(!ClassicSTUNBinding.isClassic(RFC5769.request))
        #expect(!ClassicSTUNBinding.isClassic([0x40, 1, 0, 0, 1, 2, 3, 4] + Array(repeating: 0, count: 12)))
        #expect(!ClassicSTUNBinding.isClassic([0, 1, 0]))
    }

    @Test func plainRequestKeepsAll16TransactionBytes() throws {
        let request = try ClassicSTUNBinding.parse(Self.request())
        #expect(request.transactionID == Self.transactionID)
        #expect(request.unsupportedAttributes.isEmpty)
    }

    @Test func successResponseCarriesMappedAddressAndNoCookie() {
        let mapped = STUNAddress(ipv4: 192, 0, 2, 1, port: 0x1234)
        let bytes = ClassicSTUNBinding.successResponse(transactionID: Self.transactionID, mapped: mapped)
        #expect(bytes == [0x01, 0x01, 0x00, 0x0C] + Self.transactionID
                + [0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x12, 0x34, 192, 0, 2, 1])
        let v6 = STUNAddress(address: [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1], port: 9)!
        let six = ClassicSTUNBinding.successResponse(transactionID: Self.transactionID, mapped: v6)
        #expect(six.count == 20 + 4 + 20 && six[3] == 24 && six[25] == 0x02)
    }

    @Test func ignorableAttributesAreAccepted() throws {
        // USERNAME, MESSAGE-INTEGRITY (not checked), CHANGE-REQUEST with no flag, SOFTWARE (optional).
        let body: [UInt8] = [0x00, 0x06, 0x00, 0x04, 0x61, 0x62, 0x63, 0x64]
            + [0x00, 0x08, 0x00, 0x14] + Array(repeating: 7, count: 20)
            + [0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0]
            + [0x80, 0x22, 0x00, 0x03, 0x61, 0x62, 0x63, 0x00]
        #expect(try ClassicSTUNBinding.parse(Self.request(body)).unsupportedAttributes.isEmpty)
    }

    @Test func responseAddressChangeRequestAndUnknownAreUnsupported() throws {
        let body: [UInt8] = [0x00, 0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x50, 203, 0, 113, 9]  // RESPONSE-ADDRESS
            + [0x00, 0x03, 0x00, 0x04, 0, 0, 0, 0x06]  // CHANGE-REQUEST ip+port
            + [0x7F, 0x00, 0x00, 0x00]  // unknown comprehension-required, empty
        let request = try ClassicSTUNBinding.parse(Self.request(body))
        #expect(request.unsupportedAttributes == [0x0002, 0x0003, 0x7F00])
        let answer = ClassicSTUNBinding.unknownAttributesResponse(transactionID: request.transactionID,
                                                                  attributes: request.unsupportedAttributes)
        // 0x0111 Binding error; ERROR-CODE 420 with an empty reason; 3 types padded to 4 by repeating the last.
        #expect(Array(answer[0..<4]) == [0x01, 0x11, 0x00, 20])
        #expect(Array(answer[4..<20]) == Self.transactionID)
        #expect(Array(answer[20...]) == [0x00, 0x09, 0x00, 0x04, 0, 0, 4, 20,
                                         0x00, 0x0A, 0x00, 0x08, 0x00, 0x02, 0x00, 0x03, 0x7F, 0x00, 0x7F, 0x00])
    }

    @Test func malformedRequestsAreRefused() {
        func error(_ bytes: [UInt8]) -> STUNError? {
            do {
                _ = try ClassicSTUNBinding.parse(bytes)
                return nil
            } catch { return error }
        }
        #expect(error(Array(Self.request().prefix(19))) == .truncatedHeader(length: 19))
        // Only Binding requests: Allocate (0x0003), a Binding indication (0x0011), a response (0x0101).
        for type: [UInt8] in [[0x00, 0x03], [0x00, 0x11], [0x01, 0x01]] {
            #expect(error(Self.request(type: type)) == .invalidValue(type: UInt16(type[0]) << 8 | UInt16(type[1])))
        }
        var odd = Self.request([0, 0, 0, 0])
        odd[3] = 3
        #expect(error(odd) == .lengthNotMultipleOfFour(3))
        #expect(error(Self.request() + [0, 0, 0, 0]) == .lengthMismatch(declared: 0, actual: 4))
        #expect(error(Self.request([0x80, 0x22, 0x00, 0x08, 1, 2, 3, 4]))
                == .attributeOverrun(type: 0x8022, offset: 20, length: 8))
        #expect(error(Self.request([0x00, 0x03, 0x00, 0x00])) == .badAttributeLength(type: 3, length: 0))
    }

    @Test func randomInputNeverTraps() {
        var generator = SplitMix64(state: 3489)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...64, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count >= 4 {
                bytes[0] = 0
                bytes[1] = 1
                let body = bytes.count - 20
                if body >= 0, Bool.random(using: &generator) {
                    bytes[2] = UInt8(body >> 8)
                    bytes[3] = UInt8(body & 0xFF)
                }
            }
            _ = try? ClassicSTUNBinding.parse(bytes)
        }
    }
}
