/// Typed forms of the `a=` attributes the media engine acts on. Each type
/// parses its own value (the text after `a=name:`) and writes it back, so the
/// parser and serializer only dispatch on attribute names.

/// An attribute the parser does not interpret, kept verbatim and in order so
/// that answers and logs do not silently lose what the browser sent.
public struct Attribute: Sendable, Equatable, Hashable {
    public var name: String
    /// nil for a property attribute (`a=name`), the text after ':' otherwise.
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }

    var text: String { value.map { "\(name):\($0)" } ?? name }
}

/// A line of a type the parser does not interpret (i=, u=, e=, p=, k=, r=, z=, ...).
public struct OtherLine: Sendable, Equatable, Hashable {
    public var type: Character
    public var value: String

    public init(type: Character, value: String) {
        self.type = type
        self.value = value
    }
}

/// Media direction attributes (RFC 8866 section 6.7).
public enum Direction: String, Sendable, Hashable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// The direction an answerer uses to mirror this one: an offer to send
    /// only is answered with receive only, and so on (RFC 3264 section 6.1).
    public var reversed: Direction {
        switch self {
        case .sendonly: .recvonly
        case .recvonly: .sendonly
        case .sendrecv, .inactive: self
        }
    }
}

/// DTLS role negotiation, `a=setup` (RFC 4145, RFC 8842).
public enum SetupRole: String, Sendable, Hashable, CaseIterable {
    case actpass, active, passive, holdconn
}

/// `a=fingerprint:sha-256 AB:CD:...` (RFC 8122): the certificate hash DTLS must match.
public struct Fingerprint: Sendable, Equatable, Hashable {
    /// Hash function name as written, e.g. "sha-256".
    public var hashFunction: String
    /// Colon-separated hex bytes as written, e.g. "AB:CD:01".
    public var value: String

    public init(hashFunction: String, value: String) {
        self.hashFunction = hashFunction
        self.value = value
    }

    /// Builds the conventional upper-case colon-separated form from raw digest bytes.
    public init(hashFunction: String, bytes: [UInt8]) {
        let digits = Array("0123456789ABCDEF")
        self.hashFunction = hashFunction
        self.value = bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]]) }.joined(separator: ":")
    }

    /// The digest bytes; parsing guarantees `value` is well formed.
    public var bytes: [UInt8] {
        value.split(separator: ":").compactMap { UInt8($0, radix: 16) }
    }

    static func parse(_ text: Substring) throws(Invalid) -> Fingerprint {
        let parts = text.fields
        guard parts.count == 2 else { throw Invalid("expected '<hash-function> <hex bytes>'") }
        // Each byte is exactly two hex digits; anything else cannot match a digest.
        let bytes = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        let isHex: (UInt8) -> Bool = { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }
        guard bytes.allSatisfy({ $0.utf8.count == 2 && $0.utf8.allSatisfy(isHex) }) else {
            throw Invalid("fingerprint '\(parts[1])' is not colon-separated hex bytes")
        }
        return Fingerprint(hashFunction: String(parts[0]), value: String(parts[1]))
    }

    var text: String { "\(hashFunction) \(value)" }
}

/// `a=group:BUNDLE 0 1 2` (RFC 5888, RFC 9143).
public struct Group: Sendable, Equatable, Hashable {
    public var semantics: String
    public var mids: [String]

    public init(semantics: String, mids: [String]) {
        self.semantics = semantics
        self.mids = mids
    }

    static func parse(_ text: Substring) throws(Invalid) -> Group {
        let parts = text.fields
        guard let first = parts.first else { throw Invalid("missing group semantics") }
        return Group(semantics: String(first), mids: parts.dropFirst().map(String.init))
    }

    var text: String { ([semantics] + mids).joined(separator: " ") }
}

/// `a=msid-semantic: WMS *` (the pre-RFC 8830 form browsers and Janus still write).
public struct MsidSemantic: Sendable, Equatable, Hashable {
    public var semantic: String
    public var identifiers: [String]

    public init(semantic: String, identifiers: [String] = []) {
        self.semantic = semantic
        self.identifiers = identifiers
    }

    static func parse(_ text: Substring) throws(Invalid) -> MsidSemantic {
        let parts = text.fields
        guard let first = parts.first else { throw Invalid("missing semantic") }
        return MsidSemantic(semantic: String(first), identifiers: parts.dropFirst().map(String.init))
    }

    // Chrome and Janus put a space after the colon; keep that for familiarity.
    var text: String { " " + ([semantic] + identifiers).joined(separator: " ") }
}

/// `a=rtpmap:111 opus/48000/2`.
public struct RTPMap: Sendable, Equatable, Hashable {
    public var payloadType: UInt8
    public var encodingName: String
    public var clockRate: UInt32
    /// Audio channel count; nil when omitted (meaning 1 for audio).
    public var channels: UInt16?

    public init(payloadType: UInt8, encodingName: String, clockRate: UInt32, channels: UInt16? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    static func parse(_ text: Substring) throws(Invalid) -> RTPMap {
        let parts = text.fields
        guard parts.count == 2 else { throw Invalid("expected '<payload type> <encoding>/<clock rate>[/<channels>]'") }
        let pt = try parsePayloadType(parts[0])
        let encoding = parts[1].split(separator: "/", omittingEmptySubsequences: false)
        guard encoding.count == 2 || encoding.count == 3, !encoding[0].isEmpty else {
            throw Invalid("expected '<encoding>/<clock rate>[/<channels>]'")
        }
        let rate = try number(encoding[1], "clock rate", as: UInt32.self)
        let channels = encoding.count == 3 ? try number(encoding[2], "channels", as: UInt16.self) : nil
        return RTPMap(payloadType: pt, encodingName: String(encoding[0]), clockRate: rate, channels: channels)
    }

    var text: String {
        "\(payloadType) \(encodingName)/\(clockRate)" + (channels.map { "/\($0)" } ?? "")
    }
}

/// One `key=value` (or bare `key`) item of an fmtp or rid parameter list.
public struct FormatParameter: Sendable, Equatable, Hashable {
    public var key: String
    /// nil for items without '=', such as telephone-event's "0-16".
    public var value: String?

    public init(key: String, value: String? = nil) {
        self.key = key
        self.value = value
    }

    /// Parses "a=1;b=2;c" keeping order; empty items and surrounding spaces are dropped.
    static func list(_ text: Substring) -> [FormatParameter] {
        text.split(separator: ";").compactMap { item in
            let (key, value) = item.trimmed.splitOnce("=")
            guard !key.isEmpty else { return nil }
            return FormatParameter(key: String(key), value: value.map(String.init))
        }
    }

    static func text(_ list: [FormatParameter]) -> String {
        list.map { p in p.value.map { "\(p.key)=\($0)" } ?? p.key }.joined(separator: ";")
    }
}

/// `a=fmtp:96 profile-level-id=42e01f;packetization-mode=1`.
public struct FMTP: Sendable, Equatable, Hashable {
    public var payloadType: UInt8
    /// Parameters in the order written, which some decoders care about.
    public var parameters: [FormatParameter]

    public init(payloadType: UInt8, parameters: [FormatParameter]) {
        self.payloadType = payloadType
        self.parameters = parameters
    }

    /// The value of the first parameter named `key` (case-insensitive, per RFC 4855).
    public func parameter(_ key: String) -> String? {
        let wanted = key.lowercased()
        return parameters.first { $0.key.lowercased() == wanted }?.value
    }

    static func parse(_ text: Substring) throws(Invalid) -> FMTP {
        let (pt, rest) = text.trimmed.splitOnce(" ")
        return FMTP(payloadType: try parsePayloadType(pt), parameters: FormatParameter.list(rest ?? ""))
    }

    var text: String { "\(payloadType) \(FormatParameter.text(parameters))" }
}

/// `a=rtcp-fb:96 nack pli` or `a=rtcp-fb:* transport-cc` (RFC 4585).
public struct RTCPFeedback: Sendable, Equatable, Hashable {
    /// nil for the wildcard `*`, which applies to every payload type.
    public var payloadType: UInt8?
    public var type: String
    /// The rest of the line after the type, e.g. "pli" for "nack pli".
    public var subtype: String?

    public init(payloadType: UInt8?, type: String, subtype: String? = nil) {
        self.payloadType = payloadType
        self.type = type
        self.subtype = subtype
    }

    static func parse(_ text: Substring) throws(Invalid) -> RTCPFeedback {
        let parts = text.fields
        guard parts.count >= 2 else { throw Invalid("expected '<payload type|*> <type> [<subtype>]'") }
        let pt: UInt8? = parts[0] == "*" ? nil : try parsePayloadType(parts[0])
        let subtype = parts.count > 2 ? parts[2...].joined(separator: " ") : nil
        return RTCPFeedback(payloadType: pt, type: String(parts[1]), subtype: subtype)
    }

    var text: String {
        ([payloadType.map(String.init) ?? "*", type] + (subtype.map { [$0] } ?? [])).joined(separator: " ")
    }
}

/// `a=extmap:3/sendrecv urn:ietf:params:rtp-hdrext:sdes:mid` (RFC 8285).
public struct ExtMap: Sendable, Equatable, Hashable {
    /// 1...14 for one-byte headers, up to 255 for two-byte; 4096...4351 in offers.
    public var id: UInt16
    public var direction: Direction?
    public var uri: String
    /// Extension attributes after the URI, as written.
    public var attributes: String?

    public init(id: UInt16, direction: Direction? = nil, uri: String, attributes: String? = nil) {
        self.id = id
        self.direction = direction
        self.uri = uri
        self.attributes = attributes
    }

    static func parse(_ text: Substring) throws(Invalid) -> ExtMap {
        let parts = text.fields
        guard parts.count >= 2 else { throw Invalid("expected '<id>[/<direction>] <uri> [<attributes>]'") }
        let (idText, directionText) = parts[0].splitOnce("/")
        let id = try number(idText, "extension id", as: UInt16.self)
        guard (1...255).contains(id) || (4096...4351).contains(id) else {
            throw Invalid("extension id \(id) not in 1..255 or 4096..4351")
        }
        var direction: Direction?
        if let directionText {
            guard let parsed = Direction(rawValue: String(directionText)) else {
                throw Invalid("unknown direction '\(directionText)'")
            }
            direction = parsed
        }
        let attributes = parts.count > 2 ? parts[2...].joined(separator: " ") : nil
        return ExtMap(id: id, direction: direction, uri: String(parts[1]), attributes: attributes)
    }

    var text: String {
        var head = "\(id)"
        if let direction { head += "/\(direction.rawValue)" }
        return ([head, uri] + (attributes.map { [$0] } ?? [])).joined(separator: " ")
    }
}

/// `a=ssrc:1234 cname:abc` (RFC 5576).
public struct SSRCAttribute: Sendable, Equatable, Hashable {
    public var ssrc: UInt32
    public var name: String
    public var value: String?

    public init(ssrc: UInt32, name: String, value: String? = nil) {
        self.ssrc = ssrc
        self.name = name
        self.value = value
    }

    static func parse(_ text: Substring) throws(Invalid) -> SSRCAttribute {
        let (ssrcText, rest) = text.trimmed.splitOnce(" ")
        let ssrc = try number(ssrcText, "ssrc", as: UInt32.self)
        guard let rest, !rest.trimmed.isEmpty else { throw Invalid("missing source attribute") }
        let (name, value) = rest.trimmed.splitOnce(":")
        return SSRCAttribute(ssrc: ssrc, name: String(name), value: value.map(String.init))
    }

    var text: String { "\(ssrc) " + (value.map { "\(name):\($0)" } ?? name) }
}

/// `a=ssrc-group:FID 1111 2222` (RFC 5576): RTX (FID) or simulcast (SIM) pairing.
public struct SSRCGroup: Sendable, Equatable, Hashable {
    public var semantics: String
    public var ssrcs: [UInt32]

    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }

    static func parse(_ text: Substring) throws(Invalid) -> SSRCGroup {
        let parts = text.fields
        guard parts.count >= 2 else { throw Invalid("expected '<semantics> <ssrc> ...'") }
        var ssrcs: [UInt32] = []
        for part in parts.dropFirst() { ssrcs.append(try number(part, "ssrc", as: UInt32.self)) }
        return SSRCGroup(semantics: String(parts[0]), ssrcs: ssrcs)
    }

    var text: String { ([semantics] + ssrcs.map(String.init)).joined(separator: " ") }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830).
public struct MediaStreamID: Sendable, Equatable, Hashable {
    /// "-" means the track belongs to no stream.
    public var streamID: String
    public var trackID: String?

    public init(streamID: String, trackID: String? = nil) {
        self.streamID = streamID
        self.trackID = trackID
    }

    static func parse(_ text: Substring) throws(Invalid) -> MediaStreamID {
        let parts = text.fields
        guard parts.count == 1 || parts.count == 2 else { throw Invalid("expected '<stream id> [<track id>]'") }
        return MediaStreamID(streamID: String(parts[0]), trackID: parts.count == 2 ? String(parts[1]) : nil)
    }

    var text: String { trackID.map { "\(streamID) \($0)" } ?? streamID }
}

/// `a=rid:h send pt=96;max-width=1280` (RFC 8851): one simulcast layer.
public struct RID: Sendable, Equatable, Hashable {
    public enum Direction: String, Sendable, Hashable { case send, recv }

    public var id: String
    public var direction: Direction
    /// Payload types from `pt=`, empty when the layer may use any.
    public var payloadTypes: [UInt8]
    /// Restrictions such as max-width, in order, excluding `pt`.
    public var restrictions: [FormatParameter]

    public init(id: String, direction: Direction, payloadTypes: [UInt8] = [], restrictions: [FormatParameter] = []) {
        self.id = id
        self.direction = direction
        self.payloadTypes = payloadTypes
        self.restrictions = restrictions
    }

    static func parse(_ text: Substring) throws(Invalid) -> RID {
        let parts = text.fields
        guard parts.count == 2 || parts.count == 3 else { throw Invalid("expected '<rid> send|recv [<params>]'") }
        guard let direction = Direction(rawValue: String(parts[1])) else {
            throw Invalid("direction '\(parts[1])' is not send or recv")
        }
        var rid = RID(id: String(parts[0]), direction: direction)
        if parts.count == 3 {
            for parameter in FormatParameter.list(parts[2]) {
                if parameter.key == "pt" {
                    for pt in (parameter.value ?? "").split(separator: ",") {
                        rid.payloadTypes.append(try parsePayloadType(pt))
                    }
                } else {
                    rid.restrictions.append(parameter)
                }
            }
        }
        return rid
    }

    var text: String {
        var parameters = restrictions
        if !payloadTypes.isEmpty {
            parameters.insert(FormatParameter(key: "pt", value: payloadTypes.map(String.init).joined(separator: ",")), at: 0)
        }
        let tail = FormatParameter.text(parameters)
        return "\(id) \(direction.rawValue)" + (tail.isEmpty ? "" : " \(tail)")
    }
}

/// One rid in an `a=simulcast` list; `~h` marks a paused layer.
public struct SimulcastStream: Sendable, Equatable, Hashable {
    public var rid: String
    public var paused: Bool

    public init(rid: String, paused: Bool = false) {
        self.rid = rid
        self.paused = paused
    }

    var text: String { (paused ? "~" : "") + rid }
}

/// `a=simulcast:send h;m;l recv x` (RFC 8853). Each entry of `send` or `receive`
/// is one simulcast stream given as alternatives ("h,h2" offers h or h2).
public struct Simulcast: Sendable, Equatable, Hashable {
    public var send: [[SimulcastStream]]
    public var receive: [[SimulcastStream]]

    public init(send: [[SimulcastStream]] = [], receive: [[SimulcastStream]] = []) {
        self.send = send
        self.receive = receive
    }

    static func parse(_ text: Substring) throws(Invalid) -> Simulcast {
        let parts = text.fields
        guard !parts.isEmpty, parts.count % 2 == 0, parts.count <= 4 else {
            throw Invalid("expected 'send|recv <streams> [send|recv <streams>]'")
        }
        var result = Simulcast()
        var seen: Set<Substring> = []
        for index in stride(from: 0, to: parts.count, by: 2) {
            let direction = parts[index]
            guard direction == "send" || direction == "recv", seen.insert(direction).inserted else {
                throw Invalid("direction '\(direction)' is not a single send or recv")
            }
            var streams: [[SimulcastStream]] = []
            for alternatives in parts[index + 1].split(separator: ";", omittingEmptySubsequences: false) {
                var stream: [SimulcastStream] = []
                for id in alternatives.split(separator: ",", omittingEmptySubsequences: false) {
                    let paused = id.hasPrefix("~")
                    let rid = paused ? id.dropFirst() : id
                    guard !rid.isEmpty else { throw Invalid("empty rid in '\(parts[index + 1])'") }
                    stream.append(SimulcastStream(rid: String(rid), paused: paused))
                }
                streams.append(stream)
            }
            if direction == "send" { result.send = streams } else { result.receive = streams }
        }
        return result
    }

    var text: String {
        func list(_ streams: [[SimulcastStream]]) -> String {
            streams.map { $0.map(\.text).joined(separator: ",") }.joined(separator: ";")
        }
        var parts: [String] = []
        if !send.isEmpty { parts.append("send " + list(send)) }
        if !receive.isEmpty { parts.append("recv " + list(receive)) }
        return parts.joined(separator: " ")
    }
}
