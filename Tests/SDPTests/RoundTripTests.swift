import Testing
@testable import SDP

@Suite struct RoundTripTests {
    static let fixtures = [Fixtures.chromeOffer, Fixtures.firefoxOffer, Fixtures.janusAnswer]

    @Test(arguments: fixtures)
    func roundTrips(_ text: String) throws {
        let parsed = try SessionDescription.parse(text)
        let written = parsed.serialized()
        #expect(try SessionDescription.parse(written) == parsed)
        // Writing is deterministic, so a second pass is byte-identical.
        #expect(try SessionDescription.parse(written).serialized() == written)
        #expect(written.hasSuffix("\r\n"))
        #expect(!written.replacingOccurrences("\r\n", "").contains("\n"))
    }

    @Test func janusAnswerOrder() throws {
        let written = try SessionDescription.parse(Fixtures.janusAnswer).serialized()
        let lines = written.split(separator: "\r\n").map(String.init)
        #expect(Array(lines.prefix(7)) == [
            "v=0", "o=- 4611731400430051336 2 IN IP4 203.0.113.10", "s=VideoRoom 1234", "t=0 0",
            "a=ice-lite", "a=group:BUNDLE 0 1", "a=msid-semantic: WMS *",
        ])
        #expect(lines[7] == "m=audio 9 UDP/TLS/RTP/SAVPF 111")
        #expect(lines[8] == "c=IN IP4 203.0.113.10")
        #expect(lines.last == "a=end-of-candidates")
    }

    @Test func builtAnswerSerializes() throws {
        let fingerprint = Fingerprint(hashFunction: "sha-256", bytes: Array(repeating: 0xAB, count: 32))
        var audio = MediaDescription(kind: .audio, proto: "UDP/TLS/RTP/SAVPF", formats: ["111"],
                                     connection: Connection(address: "198.51.100.5"), mid: "0", direction: .recvonly,
                                     rtcpMux: true, iceUfrag: "u", icePwd: "p", fingerprint: fingerprint, setup: .passive)
        audio.rtpMaps = [RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2)]
        audio.fmtps = [FMTP(payloadType: 111, parameters: [FormatParameter(key: "useinbandfec", value: "1")])]
        audio.candidates = [Candidate(foundation: "1", component: 1, transport: "udp", priority: 2015363327,
                                      address: "198.51.100.5", port: 20000, type: .host)]
        audio.endOfCandidates = true
        let answer = SessionDescription(origin: Origin(sessionID: 42), groups: [Group(semantics: "BUNDLE", mids: ["0"])],
                                        iceLite: true, msidSemantic: MsidSemantic(semantic: "WMS", identifiers: ["*"]),
                                        media: [audio])
        let expected = [
            "v=0", "o=- 42 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=ice-lite", "a=group:BUNDLE 0", "a=msid-semantic: WMS *",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 198.51.100.5",
            "a=ice-ufrag:u", "a=ice-pwd:p", "a=fingerprint:sha-256 " + Array(repeating: "AB", count: 32).joined(separator: ":"),
            "a=setup:passive", "a=mid:0", "a=recvonly", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 useinbandfec=1",
            "a=candidate:1 1 udp 2015363327 198.51.100.5 20000 typ host", "a=end-of-candidates",
        ].map { $0 + "\r\n" }.joined()
        #expect(answer.serialized() == expected)
        #expect(try SessionDescription.parse(expected) == answer)
    }
}

extension String {
    /// Foundation-free replace, so the test target needs nothing beyond the stdlib.
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
