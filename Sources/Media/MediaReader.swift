// One reader thread on the shared port: poll, read a batch with recvmmsg, demultiplex each
// datagram (RFC 7983 first byte), hand it to its PeerConnection, flush the replies and
// forwarded packets with one sendmmsg.
//
// The demultiplexing itself is `MediaInlet`, which the in-process TURN handover (`RelayInlet`)
// shares: a relayed client's datagram takes exactly the path a datagram read from the port takes.

import Net
import RelayHandover
import RTP
import STUN

#if canImport(Glibc)
import Glibc
#endif

final class MediaReader {
    let engine: MediaEngine
    let socket: UDPSocket
    let batch = ReceiveBatch(capacity: 64)
    let inlet: MediaInlet

    init(engine: MediaEngine, socket: UDPSocket) {
        self.engine = engine
        self.socket = socket
        inlet = MediaInlet(engine: engine,
                           context: MediaSendContext(socket: socket, counters: engine.counters,
                                                     relayHandover: engine.configuration.relayHandover))
    }

    func run() {
        var descriptor = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
        while engine.isRunning {
            // 100 ms: how quickly a stopping engine is noticed; data wakes us at once.
            guard poll(&descriptor, 1, 100) > 0 else { continue }
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
                inlet.context.flush()
                if batch.count < batch.capacity { break }
            }
        }
    }
}

/// Demultiplexes datagrams that arrived at the shared port (or were handed over as if they had)
/// to their PeerConnections. Belongs to one thread.
///
/// The address → connection cache is thread-local and needs no lock on a hit; a miss asks the
/// engine's registry, and the cache is dropped whenever a binding disappears.
final class MediaInlet {
    let engine: MediaEngine
    let context: MediaSendContext
    private var cache: [TransportAddress: PeerConnection] = [:]
    private var cacheGeneration: UInt64 = 0

    init(engine: MediaEngine, context: MediaSendContext) {
        self.engine = engine
        self.context = context
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
            handleSTUN(UnsafeRawBufferPointer(rebasing: slot[0..<length]), from: source)
        case .dtls:
            guard let connection = lookup(source) else { return }
            connection.handleDTLS(UnsafeRawBufferPointer(rebasing: slot[0..<length]), from: source, context: context)
        case .rtp:
            guard let connection = lookup(source) else { return }
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

    /// Binding requests find their connection by the ufrag in USERNAME; anything else STUN
    /// (responses, indications, garbage) is dropped and counted.
    private func handleSTUN(_ bytes: UnsafeRawBufferPointer, from source: TransportAddress) {
        guard let message = try? STUNMessage.parse(bytes),
              message.method == .binding, message.messageClass == .request,
              let ufrag = message.iceLocalUfrag,
              let connection = engine.connection(ufrag: ufrag) else {
            MediaCounters.bump(engine.counters.stunDropped)
            return
        }
        connection.handleBindingRequest(message, from: source, context: context)
    }
}

/// Datagrams Confab's own TURN server hands over in process (client → SFU), on the TURN event
/// loop: copied into one preallocated slot (SRTP is unprotected in place) and demultiplexed like
/// a datagram read from the port, with the relayed address as the source.
final class RelayInlet: RelayedDatagramSink {
    let inlet: MediaInlet
    private let slot = UnsafeMutableRawBufferPointer.allocate(byteCount: datagramSlotSize, alignment: 16)

    init(engine: MediaEngine) {
        inlet = MediaInlet(engine: engine, context: engine.makeSendContext())
    }

    deinit { slot.deallocate() }

    func receive(_ datagram: UnsafeRawBufferPointer, from relayed: TransportAddress) {
        let counters = inlet.engine.counters
        guard inlet.engine.isRunning, datagram.count > 0, datagram.count <= slot.count else {
            MediaCounters.bump(counters.unclassifiedDropped)
            return
        }
        MediaCounters.bump(counters.datagramsRelayedIn)
        slot.copyMemory(from: datagram)
        inlet.refreshCacheIfStale()
        inlet.dispatch(slot, length: datagram.count, from: relayed)
    }

    func flush() { inlet.context.flush() }
}
