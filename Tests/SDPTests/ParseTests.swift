import Testing
@testable import SDP

@Suite struct ParseTests {
    @Test func chromeOfferSession() throws {
        let sdp = try SessionDescription.parse(Fixtures.crlf(Fixtures.chromeOffer))
        #expect(sdp.origin == Origin(username: "-", sessionID: 4611731400430051336, sessionVersion: 2,
                                     networkType: "IN", addressType: "IP4", address: "127.0.0.1"))
        #expect(sdp.sessionName == "-")
        #expect(sdp.timing == Timing(start: 0, stop: 0))
        #expect(sdp.groups == [Group(semantics: "BUNDLE", mids: ["0", "1", "2"])])
        #expect(sdp.bundleMids == ["0", "1", "2"])
        #expect(sdp.extmapAllowMixed)
        #expect(!sdp.iceLite)
        #expect(sdp.msidSemantic == MsidSemantic(semantic: "WMS", identifiers: ["5c3a1d7e-9a0b-4e54-8f3a-0c2b9f1d6e11"]))
        #expect(sdp.media.map(\.kind) == [.audio, .video, .application])
        #expect(sdp.attributes.isEmpty)
    }

    @Test func chromeAudio() throws {
        let sdp = try SessionDescription.parse(Fixtures.chromeOffer)
        let audio = try #require(sdp.mediaDescription(mid: "0"))
        #expect(audio.port == 9)
        #expect(audio.proto == "UDP/TLS/RTP/SAVPF")
        #expect(audio.payloadTypes == [111, 63, 9, 0, 8, 13, 110, 126])
        #expect(audio.connection == Connection(networkType: "IN", addressType: "IP4", address: "0.0.0.0"))
        #expect(audio.iceUfrag == "G7aT")
        #expect(audio.icePwd == "3hN4dE1lmbwzLg2zq9n1xQ7k")
        #expect(audio.iceOptions == ["trickle"])
        #expect(audio.setup == .actpass)
        #expect(audio.fingerprint?.hashFunction == "sha-256")
        #expect(audio.fingerprint?.bytes.count == 32)
        #expect(audio.fingerprint?.bytes.first == 0x1C)
        #expect(audio.direction == .sendrecv)
        #expect(audio.rtcpMux && audio.rtcpReducedSize)
        #expect(audio.extMaps.count == 4)
        #expect(audio.extMaps[3] == ExtMap(id: 4, uri: "urn:ietf:params:rtp-hdrext:sdes:mid"))
        #expect(audio.msids == [MediaStreamID(streamID: "5c3a1d7e-9a0b-4e54-8f3a-0c2b9f1d6e11",
                                              trackID: "a1f0c3e2-6b7d-4c8e-9f10-112233445566")])
        #expect(audio.rtpMaps.first == RTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(audio.ssrcs.first == SSRCAttribute(ssrc: 1001, name: "cname", value: "Hk3vQ0n7Ys9fW2pL"))
        // a=rtcp is not interpreted (rtcp-mux makes it moot) but must survive.
        #expect(audio.attributes == [Attribute(name: "rtcp", value: "9 IN IP4 0.0.0.0")])

        let opus = try #require(audio.codec(payloadType: 111))
        #expect(opus.name == "opus" && opus.clockRate == 48000 && opus.channels == 2)
        #expect(opus.parameters == [FormatParameter(key: "minptime", value: "10"), FormatParameter(key: "useinbandfec", value: "1")])
        #expect(opus.parameter("useinbandfec") == "1")
        #expect(opus.feedback == [RTCPFeedback(payloadType: 111, type: "transport-cc")])
        #expect(audio.codecs.map(\.name) == ["opus", "red", "G722", "PCMU", "PCMA", "CN", "telephone-event", "telephone-event"])
    }

    @Test func chromeCandidates() throws {
        let audio = try #require(try SessionDescription.parse(Fixtures.chromeOffer).media.first)
        #expect(audio.candidates.count == 4)
        #expect(audio.candidates[0] == Candidate(
            foundation: "1467250027", component: 1, transport: "udp", priority: 2122260223,
            address: "192.168.1.20", port: 54400, type: .host, generation: 0,
            extensions: [CandidateExtension(name: "network-id", value: "1"), CandidateExtension(name: "network-cost", value: "10")]))
        #expect(audio.candidates[1].address.hasSuffix(".local"))
        #expect(audio.candidates[2].type == .serverReflexive)
        #expect(audio.candidates[2].relatedAddress == "192.168.1.20")
        #expect(audio.candidates[2].relatedPort == 54400)
        #expect(audio.candidates[3].transport == "tcp")
        #expect(audio.candidates[3].tcpType == "active")
        #expect(!audio.endOfCandidates)
    }

    @Test func chromeSimulcastVideo() throws {
        let video = try #require(try SessionDescription.parse(Fixtures.chromeOffer).mediaDescription(mid: "1"))
        #expect(video.direction == .sendonly)
        #expect(video.bandwidths == [Bandwidth(type: "AS", value: 2500)])
        #expect(video.extMaps.map(\.id) == [14, 2, 13, 3, 4, 10, 11])
        #expect(video.codecs.map(\.name) == ["VP8", "rtx", "VP9", "rtx", "H264", "rtx"])
        #expect(video.rtxPayloadType(for: 96) == 97)
        #expect(video.rtxPayloadType(for: 98) == 99)
        #expect(video.rtxPayloadType(for: 102) == 103)
        #expect(video.rtxPayloadType(for: 97) == nil)
        #expect(video.codec(payloadType: 103)?.associatedPayloadType == 102)
        #expect(video.codec(payloadType: 96)?.associatedPayloadType == nil)
        let h264 = try #require(video.codec(payloadType: 102))
        #expect(h264.parameter("profile-level-id") == "42e01f")
        #expect(h264.parameters.map(\.key) == ["level-asymmetry-allowed", "packetization-mode", "profile-level-id"])
        #expect(h264.feedback.contains(RTCPFeedback(payloadType: 102, type: "nack", subtype: "pli")))
        #expect(h264.feedback.count == 5)
        #expect(video.rids == [
            RID(id: "q", direction: .send),
            RID(id: "h", direction: .send, payloadTypes: [96, 98],
                restrictions: [FormatParameter(key: "max-width", value: "1280"), FormatParameter(key: "max-height", value: "720")]),
            RID(id: "f", direction: .send),
        ])
        #expect(video.simulcast == Simulcast(send: [
            [SimulcastStream(rid: "q")], [SimulcastStream(rid: "h")], [SimulcastStream(rid: "f", paused: true)],
        ]))
    }

    @Test func chromeDataChannel() throws {
        let data = try #require(try SessionDescription.parse(Fixtures.chromeOffer).mediaDescription(mid: "2"))
        #expect(data.kind == .application)
        #expect(data.proto == "UDP/DTLS/SCTP")
        #expect(data.formats == ["webrtc-datachannel"])
        #expect(!data.isRTP)
        #expect(data.payloadTypes.isEmpty && data.codecs.isEmpty)
        #expect(data.sctpPort == 5000)
        #expect(data.maxMessageSize == 262144)
    }

    @Test func firefoxOffer() throws {
        let sdp = try SessionDescription.parse(Fixtures.firefoxOffer)
        #expect(sdp.origin.username == "mozilla...THIS_IS_SDPARTA-128.0")
        #expect(sdp.origin.sessionID == 5447618005423329018)
        // Firefox puts the fingerprint and ice-options at session level.
        #expect(sdp.fingerprint?.hashFunction == "sha-256")
        #expect(sdp.iceOptions == ["trickle"])
        #expect(sdp.msidSemantic == MsidSemantic(semantic: "WMS", identifiers: ["*"]))
        let audio = try #require(sdp.mediaDescription(mid: "0"))
        #expect(audio.fingerprint == nil)
        #expect(sdp.fingerprint(for: audio) == sdp.fingerprint)
        #expect(sdp.setup(for: audio) == .actpass)
        #expect(sdp.iceCredentials(for: audio)?.ufrag == "1f2e3d4c")
        #expect(audio.extMaps[1] == ExtMap(id: 2, direction: .recvonly, uri: "urn:ietf:params:rtp-hdrext:csrc-audio-level"))
        #expect(audio.codec(payloadType: 101)?.parameters == [FormatParameter(key: "0-15")])
        #expect(audio.codec(payloadType: 9)?.channels == 1)
        let video = try #require(sdp.mediaDescription(mid: "1"))
        #expect(video.codecs.map(\.name) == ["VP8", "rtx", "VP9", "rtx", "H264", "rtx"])
        #expect(video.rtxPayloadType(for: 120) == 124)
        #expect(video.rtxPayloadType(for: 126) == 127)
        #expect(video.ssrcGroups == [SSRCGroup(semantics: "FID", ssrcs: [3116478632, 1762364551])])
        #expect(video.candidates.map(\.type) == [.host, .host, .serverReflexive])
        #expect(video.candidates[0].transport == "UDP")
        #expect(video.endOfCandidates)
        #expect(video.direction == .sendrecv)
    }

    @Test func janusAnswer() throws {
        let sdp = try SessionDescription.parse(Fixtures.janusAnswer)
        #expect(sdp.iceLite)
        #expect(sdp.sessionName == "VideoRoom 1234")
        #expect(sdp.media.allSatisfy { $0.setup == .passive && $0.direction == .recvonly && $0.endOfCandidates })
        let video = try #require(sdp.mediaDescription(mid: "1"))
        #expect(video.bandwidths == [Bandwidth(type: "TIAS", value: 1_024_000)])
        #expect(video.rids.map(\.direction) == [.recv, .recv, .recv])
        #expect(video.simulcast?.receive.map { $0.map(\.paused) } == [[false], [false], [true]])
        #expect(video.simulcast?.send.isEmpty == true)
        #expect(sdp.mediaDescription(mid: "7") == nil)
    }

    @Test func trickleCandidate() throws {
        let candidate = try Candidate(parsing: "candidate:842163049 1 udp 1686052607 203.0.113.7 54400 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag G7aT network-id 1")
        #expect(candidate.type == .serverReflexive)
        #expect(candidate.relatedAddress == "0.0.0.0" && candidate.relatedPort == 0)
        #expect(candidate.extensions == [CandidateExtension(name: "ufrag", value: "G7aT"), CandidateExtension(name: "network-id", value: "1")])
        #expect(candidate.sdpAttribute == "candidate:842163049 1 udp 1686052607 203.0.113.7 54400 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag G7aT network-id 1")
        let relay = try Candidate(parsing: "a=candidate:5 1 udp 41885439 198.51.100.1 3478 typ relay raddr 203.0.113.7 rport 54400")
        #expect(relay.type == .relay)
        #expect(throws: SDPError(line: 0, message: "bad candidate '1 1 udp 5 1.2.3.4 9 typ': expected '<foundation> <component> <transport> <priority> <address> <port> typ <type>'")) {
            try Candidate(parsing: "1 1 udp 5 1.2.3.4 9 typ")
        }
    }

    @Test func fingerprintFromBytes() {
        let fingerprint = Fingerprint(hashFunction: "sha-256", bytes: [0x00, 0xAB, 0x1F])
        #expect(fingerprint.value == "00:AB:1F")
        #expect(fingerprint.bytes == [0x00, 0xAB, 0x1F])
    }

    @Test func tolerantOfUnknownLinesAndAttributes() throws {
        let text = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\ni=info\nt=0 0\nz=0 0\na=x-custom:1\na=flag\nm=audio 9 RTP/AVP 0\ni=audio\nk=prompt\na=x-other\na=rtcp-fb:* trr-int 100\n"
        let sdp = try SessionDescription.parse(text)
        #expect(sdp.otherLines == [OtherLine(type: "i", value: "info"), OtherLine(type: "z", value: "0 0")])
        #expect(sdp.attributes == [Attribute(name: "x-custom", value: "1"), Attribute(name: "flag")])
        let audio = try #require(sdp.media.first)
        #expect(audio.otherLines.map(\.type) == ["i", "k"])
        #expect(audio.attributes == [Attribute(name: "x-other")])
        #expect(audio.rtcpFeedback == [RTCPFeedback(payloadType: nil, type: "trr-int", subtype: "100")])
        #expect(audio.codecs == [Codec(payloadType: 0, name: "PCMU", clockRate: 8000, channels: 1,
                                       feedback: [RTCPFeedback(payloadType: nil, type: "trr-int", subtype: "100")])])
        #expect(try SessionDescription.parse(sdp.serialized()) == sdp)
    }

    @Test func legacySCTPAttributesStayVerbatim() throws {
        let text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 DTLS/SCTP 5000\r\na=sctpmap:5000 webrtc-datachannel 1024\r\na=fmtp:5000 protocol=webrtc-datachannel\r\n"
        let data = try #require(try SessionDescription.parse(text).media.first)
        #expect(data.fmtps.isEmpty)
        #expect(data.attributes.map(\.name) == ["sctpmap", "fmtp"])
    }
}
