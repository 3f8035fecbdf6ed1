/// Offers and answers composed for these tests from RFC 8829 (JSEP),
/// RFC 8853 (simulcast) and what current browsers emit; not copied from any
/// project. Written with LF and converted to CRLF where a test needs it.

enum Fixtures {
    /// Chromium, unified plan: audio (opus, red, telephone-event), a simulcast
    /// video section (VP8, VP9, H264 with RTX, three rids), a data channel.
    static let chromeOffer = """
    v=0
    o=- 4611731400430051336 2 IN IP4 127.0.0.1
    s=-
    t=0 0
    a=group:BUNDLE 0 1 2
    a=extmap-allow-mixed
    a=msid-semantic: WMS 5c3a1d7e-9a0b-4e54-8f3a-0c2b9f1d6e11
    m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
    c=IN IP4 0.0.0.0
    a=rtcp:9 IN IP4 0.0.0.0
    a=candidate:1467250027 1 udp 2122260223 192.168.1.20 54400 typ host generation 0 network-id 1 network-cost 10
    a=candidate:3634349163 1 udp 2122194687 0c1b7d62-1f3a-4f62-8d4b-2a0e6f7a9b11.local 54401 typ host generation 0 network-id 2
    a=candidate:842163049 1 udp 1686052607 203.0.113.7 54400 typ srflx raddr 192.168.1.20 rport 54400 generation 0 network-id 1 network-cost 10
    a=candidate:2999745851 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active generation 0 network-id 1
    a=ice-ufrag:G7aT
    a=ice-pwd:3hN4dE1lmbwzLg2zq9n1xQ7k
    a=ice-options:trickle
    a=fingerprint:sha-256 1C:7B:0E:DA:4F:8A:63:2B:9D:55:10:C4:E1:7F:3A:B2:06:99:DE:48:F0:21:5C:8E:A7:34:6B:D9:12:EF:80:5A
    a=setup:actpass
    a=mid:0
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=sendrecv
    a=msid:5c3a1d7e-9a0b-4e54-8f3a-0c2b9f1d6e11 a1f0c3e2-6b7d-4c8e-9f10-112233445566
    a=rtcp-mux
    a=rtcp-rsize
    a=rtpmap:111 opus/48000/2
    a=rtcp-fb:111 transport-cc
    a=fmtp:111 minptime=10;useinbandfec=1
    a=rtpmap:63 red/48000/2
    a=fmtp:63 111/111
    a=rtpmap:9 G722/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:13 CN/8000
    a=rtpmap:110 telephone-event/48000
    a=rtpmap:126 telephone-event/8000
    a=ssrc:1001 cname:Hk3vQ0n7Ys9fW2pL
    a=ssrc:1001 msid:5c3a1d7e-9a0b-4e54-8f3a-0c2b9f1d6e11 a1f0c3e2-6b7d-4c8e-9f10-112233445566
    m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102 103
    c=IN IP4 0.0.0.0
    b=AS:2500
    a=rtcp:9 IN IP4 0.0.0.0
    a=ice-ufrag:G7aT
    a=ice-pwd:3hN4dE1lmbwzLg2zq9n1xQ7k
    a=ice-options:trickle
    a=fingerprint:sha-256 1C:7B:0E:DA:4F:8A:63:2B:9D:55:10:C4:E1:7F:3A:B2:06:99:DE:48:F0:21:5C:8E:A7:34:6B:D9:12:EF:80:5A
    a=setup:actpass
    a=mid:1
    a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
    a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:13 urn:3gpp:video-orientation
    a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
    a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
    a=sendonly
    a=msid:5c3a1d7e-9a0b-4e54-8f3a-0c2b9f1d6e11 b2e1d4f3-7c8e-4d9f-a011-223344556677
    a=rtcp-mux
    a=rtcp-rsize
    a=rtpmap:96 VP8/90000
    a=rtcp-fb:96 goog-remb
    a=rtcp-fb:96 transport-cc
    a=rtcp-fb:96 ccm fir
    a=rtcp-fb:96 nack
    a=rtcp-fb:96 nack pli
    a=rtpmap:97 rtx/90000
    a=fmtp:97 apt=96
    a=rtpmap:98 VP9/90000
    a=rtcp-fb:98 goog-remb
    a=rtcp-fb:98 transport-cc
    a=rtcp-fb:98 ccm fir
    a=rtcp-fb:98 nack
    a=rtcp-fb:98 nack pli
    a=fmtp:98 profile-id=0
    a=rtpmap:99 rtx/90000
    a=fmtp:99 apt=98
    a=rtpmap:102 H264/90000
    a=rtcp-fb:102 goog-remb
    a=rtcp-fb:102 transport-cc
    a=rtcp-fb:102 ccm fir
    a=rtcp-fb:102 nack
    a=rtcp-fb:102 nack pli
    a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
    a=rtpmap:103 rtx/90000
    a=fmtp:103 apt=102
    a=rid:q send
    a=rid:h send pt=96,98;max-width=1280;max-height=720
    a=rid:f send
    a=simulcast:send q;h;~f
    m=application 9 UDP/DTLS/SCTP webrtc-datachannel
    c=IN IP4 0.0.0.0
    a=ice-ufrag:G7aT
    a=ice-pwd:3hN4dE1lmbwzLg2zq9n1xQ7k
    a=ice-options:trickle
    a=fingerprint:sha-256 1C:7B:0E:DA:4F:8A:63:2B:9D:55:10:C4:E1:7F:3A:B2:06:99:DE:48:F0:21:5C:8E:A7:34:6B:D9:12:EF:80:5A
    a=setup:actpass
    a=mid:2
    a=sctp-port:5000
    a=max-message-size:262144

    """

    /// Firefox: session-level fingerprint and ice-options, attributes in
    /// Firefox's order (fmtp before rtpmap), extmap directions, an SSRC FID group.
    static let firefoxOffer = """
    v=0
    o=mozilla...THIS_IS_SDPARTA-128.0 5447618005423329018 0 IN IP4 0.0.0.0
    s=-
    t=0 0
    a=fingerprint:sha-256 5A:09:C3:7E:21:44:B8:6D:F0:13:9C:2E:87:AB:55:D1:0F:6C:E2:39:4A:B7:18:C5:93:7D:0E:F4:62:AA:31:8B
    a=group:BUNDLE 0 1
    a=ice-options:trickle
    a=msid-semantic:WMS *
    m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101
    c=IN IP4 0.0.0.0
    a=sendrecv
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
    a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
    a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
    a=fmtp:101 0-15
    a=ice-pwd:8c5ebd0d8f7e3c2b1a09f8e7d6c5b4a3
    a=ice-ufrag:1f2e3d4c
    a=mid:0
    a=msid:{0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9} {1b2c3d4e-5f60-7182-93a4-b5c6d7e8f9a0}
    a=rtcp-mux
    a=rtpmap:109 opus/48000/2
    a=rtpmap:9 G722/8000/1
    a=rtpmap:0 PCMU/8000
    a=rtpmap:8 PCMA/8000
    a=rtpmap:101 telephone-event/8000/1
    a=setup:actpass
    a=ssrc:2905141211 cname:{5d6e7f80-9102-a3b4-c5d6-e7f8091a2b3c}
    m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127
    c=IN IP4 0.0.0.0
    a=sendrecv
    a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
    a=extmap:5 urn:ietf:params:rtp-hdrext:toffset
    a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
    a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
    a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1
    a=fmtp:127 apt=126
    a=fmtp:120 max-fs=12288;max-fr=60
    a=fmtp:124 apt=120
    a=fmtp:121 max-fs=12288;max-fr=60
    a=fmtp:125 apt=121
    a=ice-pwd:8c5ebd0d8f7e3c2b1a09f8e7d6c5b4a3
    a=ice-ufrag:1f2e3d4c
    a=mid:1
    a=msid:{0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9} {2c3d4e5f-6071-8293-a4b5-c6d7e8f9a0b1}
    a=rtcp-fb:120 nack
    a=rtcp-fb:120 nack pli
    a=rtcp-fb:120 ccm fir
    a=rtcp-fb:120 goog-remb
    a=rtcp-fb:120 transport-cc
    a=rtcp-fb:121 nack
    a=rtcp-fb:121 nack pli
    a=rtcp-fb:126 nack
    a=rtcp-fb:126 nack pli
    a=rtcp-mux
    a=rtcp-rsize
    a=rtpmap:120 VP8/90000
    a=rtpmap:124 rtx/90000
    a=rtpmap:121 VP9/90000
    a=rtpmap:125 rtx/90000
    a=rtpmap:126 H264/90000
    a=rtpmap:127 rtx/90000
    a=setup:actpass
    a=ssrc:3116478632 cname:{5d6e7f80-9102-a3b4-c5d6-e7f8091a2b3c}
    a=ssrc:1762364551 cname:{5d6e7f80-9102-a3b4-c5d6-e7f8091a2b3c}
    a=ssrc-group:FID 3116478632 1762364551
    a=candidate:0 1 UDP 2122252543 10.0.0.5 49203 typ host
    a=candidate:1 1 TCP 2105524479 10.0.0.5 9 typ host tcptype active
    a=candidate:2 1 UDP 1686052863 198.51.100.23 49203 typ srflx raddr 10.0.0.5 rport 49203
    a=end-of-candidates

    """

    /// What a Janus-style ICE-lite SFU answers to the Chrome offer's first two
    /// sections: passive DTLS, host candidate, recvonly video with simulcast.
    static let janusAnswer = """
    v=0
    o=- 4611731400430051336 2 IN IP4 203.0.113.10
    s=VideoRoom 1234
    t=0 0
    a=group:BUNDLE 0 1
    a=ice-lite
    a=msid-semantic: WMS *
    m=audio 9 UDP/TLS/RTP/SAVPF 111
    c=IN IP4 203.0.113.10
    a=recvonly
    a=mid:0
    a=rtcp-mux
    a=ice-ufrag:Kx3b
    a=ice-pwd:Qm1ZyV9cN3dR7tW2eH5jL8pA
    a=ice-options:trickle
    a=fingerprint:sha-256 A4:2E:91:0C:7D:58:B3:F6:12:E9:4A:8D:C0:37:6B:F1:05:9E:D2:43:7A:B8:1C:65:E0:93:2F:C7:58:0B:D4:19
    a=setup:passive
    a=rtpmap:111 opus/48000/2
    a=fmtp:111 useinbandfec=1
    a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=msid:janus janusa0
    a=ssrc:3742917305 cname:janus
    a=candidate:1 1 udp 2015363327 203.0.113.10 20000 typ host
    a=end-of-candidates
    m=video 9 UDP/TLS/RTP/SAVPF 96 97
    c=IN IP4 203.0.113.10
    b=TIAS:1024000
    a=recvonly
    a=mid:1
    a=rtcp-mux
    a=ice-ufrag:Kx3b
    a=ice-pwd:Qm1ZyV9cN3dR7tW2eH5jL8pA
    a=ice-options:trickle
    a=fingerprint:sha-256 A4:2E:91:0C:7D:58:B3:F6:12:E9:4A:8D:C0:37:6B:F1:05:9E:D2:43:7A:B8:1C:65:E0:93:2F:C7:58:0B:D4:19
    a=setup:passive
    a=rtpmap:96 VP8/90000
    a=rtcp-fb:96 ccm fir
    a=rtcp-fb:96 nack
    a=rtcp-fb:96 nack pli
    a=rtcp-fb:96 goog-remb
    a=rtcp-fb:96 transport-cc
    a=rtpmap:97 rtx/90000
    a=fmtp:97 apt=96
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
    a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
    a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
    a=rid:q recv
    a=rid:h recv
    a=rid:f recv
    a=simulcast:recv q;h;~f
    a=candidate:1 1 udp 2015363327 203.0.113.10 20000 typ host
    a=end-of-candidates

    """

    static func crlf(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
    }
}
