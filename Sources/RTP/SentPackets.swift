// What one outgoing stream sent, kept to answer its receiver's NACKs: a RetransmissionBuffer
// (made only when first needed) behind a lock, so the thread that sends the stream and the one
// that reads the receiver's RTCP can share it.

import Synchronization

/// A RetransmissionBuffer (a non-Sendable class) behind a lock.
/// @unchecked Sendable: `buffer` is only read or written inside `lock`.
public final class SentPackets: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private var buffer: RetransmissionBuffer?

    public init() {}

    /// Creates the buffer if there is none yet; true when it did (it is empty then).
    public func startKeeping(slots: Int, packetLength: Int) -> Bool {
        lock.withLock { _ in
            guard buffer == nil else { return false }
            buffer = RetransmissionBuffer(capacity: slots, maximumPacketLength: packetLength)
            return true
        }
    }

    /// Keeps a copy of `packet` once the buffer exists (before that: nothing, for free).
    public func store(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        lock.withLock { _ in _ = buffer?.store(packet, nowNanoseconds: now) }
    }

    /// Copies packet `sequenceNumber` into `out` if it may be resent now; its length, or 0.
    public func copy(_ sequenceNumber: UInt16, now: UInt64, minimumInterval: UInt64,
                     into out: UnsafeMutableRawBufferPointer) -> Int {
        lock.withLock { _ in
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
}
