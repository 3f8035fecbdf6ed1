// One reader thread on the shared port: poll, read a batch with recvmmsg, demultiplex each
// datagram (RFC 7983 first byte), hand it to its PeerConnection, flush the replies and
// forwarded packets with one sendmmsg.
//
// The address → connection cache is thread-local and needs no lock on a hit; a miss asks the
// engine's registry, and the cache is dropped whenever a binding disappears.

import Net
import RTP
import STUN

#if canImport(Glibc)
import Glibc
#endif

final class MediaReader {
    let engine: MediaEngine
    let socket: UDPSocket
    let batch = ReceiveBatch(capacity: 64)
    let context: MediaSendContext
    private var cache: [TransportAddress: PeerConnection] = [:]
    private var cacheGeneration: UInt64 = 0

    init(engine: MediaEngine, socket: UDPSocket) {
        self.engine = engine
        self.socket = socket
        self.context = MediaSendContext(socket: socket, counters: engine.counters)
    }

    func run() {
        var descriptor = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
        while engine.isRunning {
            // 100 ms: how quickly a stopping engine is noticed; data wakes us at once.
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            while engine.isRunning, socket.receive(into: batch) > 0 {
                MediaCounters.bump(engine.counters.datagramsReceived, by: batch.count)
                refreshCacheIfStale()
                for index in 0..<batch.count { dispatch(index) }
                context.flush()
                if batch.count < batch.capacity { break }
            }
        }
    }

    private func refreshCacheIfStale() {
        let generation = engine.routingGeneration.load(ordering: .acquiring)
        if generation != cacheGeneration {
            cache.removeAll(keepingCapacity: true)
            cacheGeneration = generation
        }
    }

    private func dispatch(_ index: Int) {
        let length = batch.length(index)
        guard length > 0, let source = batch.source(index) else {
            // Empty datagrams (and unknown address families) are garbage too.
            MediaCounters.bump(engine.counters.unclassifiedDropped)
            return
        }
        let slot = batch.slot(index)
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
