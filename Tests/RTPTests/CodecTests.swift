import Testing
@testable import RTP

@Suite struct VP8Tests {
    /// X=1 S=1 PID=0; I L T; 15-bit picture ID 0x0123; TL0PICIDX 5; TID 1.
    static let descriptor: [UInt8] = [0x90, 0xE0, 0x81, 0x23, 0x05, 0x40]
    /// Keyframe tag (P=0), start code, 640x480.
    static let keyframeHeader: [UInt8] = [0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01]

    @Test func parsesDescriptor() throws {
        try withBytes(Self.descriptor + Self.keyframeHeader) { buf in
            let d = try #require(VP8PayloadDescriptor(UnsafeRawBufferPointer(buf)))
            #expect(d.isStartOfPartition)
            #expect(d.partitionIndex == 0)
            #expect(d.pictureID == 0x0123)
            #expect(d.pictureIDIs15Bit)
            #expect(d.pictureIDOffset == 2)
            #expect(d.tl0PictureIndex == 5)
            #expect(d.tl0PictureIndexOffset == 4)
            #expect(d.temporalLayerID == 1)
            #expect(!d.layerSync)
            #expect(d.keyIndex == nil)
            #expect(d.headerLength == 6)
        }
    }

    @Test func detectsKeyframe() {
        withBytes(Self.descriptor + Self.keyframeHeader) { buf in
            let p = UnsafeRawBufferPointer(buf)
            #expect(VP8.isKeyframe(p))
            let size = VP8.keyframeDimensions(p)
            #expect(size?.width == 640 && size?.height == 480)
        }
    }

    @Test func minimalDescriptorKeyframe() {
        // No X: one-byte descriptor 0x10, then P=0.
        withBytes([0x10, 0x00, 0x00, 0x00]) { #expect(VP8.isKeyframe(UnsafeRawBufferPointer($0))) }
    }

    @Test func interFrameAndContinuationAreNotKeyframes() {
        var inter = Self.descriptor + Self.keyframeHeader
        inter[6] = 0x11
        withBytes(inter) { #expect(!VP8.isKeyframe(UnsafeRawBufferPointer($0))) }
        var continuation = Self.descriptor + Self.keyframeHeader
        continuation[0] = 0x80
        withBytes(continuation) { #expect(!VP8.isKeyframe(UnsafeRawBufferPointer($0))) }
        var otherPartition = Self.descriptor + Self.keyframeHeader
        otherPartition[0] = 0x91
        withBytes(otherPartition) { #expect(!VP8.isKeyframe(UnsafeRawBufferPointer($0))) }
        // Descriptor only, no frame tag.
        withBytes(Self.descriptor) { #expect(!VP8.isKeyframe(UnsafeRawBufferPointer($0))) }
    }

    @Test(arguments: [[], [0x80], [0x80, 0x80], [0x80, 0x80, 0x80], [0x80, 0x40], [0x80, 0x20], [0x80, 0x10]] as [[UInt8]])
    func truncatedDescriptorsAreRejected(bytes: [UInt8]) {
        withBytes(bytes) { #expect(VP8PayloadDescriptor(UnsafeRawBufferPointer($0)) == nil) }
    }

    @Test func sevenBitPictureIDAndKeyIndex() throws {
        try withBytes([0x80, 0x90, 0x7F, 0x1F, 0x01]) { buf in
            let d = try #require(VP8PayloadDescriptor(UnsafeRawBufferPointer(buf)))
            #expect(d.pictureID == 0x7F)
            #expect(!d.pictureIDIs15Bit)
            #expect(d.keyIndex == 0x1F)
            #expect(d.temporalLayerID == nil)
            #expect(d.headerLength == 4)
        }
    }
}

@Suite struct H264Tests {
    @Test(arguments: [
        ([0x65, 0x88], true),                                   // IDR slice
        ([0x67, 0x42], true),                                   // SPS
        ([0x41, 0x9A], false),                                  // non-IDR slice
        ([0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE], true), // STAP-A SPS+PPS
        ([0x78, 0x00, 0x02, 0x41, 0x42], false),                // STAP-A non-key
        ([0x78, 0x00, 0x09, 0x67], false),                      // STAP-A bad size
        ([0x7C, 0x85, 0x00], true),                             // FU-A start of IDR
        ([0x7C, 0x05, 0x00], false),                            // FU-A middle of IDR
        ([0x7C], false),                                        // truncated FU-A
        ([0x68, 0xCE], true),                                   // PPS (sent with the SPS ahead of an IDR)
        ([0x25, 0x88], true),                                   // IDR slice with NRI 1
        ([0x06, 0x05], false),                                  // SEI alone
        ([0x78, 0x00, 0x02, 0x09, 0xF0, 0x00, 0x02, 0x67, 0x42], true), // STAP-A: AUD, then SPS
        ([0x7C, 0x81, 0x00], false),                            // FU-A start of a non-IDR slice
        ([0x7C, 0x45, 0x00], false),                            // FU-A end of an IDR slice
        ([0x79, 0x00, 0x00, 0x00, 0x02, 0x65, 0x88], false),    // STAP-B (not in packetization-mode 1)
        ([], false),
    ] as [([UInt8], Bool)])
    func keyframeDetection(bytes: [UInt8], expected: Bool) {
        withBytes(bytes) { #expect(H264.isKeyframe(UnsafeRawBufferPointer($0)) == expected) }
    }
}
