/// The codec lists a room allows (`audiocodec`, `videocodec`), with Janus's parsing rules.
enum CodecList {
    case audio, video

    /// Names `janus_audiocodec_from_name` / `janus_videocodec_from_name` know (compared case-insensitively).
    var known: [String] {
        switch self {
        case .audio: return ["opus", "multiopus", "isac32", "isac16", "pcmu", "pcma", "g722", "l16-48", "l16"]
        case .video: return ["vp8", "vp9", "h264", "av1", "h265"]
        }
    }

    var defaults: [String] {
        switch self {
        case .audio: return ["opus"]
        case .video: return ["vp8"]
        }
    }

    /// A room holds at most this many codecs of each kind.
    static let maximum = 5

    private var invalid: VideoRoomError {
        switch self {
        case .audio:
            return VideoRoomError(.invalidElement,
                "Invalid element (audiocodec can only be or contain opus, isac32, isac16, pcmu, pcma or g722)")
        case .video:
            return VideoRoomError(.invalidElement,
                "Invalid element (videocodec can only be or contain vp8, vp9, av1, h264 or h265)")
        }
    }

    /// Parses a comma-separated list from a `create` request the way Janus does: the first five
    /// entries must each be a known codec (no blanks, no spaces); anything after the fifth is
    /// ignored unchecked; an empty string leaves the default. Returns nil when the default applies.
    func parse(_ text: String?) throws(VideoRoomError) -> [String]? {
        guard let text, !text.isEmpty else { return nil }
        let entries = text.split(separator: ",", maxSplits: Self.maximum, omittingEmptySubsequences: false)
            .prefix(Self.maximum)
            .map { $0.lowercased() }
        for entry in entries where !known.contains(entry) { throw invalid }
        return Array(entries)
    }

    /// For rooms given in code or configuration: lower-cased, unknown names dropped, at most five,
    /// the default when nothing is left.
    func normalize(_ codecs: [String]) -> [String] {
        let kept = codecs.map { $0.lowercased() }.filter { known.contains($0) }.prefix(Self.maximum)
        return kept.isEmpty ? defaults : Array(kept)
    }
}
