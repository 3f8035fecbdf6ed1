import Testing
@testable import SDP

@Suite struct ErrorTests {
    /// Four session lines, so the first line a test appends is line 5.
    static let head = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n"

    static let cases: [(String, Int, String)] = [
        ("", 0, "empty session description"),
        ("\n\n", 0, "empty session description"),
        ("o=- 1 1 IN IP4 0.0.0.0\n", 1, "expected 'v=0' as the first line, got 'o=- 1 1 IN IP4 0.0.0.0'"),
        ("v=1\n", 1, "unsupported version 'v=1', expected 'v=0'"),
        ("v=0\ns=-\nt=0 0\n", 0, "missing o= line"),
        ("v=0\ns=-\nm=audio 9 RTP/AVP 0\n", 3, "bad m= line 'm=audio 9 RTP/AVP 0': o= line must come before the first m= line"),
        ("v=0\no=- x 1 IN IP4 0.0.0.0\n", 2, "bad o= line 'o=- x 1 IN IP4 0.0.0.0': session id 'x' is not a number in 0..18446744073709551615"),
        ("v=0\no=- 1 1 IN IP4\n", 2, "bad o= line 'o=- 1 1 IN IP4': expected '<username> <session id> <version> <nettype> <addrtype> <address>'"),
        (head + "v=0\n", 5, "bad v= line 'v=0': duplicate"),
        ("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0\n", 4, "bad t= line 't=0': expected '<start> <stop>'"),
        (head + "hello\n", 5, "expected '<type>=<value>', got 'hello'"),
        (head + "A=b\n", 5, "expected '<type>=<value>', got 'A=b'"),
        (head + "m=audio 9 RTP/AVP 0\nm=audio 9 RTP/AVP 0\nm=video x UDP\n", 7, "bad m= line 'm=video x UDP'"),
        (head + "m=video 70000 RTP/AVP 96\n", 5, "bad m= line 'm=video 70000 RTP/AVP 96'"),
        (head + "m=video 9 UDP/TLS/RTP/SAVPF 96 128\n", 5, "bad m= line 'm=video 9 UDP/TLS/RTP/SAVPF 96 128': payload type '128' not in 0..127"),
        (head + "m=video 9/x RTP/AVP 96\n", 5, "bad m= line 'm=video 9/x RTP/AVP 96': port count 'x' is not a number in 0..65535"),
        (head + "m=audio 9 RTP/AVP 0\nc=IN IP4\n", 6, "bad c= line 'c=IN IP4': expected '<nettype> <addrtype> <address>'"),
        (head + "m=audio 9 RTP/AVP 0\nb=AS:-1\n", 6, "bad b= line 'b=AS:-1': bandwidth '-1' is not a number in 0..18446744073709551615"),
        (head + "m=audio 9 RTP/AVP 0\ns=x\n", 6, "bad s= line 's=x': only allowed before the first m= line"),
        (head + "m=audio 9 RTP/AVP 111\na=rtpmap:111 opus/abc/2\n", 6, "bad a=rtpmap line 'a=rtpmap:111 opus/abc/2': clock rate 'abc' is not a number in 0..4294967295"),
        (head + "m=audio 9 RTP/AVP 111\na=rtpmap:300 opus/48000\n", 6, "bad a=rtpmap line 'a=rtpmap:300 opus/48000': payload type '300' not in 0..127"),
        (head + "m=audio 9 RTP/AVP 111\na=fmtp:x a=b\n", 6, "bad a=fmtp line 'a=fmtp:x a=b': payload type 'x' not in 0..127"),
        (head + "m=audio 9 RTP/AVP 111\na=rtcp-fb:111\n", 6, "bad a=rtcp-fb line 'a=rtcp-fb:111': expected '<payload type|*> <type> [<subtype>]'"),
        (head + "m=audio 9 RTP/AVP 111\na=extmap:0 urn:x\n", 6, "bad a=extmap line 'a=extmap:0 urn:x': extension id 0 not in 1..255 or 4096..4351"),
        (head + "m=audio 9 RTP/AVP 111\na=extmap:1/both urn:x\n", 6, "bad a=extmap line 'a=extmap:1/both urn:x': unknown direction 'both'"),
        (head + "m=audio 9 RTP/AVP 111\na=mid\n", 6, "bad a=mid line 'a=mid': missing value"),
        (head + "m=audio 9 RTP/AVP 111\na=setup:server\n", 6, "bad a=setup line 'a=setup:server': setup 'server' is not actpass, active, passive or holdconn"),
        (head + "a=fingerprint:sha-256 ZZ:00\n", 5, "bad a=fingerprint line 'a=fingerprint:sha-256 ZZ:00': fingerprint 'ZZ:00' is not colon-separated hex bytes"),
        (head + "m=audio 9 RTP/AVP 111\na=candidate:1 1 udp 2122260223 192.168.1.2 99999 typ host\n", 6,
         "bad a=candidate line 'a=candidate:1 1 udp 2122260223 192.168.1.2 99999 typ host': port '99999' is not a number in 0..65535"),
        (head + "m=audio 9 RTP/AVP 111\na=candidate:1 0 udp 1 192.168.1.2 9 typ host\n", 6,
         "bad a=candidate line 'a=candidate:1 0 udp 1 192.168.1.2 9 typ host': component 0 not in 1..256"),
        (head + "m=audio 9 RTP/AVP 111\na=candidate:1 1 udp 1 192.168.1.2 9 typ host raddr\n", 6,
         "bad a=candidate line 'a=candidate:1 1 udp 1 192.168.1.2 9 typ host raddr': extension 'raddr' has no value"),
        (head + "m=audio 9 RTP/AVP 111\na=ssrc:12 \n", 6, "bad a=ssrc line 'a=ssrc:12 ': missing source attribute"),
        (head + "m=audio 9 RTP/AVP 111\na=ssrc-group:FID 1 x\n", 6, "bad a=ssrc-group line 'a=ssrc-group:FID 1 x': ssrc 'x' is not a number in 0..4294967295"),
        (head + "m=video 9 RTP/AVP 96\na=rid:h sideways\n", 6, "bad a=rid line 'a=rid:h sideways': direction 'sideways' is not send or recv"),
        (head + "m=video 9 RTP/AVP 96\na=rid:h send pt=96,200\n", 6, "bad a=rid line 'a=rid:h send pt=96,200': payload type '200' not in 0..127"),
        (head + "m=video 9 RTP/AVP 96\na=simulcast:send h;;l\n", 6, "bad a=simulcast line 'a=simulcast:send h;;l': empty rid in 'h;;l'"),
        (head + "m=video 9 RTP/AVP 96\na=simulcast:send h send l\n", 6, "bad a=simulcast line 'a=simulcast:send h send l': direction 'send' is not a single send or recv"),
        (head + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=sctp-port:65536\n", 6,
         "bad a=sctp-port line 'a=sctp-port:65536': sctp port '65536' is not a number in 0..65535"),
    ]

    @Test(arguments: cases)
    func reportsLineAndProblem(_ input: String, _ line: Int, _ message: String) {
        for text in [input, Fixtures.crlf(input)] {
            #expect(throws: SDPError(line: line, message: message)) { try SessionDescription.parse(text) }
        }
    }

    @Test func descriptionFormat() {
        #expect(SDPError(line: 7, message: "bad m= line 'm=video x UDP'").description == "line 7: bad m= line 'm=video x UDP'")
        #expect(SDPError(line: 0, message: "missing o= line").description == "missing o= line")
    }

    @Test func longLinesAreClippedInMessages() throws {
        let long = "m=video 9 RTP/AVP " + String(repeating: "x", count: 500)
        do {
            _ = try SessionDescription.parse(Self.head + long)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 5)
            #expect(error.message.count < 250)
        }
    }
}
