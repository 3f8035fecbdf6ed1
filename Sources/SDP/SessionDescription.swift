/// A whole SDP offer or answer (RFC 8866), as browsers send it under JSEP
/// (RFC 8829) and as the SFU answers it.

/// `o=<username> <sess-id> <sess-version> IN IP4 <address>`.
public struct Origin: Sendable, Equatable, Hashable {
    public var username: String
    public var sessionID: UInt64
    /// Incremented on every renegotiation by the side that wrote it.
    public var sessionVersion: UInt64
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(username: String = "-", sessionID: UInt64, sessionVersion: UInt64 = 1,
                networkType: String = "IN", addressType: String = "IP4", address: String = "127.0.0.1") {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    static func parse(_ text: Substring) throws(Invalid) -> Origin {
        let parts = text.fields
        guard parts.count == 6 else {
            throw Invalid("expected '<username> <session id> <version> <nettype> <addrtype> <address>'")
        }
        return Origin(
            username: String(parts[0]),
            sessionID: try number(parts[1], "session id", as: UInt64.self),
            sessionVersion: try number(parts[2], "session version", as: UInt64.self),
            networkType: String(parts[3]), addressType: String(parts[4]), address: String(parts[5]))
    }

    var text: String {
        "\(username) \(sessionID) \(sessionVersion) \(networkType) \(addressType) \(address)"
    }
}

/// `t=0 0`: WebRTC sessions are unbounded, but the line is mandatory.
public struct Timing: Sendable, Equatable, Hashable {
    public var start: UInt64
    public var stop: UInt64

    public init(start: UInt64 = 0, stop: UInt64 = 0) {
        self.start = start
        self.stop = stop
    }

    static func parse(_ text: Substring) throws(Invalid) -> Timing {
        let parts = text.fields
        guard parts.count == 2 else { throw Invalid("expected '<start> <stop>'") }
        return Timing(start: try number(parts[0], "start time", as: UInt64.self),
                      stop: try number(parts[1], "stop time", as: UInt64.self))
    }

    var text: String { "\(start) \(stop)" }
}

public struct SessionDescription: Sendable, Equatable, Hashable {
    public var origin: Origin
    public var sessionName: String
    public var timing: Timing
    public var connection: Connection?
    public var bandwidths: [Bandwidth]

    public var groups: [Group]
    public var iceLite: Bool
    public var msidSemantic: MsidSemantic?
    public var extmapAllowMixed: Bool
    /// Session-level defaults; a media section's own value wins.
    public var direction: Direction?
    public var iceUfrag: String?
    public var icePwd: String?
    public var iceOptions: [String]?
    /// Every session-level `a=fingerprint` in order (RFC 8122 allows several).
    public var fingerprints: [Fingerprint]
    public var setup: SetupRole?

    /// Session attributes not interpreted above, in the order written.
    public var attributes: [Attribute]
    /// Session lines other than v, o, s, t, c, b and a, in order.
    public var otherLines: [OtherLine]
    public var media: [MediaDescription]

    public init(
        origin: Origin, sessionName: String = "-", timing: Timing = Timing(), connection: Connection? = nil,
        bandwidths: [Bandwidth] = [], groups: [Group] = [], iceLite: Bool = false, msidSemantic: MsidSemantic? = nil,
        extmapAllowMixed: Bool = false, direction: Direction? = nil, iceUfrag: String? = nil, icePwd: String? = nil,
        iceOptions: [String]? = nil, fingerprint: Fingerprint? = nil, setup: SetupRole? = nil,
        attributes: [Attribute] = [], otherLines: [OtherLine] = [], media: [MediaDescription] = []
    ) {
        self.origin = origin
        self.sessionName = sessionName
        self.timing = timing
        self.connection = connection
        self.bandwidths = bandwidths
        self.groups = groups
        self.iceLite = iceLite
        self.msidSemantic = msidSemantic
        self.extmapAllowMixed = extmapAllowMixed
        self.direction = direction
        self.iceUfrag = iceUfrag
        self.icePwd = icePwd
        self.iceOptions = iceOptions
        self.fingerprints = fingerprint.map { [$0] } ?? []
        self.setup = setup
        self.attributes = attributes
        self.otherLines = otherLines
        self.media = media
    }

    /// The first session-level fingerprint; setting it replaces them all.
    public var fingerprint: Fingerprint? {
        get { fingerprints.first }
        set { fingerprints = newValue.map { [$0] } ?? [] }
    }

    /// The section with this `a=mid`, as BUNDLE groups and RTP `mid` header extensions name them.
    public func mediaDescription(mid: String) -> MediaDescription? {
        media.first { $0.mid == mid }
    }

    /// The mids of the first BUNDLE group; the first is the bundle tag whose transport everything shares.
    public var bundleMids: [String]? {
        groups.first { $0.semantics.uppercased() == "BUNDLE" }?.mids
    }

    /// The DTLS fingerprint for a section: its own, else the session-level one.
    public func fingerprint(for media: MediaDescription) -> Fingerprint? { media.fingerprint ?? fingerprint }
    /// All DTLS fingerprints for a section: its own, else the session-level ones.
    public func fingerprints(for media: MediaDescription) -> [Fingerprint] {
        media.fingerprints.isEmpty ? fingerprints : media.fingerprints
    }
    /// The DTLS role for a section: its own, else the session-level one.
    public func setup(for media: MediaDescription) -> SetupRole? { media.setup ?? setup }
    /// ICE username fragment and password for a section, falling back to session level.
    public func iceCredentials(for media: MediaDescription) -> (ufrag: String, pwd: String)? {
        guard let ufrag = media.iceUfrag ?? iceUfrag, let pwd = media.icePwd ?? icePwd else { return nil }
        return (ufrag, pwd)
    }
}

/// Attributes allowed both at session and media level, so the parser and
/// serializer handle them once for both.
protocol SharedAttributes {
    var direction: Direction? { get set }
    var extmapAllowMixed: Bool { get set }
    var iceUfrag: String? { get set }
    var icePwd: String? { get set }
    var iceOptions: [String]? { get set }
    var fingerprints: [Fingerprint] { get set }
    var setup: SetupRole? { get set }
}

extension SessionDescription: SharedAttributes {}
extension MediaDescription: SharedAttributes {}
