// The transport under DTLS, per PeerConnection. Two kinds exist:
//
// - ICE-lite on the shared UDP port (the default, `media.ice_mode = "mux"`): no per-connection
//   transport object at all. `MediaShard` threads read the one port, `ICELiteAgent` answers the
//   browser's checks, and datagrams go out in the readers' `sendmmsg` batches.
// - Full ICE (`media.ice_mode = "full"`): each PeerConnection owns an `ICETransport` made by the
//   engine's `ICETransportFactory` — libnice agents in `Sources/NiceICE`. The transport gathers its
//   own candidates, runs connectivity checks, and hands every datagram it receives to
//   `ICETransportOwner.transport(_:didReceive:)`, which passes it to the connection's shard: the
//   same thread and the same DTLS / SRTP demux as a datagram read from the shared port.
//
// Everything above the transport (DTLS, SRTP, streams, forwarding) is the same in both modes.

import ICE
import SDP

/// One PeerConnection's full-ICE transport (bundle + rtcp-mux: one stream, one component).
public protocol ICETransport: AnyObject, Sendable {
    /// The local candidates gathered (host, and server-reflexive/relayed when configured), as
    /// they go into the SDP.
    var localCandidates: [Candidate] { get }
    /// The selected pair, for the Admin API (nil until ICE connects).
    var selectedPair: String? { get }
    /// The peer's credentials from its offer or answer.
    func setRemoteCredentials(ufrag: String, pwd: String)
    /// Remote candidates from the SDP or a `trickle` request (buffered until the credentials are known).
    func addRemoteCandidates(_ candidates: [Candidate])
    /// The peer has no more candidates (`a=end-of-candidates`, trickle `completed`).
    func remoteCandidatesComplete()
    /// ICE restart (the peer offered new credentials, RFC 8445 §9): new local credentials,
    /// remote candidates forgotten; the selected pair keeps carrying media until checks with the
    /// new credentials succeed. The peer's new credentials and candidates follow.
    func restart(credentials: ICECredentials)
    /// Sends one datagram on the selected pair; false when it could not go out.
    func send(_ datagram: UnsafeRawBufferPointer) -> Bool
    /// Stops ICE and frees the agent, its sockets and sources. Idempotent; no callback follows
    /// once it has run on the transport's thread.
    func close()
}

/// What a transport reports to its PeerConnection.
public protocol ICETransportOwner: AnyObject, Sendable {
    /// ICE found a working pair (the DTLS client may start now).
    func transportDidConnect(_ transport: any ICETransport)
    /// ICE failed, or consent was lost after it worked.
    func transport(_ transport: any ICETransport, didFailWithReason reason: String)
    /// Full trickle: a local candidate was gathered (on libnice's thread, or on the thread that
    /// made the transport while it gathers host candidates).
    func transport(_ transport: any ICETransport, didGather candidate: Candidate)
    /// Full trickle: gathering is over; no more local candidates follow.
    func transportDidFinishGathering(_ transport: any ICETransport)
    /// One datagram (DTLS or SRTP/SRTCP), on the transport's thread: copied before this returns,
    /// and handled on the owner's shard. Must not block.
    func transport(_ transport: any ICETransport, didReceive datagram: UnsafeRawBufferPointer)
}

/// Makes the full-ICE transports (one per PeerConnection) and runs their threads.
public protocol ICETransportFactory: Sendable {
    /// Starts the transport threads (called by `MediaEngine.start()`).
    func start(engine: MediaEngine)
    /// Stops the threads (after the engine closed every connection).
    func stop()
    /// A transport with `credentials`, gathering at once. `controlling` is true when Confab
    /// offers (VideoRoom subscribers), false when it answers a browser's offer.
    func makeTransport(owner: any ICETransportOwner, credentials: ICECredentials,
                       controlling: Bool) throws -> any ICETransport
    /// Janus's `full_trickle`: local descriptions carry no candidates and do not wait for
    /// gathering; each candidate goes to the owner as it is found (`trickle` events), then the end.
    /// False: descriptions wait for gathering and carry every candidate (Janus's half-trickle).
    var tricklesLocalCandidates: Bool { get }
    /// A short name for logs ("libnice").
    var name: String { get }
}
