// One reader thread on the shared port and the PeerConnections it owns (a shard). Every
// PeerConnection belongs to one shard at a time: the datagrams the kernel delivers to another
// reader's socket (SO_REUSEPORT spreads remote addresses over the readers), and those Confab's
// TURN server or a full-ICE transport hand over, are passed to the owner through its lock-free
// `DatagramHandoff`, and the owner's thread also runs the connection's timers. A connection
// moves once, at its first ICE check, to the reader its datagrams arrive at (unless it was made
// on a given shard), so steady traffic needs no hand-over. What crosses shards then is a plugin's
// choice: the VideoRoom hands a publisher's packet once to each other shard with subscribers. So
// a connection's receive path and timer work happen on one thread, as in mediasoup's workers —
// the ground for per-connection state without locks.
//
// Hand-overs cost a copy, and a full ring drops (counted as handoff_dropped), like a full socket
// buffer. A Binding request is handed over only once its MESSAGE-INTEGRITY checked out against
// the connection's credentials on the reader that read it, so forged checks naming a known ufrag
// are answered (401) and dropped there and cannot crowd the owner's ring.
//
// The loop: poll the socket and the handoff, read batches with recvmmsg, demultiplex each datagram
// (RFC 7983 first byte), process what this shard owns and hand the rest over, run what others
// handed over, tick the owned connections every 20 ms, flush replies and forwarded packets with
// one sendmmsg, then wake the shards that were handed datagrams (one eventfd write each).
//
// The demultiplexing itself is `MediaInlet`, which the in-process TURN handover (`RelayInlet`)
// shares: a relayed client's datagram takes exactly the path a datagram read from the port takes.

import ICE
import Net
import RelayHandover
import RTP
import STUN
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class MediaShard: @unchecked Sendable {
    // @unchecked Sendable: `owned`, `batch` and `inlet` are only touched on the shard's thread
    // (`run` and what it calls); other threads only use `handoff` (a lock-free MPSC ring) and
    // `adopt` (behind the `arrivals` Mutex); `index`, `engine` and `socket` never change.
    let index: Int
    unowned let engine: MediaEngine
    let socket: UDPSocket
    /// Datagrams for the connections this shard owns, from the other readers and the TURN loop,
    /// and plain packets plugins pass between shards (a publisher's packet for the subscribers
    /// this shard owns).
    /// 512 slots (1 MiB): a third of a second of everything a 10 x 50 room sends in.
    let handoff = DatagramHandoff<HandoffItem>(capacity: 512)
    /// Connections made since the last tick, adopted by the shard's thread at the next one.
    private let arrivals = Mutex<[PeerConnection]>([])
    /// `arrivals` has connections the thread has not taken up yet.
    private let hasArrivals = Atomic<Bool>(false)
    /// Work other threads asked to run here (`PeerConnection.perform`): control-path changes and
    /// rare media-path messages (sender reports), never one per packet.
    private let tasks = Mutex<[@Sendable (MediaSendContext) -> Void]>([])
    private let hasTasks = Atomic<Bool>(false)
    /// The shard's thread (pthread_self), once `run` has started; 0 before.
    private let thread = Atomic<UInt>(0)
    // The shard's thread only, so without the runtime's exclusivity checks (per packet).
    @exclusivity(unchecked) private var owned: [PeerConnection] = []
    private let batch = ReceiveBatch(capacity: 64)
    @exclusivity(unchecked) private var inlet: MediaInlet!
    /// DTLS retransmissions, consent, receiver reports and transport-wide CC are checked this often.
    static let tickIntervalNanos: UInt64 = 20_000_000
    /// How long a shard without connections sleeps in poll(2) when nothing wakes it.
    static let idlePollMilliseconds: Int32 = 1000

    init(index: Int, engine: MediaEngine, socket: UDPSocket) {
        self.index = index
        self.engine = engine
        self.socket = socket
        inlet = MediaInlet(engine: engine,
                           context: MediaSendContext(socket: socket, counters: engine.counters,
                                                     relayHandover: engine.configuration.relayHandover,
                                                     shard: self),
                           home: self)
    }

    /// `connection` belongs to this shard from now on (any thread).
    func adopt(_ connection: PeerConnection) {
        arrivals.withLock { $0.append(connection) }
        hasArrivals.store(true, ordering: .releasing)
        // An idle shard sleeps long (see `run`): it takes the connection up now.
        handoff.signal()
    }

    /// Runs `task` on the shard's thread with its send context, soon (any thread).
    func execute(_ task: @escaping @Sendable (MediaSendContext) -> Void) {
        tasks.withLock { $0.append(task) }
        hasTasks.store(true, ordering: .releasing)
        handoff.signal()
    }

    private func runTasks() {
        guard hasTasks.exchange(false, ordering: .acquiringAndReleasing) else { return }
        let queued = tasks.withLock { tasks in
            defer { tasks.removeAll(keepingCapacity: true) }
            return tasks
        }
        for task in queued { task(inlet.context) }
    }

    /// Whether the caller runs on this shard's thread.
    var isCurrentThread: Bool { thread.load(ordering: .relaxed) == UInt(pthread_self()) }

    func run() {
        thread.store(UInt(pthread_self()), ordering: .relaxed)
        // What was asked of the shard before it stopped (a closing connection releasing its
        // transport) still runs.
        defer { runTasks() }
        var descriptors = [pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: handoff.descriptor, events: Int16(POLLIN), revents: 0)]
        var nextTick = MonotonicClock.nanoseconds() + Self.tickIntervalNanos
        while engine.isRunning {
            let now = MonotonicClock.nanoseconds()
            // Rounded up: rounding down asked poll(2) for 0 ms through the tick's last millisecond,
            // so an idle reader spun through about one millisecond in every twenty. A shard that
            // owns no connection has no timer to run: it sleeps until a datagram, a hand-over, a
            // task, a new connection or the engine's stop wakes it (a second at most).
            let timeout = owned.isEmpty ? Self.idlePollMilliseconds
                : nextTick > now ? Int32((nextTick - now + 999_999) / 1_000_000) : 0
            if poll(&descriptors, 2, timeout) > 0 {
                if descriptors[1].revents != 0 { handoff.acknowledgeWakeup() }
                if descriptors[0].revents != 0 { readSocket() }
            }
            handoff.drain { slot, length, source, item in
                switch item {
                case .datagram(let connection, let arrival):
                    inlet.process(slot, length: length, from: source, on: connection, arrivedAt: arrival)
                case .packet(let handler, let route):
                    handler.handle(handedOver: slot, length: length, route: route, context: inlet.context)
                }
            }
            runTasks()
            let after = MonotonicClock.nanoseconds()
            if after >= nextTick || hasArrivals.load(ordering: .acquiring) {
                tick(now: after)
                nextTick = after + Self.tickIntervalNanos
            }
            inlet.flush()
        }
    }

    private func readSocket() {
        while engine.isRunning, socket.receive(into: batch) > 0 {
            MediaCounters.bump(engine.counters.datagramsReceived, by: batch.count)
            inlet.refreshCacheIfStale()
            for index in 0..<batch.count {
                let length = batch.length(index)
                guard length > 0, let source = batch.source(index) else {
                    // Empty datagrams (and unknown address families) are garbage too.
                    MediaCounters.bump(engine.counters.unclassifiedDropped)
                    continue
                }
                inlet.dispatch(batch.slot(index), length: length, from: source)
            }
            inlet.flush()
            if batch.count < batch.capacity { break }
        }
    }

    /// The owned connections' timers; closed ones are let go.
    private func tick(now: UInt64) {
        hasArrivals.store(false, ordering: .relaxed)
        let newcomers = arrivals.withLock { arrivals -> [PeerConnection] in
            guard !arrivals.isEmpty else { return [] }
            defer { arrivals.removeAll() }
            return arrivals
        }
        owned += newcomers
        // Closed, or moved to the shard its checks arrive at (PeerConnection.settle).
        owned.removeAll { $0.isClosed || $0.shardIndex != index }
        for connection in owned { connection.tick(now: now, context: inlet.context) }
    }
}

/// What travels through a shard's handoff ring with the bytes.
enum HandoffItem {
    /// A datagram for this connection, demultiplexed again on its owner; `arrivedAt`: the shard
    /// whose socket it came in on (nil: from the TURN loop or a full-ICE transport).
    case datagram(PeerConnection, arrivedAt: Int?)
    /// A plain RTP packet for a plugin's handler on this shard (e.g. a publisher's packet for the
    /// subscribers the shard owns).
    case packet(any HandedOverPacketHandler, InboundRoute)
}

/// A plugin's receiver of plain RTP packets handed from one shard to another; `handle` runs on
/// the receiving shard's thread with its send context.
public protocol HandedOverPacketHandler: AnyObject, Sendable {
    func handle(handedOver packet: UnsafeMutableRawBufferPointer, length: Int, route: InboundRoute,
                context: MediaSendContext)
}

/// Demultiplexes datagrams that arrived at the shared port (or were handed over as if they had)
/// to their PeerConnections: those `home` owns are processed here, the rest are handed to their
/// owner's shard. Belongs to one thread.
///
/// The address → connection cache is thread-local and needs no lock on a hit; a miss asks the
/// engine's registry, and the cache is dropped whenever a binding disappears.
final class MediaInlet {
    let engine: MediaEngine
    let context: MediaSendContext
    /// The shard this inlet reads for; nil (the TURN loop's inlet) hands every datagram over.
    /// unowned(unsafe): the shard owns its inlet, so it outlives it; no reference count per packet.
    private unowned(unsafe) let home: MediaShard?
    // One thread, so without the runtime's exclusivity checks (per packet).
    @exclusivity(unchecked) private var cache: [TransportAddress: PeerConnection] = [:]
    @exclusivity(unchecked) private var cacheGeneration: UInt64 = 0

    init(engine: MediaEngine, context: MediaSendContext, home: MediaShard?) {
        self.engine = engine
        self.context = context
        self.home = home
    }

    func refreshCacheIfStale() {
        let generation = engine.routingGeneration.load(ordering: .acquiring)
        if generation != cacheGeneration {
            cache.removeAll(keepingCapacity: true)
            cacheGeneration = generation
        }
    }

    /// One datagram in `slot[0..<length]` (length > 0) from `source`; SRTP is unprotected in place.
    func dispatch(_ slot: UnsafeMutableRawBufferPointer, length: Int, from source: TransportAddress) {
        switch PacketDemux.classify(firstByte: slot[0]) {
        case .stun:
            handleSTUN(slot, length: length, from: source)
        case .dtls, .rtp:
            guard let connection = lookup(source) else { return }
            route(slot, length: length, from: source, to: connection)
        default:
            MediaCounters.bump(engine.counters.unclassifiedDropped)
        }
    }

    /// Sends what processing queued, then wakes the shards that were handed datagrams.
    func flush() {
        context.flush()
    }

    /// Processes the datagram when this inlet's shard owns `connection`, else hands it over.
    private func route(_ slot: UnsafeMutableRawBufferPointer, length: Int, from source: TransportAddress,
                       to connection: PeerConnection) {
        let owner = connection.shardIndex
        if owner == home?.index {
            process(slot, length: length, from: source, on: connection, arrivedAt: owner)
            return
        }
        context.handOver(UnsafeRawBufferPointer(rebasing: slot[0..<length]), from: source,
                         item: .datagram(connection, arrivedAt: home?.index), to: engine.shards[owner])
    }

    /// A datagram for a connection this shard owns (read here, or handed over by another thread).
    func process(_ slot: UnsafeMutableRawBufferPointer, length: Int, from source: TransportAddress,
                 on connection: PeerConnection, arrivedAt arrival: Int?) {
        guard !connection.isClosed else { return }
        let bytes = UnsafeRawBufferPointer(rebasing: slot[0..<length])
        switch PacketDemux.classify(firstByte: slot[0]) {
        case .stun where !connection.usesFullICE:
            // Parsed again when handed over: checks are rare, and the bytes are all that travels.
            guard let message = try? STUNMessage.parse(bytes) else {
                MediaCounters.bump(engine.counters.stunDropped)
                return
            }
            connection.handleBindingRequest(message, from: source, context: context, arrivedAt: arrival)
        case .dtls:
            connection.handleDTLS(bytes, from: source, context: context)
        case .rtp:
            connection.handleSRTP(slot, length: length, context: context)
        default:
            MediaCounters.bump(engine.counters.unclassifiedDropped)
        }
    }

    private func lookup(_ source: TransportAddress) -> PeerConnection? {
        if let cached = cache[source] {
            if !cached.isClosed { return cached }
            cache[source] = nil
        }
        guard let connection = engine.connection(address: source) else {
            MediaCounters.bump(engine.counters.unknownSourceDropped)
            return nil
        }
        cache[source] = connection
        return connection
    }

    /// Binding requests find their connection by the ufrag in USERNAME and are checked against
    /// its local credentials here, on the thread that read them: one that fails (FINGERPRINT,
    /// USERNAME, MESSAGE-INTEGRITY) gets its 400 or 401 from here, so forged checks naming a
    /// known ufrag cost the reader they land on and never crowd the owner's handoff ring.
    /// Anything else STUN (responses, indications, garbage) is dropped and counted.
    private func handleSTUN(_ slot: UnsafeMutableRawBufferPointer, length: Int, from source: TransportAddress) {
        guard let message = try? STUNMessage.parse(UnsafeRawBufferPointer(rebasing: slot[0..<length])),
              message.method == .binding, message.messageClass == .request,
              let ufrag = message.iceLocalUfrag,
              let (connection, local) = engine.connection(ufrag: ufrag) else {
            MediaCounters.bump(engine.counters.stunDropped)
            return
        }
        if let rejection = ICELiteAgent.rejection(of: message, local: local) {
            MediaCounters.bump(engine.counters.stunDropped)
            connection.checksRefusedOnArrival.add(1, ordering: .relaxed)
            engine.logger.debug("\(connection): STUN check from \(source) refused: \(rejection.reason)")
            context.enqueue(rejection.response, to: source)
            return
        }
        if let home, connection.shardIndex == home.index {
            guard !connection.isClosed else { return }
            connection.handleBindingRequest(message, from: source, context: context, arrivedAt: home.index)
        } else {
            route(slot, length: length, from: source, to: connection)
        }
    }
}

/// Datagrams Confab's own TURN server hands over in process (client → SFU), on the TURN event
/// loop: demultiplexed like a datagram read from the port, with the relayed address as the source,
/// and handed to the shard that owns their connection (this inlet owns none, so it never writes
/// into the datagram: the copy into the owner's handoff ring is the only one).
final class RelayInlet: RelayedDatagramSink {
    let inlet: MediaInlet

    init(engine: MediaEngine) {
        inlet = MediaInlet(engine: engine, context: engine.makeSendContext(), home: nil)
    }

    func receive(_ datagram: UnsafeRawBufferPointer, from relayed: TransportAddress) {
        let counters = inlet.engine.counters
        guard inlet.engine.isRunning, datagram.count > 0, datagram.count <= datagramSlotSize else {
            MediaCounters.bump(counters.unclassifiedDropped)
            return
        }
        MediaCounters.bump(counters.datagramsRelayedIn)
        inlet.refreshCacheIfStale()
        inlet.dispatch(UnsafeMutableRawBufferPointer(mutating: datagram), length: datagram.count, from: relayed)
    }

    func flush() { inlet.flush() }
}
