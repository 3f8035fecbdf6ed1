// Retransmissions for one stream Confab sends (generic NACK, RFC 4585 §6.2.1; RTX, RFC 4588):
// what went out is kept and each packet the receiver NACKs is sent again from it, as RTX on the
// stream's RTX SSRC when that was negotiated, else as the packet itself. Only a stream whose
// receiver agreed to NACK keeps anything, from its first packet: a small buffer (about 40 kB)
// until the receiver's first NACK, then the full one, so the packets that first NACK names can
// be resent (a receiver whose first loss went unrepaired would freeze until its keyframe request,
// seconds in Chromium). Janus's core does this for every handle; here VideoRoom subscribers and
// EchoTest share it.
//
// `keep` and `answer` run on the thread that owns the connection the stream is sent on (its
// packets and its receiver's RTCP are handled there), so the kept packets need no lock; the
// negotiation (`negotiated`, any thread) only touches atomics and the RTX sender's lock, which
// is taken per repair, not per packet.

import Net
import RTP
import SDP
import Synchronization

public final class OutboundRetransmission: Sendable {
    private let sent = SentPackets(initialSlots: initialSlots, fullSlots: slots, packetLength: packetLength)
    private let responder = NACKResponder()
    /// Whether the receiver agreed to NACK: nothing is kept otherwise.
    private let keeping = Atomic<Bool>(false)
    /// The RTX stream for repairs, when negotiated.
    private let rtx = Mutex<RTXSender?>(nil)
    /// Slots × bytes of the buffer before the first NACK (about 40 kB, a third of a second of
    /// 1 Mbit/s video: longer than a NACK's round trip) and after it (about 0.3 MB, half a second
    /// of 4 Mbit/s video).
    public static let initialSlots = 32
    public static let slots = 256
    public static let packetLength = 1300

    public init() {}

    /// The stream as negotiated: what it sends is kept when its receiver agreed to NACK, and
    /// repairs go as RTX when it agreed to RTX. Nil: nothing is kept or repaired.
    public func negotiated(_ stream: MediaStream?) {
        keepPackets(stream.map { $0.sends && $0.feedback.contains(.nack) } ?? false)
        guard let stream, let payloadType = stream.rtxPayloadType, let ssrc = stream.localRTXSSRC else {
            return useRTX(payloadType: nil, ssrc: nil)
        }
        useRTX(payloadType: payloadType, ssrc: ssrc)
    }

    /// Whether to keep what is sent (the receiver agreed to NACK). Turning it off keeps what
    /// was kept, for NACKs still on their way.
    public func keepPackets(_ on: Bool) {
        keeping.store(on, ordering: .relaxed)
    }

    /// Slots kept now (0 before the first packet kept).
    public var capacity: Int { sent.capacity }

    /// Repairs go as RTX with this payload type on this SSRC (both nil: as the packets themselves).
    /// The same RTX again (a renegotiation) keeps its sequence numbers going.
    public func useRTX(payloadType: UInt8?, ssrc: UInt32?) {
        rtx.withLock { rtx in
            guard let payloadType, let ssrc else {
                rtx = nil
                return
            }
            guard rtx?.payloadType != payloadType & 0x7F || rtx?.ssrc != ssrc else { return }
            rtx = RTXSender(payloadType: payloadType, ssrc: ssrc, initialSequenceNumber: UInt16.random(in: 0...UInt16.max))
        }
    }

    /// Keeps one packet as the receiver gets it (rewritten, not yet protected): call it from
    /// `PeerConnection.sendRTP`'s rewrite closure, on the connection's owning thread.
    public func keep(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        guard keeping.load(ordering: .relaxed) else { return }
        sent.store(packet, now: now)
    }

    /// Resends what the generic NACK `nack` lists: `send(packet, isRTX)` gets each repair. Each
    /// packet is copied out of the buffer first (sending may keep what it sends). The
    /// first NACK grows the buffer to its full size.
    public func answer(_ nack: RTCPPacketView, now: UInt64, send: (UnsafeRawBufferPointer, Bool) -> Void) {
        sent.growToFullSize()
        let interval = responder.minimumResendIntervalNanoseconds
        _ = RTCPNack.forEachLost(in: nack) { sequenceNumber in
            withUnsafeTemporaryAllocation(byteCount: Self.packetLength + RTX.originalSequenceNumberLength,
                                          alignment: 4) { copy in
                let stored = UnsafeMutableRawBufferPointer(rebasing: copy[0..<Self.packetLength])
                let length = sent.copy(sequenceNumber, now: now, minimumInterval: interval, into: stored)
                guard length > 0 else { return }
                // In place: the buffer has room for the two bytes RTX adds.
                let rtxLength = rtx.withLock { rtx -> Int? in
                    rtx?.write(original: UnsafeRawBufferPointer(rebasing: copy[0..<length]), into: copy)
                }
                if let rtxLength {
                    send(UnsafeRawBufferPointer(rebasing: copy[0..<rtxLength]), true)
                } else {
                    send(UnsafeRawBufferPointer(rebasing: copy[0..<length]), false)
                }
            }
        }
    }

    /// `answer` with the repairs sent on `connection`'s stream `index` (RTX on its RTX SSRC).
    public func answer(_ nack: RTCPPacketView, on connection: PeerConnection, stream index: Int,
                       context: MediaSendContext) {
        answer(nack, now: MonotonicClock.nanoseconds()) { packet, isRTX in
            connection.sendRTP(packet, stream: index, rtx: isRTX, context: context)
        }
    }
}
