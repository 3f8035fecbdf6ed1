import Net
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TURN listener's UDP socket, shared with the media engine's sending threads (a duplicate of the
/// descriptor the TURN server reads from, so closing either side cannot pull it from under the other).
public struct ClientSocket: Sendable, Hashable {
    public let descriptor: Int32
    public let isIPv6: Bool

    public init(descriptor: Int32, isIPv6: Bool) {
        self.descriptor = descriptor
        self.isIPv6 = isIPv6
    }
}

/// One relayed address handled in process: who its client is, and which of Confab's endpoints the
/// client may exchange packets with (mirrored from the TURN core's permissions and channels).
public final class RelayRoute: Sendable {
    /// The relayed address (bound address and port, never a socket): the SFU sees the client's
    /// packets arriving from it and sends its answers to it.
    public let relayed: TransportAddress
    /// The client's address as the TURN listener sees it.
    public let client: TransportAddress
    /// The TURN UDP listener the client talks to; nil for a client on TCP or TLS.
    public let clientSocket: ClientSocket?
    /// The TURN loop's path for what the fast path cannot send itself (no channel yet: Data
    /// indication; TCP/TLS clients: framing on the NIO channel). Gets a copy and the peer it came from.
    let slowPath: @Sendable ([UInt8], TransportAddress) -> Void
    private let state: Mutex<State>

    struct State {
        /// Confab endpoints (address and port) the client has a permission for → its channel number,
        /// 0 while no channel is bound.
        var peers: [TransportAddress: UInt16] = [:]
        /// The endpoint the client last sent to: answers appear to come from it.
        var lastPeer: TransportAddress?
        /// `turn.max_bps` toward the client, for what the fast path sends.
        var limiter: BandwidthLimiter
        var packets = 0
        var bytes = 0
    }

    public init(relayed: TransportAddress, client: TransportAddress, clientSocket: ClientSocket?,
                maxBitsPerSecond: Int, slowPath: @escaping @Sendable ([UInt8], TransportAddress) -> Void) {
        self.relayed = relayed
        self.client = client
        self.clientSocket = clientSocket
        self.slowPath = slowPath
        state = Mutex(State(limiter: BandwidthLimiter(bitsPerSecond: maxBitsPerSecond, now: MonotonicClock.milliseconds())))
    }

    // MARK: - TURN side

    /// The client may now exchange packets with `peer` (one of Confab's endpoints), through
    /// `channel` when bound (0 = not yet), or no longer at all (`permitted` false).
    public func update(peer: TransportAddress, permitted: Bool, channel: UInt16) {
        state.withLock { state in
            if permitted {
                state.peers[peer] = channel
            } else {
                state.peers[peer] = nil
                if state.lastPeer == peer { state.lastPeer = nil }
            }
        }
    }

    /// The client sent a datagram to `peer`: answers go back as if from there.
    public func noteSent(to peer: TransportAddress) {
        state.withLock { state in
            if state.lastPeer != peer { state.lastPeer = peer }
        }
    }

    /// Payload bytes sent to the client on the fast path so far (for the allocation's end log).
    public var bytesToClient: Int { state.withLock { $0.bytes } }

    // MARK: - Media side

    enum Decision {
        /// ChannelData with this number, from the client's UDP listener.
        case channel(UInt16)
        /// Through the TURN loop (no channel yet, or a stream client), as from this peer.
        case slow(TransportAddress)
        case overCap
        case unroutable
    }

    func decide(_ count: Int) -> Decision {
        state.withLock { state in
            guard let peer = state.lastPeer ?? state.peers.keys.first, let channel = state.peers[peer] else {
                return .unroutable
            }
            guard channel != 0, clientSocket != nil else { return .slow(peer) }
            guard state.limiter.admit(count, now: MonotonicClock.milliseconds()) else { return .overCap }
            state.packets += 1
            state.bytes += count
            return .channel(channel)
        }
    }

    /// Writes ChannelData (header + `datagram`) into `slot`; returns its length, 0 when it does not fit.
    static func writeChannelData(_ datagram: UnsafeRawBufferPointer, channel: UInt16,
                                 into slot: UnsafeMutableRawBufferPointer) -> Int {
        let length = datagram.count + 4
        guard length <= slot.count, datagram.count <= Int(UInt16.max) else { return 0 }
        slot.storeBytes(of: channel.bigEndian, toByteOffset: 0, as: UInt16.self)
        slot.storeBytes(of: UInt16(datagram.count).bigEndian, toByteOffset: 2, as: UInt16.self)
        if let base = datagram.baseAddress, datagram.count > 0 {
            (slot.baseAddress! + 4).copyMemory(from: base, byteCount: datagram.count)
        }
        return length
    }

    /// One datagram at once, outside a batch (a timer's send).
    func sendNow(_ datagram: UnsafeRawBufferPointer, counters: HandoverCounters) {
        switch decide(datagram.count) {
        case .channel(let number):
            guard let socket = clientSocket else { return }
            withUnsafeTemporaryAllocation(byteCount: datagram.count + 4, alignment: 8) { slot in
                let length = Self.writeChannelData(datagram, channel: number, into: slot)
                guard length > 0 else { return }
                if sendDatagram(UnsafeRawBufferPointer(rebasing: slot[0..<length]), descriptor: socket.descriptor,
                                ipv6Socket: socket.isIPv6, to: client) {
                    counters.packetsToClients.add(1, ordering: .relaxed)
                    counters.bytesToClients.add(datagram.count, ordering: .relaxed)
                }
            }
        case .slow(let peer):
            slowPath(Array(datagram), peer)
        case .overCap:
            counters.bandwidthDropped.add(1, ordering: .relaxed)
        case .unroutable:
            counters.unroutableDropped.add(1, ordering: .relaxed)
        }
    }
}
