/// Every attribute survives encode → parse, and integrity/fingerprint computed by the encoder verify.
import Testing
@testable import STUN

@Suite struct RoundTripTests {
    static let tid: [UInt8] = Array(1...12)
    static let v4 = STUNAddress(ipv4: 203, 0, 113, 7, port: 49152)
    static let v6 = STUNAddress(address: hex("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"), port: 3478)!

    static let everyAttribute: [STUNAttribute] = [
        .mappedAddress(v4), .mappedAddress(v6),
        .xorMappedAddress(v4), .xorMappedAddress(v6),
        .xorPeerAddress(v4), .xorPeerAddress(v6),
        .xorRelayedAddress(v4), .xorRelayedAddress(v6),
        .alternateServer(v6),
        .username("alice:bob"), .userhash([UInt8](repeating: 0xAB, count: 32)),
        .errorCode(STUNErrorCode(code: 420, reason: "Unknown Attribute")),
        .errorCode(STUNErrorCode(code: 699, reason: "")),
        .realm("example.org"), .nonce("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"),
        .unknownAttributes([0x0031, 0x7FFF, 0x0002]),
        .software("Confab 1.0 ü"),
        .passwordAlgorithm([0, 2, 0, 0]), .passwordAlgorithms([0, 1, 0, 0, 0, 2, 0, 0]),
        .priority(0x6E00_01FF), .useCandidate,
        .iceControlled(tieBreaker: 0x0102_0304_0506_0708), .iceControlling(tieBreaker: .max),
        .channelNumber(0x4001), .lifetime(600), .data([1, 2, 3, 4, 5]), .data([]),
        .requestedTransport(17), .dontFragment, .evenPort(reserveNext: true), .evenPort(reserveNext: false),
        .reservationToken([1, 2, 3, 4, 5, 6, 7, 8]),
        .requestedAddressFamily(.ipv6), .additionalAddressFamily(.ipv6),
        .addressErrorCode(family: .ipv6, error: STUNErrorCode(code: 440, reason: "Address Family not Supported")),
        .unknown(type: 0x0031, value: [9, 9, 9]), .unknown(type: 0xC001, value: []),
        .messageIntegrity([UInt8](repeating: 7, count: 20)),
        .messageIntegritySHA256([UInt8](repeating: 8, count: 32)),
        .fingerprint(0xDEAD_BEEF),
    ]

    @Test(arguments: everyAttribute)
    func singleAttribute(_ attribute: STUNAttribute) throws {
        let message = STUNMessage(method: .allocate, class: .request, transactionID: Self.tid, attributes: [attribute])
        let bytes = message.encoded()
        #expect(bytes.count % 4 == 0)
        let parsed = try STUNMessage.parse(bytes)
        #expect(parsed == message)
        #expect(parsed.rawBytes == bytes)
    }

    @Test func allMethodsAndClasses() throws {
        let methods: [STUNMethod] = [.binding, .allocate, .refresh, .send, .data, .createPermission, .channelBind,
                                     STUNMethod(rawValue: 0xFFF)]
        for method in methods {
            for messageClass in STUNClass.allCases {
                let type = STUNMessageType(method: method, messageClass: messageClass)
                #expect(STUNMessageType(rawValue: type.rawValue) == type)
                #expect(type.rawValue & 0xC000 == 0)
                let message = STUNMessage(type: type, transactionID: Self.tid)
                #expect(try STUNMessage.parse(message.encoded()) == message)
            }
        }
        // Known wire values: Binding request 0x0001, success 0x0101, Allocate error 0x0113, Data indication 0x0017.
        #expect(STUNMessageType.bindingSuccess.rawValue == 0x0101)
        #expect(STUNMessageType(method: .allocate, messageClass: .errorResponse).rawValue == 0x0113)
        #expect(STUNMessageType(method: .data, messageClass: .indication).rawValue == 0x0017)
    }

    @Test func integrityAndFingerprintComputed() throws {
        let attributes = Array(Self.everyAttribute.dropLast(3))
        let message = STUNMessage(method: .binding, class: .request, transactionID: Self.tid, attributes: attributes)
        let key = STUNCredentials.longTermKey(username: "user", realm: "realm", password: "pass")
        #expect(key.count == 16)
        for sha256 in [false, true] {
            let bytes = message.encoded(integrity: key, sha256: sha256, fingerprint: true)
            let parsed = try STUNMessage.parse(bytes)
            #expect(parsed.verifyIntegrity(key: key))
            #expect(!parsed.verifyIntegrity(key: key.map { $0 ^ 1 }))
            #expect(parsed.verifyFingerprint())
            #expect(Array(parsed.attributes.dropLast(2)) == attributes)
            // Flipping any byte outside the header breaks fingerprint or integrity.
            var tampered = bytes
            tampered[24] ^= 0x01
            #expect(!STUNMessage.verifyIntegrity(bytes: tampered, key: key) || !STUNMessage.verifyFingerprint(bytes: tampered))
        }
        #expect(STUNCredentials.longTermKeySHA256(username: "user", realm: "realm", password: "pass").count == 32)
        #expect(STUNCredentials.userhash(username: "user", realm: "realm").count == 32)
        // Locally built messages have no received bytes to verify.
        #expect(!message.verifyIntegrity(key: key))
    }

    @Test func emptyKeyStillProducesAMAC() throws {
        let message = STUNMessage(method: .binding, class: .request, transactionID: Self.tid)
        let parsed = try STUNMessage.parse(message.encoded(integrity: []))
        #expect(parsed.verifyIntegrity(key: []))
        if case .messageIntegrity(let mac) = parsed.attributes.first { #expect(mac.count == 20) } else { Issue.record() }
    }

    @Test func attributesAfterIntegrityAreIgnored() throws {
        // Hand-place SOFTWARE after MESSAGE-INTEGRITY: RFC 8489 §14.5 says ignore it.
        let message = STUNMessage(method: .binding, class: .request, transactionID: Self.tid,
                                  attributes: [.messageIntegrity([UInt8](repeating: 0, count: 20)),
                                               .software("x"), .unknown(type: 0x0031, value: []),
                                               .fingerprint(0), .username("late")])
        let parsed = try STUNMessage.parse(message.encoded())
        #expect(parsed.attributes == [.messageIntegrity([UInt8](repeating: 0, count: 20)), .fingerprint(0)])
        #expect(parsed.unknownComprehensionRequired.isEmpty)
    }

    @Test func unknownComprehensionRequiredReported() throws {
        let message = STUNMessage(method: .binding, class: .request, transactionID: Self.tid,
                                  attributes: [.unknown(type: 0x0031, value: [1]), .unknown(type: 0x8031, value: []),
                                               .unknown(type: 0x7FFF, value: [])])
        let parsed = try STUNMessage.parse(message.encoded())
        #expect(parsed.unknownComprehensionRequired == [0x0031, 0x7FFF])
    }

    @Test func parseFromRawBuffer() throws {
        let parsed = try RFC5769.request.withUnsafeBytes { buffer in try STUNMessage.parse(buffer) }
        #expect(parsed == (try STUNMessage.parse(RFC5769.request)))
        #expect(parsed.verifyIntegrity(key: RFC5769.shortTermKey))
    }

    @Test func isSTUNDemultiplexing() {
        #expect(STUNMessage.isSTUN(RFC5769.request.prefix(8)))
        #expect(!STUNMessage.isSTUN(RFC5769.request.prefix(7)))
        #expect(!STUNMessage.isSTUN([0x16, 0xFE, 0xFD, 0, 0x21, 0x12, 0xA4, 0x42]))  // DTLS
        #expect(!STUNMessage.isSTUN([0x80, 0x60, 0, 1, 0x21, 0x12, 0xA4, 0x42]))  // RTP
        #expect(!STUNMessage.isSTUN([0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x43]))  // wrong cookie
    }
}
