import Synchronization

/// A Janus session: its handles, its activity clock and its event delivery (pushed to the owning
/// WebSocket, or queued for HTTP long polls).
public final class Session: Sendable {
    public let id: UInt64
    public let createdAt: ContinuousClock.Instant
    /// The transport that created the session (`janus.transport.http`, ...), for the Admin API.
    public let transport: String
    private let state: Mutex<State>

    /// Events kept for a client that does not poll; older ones are dropped beyond this.
    static let maxQueuedEvents = 1000

    struct Waiter {
        let id: UInt64
        let maxEvents: Int
        let deadline: ContinuousClock.Instant
        /// Called once, off the session's lock, with the events (or none at the deadline).
        let deliver: @Sendable ([JSON]) -> Void
    }

    struct State {
        var handles: [UInt64: Handle] = [:]
        var lastActivity: ContinuousClock.Instant
        var sink: EventSink?
        /// When the owning socket went away, for `reclaim_session_timeout`.
        var orphanedAt: ContinuousClock.Instant?
        var queue: [JSON] = []
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var droppedEvents = 0
        var destroyed = false
    }

    init(id: UInt64, transport: String, sink: EventSink?, now: ContinuousClock.Instant) {
        self.id = id
        self.transport = transport
        self.createdAt = now
        self.state = Mutex(State(lastActivity: now, sink: sink))
    }

    // MARK: Activity

    public func touch(_ now: ContinuousClock.Instant = .now) {
        state.withLock { $0.lastActivity = now }
    }

    var lastActivity: ContinuousClock.Instant { state.withLock { $0.lastActivity } }
    var orphanedAt: ContinuousClock.Instant? { state.withLock { $0.orphanedAt } }
    public var isDestroyed: Bool { state.withLock { $0.destroyed } }
    public var sink: EventSink? { state.withLock { $0.sink } }

    // MARK: Handles

    func add(_ handle: Handle) -> Bool {
        state.withLock { state in
            guard !state.destroyed else { return false }
            state.handles[handle.id] = handle
            return true
        }
    }

    public func handle(_ id: UInt64) -> Handle? { state.withLock { $0.handles[id] } }
    public var handles: [Handle] { state.withLock { Array($0.handles.values) } }

    func removeHandle(_ id: UInt64) -> Handle? { state.withLock { $0.handles.removeValue(forKey: id) } }

    // MARK: Ownership

    /// A WebSocket claims the session (on `create` or `claim`): events go to it from now on,
    /// starting with whatever queued up while nobody owned it.
    func claim(by sink: EventSink?) {
        let backlog: [JSON] = state.withLock { state in
            state.sink = sink
            state.orphanedAt = nil
            guard sink != nil else { return [] }
            defer { state.queue.removeAll() }
            return state.queue
        }
        for event in backlog { sink?.deliver(event) }
    }

    /// The owning socket closed; the session waits for a `claim` (or its reclaim timeout).
    func orphan(from sink: EventSink, now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            guard state.sink === sink else { return false }
            state.sink = nil
            state.orphanedAt = now
            return true
        }
    }

    // MARK: Events

    /// Delivers an event: to the owning socket, to a waiting long poll, or into the queue.
    public func deliver(_ event: JSON) {
        enum Route { case drop, sink(EventSink), waiter(@Sendable ([JSON]) -> Void, [JSON]), queued }
        let route: Route = state.withLock { state in
            if state.destroyed { return .drop }
            if let sink = state.sink { return .sink(sink) }
            state.queue.append(event)
            if !state.waiters.isEmpty {
                let waiter = state.waiters.removeFirst()
                return .waiter(waiter.deliver, Self.take(&state.queue, max: waiter.maxEvents))
            }
            if state.queue.count > Self.maxQueuedEvents {
                state.queue.removeFirst()
                state.droppedEvents += 1
            }
            return .queued
        }
        switch route {
        case .drop, .queued: break
        case .sink(let sink): sink.deliver(event)
        case .waiter(let deliver, let events): deliver(events)
        }
    }

    /// A long poll: returns queued events at once, or waits until one arrives or `deadline` passes
    /// (then an empty list, which the transport turns into a `keepalive`).
    public func nextEvents(max: Int, deadline: ContinuousClock.Instant) async -> [JSON] {
        let waiterID = Mutex<UInt64?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let id = waitForEvents(max: max, deadline: deadline) { continuation.resume(returning: $0) }
                waiterID.withLock { $0 = id }
            }
        } onCancel: {
            if let id = waiterID.withLock({ $0 }) { self.releaseWaiter(id) }
        }
    }

    /// The callback form of a long poll, for transports that park requests without a task:
    /// `deliver` runs exactly once, at once when events are queued (or the session is gone or the
    /// deadline past), otherwise when one arrives, the deadline passes or `releaseWaiter` is called.
    /// Returns the waiter's id while it waits.
    @discardableResult
    public func waitForEvents(max: Int, deadline: ContinuousClock.Instant,
                              deliver: @escaping @Sendable ([JSON]) -> Void) -> UInt64? {
        let (ready, id): ([JSON]?, UInt64?) = state.withLock { state in
            if !state.queue.isEmpty { return (Self.take(&state.queue, max: max), nil) }
            if state.destroyed || deadline <= .now { return ([], nil) }
            state.nextWaiterID += 1
            state.waiters.append(Waiter(id: state.nextWaiterID, maxEvents: max, deadline: deadline, deliver: deliver))
            return (nil, state.nextWaiterID)
        }
        if let ready { deliver(ready) }
        return id
    }

    /// Ends one waiting long poll now (its client went away), delivering no events.
    public func releaseWaiter(_ id: UInt64) {
        releaseWaiters { $0.id == id }
    }

    /// Ends long polls whose deadline has passed (called by the gateway's once-a-second sweep).
    func expireWaiters(now: ContinuousClock.Instant) {
        releaseWaiters { $0.deadline <= now }
    }

    private func releaseWaiters(where predicate: (Waiter) -> Bool) {
        let released: [Waiter] = state.withLock { state in
            let matching = state.waiters.filter(predicate)
            if !matching.isEmpty { state.waiters.removeAll(where: predicate) }
            return matching
        }
        for waiter in released { waiter.deliver([]) }
    }

    private static func take(_ queue: inout [JSON], max: Int) -> [JSON] {
        let count = Swift.min(Swift.max(max, 1), queue.count)
        let taken = Array(queue.prefix(count))
        queue.removeFirst(count)
        return taken
    }

    // MARK: Teardown

    /// Marks the session destroyed and returns its handles for the plugins to be told.
    /// A `finalEvent` (e.g. `timeout`) still reaches the client first.
    func markDestroyed(finalEvent: JSON? = nil) -> [Handle] {
        if let finalEvent { deliver(finalEvent) }
        let (handles, waiters) = state.withLock { state -> ([Handle], [Waiter]) in
            guard !state.destroyed else { return ([], []) }
            state.destroyed = true
            defer {
                state.handles.removeAll()
                state.waiters.removeAll()
                state.queue.removeAll()
                state.sink = nil
            }
            return (Array(state.handles.values), state.waiters)
        }
        for waiter in waiters { waiter.deliver([]) }
        return handles
    }

    var droppedEvents: Int { state.withLock { $0.droppedEvents } }
    var queuedEvents: Int { state.withLock { $0.queue.count } }
}
