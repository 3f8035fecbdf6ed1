// The "Meetecho Janus Recordings" (.mjr) file format, as janus-doc's Recordings page describes it:
//
//   "MJR00002"                         8 bytes
//   LEN (2 bytes) | JSON info header   what the file holds
//   then for each RTP packet:
//   "MEET" (4 bytes) | received time (4 bytes) | LEN (2 bytes) | the RTP packet
//
// Lengths and times are big-endian (network order). One file holds one stream; packets are stored
// as they arrived (decrypted), unordered: janus-pp-rec re-orders them when converting.

/// Builds the pieces of an .mjr file; the recorder's writer thread puts them together.
enum MJRFormat {
    static let magic = Array("MJR00002".utf8)
    static let packetMarker = Array("MEET".utf8)
    /// Marker, received time and length before each packet.
    static let packetHeaderSize = 10

    /// What the stream carries, as the header's `t` says it.
    enum StreamType: String, Sendable {
        case audio = "a"
        case video = "v"
    }

    /// The file's beginning: magic, then the JSON info header: `t` the type, `c` the codec (as
    /// janus-pp-rec names them: opus, vp8, h264, ...), `s` when the recording was created and `u`
    /// when its first packet was written, both microseconds since the Unix epoch.
    static func fileHeader(type: StreamType, codec: String, created: Int64, firstPacket: Int64) -> [UInt8] {
        let json = #"{"t":"\#(type.rawValue)","c":"\#(codec)","s":\#(created),"u":\#(firstPacket)}"#
        let info = Array(json.utf8)
        return magic + [UInt8(info.count >> 8), UInt8(info.count & 0xFF)] + info
    }

    /// The 10 bytes before a packet: "MEET", milliseconds since the first packet (wrapping at 2^32),
    /// the packet's length.
    static func writePacketHeader(into buffer: UnsafeMutableRawBufferPointer, receivedMilliseconds: UInt32, length: Int) {
        for (index, byte) in packetMarker.enumerated() { buffer[index] = byte }
        buffer[4] = UInt8(truncatingIfNeeded: receivedMilliseconds >> 24)
        buffer[5] = UInt8(truncatingIfNeeded: receivedMilliseconds >> 16)
        buffer[6] = UInt8(truncatingIfNeeded: receivedMilliseconds >> 8)
        buffer[7] = UInt8(truncatingIfNeeded: receivedMilliseconds)
        buffer[8] = UInt8(truncatingIfNeeded: length >> 8)
        buffer[9] = UInt8(truncatingIfNeeded: length)
    }

    /// janus-pp-rec's name for an SDP codec name; nil for what it cannot convert.
    static func codecName(_ sdpName: String) -> String? {
        let name = sdpName.lowercased()
        switch name {
        case "opus", "multiopus", "vp8", "vp9", "h264", "av1", "h265", "pcmu", "pcma", "g722": return name
        default: return nil
        }
    }
}
