// Losses on the streams Confab receives: a gap in the sequence numbers of a stream that
// negotiated NACK is asked for with generic NACKs (RFC 4585 §6.2.1; spaced, retried a bounded
// number of times, see LossTracker), and an RTX packet that fills a gap is turned back, in
// place, into the packet it repairs (RFC 4588), so what Confab passes on has no holes the
// sender could still fill. Janus's core does this for every handle; here VideoRoom publishers
// and EchoTest share it.

import Net
import RTP

public final class InboundLossRecovery: Sendable {
    /// Per stream position and simulcast layer (index `position * layersPerStream + layer`); nil
    /// where NACK was not negotiated. Replaced at negotiation (any thread), changed in place by
    /// `received`, which runs on the thread that owns the connection the packets arrive on.
    private let trackers = OwnerConfined<[LossTracker?]>([])
    public static let layersPerStream = 4
    /// Sequence numbers one NACK asks for at most.
    public static let nackBatch = 32

    public init() {}

    /// Follows the streams at `positions` (of `streamCount`), every simulcast layer; forgets
    /// whatever was followed before. Other streams' packets pass untouched, their RTX is dropped.
    public func follow(streamCount: Int, positions: some Sequence<Int>) {
        var table = [LossTracker?](repeating: nil, count: max(0, streamCount) * Self.layersPerStream)
        for position in positions where position >= 0 && position < streamCount {
            for layer in 0..<Self.layersPerStream { table[position * Self.layersPerStream + layer] = LossTracker() }
        }
        trackers.reset(to: table)
    }

    /// Follows no stream any more.
    public func stop() {
        trackers.reset(to: [])
    }

    /// One received RTP packet (on the thread that owns its connection). Returns the packet to pass on (an RTX repair restored in place
    /// to the media SSRC, payload type and sequence number), or nil to drop it: RTX that repairs
    /// nothing (a duplicate, or a sender's bandwidth probe) and any RTX on a stream not followed.
    /// `nack(mediaSSRC, lost)` gets the sequence numbers due to be asked for now, if any.
    public func received(_ packet: UnsafeMutableRawBufferPointer, route: InboundRoute, now: UInt64,
                         nack: (UInt32, UnsafeMutableBufferPointer<UInt16>) -> Void) -> UnsafeMutableRawBufferPointer? {
        guard packet.count >= 12 else { return route.isRTX ? nil : packet }
        let index = route.stream * Self.layersPerStream + min(route.layer, Self.layersPerStream - 1)
        if route.isRTX {
            guard let original = RTX.originalSequenceNumber(of: UnsafeRawBufferPointer(packet)) else { return nil }
            let media = trackers.withValue { table -> (ssrc: UInt32, payloadType: UInt8)? in
                guard table.indices.contains(index), table[index] != nil, table[index]!.repair(original) else { return nil }
                return (table[index]!.ssrc, table[index]!.payloadType)
            }
            guard let media, let length = RTX.restoreOriginal(packet, payloadType: media.payloadType, ssrc: media.ssrc)
            else { return nil }
            return UnsafeMutableRawBufferPointer(rebasing: packet[0..<length])
        }
        let ssrc = UInt32(packet[8]) << 24 | UInt32(packet[9]) << 16 | UInt32(packet[10]) << 8 | UInt32(packet[11])
        let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: Self.nackBatch) { lost in
            let count = trackers.withValue { table -> Int in
                guard table.indices.contains(index), table[index] != nil else { return 0 }
                table[index]!.received(sequence: sequence, ssrc: ssrc, payloadType: packet[1] & 0x7F, now: now)
                return table[index]!.hasGaps ? table[index]!.due(now: now, into: lost) : 0
            }
            guard count > 0 else { return }
            nack(ssrc, UnsafeMutableBufferPointer(rebasing: lost[0..<count]))
        }
        return packet
    }

    /// `received` with the NACKs sent on `connection` (looked up only when one is due).
    public func received(_ packet: UnsafeMutableRawBufferPointer, route: InboundRoute,
                         connection: () -> PeerConnection?, context: MediaSendContext) -> UnsafeMutableRawBufferPointer? {
        received(packet, route: route, now: MonotonicClock.nanoseconds()) { mediaSSRC, lost in
            guard let connection = connection() else { return }
            Self.sendNACK(on: connection, mediaSSRC: mediaSSRC, lost: lost, context: context)
        }
    }

    /// One generic NACK for `lost` of stream `mediaSSRC`, from the connection's first local SSRC.
    public static func sendNACK(on connection: PeerConnection, mediaSSRC: UInt32, lost: UnsafeMutableBufferPointer<UInt16>,
                                context: MediaSendContext) {
        let sender = connection.streams.first?.localSSRC ?? 1
        withUnsafeTemporaryAllocation(byteCount: 12 + 4 * Self.nackBatch, alignment: 4) { buffer in
            guard let length = RTCPWriter.writeNack(senderSSRC: sender, mediaSSRC: mediaSSRC, lost: lost, into: buffer)
            else { return }
            connection.sendRTCP(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), context: context)
        }
    }
}
