import Testing
@testable import RTP

/// Holds an averager behind a reference so tests can feed it inside
/// `#expect` (a mutating call on a local cannot sit in the macro).
private final class Speaker {
    var averager: AudioLevelAverager

    init(_ averager: AudioLevelAverager = AudioLevelAverager()) {
        self.averager = averager
    }

    /// Adds `count` packets at `level`; the events produced, in order.
    func say(_ level: UInt8, packets count: Int = 1) -> [AudioLevelAverager.Event] {
        (0..<count).compactMap { _ in averager.add(level: level) }
    }

    func say(_ level: AudioLevel) -> AudioLevelAverager.Event? {
        averager.add(level)
    }
}

@Suite struct AudioLevelAveragerTests {
    @Test func janusDefaults() {
        let averager = AudioLevelAverager()
        #expect(averager.threshold == 25)
        #expect(averager.packetsPerWindow == 100)
        #expect(averager.hysteresis == 0)
        #expect(!averager.isTalking)
    }

    @Test func reportsOnlyAtWindowEndsAndOnlyChanges() {
        let speaker = Speaker()
        // 99 loud packets: no decision before the window is full.
        #expect(speaker.say(10, packets: 99).isEmpty)
        #expect(speaker.say(10) == [.startedTalking(averageLevel: 10)])
        #expect(speaker.averager.isTalking)
        // Still loud: no repeated event.
        #expect(speaker.say(12, packets: 100).isEmpty)
        #expect(speaker.averager.lastAverageLevel == 12)
        // A quiet window ends the talk.
        #expect(speaker.say(60, packets: 100) == [.stoppedTalking(averageLevel: 60)])
        #expect(!speaker.averager.isTalking)
    }

    @Test func averageEqualToTheThresholdIsNotTalking() {
        // Janus: talking when avg < audio_level_average.
        let speaker = Speaker(AudioLevelAverager(threshold: 25, packetsPerWindow: 4))
        #expect((speaker.say(20) + speaker.say(30) + speaker.say(25, packets: 2)).isEmpty)
        #expect(speaker.averager.lastAverageLevel == 25)
        #expect(speaker.say(24) + speaker.say(26) + speaker.say(25) + speaker.say(24)
                == [.startedTalking(averageLevel: 24.75)])
    }

    @Test func hysteresisKeepsAHoveringSpeakerTalking() {
        let speaker = Speaker(AudioLevelAverager(threshold: 25, packetsPerWindow: 10, hysteresis: 5))
        #expect(speaker.say(20, packets: 10) == [.startedTalking(averageLevel: 20)])
        // 27 and 29 are above the threshold but inside the band: still talking.
        #expect(speaker.say(27, packets: 10).isEmpty)
        #expect(speaker.say(29, packets: 10).isEmpty)
        #expect(speaker.say(30, packets: 10) == [.stoppedTalking(averageLevel: 30)])
        // Starting again still needs the plain threshold.
        #expect(speaker.say(27, packets: 10).isEmpty)
        #expect(speaker.say(24, packets: 10) == [.startedTalking(averageLevel: 24)])
    }

    @Test func withoutHysteresisTheSameSpeakerFlaps() {
        let speaker = Speaker(AudioLevelAverager(threshold: 25, packetsPerWindow: 10))
        #expect(speaker.say(20, packets: 10).count == 1)
        #expect(speaker.say(27, packets: 10) == [.stoppedTalking(averageLevel: 27)])
    }

    @Test func resetStartsOver() {
        let speaker = Speaker(AudioLevelAverager(packetsPerWindow: 2))
        _ = speaker.say(0, packets: 3)
        #expect(speaker.averager.isTalking)
        speaker.averager.reset()
        #expect(!speaker.averager.isTalking)
        #expect(speaker.averager.lastAverageLevel == nil)
        // The half-filled window was dropped too.
        #expect(speaker.say(0).isEmpty)
        #expect(speaker.say(0) == [.startedTalking(averageLevel: 0)])
    }

    @Test func readsLevelsFromTheHeaderExtension() throws {
        // Samples.oneByteExtensions carries id 1 = V set, level 5.
        let level = try withBytes(Samples.oneByteExtensions) { buf in
            try #require(RTPHeaderView(buf)?.audioLevel(id: 1))
        }
        #expect(level == AudioLevel(voiceActivity: true, level: 5))
        let speaker = Speaker(AudioLevelAverager(packetsPerWindow: 1))
        #expect(speaker.say(level) == .startedTalking(averageLevel: 5))
        // The V flag is ignored, as in Janus: only the level counts.
        #expect(speaker.say(AudioLevel(voiceActivity: true, level: 127)) == .stoppedTalking(averageLevel: 127))
    }

    @Test func levelsAboveSevenBitsAreMasked() {
        // 0x85 is V + level 5 when a raw extension byte is passed.
        let speaker = Speaker(AudioLevelAverager(packetsPerWindow: 1))
        #expect(speaker.say(0x85) == [.startedTalking(averageLevel: 5)])
    }
}
