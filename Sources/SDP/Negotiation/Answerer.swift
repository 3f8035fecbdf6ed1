/// Answers a browser's offer the way Janus does: ICE-lite, one BUNDLE transport with rtcp-mux,
/// one codec per m-line, every m-line kept in place (rejected ones with port 0).
public enum Answerer {
    /// - Parameters:
    ///   - direction: what the server wants on each offered line (a publisher's lines: `.recvonly`);
    ///     the answer uses this narrowed to what the offer allows.
    ///   - localStreams: what the server sends on a line, asked only when the answer sends there.
    /// - Returns: the answer, and one `NegotiatedMedia` per accepted line in m-line order.
    public static func answer(
        offer: SessionDescription, local: LocalTransport, codecs: CodecPreferences = CodecPreferences(),
        direction: (MediaDescription) -> Direction, localStreams: (MediaDescription) -> LocalStream?,
        sessionID: UInt64, sessionVersion: UInt64 = 1
    ) throws(SDPNegotiationError) -> (answer: SessionDescription, media: [NegotiatedMedia]) {
        guard let bundle = offer.bundleMids else { throw .noBundle }
        try offer.checkUniqueMids()
        var answer = SessionDescription.local(local, sessionID: sessionID, version: sessionVersion)
        var negotiated: [NegotiatedMedia] = []
        for (index, section) in offer.media.enumerated() {
            guard let codec = acceptableCodec(section, codecs) else {
                answer.media.append(.rejected(answering: section))
                continue
            }
            let mid = try checkBundled(section, index: index, bundle: bundle)
            let line = LineAnswer(offer: offer, section: section, mid: mid, index: index, codec: codec, local: local)
            let (answered, media) = try line.answer(direction: direction(section), localStreams: localStreams)
            answer.media.append(answered)
            negotiated.append(media)
        }
        guard !negotiated.isEmpty else { throw .noAcceptableMedia }
        answer.groups = [Group(semantics: "BUNDLE", mids: negotiated.map(\.mid))]
        return (answer, negotiated)
    }

    /// The codec for a line Confab takes, nil for a line it rejects: one not in use, not audio
    /// or video (data channels are not supported yet), not DTLS-SRTP, or without a shared codec.
    private static func acceptableCodec(_ section: MediaDescription, _ codecs: CodecPreferences) -> Codec? {
        guard section.isInUse, section.kind == .audio || section.kind == .video, section.isSecureRTP else { return nil }
        return section.preferredCodec(codecs)
    }

    /// An accepted line must be part of the one bundled, RTCP-multiplexed transport.
    private static func checkBundled(_ section: MediaDescription, index: Int, bundle: [String]) throws(SDPNegotiationError) -> String {
        guard let mid = section.mid else { throw .missingMid(mLineIndex: index) }
        guard bundle.contains(mid) else { throw .notBundled(mid: mid) }
        guard section.rtcpMux else { throw .noRTCPMux(mid: mid) }
        return mid
    }
}

/// The answer to one accepted m-line.
private struct LineAnswer {
    let offer: SessionDescription
    let section: MediaDescription
    let mid: String
    let index: Int
    let codec: Codec
    let local: LocalTransport

    func answer(direction wanted: Direction,
                localStreams: (MediaDescription) -> LocalStream?) throws(SDPNegotiationError) -> (MediaDescription, NegotiatedMedia) {
        let transport = try offer.remoteTransport(for: section, mid: mid) { remote in
            SetupRole.answering(remote, preferring: local.setup)
        }
        let direction = wanted.intersection(section.effectiveDirection.reversed)
        var answered = MediaDescription.bundled(kind: section.kind, proto: section.proto, mid: mid, direction: direction,
                                                local: local, setup: transport.localSetup)
        answered.rtcpReducedSize = section.rtcpReducedSize
        answered.extMaps = section.answeredExtMaps(direction: direction)
        let negotiatedCodec = NegotiatedCodec(offered: codec, in: section)
        answered.addCodec(negotiatedCodec)
        if direction.sends, let stream = localStreams(section) {
            answered.addLocalStream(stream, withRTX: negotiatedCodec.rtxPayloadType != nil)
        }
        let extensions = NegotiatedExtensions(answered.extMaps)
        let simulcast = acceptedSimulcast(direction: direction, extensions: extensions)
        if !simulcast.isEmpty {
            answered.rids = simulcast.map { RID(id: $0.rid, direction: .recv) }
            answered.simulcast = Simulcast(receive: simulcast.map { [$0] })
        }
        var media = NegotiatedMedia(
            mid: mid, mLineIndex: index, kind: section.kind, direction: direction, localDirection: direction,
            codec: negotiatedCodec, extensions: extensions, rtcpReducedSize: section.rtcpReducedSize, transport: transport)
        media.readRemoteMedia(section, simulcast: simulcast)
        return (answered, media)
    }

    /// The offered send layers Confab receives: it must receive on this line, and rid-based
    /// simulcast needs the rtp-stream-id extension to tell the layers apart.
    private func acceptedSimulcast(direction: Direction, extensions: NegotiatedExtensions) -> [SimulcastStream] {
        guard direction.receives, extensions.rid != nil else { return [] }
        return section.sentSimulcastStreams
    }
}
