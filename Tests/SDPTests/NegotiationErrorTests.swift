import Testing
@testable import SDP

/// Offers Confab refuses, with the error and the sentence a Janus 465 reply would carry.
@Suite struct NegotiationErrorTests {
    static let chromium = CapturedSDPs.chromiumOffer

    static func refusal(_ text: String) -> SDPNegotiationError? {
        Server.negotiationError { _ = try Server.publish(text) }
    }

    @Test func offerWithoutBundleIsRefused() {
        let error = Self.refusal(Self.chromium.removingLines(startingWith: "a=group:BUNDLE"))
        #expect(error == .noBundle)
        #expect(error?.description == "no a=group:BUNDLE: Confab only supports bundled media (bundlePolicy max-bundle or balanced)")
    }

    @Test func acceptedLineOutsideBundleIsRefused() {
        let text = Self.chromium.replacingLine("a=group:BUNDLE 0 1 2", with: "a=group:BUNDLE 0 2")
        #expect(Self.refusal(text) == .notBundled(mid: "1"))
    }

    @Test func lineWithoutRTCPMuxIsRefused() {
        let error = Self.refusal(Self.chromium.removingLines(startingWith: "a=rtcp-mux"))
        #expect(error == .noRTCPMux(mid: "0"))
        #expect(error?.description == "m-line with mid 0 has no a=rtcp-mux: Confab only supports multiplexed RTCP")
    }

    @Test func rejectedLinesNeedNoRTCPMux() throws {
        // The data channel never has rtcp-mux; it is rejected before that matters.
        let (_, media) = try Server.publish(Self.chromium)
        #expect(media.count == 2)
    }

    @Test func missingTransport() {
        #expect(Self.refusal(Self.chromium.removingLines(startingWith: "a=ice-ufrag")) == .missingICECredentials(mid: "0"))
        #expect(Self.refusal(Self.chromium.removingLines(startingWith: "a=fingerprint")) == .missingFingerprint(mid: "0"))
        let holdconn = Self.chromium.replacingLine("a=setup:actpass", with: "a=setup:holdconn")
        #expect(Self.refusal(holdconn) == .invalidSetup(mid: "0", role: .holdconn))
    }

    @Test func midRules() {
        #expect(Self.refusal(Self.chromium.replacingLine("a=mid:1", with: "a=mid:0")) == .duplicateMid("0"))
        #expect(Self.refusal(Self.chromium.removingLines(startingWith: "a=mid:1")) == .missingMid(mLineIndex: 1))
    }

    @Test func nothingAcceptable() {
        let error = Server.negotiationError {
            _ = try Server.publish(Self.chromium, codecs: CodecPreferences(audio: ["G711"], video: ["H265"]))
        }
        #expect(error == .noAcceptableMedia)
        let insecure = Self.chromium.replacingOccurrences("UDP/TLS/RTP/SAVPF", "RTP/AVP")
        #expect(Self.refusal(insecure) == .noAcceptableMedia)
    }

    @Test func everyErrorReadsAsASentence() {
        let errors: [SDPNegotiationError] = [
            .noBundle, .notBundled(mid: "1"), .noRTCPMux(mid: "0"), .missingMid(mLineIndex: 2), .duplicateMid("0"),
            .missingICECredentials(mid: "0"), .missingFingerprint(mid: "0"), .invalidSetup(mid: "0", role: .holdconn),
            .noAcceptableMedia, .noStreams, .conflictingExtensionID(mid: "1", uri: "urn:x", id: 3),
            .mediaCountMismatch(offered: 2, answered: 1), .midMismatch(mLineIndex: 0, offered: "0", answered: nil),
            .codecNotOffered(mid: "0"), .directionNotAllowed(mid: "0", offered: .sendonly, answered: .sendrecv),
        ]
        for error in errors {
            #expect(!error.description.isEmpty && !error.description.hasSuffix("."))
        }
        #expect(SDPNegotiationError.directionNotAllowed(mid: "0", offered: .sendonly, answered: .sendrecv).description
                == "the answer for mid 0 is sendrecv, which does not fit an offer that is sendonly")
    }
}
