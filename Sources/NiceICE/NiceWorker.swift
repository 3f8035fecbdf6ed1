// One thread of the libnice pool: a GLib main context and loop on a named OS thread. Every
// agent is created on one worker's context (round robin), so its socket reads, timers and
// signals run on that thread only; the pool has about one worker per core, whatever the number
// of PeerConnections.

import CNice
import Glibc
import Media
import Net
import Synchronization

/// @unchecked Sendable: `context` and `loop` are GLib objects whose use here is thread-safe
/// (sources are attached and `g_main_loop_quit` called from any thread, as GLib documents).
final class NiceWorker: @unchecked Sendable {
    let index: Int
    let context: OpaquePointer
    let loop: OpaquePointer
    private let finished = Atomic<Bool>(false)

    init(index: Int) {
        self.index = index
        context = cn_g_main_context_new()
        loop = cn_g_main_loop_new(context, 0)
    }

    func start(engine: MediaEngine) {
        spawnThread(name: "confab-nice\(index)") { [self] in
            cn_g_main_context_push_thread_default(context)
            cn_g_main_loop_run(loop)
            cn_g_main_context_pop_thread_default(context)
            finished.store(true, ordering: .releasing)
        }
    }

    /// Quits the loop and waits (up to a second) for the thread to leave it.
    func stop() {
        cn_g_main_loop_quit(loop)
        for _ in 0..<100 where !finished.load(ordering: .acquiring) { usleep(10_000) }
    }

    /// Runs `body` on this worker's thread from an idle source — always later, never inside the
    /// caller's stack, so an agent can be freed from within one of its own callbacks.
    func schedule(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(ScheduledWork(body)).toOpaque()
        let source = cn_g_idle_source_new()
        cn_g_source_set_callback(source, { raw in
            let work = Unmanaged<ScheduledWork>.fromOpaque(raw!).takeRetainedValue()
            work.body()
            return 0  // G_SOURCE_REMOVE
        }, box, nil)
        cn_g_source_attach(source, context)
        cn_g_source_unref(source)
    }
}

final class ScheduledWork {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
