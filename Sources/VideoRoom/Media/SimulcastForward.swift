// `simulcast: true` on an rtp_forward stream: the forward acts like one subscriber of a simulcast
// publisher — the best layer arriving (the top one unless it stopped), switched at keyframes and
// renumbered (sequence, timestamp, VP8 picture IDs) so the recipient sees one continuous stream.

import Media
import RTP
import Synchronization

final class SimulcastForward: Sendable {
    /// The same per-packet decisions a subscriber stream makes (a leaf lock, never held across I/O).
    private let state: Mutex<ForwardingState>
    let codec: VideoCodec?

    init(codec: VideoCodec?, clockRate: UInt32) {
        self.codec = codec
        state = Mutex(ForwardingState(isVideo: true, clockRate: clockRate, targetLayer: 2))
    }

    enum Decision {
        /// Send with these numbers (and, for VP8, these picture fields at `descriptor`'s offsets).
        case send(sequence: UInt16, timestamp: UInt32, pictures: VP8PictureRewriter.Fields?,
                  descriptor: VP8PayloadDescriptor?)
        case drop
        case dropNeedingKeyframe
    }

    func admit(_ packet: UnsafeRawBufferPointer, route: InboundRoute, now: UInt64) -> Decision {
        let keyframe = SubscriberStream.isKeyframe(packet, codec: codec)
        let vp8 = codec == .vp8 ? SubscriberStream.vp8Descriptor(packet) : nil
        let (sequence, timestamp) = SubscriberStream.readHeader(packet)
        return state.withLock { state -> Decision in
            let verdict = state.admit(sequence: sequence, timestamp: timestamp, layer: route.layer,
                                      layerCount: route.layerCount, isKeyframe: keyframe, now: now)
            switch verdict {
            case .drop: return .drop
            case .dropNeedingKeyframe: return .dropNeedingKeyframe
            case .send(let outSequence, let outTimestamp):
                return .send(sequence: outSequence, timestamp: outTimestamp, pictures: vp8.map { state.pictures.rewrite($0) },
                             descriptor: vp8)
            }
        }
    }

    /// Writes a `.send` decision's numbers into the packet's copy.
    static func apply(_ decision: Decision, to copy: UnsafeMutableRawBufferPointer) {
        guard case .send(let sequence, let timestamp, let pictures, let descriptor) = decision,
              let header = RTPHeaderView(copy) else { return }
        copy[2] = UInt8(truncatingIfNeeded: sequence >> 8)
        copy[3] = UInt8(truncatingIfNeeded: sequence)
        copy[4] = UInt8(truncatingIfNeeded: timestamp >> 24)
        copy[5] = UInt8(truncatingIfNeeded: timestamp >> 16)
        copy[6] = UInt8(truncatingIfNeeded: timestamp >> 8)
        copy[7] = UInt8(truncatingIfNeeded: timestamp)
        if let pictures, let descriptor { pictures.write(into: header.payload, descriptor: descriptor) }
    }
}
