#if canImport(Glibc)
import Glibc
#endif
import Logging
import Net
import Synchronization

/// The one thread that writes every recording: it drains each open `StreamRecorder`'s ring to
/// its file every few milliseconds, so the media threads never wait for the disk. Started with
/// the first recording; with nothing to record it only sleeps.
final class RecordingWriter: Sendable {
    static let shared = RecordingWriter()

    private let recorders = Mutex<[StreamRecorder]>([])
    private let started = Atomic<Bool>(false)
    /// How long the thread sleeps between rounds: the rings hold about a second of media.
    static let interval: UInt32 = 20_000  // microseconds
    static let stagingSize = 256 * 1024
    static let logger = Logger(label: "confab.videoroom.recording")

    func add(_ recorder: StreamRecorder) {
        recorders.withLock { $0.append(recorder) }
        if started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged { startThread() }
    }

    /// Recordings not yet finished (closed ones leave once their last packets are written).
    var openCount: Int { recorders.withLock { $0.count } }

    private func startThread() {
        spawnThread(name: "confab-recorder") { [self] in WriterLoop(writer: self).run() }
    }

    /// One round: every recorder drained once; finished ones removed.
    fileprivate func round(staging: UnsafeMutableRawBufferPointer) {
        let current = recorders.withLock { $0 }
        var finished: [ObjectIdentifier] = []
        for recorder in current where recorder.drain(staging: staging) {
            finished.append(ObjectIdentifier(recorder))
            let counters = recorder.counters
            let level: Logger.Level = counters.dropped > 0 ? .warning : .info
            Self.logger.log(level: level, "recording finished", metadata: [
                "file": "\(recorder.path)", "packets": "\(counters.written)", "dropped": "\(counters.dropped)",
            ])
        }
        guard !finished.isEmpty else { return }
        recorders.withLock { list in list.removeAll { finished.contains(ObjectIdentifier($0)) } }
    }
}

/// The writer thread's body, with its staging buffer (allocated once).
private final class WriterLoop {
    let writer: RecordingWriter
    init(writer: RecordingWriter) { self.writer = writer }

    func run() {
        let staging = UnsafeMutableRawBufferPointer.allocate(byteCount: RecordingWriter.stagingSize, alignment: 8)
        defer { staging.deallocate() }
        while true {
            writer.round(staging: staging)
            usleep(RecordingWriter.interval)
        }
    }
}
