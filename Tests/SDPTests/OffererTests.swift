import Testing
@testable import SDP

/// Server-originated offers (VideoRoom subscribers) and the browsers' answers to them.
@Suite struct OffererTests {
    /// A subscriber offer forwarding what a Chromium publisher negotiated.
    static func subscriberOffer(videoDirection: Direction = .sendonly) throws -> (offer: SessionDescription, publisher: [NegotiatedMedia]) {
        let publisher = try Server.publish(CapturedSDPs.chromiumOffer).media
        let streams = [
            OfferStream(mid: "0", forwarding: publisher[0], stream: Server.audioStream),
            OfferStream(mid: "1", forwarding: publisher[1], stream: Server.videoStream, direction: videoDirection),
        ]
        return (try Offerer.offer(streams: streams, local: Server.transport, sessionID: 77, version: 3), publisher)
    }

    @Test func offerLines() throws {
        let (offer, publisher) = try Self.subscriberOffer()
        #expect(offer.origin == Origin(sessionID: 77, sessionVersion: 3, address: "127.0.0.1"))
        #expect(offer.iceLite)
        #expect(offer.groups == [Group(semantics: "BUNDLE", mids: ["0", "1"])])
        let audio = offer.media[0], video = offer.media[1]
        for section in offer.media {
            #expect(section.setup == .actpass && section.direction == .sendonly)
            #expect(section.proto == "UDP/TLS/RTP/SAVPF" && section.port == 9)
            #expect(section.rtcpMux && section.rtcpReducedSize)
            #expect(section.candidates == [Server.candidate] && section.endOfCandidates)
        }
        #expect(audio.formats == ["111"])
        #expect(audio.codec(payloadType: 111)?.parameters.map(\.key) == ["minptime", "useinbandfec"])
        #expect(video.formats == ["96", "97"])
        #expect(video.rtxPayloadType(for: 96) == 97)
        #expect(NegotiatedFeedback(video.codec(payloadType: 96)?.feedback ?? []) == publisher[1].codec.feedback)
        // The publisher's ids, by id, without the rid extensions a single forwarded layer lacks.
        #expect(audio.extMaps.map(\.id) == [1, 2, 3, 4])
        #expect(video.extMaps.map(\.id) == [2, 3, 4, 5, 13])
        #expect(video.ssrcGroups == [SSRCGroup(semantics: "FID", ssrcs: [2222, 3333])])
        #expect(video.msids == [MediaStreamID(streamID: "confab-7", trackID: "confab-7-video")])
        #expect(audio.ssrcs.map(\.text) == ["1111 cname:confab", "1111 msid:confab-7 confab-7-audio"])
        #expect(try SessionDescription.parse(offer.serialized()) == offer)
    }

    @Test func inactiveLineAnnouncesNothing() throws {
        let (offer, _) = try Self.subscriberOffer(videoDirection: .inactive)
        #expect(offer.media[1].direction == .inactive)
        #expect(offer.media[1].ssrcs.isEmpty && offer.media[1].msids.isEmpty && offer.media[1].ssrcGroups.isEmpty)
        #expect(offer.bundleMids == ["0", "1"])
    }

    static let handMadeAnswer = """
    v=0
    o=- 5555 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0 1
    a=msid-semantic: WMS
    m=audio 9 UDP/TLS/RTP/SAVPF 111
    c=IN IP4 0.0.0.0
    a=ice-ufrag:brws
    a=ice-pwd:browserpassword0123456
    a=fingerprint:sha-256 3C:4D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD
    a=setup:active
    a=mid:0
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=recvonly
    a=rtcp-mux
    a=rtpmap:111 opus/48000/2
    a=rtcp-fb:111 transport-cc
    a=fmtp:111 minptime=10;useinbandfec=1
    m=video 9 UDP/TLS/RTP/SAVPF 96 97
    c=IN IP4 0.0.0.0
    a=ice-ufrag:brws
    a=ice-pwd:browserpassword0123456
    a=fingerprint:sha-256 3C:4D:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD
    a=setup:active
    a=mid:1
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:13 urn:3gpp:video-orientation
    a=recvonly
    a=rtcp-mux
    a=rtcp-rsize
    a=rtpmap:96 VP8/90000
    a=rtcp-fb:96 nack
    a=rtcp-fb:96 nack pli
    a=rtcp-fb:96 transport-cc
    a=rtpmap:97 rtx/90000
    a=fmtp:97 apt=96

    """

    @Test func roundTripWithHandMadeAnswer() throws {
        let (offer, _) = try Self.subscriberOffer()
        let reparsed = try SessionDescription.parse(offer.serialized())
        let media = try Offerer.applyAnswer(answer: try SessionDescription.parse(Self.handMadeAnswer), offer: reparsed)
        #expect(media.map(\.mid) == ["0", "1"])
        #expect(media.map(\.direction) == [.recvonly, .recvonly])
        #expect(media.map(\.localDirection) == [.sendonly, .sendonly])
        let audio = media[0], video = media[1]
        #expect(audio.codec == NegotiatedCodec(payloadType: 111, name: "opus", clockRate: 48000, channels: 2,
                                               fmtp: "minptime=10;useinbandfec=1", feedback: [.transportCC]))
        #expect(video.codec == NegotiatedCodec(payloadType: 96, name: "VP8", clockRate: 90000, rtxPayloadType: 97,
                                               feedback: [.nack, .nackPli, .transportCC]))
        #expect(audio.extensions == NegotiatedExtensions(mid: 4, audioLevel: 1))
        #expect(video.extensions == NegotiatedExtensions(mid: 4, videoOrientation: 13))
        #expect(media.map(\.rtcpReducedSize) == [false, true])
        #expect(video.transport.remoteUfrag == "brws" && video.transport.localSetup == .passive)
        #expect(video.remoteSources.isEmpty && video.remoteMsid == nil)
    }

    // MARK: Real answers to the script's Janus-style offer

    @Test func chromiumAnswer() throws {
        let offer = try SessionDescription.parse(CapturedSDPs.janusStyleOffer)
        let answer = try SessionDescription.parse(CapturedSDPs.chromiumAnswer)
        let media = try Offerer.applyAnswer(answer: answer, offer: offer)
        #expect(media.map(\.mid) == ["0", "1"])
        #expect(media.map(\.localDirection) == [.sendonly, .sendonly])
        #expect(media.allSatisfy { $0.transport.localSetup == .passive })  // Chromium answers active
        #expect(media[0].codec == NegotiatedCodec(payloadType: 111, name: "opus", clockRate: 48000, channels: 2,
                                                  fmtp: "minptime=10;useinbandfec=1"))
        #expect(media[1].codec == NegotiatedCodec(payloadType: 96, name: "VP8", clockRate: 90000, rtxPayloadType: 97,
                                                  feedback: [.nack, .nackPli, .ccmFir, .googRemb, .transportCC]))
        #expect(media[0].extensions == NegotiatedExtensions(mid: 1, audioLevel: 2))
        #expect(media[1].extensions == NegotiatedExtensions(mid: 1, transportCC: 3, videoOrientation: 4))
        #expect(media.map(\.rtcpReducedSize) == [false, true])
        #expect(media[0].transport.remoteUfrag == answer.media[0].iceUfrag)
    }

    @Test func aiortcAnswer() throws {
        let offer = try SessionDescription.parse(CapturedSDPs.janusStyleOffer)
        let answer = try SessionDescription.parse(CapturedSDPs.aiortcAnswer)
        let media = try Offerer.applyAnswer(answer: answer, offer: offer)
        #expect(media.map(\.direction) == [.recvonly, .recvonly])
        #expect(media[1].codec == NegotiatedCodec(payloadType: 96, name: "VP8", clockRate: 90000, rtxPayloadType: 97,
                                                  feedback: [.nack, .nackPli, .googRemb]))
        #expect(media[0].extensions == NegotiatedExtensions(mid: 1, audioLevel: 2))
        #expect(media[1].extensions == NegotiatedExtensions(mid: 1))
        #expect(media.allSatisfy { !$0.rtcpReducedSize && $0.transport.localSetup == .passive })
        // aiortc announces SSRCs even when it only receives; Confab receives nothing here.
        #expect(!answer.media[1].ssrcs.isEmpty)
        #expect(media.allSatisfy { $0.remoteSources.isEmpty })
    }

    // MARK: Refusals

    @Test func offerRefusals() throws {
        let publisher = try Server.publish(CapturedSDPs.chromiumOffer).media
        func refusal(_ streams: [OfferStream]) -> SDPNegotiationError? {
            Server.negotiationError { _ = try Offerer.offer(streams: streams, local: Server.transport, sessionID: 1, version: 1) }
        }
        #expect(refusal([]) == .noStreams)
        let audio = OfferStream(mid: "a", forwarding: publisher[0], stream: nil)
        #expect(refusal([audio, audio]) == .duplicateMid("a"))
        // A Firefox publisher's mid id (3) next to a Chromium one's (4): one URI, two ids.
        var firefoxLike = OfferStream(mid: "v", forwarding: publisher[1], stream: nil)
        firefoxLike.extensions = NegotiatedExtensions(mid: 3)
        #expect(refusal([audio, firefoxLike]) == .conflictingExtensionID(mid: "v", uri: HeaderExtension.mid.uri, id: 3))
        // One id, two URIs.
        firefoxLike.extensions = NegotiatedExtensions(mid: 4, absSendTime: 1)
        #expect(refusal([audio, firefoxLike]) == .conflictingExtensionID(mid: "v", uri: HeaderExtension.absSendTime.uri, id: 1))
    }

    @Test func answerRefusals() throws {
        let (offer, _) = try Self.subscriberOffer()
        let good = try SessionDescription.parse(Self.handMadeAnswer)
        func refusal(_ edit: (inout SessionDescription) -> Void) -> SDPNegotiationError? {
            var answer = good
            edit(&answer)
            return Server.negotiationError { _ = try Offerer.applyAnswer(answer: answer, offer: offer) }
        }
        #expect(refusal { $0.media.removeLast() } == .mediaCountMismatch(offered: 2, answered: 1))
        #expect(refusal { $0.media[1].mid = "x" } == .midMismatch(mLineIndex: 1, offered: "1", answered: "x"))
        #expect(refusal { $0.media[1].direction = .sendrecv }
                == .directionNotAllowed(mid: "1", offered: .sendonly, answered: .sendrecv))
        #expect(refusal { $0.media[1].formats = ["100"] } == .codecNotOffered(mid: "1"))
        #expect(refusal { $0.media[0].setup = .actpass } == .invalidSetup(mid: "0", role: .actpass))
        #expect(refusal { $0.groups = [] } == .noBundle)
        #expect(refusal { $0.media[0].rtcpMux = false } == .noRTCPMux(mid: "0"))
        #expect(refusal { $0.media[1].fingerprints = []; $0.media[0].fingerprints = [] } == .missingFingerprint(mid: "0"))
    }

    @Test func rejectedAnswerLineIsLeftOut() throws {
        let (offer, _) = try Self.subscriberOffer()
        var answer = try SessionDescription.parse(Self.handMadeAnswer)
        answer.media[1].port = 0
        answer.groups = [Group(semantics: "BUNDLE", mids: ["0"])]
        let media = try Offerer.applyAnswer(answer: answer, offer: offer)
        #expect(media.map(\.mid) == ["0"])
    }
}
