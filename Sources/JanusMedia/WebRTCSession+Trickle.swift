// Full trickle (`media.full_trickle`, Janus's `nat.full_trickle`): Confab's own candidates go to
// the client as `trickle` events while libnice gathers them, instead of waiting for gathering and
// writing them into the description. Janus 1.1.2 does the same: its answer carries no candidates
// and no end-of-candidates, and on loopback the host candidate's
// `{"janus":"trickle","candidate":{"sdpMid":"0","sdpMLineIndex":0,"candidate":"candidate:…"}}`
// and then `{"janus":"trickle","candidate":{"completed":true}}` arrive before the answer (janus.js
// keeps candidates that come before the remote description and adds them after it).
// Without full trickle (the default, Janus's half-trickle) no `trickle` event is sent.

import JanusAPI
import Media
import SDP

/// The m-line Confab's `trickle` events name: the first of the bundle (one transport for all).
struct TrickleTarget: Sendable, Equatable {
    var mid: String
    var index: Int

    init(mid: String, index: Int) {
        self.mid = mid
        self.index = index
    }

    /// The first m-line with a mid in a peer's offer (Confab answers every m-line in order).
    init?(bundleOf offer: SessionDescription) {
        guard let index = offer.media.firstIndex(where: { $0.mid != nil }), let mid = offer.media[index].mid else {
            return nil
        }
        self.init(mid: mid, index: index)
    }
}

extension WebRTCSession {
    /// Confab's side of the transport for a description: with full trickle no candidates and no
    /// end-of-candidates (the `trickle` events bring them), otherwise all of them.
    func localTransport(_ connection: PeerConnection, ufrag: String, pwd: String, candidates: [Candidate]) -> LocalTransport {
        let trickles = connection.tricklesLocalCandidates
        return LocalTransport(
            ufrag: ufrag, pwd: pwd,
            fingerprint: Fingerprint(hashFunction: engine.certificate.fingerprint.algorithm.rawValue,
                                     value: engine.certificate.fingerprint.hex),
            setup: .actpass, candidates: trickles ? [] : candidates, iceLite: !connection.usesFullICE,
            endOfCandidates: !trickles)
    }

    /// Set before the transport is made: its first candidates are reported while it is made.
    func setTrickleTarget(_ target: TrickleTarget?) {
        state.withLock { $0.trickleTarget = target ?? $0.trickleTarget }
    }

    /// After an ICE restart with full trickle: the client dropped the old generation's candidates
    /// and the new description has none, so the (unchanged) local candidates are announced again.
    func announceCandidatesAgain(_ connection: PeerConnection) {
        guard connection.tricklesLocalCandidates, let candidates = try? connection.localCandidates(controlling: false)
        else { return }
        for candidate in candidates { peerConnection(connection, didGatherLocalCandidate: candidate) }
        peerConnectionDidFinishGathering(connection)
    }

    public func peerConnection(_ connection: PeerConnection, didGatherLocalCandidate candidate: Candidate) {
        guard let target = currentTrickleTarget(connection) else { return }
        handle.pushCoreEvent("trickle", ["candidate": [
            "sdpMid": .string(target.mid), "sdpMLineIndex": .int(Int64(target.index)),
            "candidate": .string(candidate.sdpAttribute),
        ]])
    }

    public func peerConnectionDidFinishGathering(_ connection: PeerConnection) {
        guard currentTrickleTarget(connection) != nil else { return }
        handle.pushCoreEvent("trickle", ["candidate": ["completed": true]])
    }

    /// The target, when `connection` is still this session's (a replaced or destroyed one stays
    /// quiet; the session sets its connection before the transport is made).
    private func currentTrickleTarget(_ connection: PeerConnection) -> TrickleTarget? {
        state.withLock { state in
            guard state.connection === connection else { return nil }
            return state.trickleTarget
        }
    }
}
