// A bare WebRTC endpoint speaking to the media engine the way a browser does — a controlling
// ICE agent's Binding check (USE-CANDIDATE), a DTLS client, SRTP sessions from the exported
// keys — without SDP or codecs. The media benchmark and the engine's socket-level tests use it,
// and it is the transport half of the load tool to come.

import DTLS
import Foundation
import ICE
import Net
import SRTP
import STUN

public struct PeerClientError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public final class PeerClient {
    public private(set) var socket: UDPSocket
    /// Where the server receives media; settable because the client offers before it knows it.
    public var server: TransportAddress
    public let certificate: DTLSCertificate
    /// Our ICE credentials; replace them to simulate an ICE restart.
    public var credentials: ICECredentials
    /// The ICE role (RFC 8445 §6.1.1): controlling against an ICE-lite server and when the client
    /// offered; controlled when it answers a full agent's offer (a full-ICE server's subscriber
    /// offer), where the server nominates and the client's checks carry ICE-CONTROLLED without
    /// USE-CANDIDATE — a controlling check there would only get 487 Role Conflict back.
    public var controlling = true
    public private(set) var outbound: SRTPSession?
    public private(set) var inbound: SRTPSession?
    private let receiveBatch = ReceiveBatch(capacity: 64)

    public init(server: TransportAddress, credentials: ICECredentials = .random()) throws {
        socket = try UDPSocket(port: 0, reusePort: false, preferIPv6: !server.isIPv4)
        self.server = server
        self.credentials = credentials
        certificate = try DTLSCertificate.generate(commonName: "peer-client")
    }

    deinit { socket.close() }

    /// Continues from a new local port, as a browser does when its network changes: the server
    /// must only follow after an authenticated check from there.
    public func moveToNewPort() throws {
        let moved = try UDPSocket(port: 0, reusePort: false, preferIPv6: !server.isIPv4)
        socket.close()
        socket = moved
    }

    /// Sends Binding requests signed with the server's password until one is answered; returns
    /// the answer (a success or an error response).
    @discardableResult
    public func checkConnectivity(serverUfrag: String, serverPwd: String, nominate: Bool = true,
                                  attempts: Int = 50) throws -> STUNMessage {
        let request = checkRequest(serverUfrag: serverUfrag, nominate: nominate)
        let bytes = request.encoded(integrity: Array(serverPwd.utf8), fingerprint: true)
        for _ in 0..<attempts {
            _ = socket.send(bytes, to: server)
            guard wait(milliseconds: 100) else { continue }
            let count = socket.receive(into: receiveBatch)
            for index in 0..<count where receiveBatch.slot(index)[0] <= 3 {
                let datagram = UnsafeRawBufferPointer(rebasing: receiveBatch.slot(index)[0..<receiveBatch.length(index)])
                guard let message = try? STUNMessage.parse(datagram) else { continue }
                if message.transactionID == request.transactionID { return message }
                answerCheck(datagram, from: receiveBatch.source(index))
            }
        }
        throw PeerClientError("no STUN answer from \(server)")
    }

    /// A Binding request in this client's role: controlling ones nominate (USE-CANDIDATE) when
    /// asked; controlled ones never do.
    private func checkRequest(serverUfrag: String, nominate: Bool) -> STUNMessage {
        var attributes: [STUNAttribute] = [.username("\(serverUfrag):\(credentials.ufrag)"), .priority(2_130_706_431)]
        if controlling {
            attributes.append(.iceControlling(tieBreaker: 7))
            if nominate { attributes.append(.useCandidate) }
        } else {
            attributes.append(.iceControlled(tieBreaker: 7))
        }
        return STUNMessage(method: .binding, class: .request, transactionID: STUNMessage.randomTransactionID(),
                           attributes: attributes)
    }

    /// Runs a DTLS handshake (client unless the server took that role) and installs the SRTP
    /// sessions. A full-ICE server (Janus) checks us meanwhile; those checks are answered.
    public func handshake(serverFingerprint: DTLSFingerprint, role: DTLSEndpoint.Role = .client,
                          timeout: TimeInterval = 10) throws {
        let client = try DTLSEndpoint(context: DTLSContext(certificate: certificate), role: role,
                                      remoteFingerprint: serverFingerprint)
        client.start()
        let deadline = Date().addingTimeInterval(timeout)
        while client.state == .handshaking || client.state == .idle, Date() < deadline {
            for datagram in client.drainOutbound() { _ = socket.send(datagram, to: server) }
            if wait(milliseconds: 50) {
                let count = socket.receive(into: receiveBatch)
                for index in 0..<count {
                    let datagram = UnsafeRawBufferPointer(rebasing: receiveBatch.slot(index)[0..<receiveBatch.length(index)])
                    if datagram.first.map({ $0 <= 3 }) == true {
                        answerCheck(datagram, from: receiveBatch.source(index))
                    } else {
                        client.receive(datagram: datagram)
                    }
                }
            } else {
                client.handleTimeout()
            }
        }
        for datagram in client.drainOutbound() { _ = socket.send(datagram, to: server) }
        guard let keys = client.keyingMaterial else { throw PeerClientError("DTLS failed: \(client.state)") }
        outbound = try SRTPSession(profile: keys.profile, masterKey: keys.local, direction: .outbound)
        inbound = try SRTPSession(profile: keys.profile, masterKey: keys.remote, direction: .inbound)
    }

    /// Answers a full-ICE server's Binding request (signed with our password), so it considers
    /// the pair valid; anything else STUN is ignored.
    public func answerCheck(_ datagram: UnsafeRawBufferPointer, from source: TransportAddress?) {
        guard let source, let request = try? STUNMessage.parse(datagram), request.method == .binding,
              request.messageClass == .request,
              request.verifyIntegrity(key: STUNCredentials.shortTermKey(password: credentials.pwd)),
              let mapped = STUNAddress(address: source.addressBytes, port: source.port) else { return }
        let response = STUNMessage(method: .binding, class: .successResponse, transactionID: request.transactionID,
                                   attributes: [.xorMappedAddress(mapped)])
        _ = socket.send(response.encoded(integrity: STUNCredentials.shortTermKey(password: credentials.pwd),
                                         fingerprint: true), to: source)
    }

    /// Sends one Binding request without waiting (consent freshness; RFC 7675 wants one every
    /// few seconds or the server drops us).
    public func sendConsentCheck(serverUfrag: String, serverPwd: String) {
        let request = checkRequest(serverUfrag: serverUfrag, nominate: true)
        _ = socket.send(request.encoded(integrity: Array(serverPwd.utf8), fingerprint: true), to: server)
    }

    /// Writes a minimal RTP packet (fixed header + counting payload) into `slot`; returns its length.
    public static func writeRTP(_ slot: UnsafeMutableRawBufferPointer, payloadType: UInt8 = 96, sequence: UInt16,
                                timestamp: UInt32, ssrc: UInt32, payloadBytes: Int) -> Int {
        slot[0] = 0x80
        slot[1] = payloadType & 0x7F
        slot[2] = UInt8(truncatingIfNeeded: sequence >> 8)
        slot[3] = UInt8(truncatingIfNeeded: sequence)
        for i in 0..<4 { slot[4 + i] = UInt8(truncatingIfNeeded: timestamp >> (24 - 8 * UInt32(i))) }
        for i in 0..<4 { slot[8 + i] = UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * UInt32(i))) }
        for i in 0..<payloadBytes { slot[12 + i] = UInt8(truncatingIfNeeded: i) }
        return 12 + payloadBytes
    }

    /// Protects and sends one RTP packet (one system call; the benchmark batches instead).
    public func sendRTP(sequence: UInt16, timestamp: UInt32, ssrc: UInt32, payloadBytes: Int = 100) throws {
        guard let outbound else { throw PeerClientError("no SRTP session; handshake first") }
        var buffer = [UInt8](repeating: 0, count: datagramSlotSize)
        let length = try buffer.withUnsafeMutableBytes { slot -> Int in
            let plain = Self.writeRTP(slot, sequence: sequence, timestamp: timestamp, ssrc: ssrc, payloadBytes: payloadBytes)
            return try outbound.protect(rtp: slot, length: plain)
        }
        _ = buffer.withUnsafeBytes { socket.send(UnsafeRawBufferPointer(rebasing: $0[0..<length]), to: server) }
    }

    /// Protects and sends one RTCP compound.
    public func sendRTCP(_ compound: [UInt8]) throws {
        guard let outbound else { throw PeerClientError("no SRTP session; handshake first") }
        var buffer = compound + [UInt8](repeating: 0, count: SRTPSession.maxRTCPTrailer)
        let length = try buffer.withUnsafeMutableBytes { try outbound.protectRTCP($0, length: compound.count) }
        _ = buffer.withUnsafeBytes { socket.send(UnsafeRawBufferPointer(rebasing: $0[0..<length]), to: server) }
    }

    /// Decrypted RTP packets received within `milliseconds` (SRTP that fails is skipped);
    /// decrypted RTCP compounds that arrive meanwhile go to `rtcpReceived`.
    public func receiveRTP(milliseconds: Int32) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        guard let inbound, wait(milliseconds: milliseconds) else { return packets }
        while socket.receive(into: receiveBatch) > 0 {
            for index in 0..<receiveBatch.count where receiveBatch.slot(index)[0] >= 128 {
                let slot = receiveBatch.slot(index)
                let isRTCP = (192...223).contains(slot[1])
                if isRTCP, let length = try? inbound.unprotectRTCP(slot, length: receiveBatch.length(index)) {
                    rtcpReceived.append(Array(slot[0..<length]))
                } else if !isRTCP, let length = try? inbound.unprotect(rtp: slot, length: receiveBatch.length(index)) {
                    packets.append(Array(slot[0..<length]))
                }
            }
        }
        return packets
    }

    /// Decrypted RTCP compounds received so far (by `receiveRTP`).
    public var rtcpReceived: [[UInt8]] = []

    public func wait(milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }
}
