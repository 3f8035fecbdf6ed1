/// Why an offer could not be answered, an offer could not be built, or an answer does not fit
/// the offer. The descriptions are complete sentences for Janus's 465 "Error parsing SDP" style
/// replies, which browsers' apps show or log as they are.
public enum SDPNegotiationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No `a=group:BUNDLE`: Confab sends everything over one transport.
    case noBundle
    /// An m-line Confab would accept is outside the BUNDLE group.
    case notBundled(mid: String)
    /// An m-line Confab would accept lacks `a=rtcp-mux`.
    case noRTCPMux(mid: String)
    /// An m-line Confab would accept has no `a=mid`, so BUNDLE cannot name it.
    case missingMid(mLineIndex: Int)
    case duplicateMid(String)
    case missingICECredentials(mid: String)
    case missingFingerprint(mid: String)
    /// `a=setup` the other side may not use here (holdconn, or actpass in an answer).
    case invalidSetup(mid: String, role: SetupRole)
    /// Every m-line was rejected, so there is nothing to connect.
    case noAcceptableMedia
    /// `Offerer.offer` was given no streams.
    case noStreams
    /// Two bundled m-lines give one header extension two ids, or one id two extensions.
    case conflictingExtensionID(mid: String, uri: String, id: UInt8)
    /// The answer's m-line count differs from the offer's.
    case mediaCountMismatch(offered: Int, answered: Int)
    /// The answer's m-line at this index does not carry the offer's mid.
    case midMismatch(mLineIndex: Int, offered: String, answered: String?)
    /// The answer accepts an m-line but none of the offered payload types.
    case codecNotOffered(mid: String)
    /// The answer's direction is not one the offer allows (e.g. sendrecv to a sendonly offer).
    case directionNotAllowed(mid: String, offered: Direction, answered: Direction)

    public var description: String {
        switch self {
        case .noBundle:
            "no a=group:BUNDLE: Confab only supports bundled media (bundlePolicy max-bundle or balanced)"
        case .notBundled(let mid):
            "m-line with mid \(mid) is not in the BUNDLE group: Confab only supports bundled media"
        case .noRTCPMux(let mid):
            "m-line with mid \(mid) has no a=rtcp-mux: Confab only supports multiplexed RTCP"
        case .missingMid(let index):
            "m-line \(index) has no a=mid, which BUNDLE needs"
        case .duplicateMid(let mid):
            "mid \(mid) is used by more than one m-line"
        case .missingICECredentials(let mid):
            "m-line with mid \(mid) has no a=ice-ufrag/a=ice-pwd"
        case .missingFingerprint(let mid):
            "m-line with mid \(mid) has no a=fingerprint for DTLS"
        case .invalidSetup(let mid, let role):
            "m-line with mid \(mid) has a=setup:\(role.rawValue), which is not allowed here"
        case .noAcceptableMedia:
            "no audio or video m-line with a codec Confab supports"
        case .noStreams:
            "an offer needs at least one stream"
        case .conflictingExtensionID(let mid, let uri, let id):
            "m-line with mid \(mid) maps extension id \(id) and \(uri) differently from another bundled m-line"
        case .mediaCountMismatch(let offered, let answered):
            "the answer has \(answered) m-lines, the offer \(offered)"
        case .midMismatch(let index, let offered, let answered):
            "answer m-line \(index) has mid \(answered ?? "(none)"), the offer's has mid \(offered)"
        case .codecNotOffered(let mid):
            "the answer for mid \(mid) accepts none of the offered payload types"
        case .directionNotAllowed(let mid, let offered, let answered):
            "the answer for mid \(mid) is \(answered.rawValue), which does not fit an offer that is \(offered.rawValue)"
        }
    }
}
