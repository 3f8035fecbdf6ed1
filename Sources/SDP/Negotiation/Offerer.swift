/// Offers the server makes itself, as Janus does for VideoRoom subscribers: one m-line per
/// forwarded track, each with exactly the codec the publisher negotiated, so packets can be
/// forwarded without transcoding; then reading the browser's answer to such an offer.

/// One m-line of a server-originated offer.
public struct OfferStream: Sendable, Hashable {
    public var mid: String
    public var kind: MediaKind
    public var codec: NegotiatedCodec
    /// Header extensions to offer. Within one BUNDLE group a URI must have one id everywhere.
    public var extensions: NegotiatedExtensions
    /// What the server sends here; announced only when `direction` sends.
    public var stream: LocalStream?
    /// `.sendonly` to forward, `.inactive` to keep the line (and m-line order) while nothing is sent.
    public var direction: Direction

    public init(mid: String, kind: MediaKind, codec: NegotiatedCodec, extensions: NegotiatedExtensions = NegotiatedExtensions(),
                stream: LocalStream?, direction: Direction = .sendonly) {
        self.mid = mid
        self.kind = kind
        self.codec = codec
        self.extensions = extensions
        self.stream = stream
        self.direction = direction
    }

    /// Forwards what a publisher negotiated: its codec, RTX and feedback, and its header
    /// extensions except the rid ones, since a subscriber gets one layer on one SSRC.
    public init(mid: String, forwarding publisher: NegotiatedMedia, stream: LocalStream?, direction: Direction = .sendonly) {
        var extensions = publisher.extensions
        extensions.rid = nil
        extensions.repairedRid = nil
        self.init(mid: mid, kind: publisher.kind, codec: publisher.codec, extensions: extensions,
                  stream: stream, direction: direction)
    }
}

public enum Offerer {
    /// A complete offer: ICE-lite, every line bundled with rtcp-mux and the whole transport,
    /// `local.setup` (actpass) for DTLS, candidates and end-of-candidates on every line.
    public static func offer(streams: [OfferStream], local: LocalTransport, sessionID: UInt64,
                             version: UInt64) throws(SDPNegotiationError) -> SessionDescription {
        guard !streams.isEmpty else { throw .noStreams }
        try checkUnique(streams.map(\.mid))
        try checkExtensionIDs(streams)
        var offer = SessionDescription.local(local, sessionID: sessionID, version: version)
        offer.groups = [Group(semantics: "BUNDLE", mids: streams.map(\.mid))]
        offer.media = streams.map { section(for: $0, local: local) }
        return offer
    }

    /// Reads the browser's answer to `offer` (an offer from `offer(streams:...)`).
    /// - Returns: one `NegotiatedMedia` per line the answer accepts, in m-line order; rejected
    ///   lines (port 0) are left out. `localDirection` is the server's side of each line.
    public static func applyAnswer(answer: SessionDescription,
                                   offer: SessionDescription) throws(SDPNegotiationError) -> [NegotiatedMedia] {
        guard answer.media.count == offer.media.count else {
            throw .mediaCountMismatch(offered: offer.media.count, answered: answer.media.count)
        }
        var negotiated: [NegotiatedMedia] = []
        for (index, (offered, answered)) in zip(offer.media, answer.media).enumerated() {
            guard let mid = offered.mid else { throw .missingMid(mLineIndex: index) }
            guard answered.mid == mid else { throw .midMismatch(mLineIndex: index, offered: mid, answered: answered.mid) }
            guard offered.isInUse, answered.isInUse else { continue }
            let line = AnsweredLine(offered: offered, answered: answered, answer: answer, mid: mid, index: index)
            negotiated.append(try line.negotiated())
        }
        try checkBundled(negotiated.map(\.mid), in: answer)
        return negotiated
    }

    private static func section(for stream: OfferStream, local: LocalTransport) -> MediaDescription {
        var section = MediaDescription.bundled(kind: stream.kind, proto: "UDP/TLS/RTP/SAVPF", mid: stream.mid,
                                               direction: stream.direction, local: local, setup: local.setup)
        section.rtcpReducedSize = true
        section.extMaps = stream.extensions.extMaps(for: stream.kind)
        section.addCodec(stream.codec)
        if stream.direction.sends, let sent = stream.stream {
            section.addLocalStream(sent, withRTX: stream.codec.rtxPayloadType != nil)
        }
        return section
    }

    /// RFC 8843 section 9.1: bundled m-lines share one id space for header extensions.
    private static func checkExtensionIDs(_ streams: [OfferStream]) throws(SDPNegotiationError) {
        var idForType: [HeaderExtension: UInt8] = [:]
        var typeForID: [UInt8: HeaderExtension] = [:]
        for stream in streams {
            for map in stream.extensions.extMaps(for: stream.kind) {
                guard let type = HeaderExtension(rawValue: map.uri) else { continue }
                let id = UInt8(map.id)
                if idForType[type, default: id] != id || typeForID[id, default: type] != type {
                    throw .conflictingExtensionID(mid: stream.mid, uri: type.uri, id: id)
                }
                idForType[type] = id
                typeForID[id] = type
            }
        }
    }

    /// Every accepted line must be in the answer's BUNDLE group: Confab has one transport.
    private static func checkBundled(_ mids: [String], in answer: SessionDescription) throws(SDPNegotiationError) {
        guard !mids.isEmpty else { return }
        guard let bundle = answer.bundleMids else { throw .noBundle }
        for mid in mids where !bundle.contains(mid) { throw .notBundled(mid: mid) }
    }
}

/// One line of a browser's answer, checked against what the server offered.
private struct AnsweredLine {
    let offered: MediaDescription
    let answered: MediaDescription
    let answer: SessionDescription
    let mid: String
    let index: Int

    func negotiated() throws(SDPNegotiationError) -> NegotiatedMedia {
        guard answered.rtcpMux else { throw .noRTCPMux(mid: mid) }
        let direction = answered.effectiveDirection
        guard direction.isAllowedAnswer(to: offered.effectiveDirection) else {
            throw .directionNotAllowed(mid: mid, offered: offered.effectiveDirection, answered: direction)
        }
        // The answerer picked its role; the server takes the other one.
        let transport = try answer.remoteTransport(for: answered, mid: mid) { remote in
            switch remote {
            case .active: .passive
            case .passive: .active
            case .actpass, .holdconn: nil
            }
        }
        var media = NegotiatedMedia(
            mid: mid, mLineIndex: index, kind: offered.kind, direction: direction, localDirection: direction.reversed,
            codec: try codec(), extensions: NegotiatedExtensions(acceptedExtMaps),
            rtcpReducedSize: offered.rtcpReducedSize && answered.rtcpReducedSize, transport: transport)
        media.readRemoteMedia(answered, simulcast: answered.sentSimulcastStreams)
        return media
    }

    /// The first answered payload type the server offered (RTX aside), described as offered
    /// since that is what the server sends; RTX and feedback only where both sides have them.
    private func codec() throws(SDPNegotiationError) -> NegotiatedCodec {
        let offeredCodecs = offered.codecs.filter { !$0.isRTX }
        guard let pt = answered.payloadTypes.first(where: { pt in offeredCodecs.contains { $0.payloadType == pt } }),
              let codec = offeredCodecs.first(where: { $0.payloadType == pt }) else {
            throw .codecNotOffered(mid: mid)
        }
        var negotiated = NegotiatedCodec(offered: codec, in: offered)
        let answeredFeedback = answered.rtcpFeedback.filter { $0.payloadType == nil || $0.payloadType == pt }
        negotiated.feedback.formIntersection(NegotiatedFeedback(answeredFeedback))
        if let rtx = negotiated.rtxPayloadType, !answered.payloadTypes.contains(rtx) || !negotiated.feedback.contains(.nack) {
            negotiated.rtxPayloadType = nil
        }
        return negotiated
    }

    /// Answered extmaps that match an offered one by id and URI (RFC 8285: the answer may only
    /// keep or drop what was offered).
    private var acceptedExtMaps: [ExtMap] {
        answered.extMaps.filter { map in offered.extMaps.contains { $0.id == map.id && $0.uri == map.uri } }
    }
}
