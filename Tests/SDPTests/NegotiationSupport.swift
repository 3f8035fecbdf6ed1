@testable import SDP

/// The server side every negotiation test uses, and small helpers to edit offers as text.
enum Server {
    static let fingerprint = Fingerprint(hashFunction: "sha-256", bytes: (0..<32).map { UInt8($0 * 7) })
    static let candidate = Candidate(foundation: "1", component: 1, transport: "udp", priority: 2015363327,
                                     address: "127.0.0.1", port: 10000, type: .host)
    static let transport = LocalTransport(ufrag: "cnfb", pwd: "Confab0123456789abcdef", fingerprint: fingerprint,
                                          candidates: [candidate])
    static let audioStream = LocalStream(ssrc: 1111, cname: "confab", streamID: "confab-7", trackID: "confab-7-audio")
    static let videoStream = LocalStream(ssrc: 2222, rtxSSRC: 3333, cname: "confab", streamID: "confab-7",
                                         trackID: "confab-7-video")

    /// A VideoRoom publisher: Confab only receives, so it announces no streams.
    static func publish(_ text: String, codecs: CodecPreferences = CodecPreferences(),
                        local: LocalTransport = transport) throws -> (answer: SessionDescription, media: [NegotiatedMedia]) {
        try Answerer.answer(offer: try SessionDescription.parse(text), local: local, codecs: codecs,
                            direction: { _ in .recvonly }, localStreams: { _ in nil }, sessionID: 42)
    }

    /// An EchoTest-like peer: Confab sends and receives on every line.
    static func echo(_ text: String, codecs: CodecPreferences = CodecPreferences()) throws -> (answer: SessionDescription, media: [NegotiatedMedia]) {
        try Answerer.answer(offer: try SessionDescription.parse(text), local: transport, codecs: codecs,
                            direction: { _ in .sendrecv },
                            localStreams: { $0.kind == .audio ? audioStream : videoStream }, sessionID: 42)
    }

    /// The negotiation error `body` throws, nil when it throws none or another error.
    static func negotiationError(_ body: () throws -> Void) -> SDPNegotiationError? {
        do {
            try body()
            return nil
        } catch {
            return error as? SDPNegotiationError
        }
    }
}

extension String {
    /// The text without the lines that start with `prefix`.
    func removingLines(startingWith prefix: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix(prefix) }.joined(separator: "\n")
    }

    /// The text with every line equal to `line` replaced.
    func replacingLine(_ line: String, with replacement: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0 == line ? replacement : String($0) }.joined(separator: "\n")
    }
}

extension MediaDescription {
    /// The offered FID pair as the remote source the negotiation should report.
    var fidSource: RemoteSource? {
        guard let pair = ssrcGroups.first(where: { $0.semantics == "FID" }) else { return nil }
        return RemoteSource(ssrc: pair.ssrcs[0], rtxSSRC: pair.ssrcs[1],
                            cname: ssrcs.first { $0.ssrc == pair.ssrcs[0] && $0.name == "cname" }?.value)
    }
}
