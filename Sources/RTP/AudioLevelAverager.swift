// Talking detection from RFC 6464 audio levels, as Janus's VideoRoom does it:
// levels (-dBov, 0 loudest … 127 silence) are summed over a window of
// `packetsPerWindow` packets; at the end of each window the average decides
// whether the participant is talking (average below the threshold, since
// lower means louder), and only a change of state is reported.
//
// Janus defaults: audio_level_average 25, audio_active_packets 100 (two
// seconds of 20 ms Opus). `hysteresis` widens the band for stopping: once
// talking, the average must reach threshold + hysteresis to stop, so a
// speaker hovering around the threshold does not flap. With 0 it behaves
// exactly like Janus.
//
// `add` runs per audio packet and only updates integers in this inline struct.

public struct AudioLevelAverager: Sendable, Equatable {
    public enum Event: Sendable, Equatable {
        /// The window's average level (Janus's "audio-level-dBov-avg").
        case startedTalking(averageLevel: Double)
        case stoppedTalking(averageLevel: Double)
    }

    /// Janus's audio_level_average default.
    public static let defaultThreshold: UInt8 = 25
    /// Janus's audio_active_packets default.
    public static let defaultPacketsPerWindow = 100

    public let threshold: UInt8
    public let packetsPerWindow: Int
    public let hysteresis: UInt8
    public private(set) var isTalking = false
    /// Average of the last completed window, if any.
    public private(set) var lastAverageLevel: Double?
    private var levelSum = 0
    private var packetsInWindow = 0

    public init(threshold: UInt8 = defaultThreshold, packetsPerWindow: Int = defaultPacketsPerWindow,
                hysteresis: UInt8 = 0) {
        precondition(packetsPerWindow > 0, "a window holds at least one packet")
        self.threshold = min(threshold, 127)
        self.packetsPerWindow = packetsPerWindow
        self.hysteresis = hysteresis
    }

    /// Adds one packet's level (0–127; higher bits are ignored). Returns an
    /// event when a window completes and the talking state changed.
    public mutating func add(level: UInt8) -> Event? {
        levelSum += Int(level & 0x7F)
        packetsInWindow += 1
        guard packetsInWindow == packetsPerWindow else { return nil }
        return closeWindow()
    }

    /// Adds one packet's RFC 6464 level. Janus ignores the V (voice
    /// activity) flag and so does this: the level alone decides.
    public mutating func add(_ audioLevel: AudioLevel) -> Event? {
        add(level: audioLevel.level)
    }

    /// Starts over, not talking, e.g. when the publisher mutes.
    public mutating func reset() {
        isTalking = false
        lastAverageLevel = nil
        levelSum = 0
        packetsInWindow = 0
    }

    private mutating func closeWindow() -> Event? {
        let sum = levelSum
        levelSum = 0
        packetsInWindow = 0
        let average = Double(sum) / Double(packetsPerWindow)
        lastAverageLevel = average
        // average < limit  ⇔  sum < limit × packets: compared in integers so
        // the threshold is exact.
        let limit = isTalking ? Int(threshold) + Int(hysteresis) : Int(threshold)
        let talking = sum < limit * packetsPerWindow
        guard talking != isTalking else { return nil }
        isTalking = talking
        return talking ? .startedTalking(averageLevel: average) : .stoppedTalking(averageLevel: average)
    }
}
