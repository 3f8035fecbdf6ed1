// confab-load: how many people can this server hold? Drives any Janus-API server (Confab or
// Janus) over HTTP with P publishers and S subscribers per publisher in one VideoRoom, each a
// real WebRTC endpoint (ICE, DTLS, SRTP), and reports forwarded packets/s, the server's CPU per
// forwarded packet and peak RSS (with --pid), loss and end-to-end latency for a steady window.
//
//   swift run -c release confab-load --url http://127.0.0.1:8088/janus --pid $(pidof confab) -p 10 -s 9
//
// Loopback only by design: the peers announce 127.0.0.1.
//
// Both of Confab's ICE modes (and Janus): the peers are full ICE agents that answer the server's
// checks and consent checks; publishers (offerers) control, subscribers are controlled when the
// server's offer is full ICE (libnice nominates) and control when it is ICE-lite. A full-trickle
// server (media.full_trickle) is not supported: the peers take the server's address from its SDP.

import ArgumentParser
import Foundation
import Synchronization

@main
struct LoadTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "confab-load",
                                                    abstract: "VideoRoom load generator for Janus-API servers.")

    @Option(name: .long, help: "Janus HTTP API URL.") var url = "http://127.0.0.1:8088/janus"
    @Option(name: .long, help: "Server process id, for CPU and RSS figures.") var pid: Int32?
    @Option(name: [.short, .long], help: "Publishers.") var publishers = 2
    @Option(name: [.short, .long], help: "Subscribers per publisher.") var subscribers = 2
    @Option(name: .long, help: "Measured window in seconds.") var seconds = 20.0
    @Option(name: .long, help: "Settling time after everyone joined, in seconds.") var settle = 3.0
    @Option(name: .long, help: "Room to use; created when absent.") var room: UInt64 = UInt64.random(in: 100_000...999_999)
    @Option(name: .long, help: "A meeting of N people instead of -p/-s: everyone publishes and subscribes to everyone else on one multistream PeerConnection.")
    var meeting: Int?
    @Option(name: .long, help: "Video packets per second per publisher (113 ≈ 1 Mbit/s; 0 = audio only).") var videoPps = 113
    @Option(name: .long, help: "Subscribers joining at once during the ramp-up.") var joinConcurrency = 8
    @Flag(name: .long, help: "Print packets per received stream (SSRC/payload type) for every subscriber.") var verbose = false

    func run() async throws {
        guard let base = URL(string: url) else { throw ValidationError("bad --url") }
        let stop = Atomic<Bool>(false)
        let publishers = meeting ?? self.publishers
        let control = try await JanusSession.create(base: base)
        let admin = try await control.attach("janus.plugin.videoroom")
        _ = try? await control.request(admin, ["request": "create", "room": room, "publishers": publishers + 1,
                                               "bitrate": 2_000_000, "description": "confab-load"])
        // Kept alive from the start: joining a hundred peers on a busy box can outlast the
        // server's session_timeout (60 s by default), and a timed-out publisher's feed vanishes.
        let sessions = SessionList(control)
        let keepalive = Task { while !Task.isCancelled { try? await Task.sleep(for: .seconds(15)); for s in sessions.all { await s.keepalive() } } }
        var feeds: [Publisher] = []
        var audience: [Subscriber] = []
        let total = meeting.map { $0 * 2 } ?? publishers * (subscribers + 1)
        for index in 0..<publishers {
            let publisher = try Publisher(videoPacketsPerSecond: videoPps)
            let session = try await JanusSession.create(base: base)
            try await publisher.join(session, room: room, index: index)
            sessions.add(session)
            feeds.append(publisher)
            Self.spawn { publisher.run { stop.load(ordering: .relaxed) } }
            Self.progress(feeds.count, total)
        }
        let receivers = (0..<max(1, ProcessInfo.processInfo.activeProcessorCount)).map { _ in ReceiverThread() }
        for receiver in receivers { receiver.start { stop.load(ordering: .relaxed) } }
        // Who watches what: in a meeting everyone watches everyone else on one subscription with
        // N-1 feeds; otherwise S subscribers per publisher, one feed each.
        let subscriptions: [[UInt64]] = meeting != nil
            ? feeds.indices.map { index in feeds.indices.filter { $0 != index }.map { feeds[$0].feedID } }
            : feeds.flatMap { publisher in Array(repeating: [publisher.feedID], count: subscribers) }
        // A join mostly waits (HTTP round trips, the server's ICE and DTLS), so several run at once:
        // one at a time, 500 subscribers take Janus ten minutes to ramp up on a small box.
        let room = self.room
        try await withThrowingTaskGroup(of: (Subscriber, JanusSession).self) { group in
            var pending = subscriptions.makeIterator()
            func startNext() {
                guard let watched = pending.next() else { return }
                group.addTask {
                    let subscriber = try Subscriber()
                    let session = try await JanusSession.create(base: base)
                    try await subscriber.join(session, room: room, feeds: watched)
                    return (subscriber, session)
                }
            }
            for _ in 0..<max(1, joinConcurrency) { startNext() }
            while let (subscriber, session) = try await group.next() {
                sessions.add(session)
                audience.append(subscriber)
                receivers[audience.count % receivers.count].add(subscriber)
                Self.progress(feeds.count + audience.count, total)
                startNext()
            }
        }
        FileHandle.standardError.write(Data("\nall joined; settling \(settle) s, measuring \(seconds) s\n".utf8))
        try await Task.sleep(for: .seconds(settle))

        let before = Snapshot(audience, pid: pid)
        var peakRSS = 0, peakDescriptors = 0
        let windowEnd = Date().addingTimeInterval(seconds)
        while Date() < windowEnd {
            if let pid {
                peakRSS = max(peakRSS, ProcessFigures.rssKiB(pid))
                peakDescriptors = max(peakDescriptors, ProcessFigures.openDescriptors(pid))
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        let after = Snapshot(audience, pid: pid)
        stop.store(true, ordering: .relaxed)
        keepalive.cancel()
        report(before, after, peakRSSKiB: peakRSS, peakDescriptors: peakDescriptors)
        if verbose {
            for (index, subscriber) in audience.enumerated() {
                let streams = subscriber.counters.lock.withLock { subscriber.counters.perStream }
                print("subscriber \(index): " + streams.sorted { $0.key < $1.key }
                    .map { "\($0.key >> 8)/\($0.key & 0xFF)=\($0.value)" }.joined(separator: " "))
            }
        }
        for session in sessions.all { await session.destroy() }
    }

    static func spawn(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = 1 << 20
        thread.start()
    }

    static func progress(_ done: Int, _ total: Int) {
        FileHandle.standardError.write(Data("\rpeers connected: \(done)/\(total)".utf8))
    }

    func report(_ before: Snapshot, _ after: Snapshot, peakRSSKiB: Int, peakDescriptors: Int) {
        let elapsed = after.time.timeIntervalSince(before.time)
        let received = after.received - before.received
        let expected = after.expected - before.expected
        let loss = expected > 0 ? max(0, Double(expected - received) / Double(expected)) : 0
        let latencies = after.latencies(since: before).sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000
        }
        let pps = Double(received) / elapsed
        // Each publisher sends videoPps + 50 (Opus) packets/s; each of its watchers should get them all.
        let (senders, watchersEach) = meeting.map { ($0, $0 - 1) } ?? (publishers, subscribers)
        let sentPPS = senders * watchersEach * (videoPps + 50)
        let who = meeting.map { "a meeting of \($0) (everyone watches everyone)" }
            ?? "\(subscribers * publishers) subscribers (\(publishers) publishers)"
        var line = String(format: "forwarded %.0f packets/s (of %d sent) to %@; loss %.3f%%; latency p50 %.2f ms, p99 %.2f ms",
                          pps, sentPPS, who, loss * 100, percentile(0.5), percentile(0.99))
        var result = String(format: "RESULT publishers=%d subscribers=%d meeting=%d expected_pps=%d pps=%.0f loss_pct=%.4f p50_ms=%.3f p99_ms=%.3f",
                            senders, watchersEach, meeting == nil ? 0 : 1, sentPPS, pps, loss * 100, percentile(0.5), percentile(0.99))
        if let cpuBefore = before.serverCPU, let cpuAfter = after.serverCPU, received > 0 {
            let micros = (cpuAfter - cpuBefore) / Double(received) * 1e6
            line += String(format: "; server CPU %.2f µs per forwarded packet (%.0f%% of a core); peak RSS %.1f MiB; %d open files",
                           micros, (cpuAfter - cpuBefore) / elapsed * 100, Double(peakRSSKiB) / 1024, peakDescriptors)
            result += String(format: " cpu_us_per_packet=%.3f cpu_pct=%.1f peak_rss_mib=%.1f server_fds=%d",
                             micros, (cpuAfter - cpuBefore) / elapsed * 100, Double(peakRSSKiB) / 1024, peakDescriptors)
        }
        print(line)
        print(result)
    }
}

/// Counters of every subscriber and the server's CPU time at one instant.
struct Snapshot {
    let time = Date()
    var received = 0
    var expected = 0
    var latencyCounts: [Int] = []
    var serverCPU: Double?
    let audience: [Subscriber]

    init(_ audience: [Subscriber], pid: Int32?) {
        self.audience = audience
        for subscriber in audience {
            subscriber.counters.lock.withLock {
                received += subscriber.counters.received
                expected += subscriber.counters.expected
                latencyCounts.append(subscriber.counters.latenciesMicros.count)
            }
        }
        serverCPU = pid.map(ProcessFigures.cpuSeconds)
    }

    func latencies(since earlier: Snapshot) -> [UInt32] {
        var all: [UInt32] = []
        for (index, subscriber) in audience.enumerated() {
            subscriber.counters.lock.withLock {
                let samples = subscriber.counters.latenciesMicros
                let from = min(earlier.latencyCounts[index], samples.count)
                let to = min(latencyCounts[index], samples.count)
                if from < to { all += samples[from..<to] }
            }
        }
        return all
    }
}

enum ProcessFigures {
    /// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Entries of /proc/PID/fd: single-port media should keep this flat as peers join.
    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    static func rssKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}

/// The Janus sessions of every peer, shared with the keepalive task.
final class SessionList: Sendable {
    private let sessions: Mutex<[JanusSession]>

    init(_ first: JanusSession) { sessions = Mutex([first]) }

    func add(_ session: JanusSession) { sessions.withLock { $0.append(session) } }
    var all: [JanusSession] { sessions.withLock { $0 } }
}
