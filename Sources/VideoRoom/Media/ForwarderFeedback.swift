// `rtcp_port` of an rtp_forward stream: a local UDP port the forward's recipient sends RTCP to
// (receiver reports, PLI/FIR). A PLI or FIR becomes a keyframe request to the publisher, so a
// pipeline that starts late or loses a packet gets a decodable picture again. Forwards with
// feedback are rare (a few per server), so each has its own small thread polling its socket.

import Glibc
import Logging
import Net
import RTP
import Synchronization

final class ForwarderFeedback: Sendable {
    let socket: UDPSocket
    let remote: TransportAddress
    private let stopped = Atomic<Bool>(false)
    /// How often the thread looks at `stopped` while nothing arrives.
    static let pollMilliseconds: Int32 = 200

    /// Binds an ephemeral local port, sends the recipient one small packet from it (so a NAT or
    /// firewall in front of the recipient lets its RTCP back in, as Janus does), and starts
    /// listening. `keyframeWanted` runs on the feedback thread.
    init(remote: TransportAddress, logger: Logger, keyframeWanted: @escaping @Sendable () -> Void) throws(SocketError) {
        socket = try UDPSocket(port: 0, reusePort: false, receiveBufferBytes: 64 << 10)
        self.remote = remote
        // An empty RTP-version header: not valid RTCP, so the recipient ignores it.
        _ = socket.send([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], to: remote)
        // The thread keeps this object alive until stop().
        spawnThread(name: "fwd-rtcp") { [self] in
            listen(keyframeWanted: keyframeWanted)
            socket.close()
            logger.debug("rtp forwarder feedback port closed", metadata: ["port": "\(socket.localPort)"])
        }
    }

    var localPort: UInt16 { socket.localPort }

    /// Ends the thread, which then closes the socket (never closed under a pending receive).
    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func listen(keyframeWanted: @Sendable () -> Void) {
        var buffer = [UInt8](repeating: 0, count: 1500)
        while !stopped.load(ordering: .relaxed) {
            var descriptor = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Self.pollMilliseconds) > 0 else { continue }
            let length = buffer.withUnsafeMutableBytes { recv(socket.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard length > 0 else { continue }
            let asksForKeyframe = buffer.withUnsafeBytes { bytes in
                Self.asksForKeyframe(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
            }
            if asksForKeyframe { keyframeWanted() }
        }
    }

    /// Whether a (compound) RTCP packet holds a PLI or a FIR.
    static func asksForKeyframe(_ compound: UnsafeRawBufferPointer) -> Bool {
        guard RTCPCompound.isValid(compound) else { return false }
        var iterator = RTCPCompoundIterator(compound)
        while let packet = iterator.next() {
            if packet.packetType == RTCPPacketType.payloadFeedback, packet.format == 1 || packet.format == 4 { return true }
        }
        return false
    }
}
