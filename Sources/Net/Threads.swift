// A named OS thread running a closure, for loops that block in poll(2), epoll_wait(2) or sleep —
// which must not happen on Swift's cooperative pool: the media readers, the TURN loop, the recorder.

#if canImport(Glibc)
import Glibc
import CLinux
#endif

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

public func spawnThread(name: String, _ body: @escaping @Sendable () -> Void) {
    let threadName = String(name.prefix(15))
    let box = Unmanaged.passRetained(ThreadBody {
        confab_set_thread_name(threadName)
        body()
    }).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
        body.run()
        return nil
    }, box)
    precondition(status == 0, "pthread_create failed: \(status)")
    pthread_detach(thread)
}
