// Parsers for the RFC 3550 report packets: SR, RR, SDES, BYE and APP.
// These run per report interval, not per media packet, so returning small
// arrays of report blocks is acceptable.

/// One reception report block (24 bytes, RFC 3550 §6.4.1).
public struct RTCPReportBlock: Sendable, Equatable {
    public var ssrc: UInt32
    public var fractionLost: UInt8
    /// Signed 24-bit cumulative number of packets lost.
    public var cumulativeLost: Int32
    public var extendedHighestSequence: UInt32
    public var jitter: UInt32
    public var lastSenderReport: UInt32
    public var delaySinceLastSenderReport: UInt32

    public static let length = 24

    public init(ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0,
                extendedHighestSequence: UInt32 = 0, jitter: UInt32 = 0,
                lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.extendedHighestSequence = extendedHighestSequence
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    init(_ b: UnsafeRawBufferPointer, at o: Int) {
        ssrc = b.u32(o)
        fractionLost = b[o + 4]
        // Sign-extend the 24-bit field.
        cumulativeLost = Int32(bitPattern: b.u24(o + 5) << 8) >> 8
        extendedHighestSequence = b.u32(o + 8)
        jitter = b.u32(o + 12)
        lastSenderReport = b.u32(o + 16)
        delaySinceLastSenderReport = b.u32(o + 20)
    }

    static func parseBlocks(_ b: UnsafeRawBufferPointer, at offset: Int, count: Int) -> [RTCPReportBlock]? {
        guard offset + count * length <= b.count else { return nil }
        var blocks: [RTCPReportBlock] = []
        blocks.reserveCapacity(count)
        for i in 0..<count { blocks.append(RTCPReportBlock(b, at: offset + i * length)) }
        return blocks
    }
}

public struct RTCPSenderReport: Sendable, Equatable {
    public var ssrc: UInt32
    /// 64-bit NTP timestamp; the middle 32 bits are what receivers echo as LSR.
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    public var reportBlocks: [RTCPReportBlock]

    public init(ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32,
                packetCount: UInt32, octetCount: UInt32, reportBlocks: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reportBlocks = reportBlocks
    }

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.senderReport, b.count >= 28,
              let blocks = RTCPReportBlock.parseBlocks(b, at: 28, count: Int(packet.count)) else { return nil }
        self.init(ssrc: b.u32(4), ntpTimestamp: b.u64(8), rtpTimestamp: b.u32(16),
                  packetCount: b.u32(20), octetCount: b.u32(24), reportBlocks: blocks)
    }
}

public struct RTCPReceiverReport: Sendable, Equatable {
    public var ssrc: UInt32
    public var reportBlocks: [RTCPReportBlock]

    public init(ssrc: UInt32, reportBlocks: [RTCPReportBlock] = []) {
        self.ssrc = ssrc
        self.reportBlocks = reportBlocks
    }

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.receiverReport, b.count >= 8,
              let blocks = RTCPReportBlock.parseBlocks(b, at: 8, count: Int(packet.count)) else { return nil }
        self.init(ssrc: b.u32(4), reportBlocks: blocks)
    }
}

/// SDES (RFC 3550 §6.5); only CNAME is kept, the SFU needs nothing else.
public struct RTCPSourceDescription: Sendable, Equatable {
    public struct Chunk: Sendable, Equatable {
        public var ssrc: UInt32
        public var cname: String?
    }

    public var chunks: [Chunk]

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.sourceDescription else { return nil }
        var chunks: [Chunk] = []
        var pos = 4
        for _ in 0..<Int(packet.count) {
            guard pos + 4 <= b.count else { return nil }
            var chunk = Chunk(ssrc: b.u32(pos), cname: nil)
            pos += 4
            // Items until a zero type byte, then pad to the next 32-bit boundary.
            while true {
                guard pos < b.count else { return nil }
                let type = b[pos]
                if type == 0 { break }
                guard pos + 2 <= b.count else { return nil }
                let length = Int(b[pos + 1])
                guard pos + 2 + length <= b.count else { return nil }
                if type == 1 {
                    chunk.cname = String(decoding: b.slice(pos + 2, length), as: UTF8.self)
                }
                pos += 2 + length
            }
            pos = (pos + 4) & ~3
            guard pos <= b.count else { return nil }
            chunks.append(chunk)
        }
        self.chunks = chunks
    }
}

/// BYE (RFC 3550 §6.6).
public struct RTCPGoodbye: Sendable, Equatable {
    public var ssrcs: [UInt32]
    public var reason: String?

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.goodbye else { return nil }
        let n = Int(packet.count)
        guard 4 + n * 4 <= b.count else { return nil }
        ssrcs = (0..<n).map { b.u32(4 + $0 * 4) }
        let r = 4 + n * 4
        reason = nil
        if r < b.count {
            let length = Int(b[r])
            guard r + 1 + length <= b.count else { return nil }
            reason = String(decoding: b.slice(r + 1, length), as: UTF8.self)
        }
    }
}

/// APP (RFC 3550 §6.7): identified but not interpreted; the SFU drops it.
public struct RTCPApplication: Sendable, Equatable {
    public var subtype: UInt8
    public var ssrc: UInt32
    /// Four ASCII characters packed big-endian.
    public var name: UInt32

    public init?(_ packet: RTCPPacketView) {
        let b = packet.bytes
        guard packet.packetType == RTCPPacketType.application, b.count >= 12 else { return nil }
        subtype = packet.count
        ssrc = b.u32(4)
        name = b.u32(8)
    }
}
