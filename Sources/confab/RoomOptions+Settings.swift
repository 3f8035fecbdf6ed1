import Foundation
import Settings
import VideoRoom

extension RoomOptions {
    /// A static room from `videoroom.rooms` in confab.cfg; an empty secret or pin there means none.
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
    }

    private static func codecList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
