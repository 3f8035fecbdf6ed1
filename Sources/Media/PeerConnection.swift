// One WebRTC PeerConnection: ICE (ICE-lite on the shared UDP port, or its own full-ICE
// `ICETransport`) + DTLS-SRTP + the negotiated streams, with the per-packet work of receiving (unprotect, route) and sending (rewrite SSRC,
// protect into the reader's send batch).
//
// Concurrency: the receive side (ICE, DTLS, inbound SRTP, routes) and the send side (outbound
// SRTP, destination) sit behind two Mutexes, so one subscriber's sends from several publishers'
// reader threads serialise on the send side only. Locks are held for the CPU work on one
// packet, never across a system call or a delegate callback.

import DTLS
import ICE
import Net
import RTP
import SDP
import SRTP
import STUN
import Synchronization

public final class PeerConnection: Sendable, CustomStringConvertible {
    public let id: UInt64
    public let label: String
    unowned let engine: MediaEngine
    /// The index of the reader thread (shard) that receives for this connection and runs its
    /// timers. It changes at most once: see `settle(arrivedAt:)`.
    private let owner: Atomic<Int>
    /// Placed on a shard on purpose (beside the connections it exchanges media with): stays there.
    private let pinned: Bool
    private let settled = Atomic<Bool>(false)
    // weak: the plugin owns the connection, not the other way round. A `weak let` is read
    // without a lock (the runtime's weak reference load), once per received packet.
    private weak let delegateReference: PeerConnectionDelegate?

    private let receiver: Mutex<ReceiveState>
    private let sender: Mutex<SendState>
    private let closedFlag = Atomic<Bool>(false)
    /// Checks naming this connection's ufrag that a reader refused before handing them over
    /// (wrong MESSAGE-INTEGRITY and the like); the agent counts those that reached it.
    let checksRefusedOnArrival = Atomic<Int>(0)
    /// Negotiated streams, replaced wholesale on renegotiation (read per packet by index).
    private let streamTable: Mutex<[MediaStream]>

    init(id: UInt64, label: String, engine: MediaEngine, shard: Int, pinned: Bool, delegate: PeerConnectionDelegate) {
        self.id = id
        self.label = label
        self.engine = engine
        self.owner = Atomic(shard)
        self.pinned = pinned
        self.delegateReference = delegate
        let consent = engine.configuration.consentTimeout.components
        let consentNanos = UInt64(consent.seconds) * 1_000_000_000 + UInt64(consent.attoseconds / 1_000_000_000)
        var receive = ReceiveState(ice: ICELiteAgent(consentTimeoutNanos: consentNanos))
        if engine.configuration.transportFactory != nil { receive.transportState = .new }
        self.receiver = Mutex(receive)
        self.sender = Mutex(SendState())
        self.streamTable = Mutex([])
    }

    public var description: String { "pc \(id) (\(label))" }

    /// The shard (reader thread) that owns this connection: its datagrams and timers run there.
    public var shardIndex: Int { owner.load(ordering: .acquiring) }
    var shard: MediaShard { engine.shards[shardIndex] }

    /// Called by the owner after the first authenticated ICE check, which the kernel delivered to
    /// shard `arrival` (SO_REUSEPORT keeps a remote address on one socket): an unpinned connection
    /// moves there, so that from now on its datagrams need no hand-over. Only the first check
    /// counts, before DTLS; the owner gives the connection up as its last act, the new one adopts it.
    func settle(arrivedAt arrival: Int) {
        guard !settled.exchange(true, ordering: .relaxed), !pinned, !usesFullICE else { return }
        let current = owner.load(ordering: .relaxed)
        guard arrival != current, engine.shards.indices.contains(arrival) else { return }
        owner.store(arrival, ordering: .releasing)
        engine.shards[arrival].adopt(self)
        delegate?.peerConnectionDidMoveShard(self)
    }

    /// Runs `task` on the owning shard's thread, with that thread's send context (any thread;
    /// control-path changes and rare media-path messages, not per packet). A task queued before
    /// the connection moved (`settle`) follows it to the new owner, so a task always runs where
    /// the connection's packets are handled, never beside them.
    public func perform(_ task: @escaping @Sendable (MediaSendContext) -> Void) {
        let target = shard
        target.execute { [self] context in
            // The owner only changes on the owner's own thread (settle), so while this runs on
            // the owner it stays the owner.
            guard shardIndex == target.index else { return perform(task) }
            task(context)
        }
    }

    /// Whether the calling thread, whose send context is `context`, is this connection's owner:
    /// only the owner may touch state that is confined to it.
    public func isOwned(by context: MediaSendContext) -> Bool {
        context.shardIndex == shardIndex
    }
    public var isClosed: Bool { closedFlag.load(ordering: .acquiring) }
    public var localCredentials: ICECredentials { receiver.withLock { $0.ice.local } }
    public var streams: [MediaStream] { streamTable.withLock { $0 } }
    var delegate: PeerConnectionDelegate? { delegateReference }

    // MARK: - Negotiation

    /// The browser's ICE ufrag from an offer. A changed ufrag is an ICE restart: the local
    /// credentials change too, and the caller puts the returned ones in its answer.
    public func applyRemoteICE(ufrag: String) -> ICECredentials {
        if usesFullICE {
            // The ICE-lite agent only keeps the credentials here; the transport does the ICE.
            let (old, current) = receiver.withLock { state -> (ICECredentials, ICECredentials) in
                let old = state.ice.local
                if let known = state.ice.remoteUfrag, known != ufrag {
                    return (old, state.ice.restart(remoteUfrag: ufrag, now: MonotonicClock.nanoseconds()))
                }
                state.ice.setRemote(ufrag: ufrag)
                return (old, old)
            }
            if old != current { transport?.restart(credentials: current) }
            return current
        }
        let (old, current) = receiver.withLock { state -> (ICECredentials, ICECredentials) in
            let old = state.ice.local
            if let known = state.ice.remoteUfrag, known != ufrag {
                return (old, state.ice.restart(remoteUfrag: ufrag, now: MonotonicClock.nanoseconds()))
            }
            state.ice.setRemote(ufrag: ufrag)
            return (old, old)
        }
        if old != current { engine.reregister(self, old: old, new: current) }
        return current
    }

    /// Applies the rest of a negotiation: DTLS parameters (fixed after the first one) and the
    /// streams.
    public func configure(remoteFingerprint: DTLSFingerprint, dtlsRole: DTLSEndpoint.Role,
                          streams: [MediaStream]) throws(MediaError) {
        guard !isClosed else { throw .closed }
        try receiver.withLock { state throws(MediaError) in
            if let dtls = state.dtls {
                guard dtls.remoteFingerprint == remoteFingerprint else {
                    throw .negotiation("the DTLS fingerprint changed during renegotiation")
                }
            } else {
                do {
                    state.dtls = try DTLSEndpoint(context: engine.dtlsContext, role: dtlsRole,
                                                  remoteFingerprint: remoteFingerprint)
                } catch {
                    throw .dtlsSetup("\(error)")
                }
            }
            state.rebuildRoutes(for: streams)
        }
        startDTLSClientIfConnected()
        sender.withLock { state in
            if state.perStream.count != streams.count { state.perStream = Array(repeating: PacketCount(), count: streams.count) }
            state.outgoing = streams.map(OutgoingSSRCs.init)
        }
        streamTable.withLock { $0 = streams }
    }

    /// Prepares the local ICE credentials before the first answer (the ufrag is registered for
    /// demultiplexing from now on).
    func registerCredentials() {
        guard !usesFullICE else { return }
        engine.register(self, credentials: localCredentials)
    }

    // MARK: - Full ICE (an ICETransport of its own)

    /// True in full-ICE mode: the connection gets its own transport instead of the shared port.
    public var usesFullICE: Bool { engine.configuration.transportFactory != nil }

    /// Full trickle (`media.full_trickle`): local descriptions carry no candidates; they reach the
    /// delegate one by one (`peerConnection(_:didGatherLocalCandidate:)`), then the end.
    public var tricklesLocalCandidates: Bool { engine.configuration.transportFactory?.tricklesLocalCandidates ?? false }

    var transport: (any ICETransport)? { sender.withLock { $0.transport } }

    /// The candidates for a local description: the shared port's host candidates (ICE-lite), or
    /// those gathered by this connection's transport, which is made on first use — controlling
    /// when Confab offers, controlled when it answers.
    public func localCandidates(controlling: Bool) throws(MediaError) -> [Candidate] {
        guard let factory = engine.configuration.transportFactory else { return engine.sdpCandidates }
        if let existing = transport { return existing.localCandidates }
        guard !isClosed else { throw .closed }
        let created: any ICETransport
        do {
            created = try factory.makeTransport(owner: self, credentials: localCredentials, controlling: controlling)
        } catch {
            throw .transport("\(error)")
        }
        let winner = sender.withLock { state -> any ICETransport in
            if let existing = state.transport { return existing }
            state.transport = created
            return created
        }
        // Lost a race with another negotiation, or with close(): nothing else will free it.
        if winner !== created || isClosed { created.close() }
        return winner.localCandidates
    }

    /// The peer's ICE credentials and candidates from its offer or answer (full ICE only; the
    /// ICE-lite agent needs nothing but the ufrag).
    public func setRemoteICE(ufrag: String, pwd: String, candidates: [Candidate], complete: Bool) {
        guard let transport else { return }
        transport.setRemoteCredentials(ufrag: ufrag, pwd: pwd)
        if !candidates.isEmpty { transport.addRemoteCandidates(candidates) }
        if complete { transport.remoteCandidatesComplete() }
    }

    /// Candidates from a `trickle` request (`complete` for `{"completed": true}`). ICE-lite
    /// ignores them: the browser's checks bring its addresses.
    public func addRemoteCandidates(_ candidates: [Candidate], complete: Bool) {
        guard let transport else { return }
        if !candidates.isEmpty { transport.addRemoteCandidates(candidates) }
        if complete { transport.remoteCandidatesComplete() }
    }

    /// The DTLS client (Confab when the browser answered `passive`) starts once ICE works.
    private func startDTLSClientIfConnected() {
        guard let outlet = sender.withLock({ $0.outlet }) else { return }
        let started: [[UInt8]] = receiver.withLock { state in
            guard state.transportState == .connected, let dtls = state.dtls, dtls.role == .client,
                  dtls.state == .idle else { return [] }
            dtls.start()
            return dtls.drainOutbound()
        }
        for datagram in started { transmit(datagram, outlet: outlet) }
    }

    /// Sends one datagram outside a batch: on the shared port or through the transport.
    private func transmit(_ bytes: [UInt8], outlet: Outlet) {
        bytes.withUnsafeBytes { transmit($0, outlet: outlet) }
    }

    private func transmit(_ bytes: UnsafeRawBufferPointer, outlet: Outlet) {
        switch outlet {
        case .address(let destination):
            engine.sendNow(bytes, to: destination)
        case .transport(let transport):
            if transport.send(bytes) {
                MediaCounters.bump(engine.counters.datagramsSent)
            } else {
                MediaCounters.bump(engine.counters.sendFailures)
            }
        }
    }

    /// A datagram protected into `context`'s reserved slot goes out: committed to the batch
    /// (shared port) or sent through the transport at once.
    private func deliver(_ slot: UnsafeMutableRawBufferPointer, length: Int, outlet: Outlet, context: MediaSendContext) {
        switch outlet {
        case .address(let destination):
            context.commit(length: length, to: destination)
        case .transport:
            transmit(UnsafeRawBufferPointer(rebasing: slot[0..<length]), outlet: outlet)
        }
    }

    // MARK: - Receive path (reader threads)

    /// A Binding request for this connection's ufrag; the response goes into `context`.
    /// `arrival`: the shard whose socket it came in on (nil: handed over by the TURN server).
    func handleBindingRequest(_ request: STUNMessage, from source: TransportAddress, context: MediaSendContext,
                              arrivedAt arrival: Int? = nil) {
        let now = MonotonicClock.nanoseconds()
        let (outcome, activeClient) = receiver.withLock { state in
            let outcome = state.ice.handle(request: request, from: source, now: now)
            // A DTLS client starts its handshake once ICE has a pair (we are client only when
            // the browser answered `passive`).
            var started: [[UInt8]] = []
            if case .selected = outcome.event, let dtls = state.dtls, dtls.role == .client, dtls.state == .idle {
                dtls.start()
                started = dtls.drainOutbound()
            }
            return (outcome, started)
        }
        if let rejection = outcome.rejection {
            MediaCounters.bump(engine.counters.stunDropped)
            engine.logger.debug("\(self): STUN check from \(source) refused: \(rejection)")
        } else {
            engine.bind(source, to: self)
        }
        if let response = outcome.response { context.enqueue(response, to: source) }
        if outcome.rejection == nil, let arrival { settle(arrivedAt: arrival) }
        if case .selected(let address) = outcome.event {
            engine.logger.debug("\(self): ICE selected \(address)")
            sender.withLock { $0.destination = address }
        }
        for datagram in activeClient { context.enqueue(datagram, to: source) }
    }

    func handleDTLS(_ datagram: UnsafeRawBufferPointer, from source: TransportAddress, context: MediaSendContext) {
        let result = receiver.withLock { state -> DTLSStep in
            guard let dtls = state.dtls else { return DTLSStep(dropped: true) }
            let wasConnected = dtls.isConnected
            let dropped = dtls.droppedDatagrams
            dtls.receive(datagram: datagram)
            var step = DTLSStep(outbound: dtls.drainOutbound(), dropped: dtls.droppedDatagrams != dropped)
            switch dtls.state {
            case .connected where !wasConnected:
                step.keys = dtls.keyingMaterial
            case .closed:
                step.closeReason = "DTLS alert"
            case .failed(let error):
                step.closeReason = "\(error)"  // DTLSError texts already say "DTLS ..."
            default:
                break
            }
            return step
        }
        if result.dropped { MediaCounters.bump(engine.counters.dtlsDropped) }
        switch sender.withLock({ $0.outlet }) ?? .address(source) {
        case .address(let destination):
            for datagram in result.outbound { context.enqueue(datagram, to: destination) }
        case let outlet:
            for datagram in result.outbound { transmit(datagram, outlet: outlet) }
        }
        if let keys = result.keys { installKeys(keys) }
        if let reason = result.closeReason { close(reason: reason) }
    }

    private func installKeys(_ keys: SRTPKeyingMaterial) {
        do {
            let inbound = try SRTPSession(profile: keys.profile, masterKey: keys.remote, direction: .inbound)
            let outbound = try SRTPSession(profile: keys.profile, masterKey: keys.local, direction: .outbound)
            receiver.withLock { $0.srtp = inbound }
            sender.withLock { $0.srtp = outbound }
        } catch {
            close(reason: "SRTP setup failed: \(error)")
            return
        }
        engine.logger.debug("\(self): DTLS connected, SRTP \(keys.profile)")
        delegate?.peerConnectionDidConnect(self)
    }

    /// One SRTP or SRTCP packet in `slot[0..<length]`, decrypted in place and handed on.
    func handleSRTP(_ slot: UnsafeMutableRawBufferPointer, length: Int, context: MediaSendContext) {
        guard length >= 8 else { return dropSRTP() }
        if PacketDemux.isRTCPPacketType(secondByte: slot[1]) {
            handleSRTCP(slot, length: length, context: context)
            return
        }
        let now = MonotonicClock.nanoseconds()
        let result = receiver.withLock { state in state.unprotectRTP(slot, length: length, now: now) }
        guard let (plainLength, route, started) = result else { return dropSRTP() }
        if let started { notifyReceiving(stream: started, receiving: true) }
        delegate?.peerConnection(self, didReceiveRTP: UnsafeMutableRawBufferPointer(rebasing: slot[0..<plainLength]),
                                 route: route, context: context)
    }

    private func handleSRTCP(_ slot: UnsafeMutableRawBufferPointer, length: Int, context: MediaSendContext) {
        let plainLength: Int? = receiver.withLock { state in
            guard let srtp = state.srtp else { return nil }
            return try? srtp.unprotectRTCP(slot, length: length)
        }
        guard let plainLength,
              RTCPCompound.isValid(UnsafeRawBufferPointer(rebasing: slot[0..<plainLength])) else { return dropSRTP() }
        let plain = UnsafeRawBufferPointer(rebasing: slot[0..<plainLength])
        let now = MonotonicClock.nanoseconds()
        let threshold = engine.configuration.slowlinkThreshold
        let localSSRCs = threshold > 0 ? localSSRCPositions : [:]
        receiver.withLock { state in
            state.rtcpPacketsReceived += 1
            state.feedbackReceived.count(plain)
            state.recordSenderReports(plain, now: now)
            if threshold > 0 { state.recordNACKs(plain, localSSRCs: localSSRCs) }
        }
        delegate?.peerConnection(self, didReceiveRTCP: UnsafeMutableRawBufferPointer(rebasing: slot[0..<plainLength]),
                                 context: context)
    }

    private func dropSRTP() {
        MediaCounters.bump(engine.counters.srtpDropped)
        receiver.withLock { $0.packetsDropped += 1 }
    }

    // MARK: - Send path

    /// Sends an RTP packet on `stream` (its SSRC is replaced by the stream's local SSRC, or the
    /// local RTX SSRC when `rtx`), protected into `context`'s batch. Dropped silently before
    /// DTLS completes or when the stream does not send.
    public func sendRTP(_ packet: UnsafeRawBufferPointer, stream index: Int, rtx: Bool = false,
                        context: MediaSendContext, rewrite: (RTPHeaderView) -> Void = { _ in }) {
        guard packet.count >= 12, packet.count + SRTPSession.maxRTPTrailer <= datagramSlotSize else { return }
        let slot = context.reserve()
        let sent: (Int, Outlet)? = sender.withLock { state in
            guard let srtp = state.srtp, let outlet = state.outlet, state.outgoing.indices.contains(index),
                  let ssrc = rtx ? state.outgoing[index].rtx : state.outgoing[index].media else { return nil }
            slot.copyMemory(from: packet)
            let view = UnsafeMutableRawBufferPointer(rebasing: slot[0..<packet.count])
            guard let header = RTPHeaderView(view) else { return nil }
            header.ssrc = ssrc
            rewrite(header)
            guard let length = try? srtp.protect(rtp: slot, length: packet.count) else { return nil }
            state.packetsSent += 1
            state.bytesSent += packet.count
            if state.perStream.indices.contains(index) {
                state.perStream[index].packets += 1
                state.perStream[index].bytes += packet.count
            }
            return (length, outlet)
        }
        if let (length, outlet) = sent { deliver(slot, length: length, outlet: outlet, context: context) }
    }

    /// Sends a compound RTCP packet (already carrying the SSRCs the browser knows).
    public func sendRTCP(_ compound: UnsafeRawBufferPointer, context: MediaSendContext?) {
        guard compound.count >= 8, compound.count + SRTPSession.maxRTCPTrailer <= datagramSlotSize else { return }
        if let context {
            let slot = context.reserve()
            if let (length, outlet) = protectRTCP(compound, into: slot) {
                deliver(slot, length: length, outlet: outlet, context: context)
            }
            return
        }
        // Off the media path (timers, signalling): a one-off buffer and a direct send.
        var buffer = [UInt8](repeating: 0, count: datagramSlotSize)
        let result = buffer.withUnsafeMutableBytes { protectRTCP(compound, into: $0) }
        if let (length, outlet) = result {
            buffer.withUnsafeBytes { transmit(UnsafeRawBufferPointer(rebasing: $0[0..<length]), outlet: outlet) }
        }
    }

    private func protectRTCP(_ compound: UnsafeRawBufferPointer, into slot: UnsafeMutableRawBufferPointer) -> (Int, Outlet)? {
        sender.withLock { state in
            guard let srtp = state.srtp, let outlet = state.outlet else { return nil }
            state.feedbackSent.count(compound)
            slot.copyMemory(from: compound)
            guard let length = try? srtp.protectRTCP(slot, length: compound.count) else { return nil }
            state.rtcpPacketsSent += 1
            return (length, outlet)
        }
    }

    /// Every incoming SSRC seen or announced so far and where it goes (control paths only: it
    /// copies the table).
    public var inboundSources: [(ssrc: UInt32, route: InboundRoute)] {
        receiver.withLock { state in state.routes.map { ($0.key, $0.value) } }
    }

    // MARK: - Timers (the owning shard's thread)

    /// DTLS retransmissions, consent expiry, media-stopped detection.
    func tick(now: UInt64) {
        guard !isClosed else { return }
        let reporter = reportSenderSSRC
        let step = receiver.withLock { state in
            var step = state.tick(now: now)
            step.receiverReport = state.receiverReport(now: now, senderSSRC: reporter)
            step.transportFeedback = state.transportFeedbackPackets(now: now, senderSSRC: reporter)
            step.slowLinks = state.slowLinks(now: now, threshold: engine.configuration.slowlinkThreshold)
            return step
        }
        for (position, uplink, lost) in step.slowLinks {
            if let stream = streamTable.withLock({ $0.indices.contains(position) ? $0[position] : nil }) {
                delegate?.peerConnection(self, stream: stream, slowLink: uplink, lost: lost)
            }
        }
        if let report = step.receiverReport { report.withUnsafeBytes { sendRTCP($0, context: nil) } }
        for feedback in step.transportFeedback { feedback.withUnsafeBytes { sendRTCP($0, context: nil) } }
        if !step.outbound.isEmpty, let outlet = sender.withLock({ $0.outlet }) {
            for datagram in step.outbound { transmit(datagram, outlet: outlet) }
        }
        for stream in step.stoppedStreams { notifyReceiving(stream: stream, receiving: false) }
        if let reason = step.closeReason { close(reason: reason) }
    }

    /// Our sending SSRCs (media and RTX) → stream position, for attributing the browser's NACKs.
    private var localSSRCPositions: [UInt32: Int] {
        streamTable.withLock { streams in
            var positions: [UInt32: Int] = [:]
            for (position, stream) in streams.enumerated() {
                positions[stream.localSSRC] = position
                if let rtx = stream.localRTXSSRC { positions[rtx] = position }
            }
            return positions
        }
    }

    /// The SSRC our receiver reports come from: the first stream's local SSRC, which the browser
    /// knows from our SDP when we send; any SSRC is valid for a pure receiver (RFC 3550 §6.4.2).
    private var reportSenderSSRC: UInt32 {
        streamTable.withLock { $0.first?.localSSRC ?? 1 }
    }

    private func notifyReceiving(stream index: Int, receiving: Bool) {
        let stream = streamTable.withLock { $0.indices.contains(index) ? $0[index] : nil }
        if let stream { delegate?.peerConnection(self, stream: stream, receiving: receiving) }
    }

    // MARK: - Closing

    /// Ends the connection (close_notify to the browser), unregisters it, tells the delegate once.
    public func close(reason: String) {
        guard closedFlag.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        let farewell: [[UInt8]] = receiver.withLock { state in
            state.ice.close()
            guard let dtls = state.dtls else { return [] }
            dtls.close()
            return dtls.drainOutbound()
        }
        if let outlet = sender.withLock({ $0.outlet }) {
            for datagram in farewell { transmit(datagram, outlet: outlet) }
        }
        // The transport's agent, sockets and sources are freed on its own thread.
        sender.withLock { state in
            defer { state.transport = nil }
            return state.transport
        }?.close()
        engine.unregister(self)
        engine.logger.debug("\(self): closed: \(reason)")
        delegate?.peerConnection(self, didCloseWithReason: reason)
    }

    // MARK: - Introspection

    public var statistics: PeerConnectionStatistics {
        var stats = receiver.withLock { $0.statistics }
        stats.checksRejected += checksRefusedOnArrival.load(ordering: .relaxed)
        sender.withLock { state in
            stats.selectedAddress = state.destination
            stats.selectedPair = state.transport?.selectedPair
            stats.packetsSent = state.packetsSent
            stats.bytesSent = state.bytesSent
            stats.rtcpPacketsSent = state.rtcpPacketsSent
            stats.feedbackSent = state.feedbackSent
            stats.outbound = state.perStream
        }
        stats.streams = streams
        stats.localCandidates = transport?.localCandidates
        return stats
    }
}

struct DTLSStep {
    var outbound: [[UInt8]] = []
    /// The endpoint dropped the datagram (malformed, forged, duplicate, or after the end).
    var dropped = false
    var keys: SRTPKeyingMaterial?
    var closeReason: String?
}

public enum MediaError: Error, Sendable, CustomStringConvertible {
    case negotiation(String)
    case dtlsSetup(String)
    case transport(String)
    case closed

    public var description: String {
        switch self {
        case .negotiation(let reason): reason
        case .dtlsSetup(let reason): "DTLS setup failed: \(reason)"
        case .transport(let reason): "ICE transport failed: \(reason)"
        case .closed: "the PeerConnection is closed"
        }
    }
}

// MARK: - ICETransportOwner (full ICE)

extension PeerConnection: ICETransportOwner {
    public func transportDidConnect(_ transport: any ICETransport) {
        receiver.withLock { $0.transportState = .connected }
        engine.logger.debug("\(self): ICE connected \(transport.selectedPair ?? "")")
        startDTLSClientIfConnected()
    }

    public func transport(_ transport: any ICETransport, didFailWithReason reason: String) {
        receiver.withLock { $0.transportState = .failed }
        close(reason: reason)
    }

    public func transport(_ transport: any ICETransport, didGather candidate: Candidate) {
        guard !isClosed else { return }
        delegate?.peerConnection(self, didGatherLocalCandidate: candidate)
    }

    public func transportDidFinishGathering(_ transport: any ICETransport) {
        guard !isClosed else { return }
        delegate?.peerConnectionDidFinishGathering(self)
    }

    /// Handed to the owning shard, which runs the same per-packet path as for the shared port
    /// (RFC 7983 first byte → DTLS or SRTP/SRTCP; the transport consumed the STUN itself).
    public func transport(_ transport: any ICETransport, didReceive datagram: UnsafeRawBufferPointer) {
        MediaCounters.bump(engine.counters.datagramsReceived)
        guard !datagram.isEmpty, !isClosed else { return }
        MediaCounters.bump(engine.counters.datagramsHandedOver)
        guard shard.handoff.push(datagram, from: Self.noAddress, tag: .datagram(self, arrivedAt: nil)) else {
            MediaCounters.bump(engine.counters.handoffDropped)
            return
        }
        // libnice reports no batch boundaries; the signal costs a system call only when the shard
        // has not been woken since it last looked.
        shard.handoff.signal()
    }

    /// Stands in for a source address where the transport, not an address, is the route.
    static let noAddress = TransportAddress(high: 0, low: 0, port: 0)
}

/// Where a connection's datagrams go: an address on the shared port (ICE-lite) or its transport.
enum Outlet {
    case address(TransportAddress)
    case transport(any ICETransport)
}
