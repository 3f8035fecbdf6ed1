#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Settings
import VideoRoom

extension RoomOptions {
    /// A room from `videoroom.rooms` in confab.cfg or from the rooms file; an empty secret, pin or
    /// rec_dir there means none.
    init(_ room: Settings.Room) {
        self.init(id: room.id, description: room.description)
        isPrivate = room.isPrivate
        secret = room.secret.isEmpty ? nil : room.secret
        pin = room.pin.isEmpty ? nil : room.pin
        publishers = room.publishers
        bitrate = UInt32(clamping: room.bitrate)
        bitrateCap = room.bitrateCap
        firFreq = UInt16(clamping: room.firFreq)
        audiocodec = Self.codecList(room.audiocodec)
        videocodec = Self.codecList(room.videocodec)
        notifyJoining = room.notifyJoining
        requirePvtid = room.requirePvtid
        audiolevelEvent = room.audiolevelEvent
        allowed = room.allowed.map(Set.init)
        requireE2ee = room.requireE2ee
        opusFec = room.opusFec
        videoSVC = room.videoSVC
        audiolevelExt = room.audiolevelExt
        audioActivePackets = room.audioActivePackets
        audioLevelAverage = room.audioLevelAverage
        videoorientExt = room.videoorientExt
        playoutdelayExt = room.playoutdelayExt
        transportWideCCExt = room.transportWideCCExt
        record = room.record
        recDir = room.recDir.isEmpty ? nil : room.recDir
        lockRecord = room.lockRecord
    }

    private static func codecList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingWhitespace }.filter { !$0.isEmpty }
    }
}

extension Settings.Room {
    /// A room as the rooms file records it. Values the file's checks would refuse at the next start
    /// (a room API `create` accepts `publishers: 0`, confab.cfg wants at least 1) are clamped, so a
    /// permanent room can never stop Confab from starting.
    init(_ options: RoomOptions) {
        self.init(id: options.id, description: options.description)
        isPrivate = options.isPrivate
        secret = options.secret ?? ""
        pin = options.pin ?? ""
        publishers = max(1, options.publishers)
        bitrate = Int(options.bitrate)
        bitrateCap = options.bitrateCap
        firFreq = Int(options.firFreq)
        audiocodec = options.audiocodec.isEmpty ? "opus" : options.audiocodec.joined(separator: ",")
        videocodec = options.videocodec.isEmpty ? "vp8" : options.videocodec.joined(separator: ",")
        notifyJoining = options.notifyJoining
        requirePvtid = options.requirePvtid
        audiolevelEvent = options.audiolevelEvent
        allowed = options.allowed.map { $0.sorted() }
        requireE2ee = options.requireE2ee
        opusFec = options.opusFec
        videoSVC = options.videoSVC
        audiolevelExt = options.audiolevelExt
        audioActivePackets = max(1, options.audioActivePackets)
        audioLevelAverage = max(1, options.audioLevelAverage)
        videoorientExt = options.videoorientExt
        playoutdelayExt = options.playoutdelayExt
        transportWideCCExt = options.transportWideCCExt
        record = options.record
        recDir = options.recDir ?? ""
        lockRecord = options.lockRecord
    }
}
