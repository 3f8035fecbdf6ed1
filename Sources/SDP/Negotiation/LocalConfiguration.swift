/// What the server brings to a negotiation: its ICE/DTLS transport, the codecs it forwards and
/// the streams it sends.

/// The server's side of the one bundled transport. Confab is ICE-lite with all candidates known
/// up front, so every description it writes is complete (`a=end-of-candidates`, no trickle).
public struct LocalTransport: Sendable, Hashable {
    public var ufrag: String
    public var pwd: String
    /// The sha-256 fingerprint of the DTLS certificate.
    public var fingerprint: Fingerprint
    /// The role written in offers (`actpass`). In answers the role follows the offer; when the
    /// offer is actpass this picks it if it is `active` or `passive`, otherwise Confab is passive.
    public var setup: SetupRole
    public var candidates: [Candidate]
    public var iceLite: Bool
    public var endOfCandidates: Bool

    public init(ufrag: String, pwd: String, fingerprint: Fingerprint, setup: SetupRole = .actpass,
                candidates: [Candidate] = [], iceLite: Bool = true, endOfCandidates: Bool = true) {
        self.ufrag = ufrag
        self.pwd = pwd
        self.fingerprint = fingerprint
        self.setup = setup
        self.candidates = candidates
        self.iceLite = iceLite
        self.endOfCandidates = endOfCandidates
    }

    /// `c=` for every section: the first candidate's address, as Janus writes it, else the
    /// "no address yet" 0.0.0.0 of JSEP.
    var connection: Connection {
        guard let address = candidates.first?.address else { return Connection() }
        return Connection(addressType: address.contains(":") ? "IP6" : "IP4", address: address)
    }
}

/// A stream the server sends on one m-line (a forwarded publisher track).
public struct LocalStream: Sendable, Hashable {
    public var ssrc: UInt32
    /// The retransmission SSRC, announced with `a=ssrc-group:FID` when RTX is negotiated.
    public var rtxSSRC: UInt32?
    public var cname: String
    public var streamID: String
    public var trackID: String

    public init(ssrc: UInt32, rtxSSRC: UInt32? = nil, cname: String, streamID: String, trackID: String) {
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.cname = cname
        self.streamID = streamID
        self.trackID = trackID
    }
}

/// Codec names in the server's order of preference. An SFU forwards what publishers send, so
/// it picks exactly one codec per m-line, the one subscribers are most likely to decode.
public struct CodecPreferences: Sendable, Hashable {
    public var audio: [String]
    public var video: [String]
    /// H.264 profile-level-ids, best first; constrained baseline decodes everywhere.
    public var h264ProfileLevelIDs: [String]

    public init(audio: [String] = ["opus"], video: [String] = ["VP8", "VP9", "H264", "AV1"],
                h264ProfileLevelIDs: [String] = ["42e01f", "42001f"]) {
        self.audio = audio
        self.video = video
        self.h264ProfileLevelIDs = h264ProfileLevelIDs
    }

    func names(for kind: MediaKind) -> [String] {
        switch kind {
        case .audio: audio
        case .video: video
        default: []
        }
    }
}
