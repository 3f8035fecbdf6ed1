// What one outgoing stream sent, kept to answer its receiver's NACKs. The stream is sent and
// its receiver's RTCP read on one thread (the reader thread that owns the receiver's
// PeerConnection), so it takes no lock: one packet kept per packet sent. It starts small at the first packet (a receiver that never loses anything, most
// on a good network, costs little) and grows to its full size at the receiver's first NACK,
// keeping what it held: the packets that first NACK asks for are there to resend.

/// A RetransmissionBuffer that grows once.
/// @unchecked Sendable: it is handed between threads when a stream is set up, but used by one
/// thread at a time: every call comes from the thread that owns the connection the stream is
/// sent on (`PeerConnection.isOwned(by:)`), which is what its users check or guarantee.
public final class SentPackets: @unchecked Sendable {
    private var buffer: RetransmissionBuffer?
    /// Slots before the first NACK and after it (powers of two), and bytes per slot.
    public let initialSlots: Int
    public let fullSlots: Int
    public let packetLength: Int

    public init(initialSlots: Int, fullSlots: Int, packetLength: Int) {
        precondition(initialSlots <= fullSlots, "the buffer only grows")
        self.initialSlots = initialSlots
        self.fullSlots = fullSlots
        self.packetLength = packetLength
    }

    /// Slots the buffer has now (0 before the first packet).
    public var capacity: Int { buffer?.capacity ?? 0 }

    /// Keeps a copy of `packet`; the first one makes the small buffer (once per stream).
    public func store(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        if buffer == nil {
            buffer = RetransmissionBuffer(capacity: initialSlots, maximumPacketLength: packetLength)
        }
        _ = buffer?.store(packet, nowNanoseconds: now)
    }

    /// The receiver lost something: the buffer grows to its full size (once), keeping its packets.
    public func growToFullSize() {
        guard let small = buffer, small.capacity < fullSlots else { return }
        let full = RetransmissionBuffer(capacity: fullSlots, maximumPacketLength: packetLength)
        small.copyContents(into: full)
        buffer = full
    }

    /// Copies packet `sequenceNumber` into `out` if it may be resent now; its length, or 0.
    public func copy(_ sequenceNumber: UInt16, now: UInt64, minimumInterval: UInt64,
                     into out: UnsafeMutableRawBufferPointer) -> Int {
        var length = 0
        _ = buffer?.retransmit(sequenceNumber: sequenceNumber, nowNanoseconds: now,
                               minimumIntervalNanoseconds: minimumInterval) { stored in
            guard stored.count <= out.count else { return }
            out.copyMemory(from: stored)
            length = stored.count
        }
        return length
    }
}
