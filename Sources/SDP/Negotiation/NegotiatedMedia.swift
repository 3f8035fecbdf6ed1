/// The result of a negotiation, one value per accepted m-line: what the media path needs to
/// send, receive and route packets, without going back to SDP text.

/// Everything known about one accepted m-line once offer and answer agree.
public struct NegotiatedMedia: Sendable, Hashable {
    public var mid: String
    /// Position of the m-line in the description (rejected lines count too).
    public var mLineIndex: Int
    public var kind: MediaKind
    /// The answer's direction as written in the answer.
    public var direction: Direction
    /// The server's own direction: the answer's when Confab answered, its reverse when the
    /// browser answered a Confab offer. `.recvonly` means Confab only receives on this line.
    public var localDirection: Direction
    public var codec: NegotiatedCodec
    /// Header extension ids agreed for this line (the offer's ids).
    public var extensions: NegotiatedExtensions
    /// Both sides accept reduced-size RTCP (`a=rtcp-rsize`, RFC 5506).
    public var rtcpReducedSize: Bool
    /// SSRCs the remote side announced and will send (empty when Confab does not receive here,
    /// and for rid-based simulcast, which announces none).
    public var remoteSources: [RemoteSource]
    /// The `a=ssrc-group:SIM` list, lowest layer first, when the remote uses SSRC simulcast.
    public var remoteSimulcastSSRCs: [UInt32]
    /// Simulcast layers the remote sends and Confab accepted, in the remote's `a=simulcast` order.
    public var simulcastRIDs: [String]
    public var remoteMsid: MediaStreamID?
    /// The bundled transport this line uses.
    public var transport: NegotiatedTransport

    public init(mid: String, mLineIndex: Int, kind: MediaKind, direction: Direction, localDirection: Direction,
                codec: NegotiatedCodec, extensions: NegotiatedExtensions = NegotiatedExtensions(),
                rtcpReducedSize: Bool = false, remoteSources: [RemoteSource] = [], remoteSimulcastSSRCs: [UInt32] = [],
                simulcastRIDs: [String] = [], remoteMsid: MediaStreamID? = nil, transport: NegotiatedTransport) {
        self.mid = mid
        self.mLineIndex = mLineIndex
        self.kind = kind
        self.direction = direction
        self.localDirection = localDirection
        self.codec = codec
        self.extensions = extensions
        self.rtcpReducedSize = rtcpReducedSize
        self.remoteSources = remoteSources
        self.remoteSimulcastSSRCs = remoteSimulcastSSRCs
        self.simulcastRIDs = simulcastRIDs
        self.remoteMsid = remoteMsid
        self.transport = transport
    }
}

/// The single codec of an m-line, and its retransmission format.
public struct NegotiatedCodec: Sendable, Hashable {
    public var payloadType: UInt8
    public var name: String
    public var clockRate: UInt32
    public var channels: UInt16?
    /// The fmtp parameters as written after the payload type, "" when there are none.
    public var fmtp: String
    /// The RTX payload type (RFC 4588, `apt=` this codec); only with NACK, which RTX answers.
    public var rtxPayloadType: UInt8?
    public var feedback: NegotiatedFeedback

    public init(payloadType: UInt8, name: String, clockRate: UInt32, channels: UInt16? = nil, fmtp: String = "",
                rtxPayloadType: UInt8? = nil, feedback: NegotiatedFeedback = []) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.fmtp = fmtp
        self.rtxPayloadType = rtxPayloadType
        self.feedback = feedback
    }

    public var fmtpParameters: [FormatParameter] { FormatParameter.list(Substring(fmtp)) }
}

/// The RTCP feedback messages Confab acts on (RFC 4585, RFC 5104, REMB, transport-cc).
public struct NegotiatedFeedback: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let nack = NegotiatedFeedback(rawValue: 1 << 0)
    public static let nackPli = NegotiatedFeedback(rawValue: 1 << 1)
    public static let ccmFir = NegotiatedFeedback(rawValue: 1 << 2)
    public static let googRemb = NegotiatedFeedback(rawValue: 1 << 3)
    public static let transportCC = NegotiatedFeedback(rawValue: 1 << 4)

    /// `a=rtcp-fb` type and subtype for each flag, in the order Janus writes them.
    static let lines: [(flag: NegotiatedFeedback, type: String, subtype: String?)] = [
        (.ccmFir, "ccm", "fir"), (.nack, "nack", nil), (.nackPli, "nack", "pli"),
        (.googRemb, "goog-remb", nil), (.transportCC, "transport-cc", nil),
    ]

    /// The supported subset of `feedback`; anything else (e.g. `nack rpsi`) is dropped.
    public init(_ feedback: [RTCPFeedback]) {
        self = []
        for item in feedback {
            if let line = Self.lines.first(where: { $0.type == item.type && $0.subtype == item.subtype }) {
                insert(line.flag)
            }
        }
    }

    /// The `a=rtcp-fb` attributes for these flags on one payload type.
    func attributes(payloadType: UInt8) -> [RTCPFeedback] {
        Self.lines.filter { contains($0.flag) }.map {
            RTCPFeedback(payloadType: payloadType, type: $0.type, subtype: $0.subtype)
        }
    }
}

/// RTP header extensions (RFC 8285) Confab reads or writes; the rest are not negotiated.
public enum HeaderExtension: String, CaseIterable, Sendable {
    case mid = "urn:ietf:params:rtp-hdrext:sdes:mid"
    case rid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
    case repairedRid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
    case audioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    case absSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    case transportCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    case videoOrientation = "urn:3gpp:video-orientation"
    case playoutDelay = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

    public var uri: String { rawValue }

    /// Audio levels only mean something on audio, orientation and playout delay on video.
    func applies(to kind: MediaKind) -> Bool {
        switch self {
        case .audioLevel: kind == .audio
        case .videoOrientation, .playoutDelay: kind == .video
        default: true
        }
    }

    /// Ids Confab accepts: the one-byte header form (RFC 8285 section 4.2). Two-byte ids would
    /// need `a=extmap-allow-mixed`, which Confab does not negotiate.
    static let usableIDs: ClosedRange<UInt16> = 1...14
}

/// The negotiated id of each header extension, nil when it was not negotiated.
public struct NegotiatedExtensions: Sendable, Hashable {
    public var mid: UInt8?
    public var rid: UInt8?
    public var repairedRid: UInt8?
    public var audioLevel: UInt8?
    public var absSendTime: UInt8?
    public var transportCC: UInt8?
    public var videoOrientation: UInt8?
    public var playoutDelay: UInt8?

    public init(mid: UInt8? = nil, rid: UInt8? = nil, repairedRid: UInt8? = nil, audioLevel: UInt8? = nil,
                absSendTime: UInt8? = nil, transportCC: UInt8? = nil, videoOrientation: UInt8? = nil,
                playoutDelay: UInt8? = nil) {
        self.mid = mid
        self.rid = rid
        self.repairedRid = repairedRid
        self.audioLevel = audioLevel
        self.absSendTime = absSendTime
        self.transportCC = transportCC
        self.videoOrientation = videoOrientation
        self.playoutDelay = playoutDelay
    }

    /// The ids of the known extensions among `extMaps`; the first map of a URI wins.
    init(_ extMaps: [ExtMap]) {
        self.init()
        for map in extMaps {
            guard let known = HeaderExtension(rawValue: map.uri), self[known] == nil,
                  HeaderExtension.usableIDs.contains(map.id) else { continue }
            self[known] = UInt8(map.id)
        }
    }

    public subscript(_ extensionType: HeaderExtension) -> UInt8? {
        get {
            switch extensionType {
            case .mid: mid
            case .rid: rid
            case .repairedRid: repairedRid
            case .audioLevel: audioLevel
            case .absSendTime: absSendTime
            case .transportCC: transportCC
            case .videoOrientation: videoOrientation
            case .playoutDelay: playoutDelay
            }
        }
        set {
            switch extensionType {
            case .mid: mid = newValue
            case .rid: rid = newValue
            case .repairedRid: repairedRid = newValue
            case .audioLevel: audioLevel = newValue
            case .absSendTime: absSendTime = newValue
            case .transportCC: transportCC = newValue
            case .videoOrientation: videoOrientation = newValue
            case .playoutDelay: playoutDelay = newValue
            }
        }
    }

    /// `a=extmap` lines for the ids set here that apply to `kind`, by id.
    func extMaps(for kind: MediaKind) -> [ExtMap] {
        HeaderExtension.allCases
            .compactMap { type in self[type].map { (type, $0) } }
            .filter { $0.0.applies(to: kind) }
            .sorted { $0.1 < $1.1 }
            .map { ExtMap(id: UInt16($0.1), uri: $0.0.uri) }
    }
}

/// One SSRC the remote side sends, with its retransmission SSRC (`a=ssrc-group:FID`).
public struct RemoteSource: Sendable, Hashable {
    public var ssrc: UInt32
    public var rtxSSRC: UInt32?
    public var cname: String?

    public init(ssrc: UInt32, rtxSSRC: UInt32? = nil, cname: String? = nil) {
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.cname = cname
    }
}

/// The bundled ICE/DTLS transport as negotiated: what the server checks the browser against.
public struct NegotiatedTransport: Sendable, Hashable {
    public var remoteUfrag: String
    public var remotePwd: String
    /// The remote certificate's sha-256 fingerprint when offered, else its first one.
    public var remoteFingerprint: Fingerprint
    /// `.passive`: Confab is the DTLS server; `.active`: Confab starts the handshake.
    public var localSetup: SetupRole

    public init(remoteUfrag: String, remotePwd: String, remoteFingerprint: Fingerprint, localSetup: SetupRole) {
        self.remoteUfrag = remoteUfrag
        self.remotePwd = remotePwd
        self.remoteFingerprint = remoteFingerprint
        self.localSetup = localSetup
    }
}
