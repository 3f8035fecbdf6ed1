/// Building the server's m-lines, shared by answers and offers so both look the same on the wire.

extension MediaDescription {
    /// A bundled section carrying the server's whole transport. Janus repeats ICE, DTLS and the
    /// candidates on every m-line, so each line stands alone if a client ignores BUNDLE.
    static func bundled(kind: MediaKind, proto: String, mid: String, direction: Direction,
                        local: LocalTransport, setup: SetupRole) -> MediaDescription {
        MediaDescription(
            kind: kind, port: 9, proto: proto, formats: [], connection: local.connection, mid: mid,
            direction: direction, rtcpMux: true, iceUfrag: local.ufrag, icePwd: local.pwd,
            fingerprint: local.fingerprint, setup: setup,
            candidates: local.candidates, endOfCandidates: local.endOfCandidates)
    }

    /// The answer to a section Confab does not take: port 0, the offer's kind, proto and
    /// formats (SDP needs at least one), its mid, and nothing else (RFC 8829 section 5.3.1).
    static func rejected(answering offered: MediaDescription) -> MediaDescription {
        MediaDescription(kind: offered.kind, port: 0, proto: offered.proto, formats: offered.formats,
                         connection: Connection(), mid: offered.mid)
    }

    /// Adds the codec's format, rtpmap, feedback and fmtp, and its RTX format.
    mutating func addCodec(_ codec: NegotiatedCodec) {
        let pt = codec.payloadType
        formats.append(String(pt))
        rtpMaps.append(RTPMap(payloadType: pt, encodingName: codec.name, clockRate: codec.clockRate, channels: codec.channels))
        rtcpFeedback += codec.feedback.attributes(payloadType: pt)
        if !codec.fmtp.isEmpty { fmtps.append(FMTP(payloadType: pt, parameters: codec.fmtpParameters)) }
        guard let rtx = codec.rtxPayloadType else { return }
        formats.append(String(rtx))
        rtpMaps.append(RTPMap(payloadType: rtx, encodingName: "rtx", clockRate: codec.clockRate))
        fmtps.append(FMTP(payloadType: rtx, parameters: [FormatParameter(key: "apt", value: String(pt))]))
    }

    /// Announces what the server sends here: msid, the SSRC with cname and msid, and the RTX
    /// SSRC paired by `a=ssrc-group:FID` when RTX is negotiated.
    mutating func addLocalStream(_ stream: LocalStream, withRTX: Bool) {
        let msid = MediaStreamID(streamID: stream.streamID, trackID: stream.trackID)
        msids = [msid]
        var sources = [stream.ssrc]
        if withRTX, let rtx = stream.rtxSSRC {
            ssrcGroups.append(SSRCGroup(semantics: "FID", ssrcs: [stream.ssrc, rtx]))
            sources.append(rtx)
        }
        for ssrc in sources {
            ssrcs.append(SSRCAttribute(ssrc: ssrc, name: "cname", value: stream.cname))
            ssrcs.append(SSRCAttribute(ssrc: ssrc, name: "msid", value: msid.text))
        }
    }
}

extension SessionDescription {
    /// The session part every description Confab writes shares: ICE-lite and `WMS *`, the
    /// form Janus and browsers still write for `a=msid-semantic`.
    static func local(_ local: LocalTransport, sessionID: UInt64, version: UInt64) -> SessionDescription {
        let address = local.connection.address == "0.0.0.0" ? "127.0.0.1" : local.connection.address
        return SessionDescription(
            origin: Origin(sessionID: sessionID, sessionVersion: version,
                           addressType: local.connection.addressType, address: address),
            iceLite: local.iceLite, msidSemantic: MsidSemantic(semantic: "WMS", identifiers: ["*"]))
    }
}
