/// One `m=` section and everything that belongs to it.

/// The media type of an `m=` line. A struct so unknown types (text, message)
/// are kept rather than rejected.
public struct MediaKind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let audio = MediaKind(rawValue: "audio")
    public static let video = MediaKind(rawValue: "video")
    public static let application = MediaKind(rawValue: "application")

    public var description: String { rawValue }
}

/// `c=IN IP4 0.0.0.0`.
public struct Connection: Sendable, Equatable, Hashable {
    public var networkType: String
    public var addressType: String
    /// The address as written, including any multicast /ttl suffix.
    public var address: String

    public init(networkType: String = "IN", addressType: String = "IP4", address: String = "0.0.0.0") {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    static func parse(_ text: Substring) throws(Invalid) -> Connection {
        let parts = text.fields
        guard parts.count == 3 else { throw Invalid("expected '<nettype> <addrtype> <address>'") }
        return Connection(networkType: String(parts[0]), addressType: String(parts[1]), address: String(parts[2]))
    }

    var text: String { "\(networkType) \(addressType) \(address)" }
}

/// `b=AS:256` (kbit/s) or `b=TIAS:256000` (bit/s, RFC 3890).
public struct Bandwidth: Sendable, Equatable, Hashable {
    public var type: String
    public var value: UInt64

    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }

    static func parse(_ text: Substring) throws(Invalid) -> Bandwidth {
        let (type, value) = text.splitOnce(":")
        guard !type.isEmpty, let value else { throw Invalid("expected '<type>:<value>'") }
        return Bandwidth(type: String(type), value: try number(value, "bandwidth", as: UInt64.self))
    }

    var text: String { "\(type):\(value)" }
}

public struct MediaDescription: Sendable, Equatable, Hashable {
    public var kind: MediaKind
    /// 9 (the discard port) in bundled WebRTC sections, 0 for a rejected section.
    public var port: UInt16
    /// The optional `/<number of ports>` after the port.
    public var portCount: UInt16?
    /// e.g. "UDP/TLS/RTP/SAVPF" or "UDP/DTLS/SCTP".
    public var proto: String
    /// Formats as written: payload types for RTP, "webrtc-datachannel" for SCTP.
    public var formats: [String]
    public var connection: Connection?
    public var bandwidths: [Bandwidth]

    public var mid: String?
    /// nil when the section has no direction attribute (sendrecv is implied).
    public var direction: Direction?
    public var rtcpMux: Bool
    public var rtcpMuxOnly: Bool
    public var rtcpReducedSize: Bool
    public var extmapAllowMixed: Bool

    public var iceUfrag: String?
    public var icePwd: String?
    public var iceOptions: [String]?
    /// Every `a=fingerprint` in order: RFC 8122 allows several (aiortc sends sha-256, -384 and -512).
    public var fingerprints: [Fingerprint]
    public var setup: SetupRole?
    public var candidates: [Candidate]
    public var endOfCandidates: Bool

    public var rtpMaps: [RTPMap]
    public var fmtps: [FMTP]
    public var rtcpFeedback: [RTCPFeedback]
    public var extMaps: [ExtMap]
    public var ssrcs: [SSRCAttribute]
    public var ssrcGroups: [SSRCGroup]
    public var msids: [MediaStreamID]
    public var rids: [RID]
    public var simulcast: Simulcast?

    public var sctpPort: UInt16?
    public var maxMessageSize: UInt64?

    /// Attributes not interpreted above, in the order written.
    public var attributes: [Attribute]
    /// Lines other than c=, b= and a= (i=, k=, unknown types), in order.
    public var otherLines: [OtherLine]

    public init(
        kind: MediaKind, port: UInt16 = 9, portCount: UInt16? = nil, proto: String, formats: [String],
        connection: Connection? = nil, bandwidths: [Bandwidth] = [], mid: String? = nil, direction: Direction? = nil,
        rtcpMux: Bool = false, rtcpMuxOnly: Bool = false, rtcpReducedSize: Bool = false, extmapAllowMixed: Bool = false,
        iceUfrag: String? = nil, icePwd: String? = nil, iceOptions: [String]? = nil,
        fingerprint: Fingerprint? = nil, setup: SetupRole? = nil,
        candidates: [Candidate] = [], endOfCandidates: Bool = false,
        rtpMaps: [RTPMap] = [], fmtps: [FMTP] = [], rtcpFeedback: [RTCPFeedback] = [], extMaps: [ExtMap] = [],
        ssrcs: [SSRCAttribute] = [], ssrcGroups: [SSRCGroup] = [], msids: [MediaStreamID] = [],
        rids: [RID] = [], simulcast: Simulcast? = nil, sctpPort: UInt16? = nil, maxMessageSize: UInt64? = nil,
        attributes: [Attribute] = [], otherLines: [OtherLine] = []
    ) {
        self.kind = kind
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.connection = connection
        self.bandwidths = bandwidths
        self.mid = mid
        self.direction = direction
        self.rtcpMux = rtcpMux
        self.rtcpMuxOnly = rtcpMuxOnly
        self.rtcpReducedSize = rtcpReducedSize
        self.extmapAllowMixed = extmapAllowMixed
        self.iceUfrag = iceUfrag
        self.icePwd = icePwd
        self.iceOptions = iceOptions
        self.fingerprints = fingerprint.map { [$0] } ?? []
        self.setup = setup
        self.candidates = candidates
        self.endOfCandidates = endOfCandidates
        self.rtpMaps = rtpMaps
        self.fmtps = fmtps
        self.rtcpFeedback = rtcpFeedback
        self.extMaps = extMaps
        self.ssrcs = ssrcs
        self.ssrcGroups = ssrcGroups
        self.msids = msids
        self.rids = rids
        self.simulcast = simulcast
        self.sctpPort = sctpPort
        self.maxMessageSize = maxMessageSize
        self.attributes = attributes
        self.otherLines = otherLines
    }

    /// Whether the section carries RTP, so rtpmap/fmtp/rtcp-fb name payload types.
    /// Other protocols (SCTP data channels) keep those attributes verbatim.
    public var isRTP: Bool { proto.uppercased().contains("RTP") }

    /// A rejected section (port 0), which an answer must keep in place.
    public var isRejected: Bool { port == 0 }

    /// The direction in effect, sendrecv when no attribute says otherwise.
    public var effectiveDirection: Direction { direction ?? .sendrecv }

    /// The numeric formats, i.e. the RTP payload types in preference order.
    public var payloadTypes: [UInt8] { isRTP ? formats.compactMap { decimal($0, as: UInt8.self) } : [] }

    /// The first fingerprint; setting it replaces them all.
    public var fingerprint: Fingerprint? {
        get { fingerprints.first }
        set { fingerprints = newValue.map { [$0] } ?? [] }
    }

    /// The first uninterpreted attribute named `name`, e.g. "rtcp".
    public func attribute(_ name: String) -> Attribute? { attributes.first { $0.name == name } }
}
