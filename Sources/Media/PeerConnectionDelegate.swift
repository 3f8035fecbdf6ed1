// What a plugin learns from its PeerConnection. Media callbacks run on a reader thread with
// the packet still in that thread's receive buffer: they must not block, allocate per packet
// or hop to async code; forwarding goes through `PeerConnection.sendRTP` with the given context.

import SDP

public protocol PeerConnectionDelegate: AnyObject, Sendable {
    /// ICE selected a pair and DTLS completed: Janus's `webrtcup`.
    func peerConnectionDidConnect(_ connection: PeerConnection)
    /// Media started or stopped arriving on a stream (Janus's `media` event, after 1 s silence).
    func peerConnection(_ connection: PeerConnection, stream: MediaStream, receiving: Bool)
    /// Many packets were lost on a stream in the last second (Janus's `slowlink`): `uplink`
    /// true = from the browser to Confab (counted from gaps), false = toward the browser (NACKs).
    func peerConnection(_ connection: PeerConnection, stream: MediaStream, slowLink uplink: Bool, lost: Int)
    /// The connection is gone for good (consent lost, DTLS alert, close()). Called once.
    func peerConnection(_ connection: PeerConnection, didCloseWithReason reason: String)
    /// Full trickle: a local candidate to announce (Janus's `trickle` event); may come before the
    /// local description that needs it is sent, from the thread that is writing it.
    func peerConnection(_ connection: PeerConnection, didGatherLocalCandidate candidate: Candidate)
    /// Full trickle: the last local candidate was announced (`{"completed": true}`).
    func peerConnectionDidFinishGathering(_ connection: PeerConnection)
    /// The connection moved to another shard (`shardIndex`), once, at its first ICE check: a plugin
    /// that hands packets to a connection's shard looks it up again. On the old owner's thread.
    func peerConnectionDidMoveShard(_ connection: PeerConnection)
    /// One decrypted RTP packet (the buffer may be rewritten in place).
    func peerConnection(_ connection: PeerConnection, didReceiveRTP packet: UnsafeMutableRawBufferPointer,
                        route: InboundRoute, context: MediaSendContext)
    /// One decrypted, well-formed compound RTCP packet.
    func peerConnection(_ connection: PeerConnection, didReceiveRTCP compound: UnsafeMutableRawBufferPointer,
                        context: MediaSendContext)
}

extension PeerConnectionDelegate {
    public func peerConnection(_ connection: PeerConnection, didGatherLocalCandidate candidate: Candidate) {}
    public func peerConnectionDidFinishGathering(_ connection: PeerConnection) {}
    public func peerConnectionDidMoveShard(_ connection: PeerConnection) {}
    public func peerConnection(_ connection: PeerConnection, stream: MediaStream, slowLink uplink: Bool, lost: Int) {}
}
