#if canImport(Glibc)
import Glibc
#endif
import Net
import Synchronization

/// Records one published stream to an .mjr file without disk I/O on the media path: the reader
/// thread copies each packet into a preallocated ring of fixed-size slots (no allocation, a short
/// lock held only for the copy), and `RecordingWriter`'s thread drains the ring to the file. When
/// the writer falls behind and the ring is full, packets are dropped and counted.
///
/// The file is written as `<name>.mjr.tmp` and renamed to `<name>.mjr` once closed, so a finished
/// recording is never mistaken for one still being written.
///
/// `@unchecked Sendable`: `slots` is raw memory shared by the producers and the writer thread. A
/// producer only writes the free slots and the writer only reads the filled ones; which slots are
/// which is decided under `ring`'s lock, and a slot changes hands only by that lock (so its bytes
/// are published with it). `file`, `headerWritten` and `firstPacket` are touched by the writer
/// thread alone (after `init`).
public final class StreamRecorder: @unchecked Sendable {
    /// The finished file's path (`.mjr`).
    public let path: String
    let type: MJRFormat.StreamType
    let codec: String
    /// Wall clock at creation, microseconds since the epoch (the header's `s`).
    let created: Int64

    static let maximumPacket = 1500
    /// Per slot: the packet's length (2 bytes, padded to 8), its arrival (monotonic ns), the packet.
    static let slotHeader = 16
    /// Rounded up to 8 so every slot's arrival time is aligned.
    static let slotSize = (slotHeader + maximumPacket + 7) & ~7
    let slotCount: Int
    private let slots: UnsafeMutableRawPointer

    struct Ring {
        var head = 0
        var count = 0
        var closed = false
        var dropped = 0
        var received = 0
    }
    private let ring = Mutex(Ring())
    private let written = Atomic<Int>(0)

    // Writer thread only.
    private var file: Int32
    private var headerWritten = false
    private var firstPacketNanoseconds: UInt64 = 0

    public struct OpenError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Creates `<directory>/<name>.mjr.tmp` (and the directory when missing, as Janus does).
    /// `slotCount`: packets the ring holds (a second or more of the stream at its rate).
    init(directory: String, name: String, type: MJRFormat.StreamType, codec: String, slotCount: Int) throws(OpenError) {
        let directory = directory.isEmpty ? "." : directory
        path = directory + "/" + name + ".mjr"
        self.type = type
        self.codec = codec
        self.slotCount = slotCount
        created = WallClock.microseconds()
        if access(directory, F_OK) != 0 { Self.makeDirectories(directory) }
        file = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw OpenError(path: path + ".tmp", reason: String(cString: strerror(errno))) }
        slots = UnsafeMutableRawPointer.allocate(byteCount: slotCount * Self.slotSize, alignment: 8)
    }

    deinit {
        slots.deallocate()
        if file >= 0 { Glibc.close(file) }
    }

    private static func makeDirectories(_ path: String) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            mkdir(partial, 0o755)
        }
    }

    // MARK: Media path

    /// Copies a packet into the ring (reader threads). `now`: monotonic nanoseconds at arrival.
    func record(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        guard packet.count >= 12 else { return }
        ring.withLock { ring in
            guard !ring.closed else { return }
            ring.received += 1
            guard ring.count < slotCount, packet.count <= Self.maximumPacket else {
                ring.dropped += 1
                return
            }
            let slot = slots + ((ring.head + ring.count) % slotCount) * Self.slotSize
            slot.storeBytes(of: UInt16(packet.count), as: UInt16.self)
            slot.storeBytes(of: now, toByteOffset: 8, as: UInt64.self)
            (slot + Self.slotHeader).copyMemory(from: packet.baseAddress!, byteCount: packet.count)
            ring.count += 1
        }
    }

    // MARK: Control path

    /// No more packets are taken; the writer thread writes what is left, closes and renames the file.
    func close() {
        ring.withLock { $0.closed = true }
    }

    /// Packets offered, and those dropped because the ring was full (or too big).
    var counters: (received: Int, dropped: Int, written: Int) {
        let (received, dropped) = ring.withLock { ($0.received, $0.dropped) }
        return (received, dropped, written.load(ordering: .relaxed))
    }

    // MARK: Writer thread

    /// Writes the packets waiting in the ring through `staging`; true when the recorder is closed
    /// and everything is written (the file is then closed and renamed).
    func drain(staging: UnsafeMutableRawBufferPointer) -> Bool {
        let (head, count, closed) = ring.withLock { ($0.head, $0.count, $0.closed) }
        var used = 0
        for index in 0..<count {
            let slot = slots + ((head + index) % slotCount) * Self.slotSize
            let length = Int(slot.load(as: UInt16.self))
            let arrival = slot.load(fromByteOffset: 8, as: UInt64.self)
            if !headerWritten {
                firstPacketNanoseconds = arrival
                writeHeader(firstPacketArrival: arrival)
            }
            if used + MJRFormat.packetHeaderSize + length > staging.count {
                flush(staging, used)
                used = 0
            }
            let milliseconds = UInt32(truncatingIfNeeded: (arrival &- firstPacketNanoseconds) / 1_000_000)
            MJRFormat.writePacketHeader(into: UnsafeMutableRawBufferPointer(rebasing: staging[used...]),
                                        receivedMilliseconds: milliseconds, length: length)
            used += MJRFormat.packetHeaderSize
            (staging.baseAddress! + used).copyMemory(from: slot + Self.slotHeader, byteCount: length)
            used += length
        }
        flush(staging, used)
        // The slots are free again only once copied out.
        ring.withLock { ring in
            ring.head = (ring.head + count) % slotCount
            ring.count -= count
        }
        written.add(count, ordering: .relaxed)
        guard closed else { return false }
        // `closed` was read before this drain took its count: nothing can have arrived since.
        finish()
        return true
    }

    /// `firstPacketArrival`: monotonic nanoseconds; the header wants wall-clock microseconds.
    private func writeHeader(firstPacketArrival: UInt64?) {
        var firstPacket = WallClock.microseconds()
        if let firstPacketArrival {
            firstPacket -= Int64(MonotonicClock.nanoseconds() &- firstPacketArrival) / 1000
        }
        let header = MJRFormat.fileHeader(type: type, codec: codec, created: created, firstPacket: firstPacket)
        header.withUnsafeBytes { writeAll($0) }
        headerWritten = true
    }

    private func flush(_ staging: UnsafeMutableRawBufferPointer, _ used: Int) {
        guard used > 0 else { return }
        writeAll(UnsafeRawBufferPointer(rebasing: staging[0..<used]))
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count, file >= 0 {
            let count = write(file, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }  // disk full or gone: the rest of this batch is lost
            offset += count
        }
    }

    /// A recording that never got a packet still gets its header, so tools can read it.
    private func finish() {
        if !headerWritten { writeHeader(firstPacketArrival: nil) }
        guard file >= 0 else { return }
        fsync(file)
        Glibc.close(file)
        file = -1
        rename(path + ".tmp", path)
    }
}

/// Wall-clock time for file headers and names (the media path uses `MonotonicClock`).
enum WallClock {
    static func microseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
