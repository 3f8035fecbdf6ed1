// Connects one Janus plugin handle to its PeerConnection: turns a jsep offer into an answer,
// reports the connection's life as Janus core events (`webrtcup`, `media`, `hangup`) and passes
// media to the plugin.

import DTLS
import JanusAPI
import Logging
import Media
import SDP
import Synchronization

/// What a plugin does with its handle's media (called on reader threads; see
/// `PeerConnectionDelegate` for the rules).
public protocol MediaSink: AnyObject, Sendable {
    /// `connection`: the session's PeerConnection the packet arrived on (no lookup per packet).
    func session(_ session: WebRTCSession, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                 route: InboundRoute, on connection: PeerConnection, context: MediaSendContext)
    func session(_ session: WebRTCSession, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                 context: MediaSendContext)
    /// The PeerConnection is up (after `webrtcup` went out).
    func sessionDidConnect(_ session: WebRTCSession)
    /// The PeerConnection ended (after `hangup` went out); the session can negotiate anew.
    func session(_ session: WebRTCSession, didHangUpWithReason reason: String)
    /// The PeerConnection moved to another media shard (once, at its first ICE check).
    func sessionDidMoveShard(_ session: WebRTCSession)
}

extension MediaSink {
    public func sessionDidMoveShard(_ session: WebRTCSession) {}
}

public final class WebRTCSession: PeerConnectionDelegate, Sendable, CustomStringConvertible {
    public let handle: PluginHandle
    let engine: MediaEngine
    private weak let sink: MediaSink?
    let state = Mutex(State())

    struct State {
        var connection: PeerConnection?
        /// Local SSRCs per mid, kept across renegotiations so the browser's tracks stay the same.
        var localStreams: [String: LocalStream] = [:]
        var sdpSessionID = UInt64.random(in: 1..<(1 << 53))
        var sdpVersion: UInt64 = 1
        var connected = false
        var localSDP: String?
        var remoteSDP: String?
        /// What the last completed negotiation agreed, per accepted m-line.
        var negotiated: [NegotiatedMedia] = []
        /// Confab's own offer waiting for the browser's answer (`offer(streams:)`).
        var pendingOffer: SessionDescription?
        /// Full ICE: the connection knows the peer's credentials, so trickled candidates go
        /// straight to it; before that they wait here.
        var remoteICEReady = false
        /// The peer's ufrag the connection was last given (full ICE).
        var remoteUfrag: String?
        var pendingCandidates: [Candidate] = []
        var pendingCandidatesComplete = false
        /// Full trickle: the m-line Confab's own `trickle` events name (the bundle's first).
        var trickleTarget: TrickleTarget?
    }

    public init(handle: PluginHandle, engine: MediaEngine, sink: MediaSink) {
        self.handle = handle
        self.engine = engine
        self.sink = sink
        handle.onTrickle { [weak self] candidates in self?.trickle(candidates) }
    }

    public var description: String { "webrtc \(handle)" }
    public var connection: PeerConnection? { state.withLock { $0.connection } }
    public var isConnected: Bool { state.withLock { $0.connected } }
    public var streams: [MediaStream] { connection?.streams ?? [] }
    var sdpsAndState: (String?, String?, Bool) { state.withLock { ($0.localSDP, $0.remoteSDP, $0.connected) } }
    /// The m-lines the last negotiation accepted (codecs, extensions, simulcast), in m-line order.
    public var negotiatedMedia: [NegotiatedMedia] { state.withLock { $0.negotiated } }

    // MARK: - Negotiation

    /// Answers a browser's offer (a jsep `{"type":"offer","sdp":...}`); errors carry Janus codes.
    /// - Parameter direction: what the plugin wants on each m-line (e.g. sendrecv for echo).
    public func answer(offer jsep: JSON, codecs: CodecPreferences = CodecPreferences(),
                       direction: (MediaDescription) -> Direction) throws(JanusError) -> JSON {
        let offer = try Self.parseOffer(jsep)
        let connection = state.withLock { state in
            if let existing = state.connection, !existing.isClosed { return existing }
            let created = engine.makePeerConnection(label: "handle \(handle.id)", delegate: self)
            state.connection = created
            state.connected = false
            state.remoteICEReady = false
            return created
        }
        guard let ufrag = offer.media.lazy.compactMap({ offer.iceCredentials(for: $0)?.ufrag }).first else {
            throw JanusError(.jsepInvalidSDP, "Missing ICE credentials in the offer")
        }
        let previousCredentials = connection.localCredentials
        let credentials = connection.applyRemoteICE(ufrag: ufrag)
        let restarted = credentials != previousCredentials
        setTrickleTarget(TrickleTarget(bundleOf: offer))
        let local = localTransport(connection, ufrag: credentials.ufrag, pwd: credentials.pwd,
                                   candidates: try localCandidates(connection, controlling: false))
        let streamsByMid = state.withLock { state in
            for media in offer.media {
                guard let mid = media.mid, state.localStreams[mid] == nil else { continue }
                state.localStreams[mid] = Self.newLocalStream(mid: mid, kind: media.kind, handle: handle)
            }
            state.sdpVersion += 1
            return (state.localStreams, state.sdpSessionID, state.sdpVersion)
        }
        let negotiated: (answer: SessionDescription, media: [NegotiatedMedia])
        do {
            negotiated = try Answerer.answer(offer: offer, local: local, codecs: codecs, direction: direction,
                                             localStreams: { media in media.mid.flatMap { streamsByMid.0[$0] } },
                                             sessionID: streamsByMid.1, sessionVersion: streamsByMid.2)
        } catch {
            throw JanusError(.jsepInvalidSDP, "\(error)")
        }
        try configure(connection, negotiated: negotiated.media, localStreams: streamsByMid.0)
        feedRemoteICE(connection, from: offer, negotiated: negotiated.media)
        let answer = negotiated.answer.serialized()
        state.withLock { state in
            state.localSDP = answer
            state.remoteSDP = jsep["sdp"]?.stringValue
            state.negotiated = negotiated.media
        }
        if restarted { announceCandidatesAgain(connection) }
        return ["type": "answer", "sdp": .string(answer)]
    }

    func configure(_ connection: PeerConnection, negotiated: [NegotiatedMedia],
                           localStreams: [String: LocalStream]) throws(JanusError) {
        guard let transport = negotiated.first?.transport,
              let fingerprint = try? DTLSFingerprint(
                sdpValue: "\(transport.remoteFingerprint.hashFunction) \(transport.remoteFingerprint.value)") else {
            throw JanusError(.jsepInvalidSDP, "Missing or unsupported DTLS fingerprint in the offer")
        }
        let role: DTLSEndpoint.Role = transport.localSetup == .active ? .client : .server
        let streams = negotiated.map { Self.mediaStream($0, local: localStreams[$0.mid]) }
        do {
            try connection.configure(remoteFingerprint: fingerprint, dtlsRole: role, streams: streams)
        } catch {
            throw JanusError(.webRTCState, "\(error)")
        }
    }

    // MARK: - Full ICE: candidates both ways

    /// The candidates for a local description (full ICE gathers on first use).
    func localCandidates(_ connection: PeerConnection, controlling: Bool) throws(JanusError) -> [Candidate] {
        do {
            return try connection.localCandidates(controlling: controlling)
        } catch {
            throw JanusError(.webRTCState, "\(error)")
        }
    }

    /// Full ICE: the peer's credentials and the candidates in its description, then whatever was
    /// trickled before. ICE-lite needs none of it.
    func feedRemoteICE(_ connection: PeerConnection, from description: SessionDescription,
                       negotiated: [NegotiatedMedia]) {
        guard connection.usesFullICE, let transport = negotiated.first?.transport else { return }
        var seen = Set<Candidate>()
        var candidates: [Candidate] = []
        var complete = false
        for media in description.media where !media.isRejected {
            for candidate in media.candidates where candidate.component == 1 && seen.insert(candidate).inserted {
                candidates.append(candidate)
            }
            complete = complete || media.endOfCandidates
        }
        connection.setRemoteICE(ufrag: transport.remoteUfrag, pwd: transport.remotePwd, candidates: candidates,
                                complete: complete)
        let (pending, pendingComplete) = state.withLock { state in
            defer {
                state.pendingCandidates = []
                state.pendingCandidatesComplete = false
            }
            state.remoteICEReady = true
            state.remoteUfrag = transport.remoteUfrag
            // Candidates of an older generation are dropped; the rest go to the connection.
            let current = state.pendingCandidates.filter { candidate in
                candidate.extensions.first { $0.name == "ufrag" }.map { $0.value == transport.remoteUfrag } ?? true
            }
            return (current, state.pendingCandidatesComplete)
        }
        if !pending.isEmpty || pendingComplete { connection.addRemoteCandidates(pending, complete: pendingComplete) }
    }

    /// A `trickle` request's `candidate` object or `candidates` array (`{"completed": true}` ends
    /// them). Unparsable and RTCP-component candidates are skipped, as Janus does.
    func trickle(_ json: JSON) {
        var candidates: [Candidate] = []
        var complete = false
        for item in json.arrayValue ?? [json] {
            if item["completed"]?.boolValue == true {
                complete = true
                continue
            }
            guard let text = item["candidate"]?.stringValue else { continue }
            if text.isEmpty {
                complete = true
                continue
            }
            if let candidate = try? Candidate(parsing: text), candidate.component == 1 { candidates.append(candidate) }
        }
        // A candidate naming another ufrag (Chromium writes `ufrag x`) belongs to an ICE restart
        // whose offer is not applied yet: it waits with the others.
        let ufrags = Set(candidates.compactMap { $0.extensions.first { $0.name == "ufrag" }?.value })
        let connection = state.withLock { state -> PeerConnection? in
            let sameGeneration = ufrags.isEmpty || ufrags == Set([state.remoteUfrag].compactMap { $0 })
            if state.remoteICEReady, sameGeneration, let connection = state.connection, connection.usesFullICE {
                return connection
            }
            state.pendingCandidates += candidates
            state.pendingCandidatesComplete = state.pendingCandidatesComplete || complete
            return nil
        }
        connection?.addRemoteCandidates(candidates, complete: complete)
    }

    static func parseOffer(_ jsep: JSON) throws(JanusError) -> SessionDescription {
        guard let type = jsep["type"]?.stringValue else {
            throw JanusError(.missingMandatoryElement, "Missing mandatory element (type)")
        }
        guard type == "offer" else {
            throw JanusError(.jsepUnknownType, "JSEP type '\(type)' is not an offer")
        }
        guard let sdp = jsep["sdp"]?.stringValue else {
            throw JanusError(.missingMandatoryElement, "Missing mandatory element (sdp)")
        }
        do {
            return try SessionDescription.parse(sdp)
        } catch {
            throw JanusError(.jsepInvalidSDP, "Error parsing SDP: \(error)")
        }
    }

    static func newLocalStream(mid: String, kind: MediaKind, handle: PluginHandle) -> LocalStream {
        LocalStream(ssrc: UInt32.random(in: 1...UInt32.max), rtxSSRC: kind == .video ? UInt32.random(in: 1...UInt32.max) : nil,
                    cname: "confab-\(handle.id)", streamID: "confab-\(handle.id)", trackID: "\(kind)-\(mid)")
    }

    static func mediaStream(_ negotiated: NegotiatedMedia, local: LocalStream?) -> MediaStream {
        let codec = negotiated.codec
        var stream = MediaStream(
            index: negotiated.mLineIndex, mid: negotiated.mid, kind: negotiated.kind, codec: codec.name,
            clockRate: codec.clockRate, payloadType: codec.payloadType, localSSRC: local?.ssrc ?? 0,
            sends: negotiated.localDirection.sends, receives: negotiated.localDirection.receives)
        stream.rtxPayloadType = codec.rtxPayloadType
        stream.localRTXSSRC = codec.rtxPayloadType == nil ? nil : local?.rtxSSRC
        stream.extensions = negotiated.extensions
        stream.feedback = codec.feedback
        stream.remoteSSRCs = negotiated.remoteSources.map(\.ssrc)
        stream.remoteRTXSSRCs = negotiated.remoteSources.compactMap(\.rtxSSRC)
        stream.remoteRids = negotiated.simulcastRIDs
        return stream
    }

    // MARK: - Ending

    /// Closes the PeerConnection (client `hangup`, plugin decision); `hangup` goes out once.
    public func hangUp(reason: String) {
        connection?.close(reason: reason)
    }

    /// The handle is going away: close without telling the client (its handle is gone).
    public func destroy() {
        let connection = state.withLock { state -> PeerConnection? in
            defer { state.connection = nil }
            return state.connection
        }
        connection?.close(reason: "Detach")
    }

    // MARK: - PeerConnectionDelegate

    public func peerConnectionDidMoveShard(_ connection: PeerConnection) {
        sink?.sessionDidMoveShard(self)
    }

    public func peerConnectionDidConnect(_ connection: PeerConnection) {
        guard state.withLock({ state -> Bool in
            guard state.connection === connection, !state.connected else { return false }
            state.connected = true
            return true
        }) else { return }
        handle.pushCoreEvent("webrtcup")
        sink?.sessionDidConnect(self)
    }

    public func peerConnection(_ connection: PeerConnection, stream: MediaStream, receiving: Bool) {
        handle.pushCoreEvent("media", [
            "mid": .string(stream.mid), "type": .string(stream.kind.rawValue), "receiving": .bool(receiving),
        ])
    }

    /// Janus 1.x: `{"janus":"slowlink","mid":..,"media":"video","uplink":true,"lost":N}`.
    public func peerConnection(_ connection: PeerConnection, stream: MediaStream, slowLink uplink: Bool, lost: Int) {
        handle.pushCoreEvent("slowlink", [
            "mid": .string(stream.mid), "media": .string(stream.kind.rawValue), "uplink": .bool(uplink),
            "lost": .int(Int64(lost)),
        ])
    }

    public func peerConnection(_ connection: PeerConnection, didCloseWithReason reason: String) {
        let wasCurrent = state.withLock { state -> Bool in
            guard state.connection === connection else { return false }
            state.connection = nil
            state.connected = false
            state.remoteICEReady = false
            state.pendingCandidates = []
            state.pendingCandidatesComplete = false
            return true
        }
        guard wasCurrent else { return }
        handle.pushCoreEvent("hangup", ["reason": .string(reason)])
        sink?.session(self, didHangUpWithReason: reason)
    }

    public func peerConnection(_ connection: PeerConnection, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                               route: InboundRoute, context: MediaSendContext) {
        sink?.session(self, didReceiveRTP: packet, route: route, on: connection, context: context)
    }

    public func peerConnection(_ connection: PeerConnection, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                               context: MediaSendContext) {
        sink?.session(self, didReceiveRTCP: compound, context: context)
    }
}
