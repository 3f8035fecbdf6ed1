import Testing
@testable import SDP

/// Answers to real browser offers (Chromium, Firefox ESR and aiortc captured; an older hand-written
/// Firefox fixture too).
@Suite struct AnswererTests {
    // MARK: Chromium

    @Test func chromiumPublisher() throws {
        let offer = try SessionDescription.parse(CapturedSDPs.chromiumOffer)
        let (answer, media) = try Server.publish(CapturedSDPs.chromiumOffer)

        #expect(answer.groups == [Group(semantics: "BUNDLE", mids: ["0", "1"])])
        #expect(answer.iceLite)
        #expect(answer.msidSemantic == MsidSemantic(semantic: "WMS", identifiers: ["*"]))
        #expect(answer.media.map(\.mid) == ["0", "1", "2"])
        #expect(media.map(\.mid) == ["0", "1"])
        #expect(media.map(\.mLineIndex) == [0, 1])

        let audio = media[0], video = media[1]
        #expect(audio.codec == NegotiatedCodec(payloadType: 111, name: "opus", clockRate: 48000, channels: 2,
                                               fmtp: "minptime=10;useinbandfec=1", feedback: [.transportCC]))
        #expect(video.codec == NegotiatedCodec(payloadType: 96, name: "VP8", clockRate: 90000, rtxPayloadType: 97,
                                               feedback: [.nack, .nackPli, .ccmFir, .googRemb, .transportCC]))
        #expect(audio.extensions == NegotiatedExtensions(mid: 4, audioLevel: 1, absSendTime: 2, transportCC: 3))
        #expect(video.extensions == NegotiatedExtensions(mid: 4, rid: 10, repairedRid: 11, absSendTime: 2, transportCC: 3,
                                                         videoOrientation: 13, playoutDelay: 5))
        // Offer sendrecv, server wants recvonly: recvonly.
        #expect(media.map(\.direction) == [.recvonly, .recvonly])
        #expect(media.map(\.localDirection) == [.recvonly, .recvonly])
        #expect(media.allSatisfy { $0.rtcpReducedSize })

        let offeredVideo = try #require(offer.mediaDescription(mid: "1"))
        #expect(video.remoteSources == [try #require(offeredVideo.fidSource)])
        #expect(audio.remoteSources.count == 1 && audio.remoteSources[0].rtxSSRC == nil)
        #expect(video.remoteMsid == offeredVideo.msids.first)
        #expect(video.simulcastRIDs.isEmpty)

        let offeredAudio = try #require(offer.media.first)
        #expect(audio.transport == NegotiatedTransport(remoteUfrag: try #require(offeredAudio.iceUfrag),
                                                       remotePwd: try #require(offeredAudio.icePwd),
                                                       remoteFingerprint: try #require(offeredAudio.fingerprint),
                                                       localSetup: .passive))
    }

    @Test func chromiumAnswerLines() throws {
        let (answer, _) = try Server.publish(CapturedSDPs.chromiumOffer)
        let audio = answer.media[0], video = answer.media[1]
        for section in [audio, video] {
            #expect(section.port == 9)
            #expect(section.connection == Connection(address: "127.0.0.1"))
            #expect(section.setup == .passive)
            #expect(section.iceUfrag == "cnfb" && section.icePwd == "Confab0123456789abcdef")
            #expect(section.fingerprint == Server.fingerprint)
            #expect(section.candidates == [Server.candidate] && section.endOfCandidates)
            #expect(section.rtcpMux && section.rtcpReducedSize)
            #expect(section.direction == .recvonly)
            // Receive only: nothing announced.
            #expect(section.ssrcs.isEmpty && section.msids.isEmpty)
        }
        #expect(audio.formats == ["111"])
        #expect(video.formats == ["96", "97"])
        #expect(video.rtpMaps == [RTPMap(payloadType: 96, encodingName: "VP8", clockRate: 90000),
                                  RTPMap(payloadType: 97, encodingName: "rtx", clockRate: 90000)])
        #expect(video.fmtps == [FMTP(payloadType: 97, parameters: [FormatParameter(key: "apt", value: "96")])])
        #expect(video.rtcpFeedback.map(\.text) == ["96 ccm fir", "96 nack", "96 nack pli", "96 goog-remb", "96 transport-cc"])
        // Known URIs only, offer's ids and order: toffset, video-content-type, timing, color-space dropped.
        #expect(video.extMaps.map(\.id) == [2, 13, 3, 5, 4, 10, 11])
        #expect(video.extMaps.allSatisfy { $0.direction == nil })

        let written = answer.serialized()
        #expect(try SessionDescription.parse(written) == answer)
        let lines = written.split(separator: "\r\n").map(String.init)
        #expect(Array(lines.prefix(7)) == ["v=0", "o=- 42 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=ice-lite",
                                           "a=group:BUNDLE 0 1", "a=msid-semantic: WMS *"])
        #expect(lines.filter { $0 == "a=end-of-candidates" }.count == 2)
    }

    @Test func rejectedDataChannel() throws {
        let (answer, media) = try Server.publish(CapturedSDPs.chromiumOffer)
        let data = answer.media[2]
        #expect(data.kind == .application)
        #expect(data.port == 0)
        #expect(data.mid == "2")
        #expect(data.proto == "UDP/DTLS/SCTP" && data.formats == ["webrtc-datachannel"])
        #expect(data.candidates.isEmpty && data.iceUfrag == nil && data.fingerprint == nil && data.sctpPort == nil)
        #expect(!media.contains { $0.mid == "2" })
        #expect(answer.serialized().contains("\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"))
    }

    @Test func chromiumEcho() throws {
        let (answer, media) = try Server.echo(CapturedSDPs.chromiumOffer)
        #expect(media.map(\.direction) == [.sendrecv, .sendrecv])
        let audio = answer.media[0], video = answer.media[1]
        #expect(audio.msids == [MediaStreamID(streamID: "confab-7", trackID: "confab-7-audio")])
        #expect(audio.ssrcs.map(\.text) == ["1111 cname:confab", "1111 msid:confab-7 confab-7-audio"])
        #expect(audio.ssrcGroups.isEmpty)
        #expect(video.ssrcGroups == [SSRCGroup(semantics: "FID", ssrcs: [2222, 3333])])
        #expect(video.ssrcs.map(\.ssrc) == [2222, 2222, 3333, 3333])
        #expect(try SessionDescription.parse(answer.serialized()) == answer)
    }

    @Test func codecPreferences() throws {
        func video(_ text: String, _ names: [String], h264: [String] = ["42e01f", "42001f"]) throws -> NegotiatedCodec {
            let codecs = CodecPreferences(video: names, h264ProfileLevelIDs: h264)
            return try #require(try Server.publish(text, codecs: codecs).media.first { $0.kind == .video }).codec
        }
        let chromium = CapturedSDPs.chromiumOffer
        // Constrained baseline with packetization-mode=1, not the mode-0 twin listed first.
        let h264 = try video(chromium, ["H264"])
        #expect(h264.payloadType == 108 && h264.rtxPayloadType == 109)
        #expect(h264.fmtp == "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
        #expect(try video(chromium, ["H264"], h264: ["42001f"]).payloadType == 102)
        #expect(try video(chromium, ["h264"], h264: ["640032"]).payloadType == 102)  // any mode-1 H264 before mode 0
        let vp9 = try video(chromium, ["VP9"])
        #expect(vp9.payloadType == 98 && vp9.fmtp == "profile-id=0" && vp9.rtxPayloadType == 99)
        #expect(try video(chromium, ["AV1", "VP8"]).payloadType == 45)
        #expect(try video(chromium, ["H265", "VP9"]).payloadType == 98)
        #expect(try video(CapturedSDPs.aiortcOffer, ["H264"]).payloadType == 101)
    }

    @Test func noCommonCodecRejectsTheLine() throws {
        let (answer, media) = try Server.publish(CapturedSDPs.chromiumOffer, codecs: CodecPreferences(video: ["H265"]))
        #expect(media.map(\.mid) == ["0"])
        #expect(answer.media.map(\.port) == [9, 0, 0])
        #expect(answer.bundleMids == ["0"])
        #expect(answer.media[1].formats.first == "96")
    }

    // MARK: Firefox (captured from Firefox ESR 153)

    @Test func capturedFirefoxPublisher() throws {
        let (answer, media) = try Server.publish(CapturedSDPs.firefoxOffer)
        // Audio, video and a data channel offered: the data channel is refused with port 0.
        #expect(answer.groups == [Group(semantics: "BUNDLE", mids: ["0", "1"])])
        #expect(answer.media.map(\.mid) == ["0", "1", "2"])
        #expect(answer.media[2].port == 0)
        #expect(media.map(\.mid) == ["0", "1"])
        #expect(media[0].codec.name == "opus" && media[0].codec.payloadType == 109)
        #expect(media[1].codec.name == "VP8" && media[1].codec.payloadType == 120 && media[1].codec.rtxPayloadType == 124)
        #expect(media[1].codec.feedback.isSuperset(of: [.nack, .nackPli, .ccmFir]))
        #expect(media[0].extensions.mid == 3 && media[0].extensions.audioLevel == 1)
        #expect(media.map(\.direction) == [.recvonly, .recvonly])
        #expect(media[0].transport.localSetup == .passive)
        // Firefox's sha-256 fingerprint sits at session level; the transport picks it up.
        #expect(media[0].transport.remoteFingerprint.hashFunction == "sha-256")
        #expect(try SessionDescription.parse(answer.serialized()) == answer)
    }

    @Test func capturedFirefoxSimulcast() throws {
        let (answer, media) = try Server.publish(CapturedSDPs.firefoxSimulcastOffer)
        let video = media[1]
        #expect(video.simulcastRIDs == ["q", "h", "f"])
        #expect(video.extensions.rid == 9 && video.extensions.repairedRid == 10)
        #expect(answer.media[1].rids.map(\.id) == ["q", "h", "f"])
        #expect(answer.serialized().contains("a=simulcast:recv q;h;f\r\n"))
    }

    // MARK: Chromium simulcast

    @Test func chromiumSimulcast() throws {
        let (answer, media) = try Server.publish(CapturedSDPs.chromiumSimulcastOffer)
        let video = media[1]
        #expect(video.direction == .recvonly)
        #expect(video.simulcastRIDs == ["q", "h", "f"])
        #expect(video.remoteSources.isEmpty)
        #expect(video.extensions.rid == 10 && video.extensions.repairedRid == 11 && video.extensions.mid == 4)
        let section = answer.media[1]
        #expect(section.rids == [RID(id: "q", direction: .recv), RID(id: "h", direction: .recv), RID(id: "f", direction: .recv)])
        #expect(section.simulcast == Simulcast(receive: [[SimulcastStream(rid: "q")], [SimulcastStream(rid: "h")],
                                                         [SimulcastStream(rid: "f")]]))
        // The dependency descriptor (12) and video-layers-allocation (9) are not Confab's.
        #expect(!section.extMaps.contains { $0.id == 12 || $0.id == 9 })
        let written = answer.serialized()
        #expect(written.contains("a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n"))
        #expect(try SessionDescription.parse(written) == answer)
    }

    @Test func simulcastNeedsReceivingAndTheRidExtension() throws {
        let inactive = try Answerer.answer(offer: try SessionDescription.parse(CapturedSDPs.chromiumSimulcastOffer),
                                           local: Server.transport, direction: { _ in .sendonly },
                                           localStreams: { _ in nil }, sessionID: 1)
        // Offer sendonly ∩ server sendonly = inactive: no layers to receive.
        #expect(inactive.media[1].direction == .inactive)
        #expect(inactive.answer.media[1].rids.isEmpty && inactive.answer.media[1].simulcast == nil)

        let withoutRid = CapturedSDPs.chromiumSimulcastOffer.removingLines(startingWith: "a=extmap:10 ")
        let (answer, media) = try Server.publish(withoutRid)
        #expect(media[1].simulcastRIDs.isEmpty && answer.media[1].simulcast == nil)
    }

    // MARK: aiortc

    @Test func aiortcPublisher() throws {
        let offer = try SessionDescription.parse(CapturedSDPs.aiortcOffer)
        let (answer, media) = try Server.publish(CapturedSDPs.aiortcOffer)
        #expect(answer.bundleMids == ["0", "1"])
        let audio = media[0], video = media[1]
        #expect(audio.codec == NegotiatedCodec(payloadType: 96, name: "opus", clockRate: 48000, channels: 2))
        #expect(video.codec == NegotiatedCodec(payloadType: 97, name: "VP8", clockRate: 90000, rtxPayloadType: 98,
                                               feedback: [.nack, .nackPli, .googRemb]))
        #expect(audio.extensions == NegotiatedExtensions(mid: 1, audioLevel: 2))
        #expect(video.extensions == NegotiatedExtensions(mid: 1, absSendTime: 3))
        #expect(video.remoteSources == [try #require(offer.media[1].fidSource)])
        // aiortc sends three fingerprints; sha-256 is the one Confab checks.
        #expect(video.transport.remoteFingerprint.hashFunction == "sha-256")
        #expect(media.allSatisfy { !$0.rtcpReducedSize })
        #expect(!answer.media[0].rtcpReducedSize)
        #expect(try SessionDescription.parse(answer.serialized()) == answer)
    }

    @Test func sha256IsPreferredWhateverTheOrder() throws {
        let lines = CapturedSDPs.aiortcOffer.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let sha256 = lines.filter { $0.hasPrefix("a=fingerprint:sha-256") }
        let reordered = lines.filter { !$0.hasPrefix("a=fingerprint:sha-256") }.joined(separator: "\n") + sha256[0] + "\n"
        let offer = try SessionDescription.parse(reordered)
        #expect(offer.media[1].fingerprints.map(\.hashFunction) == ["sha-384", "sha-512", "sha-256"])
        let (_, media) = try Server.publish(reordered)
        #expect(media[1].transport.remoteFingerprint.hashFunction == "sha-256")
        // The audio line lost its sha-256 line in the edit, so its first fingerprint is used.
        #expect(media[0].transport.remoteFingerprint.hashFunction == "sha-384")
    }

    // MARK: Firefox (hand-written fixture)

    @Test func firefoxPublisher() throws {
        let (answer, media) = try Server.publish(Fixtures.firefoxOffer)
        #expect(answer.bundleMids == ["0", "1"])
        let audio = media[0], video = media[1]
        #expect(audio.codec == NegotiatedCodec(payloadType: 109, name: "opus", clockRate: 48000, channels: 2,
                                               fmtp: "maxplaybackrate=48000;stereo=1;useinbandfec=1"))
        #expect(video.codec.payloadType == 120 && video.codec.rtxPayloadType == 124)
        #expect(video.codec.fmtp == "max-fs=12288;max-fr=60")
        // csrc-audio-level is unknown; playout-delay is /recvonly (Firefox only receives it) and
        // Confab does not send here, so it is dropped too.
        #expect(audio.extensions == NegotiatedExtensions(mid: 3, audioLevel: 1))
        #expect(video.extensions == NegotiatedExtensions(mid: 3, absSendTime: 4, transportCC: 7))
        #expect(video.remoteSources == [RemoteSource(ssrc: 3116478632, rtxSSRC: 1762364551,
                                                     cname: "{5d6e7f80-9102-a3b4-c5d6-e7f8091a2b3c}")])
        #expect(audio.remoteSources == [RemoteSource(ssrc: 2905141211, cname: "{5d6e7f80-9102-a3b4-c5d6-e7f8091a2b3c}")])
        // Session-level fingerprint, media-level credentials.
        #expect(video.transport.remoteFingerprint.value.hasPrefix("5A:09"))
        #expect(video.transport.remoteUfrag == "1f2e3d4c")
        #expect(media.map(\.rtcpReducedSize) == [false, true])
    }

    @Test func firefoxExtensionDirections() throws {
        let (answer, media) = try Server.echo(Fixtures.firefoxOffer)
        #expect(media[1].extensions.playoutDelay == 6)
        // Firefox receives playout-delay only, so the answer only sends it.
        #expect(answer.media[1].extMaps.contains(ExtMap(id: 6, direction: .sendonly,
                                                        uri: "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay")))
        #expect(!answer.media[0].extMaps.contains { $0.uri.hasSuffix("csrc-audio-level") })
    }

    // MARK: Directions and DTLS roles

    @Test(arguments: [
        (Direction.sendrecv, Direction.sendrecv, Direction.sendrecv),
        (.sendrecv, .recvonly, .recvonly),
        (.sendonly, .sendrecv, .recvonly),
        (.sendonly, .sendonly, .inactive),
        (.recvonly, .sendrecv, .sendonly),
        (.recvonly, .recvonly, .inactive),
        (.inactive, .sendrecv, .inactive),
    ])
    func directionIntersection(offered: Direction, wanted: Direction, answered: Direction) throws {
        let offer = CapturedSDPs.chromiumOffer.replacingLine("a=sendrecv", with: "a=\(offered.rawValue)")
        let (answer, media) = try Answerer.answer(offer: try SessionDescription.parse(offer), local: Server.transport,
                                                  direction: { _ in wanted }, localStreams: { _ in Server.videoStream },
                                                  sessionID: 1)
        #expect(media.map(\.direction) == [answered, answered])
        #expect(answered.isAllowedAnswer(to: offered))
        #expect(answer.media[1].ssrcs.isEmpty == !answered.sends)
        #expect(media[1].remoteSources.isEmpty == !answered.receives)
    }

    @Test(arguments: [
        (SetupRole.actpass, SetupRole.actpass, SetupRole.passive),
        (.actpass, .active, .active),
        (.active, .actpass, .passive),
        (.passive, .actpass, .active),
        (.passive, .passive, .active),
    ])
    func setupRoles(offered: SetupRole, preferred: SetupRole, answered: SetupRole) throws {
        let offer = CapturedSDPs.chromiumOffer.replacingLine("a=setup:actpass", with: "a=setup:\(offered.rawValue)")
        var local = Server.transport
        local.setup = preferred
        let (answer, media) = try Server.publish(offer, local: local)
        #expect(media.allSatisfy { $0.transport.localSetup == answered })
        #expect(answer.media[0].setup == answered && answer.media[1].setup == answered)
    }

    @Test func bundleOnlyLinesAreAccepted() throws {
        // A max-bundle offer: the second line has port 0, a=bundle-only and no transport of its own.
        var offer = try SessionDescription.parse(CapturedSDPs.aiortcOffer)
        offer.media[1].port = 0
        offer.media[1].attributes.append(Attribute(name: "bundle-only"))
        offer.media[1].iceUfrag = nil
        offer.media[1].icePwd = nil
        offer.media[1].fingerprints = []
        offer.media[1].setup = nil
        let (answer, media) = try Answerer.answer(offer: offer, local: Server.transport, direction: { _ in .recvonly },
                                                  localStreams: { _ in nil }, sessionID: 1)
        #expect(media.map(\.mid) == ["0", "1"])
        #expect(answer.media[1].port == 9)
        #expect(media[1].transport == media[0].transport)
    }
}
