#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JanusAPI
import Media
import Net
import RTP
import SDP

/// `rtp_forward`: a publisher's streams as RTP (plain, or SRTP with `srtp_suite` +
/// `srtp_crypto`) to UDP ports (recording and streaming pipelines). Multistream form
/// `streams: [{mid, port, ssrc?, pt?, rtcp_port?, host?, host_family?}]`, or the deprecated `audio_port` / `video_port`;
/// the room secret is needed, as in Janus 1.1.2 with its default lock_rtp_forward.
/// Forwarders end with the publisher's PeerConnection.
extension VideoRoomPlugin {
    static let rtpForwardParameters: [Parameter] = [
        .positiveInteger("publisher_id", required: true), .string("host", required: true), .array("streams"),
        .positiveInteger("audio_port"), .positiveInteger("video_port"), .string("secret"),
        .positiveInteger("srtp_suite"), .string("srtp_crypto"), .string("host_family"),
    ]
    static let forwardedStreamParameters: [Parameter] = [
        .string("mid", required: true), .positiveInteger("port", required: true), .positiveInteger("ssrc"),
        .positiveInteger("rtcp_port"), .string("host"), .string("host_family"), .positiveInteger("pt"),
        .boolean("simulcast"), .positiveInteger("port_2"), .positiveInteger("ssrc_2"), .positiveInteger("pt_2"),
        .positiveInteger("port_3"), .positiveInteger("ssrc_3"), .positiveInteger("pt_3"),
    ]

    func rtpForward(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        guard engine != nil else { throw .notImplemented("rtp_forward") }
        let room = try room(for: request)
        try request.validate(Self.rtpForwardParameters)
        let publisherID = request.integer("publisher_id") ?? 0
        let feed = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> PublisherFeed in
            try checkSecret(state.options.secret, in: request, member: "secret")
            guard let feed = state.participants[publisherID]?.feed, feed.isPublishing else { throw .noSuchFeed(publisherID) }
            return feed
        }
        let srtp = try Self.forwardingSRTP(request)
        // `host` (required even when every stream names its own) and `host_family`, resolved
        // to the address packets go to, which the reply shows.
        let family = try ForwardHost.family(request.string("host_family"))
        let host = try ForwardHost.resolve(request.string("host") ?? "", family: family).ip
        if request["audio_port"] != nil || request["video_port"] != nil {
            return try legacyForward(request, feed: feed, host: host, room: room.id, srtp: srtp)
        }
        var made: [RTPForwarder] = []
        for element in request["streams"]?.arrayValue ?? [] {
            let wanted = RequestBody(element: element)
            try wanted.validate(Self.forwardedStreamParameters)
            // Janus skips a mid the publisher does not send.
            guard let stream = feed.streams.first(where: { $0.media.mid == wanted.string("mid") }) else { continue }
            // A key libsrtp cannot use makes no forwarder (Janus answers without it, no error).
            if case .unusable = srtp { continue }
            var streamHost = host
            if wanted.string("host") != nil || wanted.string("host_family") != nil {
                let streamFamily = try ForwardHost.family(wanted.string("host_family")) ?? family
                streamHost = try ForwardHost.resolve(wanted.string("host") ?? request.string("host") ?? "",
                                                     family: streamFamily).ip
            }
            made.append(try forward(stream, of: feed, host: streamHost, port: wanted.integer("port") ?? 0,
                                    ssrc: wanted.integer("ssrc"), srtp: srtp.session, rtcpPort: wanted.integer("rtcp_port"),
                                    payloadType: Self.payloadType(wanted, "pt"),
                                    simulcast: wanted.bool("simulcast") == true))
            // A simulcast video stream's other layers to their own ports (Janus's substreams 1
            // and 2), unless `simulcast: true` asked for one viewer-like forward instead.
            guard stream.kind == .video, stream.isSimulcast, wanted.bool("simulcast") != true else { continue }
            for (layer, suffix) in [(1, "_2"), (2, "_3")] {
                guard let port = wanted.integer("port\(suffix)") else { continue }
                made.append(try forward(stream, of: feed, host: streamHost, port: port, ssrc: wanted.integer("ssrc\(suffix)"),
                                        srtp: srtp.session, payloadType: Self.payloadType(wanted, "pt\(suffix)"), layer: layer))
            }
        }
        return ["videoroom": "rtp_forward", "room": JSON(room.id), "publisher_id": JSON(publisherID),
                "forwarders": .array(made.map(\.json))]
    }

    /// `audio_port` / `video_port`: the first audio and video stream (Janus answers `rtp_stream`).
    private func legacyForward(_ request: RequestBody, feed: PublisherFeed, host: String, room: UInt64,
                               srtp: SRTPRequest) throws(VideoRoomError) -> JSON {
        var summary: [String: JSON] = ["host": .string(host), "warning": "deprecated_api"]
        for (kind, key) in [(MediaKind.audio, "audio"), (.video, "video")] {
            guard let port = request.integer("\(key)_port"),
                  let stream = feed.streams.first(where: { $0.kind == kind }) else { continue }
            if case .unusable = srtp { continue }
            let forwarder = try forward(stream, of: feed, host: host, port: port, ssrc: nil, srtp: srtp.session)
            summary[key] = JSON(Int(port))
            summary["\(key)_stream_id"] = JSON(UInt64(forwarder.id))
        }
        return ["videoroom": "rtp_forward", "room": JSON(room), "publisher_id": JSON(feed.participantID),
                "rtp_stream": .object(summary)]
    }

    /// What `srtp_suite` + `srtp_crypto` ask for. Only both together mean SRTP (either alone is
    /// ignored, as in Janus 1.1.2); a suite other than 32 or 80 is an error, a key that is not
    /// base64 of at least 30 bytes makes no forwarder.
    enum SRTPRequest {
        case none
        case protected(ForwardingSRTP)
        case unusable

        var session: ForwardingSRTP? {
            if case .protected(let session) = self { return session }
            return nil
        }
    }

    static func forwardingSRTP(_ request: RequestBody) throws(VideoRoomError) -> SRTPRequest {
        guard let suite = request.integer("srtp_suite"), let crypto = request.string("srtp_crypto") else { return .none }
        guard suite == 32 || suite == 80 else { throw VideoRoomError(.invalidElement, "Invalid SRTP suite (\(suite))") }
        guard let key = Data(base64Encoded: crypto),
              let session = ForwardingSRTP(suite: Int(suite), keyAndSalt: Array(key)) else { return .unusable }
        return .protected(session)
    }

    /// `pt` (or `pt_2`, `pt_3`); 0 means none, as in Janus.
    private static func payloadType(_ wanted: RequestBody, _ key: String) -> UInt64? {
        wanted.integer(key).flatMap { $0 == 0 ? nil : $0 }
    }

    private func forward(_ stream: PublishedStream, of feed: PublisherFeed, host: String, port: UInt64,
                         ssrc: UInt64?, srtp: ForwardingSRTP?, rtcpPort: UInt64? = nil,
                         payloadType: UInt64? = nil, layer: Int = 0,
                         simulcast: Bool = false) throws(VideoRoomError) -> RTPForwarder {
        guard (1...65535).contains(port), let destination = TransportAddress(ip: host, port: UInt16(port)) else {
            throw VideoRoomError(.invalidElement, "Invalid element (port)")
        }
        var feedback: ForwarderFeedback?
        if let rtcpPort {
            guard (1...65535).contains(rtcpPort), let remote = TransportAddress(ip: host, port: UInt16(rtcpPort)) else {
                throw VideoRoomError(.invalidElement, "Invalid element (rtcp_port)")
            }
            let position = stream.position
            let isVideo = stream.kind == .video
            do {
                feedback = try ForwarderFeedback(remote: remote, logger: logger) { [weak feed] in
                    if isVideo { feed?.requestKeyframe(position: position, context: nil) }
                }
            } catch {
                logger.warning("rtp forwarder feedback port not opened", metadata: ["error": "\(error)"])
                throw VideoRoomError(.unknown, "Error binding RTCP socket")
            }
        }
        let forwarder = RTPForwarder(
            id: UInt32.random(in: 1...UInt32.max), position: stream.position, kind: stream.kind, host: host,
            destination: destination, ssrc: ssrc.map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.random(in: 1...UInt32.max),
            layer: layer,
            simulcast: simulcast && stream.kind == .video && stream.isSimulcast
                ? SimulcastForward(codec: VideoCodec(encodingName: stream.media.codec.name),
                                   clockRate: stream.media.codec.clockRate)
                : nil,
            ssrcRequested: ssrc != nil, payloadType: payloadType, srtp: srtp, feedback: feedback)
        feed.addForwarder(forwarder)
        logger.info("rtp forwarder added", metadata: [
            "room": "\(feed.roomID)", "publisher": "\(feed.participantID)", "to": "\(destination)"])
        return forwarder
    }
}
