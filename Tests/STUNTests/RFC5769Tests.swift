/// RFC 5769 sample messages: parse, verify MESSAGE-INTEGRITY and FINGERPRINT, and re-encode.
import Testing
@testable import STUN

enum RFC5769 {
    // Copied from RFC 5769 §2.1–2.4. §2.1–2.3 pad with spaces (0x20), §2.4 with zeros.
    static let request = hex("""
        00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
        00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36
        00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
        00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
        80 28 00 04 e5 7a 3b cf
        """)
    static let ipv4Response = hex("""
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 08 00 01 a1 47 e1 12 a6 43
        00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
        80 28 00 04 c0 7d 4c 96
        """)
    static let ipv6Response = hex("""
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
        80 28 00 04 c8 fb 0b 4c
        """)
    static let longTermRequest = hex("""
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
        00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
        00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66
        """)
    static let shortTermKey = STUNCredentials.shortTermKey(password: "VOkJxbRl1RmTxUk/WvJxBt")
    static let transactionID = hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae")
}

@Suite struct RFC5769Tests {
    @Test func crcCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func sampleRequest() throws {
        let bytes = RFC5769.request
        #expect(bytes.count == 108)
        #expect(STUNMessage.isSTUN(bytes))
        let message = try STUNMessage.parse(bytes)
        #expect(message.type == .bindingRequest)
        #expect(message.transactionID == RFC5769.transactionID)
        #expect(message.attributes.count == 6)
        #expect(message.attributes[0] == .software("STUN test client"))
        #expect(message.attributes[1] == .priority(0x6E00_01FF))
        #expect(message.attributes[2] == .iceControlled(tieBreaker: 0x932F_F9B1_5126_3B36))
        #expect(message.username == "evtj:h6vY")
        #expect(message.attributes[5] == .fingerprint(0xE57A_3BCF))
        #expect(message.unknownComprehensionRequired.isEmpty)
        #expect(message.verifyIntegrity(key: RFC5769.shortTermKey))
        #expect(!message.verifyIntegrity(key: Array("wrong".utf8)))
        #expect(message.verifyFingerprint())
        let reencoded = message.encoded(integrity: RFC5769.shortTermKey, fingerprint: true, padding: 0x20)
        #expect(reencoded == bytes)
        // Stored MI/FINGERPRINT values are written back verbatim when nothing is recomputed.
        #expect(message.encoded(padding: 0x20) == bytes)
    }

    @Test func sampleIPv4Response() throws {
        let message = try STUNMessage.parse(RFC5769.ipv4Response)
        #expect(message.type == .bindingSuccess)
        #expect(message.attributes[0] == .software("test vector"))
        #expect(message.xorMappedAddress == STUNAddress(ipv4: 192, 0, 2, 1, port: 32853))
        #expect(message.xorMappedAddress?.description == "192.0.2.1:32853")
        #expect(message.verifyIntegrity(key: RFC5769.shortTermKey))
        #expect(message.verifyFingerprint())
        #expect(message.encoded(integrity: RFC5769.shortTermKey, fingerprint: true, padding: 0x20)
                == RFC5769.ipv4Response)
    }

    @Test func sampleIPv6Response() throws {
        let message = try STUNMessage.parse(RFC5769.ipv6Response)
        let expected = STUNAddress(address: hex("20 01 0d b8 12 34 56 78 00 11 22 33 44 55 66 77"), port: 32853)
        #expect(message.xorMappedAddress == expected)
        #expect(message.xorMappedAddress?.description == "[2001:db8:1234:5678:11:2233:4455:6677]:32853")
        #expect(message.verifyIntegrity(key: RFC5769.shortTermKey))
        #expect(message.verifyFingerprint())
        #expect(message.encoded(integrity: RFC5769.shortTermKey, fingerprint: true, padding: 0x20)
                == RFC5769.ipv6Response)
    }

    @Test func sampleLongTermRequest() throws {
        let message = try STUNMessage.parse(RFC5769.longTermRequest)
        // "マトリックス" as UTF-8; the RFC's username needs no SASLprep changes.
        let username = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}"
        #expect(message.username == username)
        #expect(message.nonce == "f//499k954d6OL34oL9FSTvy64sA")
        #expect(message.realm == "example.org")
        // The RFC's password "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep (soft hyphen removed,
        // NFKC folds ª to "a" and Ⅸ to "IX") is "TheMatrIX"; the published MAC uses that.
        let key = STUNCredentials.longTermKey(username: username, realm: "example.org", password: "TheMatrIX")
        #expect(message.verifyIntegrity(key: key))
        // The unprepared password does not verify, which is why callers must pass prepared strings.
        let raw = STUNCredentials.longTermKey(username: username, realm: "example.org",
                                              password: "The\u{00AD}M\u{00AA}tr\u{2168}")
        #expect(!message.verifyIntegrity(key: raw))
        #expect(!message.verifyFingerprint())  // this sample has no FINGERPRINT
        #expect(message.encoded(integrity: key) == RFC5769.longTermRequest)
    }
}
