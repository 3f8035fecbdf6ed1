// A named OS thread running a closure: the media readers block in poll(2), which must not
// happen on Swift's cooperative pool.

#if canImport(Glibc)
import Glibc
import CLinux
#endif

final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

func spawnThread(name: String, _ body: @escaping @Sendable () -> Void) {
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
