import Testing
@testable import RTP

/// VP8 picture ID / TL0PICIDX continuity across source switches, on hand-built descriptors.
@Suite struct VP8PictureRewriterTests {
    /// X=1 S=1; I L T; 15-bit picture ID; TL0PICIDX; TID 0; then one payload byte.
    static func long(_ pictureID: UInt16, tl0: UInt8, start: Bool = true) -> [UInt8] {
        [start ? 0x90 : 0x80, 0xE0, 0x80 | UInt8(pictureID >> 8), UInt8(pictureID & 0xFF), tl0, 0x00, 0xAB]
    }

    /// X=1 S=1; I L; 7-bit picture ID; TL0PICIDX; then one payload byte.
    static func short(_ pictureID: UInt8, tl0: UInt8) -> [UInt8] {
        [0x90, 0xC0, pictureID & 0x7F, tl0, 0xAB]
    }

    /// Rewrites `bytes` in place and returns the descriptor the receiver would parse.
    static func forward(_ bytes: [UInt8], _ rewriter: inout VP8PictureRewriter) -> (VP8PayloadDescriptor?, [UInt8]) {
        var copy = bytes
        copy.withUnsafeMutableBytes { rewriter.rewrite(payload: $0) }
        let descriptor = copy.withUnsafeBytes { VP8PayloadDescriptor($0) }
        return (descriptor, copy)
    }

    static func ids(_ bytes: [UInt8], _ rewriter: inout VP8PictureRewriter) -> (UInt16?, UInt8?) {
        let (d, _) = forward(bytes, &rewriter)
        return (d?.pictureID, d?.tl0PictureIndex)
    }

    @Test func theFirstSourceKeepsItsNumbers() {
        var rewriter = VP8PictureRewriter()
        #expect(Self.ids(Self.long(1234, tl0: 7), &rewriter) == (1234, 7))
        #expect(Self.ids(Self.long(1235, tl0: 7), &rewriter) == (1235, 7))
        #expect(Self.ids(Self.long(1236, tl0: 8), &rewriter) == (1236, 8))
    }

    @Test func aSwitchBetweenLayersWithDistantBasesContinuesAtLastPlusOne() {
        var rewriter = VP8PictureRewriter()
        // Layer 0 around 100, layer 2 around 30000 (Chrome picks random starts per layer).
        #expect(Self.ids(Self.long(100, tl0: 10), &rewriter) == (100, 10))
        #expect(Self.ids(Self.long(101, tl0: 10), &rewriter) == (101, 10))
        rewriter.switchSource()
        #expect(Self.ids(Self.long(30000, tl0: 200), &rewriter) == (102, 11))
        // Within the layer the differences stay, a packet of the same picture keeps its ID.
        #expect(Self.ids(Self.long(30000, tl0: 200, start: false), &rewriter) == (102, 11))
        #expect(Self.ids(Self.long(30001, tl0: 200), &rewriter) == (103, 11))
        #expect(Self.ids(Self.long(30004, tl0: 201), &rewriter) == (106, 12))
        // A reordered packet of an older picture maps the same way and does not move "last sent".
        #expect(Self.ids(Self.long(30003, tl0: 200), &rewriter) == (105, 11))
        // And back down: continues after 106 / 12.
        rewriter.switchSource()
        #expect(Self.ids(Self.long(140, tl0: 20), &rewriter) == (107, 13))
        #expect(Self.ids(Self.long(141, tl0: 20), &rewriter) == (108, 13))
    }

    @Test func fifteenBitIDsAndTL0PicIdxWrapAround() {
        var rewriter = VP8PictureRewriter()
        _ = Self.ids(Self.long(0x7FFD, tl0: 254), &rewriter)
        rewriter.switchSource()
        // Continues at 0x7FFE, then across the 15-bit wrap; TL0PICIDX across 255 → 0.
        #expect(Self.ids(Self.long(5, tl0: 3), &rewriter) == (0x7FFE, 255))
        #expect(Self.ids(Self.long(6, tl0: 4), &rewriter) == (0x7FFF, 0))
        #expect(Self.ids(Self.long(7, tl0: 5), &rewriter) == (0, 1))
        #expect(Self.ids(Self.long(8, tl0: 6), &rewriter) == (1, 2))
        // The incoming side wrapping inside a source.
        rewriter.switchSource()
        #expect(Self.ids(Self.long(0x7FFF, tl0: 255), &rewriter) == (2, 3))
        #expect(Self.ids(Self.long(0, tl0: 0), &rewriter) == (3, 4))
        #expect(Self.ids(Self.long(1, tl0: 1), &rewriter) == (4, 5))
    }

    @Test func sevenBitIDsKeepTheirWidthAndWrapAt128() {
        var rewriter = VP8PictureRewriter()
        let (first, firstBytes) = Self.forward(Self.short(126, tl0: 1), &rewriter)
        #expect(first?.pictureID == 126 && first?.pictureIDIs15Bit == false)
        #expect(firstBytes.count == 5 && firstBytes[2] == 126)
        _ = Self.ids(Self.short(127, tl0: 1), &rewriter)
        rewriter.switchSource()
        let (switched, bytes) = Self.forward(Self.short(40, tl0: 90), &rewriter)
        #expect(switched?.pictureID == 0 && switched?.pictureIDIs15Bit == false && switched?.tl0PictureIndex == 2)
        #expect(bytes == [0x90, 0xC0, 0x00, 0x02, 0xAB])
        #expect(Self.ids(Self.short(41, tl0: 90), &rewriter) == (1, 2))
        #expect(Self.ids(Self.short(100, tl0: 91), &rewriter) == (60, 3))
        #expect(Self.ids(Self.short(127, tl0: 91), &rewriter) == (87, 3))
        #expect(Self.ids(Self.short(0, tl0: 91), &rewriter) == (88, 3))
    }

    @Test func aSwitchBetweenWidthsKeepsEachPacketsWidth() {
        var rewriter = VP8PictureRewriter()
        _ = Self.ids(Self.long(300, tl0: 1), &rewriter)
        rewriter.switchSource()
        let (d, bytes) = Self.forward(Self.short(5, tl0: 9), &rewriter)
        // 301 in 7 bits.
        #expect(d?.pictureID == 301 & 0x7F && d?.pictureIDIs15Bit == false && bytes.count == 5)
    }

    @Test func packetsWithoutTheFieldsAreLeftUntouched() {
        var rewriter = VP8PictureRewriter()
        _ = Self.ids(Self.long(500, tl0: 1), &rewriter)
        rewriter.switchSource()
        // No X bit at all, and X with only T/K: byte for byte the same.
        for bytes in [[0x10, 0x00, 0x9D] as [UInt8], [0x90, 0x30, 0x40, 0x11], [0x80]] {
            #expect(Self.forward(bytes, &rewriter).1 == bytes)
        }
        // The switch is still pending for the first packet that has the fields.
        #expect(Self.ids(Self.long(9000, tl0: 50), &rewriter) == (501, 2))
        // Only a picture ID (no L): the TL0PICIDX side is untouched and still pending.
        rewriter.switchSource()
        let onlyPicture: [UInt8] = [0x90, 0x80, 0x80 | 0x10, 0x00, 0xAB]
        let (d, bytes) = Self.forward(onlyPicture, &rewriter)
        #expect(d?.pictureID == 502 && d?.tl0PictureIndex == nil && bytes.count == onlyPicture.count)
        #expect(Self.ids(Self.long(0x1001, tl0: 77), &rewriter) == (503, 3))
    }

    @Test func aTruncatedPayloadIsLeftAlone() {
        var rewriter = VP8PictureRewriter()
        for bytes in [[0x90, 0x80] as [UInt8], [0x90, 0x80, 0x81], []] {
            #expect(Self.forward(bytes, &rewriter).1 == bytes)
        }
    }
}
