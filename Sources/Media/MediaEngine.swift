// The media transport: one UDP port shared by every PeerConnection, read by a few reader
// threads (SO_REUSEPORT), with ICE-lite demultiplexing — STUN by USERNAME ufrag, everything
// else by the sender's address. Each reader is a shard (MediaShard) that owns connections: given
// out in turn at creation, each moves at its first ICE check to the reader its datagrams arrive at;
// its datagrams, wherever they arrive, and its timers (DTLS retransmissions, consent, reports) run
// on its owner's thread.

import DTLS
import ICE
import Logging
import Net
import RelayHandover
import SDP
import STUN
import Synchronization

public struct MediaConfiguration: Sendable {
    public var udpPort: UInt16
    /// Reader threads on the shared port; 0 = one per core.
    public var readerThreads: Int
    /// Addresses announced as host candidates (the port is filled in).
    public var announcedAddresses: [TransportAddress]
    public var preferIPv6Socket: Bool
    /// RFC 7675: a connection whose browser sent no valid check for this long is hung up.
    public var consentTimeout: Duration = .seconds(30)
    /// Packets lost (incoming) or NACKed (outgoing) per second on a stream that count as a slow
    /// link; 0 = never report.
    public var slowlinkThreshold = 0
    /// Full ICE (`media.ice_mode = "full"`): every PeerConnection gets its own transport from
    /// this factory instead of ICE-lite on the shared port. nil = ICE-lite.
    public var transportFactory: (any ICETransportFactory)?
    /// Confab's own TURN server hands relayed clients to the engine through this table (ICE-lite
    /// only): their datagrams arrive from the relayed addresses without touching a socket, and what
    /// the engine sends to those addresses leaves as ChannelData from the TURN listener. nil = none.
    public var relayHandover: RelayHandover?

    public init(udpPort: UInt16, readerThreads: Int = 0, announcedAddresses: [TransportAddress],
                preferIPv6Socket: Bool = true) {
        self.udpPort = udpPort
        self.readerThreads = readerThreads
        self.announcedAddresses = announcedAddresses
        self.preferIPv6Socket = preferIPv6Socket
    }
}

public final class MediaEngine: Sendable {
    public let configuration: MediaConfiguration
    public let certificate: DTLSCertificate
    let dtlsContext: DTLSContext
    public let counters = MediaCounters()
    let logger: Logger
    let sockets: [UDPSocket]
    /// One per socket, each with its reader thread. nonisolated(unsafe): written once at the end of
    /// init (the shards need the engine itself), before the engine is shared with any thread.
    nonisolated(unsafe) private(set) var shards: [MediaShard] = []
    private let nextShard = Atomic<Int>(0)
    public let port: UInt16

    private let registry = Mutex(Registry())
    /// Bumped whenever an address→connection binding disappears, so readers drop their caches.
    let routingGeneration = Atomic<UInt64>(0)
    private let running = Atomic<Bool>(true)
    private let stopping = Atomic<Bool>(false)
    private let nextID = Atomic<UInt64>(1)
    private let stoppedThreads = Atomic<Int>(0)

    struct Registry {
        /// With each connection its local credentials, so a reader can check a Binding request's
        /// MESSAGE-INTEGRITY before handing it to the connection's owner.
        var byUfrag: [String: (connection: PeerConnection, local: ICECredentials)] = [:]
        var byAddress: [TransportAddress: PeerConnection] = [:]
        var all: [UInt64: PeerConnection] = [:]
    }

    /// Binds the shared port (every reader socket) at once, so a busy port fails start-up.
    public init(configuration: MediaConfiguration, certificate: DTLSCertificate, logger: Logger) throws {
        self.configuration = configuration
        self.certificate = certificate
        self.dtlsContext = try DTLSContext(certificate: certificate)
        self.logger = logger
        let readers = configuration.readerThreads > 0 ? configuration.readerThreads : Self.coreCount()
        var sockets: [UDPSocket] = []
        var port = configuration.udpPort
        // SO_REUSEPORT would let a second Confab (same user) silently share the port and steal
        // half the packets; an exclusive bind first turns that into a clear start-up error.
        if port != 0 {
            let probe = try UDPSocket(port: port, reusePort: false, preferIPv6: configuration.preferIPv6Socket)
            probe.close()
        }
        for _ in 0..<readers {
            let socket = try UDPSocket(port: port, reusePort: true, preferIPv6: configuration.preferIPv6Socket)
            port = socket.localPort  // port 0 (tests): every reader joins the first one's port
            sockets.append(socket)
        }
        self.sockets = sockets
        self.port = port
        shards = sockets.enumerated().map { MediaShard(index: $0, engine: self, socket: $1) }
        if let handover = configuration.relayHandover, configuration.transportFactory == nil {
            handover.attach(RelayInlet(engine: self))
        }
    }

    /// Host candidates on the shared port, most preferred first.
    public var hostCandidates: [HostCandidate] {
        configuration.announcedAddresses.enumerated().map { HostCandidate(address: $1.with(port: port), index: $0) }
    }

    public func start() {
        for shard in shards {
            spawnThread(name: "confab-media\(shard.index)") { [self] in
                shard.run()
                stoppedThreads.add(1, ordering: .relaxed)
            }
        }
        if let factory = configuration.transportFactory {
            factory.start(engine: self)
            logger.info("media: full ICE (\(factory.name)); UDP port \(port) stays open for plain RTP forwarding")
        } else {
            logger.info("media: ICE-lite on UDP port \(port) (\(sockets.count) reader(s)), candidates \(hostCandidates.map { $0.address.description })")
        }
    }

    /// A send batch on the shared socket, for a thread of a full-ICE transport: forwarding from a
    /// transport callback appends to it (plain RTP forwards go out on the shared port).
    /// The context belongs to the calling thread.
    public func makeSendContext() -> MediaSendContext {
        MediaSendContext(socket: sockets[0], counters: counters, relayHandover: configuration.relayHandover)
    }

    var isRunning: Bool { running.load(ordering: .relaxed) }

    /// Closes every connection and stops the threads (they notice within one poll interval).
    public func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        configuration.relayHandover?.detach()
        // Closed while the shards still run: what a closing connection leaves to its owner's
        // thread (releasing a full-ICE transport) gets done (and a shard runs what is left as it stops).
        for connection in registry.withLock({ Array($0.all.values) }) { connection.close(reason: "Shutting down") }
        running.store(false, ordering: .relaxed)
        for shard in shards { shard.handoff.signal() }  // idle shards sleep up to a second
        for _ in 0..<200 where stoppedThreads.load(ordering: .relaxed) < shards.count {
            usleepMilliseconds(10)
        }
        configuration.transportFactory?.stop()
        for socket in sockets { socket.close() }
    }

    // MARK: - Connections

    /// A new connection, owned by shard `shard` for good when given (placement by the caller, e.g.
    /// connections that should share a thread), else by the next in turn until its first ICE check
    /// shows which reader its datagrams arrive at.
    public func makePeerConnection(label: String, delegate: PeerConnectionDelegate, shard preferred: Int? = nil)
        -> PeerConnection {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        let pinned = preferred.map(shards.indices.contains) ?? false
        let index = pinned ? preferred! : nextShard.add(1, ordering: .relaxed).oldValue % shards.count
        let connection = PeerConnection(id: id, label: label, engine: self, shard: index, pinned: pinned,
                                        delegate: delegate)
        registry.withLock { $0.all[id] = connection }
        shards[index].adopt(connection)
        connection.registerCredentials()
        MediaCounters.bump(counters.peerConnectionsOpened)
        return connection
    }

    public var connectionCount: Int { registry.withLock { $0.all.count } }

    /// How many reader threads (shards) read the shared port: the indices `MediaSendContext.shardIndex`
    /// takes run from 0 to this, exclusive.
    public var readerCount: Int { shards.count }

    func register(_ connection: PeerConnection, credentials: ICECredentials) {
        registry.withLock { $0.byUfrag[credentials.ufrag] = (connection, credentials) }
    }

    /// An ICE restart: the connection's checks come with `new` from now on.
    func reregister(_ connection: PeerConnection, old: ICECredentials, new: ICECredentials) {
        registry.withLock { registry in
            if registry.byUfrag[old.ufrag]?.connection === connection { registry.byUfrag[old.ufrag] = nil }
            registry.byUfrag[new.ufrag] = (connection, new)
        }
    }

    /// An authenticated check came from `address`: route its datagrams to `connection`
    /// (a browser that moved, or a second candidate pair, gets its own binding).
    func bind(_ address: TransportAddress, to connection: PeerConnection) {
        let replaced: Bool = registry.withLock { registry in
            let previous = registry.byAddress.updateValue(connection, forKey: address)
            return previous != nil && previous !== connection
        }
        if replaced { routingGeneration.add(1, ordering: .releasing) }
    }

    func unregister(_ connection: PeerConnection) {
        registry.withLock { registry in
            registry.all[connection.id] = nil
            registry.byUfrag = registry.byUfrag.filter { $0.value.connection !== connection }
            registry.byAddress = registry.byAddress.filter { $0.value !== connection }
        }
        routingGeneration.add(1, ordering: .releasing)
        MediaCounters.bump(counters.peerConnectionsClosed)
    }

    /// The connection whose local ufrag is `ufrag`, with its local credentials.
    func connection(ufrag: Substring) -> (connection: PeerConnection, local: ICECredentials)? {
        registry.withLock { $0.byUfrag[String(ufrag)] }
    }

    func connection(address: TransportAddress) -> PeerConnection? {
        registry.withLock { $0.byAddress[address] }
    }

    /// A direct send outside a reader's batch (timers, close_notify, control RTCP).
    func sendNow(_ bytes: UnsafeRawBufferPointer, to destination: TransportAddress) {
        if let handover = configuration.relayHandover, handover.sendNow(bytes, to: destination) { return }
        if sockets[0].send(bytes, to: destination) {
            MediaCounters.bump(counters.datagramsSent)
        } else {
            MediaCounters.bump(counters.sendFailures)
        }
    }

    func sendNow(_ bytes: [UInt8], to destination: TransportAddress) {
        bytes.withUnsafeBytes { sendNow($0, to: destination) }
    }

    private static func coreCount() -> Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

#if canImport(Glibc)
import Glibc
#endif

func usleepMilliseconds(_ milliseconds: UInt32) {
    usleep(milliseconds * 1000)
}

extension MediaEngine {
    /// The host candidates as SDP `a=candidate` values for answers and offers.
    public var sdpCandidates: [Candidate] {
        hostCandidates.map { candidate in
            Candidate(foundation: candidate.foundation, component: 1, transport: "udp", priority: candidate.priority,
                      address: candidate.address.ip, port: candidate.address.port, type: .host)
        }
    }
}
