// The offer side of a WebRTC session: Confab offers (VideoRoom subscribers get the streams they
// asked for as sendonly m-lines) and the browser answers. Confab writes `setup:actpass`; the
// browser's answer picks the DTLS role (Confab is the client when it answers `passive`).

import JanusAPI
import Media
import SDP

extension WebRTCSession {
    /// Offers `streams` (a jsep `{"type":"offer","sdp":...}`); the PeerConnection is created on the
    /// first offer and kept for renegotiations. The answer goes to `applyAnswer(_:)`.
    public func offer(streams: [OfferStream]) throws(JanusError) -> JSON {
        let connection = currentOrNewConnection()
        if let first = streams.first { setTrickleTarget(TrickleTarget(mid: first.mid, index: 0)) }
        let credentials = connection.localCredentials
        let local = localTransport(connection, ufrag: credentials.ufrag, pwd: credentials.pwd,
                                   candidates: try localCandidates(connection, controlling: true))
        let (sessionID, version) = state.withLock { state in
            for stream in streams { state.localStreams[stream.mid] = stream.stream ?? state.localStreams[stream.mid] }
            state.sdpVersion += 1
            return (state.sdpSessionID, state.sdpVersion)
        }
        let offer: SessionDescription
        do {
            offer = try Offerer.offer(streams: streams, local: local, sessionID: sessionID, version: version)
        } catch {
            throw JanusError(.jsepInvalidSDP, "\(error)")
        }
        let text = offer.serialized()
        state.withLock { state in
            state.pendingOffer = offer
            state.localSDP = text
        }
        return ["type": "offer", "sdp": .string(text)]
    }

    /// Confab offered and the answer has not come yet.
    public var hasPendingOffer: Bool { state.withLock { $0.pendingOffer != nil } }

    /// Applies the browser's answer to the pending offer and configures the PeerConnection.
    /// - Returns: the accepted m-lines, in m-line order.
    @discardableResult
    public func applyAnswer(_ jsep: JSON) throws(JanusError) -> [NegotiatedMedia] {
        let answer = try Self.parseDescription(jsep, expecting: "answer")
        let (pending, connection, localStreams) = state.withLock { ($0.pendingOffer, $0.connection, $0.localStreams) }
        guard let pending, let connection, !connection.isClosed else {
            throw JanusError(.webRTCState, "No offer is waiting for an answer")
        }
        let negotiated: [NegotiatedMedia]
        do {
            negotiated = try Offerer.applyAnswer(answer: answer, offer: pending)
        } catch {
            throw JanusError(.jsepInvalidSDP, "\(error)")
        }
        guard let ufrag = negotiated.first?.transport.remoteUfrag else {
            throw JanusError(.jsepInvalidSDP, "The answer accepts no stream")
        }
        _ = connection.applyRemoteICE(ufrag: ufrag)
        try configure(connection, negotiated: negotiated, localStreams: localStreams)
        feedRemoteICE(connection, from: answer, negotiated: negotiated)
        state.withLock { state in
            state.pendingOffer = nil
            state.remoteSDP = jsep["sdp"]?.stringValue
            state.negotiated = negotiated
        }
        return negotiated
    }

    private func currentOrNewConnection() -> PeerConnection {
        state.withLock { state in
            if let existing = state.connection, !existing.isClosed { return existing }
            let created = engine.makePeerConnection(label: "handle \(handle.id)", delegate: self)
            state.connection = created
            state.connected = false
            state.remoteICEReady = false
            return created
        }
    }

    static func parseDescription(_ jsep: JSON, expecting expected: String) throws(JanusError) -> SessionDescription {
        guard let type = jsep["type"]?.stringValue else {
            throw JanusError(.missingMandatoryElement, "Missing mandatory element (type)")
        }
        guard type == expected else {
            throw JanusError(.jsepUnknownType, "JSEP type '\(type)' is not an \(expected)")
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
}
