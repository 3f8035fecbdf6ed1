import Testing
@testable import RTP

/// Packs (value, bit count) fields most significant bit first, zero-padding the last byte.
func packBits(_ fields: [(UInt32, Int)]) -> [UInt8] {
    var bytes: [UInt8] = []
    var bitCount = 0
    for (value, width) in fields {
        for i in stride(from: width - 1, through: 0, by: -1) {
            if bitCount % 8 == 0 { bytes.append(0) }
            if (value >> UInt32(i)) & 1 == 1 { bytes[bytes.count - 1] |= 0x80 >> UInt8(bitCount % 8) }
            bitCount += 1
        }
    }
    return bytes
}

@Suite struct VP9Tests {
    /// I L B V, 15-bit picture ID 0x0123, TID 0 SID 0, TL0PICIDX 5, then a
    /// scalability structure: one spatial layer 640x480, one picture group entry.
    static let keyframeDescriptor: [UInt8] = [
        0xAA, 0x81, 0x23, 0x00, 0x05,
        0x18, 0x02, 0x80, 0x01, 0xE0, 0x01, 0x00,
    ]
    /// Profile 0 keyframe header as libvpx writes it for 640x480:
    /// frame marker, KEY_FRAME, show_frame, sync code, color space 0, sizes − 1.
    static let keyframeHeader: [UInt8] = [0x82, 0x49, 0x83, 0x42, 0x00, 0x27, 0xF0, 0x1D, 0xF0]

    @Test func parsesNonFlexibleDescriptorWithScalabilityStructure() throws {
        try withBytes(Self.keyframeDescriptor + Self.keyframeHeader) { buf in
            let d = try #require(VP9PayloadDescriptor(UnsafeRawBufferPointer(buf)))
            #expect(!d.isInterPicturePredicted)
            #expect(!d.isFlexibleMode)
            #expect(d.isStartOfFrame && !d.isEndOfFrame)
            #expect(d.hasScalabilityStructure)
            #expect(d.pictureID == 0x0123 && d.pictureIDIs15Bit && d.pictureIDOffset == 1)
            #expect(d.temporalLayerID == 0 && d.spatialLayerID == 0)
            #expect(d.tl0PictureIndex == 5 && d.tl0PictureIndexOffset == 4)
            #expect(d.headerLength == 12)
        }
    }

    @Test func detectsKeyframeAndItsSize() {
        withBytes(Self.keyframeDescriptor + Self.keyframeHeader) { buf in
            let p = UnsafeRawBufferPointer(buf)
            #expect(VP9.isKeyframe(p))
            #expect(KeyframeDetector.isKeyframe(codec: .vp9, payload: p))
            let size = VP9.keyframeDimensions(p)
            #expect(size?.width == 640 && size?.height == 480)
        }
    }

    @Test func descriptorAloneDecidesWhenNoFrameHeaderFollows() {
        // B and P clear, no layer indices: a keyframe start per the descriptor.
        withBytes([0x08]) { #expect(VP9.isKeyframe(UnsafeRawBufferPointer($0))) }
        withBytes([0x48]) { #expect(!VP9.isKeyframe(UnsafeRawBufferPointer($0))) }
    }

    @Test func predictedContinuationUpperLayerAndIntraOnlyAreNotKeyframes() {
        var predicted = Self.keyframeDescriptor + Self.keyframeHeader
        predicted[0] |= 0x40
        var continuation = Self.keyframeDescriptor + Self.keyframeHeader
        continuation[0] &= ~0x08
        var upperSpatialLayer = Self.keyframeDescriptor + Self.keyframeHeader
        upperSpatialLayer[3] = 0x02   // SID 1
        // P clear but frame_type 1 (intra-only frame): the header has the last word.
        var intraOnly = Self.keyframeDescriptor + Self.keyframeHeader
        intraOnly[12] = 0x86
        // show_existing_frame: a repeat, no frame type at all.
        var showExisting = Self.keyframeDescriptor + Self.keyframeHeader
        showExisting[12] = 0x88
        for bytes in [predicted, continuation, upperSpatialLayer, intraOnly, showExisting] {
            withBytes(bytes) { #expect(!VP9.isKeyframe(UnsafeRawBufferPointer($0))) }
        }
    }

    @Test func flexibleModeReferenceIndices() throws {
        // I P L F B; 7-bit picture ID 5; TID 1 SID 0; P_DIFF 1 (N) and 2; then frame data.
        try withBytes([0xF8, 0x05, 0x20, 0x03, 0x04, 0x99]) { buf in
            let d = try #require(VP9PayloadDescriptor(UnsafeRawBufferPointer(buf)))
            #expect(d.isFlexibleMode && d.isInterPicturePredicted)
            #expect(d.pictureID == 5 && !d.pictureIDIs15Bit)
            #expect(d.temporalLayerID == 1)
            #expect(d.tl0PictureIndex == nil)
            #expect(d.headerLength == 5)
        }
        // A fourth reference index is not allowed.
        withBytes([0xD8, 0x01, 0x03, 0x03, 0x03]) { #expect(VP9PayloadDescriptor(UnsafeRawBufferPointer($0)) == nil) }
    }

    @Test(arguments: [
        [], [0x80], [0x80, 0x80], [0x20], [0x20, 0x00], [0x02], [0x02, 0x10, 0x00, 0x00, 0x00],
        [0x02, 0x08], [0x02, 0x08, 0x01], [0x02, 0x08, 0x01, 0x04], [0x50], [0x50, 0x01],
    ] as [[UInt8]])
    func truncatedDescriptorsAreRejected(bytes: [UInt8]) {
        withBytes(bytes) { #expect(VP9PayloadDescriptor(UnsafeRawBufferPointer($0)) == nil) }
    }

    @Test func profileOneAndThreeHeadersCarryExtraBits() throws {
        // Profile 1: frame marker, low 1, high 0, show_existing 0, KEY_FRAME,
        // show_frame 1, error_res 0, sync code, BT.709 (2), color_range,
        // subsampling x/y, reserved, then 1280x720.
        let profile1 = packBits([(2, 2), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0x49_8342, 24),
                                 (2, 3), (0, 1), (1, 1), (0, 1), (0, 1), (1279, 16), (719, 16)])
        let h1 = try #require(profile1.withUnsafeBytes { VP9FrameHeader($0) })
        #expect(h1.profile == 1 && h1.isKeyframe && h1.width == 1280 && h1.height == 720)
        // Profile 3: reserved bit after the profile; ten_or_twelve_bit; RGB (7) with one reserved bit.
        let profile3 = packBits([(2, 2), (1, 1), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0x49_8342, 24),
                                 (1, 1), (7, 3), (0, 1), (65535, 16), (0, 16)])
        let h3 = try #require(profile3.withUnsafeBytes { VP9FrameHeader($0) })
        #expect(h3.profile == 3 && h3.isKeyframe && h3.width == 65536 && h3.height == 1)
        // A wrong sync code or missing size bits are rejected.
        var badSync = Self.keyframeHeader
        badSync[1] = 0x48
        #expect(badSync.withUnsafeBytes { VP9FrameHeader($0) } == nil)
        #expect(Array(Self.keyframeHeader.prefix(6)).withUnsafeBytes { VP9FrameHeader($0) } == nil)
        #expect([0x42 as UInt8].withUnsafeBytes { VP9FrameHeader($0) } == nil)
    }

    @Test func interFrameHeaderNeedsNoSize() throws {
        // frame marker, profile 0, not existing, frame_type 1, show 1, error_res 0.
        let h = try #require([UInt8(0x86)].withUnsafeBytes { VP9FrameHeader($0) })
        #expect(!h.isKeyframe && !h.showsExistingFrame && h.width == nil)
    }
}

@Suite struct AV1Tests {
    /// N = 1, W = 1: one element, a sequence header OBU (type 1, no size field).
    static let keyframeStart: [UInt8] = [0x18, 0x08, 0x00, 0x00, 0x00]

    @Test func newCodedVideoSequenceIsAKeyframe() throws {
        try withBytes(Self.keyframeStart) { buf in
            let p = UnsafeRawBufferPointer(buf)
            let header = try #require(AV1AggregationHeader(p))
            #expect(header.startsNewCodedVideoSequence && header.elementCount == 1)
            #expect(!header.continuesPreviousOBU && !header.continuesInNextPacket)
            #expect(AV1.isKeyframe(p))
            #expect(AV1.startsWithSequenceHeader(p))
            #expect(KeyframeDetector.isKeyframe(codec: .av1, payload: p))
        }
    }

    @Test(arguments: [
        ([0x10, 0x30, 0x00], false),   // N clear: an inter frame
        ([0x98, 0x08, 0x00], false),   // Z set with N: contradictory, not a start
        ([0x48, 0x08], true),          // Y set (continues) with N: still the first packet
        ([], false),
    ] as [([UInt8], Bool)])
    func keyframeFlag(bytes: [UInt8], expected: Bool) {
        withBytes(bytes) { #expect(AV1.isKeyframe(UnsafeRawBufferPointer($0)) == expected) }
    }

    @Test func walksLengthPrefixedElements() {
        // W = 0: every element has a LEB128 length. Lengths 2 and 1.
        var elements: [[UInt8]] = []
        let ok = withBytes([0x08, 0x02, 0x08, 0x00, 0x01, 0x30]) { buf in
            AV1.forEachOBUElement(in: UnsafeRawBufferPointer(buf)) { elements.append(Array($0)); return true }
        }
        #expect(ok)
        #expect(elements == [[0x08, 0x00], [0x30]])
    }

    @Test func lastOfWElementsRunsToTheEnd() {
        // W = 2: the first has a length (1), the second takes the rest.
        var elements: [[UInt8]] = []
        let ok = withBytes([0x20, 0x01, 0x12, 0x32, 0x01, 0x02]) { buf in
            AV1.forEachOBUElement(in: UnsafeRawBufferPointer(buf)) { elements.append(Array($0)); return true }
        }
        #expect(ok)
        #expect(elements == [[0x12], [0x32, 0x01, 0x02]])
        // Not a sequence header first: type 2 (temporal delimiter).
        withBytes([0x20, 0x01, 0x12, 0x32]) { #expect(!AV1.startsWithSequenceHeader(UnsafeRawBufferPointer($0))) }
    }

    @Test func malformedLengthsAreRejected() {
        let overlong: [UInt8] = [0x00] + [UInt8](repeating: 0xFF, count: 8) + [0x01]
        for bytes: [UInt8] in [[0x00, 0x05, 0x01], [0x00, 0x80], overlong] {
            withBytes(bytes) { #expect(!AV1.forEachOBUElement(in: UnsafeRawBufferPointer($0)) { _ in true }) }
        }
    }

    @Test func leb128() {
        func read(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBytes { AV1.readLEB128($0, at: 0)?.value } }
        #expect(read([0x05]) == 5)
        #expect(read([0x80, 0x01]) == 128)
        #expect(read([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) == Int(UInt32.max))
        #expect(read([0x80, 0x80, 0x80, 0x80, 0x10]) == nil)   // 2^32: beyond the spec's limit
        #expect(read([0x80]) == nil)
        #expect(read([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]) == nil)
    }
}

@Suite struct H265Tests {
    @Test(arguments: [
        ([0x26, 0x01, 0xAF], true),                              // IDR_W_RADL (19)
        ([0x2A, 0x01, 0xAF], true),                              // CRA (21)
        ([0x40, 0x01, 0x0C], true),                              // VPS (32)
        ([0x44, 0x01, 0xC0], true),                              // PPS (34)
        ([0x02, 0x01, 0xD0], false),                             // TRAIL_R (1)
        ([0x60, 0x01, 0x00, 0x02, 0x40, 0x01, 0x00, 0x02, 0x42, 0x01], true),  // AP: VPS, SPS
        ([0x60, 0x01, 0x00, 0x02, 0x02, 0x01], false),           // AP: TRAIL_R
        ([0x60, 0x01, 0x00, 0x09, 0x40, 0x01], false),           // AP: size past the end
        ([0x62, 0x01, 0x93, 0xAF], true),                        // FU start of IDR_W_RADL
        ([0x62, 0x01, 0x13, 0xAF], false),                       // FU continuation
        ([0x62, 0x01], false),                                   // FU without its header
        ([0x26], false),
    ] as [([UInt8], Bool)])
    func keyframeDetection(bytes: [UInt8], expected: Bool) {
        withBytes(bytes) { #expect(H265.isKeyframe(UnsafeRawBufferPointer($0)) == expected) }
    }
}

@Suite struct KeyframeDetectorTests {
    @Test func dispatchesToEachCodec() {
        let cases: [(VideoCodec, [UInt8], Bool)] = [
            (.vp8, VP8Tests.descriptor + VP8Tests.keyframeHeader, true),
            (.vp8, [0x10, 0x01, 0x00, 0x00], false),
            (.vp9, VP9Tests.keyframeDescriptor + VP9Tests.keyframeHeader, true),
            (.vp9, [0x48], false),
            (.h264, [0x65, 0x88], true),
            (.h264, [0x41, 0x9A], false),
            (.h265, [0x26, 0x01], true),
            (.h265, [0x02, 0x01], false),
            (.av1, AV1Tests.keyframeStart, true),
            (.av1, [0x10, 0x30], false),
        ]
        for (codec, bytes, expected) in cases {
            withBytes(bytes) { buf in
                #expect(KeyframeDetector.isKeyframe(codec: codec, payload: UnsafeRawBufferPointer(buf)) == expected)
            }
        }
    }

    @Test func acceptsAHeaderView() throws {
        let packet = rtpPacket(sequenceNumber: 1, payload: [0x65, 0x88])
        try withBytes(packet) { buf in
            let view = try #require(RTPHeaderView(buf))
            #expect(KeyframeDetector.isKeyframe(codec: .h264, packet: view))
            #expect(!KeyframeDetector.isKeyframe(codec: .vp8, packet: view))
        }
    }

    @Test func codecFromSDPEncodingName() {
        #expect(VideoCodec(encodingName: "VP8") == .vp8)
        #expect(VideoCodec(encodingName: "vp9") == .vp9)
        #expect(VideoCodec(encodingName: "H264") == .h264)
        #expect(VideoCodec(encodingName: "h265") == .h265)
        #expect(VideoCodec(encodingName: "AV1") == .av1)
        #expect(VideoCodec(encodingName: "AV1X") == .av1)
        #expect(VideoCodec(encodingName: "opus") == nil)
        #expect(VideoCodec(encodingName: "VP8 ") == nil)
        #expect(VideoCodec(encodingName: "") == nil)
        #expect(VideoCodec(encodingName: "rtx"[...]) == nil)
    }
}
