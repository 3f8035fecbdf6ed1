// The receiving half of transport-wide congestion control
// (draft-holmer-rmcat-transport-wide-cc-extensions-01): arrival times of incoming packets by
// their transport-wide sequence number, and the RTCP feedback that reports them back to the
// sender, whose bandwidth estimator (Chromium's GoogCC) depends on it once the extension is
// negotiated. Janus's core does the same for every PeerConnection.

/// Records arrivals (one array write per packet, no allocation) and writes them out as
/// transport-cc feedback packets when asked (every ~100 ms, off the packet path).
public struct TransportFeedbackRecorder: Sendable {
    /// Packets remembered between two feedback packets; older ones are dropped unreported
    /// when a sender races further ahead (they then count as lost for its estimator).
    public static let capacity = 1024
    /// Statuses one feedback packet reports at most (keeps it well under an MTU).
    public static let maxStatusesPerPacket = 384
    /// Bytes a feedback packet can need: header, worst-case chunks and two-byte deltas.
    public static let maxPacketSize = 20 + 2 * maxStatusesPerPacket + 2 * maxStatusesPerPacket / 7 + 2 + 3

    static let deltaUnitNanos: Int64 = 250_000
    static let referenceUnitNanos: Int64 = 64_000_000

    /// Arrival time (monotonic nanoseconds, 0 = not received) by sequence number modulo capacity.
    private var arrivals: [UInt64]
    /// Unwrapped sequence number of the first packet not yet reported; nil before the first.
    private var nextToReport: Int64?
    /// Unwrapped highest sequence number received.
    private var highest: Int64 = 0
    private var feedbackCount: UInt8 = 0
    /// The SSRC the feedback names as its media source (the last one seen; receivers ignore it).
    public private(set) var mediaSSRC: UInt32 = 0

    public init() {
        arrivals = [UInt64](repeating: 0, count: Self.capacity)
    }

    /// Whether some received packet has not been reported yet.
    public var hasPending: Bool {
        guard let nextToReport else { return false }
        return highest >= nextToReport
    }

    /// Notes that the packet with transport-wide sequence number `sequence` arrived at `arrivalNanos`.
    public mutating func record(sequence: UInt16, arrivalNanos: UInt64, ssrc: UInt32) {
        mediaSSRC = ssrc
        let unwrapped = highest + Int64(SequenceNumber.distance(from: UInt16(truncatingIfNeeded: highest), to: sequence))
        guard let start = nextToReport else {
            nextToReport = unwrapped
            highest = unwrapped
            store(unwrapped, arrivalNanos)
            return
        }
        // Already reported (as lost, or a duplicate): the sender has moved on.
        guard unwrapped >= start else { return }
        if unwrapped - start >= Int64(Self.capacity) {
            // Too far ahead for the window: forget the oldest unreported packets.
            let newStart = unwrapped - Int64(Self.capacity) + 1
            clear(from: start, to: min(newStart, highest + 1))
            nextToReport = newStart
        }
        store(unwrapped, arrivalNanos)
        if unwrapped > highest { highest = unwrapped }
    }

    private mutating func store(_ sequence: Int64, _ arrivalNanos: UInt64) {
        arrivals[Int(sequence & Int64(Self.capacity - 1))] = max(1, arrivalNanos)
    }

    private mutating func clear(from start: Int64, to end: Int64) {
        var sequence = start
        while sequence < end {
            arrivals[Int(sequence & Int64(Self.capacity - 1))] = 0
            sequence += 1
        }
    }

    private func arrival(_ sequence: Int64) -> UInt64 {
        arrivals[Int(sequence & Int64(Self.capacity - 1))]
    }

    /// Writes one feedback packet about the packets not yet reported (as many as fit, from the
    /// oldest) into `out` (at least `maxPacketSize` bytes) and marks them reported. Returns its
    /// length, or nil when there is nothing to report.
    public mutating func writeFeedback(senderSSRC: UInt32, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let base = nextToReport, highest >= base, out.count >= Self.maxPacketSize else { return nil }
        var first = base
        while arrival(first) == 0 && first < highest { first += 1 }
        let referenceTicks = Int64(arrival(first)) / Self.referenceUnitNanos
        var previous = referenceTicks * Self.referenceUnitNanos

        return withUnsafeTemporaryAllocation(of: Int16.self, capacity: Self.maxStatusesPerPacket) { deltas in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxStatusesPerPacket) { statuses in
                // Statuses and deltas; a delta too large for 16 bits ends this packet early.
                var count = 0
                var sequence = base
                while sequence <= highest, count < Self.maxStatusesPerPacket {
                    let arrived = arrival(sequence)
                    if arrived == 0 {
                        statuses[count] = RTCPTransportFeedback.Status.notReceived.rawValue
                    } else {
                        let units = (Int64(arrived) - previous) / Self.deltaUnitNanos
                        guard units >= Int64(Int16.min), units <= Int64(Int16.max) else { break }
                        statuses[count] = (0...255).contains(units)
                            ? RTCPTransportFeedback.Status.smallDelta.rawValue
                            : RTCPTransportFeedback.Status.largeDelta.rawValue
                        deltas[count] = Int16(units)
                        // Quantised, so rounding errors do not add up along the packet.
                        previous += units * Self.deltaUnitNanos
                    }
                    count += 1
                    sequence += 1
                }
                var position = 20
                position = Self.writeChunks(UnsafeBufferPointer(rebasing: statuses[0..<count]), into: out, at: position)
                for index in 0..<count {
                    switch statuses[index] {
                    case RTCPTransportFeedback.Status.smallDelta.rawValue:
                        out[position] = UInt8(deltas[index])
                        position += 1
                    case RTCPTransportFeedback.Status.largeDelta.rawValue:
                        out.put16(UInt16(bitPattern: deltas[index]), at: position)
                        position += 2
                    default:
                        break
                    }
                }
                let padding = (4 - position % 4) % 4
                for offset in 0..<padding { out[position + offset] = 0 }
                if padding > 0 { out[position + padding - 1] = UInt8(padding) }
                let length = position + padding
                out[0] = 0x80 | (padding > 0 ? 0x20 : 0) | RTCPFeedbackFormat.transportWideCC
                out[1] = RTCPPacketType.transportFeedback
                out.put16(UInt16(length / 4 - 1), at: 2)
                out.put32(senderSSRC, at: 4)
                out.put32(mediaSSRC, at: 8)
                out.put16(UInt16(truncatingIfNeeded: base), at: 12)
                out.put16(UInt16(count), at: 14)
                let reference = UInt32(truncatingIfNeeded: referenceTicks) & 0xFF_FFFF
                out[16] = UInt8(truncatingIfNeeded: reference >> 16)
                out[17] = UInt8(truncatingIfNeeded: reference >> 8)
                out[18] = UInt8(truncatingIfNeeded: reference)
                out[19] = feedbackCount
                feedbackCount &+= 1
                clear(from: base, to: base + Int64(count))
                nextToReport = base + Int64(count)
                return length
            }
        }
    }

    /// Packet status chunks for `statuses`: run-length chunks for long runs, one-bit vectors
    /// where only "not received" and "small delta" occur, two-bit vectors otherwise.
    static func writeChunks(_ statuses: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableRawBufferPointer,
                            at start: Int) -> Int {
        var position = start
        var index = 0
        while index < statuses.count {
            var run = 1
            while index + run < statuses.count, statuses[index + run] == statuses[index], run < 0x1FFF { run += 1 }
            let vectorEnd = min(index + 14, statuses.count)
            let oneBit = statuses[index..<vectorEnd].allSatisfy { $0 <= 1 }
            var chunk: UInt16
            if run >= 14 || (run >= 7 && !oneBit) || index + run == statuses.count && run >= 7 {
                chunk = UInt16(statuses[index]) << 13 | UInt16(run)
                index += run
            } else if oneBit {
                chunk = 0x8000
                for offset in 0..<(vectorEnd - index) where statuses[index + offset] == 1 {
                    chunk |= 1 << (13 - offset)
                }
                index = vectorEnd
            } else {
                chunk = 0xC000
                let end = min(index + 7, statuses.count)
                for offset in 0..<(end - index) {
                    chunk |= UInt16(statuses[index + offset]) << (12 - 2 * offset)
                }
                index = end
            }
            out.put16(chunk, at: position)
            position += 2
        }
        return position
    }
}
