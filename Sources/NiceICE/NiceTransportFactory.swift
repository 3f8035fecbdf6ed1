// Full ICE on libnice (`media.ice_mode = "full"`): the factory the media engine asks for one
// transport per PeerConnection, and the small fixed pool of GLib threads the agents run on.

import CNice
import Dispatch
import ICE
import Logging
import Media
import Net
import Synchronization

public struct NiceConfiguration: Sendable {
    /// Local ports for the agents' sockets (`media.rtp_port_range`).
    public var portRange: ClosedRange<UInt16>
    /// The interface addresses candidates are gathered on (already filtered by the `media`
    /// interface settings; loopback is only used when listed here — libnice skips it otherwise).
    public var localAddresses: [TransportAddress]
    /// `nat_1_1_mapping`: announced instead of the local address of host candidates (or beside
    /// it with `keepPrivate`).
    public var publicAddress: TransportAddress?
    public var keepPrivate = false
    /// A STUN server for server-reflexive candidates.
    public var stunServer: TransportAddress?
    /// A TURN server (UDP) and its long-term credentials for relayed candidates.
    public var turnServer: TransportAddress?
    public var turnUser = ""
    public var turnPassword = ""
    /// GLib threads; 0 = one per core.
    public var threads = 0
    /// Janus's `full_trickle` (`media.full_trickle`): candidates are reported one by one as they
    /// are gathered instead of waited for.
    public var fullTrickle = false
    /// ICE-TCP (RFC 6544, `media.ice_tcp`): TCP candidates (passive and active) beside the UDP ones.
    public var iceTCP = false
    /// How long a new transport waits for gathering to finish before its candidates go into the SDP.
    public var gatheringTimeout: Duration = .seconds(3)

    public init(portRange: ClosedRange<UInt16>, localAddresses: [TransportAddress]) {
        self.portRange = portRange
        self.localAddresses = localAddresses
    }
}

public enum NiceError: Error, CustomStringConvertible {
    case notStarted
    case agent(String)
    /// libnice could not be loaded (it is loaded when full ICE is configured, not before).
    case library(String)

    public var description: String {
        switch self {
        case .notStarted: "the libnice threads are not running"
        case .agent(let reason): "libnice: \(reason)"
        case .library(let reason): "full ICE: \(reason)"
        }
    }
}

public final class NiceTransportFactory: ICETransportFactory {
    public let configuration: NiceConfiguration
    let logger: Logger
    private let workers = Mutex<[NiceWorker]>([])
    private let nextWorker = Atomic<Int>(0)
    /// Agents alive now (created and not yet freed on their thread), for tests and leak checks.
    let liveAgents = Atomic<Int>(0)
    /// The engine's `consentTimeout` (RFC 7675, as in ICE-lite mode), taken at `start`.
    let consentTimeoutNanos = Atomic<UInt64>(30_000_000_000)

    public var name: String { "libnice" }
    public var tricklesLocalCandidates: Bool { configuration.fullTrickle }
    public var agentCount: Int { liveAgents.load(ordering: .acquiring) }

    /// Loads libnice (ICE-lite never does), so it throws when the library is missing.
    public init(configuration: NiceConfiguration, logger: Logger) throws(NiceError) {
        var message = [CChar](repeating: 0, count: 512)
        guard cnice_load(&message, message.count) == 0 else {
            throw .library(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.configuration = configuration
        self.logger = logger
    }

    public func start(engine: MediaEngine) {
        let count = configuration.threads > 0 ? configuration.threads : max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let consent = engine.configuration.consentTimeout.components
        consentTimeoutNanos.store(UInt64(consent.seconds) * 1_000_000_000 + UInt64(consent.attoseconds / 1_000_000_000),
                                  ordering: .relaxed)
        let created = (0..<count).map { NiceWorker(index: $0) }
        for worker in created { worker.start(engine: engine) }
        workers.withLock { $0 = created }
        logger.info("media: full ICE on libnice, \(count) thread(s), ports \(configuration.portRange), addresses \(configuration.localAddresses.map(\.ip))")
    }

    public func stop() {
        let running = workers.withLock { workers in
            defer { workers = [] }
            return workers
        }
        for worker in running { worker.stop() }
    }

    public func makeTransport(owner: any ICETransportOwner, credentials: ICECredentials,
                              controlling: Bool) throws -> any ICETransport {
        let pool = workers.withLock { $0 }
        guard !pool.isEmpty else { throw NiceError.notStarted }
        let worker = pool[nextWorker.add(1, ordering: .relaxed).oldValue % pool.count]
        let transport = try NiceTransport(factory: self, worker: worker, owner: owner, credentials: credentials,
                                          controlling: controlling)
        if !configuration.fullTrickle { transport.waitForGathering(timeout: configuration.gatheringTimeout) }
        return transport
    }
}
