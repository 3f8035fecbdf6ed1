// One PeerConnection's libnice agent: one stream, one component (bundle + rtcp-mux), controlled
// when Confab answers, controlling when it offers. Datagrams arrive in libnice's receive
// callback on the agent's worker thread, are copied into that worker's preallocated slot and go
// straight into the PeerConnection's DTLS / SRTP demux — no allocation, no async hop. Sends use
// `nice_agent_send` (libnice's API is thread-safe: it takes the agent lock).
//
// Consent (RFC 7675) is Confab's, not libnice's: libnice 0.1.21 hard-codes a 10 s consent
// expiry, a third of the 30 s the RFC and Confab's ICE-lite mode allow, so its consent freshness
// is off (keepalive checks stay on) and a 1 Hz timer per agent hangs up a peer from which nothing
// arrived for `MediaConfiguration.consentTimeout` (NiceConsent.swift).

import CNice
import Dispatch
import ICE
import Media
import Net
import SDP
import Synchronization

/// @unchecked Sendable: `agent` is a libnice agent, safe to call from any thread (libnice locks
/// it internally); `userData` is immutable; everything mutable on the Swift side is in `state`
/// (a Mutex). The agent is freed once, on its worker thread, after `close()`.
final class NiceTransport: ICETransport, @unchecked Sendable {
    let agent: OpaquePointer
    let streamID: guint
    let worker: NiceWorker
    weak let owner: (any ICETransportOwner)?
    unowned let factory: NiceTransportFactory
    private let gathered = DispatchSemaphore(value: 0)
    /// `self`, retained for libnice's callbacks until the agent is freed.
    private var userData: UnsafeMutableRawPointer!
    let state = Mutex(State())
    /// Set by every datagram the agent delivers (one relaxed store per packet); the consent timer
    /// takes it once a second.
    let heard = Atomic<Bool>(false)
    /// The consent timer's GLib source on the worker's context (destroyed when the agent is freed).
    private var consentTimer: UnsafeMutablePointer<GSource>!

    struct State {
        var remoteCredentialsSet = false
        var pendingCandidates: [Candidate] = []
        var pendingComplete = false
        var gatheringDone = false
        var connected = false
        var failed = false
        var closed = false
        var selectedPair: String?
        /// When the consent timer last saw `heard` set (or ICE connected), monotonic nanoseconds.
        var lastHeardNanos: UInt64 = 0
    }

    static let component: guint = 1

    init(factory: NiceTransportFactory, worker: NiceWorker, owner: any ICETransportOwner,
         credentials: ICECredentials, controlling: Bool) throws {
        self.factory = factory
        self.worker = worker
        self.owner = owner
        let configuration = factory.configuration
        // No NICE_AGENT_OPTION_CONSENT_FRESHNESS: its expiry is a fixed 10 s (see the top).
        let options = NICE_AGENT_OPTION_ICE_TRICKLE.rawValue | NICE_AGENT_OPTION_REGULAR_NOMINATION.rawValue
        guard let agent = cn_nice_agent_new_full(worker.context, NICE_COMPATIBILITY_RFC5245,
                                              NiceAgentOption(rawValue: options)) else {
            throw NiceError.agent("nice_agent_new_full failed")
        }
        self.agent = agent
        confab_nice_set_bool(agent, "controlling-mode", controlling ? 1 : 0)
        confab_nice_set_bool(agent, "ice-udp", 1)
        confab_nice_set_bool(agent, "ice-tcp", configuration.iceTCP ? 1 : 0)
        confab_nice_set_bool(agent, "upnp", 0)
        // Keepalives that need an answer: a path that stops answering fails after libnice's 50 s,
        // behind Confab's own 30 s consent expiry.
        confab_nice_set_bool(agent, "keepalive-conncheck", 1)
        if let stun = configuration.stunServer {
            confab_nice_set_string(agent, "stun-server", stun.ip)
            confab_nice_set_uint(agent, "stun-server-port", guint(stun.port))
        }
        for address in configuration.localAddresses {
            var niceAddress = NiceAddress()
            cn_nice_address_init(&niceAddress)
            if cn_nice_address_set_from_string(&niceAddress, address.ip) != 0 {
                _ = cn_nice_agent_add_local_address(agent, &niceAddress)
            }
        }
        streamID = cn_nice_agent_add_stream(agent, 1)
        factory.liveAgents.add(1, ordering: .relaxed)
        guard streamID != 0 else {
            confab_nice_unref(agent)
            factory.liveAgents.subtract(1, ordering: .relaxed)
            throw NiceError.agent("nice_agent_add_stream failed")
        }
        cn_nice_agent_set_port_range(agent, streamID, Self.component, guint(configuration.portRange.lowerBound),
                                  guint(configuration.portRange.upperBound))
        _ = cn_nice_agent_set_local_credentials(agent, streamID, credentials.ufrag, credentials.pwd)
        if let turn = configuration.turnServer {
            _ = cn_nice_agent_set_relay_info(agent, streamID, Self.component, turn.ip, guint(turn.port),
                                          configuration.turnUser, configuration.turnPassword, NICE_RELAY_TYPE_TURN_UDP)
        }

        let data = Unmanaged.passRetained(self).toOpaque()
        userData = data
        _ = cn_nice_agent_attach_recv(agent, streamID, Self.component, worker.context, niceReceive, data)
        _ = confab_nice_on_state(agent, niceStateChanged, data)
        _ = confab_nice_on_gathering_done(agent, niceGatheringDone, data)
        _ = confab_nice_on_selected_pair(agent, niceSelectedPair, data)
        if factory.tricklesLocalCandidates { _ = confab_nice_on_new_candidate(agent, niceNewCandidate, data) }
        consentTimer = startConsentTimer(data)
        guard cn_nice_agent_gather_candidates(agent, streamID) != 0 else {
            close()
            throw NiceError.agent("gathering failed (no usable local address or port in \(configuration.portRange))")
        }
    }

    // MARK: - Local candidates

    func waitForGathering(timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        let nanos = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        if gathered.wait(timeout: .now() + .nanoseconds(nanos)) == .timedOut {
            factory.logger.warning("media: libnice gathering not done after \(timeout); answering with what was found")
        }
    }

    var localCandidates: [Candidate] {
        var candidates: [Candidate] = []
        let list = cn_nice_agent_get_local_candidates(agent, streamID, Self.component)
        var node = list
        while let current = node {
            if let raw = current.pointee.data {
                let candidate = raw.assumingMemoryBound(to: NiceCandidate.self)
                if let parsed = sdpCandidate(candidate) { candidates.append(parsed) }
                cn_nice_candidate_free(candidate)
            }
            node = current.pointee.next
        }
        cn_g_slist_free(list)
        return mapped(candidates)
    }

    private func sdpCandidate(_ candidate: UnsafeMutablePointer<NiceCandidate>) -> Candidate? {
        guard let text = cn_nice_agent_generate_local_candidate_sdp(agent, candidate) else { return nil }
        defer { cn_g_free(text) }
        // libnice writes "UDP"; Janus (and browsers) write the transport in lower case.
        guard var candidate = try? Candidate(parsing: String(cString: text)) else { return nil }
        candidate.transport = candidate.transport.lowercased()
        return candidate
    }

    private func mapped(_ candidates: [Candidate]) -> [Candidate] {
        Self.mapped(candidates, publicAddress: factory.configuration.publicAddress,
                    keepPrivate: factory.configuration.keepPrivate)
    }

    /// nat_1_1_mapping: host candidates announce the public address (as Janus rewrites them).
    static func mapped(_ candidates: [Candidate], publicAddress: TransportAddress?, keepPrivate: Bool) -> [Candidate] {
        guard let publicAddress else { return candidates }
        var result: [Candidate] = []
        for candidate in candidates {
            guard candidate.type == .host else {
                result.append(candidate)
                continue
            }
            var mapped = candidate
            mapped.address = publicAddress.ip
            result.append(mapped)
            if keepPrivate {
                var local = candidate
                local.foundation += "0"
                local.priority = candidate.priority > 0 ? candidate.priority - 1 : 0
                result.append(local)
            }
        }
        return result
    }

    var selectedPair: String? { state.withLock { $0.selectedPair } }

    // MARK: - Remote side

    func setRemoteCredentials(ufrag: String, pwd: String) {
        let (pending, complete) = state.withLock { state -> ([Candidate], Bool) in
            guard !state.closed else { return ([], false) }
            state.remoteCredentialsSet = true
            defer {
                state.pendingCandidates = []
                state.pendingComplete = false
            }
            return (state.pendingCandidates, state.pendingComplete)
        }
        _ = cn_nice_agent_set_remote_credentials(agent, streamID, ufrag, pwd)
        if !pending.isEmpty { apply(pending) }
        if complete { cn_nice_agent_peer_candidate_gathering_done(agent, streamID) }
    }

    func addRemoteCandidates(_ candidates: [Candidate]) {
        let now: Bool = state.withLock { state in
            guard !state.closed else { return false }
            if !state.remoteCredentialsSet { state.pendingCandidates += candidates }
            return state.remoteCredentialsSet
        }
        if now { apply(candidates) }
    }

    func remoteCandidatesComplete() {
        let now: Bool = state.withLock { state in
            guard !state.closed else { return false }
            if !state.remoteCredentialsSet { state.pendingComplete = true }
            return state.remoteCredentialsSet
        }
        if now { cn_nice_agent_peer_candidate_gathering_done(agent, streamID) }
    }

    /// Candidates libnice can parse (mDNS `.local` names are skipped), TCP ones only with ICE-TCP.
    private func apply(_ candidates: [Candidate]) {
        var list: UnsafeMutablePointer<GSList>?
        let tcp = factory.configuration.iceTCP
        for candidate in candidates where candidate.component == 1
            && (candidate.transport.lowercased() == "udp" || (tcp && candidate.transport.lowercased() == "tcp")) {
            guard let parsed = cn_nice_agent_parse_remote_candidate_sdp(agent, streamID,
                                                                    "a=candidate:\(candidate.attributeValue)") else {
                continue
            }
            list = cn_g_slist_append(list, parsed)
        }
        guard let list else { return }
        _ = cn_nice_agent_set_remote_candidates(agent, streamID, Self.component, list)
        var node: UnsafeMutablePointer<GSList>? = list
        while let current = node {
            cn_nice_candidate_free(current.pointee.data?.assumingMemoryBound(to: NiceCandidate.self))
            node = current.pointee.next
        }
        cn_g_slist_free(list)
    }

    func restart(credentials: ICECredentials) {
        let open: Bool = state.withLock { state in
            guard !state.closed else { return false }
            // The new generation's candidates wait for the new remote credentials.
            state.remoteCredentialsSet = false
            state.pendingCandidates = []
            state.pendingComplete = false
            return true
        }
        guard open else { return }
        _ = cn_nice_agent_restart_stream(agent, streamID)
        _ = cn_nice_agent_set_local_credentials(agent, streamID, credentials.ufrag, credentials.pwd)
    }

    // MARK: - Data

    func send(_ datagram: UnsafeRawBufferPointer) -> Bool {
        guard let base = datagram.baseAddress else { return false }
        let sent = cn_nice_agent_send(agent, streamID, Self.component, guint(datagram.count),
                                   base.assumingMemoryBound(to: gchar.self))
        return sent == Int32(datagram.count)
    }

    /// libnice's receive callback (worker thread): handed to the owner, which copies it to its shard.
    fileprivate func received(_ buffer: UnsafePointer<gchar>, length: Int) {
        guard length > 0, let owner else { return }
        heard.store(true, ordering: .relaxed)
        owner.transport(self, didReceive: UnsafeRawBufferPointer(start: buffer, count: length))
    }

    fileprivate func stateChanged(_ newState: guint) {
        enum Report { case none, connected, failed(String) }
        let report: Report = state.withLock { state in
            guard !state.closed else { return .none }
            switch newState {
            case NICE_COMPONENT_STATE_CONNECTED.rawValue, NICE_COMPONENT_STATE_READY.rawValue:
                guard !state.connected else { return .none }
                state.connected = true
                state.lastHeardNanos = MonotonicClock.nanoseconds()
                return .connected
            case NICE_COMPONENT_STATE_FAILED.rawValue:
                guard !state.failed else { return .none }
                state.failed = true
                return .failed(state.connected ? "ICE consent lost" : "ICE failed")
            default:
                return .none
            }
        }
        switch report {
        case .none: break
        case .connected: owner?.transportDidConnect(self)
        case .failed(let reason): owner?.transport(self, didFailWithReason: reason)
        }
    }

    fileprivate func gatheringDone() {
        let first = state.withLock { state in
            defer { state.gatheringDone = true }
            return !state.gatheringDone && !state.closed
        }
        guard first else { return }
        gathered.signal()
        if factory.tricklesLocalCandidates { owner?.transportDidFinishGathering(self) }
    }

    /// Full trickle: each candidate goes out as libnice finds it (host candidates arrive while
    /// `nice_agent_gather_candidates` runs, on the thread that made the transport; server-
    /// reflexive and relayed ones later, on the worker).
    fileprivate func newCandidate(_ candidate: UnsafeMutablePointer<NiceCandidate>) {
        guard candidate.pointee.component_id == Self.component, !state.withLock({ $0.closed }),
              let parsed = sdpCandidate(candidate), let owner else { return }
        for announced in mapped([parsed]) { owner.transport(self, didGather: announced) }
    }

    fileprivate func selectedPairChanged(local: UnsafeMutablePointer<NiceCandidate>, remote: UnsafeMutablePointer<NiceCandidate>) {
        let text = "\(Self.describe(local)) <-> \(Self.describe(remote))"
        state.withLock { $0.selectedPair = text }
    }

    static func describe(_ candidate: UnsafeMutablePointer<NiceCandidate>) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        confab_nice_candidate_ip(candidate, &buffer)
        let ip = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let port = confab_nice_candidate_port(candidate)
        let type = switch candidate.pointee.type {
        case NICE_CANDIDATE_TYPE_HOST: "host"
        case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: "srflx"
        case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: "prflx"
        case NICE_CANDIDATE_TYPE_RELAYED: "relay"
        default: "?"
        }
        let transport = switch candidate.pointee.transport {
        case NICE_CANDIDATE_TRANSPORT_UDP: "udp"
        case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE: "tcp active"
        case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE: "tcp passive"
        default: "tcp so"
        }
        let address = ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        return "\(address) [\(type),\(transport)]"
    }

    // MARK: - Closing

    /// Frees the agent on its worker thread (never inside one of its own callbacks): the
    /// receive callback and signal handlers are detached, the stream (its sockets and sources)
    /// removed, the agent unreferenced, and the callbacks' reference to `self` released.
    func close() {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        gathered.signal()  // nobody waits for a closed agent
        let agent = AgentHandle(agent: agent, streamID: streamID, userData: userData, context: worker.context,
                                consentTimer: consentTimer)
        let factory = factory
        worker.schedule {
            agent.free()
            factory.liveAgents.subtract(1, ordering: .relaxed)
        }
    }
}

/// What the worker needs to free one agent.
///
/// @unchecked Sendable: the pointers are handed from `close()` to the worker thread once and used
/// there only.
struct AgentHandle: @unchecked Sendable {
    let agent: OpaquePointer
    let streamID: guint
    let userData: UnsafeMutableRawPointer
    let context: OpaquePointer
    let consentTimer: UnsafeMutablePointer<GSource>

    func free() {
        cn_g_source_destroy(consentTimer)
        cn_g_source_unref(consentTimer)
        _ = cn_nice_agent_attach_recv(agent, streamID, NiceTransport.component, context, nil, nil)
        confab_nice_disconnect_all(agent, userData)
        cn_nice_agent_remove_stream(agent, streamID)
        confab_nice_unref(agent)
        Unmanaged<NiceTransport>.fromOpaque(userData).release()
    }
}

// MARK: - libnice callbacks (C function pointers; `data` is the retained NiceTransport)

private func transport(_ data: gpointer?) -> NiceTransport? {
    data.map { Unmanaged<NiceTransport>.fromOpaque($0).takeUnretainedValue() }
}

private let niceReceive: NiceAgentRecvFunc = { _, _, _, length, buffer, data in
    guard let buffer else { return }
    transport(data)?.received(buffer, length: Int(length))
}

private let niceStateChanged: confab_nice_state_cb = { _, _, _, newState, data in
    transport(data)?.stateChanged(newState)
}

private let niceGatheringDone: confab_nice_gathering_cb = { _, _, data in
    transport(data)?.gatheringDone()
}

private let niceNewCandidate: confab_nice_candidate_cb = { _, candidate, data in
    guard let candidate else { return }
    transport(data)?.newCandidate(candidate)
}

private let niceSelectedPair: confab_nice_pair_cb = { _, _, _, local, remote, data in
    guard let local, let remote else { return }
    transport(data)?.selectedPairChanged(local: local, remote: remote)
}
