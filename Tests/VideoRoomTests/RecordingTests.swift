import Foundation
import Testing
@testable import VideoRoom

/// The .mjr writer: the file's structure as janus-doc describes it, the ring between the media
/// path and the writer thread, drops when the writer falls behind, the rename when finished.
@Suite("recording")
struct RecordingTests {
    struct ParsedFile {
        var info: [String: Any]
        var packets: [(milliseconds: UInt32, bytes: [UInt8])]
    }

    /// Reads an .mjr file by the documented layout.
    static func parse(_ data: [UInt8]) throws -> ParsedFile {
        #expect(Array(data[0..<8]) == Array("MJR00002".utf8))
        let infoLength = Int(data[8]) << 8 | Int(data[9])
        let info = try #require(try JSONSerialization.jsonObject(with: Data(data[10..<(10 + infoLength)])) as? [String: Any])
        var packets: [(UInt32, [UInt8])] = []
        var offset = 10 + infoLength
        while offset < data.count {
            #expect(Array(data[offset..<(offset + 4)]) == Array("MEET".utf8))
            let time = data[(offset + 4)..<(offset + 8)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int(data[offset + 8]) << 8 | Int(data[offset + 9])
            packets.append((time, Array(data[(offset + 10)..<(offset + 10 + length)])))
            offset += 10 + length
        }
        return ParsedFile(info: info, packets: packets)
    }

    static func rtp(sequence: UInt16, size: Int = 100) -> [UInt8] {
        var packet = [UInt8](repeating: 0xAB, count: size)
        packet[0] = 0x80
        packet[1] = 96
        packet[2] = UInt8(sequence >> 8)
        packet[3] = UInt8(sequence & 0xFF)
        return packet
    }

    func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("confab-rec-\(UUID().uuidString)").path
        return path
    }

    @Test func headerFollowsTheDocumentedLayout() throws {
        let header = MJRFormat.fileHeader(type: .video, codec: "vp8", created: 1_700_000_000_000_000, firstPacket: 1_700_000_000_500_000)
        let parsed = try Self.parse(header)
        #expect(parsed.info["t"] as? String == "v")
        #expect(parsed.info["c"] as? String == "vp8")
        #expect((parsed.info["s"] as? NSNumber)?.int64Value == 1_700_000_000_000_000)
        #expect((parsed.info["u"] as? NSNumber)?.int64Value == 1_700_000_000_500_000)
        #expect(parsed.packets.isEmpty)
        #expect(MJRFormat.codecName("OPUS") == "opus")
        #expect(MJRFormat.codecName("H264") == "h264")
        #expect(MJRFormat.codecName("isac16") == nil)
    }

    @Test func packetsAreWrittenAsReceivedThenTheFileIsRenamed() throws {
        let folder = try directory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The directory does not exist yet: it is made, as Janus does.
        let recorder = try StreamRecorder(directory: folder + "/sub", name: "rec-audio-0", type: .audio, codec: "opus", slotCount: 8)
        #expect(FileManager.default.fileExists(atPath: folder + "/sub/rec-audio-0.mjr.tmp"))
        let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { staging.deallocate() }
        let start: UInt64 = 5_000_000_000
        for index in 0..<5 {
            Self.rtp(sequence: UInt16(index), size: 60 + index).withUnsafeBytes {
                recorder.record($0, now: start + UInt64(index) * 20_000_000)
            }
        }
        // Runts are not RTP: ignored.
        [UInt8](repeating: 0, count: 4).withUnsafeBytes { recorder.record($0, now: start) }
        #expect(recorder.drain(staging: staging) == false)
        recorder.close()
        Self.rtp(sequence: 99).withUnsafeBytes { recorder.record($0, now: start) }  // after close: not taken
        #expect(recorder.drain(staging: staging) == true)
        #expect(!FileManager.default.fileExists(atPath: folder + "/sub/rec-audio-0.mjr.tmp"))
        let parsed = try Self.parse(Array(try #require(FileManager.default.contents(atPath: folder + "/sub/rec-audio-0.mjr"))))
        #expect(parsed.info["t"] as? String == "a")
        #expect(parsed.info["c"] as? String == "opus")
        #expect(parsed.packets.count == 5)
        for (index, packet) in parsed.packets.enumerated() {
            #expect(packet.bytes == Self.rtp(sequence: UInt16(index), size: 60 + index))
            #expect(packet.milliseconds == UInt32(index * 20))
        }
        let counters = recorder.counters
        #expect(counters.received == 5 && counters.dropped == 0 && counters.written == 5)
    }

    @Test func aFullRingDropsAndCounts() throws {
        let folder = try directory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let recorder = try StreamRecorder(directory: folder, name: "full", type: .video, codec: "vp8", slotCount: 4)
        let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)  // forces several flushes
        defer { staging.deallocate() }
        for index in 0..<10 {
            Self.rtp(sequence: UInt16(index), size: 400).withUnsafeBytes { recorder.record($0, now: UInt64(index)) }
        }
        #expect(recorder.counters.dropped == 6)
        _ = recorder.drain(staging: staging)
        // Drained slots are free again; the ring wraps around.
        for index in 10..<13 {
            Self.rtp(sequence: UInt16(index), size: 400).withUnsafeBytes { recorder.record($0, now: UInt64(index)) }
        }
        recorder.close()
        #expect(recorder.drain(staging: staging))
        let parsed = try Self.parse(Array(try #require(FileManager.default.contents(atPath: folder + "/full.mjr"))))
        #expect(parsed.packets.map { UInt16($0.bytes[2]) << 8 | UInt16($0.bytes[3]) } == [0, 1, 2, 3, 10, 11, 12])
        #expect(recorder.counters.received == 13 && recorder.counters.dropped == 6 && recorder.counters.written == 7)
    }

    @Test func theWriterThreadDrainsOnItsOwn() async throws {
        let folder = try directory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let recorder = try StreamRecorder(directory: folder, name: "threaded", type: .audio, codec: "opus", slotCount: 64)
        RecordingWriter.shared.add(recorder)
        for index in 0..<200 {
            Self.rtp(sequence: UInt16(index)).withUnsafeBytes { recorder.record($0, now: UInt64(index) * 1_000_000) }
            if index % 20 == 0 { try await Task.sleep(for: .milliseconds(25)) }
        }
        recorder.close()
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: folder + "/threaded.mjr") {
            try await Task.sleep(for: .milliseconds(10))
        }
        let parsed = try Self.parse(Array(try #require(FileManager.default.contents(atPath: folder + "/threaded.mjr"))))
        #expect(parsed.packets.count + recorder.counters.dropped == 200)
        #expect(parsed.packets.count > 100)
    }

    @Test func recordingFileNames() {
        var options = RoomOptions(id: 7)
        #expect(VideoRoomPlugin.recordingLocation(base: "talk", options: options, participantID: 3) == ("", "talk"))
        options.recDir = "/var/rec"
        // a client's filename never leaves the room's folder
        for escape in ["/srv/rec/talk", "a/talk", "../../etc/talk", "../talk", "./talk"] {
            #expect(VideoRoomPlugin.recordingLocation(base: escape, options: options, participantID: 3) == ("/var/rec", "talk"),
                    "\(escape)")
        }
        for nameless in ["..", "/", "a/..", ""] {
            let (directory, name) = VideoRoomPlugin.recordingLocation(base: nameless, options: options, participantID: 3)
            #expect(directory == "/var/rec" && name.hasPrefix("videoroom-7-user-3-"), "\(nameless)")
        }
        let (directory, name) = VideoRoomPlugin.recordingLocation(base: nil, options: options, participantID: 3)
        #expect(directory == "/var/rec")
        #expect(name.hasPrefix("videoroom-7-user-3-"))
    }
}
