import Testing
@testable import RTP

@Suite struct RTPHeaderViewTests {
    @Test func readsFixedHeader() throws {
        try withBytes(Samples.plainRTP) { buf in
            let v = try #require(RTPHeaderView(buf))
            #expect(v.version == 2)
            #expect(v.marker)
            #expect(v.payloadType == 96)
            #expect(v.sequenceNumber == 0x1234)
            #expect(v.timestamp == 0x1000)
            #expect(v.ssrc == 0xDEAD_BEEF)
            #expect(v.payloadOffset == 12)
            #expect(v.payloadLength == 3)
            #expect(Array(v.payload) == [1, 2, 3])
            #expect(v.headerExtension(id: 1) == nil)
        }
    }

    @Test func writesFixedHeaderInPlace() throws {
        var bytes = Samples.plainRTP
        try bytes.withUnsafeMutableBytes { buf in
            let v = try #require(RTPHeaderView(buf))
            v.marker = false
            v.payloadType = 111
            v.sequenceNumber = 0xFFFF
            v.timestamp = 0xCAFE_BABE
            v.ssrc = 0x0102_0304
        }
        #expect(bytes == [0x80, 111, 0xFF, 0xFF, 0xCA, 0xFE, 0xBA, 0xBE, 1, 2, 3, 4, 1, 2, 3])
    }

    @Test func oneByteExtensions() throws {
        var bytes = Samples.oneByteExtensions
        try bytes.withUnsafeMutableBytes { buf in
            let v = try #require(RTPHeaderView(buf))
            #expect(v.layout.extensionProfile == 0xBEDE)
            #expect(v.payloadOffset == 28)
            #expect(Array(v.payload) == [0xAA, 0xBB])
            #expect(v.audioLevel(id: 1) == AudioLevel(voiceActivity: true, level: 5))
            #expect(v.absSendTime(id: 3) == 0x010203)
            #expect(v.transportSequenceNumber(id: 5) == 0xABCD)
            #expect(v.stringExtension(id: 4) == "0")
            #expect(v.extensionEquals(id: 4, Array("0".utf8)))
            #expect(!v.extensionEquals(id: 4, Array("1".utf8)))
            #expect(v.headerExtension(id: 2) == nil)
            // Wrong length for the typed accessor.
            #expect(v.transportSequenceNumber(id: 3) == nil)
            #expect(v.setTransportSequenceNumber(0x0102, id: 5))
            #expect(v.setAbsSendTime(0xFFFFFF, id: 3))
            #expect(!v.setTransportSequenceNumber(1, id: 9))
            var mid: [UInt8] = [0x31]
            let ok = mid.withUnsafeBytes { v.setExtensionValue(id: 4, to: $0) }
            #expect(ok)
            mid = [0x31, 0x32]
            let tooLong = mid.withUnsafeBytes { v.setExtensionValue(id: 4, to: $0) }
            #expect(!tooLong)
        }
        #expect(Array(bytes[18...27]) == [0x32, 0xFF, 0xFF, 0xFF, 0x51, 0x01, 0x02, 0x00, 0x40, 0x31])
    }

    @Test func oneByteStopsAtId15() throws {
        // id 15 ends parsing; the element after it is not found.
        let bytes: [UInt8] = [
            0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
            0xBE, 0xDE, 0x00, 0x01,
            0xF0, 0x10, 0x05, 0x00,
        ]
        try withBytes(bytes) { buf in
            let v = try #require(RTPHeaderView(buf))
            #expect(v.headerExtension(id: 1) == nil)
        }
    }

    @Test func twoByteExtensions() throws {
        try withBytes(Samples.twoByteExtensions) { buf in
            let v = try #require(RTPHeaderView(buf))
            #expect(v.stringExtension(id: 10) == "h")
            #expect(v.stringExtension(id: 12) == "r0")
            #expect(v.headerExtension(id: 12) == RTPHeaderExtensionElement(id: 12, valueOffset: 22, valueLength: 2))
            #expect(Array(v.payload) == [0xCC])
        }
    }

    @Test func elementOverrunningExtensionIsNotFound() throws {
        // One-byte element claims 4 bytes but only 3 remain.
        let bytes: [UInt8] = [
            0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
            0xBE, 0xDE, 0x00, 0x01,
            0x13, 0x01, 0x02, 0x03,
        ]
        try withBytes(bytes) { buf in
            let v = try #require(RTPHeaderView(buf))
            #expect(v.headerExtension(id: 1) == nil)
        }
    }

    @Test func paddingAndCSRCs() throws {
        var bytes = Samples.paddedWithCSRCs
        try bytes.withUnsafeMutableBytes { buf in
            let v = try #require(RTPHeaderView(buf))
            #expect(v.csrcCount == 2)
            #expect(v.csrc(at: 0) == 0x0A)
            #expect(v.csrc(at: 1) == 0x0B)
            #expect(v.csrc(at: 2) == nil)
            #expect(v.hasPadding)
            #expect(v.paddingLength == 3)
            #expect(v.payloadOffset == 20)
            #expect(Array(v.payload) == [1, 2, 3])
            #expect(v.removePadding() == 23)
        }
        #expect(bytes[0] == 0x82)
    }

    @Test(arguments: [
        [UInt8](),
        Array(Samples.plainRTP.prefix(11)),
        // version 1
        [0x40, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
        // CC = 15 but no CSRCs
        [0x8F, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0],
        // extension bit without extension header
        [0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE],
        // extension length 2 words, 1 present
        [0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0, 2, 0x10, 0, 0, 0],
        // padding count 0
        [0xA0, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 0],
        // padding count larger than what follows the header
        [0xA0, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 9],
        // padding bit on a header-only packet
        [0xA0, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
    ])
    func rejectsMalformed(bytes: [UInt8]) {
        withBytes(bytes) { #expect(RTPHeaderView($0) == nil) }
    }
}
