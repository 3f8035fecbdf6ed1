// Parsers for RFC 4585 feedback: generic NACK and transport-wide CC (RTPFB),
// PLI, FIR (RFC 5104) and REMB (PSFB). Layout shared by all of them:
// header(4) | sender SSRC(4) | media source SSRC(4) | FCI...

/// Feedback message format values (the 5-bit FMT field).
public enum RTCPFeedbackFormat {
    public static let nack: UInt8 = 1
    public static let transportWideCC: UInt8 = 15
    public static let pli: UInt8 = 1
    public static let fir: UInt8 = 4
    public static let applicationLayer: UInt8 = 15
}

/// One generic NACK FCI entry: a lost packet ID plus a bitmask of the 16 following.
public struct RTCPNackEntry: Sendable, Equatable {
    public var packetID: UInt16
    public var lostBitmask: UInt16

    public init(packetID: UInt16, lostBitmask: UInt16) {
        self.packetID = packetID
        self.lostBitmask = lostBitmask
    }

    /// Calls `body` with each lost sequence number this entry names, in order.
    public func forEachLost(_ body: (UInt16) -> Void) {
        body(packetID)
        var mask = lostBitmask
        var bit: UInt16 = 1
        while mask != 0 {
            if mask & 1 != 0 { body(packetID &+ bit) }
            mask >>= 1
            bit += 1
        }
    }
}

public struct RTCPNack: Sendable, Equatable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var entries: [RTCPNackEntry]

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.transportFeedback,
              packet.format == RTCPFeedbackFormat.nack,
              b.count >= 16, (b.count - 12) % 4 == 0 else { return nil }
        senderSSRC = b.u32(4)
        mediaSSRC = b.u32(8)
        entries = stride(from: 12, to: b.count, by: 4).map {
            RTCPNackEntry(packetID: b.u16($0), lostBitmask: b.u16($0 + 2))
        }
    }

    /// All lost sequence numbers, expanded from PID+BLP pairs.
    public var lostSequenceNumbers: [UInt16] {
        var out: [UInt16] = []
        for entry in entries { entry.forEachLost { out.append($0) } }
        return out
    }

    /// Walks the lost sequence numbers straight from the packet, without
    /// allocating; false if the packet is not a well-formed NACK.
    @discardableResult
    public static func forEachLost(in packet: RTCPPacketView, _ body: (UInt16) -> Void) -> Bool {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.transportFeedback,
              packet.format == RTCPFeedbackFormat.nack,
              b.count >= 16, (b.count - 12) % 4 == 0 else { return false }
        for o in stride(from: 12, to: b.count, by: 4) {
            RTCPNackEntry(packetID: b.u16(o), lostBitmask: b.u16(o + 2)).forEachLost(body)
        }
        return true
    }
}

/// Transport-wide congestion control feedback
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
public struct RTCPTransportFeedback: Sendable, Equatable {
    /// Per-packet receive status symbols.
    public enum Status: UInt8, Sendable {
        case notReceived = 0
        case smallDelta = 1
        case largeDelta = 2
        case reserved = 3
    }

    public struct PacketResult: Sendable, Equatable {
        public var sequenceNumber: UInt16
        public var status: Status
        /// Receive delta in 250 µs units; nil when not received.
        public var delta: Int16?
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var baseSequenceNumber: UInt16
    public var packetStatusCount: UInt16
    /// Signed 24-bit reference time in multiples of 64 ms.
    public var referenceTime: Int32
    public var feedbackPacketCount: UInt8
    /// Decoded chunks and deltas; nil when they were truncated or inconsistent
    /// (the header fields above are still usable).
    public var packets: [PacketResult]?

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.transportFeedback,
              packet.format == RTCPFeedbackFormat.transportWideCC,
              b.count >= 20 else { return nil }
        senderSSRC = b.u32(4)
        mediaSSRC = b.u32(8)
        baseSequenceNumber = b.u16(12)
        packetStatusCount = b.u16(14)
        referenceTime = Int32(bitPattern: b.u24(16) << 8) >> 8
        feedbackPacketCount = b[19]
        packets = Self.decode(b, base: baseSequenceNumber, count: Int(packetStatusCount))
    }

    private static func decode(_ b: UnsafeRawBufferPointer, base: UInt16, count: Int) -> [PacketResult]? {
        var statuses: [Status] = []
        statuses.reserveCapacity(count)
        var pos = 20
        while statuses.count < count {
            guard pos + 2 <= b.count else { return nil }
            let chunk = b.u16(pos)
            pos += 2
            if chunk & 0x8000 == 0 {
                // Run-length chunk: 2-bit symbol repeated 13-bit run times.
                let symbol = Status(rawValue: UInt8((chunk >> 13) & 0x3)) ?? .reserved
                let run = Int(chunk & 0x1FFF)
                for _ in 0..<min(run, count - statuses.count) { statuses.append(symbol) }
            } else if chunk & 0x4000 == 0 {
                // Status vector of 14 one-bit symbols.
                for i in 0..<14 where statuses.count < count {
                    statuses.append((chunk >> (13 - i)) & 1 == 1 ? .smallDelta : .notReceived)
                }
            } else {
                // Status vector of 7 two-bit symbols.
                for i in 0..<7 where statuses.count < count {
                    let v = UInt8((chunk >> (12 - 2 * i)) & 0x3)
                    statuses.append(Status(rawValue: v) ?? .reserved)
                }
            }
        }
        var results: [PacketResult] = []
        results.reserveCapacity(count)
        for (i, status) in statuses.enumerated() {
            var delta: Int16?
            switch status {
            case .smallDelta:
                guard pos + 1 <= b.count else { return nil }
                delta = Int16(b[pos])
                pos += 1
            case .largeDelta:
                guard pos + 2 <= b.count else { return nil }
                delta = Int16(bitPattern: b.u16(pos))
                pos += 2
            case .notReceived, .reserved:
                delta = nil
            }
            results.append(PacketResult(sequenceNumber: base &+ UInt16(truncatingIfNeeded: i), status: status, delta: delta))
        }
        return results
    }
}

/// Picture Loss Indication (RFC 4585 §6.3.1): no FCI.
public struct RTCPPictureLossIndication: Sendable, Equatable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.payloadFeedback,
              packet.format == RTCPFeedbackFormat.pli, b.count >= 12 else { return nil }
        self.init(senderSSRC: b.u32(4), mediaSSRC: b.u32(8))
    }
}

/// Full Intra Request (RFC 5104 §4.3.1): the target SSRCs are in the FCI
/// entries; the header's media SSRC is unused (0).
public struct RTCPFullIntraRequest: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var ssrc: UInt32
        public var sequenceNumber: UInt8

        public init(ssrc: UInt32, sequenceNumber: UInt8) {
            self.ssrc = ssrc
            self.sequenceNumber = sequenceNumber
        }
    }

    public var senderSSRC: UInt32
    public var entries: [Entry]

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.payloadFeedback,
              packet.format == RTCPFeedbackFormat.fir,
              b.count >= 20, (b.count - 12) % 8 == 0 else { return nil }
        senderSSRC = b.u32(4)
        entries = stride(from: 12, to: b.count, by: 8).map { Entry(ssrc: b.u32($0), sequenceNumber: b[$0 + 4]) }
    }
}

/// Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb-03).
public struct RTCPReceiverEstimatedBitrate: Sendable, Equatable {
    public var senderSSRC: UInt32
    /// Bits per second: mantissa << exponent, saturated to UInt64.
    public var bitrate: UInt64
    public var ssrcs: [UInt32]

    /// "REMB" as a big-endian word.
    public static let identifier: UInt32 = 0x5245_4D42

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.payloadFeedback,
              packet.format == RTCPFeedbackFormat.applicationLayer,
              b.count >= 20, b.u32(12) == Self.identifier else { return nil }
        let n = Int(b[16])
        guard 20 + n * 4 <= b.count else { return nil }
        senderSSRC = b.u32(4)
        let exponent = UInt64(b[17] >> 2)
        let mantissa = UInt64(b.u24(17) & 0x3_FFFF)
        bitrate = Self.expand(mantissa: mantissa, exponent: exponent)
        ssrcs = (0..<n).map { b.u32(20 + $0 * 4) }
    }

    static func expand(mantissa: UInt64, exponent: UInt64) -> UInt64 {
        // A 6-bit exponent can reach 63; an 18-bit mantissa shifted that far overflows.
        guard mantissa != 0 else { return 0 }
        let bits = 64 - UInt64(mantissa.leadingZeroBitCount)
        return bits + exponent > 64 ? UInt64.max : mantissa << exponent
    }
}
