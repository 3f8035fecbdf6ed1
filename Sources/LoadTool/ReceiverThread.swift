// Subscribers' sockets served by a few epoll threads (about one per core) instead of a thread
// per peer: the load tool runs on the same machine as the server it measures, so its own CPU
// (hundreds of threads waking every few milliseconds) would otherwise distort the figures.

import CLinux
import Foundation
import Net
import Synchronization

final class ReceiverThread: @unchecked Sendable {
    // @unchecked Sendable: `incoming` is behind a Mutex; `owned` and the reception state of every
    // subscriber in it are touched only by this thread's loop. `epoll` is only read after init
    // (epoll_ctl may be called from any thread).
    private let epoll: Int32
    private let incoming = Mutex<[Subscriber]>([])
    private var owned: [Subscriber] = []

    init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed")
    }

    /// Hands a connected subscriber to this thread. Retained by `incoming` before its socket is
    /// watched, so an event can never name a subscriber nobody holds.
    func add(_ subscriber: Subscriber) {
        incoming.withLock { $0.append(subscriber) }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.ptr = Unmanaged.passUnretained(subscriber).toOpaque()
        epoll_ctl(epoll, EPOLL_CTL_ADD, subscriber.client.socket.descriptor, &event)
    }

    func start(until stop: @escaping @Sendable () -> Bool) {
        let thread = Thread { [self] in run(until: stop) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func run(until stop: @Sendable () -> Bool) {
        let batch = ReceiveBatch(capacity: 64)
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var nextTick: UInt64 = 0
        while !stop() {
            owned += incoming.withLock { pending in defer { pending.removeAll() }; return pending }
            let ready = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), 5) }
            for index in 0..<max(0, Int(ready)) {
                guard let pointer = events[index].data.ptr else { continue }
                Unmanaged<Subscriber>.fromOpaque(pointer).takeUnretainedValue().drain(batch)
            }
            let now = MonotonicClock.nanoseconds()
            if now >= nextTick {
                for subscriber in owned { subscriber.tick(now: now) }
                nextTick = now + 20_000_000
            }
        }
    }
}
