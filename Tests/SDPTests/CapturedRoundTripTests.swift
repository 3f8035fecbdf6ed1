import Testing
@testable import SDP

/// The SDPs scripts/capture-sdp.py captured from Chromium and aiortc survive parse → serialize → parse.
@Suite struct CapturedRoundTripTests {
    static let names = CapturedSDPs.all.map(\.name)

    static func text(_ name: String) -> String {
        CapturedSDPs.all.first { $0.name == name }?.sdp ?? ""
    }

    @Test(arguments: names)
    func roundTrips(_ name: String) throws {
        let parsed = try SessionDescription.parse(Fixtures.crlf(Self.text(name)))
        let written = parsed.serialized()
        #expect(try SessionDescription.parse(written) == parsed)
        #expect(try SessionDescription.parse(written).serialized() == written)
        #expect(parsed.media.count >= 2)
    }

    @Test func everyFingerprintIsKept() throws {
        // aiortc writes sha-256, sha-384 and sha-512 on every m-line (RFC 8122 allows several).
        let aiortc = try SessionDescription.parse(CapturedSDPs.aiortcOffer)
        for section in aiortc.media {
            #expect(section.fingerprints.map(\.hashFunction) == ["sha-256", "sha-384", "sha-512"])
            #expect(section.fingerprint?.hashFunction == "sha-256")
        }
        let written = aiortc.serialized()
        #expect(written.split(separator: "\r\n").filter { $0.hasPrefix("a=fingerprint:") }.count == 6)
    }

    @Test func capturedShapes() throws {
        let chromium = try SessionDescription.parse(CapturedSDPs.chromiumOffer)
        #expect(chromium.media.map(\.kind) == [.audio, .video, .application])
        #expect(chromium.bundleMids == ["0", "1", "2"])
        // Loopback only: the script runs the browsers in a namespace that has nothing else.
        #expect(chromium.media.flatMap(\.candidates).allSatisfy { $0.address == "127.0.0.1" })

        let simulcast = try SessionDescription.parse(CapturedSDPs.chromiumSimulcastOffer)
        let video = try #require(simulcast.mediaDescription(mid: "1"))
        #expect(video.rids.map(\.id) == ["q", "h", "f"])
        #expect(video.simulcast?.send.map { $0.map(\.rid) } == [["q"], ["h"], ["f"]])
        #expect(video.ssrcs.isEmpty)

        let answer = try SessionDescription.parse(CapturedSDPs.chromiumAnswer)
        #expect(answer.msidSemantic == MsidSemantic(semantic: "WMS"))
        #expect(answer.media.map(\.setup) == [.active, .active])
    }
}
