// Datagrams handed from any thread to the one thread that owns their destination, without a lock
// or an allocation per datagram: a bounded multi-producer, single-consumer ring (Dmitry Vyukov's
// bounded queue, one consumer) whose slots carry the bytes inline, plus an eventfd that wakes the
// consumer once per producer batch, not once per datagram.
//
// A producer claims a slot with one compare-exchange, copies the datagram in and publishes it; the
// consumer works on the datagram in the slot itself (SRTP is unprotected in place there) and only
// then gives the slot back. A full ring drops the datagram and counts it, as a full socket buffer
// would.

#if canImport(Glibc)
import Glibc
import CLinux
#endif
import Synchronization

public final class DatagramHandoff<Tag>: @unchecked Sendable {
    // @unchecked Sendable: a slot's `lengths`/`sources`/`tags`/bytes are written only by the producer
    // that claimed it (the compare-exchange on `tail`) before it publishes the slot's sequence with
    // release ordering, and read only by the single consumer after it loads that sequence with
    // acquire ordering; `head` is the consumer's alone (`drain` must be called from one thread).
    public let capacity: Int
    private let mask: Int
    private let sequences: UnsafeMutablePointer<Atomic<Int>>
    private let lengths: UnsafeMutablePointer<Int>
    private let sources: UnsafeMutablePointer<TransportAddress>
    private let tags: UnsafeMutablePointer<Tag?>
    private let slab: UnsafeMutableRawPointer
    private let tail = Atomic<Int>(0)
    private var head = 0
    /// Set by the first `signal` after the consumer last woke: later signals skip the system call.
    private let signalled = Atomic<Bool>(false)
    /// Readable when datagrams wait (poll it beside the consumer's sockets).
    public let descriptor: Int32
    /// Datagrams refused because the ring was full.
    public let dropped = Atomic<Int>(0)

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        var size = 2
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        sequences = .allocate(capacity: size)
        for index in 0..<size { (sequences + index).initialize(to: Atomic(index)) }
        lengths = .allocate(capacity: size)
        lengths.initialize(repeating: 0, count: size)
        sources = .allocate(capacity: size)
        sources.initialize(repeating: TransportAddress(high: 0, low: 0, port: 0), count: size)
        tags = .allocate(capacity: size)
        tags.initialize(repeating: nil, count: size)
        slab = .allocate(byteCount: size * datagramSlotSize, alignment: 16)
        descriptor = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        precondition(descriptor >= 0, "eventfd: \(String(cString: strerror(errno)))")
    }

    deinit {
        sequences.deinitialize(count: capacity)
        sequences.deallocate()
        lengths.deallocate()
        sources.deallocate()
        tags.deinitialize(count: capacity)
        tags.deallocate()
        slab.deallocate()
        close(descriptor)
    }

    /// Queues a copy of `bytes` (any thread). False, counted in `dropped`, when the ring is full or
    /// the datagram is larger than a slot. Call `signal` once the batch is queued.
    @discardableResult
    public func push(_ bytes: UnsafeRawBufferPointer, from source: TransportAddress, tag: Tag) -> Bool {
        guard bytes.count <= datagramSlotSize else {
            dropped.add(1, ordering: .relaxed)
            return false
        }
        var position = tail.load(ordering: .relaxed)
        while true {
            let sequence = sequences[position & mask].load(ordering: .acquiring)
            if sequence == position {
                let (claimed, current) = tail.weakCompareExchange(expected: position, desired: position + 1,
                                                                  ordering: .relaxed)
                if claimed { break }
                position = current
            } else if sequence < position {
                // The consumer has not given this slot back yet: full.
                dropped.add(1, ordering: .relaxed)
                return false
            } else {
                position = tail.load(ordering: .relaxed)
            }
        }
        let index = position & mask
        if let base = bytes.baseAddress { (slab + index * datagramSlotSize).copyMemory(from: base, byteCount: bytes.count) }
        lengths[index] = bytes.count
        sources[index] = source
        tags[index] = tag
        sequences[index].store(position + 1, ordering: .releasing)
        return true
    }

    /// Wakes the consumer (any thread, after a batch of pushes): one eventfd write until it wakes.
    public func signal() {
        guard !signalled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = write(descriptor, &one, 8)
    }

    /// Consumer only, when `descriptor` polls readable: clears the wake-up. Call `drain` after it.
    public func acknowledgeWakeup() {
        var value: UInt64 = 0
        _ = read(descriptor, &value, 8)
        // An exchange, not a store: it reads the flag of the last producer that skipped its own
        // write, so that producer's datagrams are visible to the `drain` that follows.
        _ = signalled.exchange(false, ordering: .acquiringAndReleasing)
    }

    /// Consumer only: hands each queued datagram (in its slot, writable, with its length, source
    /// and tag) to `body`, in order, and frees the slot afterwards. Returns how many there were.
    @discardableResult
    public func drain(_ body: (UnsafeMutableRawBufferPointer, Int, TransportAddress, Tag) -> Void) -> Int {
        var count = 0
        while true {
            let index = head & mask
            guard sequences[index].load(ordering: .acquiring) == head + 1 else { break }
            let tag = tags[index]
            tags[index] = nil
            if let tag {
                let slot = UnsafeMutableRawBufferPointer(start: slab + index * datagramSlotSize, count: datagramSlotSize)
                body(slot, lengths[index], sources[index], tag)
            }
            sequences[index].store(head + capacity, ordering: .releasing)
            head += 1
            count += 1
        }
        return count
    }
}
