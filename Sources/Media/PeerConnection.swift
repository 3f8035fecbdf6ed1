// One WebRTC PeerConnection: ICE (ICE-lite on the shared UDP port, or its own full-ICE
// `ICETransport`) + DTLS-SRTP + the negotiated streams, with the per-packet work of receiving (unprotect, route) and sending (rewrite SSRC,
// protect into the reader's send batch).
//
// Concurrency: the link (ICE agent, DTLS endpoint, full-ICE transport) sits behind a Mutex that
// connectivity checks, handshake datagrams, timers and the control path take — never a media
// packet. The media path (inbound and outbound SRTP, routes, counters) belongs to the thread of
// the shard that owns the connection: packets are received there (MediaShard hands over what
// another reader read), plugins send there (they check `isOwned(by:)`, or go through `perform`),
// timers run there, and the control path's changes reach it through `perform`. So a received
// and a forwarded packet take no lock in here. The owner changes only on its own thread
// (`settle`), so the media path never has two users at once.

import DTLS
import ICE
import Net
import RTP
import SDP
import SRTP
import STUN
import Dispatch
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

    private let link: Mutex<LinkState>
    private let media = MediaPath()
    /// `inboundSources` for other threads: the owner publishes its routes when they change
    /// (negotiation, an SSRC learnt from its first packet).
    private let publishedRoutes = Mutex<[(ssrc: UInt32, route: InboundRoute)]>([])
    private let closedFlag = Atomic<Bool>(false)
    /// Checks naming this connection's ufrag that a reader refused before handing them over
    /// (wrong MESSAGE-INTEGRITY and the like); the agent counts those that reached it.
    let checksRefusedOnArrival = Atomic<Int>(0)
    /// Negotiated streams, replaced wholesale on renegotiation, for the control path (the media
    /// path has its own copy).
    private let streamTable: Mutex<[MediaStream]>

    /// The receive and send sides of the media path.
    private final class MediaPath: @unchecked Sendable {
        // @unchecked Sendable: only touched on the thread of the shard that owns the connection
        // (see the note at the top of the file); the class gives that thread a place to mutate
        // without a lock. For the same reason the runtime's exclusivity checks (a begin/end
        // access pair per use, several per packet) are left out.
        @exclusivity(unchecked) var receive = ReceiveState()
        @exclusivity(unchecked) var send = SendState()
    }

    init(id: UInt64, label: String, engine: MediaEngine, shard: Int, pinned: Bool, delegate: PeerConnectionDelegate) {
        self.id = id
        self.label = label
        self.engine = engine
        self.owner = Atomic(shard)
        self.pinned = pinned
        self.delegateReference = delegate
        let consent = engine.configuration.consentTimeout.components
        let consentNanos = UInt64(consent.seconds) * 1_000_000_000 + UInt64(consent.attoseconds / 1_000_000_000)
        var link = LinkState(ice: ICELiteAgent(consentTimeoutNanos: consentNanos))
        if engine.configuration.transportFactory != nil { link.transportState = .new }
        self.link = Mutex(link)
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
    public var localCredentials: ICECredentials { link.withLock { $0.ice.local } }
    public var streams: [MediaStream] { streamTable.withLock { $0 } }
    var delegate: PeerConnectionDelegate? { delegateReference }

    // MARK: - Negotiation

    /// The browser's ICE ufrag from an offer. A changed ufrag is an ICE restart: the local
    /// credentials change too, and the caller puts the returned ones in its answer.
    public func applyRemoteICE(ufrag: String) -> ICECredentials {
        if usesFullICE {
            // The ICE-lite agent only keeps the credentials here; the transport does the ICE.
            let (old, current) = link.withLock { state -> (ICECredentials, ICECredentials) in
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
        let (old, current) = link.withLock { state -> (ICECredentials, ICECredentials) in
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
        try link.withLock { state throws(MediaError) in
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
        }
        streamTable.withLock { $0 = streams }
        // Media that arrives before the owner has taken the streams up is routed by the previous
        // ones (or dropped, before the first): none can, before DTLS has completed.
        perform { [self] _ in
            media.receive.rebuildRoutes(for: streams)
            publishRoutes()
            if media.send.perStream.count != streams.count {
                media.send.perStream = Array(repeating: PacketCount(), count: streams.count)
            }
            media.send.outgoing = streams.map(OutgoingSSRCs.init)
        }
        startDTLSClientIfConnected()
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

    var transport: (any ICETransport)? { link.withLock { $0.transport } }

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
        let winner = link.withLock { state -> any ICETransport in
            if let existing = state.transport { return existing }
            state.transport = created
            return created
        }
        // Lost a race with another negotiation, or with close(): nothing else will free it.
        if winner !== created || isClosed {
            created.close()
        } else {
            perform { [self] _ in if !isClosed { media.send.transport = created } }
        }
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
        let (started, outlet): ([[UInt8]], Outlet?) = link.withLock { state in
            guard state.transportState == .connected, let outlet = state.outlet, let dtls = state.dtls,
                  dtls.role == .client, dtls.state == .idle else { return ([], nil) }
            dtls.start()
            return (dtls.drainOutbound(), outlet)
        }
        guard let outlet else { return }
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
        let (outcome, activeClient) = link.withLock { state in
            let outcome = state.ice.handle(request: request, from: source, now: now)
            if case .selected(let address) = outcome.event { state.destination = address }
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
        if case .selected(let address) = outcome.event {
            engine.logger.debug("\(self): ICE selected \(address)")
            media.send.destination = address
        }
        // Last use of the media path here: after `settle` it may belong to another thread.
        if outcome.rejection == nil, let arrival { settle(arrivedAt: arrival) }
        for datagram in activeClient { context.enqueue(datagram, to: source) }
    }

    func handleDTLS(_ datagram: UnsafeRawBufferPointer, from source: TransportAddress, context: MediaSendContext) {
        let result = link.withLock { state -> DTLSStep in
            guard let dtls = state.dtls else { return DTLSStep(dropped: true) }
            let wasConnected = dtls.isConnected
            let dropped = dtls.droppedDatagrams
            dtls.receive(datagram: datagram)
            var step = DTLSStep(outbound: dtls.drainOutbound(), dropped: dtls.droppedDatagrams != dropped,
                                outlet: state.outlet)
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
        switch result.outlet ?? .address(source) {
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
            // On the owner: DTLS datagrams are handled there.
            media.receive.srtp = inbound
            media.send.srtp = outbound
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
        let result = media.receive.unprotectRTP(slot, length: length, now: now)
        if media.receive.routesChanged { publishRoutes() }
        guard let (plainLength, route, started) = result else { return dropSRTP() }
        if let started { notifyReceiving(stream: started, receiving: true) }
        delegate?.peerConnection(self, didReceiveRTP: UnsafeMutableRawBufferPointer(rebasing: slot[0..<plainLength]),
                                 route: route, context: context)
    }

    private func handleSRTCP(_ slot: UnsafeMutableRawBufferPointer, length: Int, context: MediaSendContext) {
        let plainLength: Int? = media.receive.srtp.flatMap { try? $0.unprotectRTCP(slot, length: length) }
        guard let plainLength,
              RTCPCompound.isValid(UnsafeRawBufferPointer(rebasing: slot[0..<plainLength])) else { return dropSRTP() }
        let plain = UnsafeRawBufferPointer(rebasing: slot[0..<plainLength])
        let now = MonotonicClock.nanoseconds()
        let threshold = engine.configuration.slowlinkThreshold
        media.receive.rtcpPacketsReceived += 1
        media.receive.feedbackReceived.count(plain)
        media.receive.recordSenderReports(plain, now: now)
        if threshold > 0 { media.receive.recordNACKs(plain) }
        delegate?.peerConnection(self, didReceiveRTCP: UnsafeMutableRawBufferPointer(rebasing: slot[0..<plainLength]),
                                 context: context)
    }

    private func dropSRTP() {
        MediaCounters.bump(engine.counters.srtpDropped)
        media.receive.packetsDropped += 1
    }

    // MARK: - Send path (the owner's thread)

    /// Sends an RTP packet on `stream` (its SSRC is replaced by the stream's local SSRC, or the
    /// local RTX SSRC when `rtx`), protected into `context`'s batch. Dropped silently before
    /// DTLS completes or when the stream does not send. Only on the owner's thread (`context`
    /// must be the owner's; anything else is counted as a send failure and dropped).
    public func sendRTP(_ packet: UnsafeRawBufferPointer, stream index: Int, rtx: Bool = false,
                        context: MediaSendContext, rewrite: (RTPHeaderView) -> Void = { _ in }) {
        guard packet.count >= 12, packet.count + SRTPSession.maxRTPTrailer <= datagramSlotSize else { return }
        guard isOwned(by: context) else { return MediaCounters.bump(engine.counters.sendFailures) }
        guard let srtp = media.send.srtp, let outlet = media.send.outlet, media.send.outgoing.indices.contains(index),
              let ssrc = rtx ? media.send.outgoing[index].rtx : media.send.outgoing[index].media else { return }
        let slot = context.reserve()
        slot.copyMemory(from: packet)
        let view = UnsafeMutableRawBufferPointer(rebasing: slot[0..<packet.count])
        guard let header = RTPHeaderView(view) else { return }
        header.ssrc = ssrc
        rewrite(header)
        guard let length = try? srtp.protect(rtp: slot, length: packet.count) else { return }
        media.send.packetsSent += 1
        media.send.bytesSent += packet.count
        if media.send.perStream.indices.contains(index) {
            media.send.perStream[index].packets += 1
            media.send.perStream[index].bytes += packet.count
        }
        deliver(slot, length: length, outlet: outlet, context: context)
    }

    /// Sends a compound RTCP packet (already carrying the SSRCs the browser knows). From the
    /// owner's thread it goes into `context`'s batch; from anywhere else (signalling, a timer,
    /// another shard's reader: keyframe requests, REMB) a copy is sent from the owner's thread.
    public func sendRTCP(_ compound: UnsafeRawBufferPointer, context: MediaSendContext?) {
        guard compound.count >= 8, compound.count + SRTPSession.maxRTCPTrailer <= datagramSlotSize else { return }
        guard let context, isOwned(by: context) else {
            let copy = Array(compound)
            perform { [self] context in copy.withUnsafeBytes { sendRTCP($0, context: context) } }
            return
        }
        guard let srtp = media.send.srtp, let outlet = media.send.outlet else { return }
        let slot = context.reserve()
        media.send.feedbackSent.count(compound)
        slot.copyMemory(from: compound)
        guard let length = try? srtp.protectRTCP(slot, length: compound.count) else { return }
        media.send.rtcpPacketsSent += 1
        deliver(slot, length: length, outlet: outlet, context: context)
    }

    /// Every incoming SSRC seen or announced so far and where it goes (control paths only: it
    /// copies the table).
    public var inboundSources: [(ssrc: UInt32, route: InboundRoute)] {
        publishedRoutes.withLock { $0 }
    }

    /// The owner's routes, for `inboundSources` (when they changed: rarely).
    private func publishRoutes() {
        media.receive.routesChanged = false
        let routes = media.receive.routes.map { (ssrc: $0.key, route: $0.value) }
        publishedRoutes.withLock { $0 = routes }
    }

    // MARK: - Timers (the owning shard's thread)

    /// DTLS retransmissions, consent expiry, media-stopped detection, receiver reports,
    /// transport-wide CC feedback, slow links.
    func tick(now: UInt64, context: MediaSendContext) {
        guard !isClosed else { return }
        let step = link.withLock { state in (state.tick(now: now), state.outlet) }
        let (linkStep, outlet) = step
        let sender = media.receive.reportSenderSSRC
        let report = media.receive.receiverReport(now: now, senderSSRC: sender)
        let feedback = media.receive.transportFeedbackPackets(now: now, senderSSRC: sender)
        let slowLinks = media.receive.slowLinks(now: now, threshold: engine.configuration.slowlinkThreshold)
        let stopped = media.receive.stoppedStreams(now: now)
        for (position, uplink, lost) in slowLinks where media.receive.streams.indices.contains(position) {
            delegate?.peerConnection(self, stream: media.receive.streams[position].stream, slowLink: uplink, lost: lost)
        }
        if let report { report.withUnsafeBytes { sendRTCP($0, context: context) } }
        for packet in feedback { packet.withUnsafeBytes { sendRTCP($0, context: context) } }
        if let outlet { for datagram in linkStep.outbound { transmit(datagram, outlet: outlet) } }
        for stream in stopped { notifyReceiving(stream: stream, receiving: false) }
        if let reason = linkStep.closeReason { close(reason: reason) }
    }

    /// The `media` event for stream `index` (the owner's thread).
    private func notifyReceiving(stream index: Int, receiving: Bool) {
        guard media.receive.streams.indices.contains(index) else { return }
        delegate?.peerConnection(self, stream: media.receive.streams[index].stream, receiving: receiving)
    }

    // MARK: - Closing

    /// Ends the connection (close_notify to the browser), unregisters it, tells the delegate once.
    public func close(reason: String) {
        guard closedFlag.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        let (farewell, outlet, transport) = link.withLock { state -> ([[UInt8]], Outlet?, (any ICETransport)?) in
            state.ice.close()
            let outlet = state.outlet
            let transport = state.transport
            state.transport = nil
            guard let dtls = state.dtls else { return ([], outlet, transport) }
            dtls.close()
            return (dtls.drainOutbound(), outlet, transport)
        }
        if let outlet {
            for datagram in farewell { transmit(datagram, outlet: outlet) }
        }
        if let transport {
            // Released from the owner's thread, the only one that sends media through it; the
            // transport frees its agent, sockets and sources on its own thread.
            perform { [self] _ in
                media.send.transport = nil
                transport.close()
            }
        }
        engine.unregister(self)
        engine.logger.debug("\(self): closed: \(reason)")
        delegate?.peerConnection(self, didCloseWithReason: reason)
    }

    // MARK: - Introspection

    /// A snapshot for the Admin API (control path). The media path's counters are read on the
    /// owner's thread: the caller waits for it (a shard runs such tasks within one loop, well
    /// under a millisecond unless it is saturated; after a second without an answer, e.g. on a
    /// stopped engine, the link's part alone is returned).
    public var statistics: PeerConnectionStatistics {
        var stats = PeerConnectionStatistics()
        if shard.isCurrentThread {
            fillMediaStatistics(&stats)
        } else {
            let answer = Mutex<PeerConnectionStatistics?>(nil)
            let done = DispatchSemaphore(value: 0)
            perform { [self] _ in
                var media = PeerConnectionStatistics()
                fillMediaStatistics(&media)
                answer.withLock { $0 = media }
                done.signal()
            }
            if done.wait(timeout: .now() + .seconds(1)) == .success, let media = answer.withLock({ $0 }) {
                stats = media
            }
        }
        link.withLock { $0.fill(&stats) }
        stats.checksRejected += checksRefusedOnArrival.load(ordering: .relaxed)
        stats.streams = streams
        return stats
    }

    /// The owner's thread only.
    private func fillMediaStatistics(_ stats: inout PeerConnectionStatistics) {
        media.receive.fill(&stats)
        media.send.fill(&stats)
    }
}

struct DTLSStep {
    var outbound: [[UInt8]] = []
    /// The endpoint dropped the datagram (malformed, forged, duplicate, or after the end).
    var dropped = false
    var keys: SRTPKeyingMaterial?
    var closeReason: String?
    /// Where the handshake's answers go (nil before ICE selected a pair: back to the source).
    var outlet: Outlet?
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
        link.withLock { $0.transportState = .connected }
        engine.logger.debug("\(self): ICE connected \(transport.selectedPair ?? "")")
        startDTLSClientIfConnected()
    }

    public func transport(_ transport: any ICETransport, didFailWithReason reason: String) {
        link.withLock { $0.transportState = .failed }
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
