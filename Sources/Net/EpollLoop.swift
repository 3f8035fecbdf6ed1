// A single-threaded event loop on epoll for sockets Confab reads itself: the TURN server's UDP
// listener, relay sockets and TCP connections. A general-purpose loop (SwiftNIO) wraps every
// received datagram in an envelope with a fresh address object and walks a handler pipeline; on a
// relay that does nothing but look up a channel and forward, that overhead was most of the
// user-space CPU. Here a readiness event calls one closure, which reads with recvmmsg into
// preallocated batches, and the loop calls `onIterationEnd` once after each wake-up so that whatever
// the handlers queued leaves in one batch of system calls.
//
// Everything registered runs on the loop's thread. Other threads hand work over with `execute`
// (an eventfd wakes the loop). Level-triggered: a handler that leaves data unread is called again
// on the next iteration, after the other ready sockets had their turn.

#if canImport(Glibc)
import Glibc
import CLinux
#endif
import Synchronization

public final class EpollLoop: @unchecked Sendable {
    // @unchecked Sendable: `handlers`, `ticks`, `onIterationEnd` and `running` are only touched on
    // the loop's own thread (`preconditionInLoop` checks the entry points); `pending` is behind a
    // Mutex; `epoll`, `wakeDescriptor` and `name` never change after init.
    public typealias Handler = (_ events: UInt32) -> Void

    /// Event masks for `register` and `modify`, so users need not import the C headers.
    public static let readable = EPOLLIN.rawValue
    public static let writable = EPOLLOUT.rawValue
    public static let hangUp = EPOLLHUP.rawValue | EPOLLERR.rawValue

    public let name: String
    private let epoll: Int32
    private let wakeDescriptor: Int32
    private let pending = Mutex<Pending>(Pending())
    private struct Pending {
        var tasks: [@Sendable () -> Void] = []
        var stopping = false
    }

    /// Indexed by descriptor: one array lookup per readiness event.
    private var handlers: [Handler?] = []
    private struct Tick {
        let interval: UInt64
        var due: UInt64
        let body: () -> Void
    }
    private var ticks: [Tick] = []
    /// The earliest `due` of `ticks` (.max without any).
    private var nextDue: UInt64 = .max
    /// Called on the loop after the ready handlers and tasks of each wake-up have run.
    public var onIterationEnd: (() -> Void)?
    private let threadID = Atomic<UInt>(0)
    private let finished = Mutex<[CheckedContinuation<Void, Never>]?>([])

    public init(name: String) throws(LoopError) {
        self.name = name
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw LoopError(call: "epoll_create1", code: errno) }
        wakeDescriptor = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeDescriptor >= 0 else {
            let code = errno
            close(epoll)
            throw LoopError(call: "eventfd", code: code)
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeDescriptor
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeDescriptor, &event)
    }

    deinit {
        close(wakeDescriptor)
        close(epoll)
    }

    public struct LoopError: Error, CustomStringConvertible {
        public let call: String
        public let code: Int32
        public var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    /// Starts the loop's thread.
    public func start() {
        spawnThread(name: name) { [self] in run() }
    }

    /// True on the loop's thread.
    public var inLoop: Bool { threadID.load(ordering: .acquiring) == UInt(bitPattern: Int(bitPattern: pthread_self())) }

    public func preconditionInLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inLoop, "not on the \(name) loop", file: file, line: line)
    }

    /// Runs `task` on the loop (in order with other tasks), from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        let accepted = pending.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.tasks.append(task)
            return true
        }
        guard accepted else { return }
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    /// Runs `task` on the loop and returns its result.
    public func submit<T: Sendable>(_ task: @escaping @Sendable () -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            let once = Mutex<CheckedContinuation<T?, Never>?>(continuation)
            let resume: @Sendable (T?) -> Void = { value in once.withLock { $0.take() }?.resume(returning: value) }
            let queued = pending.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.tasks.append { resume(task()) }
                return true
            }
            guard queued else { return resume(nil) }
            var one: UInt64 = 1
            _ = write(wakeDescriptor, &one, 8)
        }
    }

    /// Watches `descriptor` (loop thread only); `events` as epoll's (EPOLLIN, EPOLLOUT).
    public func register(_ descriptor: Int32, events: UInt32, _ handler: @escaping Handler) -> Bool {
        preconditionInLoop()
        var event = epoll_event()
        event.events = events
        event.data.fd = descriptor
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) == 0 else { return false }
        let index = Int(descriptor)
        if index >= handlers.count { handlers += Array(repeating: nil, count: index + 1 - handlers.count) }
        handlers[index] = handler
        return true
    }

    /// Changes what `descriptor` is watched for (loop thread only).
    public func modify(_ descriptor: Int32, events: UInt32) {
        preconditionInLoop()
        var event = epoll_event()
        event.events = events
        event.data.fd = descriptor
        epoll_ctl(epoll, EPOLL_CTL_MOD, descriptor, &event)
    }

    /// Stops watching `descriptor` (before it is closed; loop thread only).
    public func unregister(_ descriptor: Int32) {
        preconditionInLoop()
        epoll_ctl(epoll, EPOLL_CTL_DEL, descriptor, nil)
        if Int(descriptor) < handlers.count { handlers[Int(descriptor)] = nil }
    }

    /// Calls `body` on the loop every `milliseconds` (loop thread only).
    public func every(milliseconds: UInt64, _ body: @escaping () -> Void) {
        preconditionInLoop()
        let due = MonotonicClock.milliseconds() + milliseconds
        ticks.append(Tick(interval: milliseconds, due: due, body: body))
        nextDue = min(nextDue, due)
    }

    /// Runs the tasks queued so far, then ends the thread; returns when it has.
    public func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyDone = finished.withLock { waiters -> Bool in
                guard waiters != nil else { return true }
                waiters!.append(continuation)
                return false
            }
            if alreadyDone { return continuation.resume() }
            pending.withLock { $0.stopping = true }
            var one: UInt64 = 1
            _ = write(wakeDescriptor, &one, 8)
        }
    }

    private func run() {
        threadID.store(UInt(bitPattern: Int(bitPattern: pthread_self())), ordering: .releasing)
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let count = epoll_wait(epoll, events, Int32(capacity), timeout())
            var woken = false
            for index in 0..<max(0, Int(count)) {
                let descriptor = events[index].data.fd
                if descriptor == wakeDescriptor {
                    woken = true
                } else if Int(descriptor) < handlers.count, let handler = handlers[Int(descriptor)] {
                    handler(events[index].events)
                }
            }
            // Only when another thread wrote the eventfd: no system call on iterations without tasks.
            let stopping = woken && runTasks()
            if !ticks.isEmpty { runTicks() }
            onIterationEnd?()
            if stopping { break }
        }
        handlers = []
        ticks = []
        onIterationEnd = nil
        let waiters = finished.withLock { value in
            defer { value = nil }
            return value ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs what other threads queued; true once `stop` was asked.
    private func runTasks() -> Bool {
        var drained: UInt64 = 0
        _ = read(wakeDescriptor, &drained, 8)
        let (tasks, stopping) = pending.withLock { state in
            defer { state.tasks.removeAll(keepingCapacity: true) }
            return (state.tasks, state.stopping)
        }
        for task in tasks { task() }
        return stopping
    }

    private func runTicks() {
        let now = MonotonicClock.milliseconds()
        guard now >= nextDue else { return }
        nextDue = .max
        for index in ticks.indices {
            if ticks[index].due <= now {
                ticks[index].due = now + ticks[index].interval
                ticks[index].body()
            }
            nextDue = min(nextDue, ticks[index].due)
        }
    }

    /// Milliseconds until the next tick is due; -1 (wait for I/O) without ticks.
    private func timeout() -> Int32 {
        guard nextDue != .max else { return -1 }
        let now = MonotonicClock.milliseconds()
        return nextDue <= now ? 0 : Int32(min(nextDue - now, 60_000))
    }
}

/// A value only touched on one `EpollLoop`'s thread, carried through `@Sendable` closures to it.
/// @unchecked Sendable: every access checks it happens on that loop.
public struct LoopBound<Value>: @unchecked Sendable {
    private let stored: Value
    public let loop: EpollLoop

    public init(_ value: Value, loop: EpollLoop) {
        loop.preconditionInLoop()
        stored = value
        self.loop = loop
    }

    public var value: Value {
        loop.preconditionInLoop()
        return stored
    }
}
