// State that a connection's owning thread (its shard) works on per packet without a lock, while
// the control path may set it up from any thread: the control path publishes a new starting value
// under a Mutex with a number, and the owner takes it up before its next use, when the number
// moved on. A packet thus pays one atomic load. Only the thread that handles the connection's
// packets may call `withValue`; the owner of a connection only changes on the old owner's own
// thread (PeerConnection.settle), so the state never has two users at once.

import Synchronization

public final class OwnerConfined<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `working` and `applied` are only touched in `withValue`, which runs on
    // the owning thread only (see above); `plan` is behind its Mutex, `planNumber` is atomic.
    // `withValue` is @inlinable so that it is specialised for its Value where it is called.
    // One thread, so the runtime's exclusivity checks (per packet) are left out.
    @exclusivity(unchecked) @usableFromInline var working: Value
    @exclusivity(unchecked) @usableFromInline var applied: UInt64 = 0
    private let plan: Mutex<(value: Value, number: UInt64)>
    @usableFromInline let planNumber = Atomic<UInt64>(0)

    public init(_ value: Value) {
        working = value
        plan = Mutex((value, 0))
    }

    /// Starts the state over from `value` at the owner's next use (any thread).
    public func reset(to value: Value) {
        plan.withLock { plan in
            plan = (value, plan.number &+ 1)
            planNumber.store(plan.number, ordering: .releasing)
        }
    }

    /// The state, to read and change (the owning thread only).
    @inlinable
    public func withValue<Result>(_ body: (inout Value) -> Result) -> Result {
        if planNumber.load(ordering: .acquiring) != applied { takeUpPlan() }
        return body(&working)
    }

    @usableFromInline
    func takeUpPlan() {
        (working, applied) = plan.withLock { $0 }
    }
}
