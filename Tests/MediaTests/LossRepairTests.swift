/// The two halves of NACK handling shared by EchoTest and VideoRoom, without sockets: gaps in a
/// received stream become NACKs and RTX repairs are restored (InboundLossRecovery); NACKed
/// packets are resent from what was sent, as RTX when negotiated (OutboundRetransmission).
import Testing
import Media
import RTP

@Suite("NACK handling: inbound gaps and outbound retransmissions")
struct LossRepairTests {
    static let ms: UInt64 = 1_000_000
    static let mediaSSRC: UInt32 = 0x1111_1111
    static let rtxSSRC: UInt32 = 0x2222_2222

    /// A 16-byte RTP packet: PT 96, `sequence`, SSRC, payload = the sequence number twice.
    static func rtp(_ sequence: UInt16, ssrc: UInt32 = mediaSSRC, payloadType: UInt8 = 96) -> [UInt8] {
        let s = [UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        return [0x80, payloadType, s[0], s[1], 0, 0, 0x10, 0,
                UInt8(ssrc >> 24), UInt8(ssrc >> 16 & 0xFF), UInt8(ssrc >> 8 & 0xFF), UInt8(ssrc & 0xFF)] + s + s
    }

    /// The RTX form (RFC 4588) of `rtp(original)`: PT 97, its own sequence number, OSN first.
    static func rtx(carrying original: UInt16, sequence: UInt16) -> [UInt8] {
        var packet = rtp(sequence, ssrc: rtxSSRC, payloadType: 97)
        packet.insert(contentsOf: [UInt8(original >> 8), UInt8(original & 0xFF)], at: 12)
        packet.replaceSubrange(14..., with: rtp(original)[12...])
        return packet
    }

    static let video = InboundRoute(stream: 1, isVideo: true, isRTX: false)
    static let videoRTX = InboundRoute(stream: 1, isVideo: true, isRTX: true)

    /// Feeds one packet; returns what passes on (nil: dropped) and the NACKs asked for.
    static func receive(_ recovery: InboundLossRecovery, _ bytes: [UInt8], route: InboundRoute,
                        at now: UInt64) -> (passed: [UInt8]?, nacks: [(UInt32, [UInt16])]) {
        var copy = bytes
        var nacks: [(UInt32, [UInt16])] = []
        let passed = copy.withUnsafeMutableBytes { packet -> [UInt8]? in
            recovery.received(packet, route: route, now: now) { ssrc, lost in nacks.append((ssrc, Array(lost))) }
                .map { Array($0) }
        }
        return (passed, nacks)
    }

    @Test func aGapIsNACKedAndItsRTXRepairIsRestoredToTheMediaPacket() {
        let recovery = InboundLossRecovery()
        recovery.follow(streamCount: 2, positions: [1])
        #expect(Self.receive(recovery, Self.rtp(100), route: Self.video, at: 0).nacks.isEmpty)
        let next = Self.receive(recovery, Self.rtp(103), route: Self.video, at: 20 * Self.ms)
        #expect(next.passed == Self.rtp(103))
        #expect(next.nacks.count == 1)
        #expect(next.nacks.first?.0 == Self.mediaSSRC && next.nacks.first?.1 == [101, 102])
        // The repair of 101 comes back as the packet it carries: media SSRC, PT and sequence number.
        let repaired = Self.receive(recovery, Self.rtx(carrying: 101, sequence: 7), route: Self.videoRTX, at: 30 * Self.ms)
        #expect(repaired.passed == Self.rtp(101))
        // A second copy repairs nothing (a duplicate, or a probe): dropped.
        #expect(Self.receive(recovery, Self.rtx(carrying: 101, sequence: 8), route: Self.videoRTX,
                             at: 31 * Self.ms).passed == nil)
        // 102 is still missing: asked for again after the retry interval, 101 not.
        let retry = Self.receive(recovery, Self.rtp(104), route: Self.video, at: 30 * Self.ms + LossTracker.retryInterval)
        #expect(retry.nacks.map(\.1) == [[102]])
    }

    @Test func streamsNotFollowedPassMediaAndDropRTX() {
        let recovery = InboundLossRecovery()
        recovery.follow(streamCount: 2, positions: [1])
        let audio = InboundRoute(stream: 0, isVideo: false, isRTX: false)
        #expect(Self.receive(recovery, Self.rtp(1), route: audio, at: 0).passed == Self.rtp(1))
        let gap = Self.receive(recovery, Self.rtp(9), route: audio, at: Self.ms)
        #expect(gap.passed == Self.rtp(9) && gap.nacks.isEmpty)
        #expect(Self.receive(recovery, Self.rtx(carrying: 5, sequence: 1),
                             route: InboundRoute(stream: 0, isVideo: false, isRTX: true), at: Self.ms).passed == nil)
        recovery.stop()
        let after = Self.receive(recovery, Self.rtp(200), route: Self.video, at: 2 * Self.ms)
        #expect(after.passed == Self.rtp(200) && after.nacks.isEmpty)
    }

    /// A generic NACK for `lost`, handed to `body` as the packet view EchoTest and VideoRoom get.
    static func withNACK(_ lost: [UInt16], _ body: (RTCPPacketView) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64)
        buffer.withUnsafeMutableBytes { out in
            let length = RTCPWriter.writeNack(senderSSRC: 9, mediaSSRC: mediaSSRC, lost: lost, into: out)!
            var iterator = RTCPCompoundIterator(UnsafeRawBufferPointer(rebasing: out[0..<length]))
            body(iterator.next()!)
        }
    }

    /// Answers a NACK; returns each repair sent and whether it went as RTX.
    static func answer(_ retransmission: OutboundRetransmission, _ lost: [UInt16], at now: UInt64) -> [([UInt8], Bool)] {
        var sent: [([UInt8], Bool)] = []
        withNACK(lost) { nack in retransmission.answer(nack, now: now) { sent.append((Array($0), $1)) } }
        return sent
    }

    static func keep(_ retransmission: OutboundRetransmission, _ sequences: ClosedRange<UInt16>, at now: UInt64) {
        for sequence in sequences { Self.rtp(sequence).withUnsafeBytes { retransmission.keep($0, now: now) } }
    }

    @Test func theFirstNACKFindsWhatWasSentBeforeIt() {
        let retransmission = OutboundRetransmission()
        retransmission.useRTX(payloadType: 97, ssrc: Self.rtxSSRC)
        retransmission.keepPackets(true)
        Self.keep(retransmission, 1...40, at: 0)
        // Before any NACK only the small buffer is kept: the last `initialSlots` packets.
        #expect(retransmission.capacity == OutboundRetransmission.initialSlots)
        let first = Self.answer(retransmission, [3, 30], at: Self.ms)
        #expect(first.map { UInt16($0.0[12]) << 8 | UInt16($0.0[13]) } == [30])
        // That NACK grew the buffer to its full size, keeping what it held.
        #expect(retransmission.capacity == OutboundRetransmission.slots)
        #expect(Self.answer(retransmission, [39], at: Self.ms).count == 1)
        Self.keep(retransmission, 41...300, at: 2 * Self.ms)
        #expect(Self.answer(retransmission, [50, 300], at: 3 * Self.ms).count == 2)
    }

    @Test func aReceiverThatDidNotAgreeToNACKCostsNothing() {
        let retransmission = OutboundRetransmission()
        Self.keep(retransmission, 1...5, at: 0)
        #expect(retransmission.capacity == 0)
        #expect(Self.answer(retransmission, [3], at: Self.ms).isEmpty)
    }

    @Test func nackedPacketsAreResentAsRTX() {
        let retransmission = OutboundRetransmission()
        retransmission.useRTX(payloadType: 97, ssrc: Self.rtxSSRC)
        retransmission.keepPackets(true)
        Self.keep(retransmission, 10...20, at: 2 * Self.ms)
        let sent = Self.answer(retransmission, [12, 15, 30], at: 3 * Self.ms)
        #expect(sent.count == 2 && sent.allSatisfy(\.1))
        guard sent.count == 2 else { return }
        // RTX: PT 97 on the RTX SSRC, consecutive RTX sequence numbers, the OSN, then the payload.
        var osns: [UInt16] = []
        var rtxSequences: [UInt16] = []
        for (packet, _) in sent {
            #expect(packet[1] & 0x7F == 97)
            #expect(Array(packet[8..<12]) == [0x22, 0x22, 0x22, 0x22])
            rtxSequences.append(UInt16(packet[2]) << 8 | UInt16(packet[3]))
            let osn = UInt16(packet[12]) << 8 | UInt16(packet[13])
            osns.append(osn)
            #expect(Array(packet[14...]) == Array(Self.rtp(osn)[12...]))
        }
        #expect(osns == [12, 15])
        #expect(rtxSequences[1] == rtxSequences[0] &+ 1)
        // The same NACK again right away crossed the repair in flight: not resent; later it is.
        #expect(Self.answer(retransmission, [12], at: 4 * Self.ms).isEmpty)
        #expect(Self.answer(retransmission, [12], at: 4 * Self.ms + NACKResponder().minimumResendIntervalNanoseconds).count == 1)
    }

    @Test func withoutRTXThePacketItselfIsResent() {
        let retransmission = OutboundRetransmission()
        retransmission.useRTX(payloadType: 97, ssrc: Self.rtxSSRC)
        retransmission.useRTX(payloadType: nil, ssrc: nil)
        retransmission.keepPackets(true)
        Self.keep(retransmission, 40...44, at: Self.ms)
        let sent = Self.answer(retransmission, [42], at: 2 * Self.ms)
        #expect(sent.count == 1)
        #expect(sent.first?.0 == Self.rtp(42) && sent.first?.1 == false)
    }
}
