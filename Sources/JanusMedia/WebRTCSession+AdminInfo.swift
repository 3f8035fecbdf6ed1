// The WebRTC part of the Admin API's handle_info, in the shape Janus 1.1.2 reports it:
// `flags`, `ice-mode`, `ice-role`, `sdps`, and `webrtc` with `ice`, `dtls`, `extensions` and
// one `media` entry per m-line (SSRCs, direction, codec, packet and feedback counters).

import JanusAPI
import Media
import SDP

extension WebRTCSession {
    public var adminInfo: JSON {
        let (localSDP, remoteSDP, connected) = sdpsAndState
        var info: [String: JSON] = [
            "flags": [
                "got-offer": .bool(remoteSDP != nil), "negotiated": .bool(localSDP != nil), "ready": .bool(connected),
                "rfc4588-rtx": .bool(streams.contains { $0.rtxPayloadType != nil }),
            ],
            // Janus names full ICE "full"; Confab's shared port is ICE-lite.
            "ice-mode": .string(connection?.usesFullICE == true ? "full" : "lite"),
            "ice-role": "controlled",
            "queued-packets": 0,
            "sdps": sdpsJSON(localSDP, remoteSDP),
        ]
        if let connection { info["webrtc"] = Self.webrtcJSON(connection.statistics, engine: engine) }
        return .object(info)
    }

    private func sdpsJSON(_ local: String?, _ remote: String?) -> JSON {
        var sdps: [String: JSON] = ["profile": "UDP/TLS/RTP/SAVPF"]
        if let local { sdps["local"] = .string(local) }
        if let remote { sdps["remote"] = .string(remote) }
        return .object(sdps)
    }

    private static func webrtcJSON(_ stats: PeerConnectionStatistics, engine: MediaEngine) -> JSON {
        var ice: [String: JSON] = [
            "stream_id": 1, "component_id": 1,
            // Janus's names: "ready" once a pair is selected.
            "state": .string(stats.iceState == "connected" ? "ready" : stats.iceState),
            "local-candidates": .array((stats.localCandidates ?? engine.sdpCandidates).map { .string($0.attributeValue) }),
            "remote-candidates": [],
            "checks-answered": .int(Int64(stats.checksAnswered)),
            "checks-rejected": .int(Int64(stats.checksRejected)),
        ]
        if let pair = stats.selectedPair {
            ice["selected-pair"] = .string(pair)  // full ICE: the transport names both ends
        } else if let pair = stats.selectedAddress {
            let local = engine.hostCandidates.first { $0.address.isIPv4 == pair.isIPv4 }?.address.description ?? "?"
            ice["selected-pair"] = .string("\(local) [host,udp] <-> \(pair) [prflx,udp]")
        }
        let dtls: JSON = [
            "fingerprint": .string(engine.certificate.fingerprint.hex),
            "dtls-role": .string(stats.dtlsRole == "client" ? "active" : "passive"),
            "dtls-state": .string(stats.dtlsState),
            "srtp-profile": .string(stats.srtpProfile ?? ""),
            "valid": .bool(stats.srtpProfile != nil),
            "ready": .bool(stats.srtpProfile != nil),
        ]
        var extensions: [String: JSON] = [:]
        for stream in stats.streams {
            for type in HeaderExtension.allCases { if let id = stream.extensions[type] { extensions[type.uri] = .int(Int64(id)) } }
        }
        var media: [String: JSON] = [:]
        for (position, stream) in stats.streams.enumerated() {
            media[stream.mid] = mediaJSON(stream, position: position, stats: stats)
        }
        return [
            "ice": .object(ice), "dtls": dtls, "extensions": .object(extensions), "media": .object(media),
            "stats": [
                "in": ["packets": .int(Int64(stats.packetsReceived)), "bytes": .int(Int64(stats.bytesReceived)),
                       "rtcp_packets": .int(Int64(stats.rtcpPacketsReceived)), "dropped": .int(Int64(stats.packetsDropped)),
                       "transport_cc_feedback": .int(Int64(stats.feedbackReceived.transportCC))],
                "out": ["packets": .int(Int64(stats.packetsSent)), "bytes": .int(Int64(stats.bytesSent)),
                        "rtcp_packets": .int(Int64(stats.rtcpPacketsSent)),
                        "transport_cc_feedback": .int(Int64(stats.feedbackSent.transportCC))],
            ],
        ]
    }

    private static func mediaJSON(_ stream: MediaStream, position: Int, stats: PeerConnectionStatistics) -> JSON {
        var ssrc: [String: JSON] = ["ssrc": .int(Int64(stream.localSSRC))]
        if let rtx = stream.localRTXSSRC { ssrc["ssrc-rtx"] = .int(Int64(rtx)) }
        let remote = stats.remoteSSRCsByStream.indices.contains(position) ? stats.remoteSSRCsByStream[position] : []
        if let peer = remote.first(where: { !$0.isRTX }) { ssrc["ssrc-peer"] = .int(Int64(peer.ssrc)) }
        if let peerRTX = remote.first(where: { $0.isRTX }) { ssrc["ssrc-peer-rtx"] = .int(Int64(peerRTX.ssrc)) }
        var codecs: [String: JSON] = ["pt": .int(Int64(stream.payloadType)), "codec": .string(stream.codec.lowercased())]
        if let rtxPT = stream.rtxPayloadType { codecs["rtx-pt"] = .int(Int64(rtxPT)) }
        let inbound = stats.inbound.indices.contains(position) ? stats.inbound[position] : PacketCount()
        let outbound = stats.outbound.indices.contains(position) ? stats.outbound[position] : PacketCount()
        // Feedback is counted per connection (RTCP compounds mix streams); reported on video lines.
        let feedbackIn = stream.kind == .video ? stats.feedbackReceived : FeedbackCounts()
        let feedbackOut = stream.kind == .video ? stats.feedbackSent : FeedbackCounts()
        var json: [String: JSON] = [
            "type": .string(stream.kind.rawValue), "mindex": .int(Int64(stream.index)), "mid": .string(stream.mid),
            "do_nacks": .bool(stream.feedback.contains(.nack)),
            "ssrc": .object(ssrc),
            "direction": ["send": .bool(stream.sends), "recv": .bool(stream.receives)],
            "codecs": .object(codecs),
            "stats": [
                "in": ["packets": .int(Int64(inbound.packets)), "bytes": .int(Int64(inbound.bytes)),
                       "nacks": .int(Int64(feedbackIn.nacks)), "plis": .int(Int64(feedbackIn.plis)),
                       "firs": .int(Int64(feedbackIn.firs))],
                "out": ["packets": .int(Int64(outbound.packets)), "bytes": .int(Int64(outbound.bytes)),
                        "nacks": .int(Int64(feedbackOut.nacks)), "plis": .int(Int64(feedbackOut.plis)),
                        "firs": .int(Int64(feedbackOut.firs))],
            ],
        ]
        if let peer = remote.first(where: { !$0.isRTX }), let reception = stats.reception[peer.ssrc] {
            json["rtcp"] = ["main": [
                "base": .int(Int64(stream.clockRate)), "lost": .int(reception.cumulativeLost),
                "jitter-local": .int(Int64(reception.jitter)),
            ]]
        }
        if !stream.remoteRids.isEmpty { json["rid-simulcast"] = .array(stream.remoteRids.map { .string($0) }) }
        return .object(json)
    }
}
