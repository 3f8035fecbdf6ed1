/// Reads SDP text line by line. Strict about what the media engine relies on
/// (v=0 first, o=, m= syntax, numeric ranges, payload types) and tolerant of
/// everything else: unknown lines and attributes are kept, not rejected.

extension SessionDescription {
    /// Parses an offer or answer with CRLF or LF line endings.
    public static func parse(_ text: String) throws(SDPError) -> SessionDescription {
        var parser = Parser()
        return try parser.parse(text)
    }
}

struct Parser {
    private var session = SessionDescription(origin: Origin(sessionID: 0))
    private var sawVersion = false
    private var sawOrigin = false
    private var sawName = false
    private var sawTiming = false

    mutating func parse(_ text: String) throws(SDPError) -> SessionDescription {
        // Split on bytes: Swift treats "\r\n" as one Character, so splitting the
        // String on "\n" would miss CRLF. Invalid UTF-8 decodes to U+FFFD.
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, bytes) in lines.enumerated() {
            let number = index + 1
            let content = bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes
            let line = String(decoding: content, as: UTF8.self)
            // Blank lines (often a trailing newline) carry nothing.
            if line.trimmed.isEmpty { continue }
            let utf8 = Array(content.prefix(2))
            guard utf8.count == 2, utf8[0] >= UInt8(ascii: "a"), utf8[0] <= UInt8(ascii: "z"), utf8[1] == UInt8(ascii: "=") else {
                throw SDPError(line: number, message: "expected '<type>=<value>', got '\(Self.clip(line))'")
            }
            let type = Character(Unicode.Scalar(utf8[0]))
            let value = line.dropFirst(2)
            if !sawVersion {
                // RFC 8866 requires v= first; anything else is not SDP.
                guard type == "v" else {
                    throw SDPError(line: number, message: "expected 'v=0' as the first line, got '\(Self.clip(line))'")
                }
                guard value == "0" else {
                    throw SDPError(line: number, message: "unsupported version '\(Self.clip(line))', expected 'v=0'")
                }
                sawVersion = true
                continue
            }
            do throws(Invalid) {
                if session.media.isEmpty || type == "m" {
                    try sessionLine(type, value)
                } else {
                    try Self.mediaLine(type, value, into: &session.media[session.media.count - 1])
                }
            } catch {
                throw SDPError(line: number, message: Self.message(for: line, type: type, value: value, error))
            }
        }
        guard sawVersion else { throw SDPError(line: 0, message: "empty session description") }
        guard sawOrigin else { throw SDPError(line: 0, message: "missing o= line") }
        return session
    }

    /// "bad a=rtpmap line 'a=rtpmap:300 x/1': payload type '300' not in 0..127".
    private static func message(for line: String, type: Character, value: Substring, _ error: Invalid) -> String {
        let what = type == "a" ? "a=\(value.splitOnce(":").0)" : "\(type)="
        return "bad \(clip(what)) line '\(clip(line))'" + (error.reason.map { ": \(clip($0))" } ?? "")
    }

    /// Keeps messages readable when the input is garbage.
    private static func clip(_ text: some StringProtocol) -> String {
        text.count > 100 ? text.prefix(100) + "..." : String(text)
    }

    private mutating func sessionLine(_ type: Character, _ value: Substring) throws(Invalid) {
        switch type {
        case "v": throw Invalid("duplicate")
        case "o":
            guard !sawOrigin else { throw Invalid("duplicate") }
            session.origin = try Origin.parse(value)
            sawOrigin = true
        case "s":
            guard !sawName else { throw Invalid("duplicate") }
            session.sessionName = String(value)
            sawName = true
        case "t" where !sawTiming:
            session.timing = try Timing.parse(value)
            sawTiming = true
        case "c": session.connection = try Connection.parse(value)
        case "b": session.bandwidths.append(try Bandwidth.parse(value))
        case "m":
            // Session lines must come first; a section without o= is not an offer we can answer.
            guard sawOrigin else { throw Invalid("o= line must come before the first m= line") }
            session.media.append(try Self.mediaLine(value))
        case "a":
            let (name, attributeValue) = value.splitOnce(":")
            try sessionAttribute(name, attributeValue)
        default:
            session.otherLines.append(OtherLine(type: type, value: String(value)))
        }
    }

    private mutating func sessionAttribute(_ name: Substring, _ value: Substring?) throws(Invalid) {
        if try Self.sharedAttribute(name, value, into: &session) { return }
        switch name {
        case "group": session.groups.append(try Group.parse(Self.required(value)))
        case "ice-lite": session.iceLite = true
        case "msid-semantic": session.msidSemantic = try MsidSemantic.parse(Self.required(value))
        default: session.attributes.append(Attribute(name: String(name), value: value.map(String.init)))
        }
    }

    /// `m=<media> <port>[/<count>] <proto> <fmt> ...`.
    private static func mediaLine(_ value: Substring) throws(Invalid) -> MediaDescription {
        let parts = value.fields
        guard parts.count >= 4 else { throw Invalid() }
        let (portText, countText) = parts[1].splitOnce("/")
        guard let port = decimal(portText, as: UInt16.self) else { throw Invalid() }
        let count = try countText.map { text throws(Invalid) in try number(text, "port count", as: UInt16.self) }
        var media = MediaDescription(
            kind: MediaKind(rawValue: String(parts[0])), port: port, portCount: count,
            proto: String(parts[2]), formats: parts[3...].map(String.init))
        if media.isRTP {
            for format in media.formats { _ = try parsePayloadType(format) }
        }
        return media
    }

    private static func mediaLine(_ type: Character, _ value: Substring, into media: inout MediaDescription) throws(Invalid) {
        switch type {
        case "v", "o", "s", "t": throw Invalid("only allowed before the first m= line")
        case "c": media.connection = try Connection.parse(value)
        case "b": media.bandwidths.append(try Bandwidth.parse(value))
        case "a":
            let (name, attributeValue) = value.splitOnce(":")
            try mediaAttribute(name, attributeValue, into: &media)
        default:
            media.otherLines.append(OtherLine(type: type, value: String(value)))
        }
    }

    private static func mediaAttribute(_ name: Substring, _ value: Substring?, into media: inout MediaDescription) throws(Invalid) {
        if try sharedAttribute(name, value, into: &media) { return }
        switch name {
        case "mid": media.mid = String(try required(value))
        case "rtcp-mux": media.rtcpMux = true
        case "rtcp-mux-only": media.rtcpMuxOnly = true
        case "rtcp-rsize": media.rtcpReducedSize = true
        case "candidate": media.candidates.append(try Candidate.parse(required(value)))
        case "end-of-candidates": media.endOfCandidates = true
        // Payload-type attributes only mean that for RTP; SCTP's legacy forms stay verbatim.
        case "rtpmap" where media.isRTP: media.rtpMaps.append(try RTPMap.parse(required(value)))
        case "fmtp" where media.isRTP: media.fmtps.append(try FMTP.parse(required(value)))
        case "rtcp-fb" where media.isRTP: media.rtcpFeedback.append(try RTCPFeedback.parse(required(value)))
        case "extmap": media.extMaps.append(try ExtMap.parse(required(value)))
        case "ssrc": media.ssrcs.append(try SSRCAttribute.parse(required(value)))
        case "ssrc-group": media.ssrcGroups.append(try SSRCGroup.parse(required(value)))
        case "msid": media.msids.append(try MediaStreamID.parse(required(value)))
        case "rid": media.rids.append(try RID.parse(required(value)))
        case "simulcast": media.simulcast = try Simulcast.parse(required(value))
        case "sctp-port": media.sctpPort = try number(required(value).trimmed, "sctp port", as: UInt16.self)
        case "max-message-size": media.maxMessageSize = try number(required(value).trimmed, "max message size", as: UInt64.self)
        default: media.attributes.append(Attribute(name: String(name), value: value.map(String.init)))
        }
    }

    /// Handles attributes valid at both levels; false when `name` is not one of them.
    private static func sharedAttribute(_ name: Substring, _ value: Substring?, into target: inout some SharedAttributes) throws(Invalid) -> Bool {
        switch name {
        case "sendrecv", "sendonly", "recvonly", "inactive": target.direction = Direction(rawValue: String(name))
        case "extmap-allow-mixed": target.extmapAllowMixed = true
        case "ice-ufrag": target.iceUfrag = String(try required(value))
        case "ice-pwd": target.icePwd = String(try required(value))
        case "ice-options": target.iceOptions = try required(value).fields.map(String.init)
        case "fingerprint": target.fingerprints.append(try Fingerprint.parse(required(value)))
        case "setup":
            let text = try required(value).trimmed
            guard let role = SetupRole(rawValue: String(text)) else {
                throw Invalid("setup '\(text)' is not actpass, active, passive or holdconn")
            }
            target.setup = role
        default: return false
        }
        return true
    }

    private static func required(_ value: Substring?) throws(Invalid) -> Substring {
        guard let value else { throw Invalid("missing value") }
        return value
    }
}
