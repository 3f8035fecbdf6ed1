/// media.stun_server: a STUN server on loopback that maps every request to 192.0.2.1 (a
/// documentation address, never contacted) gives a server-reflexive candidate in the SDP set.
import Foundation
import Synchronization
import Testing
import ICE
import Media
import Net
import SDP
import STUN
@testable import NiceICE

#if canImport(Glibc)
import Glibc
#endif

/// Answers Binding requests on 127.0.0.1 with 192.0.2.1:<source port>: XOR-MAPPED-ADDRESS for RFC 5389
/// requests, MAPPED-ADDRESS for RFC 3489 ones (what libnice sends for server-reflexive discovery).
final class FakeSTUNServer: Sendable {
    let descriptor: Int32
    let port: UInt16
    let requests = Atomic<Int>(0)
    let datagrams = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)
    private let stopped = Atomic<Bool>(false)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        descriptor = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 1500)
        while running.load(ordering: .relaxed) {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(descriptor, bytes.baseAddress, bytes.count, 0, $0, &length)
                    }
                }
            }
            if count > 0 { datagrams.add(1, ordering: .relaxed) }
            guard count >= 20 else { continue }
            var response: [UInt8]
            let sourcePort = UInt16(bigEndian: peer.sin_port)
            if buffer[4..<8] != [0x21, 0x12, 0xA4, 0x42] {
                // RFC 3489 (libnice's server-reflexive discovery): 16-byte transaction ID, MAPPED-ADDRESS.
                guard buffer[0] == 0x00, buffer[1] == 0x01 else { continue }
                response = [0x01, 0x01, 0x00, 0x0C] + Array(buffer[4..<20])
                response += [0x00, 0x01, 0x00, 0x08, 0x00, 0x01, UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), 192, 0, 2, 1]
            } else {
                guard let request = try? STUNMessage.parse(buffer.prefix(count)),
                      request.method == .binding, request.messageClass == .request,
                      let mapped = STUNAddress(address: [192, 0, 2, 1], port: sourcePort) else { continue }
                response = STUNMessage(method: .binding, class: .successResponse, transactionID: request.transactionID,
                                       attributes: [.xorMappedAddress(mapped)]).encoded(fingerprint: true)
            }
            requests.add(1, ordering: .relaxed)
            _ = response.withUnsafeBytes { bytes in
                withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, length)
                    }
                }
            }
        }
        stopped.store(true, ordering: .releasing)
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        for _ in 0..<50 where !stopped.load(ordering: .acquiring) { usleep(10_000) }
        close(descriptor)
    }
}

@Suite(.serialized)
struct ServerReflexiveTests {
    @Test func stunServerGivesAServerReflexiveCandidate() throws {
        let stun = try FakeSTUNServer()
        defer { stun.stop() }
        var nice = NiceConfiguration(portRange: 26000...26999, localAddresses: [loopback])
        nice.threads = 1
        nice.stunServer = TransportAddress(ip: "127.0.0.1", port: stun.port)
        let factory = try NiceTransportFactory(configuration: nice, logger: quietLogger())
        var configuration = MediaConfiguration(udpPort: 0, readerThreads: 1, announcedAddresses: [loopback],
                                               preferIPv6Socket: false)
        configuration.transportFactory = factory
        let engine = try MediaEngine(configuration: configuration, certificate: try .generate(), logger: quietLogger())
        engine.start()
        defer { engine.stop() }

        let transport = try factory.makeTransport(owner: RecordingOwner(), credentials: .random(), controlling: false)
        defer { transport.close() }
        let candidates = transport.localCandidates
        #expect(stun.requests.load(ordering: .relaxed) >= 1, "datagrams \(stun.datagrams.load(ordering: .relaxed)), port \(stun.port)")
        let host = candidates.first { $0.type == .host }
        let reflexive = candidates.first { $0.type == .serverReflexive }
        #expect(host?.address == "127.0.0.1")
        #expect(reflexive?.address == "192.0.2.1", "\(candidates.map(\.attributeValue))")
        #expect(reflexive?.relatedAddress == "127.0.0.1" && reflexive?.relatedPort == host?.port)
        #expect(reflexive?.port == host?.port)
    }
}
