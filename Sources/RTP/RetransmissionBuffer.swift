// The most recent packets of one outgoing RTP stream, kept so NACKed packets
// can be sent again (RFC 4585 §6.2.1, RFC 4588). Packets are stored after
// rewriting and before SRTP protection: a retransmission is protected afresh,
// either as RTX (new SSRC and sequence number) or, without RTX, under
// libsrtp's allow-repeat-tx, which the caller's SRTP context decides.
//
// No allocation per packet: the whole slab (capacity × maximumPacketLength
// bytes) and the slot table are allocated once in `init`; `store` copies into
// a slot picked by sequence number and lookups hand out pointers into the slab.

public final class RetransmissionBuffer {
    /// Number of slots; a power of two so the slot is `sequenceNumber & mask`.
    public let capacity: Int
    /// Largest packet a slot holds; longer packets are not stored.
    public let maximumPacketLength: Int
    /// Packets older than this are not handed out: the receiver's jitter
    /// buffer has given up on them, so resending only wastes bandwidth.
    public let maximumAgeNanoseconds: UInt64

    private struct Slot {
        var sequenceNumber: UInt16 = 0
        /// 0 for an empty slot (a stored packet is at least 12 bytes).
        var length: Int = 0
        var storedAt: UInt64 = 0
        var lastResentAt: UInt64 = 0
        var hasBeenResent = false
    }

    private let mask: Int
    private let slab: UnsafeMutableRawPointer
    private let slots: UnsafeMutablePointer<Slot>

    /// - capacity: a power of two up to 65536 (512 holds about 1.5 s of 2.5 Mbit/s video).
    /// - maximumPacketLength: bytes per slot; 1500 covers any packet sent without IP fragmentation.
    /// - maximumAgeNanoseconds: how long a stored packet may be resent (default 1 s).
    public init(capacity: Int = 512, maximumPacketLength: Int = 1500,
                maximumAgeNanoseconds: UInt64 = 1_000_000_000) {
        precondition(capacity > 0 && capacity <= 0x1_0000 && capacity & (capacity - 1) == 0,
                     "capacity must be a power of two up to 65536")
        precondition(maximumPacketLength >= RTPPacketLayout.fixedHeaderLength, "slots must hold an RTP header")
        let (slabSize, overflow) = capacity.multipliedReportingOverflow(by: maximumPacketLength)
        precondition(!overflow, "slab size overflows")
        self.capacity = capacity
        self.maximumPacketLength = maximumPacketLength
        self.maximumAgeNanoseconds = maximumAgeNanoseconds
        self.mask = capacity - 1
        self.slab = UnsafeMutableRawPointer.allocate(byteCount: slabSize, alignment: 16)
        self.slots = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        slots.initialize(repeating: Slot(), count: capacity)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
        slab.deallocate()
    }

    // MARK: Storing

    /// Copies an outgoing packet (RTP header included) into the slot for its
    /// sequence number, replacing whatever was there. Returns false, storing
    /// nothing, when the bytes are not an RTP packet or exceed the slot size.
    @discardableResult
    public func store(_ packet: UnsafeRawBufferPointer, nowNanoseconds: UInt64) -> Bool {
        guard packet.count >= RTPPacketLayout.fixedHeaderLength, packet.count <= maximumPacketLength,
              packet[0] >> 6 == 2, let source = packet.baseAddress else { return false }
        let sequenceNumber = packet.u16(2)
        let index = Int(sequenceNumber) & mask
        slotBytes(index).copyMemory(from: source, byteCount: packet.count)
        slots[index] = Slot(sequenceNumber: sequenceNumber, length: packet.count, storedAt: nowNanoseconds)
        return true
    }

    /// Forgets every packet (e.g. when the stream's SSRC changes).
    public func removeAll() {
        for i in 0..<capacity { slots[i] = Slot() }
    }

    /// Copies every packet held here into `larger` (at least as many slots, slots at least as
    /// long), with when it was stored and resent: a small buffer grows without losing what it
    /// kept. Packets `larger` cannot hold are left out.
    public func copyContents(into larger: RetransmissionBuffer) {
        for index in 0..<capacity where slots[index].length > 0 && slots[index].length <= larger.maximumPacketLength {
            let slot = slots[index]
            let target = Int(slot.sequenceNumber) & larger.mask
            // Two packets meet in one slot of `larger` only when one is stale (they lie more
            // than `larger.capacity` sequence numbers apart): the one stored later wins.
            if larger.slots[target].length > 0, larger.slots[target].storedAt > slot.storedAt { continue }
            larger.slotBytes(target).copyMemory(from: slotBytes(index), byteCount: slot.length)
            larger.slots[target] = slot
        }
    }

    // MARK: Looking up

    /// Calls `body` with the stored packet `sequenceNumber` if it is still
    /// held and not older than `maximumAgeNanoseconds`; nil otherwise. The
    /// bytes are only valid inside `body`: the next `store` may overwrite them.
    public func withPacket<Result>(
        sequenceNumber: UInt16, nowNanoseconds: UInt64, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result? {
        guard let index = freshSlot(sequenceNumber, nowNanoseconds: nowNanoseconds) else { return nil }
        return try body(packetBytes(index))
    }

    /// True when `withPacket` would find the packet.
    public func contains(sequenceNumber: UInt16, nowNanoseconds: UInt64) -> Bool {
        freshSlot(sequenceNumber, nowNanoseconds: nowNanoseconds) != nil
    }

    /// What happened to one retransmission request.
    public enum RetransmissionOutcome: Sendable, Equatable {
        /// `body` ran with the packet.
        case resent
        /// Resent less than the minimum interval ago; a repeated NACK that
        /// crossed our retransmission in flight, so it is ignored.
        case rateLimited
        /// Never stored, overwritten, or too old.
        case unavailable
    }

    /// Like `withPacket`, but refuses packets resent less than
    /// `minimumIntervalNanoseconds` ago and records this resend when `body` runs.
    public func retransmit(
        sequenceNumber: UInt16, nowNanoseconds: UInt64, minimumIntervalNanoseconds: UInt64,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows -> RetransmissionOutcome {
        guard let index = freshSlot(sequenceNumber, nowNanoseconds: nowNanoseconds) else { return .unavailable }
        let slot = slots[index]
        if slot.hasBeenResent, nowNanoseconds &- slot.lastResentAt < minimumIntervalNanoseconds {
            return .rateLimited
        }
        slots[index].hasBeenResent = true
        slots[index].lastResentAt = nowNanoseconds
        try body(packetBytes(index))
        return .resent
    }

    // MARK: Slots

    private func freshSlot(_ sequenceNumber: UInt16, nowNanoseconds: UInt64) -> Int? {
        let index = Int(sequenceNumber) & mask
        let slot = slots[index]
        guard slot.length > 0, slot.sequenceNumber == sequenceNumber else { return nil }
        // A clock reading before the store counts as age 0 rather than as ancient.
        let age = nowNanoseconds >= slot.storedAt ? nowNanoseconds - slot.storedAt : 0
        return age <= maximumAgeNanoseconds ? index : nil
    }

    private func slotBytes(_ index: Int) -> UnsafeMutableRawPointer {
        slab + index * maximumPacketLength
    }

    private func packetBytes(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: slotBytes(index), count: slots[index].length)
    }
}

/// The buffer is mutable state without locks: it belongs to the one task or
/// event loop that sends its stream, and the compiler should keep it there.
@available(*, unavailable)
extension RetransmissionBuffer: Sendable {}
