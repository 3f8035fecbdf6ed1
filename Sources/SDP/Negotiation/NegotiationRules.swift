/// The small rules of RFC 3264, RFC 8842 and JSEP (RFC 8829) both negotiation directions share.

extension Direction {
    public init(sends: Bool, receives: Bool) {
        switch (sends, receives) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// What both directions allow: sendrecv ∩ recvonly is recvonly, sendonly ∩ recvonly inactive.
    public func intersection(_ other: Direction) -> Direction {
        Direction(sends: sends && other.sends, receives: receives && other.receives)
    }

    /// Whether an answer may use this direction for an m-line offered as `offered`: it may only
    /// send what the offerer receives and receive what the offerer sends (RFC 3264 section 6.1).
    public func isAllowedAnswer(to offered: Direction) -> Bool {
        intersection(offered.reversed) == self
    }
}

extension SetupRole {
    /// The answerer's DTLS role for an offered one (RFC 8842 section 5.3): actpass leaves the
    /// choice to the answerer (`preferred` when it is active or passive, else passive), active
    /// and passive leave it the opposite. nil for holdconn, which WebRTC does not use.
    static func answering(_ offered: SetupRole, preferring preferred: SetupRole) -> SetupRole? {
        switch offered {
        case .actpass: preferred == .active ? .active : .passive
        case .active: .passive
        case .passive: .active
        case .holdconn: nil
        }
    }
}

extension MediaDescription {
    /// Offered for use: a port, or port 0 with `a=bundle-only` (JSEP's max-bundle offers mark
    /// all but the first bundled line that way; port 0 alone means the line is rejected).
    var isInUse: Bool { port != 0 || isBundleOnly }

    var isBundleOnly: Bool { attribute("bundle-only") != nil }

    /// Secure RTP with feedback, as DTLS-SRTP requires ("UDP/TLS/RTP/SAVPF", older "RTP/SAVPF").
    var isSecureRTP: Bool {
        let upper = proto.uppercased()
        return upper.hasSuffix("RTP/SAVPF") || upper.hasSuffix("RTP/SAVP")
    }
}

extension SessionDescription {
    func checkUniqueMids() throws(SDPNegotiationError) {
        try checkUnique(media.compactMap(\.mid))
    }

    /// The first section of the BUNDLE group, whose transport the others share.
    var bundleTag: MediaDescription? {
        guard let mid = bundleMids?.first else { return nil }
        return mediaDescription(mid: mid)
    }

    /// The remote ICE and DTLS parameters for a section, and the server's DTLS role given the
    /// role the remote wrote (`localRole` maps remote to local; nil marks a role not allowed).
    /// A section without its own transport attributes uses the BUNDLE tag's (RFC 8843 section
    /// 7.2: bundled sections after the first may leave them out).
    func remoteTransport(for section: MediaDescription, mid: String,
                         localRole: (SetupRole) -> SetupRole?) throws(SDPNegotiationError) -> NegotiatedTransport {
        let tag = bundleTag
        guard let credentials = iceCredentials(for: section) ?? tag.flatMap({ iceCredentials(for: $0) }) else {
            throw .missingICECredentials(mid: mid)
        }
        var offered = fingerprints(for: section)
        if offered.isEmpty, let tag { offered = fingerprints(for: tag) }
        // sha-256 is what every browser offers and what Confab's DTLS checks.
        let sha256 = offered.first { $0.hashFunction.lowercased() == "sha-256" }
        guard let fingerprint = sha256 ?? offered.first else { throw .missingFingerprint(mid: mid) }
        // JSEP offers always carry a=setup; actpass is the only sensible reading of none.
        let remoteRole = setup(for: section) ?? tag.flatMap { setup(for: $0) } ?? .actpass
        guard let role = localRole(remoteRole) else { throw .invalidSetup(mid: mid, role: remoteRole) }
        return NegotiatedTransport(remoteUfrag: credentials.ufrag, remotePwd: credentials.pwd,
                                   remoteFingerprint: fingerprint, localSetup: role)
    }
}

func checkUnique(_ mids: [String]) throws(SDPNegotiationError) {
    var seen: Set<String> = []
    for mid in mids where !seen.insert(mid).inserted { throw .duplicateMid(mid) }
}
