// Retransmissions for one stream Confab sends (generic NACK, RFC 4585 §6.2.1; RTX, RFC 4588):
// what went out is kept and each packet the receiver NACKs is sent again from it, as RTX on the
// stream's RTX SSRC when that was negotiated, else as the packet itself. The buffer is made at
// the receiver's first NACK: a receiver that never loses anything (most, on a good network)
// costs none. Janus's core does this for every handle; here VideoRoom subscribers and EchoTest
// share it.

import Net
import RTP
import Synchronization

public final class OutboundRetransmission: Sendable {
    private let sent = SentPackets()
    private let responder = NACKResponder()
    /// The RTX stream for repairs, when negotiated.
    private let rtx = Mutex<RTXSender?>(nil)
    /// Slots × bytes of the buffer: about 0.3 MB, half a second of 4 Mbit/s video.
    public static let slots = 256
    public static let packetLength = 1300

    public init() {}

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

    /// The RTX a negotiated stream agreed on (none when it has no RTX payload type or SSRC).
    public func useRTX(of stream: MediaStream?) {
        guard let stream, let payloadType = stream.rtxPayloadType, let ssrc = stream.localRTXSSRC else {
            return useRTX(payloadType: nil, ssrc: nil)
        }
        useRTX(payloadType: payloadType, ssrc: ssrc)
    }

    /// Keeps one packet as the receiver gets it (rewritten, not yet protected): call it from
    /// `PeerConnection.sendRTP`'s rewrite closure. A leaf lock: nothing is taken while holding it.
    public func keep(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        sent.store(packet, now: now)
    }

    /// Resends what the generic NACK `nack` lists: `send(packet, isRTX)` gets each repair. Each
    /// packet is copied out of the buffer first, so its lock is never held while sending. The
    /// first NACK only starts the buffer (nothing was kept before it).
    public func answer(_ nack: RTCPPacketView, now: UInt64, send: (UnsafeRawBufferPointer, Bool) -> Void) {
        guard !sent.startKeeping(slots: Self.slots, packetLength: Self.packetLength) else { return }
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
