import RTP
import Testing
@testable import VideoRoom

/// The per-packet decisions of one subscriber stream: keyframe gate, simulcast layer switches at
/// keyframes, and sequence/timestamp continuity across pauses and switches.
@Suite("forwarding to a subscriber stream")
struct ForwardingStateTests {
    typealias Verdict = ForwardingState.Verdict
    static let ms: UInt64 = 1_000_000

    @Test func videoWaitsForAKeyframeThenForwardsWithTheSameNumbers() {
        var state = ForwardingState(isVideo: true)
        #expect(state.admit(sequence: 100, timestamp: 9000, layer: 0, layerCount: 1, isKeyframe: false,
                            now: 1 * Self.ms) == .dropNeedingKeyframe)
        #expect(state.admit(sequence: 101, timestamp: 12000, layer: 0, layerCount: 1, isKeyframe: true,
                            now: 2 * Self.ms) == .send(sequence: 101, timestamp: 12000))
        #expect(state.admit(sequence: 102, timestamp: 12000, layer: 0, layerCount: 1, isKeyframe: false,
                            now: 3 * Self.ms) == .send(sequence: 102, timestamp: 12000))
    }

    /// The keyframe's first packet was lost upstream and arrives repaired after the rest of its
    /// frame, which the gate had dropped: opening there would hand the subscriber a keyframe with
    /// holes nothing can fill, so the gate waits for (and asks for) the next keyframe instead.
    @Test func aKeyframeStartArrivingAfterItsOwnFrameWasDroppedDoesNotOpenTheGate() {
        var state = ForwardingState(isVideo: true)
        for sequence: UInt16 in [65534, 65535, 0] {  // the keyframe's later packets (across the wrap)
            #expect(state.admit(sequence: sequence, timestamp: 9000, layer: 0, layerCount: 1, isKeyframe: false,
                                now: 1 * Self.ms) == .dropNeedingKeyframe)
        }
        #expect(state.admit(sequence: 65533, timestamp: 9000, layer: 0, layerCount: 1, isKeyframe: true,
                            now: 2 * Self.ms) == .dropNeedingKeyframe, "the repaired start of that keyframe")
        #expect(state.admit(sequence: 1, timestamp: 12000, layer: 0, layerCount: 1, isKeyframe: false,
                            now: 3 * Self.ms) == .dropNeedingKeyframe)
        // The next keyframe, in order, opens it.
        #expect(state.admit(sequence: 2, timestamp: 15000, layer: 0, layerCount: 1, isKeyframe: true,
                            now: 4 * Self.ms) == .send(sequence: 2, timestamp: 15000))
        // Once open, a late packet (a repair) goes through as usual.
        #expect(state.admit(sequence: 4, timestamp: 15000, layer: 0, layerCount: 1, isKeyframe: false,
                            now: 5 * Self.ms) == .send(sequence: 4, timestamp: 15000))
        #expect(state.admit(sequence: 3, timestamp: 15000, layer: 0, layerCount: 1, isKeyframe: false,
                            now: 6 * Self.ms) == .send(sequence: 3, timestamp: 15000))
    }

    @Test func audioNeedsNoKeyframe() {
        var state = ForwardingState(isVideo: false, clockRate: 48000)
        #expect(state.admit(sequence: 7, timestamp: 960, layer: 0, layerCount: 1, isKeyframe: true,
                            now: Self.ms) == .send(sequence: 7, timestamp: 960))
    }

    @Test func resumingAfterAPauseContinuesTheNumbering() {
        var state = ForwardingState(isVideo: true)
        _ = state.admit(sequence: 500, timestamp: 1000, layer: 0, layerCount: 1, isKeyframe: true, now: 10 * Self.ms)
        state.restart(isVideo: true)
        // 2 s later the publisher is at seq 700; the first keyframe continues at 501, 2 s of clock later.
        #expect(state.admit(sequence: 700, timestamp: 181_000, layer: 0, layerCount: 1, isKeyframe: false,
                            now: 2010 * Self.ms) == .dropNeedingKeyframe)
        #expect(state.admit(sequence: 701, timestamp: 181_000, layer: 0, layerCount: 1, isKeyframe: true,
                            now: 2010 * Self.ms) == .send(sequence: 501, timestamp: 1000 + 180_000))
        #expect(state.admit(sequence: 702, timestamp: 184_000, layer: 0, layerCount: 1, isKeyframe: false,
                            now: 2043 * Self.ms) == .send(sequence: 502, timestamp: 1000 + 183_000))
    }

    @Test func simulcastStartsWithWhatArrivesAndMovesUpToTheWantedLayer() {
        var state = ForwardingState(isVideo: true, targetLayer: 2)
        // Only layer 0 so far: it is forwarded rather than nothing.
        #expect(state.admit(sequence: 1, timestamp: 0, layer: 0, layerCount: 3, isKeyframe: true,
                            now: Self.ms) == .send(sequence: 1, timestamp: 0))
        // Layer 2 appears: switch to it at its first keyframe, numbering continuing.
        #expect(state.admit(sequence: 50, timestamp: 0, layer: 2, layerCount: 3, isKeyframe: false,
                            now: 2 * Self.ms) == .dropNeedingKeyframe)
        #expect(state.admit(sequence: 51, timestamp: 3000, layer: 2, layerCount: 3, isKeyframe: true,
                            now: 34 * Self.ms) == .send(sequence: 2, timestamp: 2970))
        #expect(state.admit(sequence: 2, timestamp: 3000, layer: 0, layerCount: 3, isKeyframe: false,
                            now: 34 * Self.ms) == .drop)
    }

    @Test func aLayerThatStopsIsReplacedByTheBestOneStillArriving() {
        var state = ForwardingState(isVideo: true, targetLayer: 2)
        _ = state.admit(sequence: 10, timestamp: 0, layer: 2, layerCount: 3, isKeyframe: true, now: Self.ms)
        _ = state.admit(sequence: 20, timestamp: 0, layer: 1, layerCount: 3, isKeyframe: false, now: Self.ms)
        // Layer 2 goes silent; 600 ms later layer 1 takes over at its keyframe.
        #expect(state.admit(sequence: 38, timestamp: 54000, layer: 1, layerCount: 3, isKeyframe: false,
                            now: 601 * Self.ms) == .dropNeedingKeyframe)
        #expect(state.admit(sequence: 39, timestamp: 54000, layer: 1, layerCount: 3, isKeyframe: true,
                            now: 601 * Self.ms) == .send(sequence: 11, timestamp: 54000))
    }

    @Test func theWantedLayerIsClampedToWhatIsSent() {
        var state = ForwardingState(isVideo: true, targetLayer: 2)
        #expect(state.admit(sequence: 9, timestamp: 0, layer: 1, layerCount: 2, isKeyframe: true,
                            now: Self.ms) == .send(sequence: 9, timestamp: 0))
    }

    @Test func switchingLayersWaitsForAKeyframeOfTheNewLayerWithoutAGap() {
        var state = ForwardingState(isVideo: true, targetLayer: 2)
        #expect(state.admit(sequence: 1000, timestamp: 90000, layer: 2, layerCount: 3, isKeyframe: true,
                            now: 100 * Self.ms) == .send(sequence: 1000, timestamp: 90000))
        state.targetLayer = 0
        // Until layer 0 has a keyframe, layer 2 goes on and layer 0 asks for one.
        #expect(state.admit(sequence: 1001, timestamp: 93000, layer: 2, layerCount: 3, isKeyframe: false,
                            now: 133 * Self.ms) == .send(sequence: 1001, timestamp: 93000))
        #expect(state.admit(sequence: 40, timestamp: 5000, layer: 0, layerCount: 3, isKeyframe: false,
                            now: 133 * Self.ms) == .dropNeedingKeyframe)
        // Layer 0's keyframe: numbering continues at 1002, timestamps 33 ms later.
        #expect(state.admit(sequence: 41, timestamp: 8000, layer: 0, layerCount: 3, isKeyframe: true,
                            now: 166 * Self.ms) == .send(sequence: 1002, timestamp: 93000 + 2970))
        #expect(state.admit(sequence: 1002, timestamp: 96000, layer: 2, layerCount: 3, isKeyframe: false,
                            now: 166 * Self.ms) == .drop)
        #expect(state.admit(sequence: 42, timestamp: 11000, layer: 0, layerCount: 3, isKeyframe: false,
                            now: 200 * Self.ms) == .send(sequence: 1003, timestamp: 93000 + 2970 + 3000))
    }

    @Test func aLowerTemporalLayerDropsTheOthersWithoutGapsAndGoesBackUpAtASyncFrame() {
        var state = ForwardingState(isVideo: true)
        state.targetTemporal = 0
        // TL0 keyframe, TL2, TL1, TL2, TL0: only the TL0 packets go out, numbered 10, 11.
        #expect(state.admit(sequence: 10, timestamp: 0, layer: 0, layerCount: 1, isKeyframe: true,
                            temporalLayer: 0, now: Self.ms) == .send(sequence: 10, timestamp: 0))
        for (seq, tid) in [(11, 2), (12, 1), (13, 2)] as [(UInt16, Int)] {
            #expect(state.admit(sequence: seq, timestamp: 3000, layer: 0, layerCount: 1, isKeyframe: false,
                                temporalLayer: tid, now: 2 * Self.ms) == .drop)
        }
        #expect(state.admit(sequence: 14, timestamp: 12000, layer: 0, layerCount: 1, isKeyframe: false,
                            temporalLayer: 0, now: 3 * Self.ms) == .send(sequence: 11, timestamp: 12000))
        // Back up to 2: a TL2 frame without sync waits, a TL1 sync frame lets TL1 (not yet TL2) through.
        state.targetTemporal = 2
        #expect(state.admit(sequence: 15, timestamp: 15000, layer: 0, layerCount: 1, isKeyframe: false,
                            temporalLayer: 2, now: 4 * Self.ms) == .drop)
        #expect(state.admit(sequence: 16, timestamp: 18000, layer: 0, layerCount: 1, isKeyframe: false,
                            temporalLayer: 1, layerSync: true, now: 5 * Self.ms) == .send(sequence: 12, timestamp: 18000))
        #expect(state.admit(sequence: 17, timestamp: 21000, layer: 0, layerCount: 1, isKeyframe: false,
                            temporalLayer: 2, now: 6 * Self.ms) == .drop)
        #expect(state.admit(sequence: 18, timestamp: 24000, layer: 0, layerCount: 1, isKeyframe: false,
                            temporalLayer: 2, layerSync: true, now: 7 * Self.ms) == .send(sequence: 13, timestamp: 24000))
    }

    @Test func aStoppedLayerComesBackWhenItArrivesAgain() {
        var state = ForwardingState(isVideo: true, targetLayer: 2)
        #expect(state.admit(sequence: 10, timestamp: 0, layer: 2, layerCount: 3, isKeyframe: true,
                            now: Self.ms) == .send(sequence: 10, timestamp: 0))
        _ = state.admit(sequence: 500, timestamp: 0, layer: 1, layerCount: 3, isKeyframe: false, now: Self.ms)
        // Within the timeout layer 1 stays unwanted; past it, layer 1 takes over at a keyframe.
        #expect(state.admit(sequence: 510, timestamp: 27000, layer: 1, layerCount: 3, isKeyframe: true,
                            now: 300 * Self.ms) == .drop)
        #expect(state.admit(sequence: 530, timestamp: 90000, layer: 1, layerCount: 3, isKeyframe: true,
                            now: 1001 * Self.ms) == .send(sequence: 11, timestamp: 90000))
        #expect(state.currentLayer == 1)
        // Layer 2 returns: layer 1 goes on until layer 2's keyframe, then layer 2 is back.
        #expect(state.admit(sequence: 20, timestamp: 93000, layer: 2, layerCount: 3, isKeyframe: false,
                            now: 1034 * Self.ms) == .dropNeedingKeyframe)
        #expect(state.admit(sequence: 531, timestamp: 93000, layer: 1, layerCount: 3, isKeyframe: false,
                            now: 1034 * Self.ms) == .send(sequence: 12, timestamp: 93000))
        #expect(state.admit(sequence: 21, timestamp: 96000, layer: 2, layerCount: 3, isKeyframe: true,
                            now: 1067 * Self.ms) == .send(sequence: 13, timestamp: 93000 + 2970))
        #expect(state.currentLayer == 2)
        #expect(state.admit(sequence: 532, timestamp: 96000, layer: 1, layerCount: 3, isKeyframe: false,
                            now: 1067 * Self.ms) == .drop)
    }

    /// A VP8 packet's descriptor: 15-bit picture ID, TL0PICIDX, TID 0.
    static func vp8(_ pictureID: UInt16, tl0: UInt8) -> VP8PayloadDescriptor {
        let bytes: [UInt8] = [0x90, 0xE0, 0x80 | UInt8(pictureID >> 8), UInt8(pictureID & 0xFF), tl0, 0x00, 0x00]
        return bytes.withUnsafeBytes { VP8PayloadDescriptor($0)! }
    }

    /// What `SubscriberStream.forward` does for VP8: admit, then rewrite the descriptor if sent.
    static func forward(_ state: inout ForwardingState, sequence: UInt16, layer: Int, keyframe: Bool,
                        pictureID: UInt16, tl0: UInt8, now: UInt64) -> (UInt16?, UInt8?)? {
        guard case .send = state.admit(sequence: sequence, timestamp: 0, layer: layer, layerCount: 3,
                                       isKeyframe: keyframe, temporalLayer: 0, now: now) else { return nil }
        let fields = state.pictures.rewrite(vp8(pictureID, tl0: tl0))
        return (fields.pictureID, fields.tl0PictureIndex)
    }

    @Test func vp8PictureIDsStayContinuousAcrossLayerSwitchesAndPauses() throws {
        var state = ForwardingState(isVideo: true, targetLayer: 0)
        // Layer 0 counts from 20000, layer 2 from 7 (Chrome starts each layer at random).
        #expect(try #require(Self.forward(&state, sequence: 1, layer: 0, keyframe: true, pictureID: 20000, tl0: 100,
                                          now: Self.ms)) == (20000, 100))
        #expect(try #require(Self.forward(&state, sequence: 2, layer: 0, keyframe: false, pictureID: 20001, tl0: 101,
                                          now: 34 * Self.ms)) == (20001, 101))
        state.targetLayer = 2
        #expect(Self.forward(&state, sequence: 900, layer: 2, keyframe: false, pictureID: 6, tl0: 40,
                             now: 60 * Self.ms) == nil)
        #expect(try #require(Self.forward(&state, sequence: 901, layer: 2, keyframe: true, pictureID: 7, tl0: 41,
                                          now: 67 * Self.ms)) == (20002, 102))
        #expect(Self.forward(&state, sequence: 3, layer: 0, keyframe: false, pictureID: 20002, tl0: 102,
                             now: 67 * Self.ms) == nil)
        #expect(try #require(Self.forward(&state, sequence: 902, layer: 2, keyframe: false, pictureID: 8, tl0: 41,
                                          now: 100 * Self.ms)) == (20003, 102))
        // Paused and resumed: the next keyframe is the next picture.
        state.restart(isVideo: true)
        #expect(try #require(Self.forward(&state, sequence: 990, layer: 2, keyframe: true, pictureID: 95, tl0: 70,
                                          now: 3000 * Self.ms)) == (20004, 103))
        #expect(try #require(Self.forward(&state, sequence: 991, layer: 2, keyframe: false, pictureID: 96, tl0: 70,
                                          now: 3033 * Self.ms)) == (20005, 103))
    }

    @Test func anH264LayerSwitchHappensAtTheSPSAheadOfAnIDR() throws {
        // What `SubscriberStream` does in an H.264 room: the codec from the SDP name, then the
        // keyframe test on each payload.
        let codec = try #require(VideoCodec(encodingName: "H264"))
        func isKeyframe(_ payload: [UInt8]) -> Bool {
            payload.withUnsafeBytes { KeyframeDetector.isKeyframe(codec: codec, payload: $0) }
        }
        var state = ForwardingState(isVideo: true, targetLayer: 0)
        let nonIDRStart: [UInt8] = [0x7C, 0x81, 0x00], idrMiddle: [UInt8] = [0x7C, 0x05, 0x00]
        let spsAndPPS: [UInt8] = [0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE]
        #expect(state.admit(sequence: 1, timestamp: 0, layer: 0, layerCount: 3, isKeyframe: isKeyframe(spsAndPPS),
                            now: Self.ms) == .send(sequence: 1, timestamp: 0))
        state.targetLayer = 2
        // Layer 2 mid-picture and a P slice: not a place to switch; the SPS/PPS aggregate is.
        for (seq, payload) in [(70, nonIDRStart), (71, idrMiddle)] as [(UInt16, [UInt8])] {
            #expect(state.admit(sequence: seq, timestamp: 3000, layer: 2, layerCount: 3,
                                isKeyframe: isKeyframe(payload), now: 34 * Self.ms) == .dropNeedingKeyframe)
        }
        #expect(state.admit(sequence: 72, timestamp: 6000, layer: 2, layerCount: 3, isKeyframe: isKeyframe(spsAndPPS),
                            now: 67 * Self.ms) == .send(sequence: 2, timestamp: 5940))
        #expect(state.currentLayer == 2)
    }
}
