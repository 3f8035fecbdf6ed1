/// Ownership of PeerConnections by reader threads (shards): every datagram of a connection is
/// processed on its owner's thread wherever the kernel delivered it, and the lock-free handoff
/// ring under it keeps each producer's order, wakes its consumer and counts what it drops.
import Foundation
import Logging
import Synchronization
import Testing
import DTLS
import ICE
import Net
import PeerClient
@testable import Media

#if canImport(Glibc)
import Glibc
#endif

/// Echoes RTP like `RecordingEcho` and records which threads each callback ran on.
final class ThreadRecordingEcho: PeerConnectionDelegate {
    let threads = Mutex<Set<UInt>>([])
    let moves = Atomic<Int>(0)

    func peerConnectionDidMoveShard(_ connection: PeerConnection) { moves.add(1, ordering: .relaxed) }

    private func note() { _ = threads.withLock { $0.insert(UInt(bitPattern: Int(bitPattern: pthread_self()))) } }

    func peerConnectionDidConnect(_ connection: PeerConnection) { note() }
    func peerConnection(_ connection: PeerConnection, didCloseWithReason reason: String) {}
    /// From the timers, which run on the owner too.
    func peerConnection(_ connection: PeerConnection, stream: MediaStream, receiving: Bool) { note() }
    func peerConnection(_ connection: PeerConnection, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                        route: InboundRoute, context: MediaSendContext) {
        note()
        connection.sendRTP(UnsafeRawBufferPointer(packet), stream: route.stream, rtx: route.isRTX, context: context)
    }
    func peerConnection(_ connection: PeerConnection, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                        context: MediaSendContext) { note() }
}

@Suite struct ShardTests {
    struct Engine {
        let engine: MediaEngine
        let certificate: DTLSCertificate

        init(readers: Int) throws {
            let configuration = MediaConfiguration(udpPort: 0, readerThreads: readers,
                                                   announcedAddresses: [TransportAddress(ip: "127.0.0.1", port: 0)!],
                                                   preferIPv6Socket: false)
            var logger = Logger(label: "test")
            logger.logLevel = .error
            certificate = try DTLSCertificate.generate()
            engine = try MediaEngine(configuration: configuration, certificate: certificate, logger: logger)
            engine.start()
        }

        static let remoteSSRC: UInt32 = 0x1111_2222

        /// A connection (on `shard` when given) with a client that completed ICE and DTLS.
        func connect(_ delegate: PeerConnectionDelegate, localSSRC: UInt32, shard: Int? = nil,
                     madeOn: ((Int) -> Void)? = nil) throws -> (PeerConnection, PeerClient) {
            let connection = engine.makePeerConnection(label: "ssrc \(localSSRC)", delegate: delegate, shard: shard)
            madeOn?(connection.shardIndex)
            let client = try PeerClient(server: TransportAddress(ip: "127.0.0.1", port: engine.port)!)
            let credentials = connection.applyRemoteICE(ufrag: client.credentials.ufrag)
            var stream = MediaStream(index: 0, mid: "0", kind: .video, codec: "VP8", clockRate: 90000, payloadType: 96,
                                     localSSRC: localSSRC, sends: true, receives: true)
            stream.remoteSSRCs = [Self.remoteSSRC]
            try connection.configure(remoteFingerprint: client.certificate.fingerprint, dtlsRole: .server, streams: [stream])
            try client.checkConnectivity(serverUfrag: credentials.ufrag, serverPwd: credentials.pwd)
            try client.handshake(serverFingerprint: certificate.fingerprint)
            return (connection, client)
        }

        /// Sends 20 packets from `client` and returns how many came back.
        static func echo(_ client: PeerClient) throws -> Int {
            for sequence in UInt16(0)..<20 {
                try client.sendRTP(sequence: sequence, timestamp: UInt32(sequence) * 3000, ssrc: remoteSSRC)
            }
            var echoed: [[UInt8]] = []
            let deadline = Date().addingTimeInterval(2)
            while echoed.count < 20, Date() < deadline { echoed += client.receiveRTP(milliseconds: 100) }
            return echoed.count
        }

        var handedOver: Int { engine.counters.datagramsHandedOver.load(ordering: .relaxed) }
    }

    @Test func aConnectionMovesToTheReaderItsDatagramsArriveAtAndStaysOnOneThread() throws {
        let setup = try Engine(readers: 4)
        defer { setup.engine.stop() }
        var calls: [(PeerConnection, PeerClient, ThreadRecordingEcho)] = []
        var firstShards: [Int] = []
        for index in 0..<8 {
            let echo = ThreadRecordingEcho()
            let (connection, client) = try setup.connect(echo, localSSRC: 0xA000_0000 + UInt32(index),
                                                         madeOn: { firstShards.append($0) })
            calls.append((connection, client, echo))
        }
        // Those that moved told their delegate, once; the others stayed silent.
        for (index, (connection, _, echo)) in calls.enumerated() {
            let moved = connection.shardIndex != firstShards[index]
            #expect(echo.moves.load(ordering: .relaxed) == (moved ? 1 : 0), "call \(index)")
        }
        // Given out in turn, most connections were first owned by a shard whose socket does not
        // get their datagrams (the kernel hashes the address): their first checks were handed
        // over, and they moved (a 1 in 4^8 chance that every one was already in place).
        let handedOverAtSetUp = setup.handedOver
        #expect(handedOverAtSetUp > 0)

        for (index, (_, client, _)) in calls.enumerated() {
            let echoed = try Engine.echo(client)
            #expect(echoed >= 18, "call \(index) got \(echoed) of 20 back")
        }
        // Settled: the media needed no hand-over at all.
        #expect(setup.handedOver == handedOverAtSetUp)
        // Each connection's handshake, packets and reports ran on one thread: its owner's.
        for (index, (_, _, echo)) in calls.enumerated() {
            #expect(echo.threads.withLock { $0.count } == 1, "call \(index) ran on several threads")
        }
        #expect(setup.engine.counters.handoffDropped.load(ordering: .relaxed) == 0)
    }

    @Test func aPinnedConnectionStaysAndItsDatagramsAreHandedToIt() throws {
        let setup = try Engine(readers: 4)
        defer { setup.engine.stop() }
        var calls: [(PeerConnection, PeerClient, ThreadRecordingEcho)] = []
        for index in 0..<8 {
            let echo = ThreadRecordingEcho()
            let (connection, client) = try setup.connect(echo, localSSRC: 0xB000_0000 + UInt32(index), shard: 2)
            calls.append((connection, client, echo))
        }
        let handedOverAtSetUp = setup.handedOver
        for (index, (connection, client, _)) in calls.enumerated() {
            #expect(connection.shardIndex == 2)
            let echoed = try Engine.echo(client)
            #expect(echoed >= 18, "call \(index) got \(echoed) of 20 back")
        }
        // Six of the eight addresses, on average, arrive at other readers: handed over, in order.
        #expect(setup.handedOver > handedOverAtSetUp)
        let threads = calls.map { $0.2.threads.withLock { $0 } }
        #expect(threads.allSatisfy { $0.count == 1 })
        #expect(calls.allSatisfy { $0.2.moves.load(ordering: .relaxed) == 0 })
        #expect(Set(threads.flatMap { $0 }).count == 1)
    }
}

extension ShardTests {
    @Test func forgedChecksAreAnsweredWhereTheyLandAndNeverHandedOver() throws {
        let setup = try Engine(readers: 4)
        defer { setup.engine.stop() }
        let echo = ThreadRecordingEcho()
        let (connection, client) = try setup.connect(echo, localSSRC: 0xC000_0001, shard: 2)
        let serverUfrag = connection.localCredentials.ufrag
        let handedOver = setup.handedOver
        let stunDropped = setup.engine.counters.stunDropped.load(ordering: .relaxed)
        // Sixteen sources (the kernel spreads them over the four readers) send checks naming the
        // call's ufrag with a wrong password: each is answered 401 by the reader it reached.
        var forged = 0
        for _ in 0..<16 {
            let attacker = try PeerClient(server: TransportAddress(ip: "127.0.0.1", port: setup.engine.port)!)
            for _ in 0..<3 {
                let answer = try attacker.checkConnectivity(serverUfrag: serverUfrag, serverPwd: "not-the-password")
                #expect(answer.messageClass == .errorResponse && answer.errorCode?.code == 401)
                forged += 1
            }
        }
        // None of them reached the owner's handoff ring, and all were counted as dropped.
        #expect(setup.handedOver == handedOver)
        #expect(setup.engine.counters.stunDropped.load(ordering: .relaxed) - stunDropped == forged)
        // The call goes on, and a check with the right password from wherever it lands still
        // reaches the owner (handed over when it landed elsewhere) and is answered.
        #expect(try Engine.echo(client) >= 18)
        let credentials = connection.localCredentials
        let answer = try client.checkConnectivity(serverUfrag: credentials.ufrag, serverPwd: credentials.pwd)
        #expect(answer.messageClass == .successResponse)
    }
}

/// A publisher's delegate that forwards each packet to another connection the way the VideoRoom
/// does: directly when both share a shard, else handed over to the subscriber's shard first.
final class CrossShardForwarder: PeerConnectionDelegate, HandedOverPacketHandler {
    let subscriber = Mutex<PeerConnection?>(nil)
    let handlerThreads = Mutex<Set<UInt>>([])

    func peerConnectionDidConnect(_ connection: PeerConnection) {}
    func peerConnection(_ connection: PeerConnection, stream: MediaStream, receiving: Bool) {}
    func peerConnection(_ connection: PeerConnection, didCloseWithReason reason: String) {}
    func peerConnection(_ connection: PeerConnection, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                        context: MediaSendContext) {}
    func peerConnection(_ connection: PeerConnection, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                        route: InboundRoute, context: MediaSendContext) {
        guard let target = subscriber.withLock({ $0 }) else { return }
        if context.shardIndex == target.shardIndex {
            target.sendRTP(UnsafeRawBufferPointer(packet), stream: 0, context: context)
        } else {
            context.handOver(UnsafeRawBufferPointer(packet), route: route, toShard: target.shardIndex, handler: self)
        }
    }
    func handle(handedOver packet: UnsafeMutableRawBufferPointer, length: Int, route: InboundRoute,
                context: MediaSendContext) {
        _ = handlerThreads.withLock { $0.insert(UInt(bitPattern: Int(bitPattern: pthread_self()))) }
        subscriber.withLock { $0 }?.sendRTP(UnsafeRawBufferPointer(rebasing: packet[0..<length]), stream: 0,
                                            context: context)
    }
}

extension ShardTests {
    @Test func aPacketHandedToAnotherShardIsSentFromThatShardsThread() throws {
        let setup = try Engine(readers: 2)
        defer { setup.engine.stop() }
        let forwarder = CrossShardForwarder()
        let subscriberEcho = ThreadRecordingEcho()
        let (_, publisherClient) = try setup.connect(forwarder, localSSRC: 0xA1, shard: 0)
        let (subscriber, subscriberClient) = try setup.connect(subscriberEcho, localSSRC: 0xB2, shard: 1)
        forwarder.subscriber.withLock { $0 = subscriber }

        for sequence in UInt16(0)..<30 {
            try publisherClient.sendRTP(sequence: sequence, timestamp: UInt32(sequence) * 3000, ssrc: Engine.remoteSSRC)
        }
        var received: [[UInt8]] = []
        let deadline = Date().addingTimeInterval(2)
        while received.count < 30, Date() < deadline { received += subscriberClient.receiveRTP(milliseconds: 100) }
        #expect(received.count >= 28)
        #expect(received.allSatisfy { $0.rtpSSRC == 0xB2 })
        // The hand-over ran on the subscriber's own thread (where its handshake ran), not the publisher's.
        let handlerThreads = forwarder.handlerThreads.withLock { $0 }
        #expect(handlerThreads.count == 1)
        #expect(handlerThreads == subscriberEcho.threads.withLock { $0 })
    }
}

@Suite struct DatagramHandoffTests {
    @Test func keepsEachProducersOrderAndWakesTheConsumer() throws {
        let ring = DatagramHandoff<Int>(capacity: 256)
        let producers = 4
        let perProducer = 20_000
        let started = Atomic<Int>(0)
        for producer in 0..<producers {
            spawnThread(name: "producer\(producer)") {
                started.add(1, ordering: .relaxed)
                var bytes = [UInt8](repeating: UInt8(producer), count: 100)
                var sent = 0
                while sent < perProducer {
                    bytes[1] = UInt8(truncatingIfNeeded: sent)
                    let accepted = bytes.withUnsafeBytes {
                        ring.push($0, from: TransportAddress(high: 0, low: 0, port: UInt16(producer)), tag: sent)
                    }
                    ring.signal()
                    if accepted { sent += 1 } else { sched_yield() }
                }
            }
        }
        var next = [Int](repeating: 0, count: producers)
        var received = 0
        var outOfOrder = 0
        var descriptor = pollfd(fd: ring.descriptor, events: Int16(POLLIN), revents: 0)
        let deadline = Date().addingTimeInterval(20)
        while received < producers * perProducer, Date() < deadline {
            if poll(&descriptor, 1, 100) > 0 { ring.acknowledgeWakeup() }
            received += ring.drain { slot, length, source, tag in
                let producer = Int(source.port)
                if tag != next[producer] || slot[0] != UInt8(producer) || length != 100
                    || slot[1] != UInt8(truncatingIfNeeded: tag) { outOfOrder += 1 }
                next[producer] = tag + 1
            }
        }
        #expect(received == producers * perProducer)
        #expect(outOfOrder == 0)
    }

    @Test func aFullRingRefusesAndCounts() {
        let ring = DatagramHandoff<Int>(capacity: 4)
        let bytes: [UInt8] = [0x80, 0, 0, 1]
        let address = TransportAddress(high: 0, low: 0, port: 1)
        let accepted = (0..<5).map { index in bytes.withUnsafeBytes { ring.push($0, from: address, tag: index) } }
        #expect(accepted == [true, true, true, true, false])
        #expect(ring.dropped.load(ordering: .relaxed) == 1)
        var tags: [Int] = []
        ring.drain { _, _, _, tag in tags.append(tag) }
        #expect(tags == [0, 1, 2, 3])
        // Slots come back after a drain; a datagram larger than a slot never fits.
        #expect(bytes.withUnsafeBytes { ring.push($0, from: address, tag: 9) })
        let huge = [UInt8](repeating: 0, count: datagramSlotSize + 1)
        #expect(!huge.withUnsafeBytes { ring.push($0, from: address, tag: 10) })
        #expect(ring.dropped.load(ordering: .relaxed) == 2)
    }
}
