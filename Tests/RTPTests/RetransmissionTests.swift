import Testing
@testable import RTP

/// An RTP packet with the given fields; `padding` adds that many padding bytes.
func rtpPacket(sequenceNumber: UInt16, timestamp: UInt32 = 0x1000, ssrc: UInt32 = 0xDEAD_BEEF,
               payloadType: UInt8 = 96, marker: Bool = false, payload: [UInt8] = [1, 2, 3],
               csrcs: [UInt32] = [], extensionWords: [UInt32]? = nil, padding: UInt8 = 0) -> [UInt8] {
    var b0: UInt8 = 0x80 | UInt8(csrcs.count)
    if padding > 0 { b0 |= 0x20 }
    if extensionWords != nil { b0 |= 0x10 }
    var bytes: [UInt8] = [b0, (marker ? 0x80 : 0) | payloadType,
                          UInt8(sequenceNumber >> 8), UInt8(sequenceNumber & 0xFF)]
    func word(_ w: UInt32) { bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: w >> $0) } }
    word(timestamp)
    word(ssrc)
    csrcs.forEach(word)
    if let extensionWords {
        word(0xBEDE_0000 | UInt32(extensionWords.count))
        extensionWords.forEach(word)
    }
    bytes += payload
    if padding > 0 { bytes += [UInt8](repeating: 0, count: Int(padding) - 1) + [padding] }
    return bytes
}

private let second: UInt64 = 1_000_000_000
private let millisecond: UInt64 = 1_000_000

extension RetransmissionBuffer {
    /// Stores an array-held packet (test convenience).
    @discardableResult
    func store(_ packet: [UInt8], at now: UInt64) -> Bool {
        packet.withUnsafeBytes { store($0, nowNanoseconds: now) }
    }

    /// The stored bytes, copied out (test convenience).
    func packet(_ sequenceNumber: UInt16, at now: UInt64) -> [UInt8]? {
        withPacket(sequenceNumber: sequenceNumber, nowNanoseconds: now) { Array($0) }
    }
}

@Suite struct RetransmissionBufferTests {
    @Test func storesAndReturnsExactBytes() {
        let buffer = RetransmissionBuffer()
        let packet = rtpPacket(sequenceNumber: 1000, marker: true, payload: Array(0..<200))
        #expect(buffer.store(packet, at: 5))
        #expect(buffer.packet(1000, at: 5) == packet)
        #expect(buffer.contains(sequenceNumber: 1000, nowNanoseconds: 5))
        #expect(buffer.packet(1001, at: 5) == nil)
    }

    @Test func newerPacketsOverwriteTheirSlot() {
        let buffer = RetransmissionBuffer(capacity: 4)
        for seq in UInt16(0)...5 { buffer.store(rtpPacket(sequenceNumber: seq), at: 0) }
        #expect(buffer.packet(0, at: 0) == nil)
        #expect(buffer.packet(1, at: 0) == nil)
        for seq in UInt16(2)...5 { #expect(buffer.packet(seq, at: 0) == rtpPacket(sequenceNumber: seq)) }
        // Slot 1 now holds 5: asking for 9, 13… (same slot) finds nothing.
        #expect(buffer.packet(9, at: 0) == nil)
    }

    @Test func sequenceWrapKeepsPacketsApart() {
        let buffer = RetransmissionBuffer(capacity: 8)
        let seqs: [UInt16] = [65533, 65534, 65535, 0, 1, 2]
        for seq in seqs { buffer.store(rtpPacket(sequenceNumber: seq, payload: [UInt8(seq & 0xFF)]), at: 0) }
        for seq in seqs {
            #expect(buffer.packet(seq, at: 0) == rtpPacket(sequenceNumber: seq, payload: [UInt8(seq & 0xFF)]))
        }
    }

    @Test func packetsExpireAfterTheMaximumAge() {
        let buffer = RetransmissionBuffer(capacity: 16, maximumAgeNanoseconds: second)
        buffer.store(rtpPacket(sequenceNumber: 7), at: 10 * second)
        #expect(buffer.packet(7, at: 11 * second) != nil)
        #expect(buffer.packet(7, at: 11 * second + 1) == nil)
        // A clock reading before the store is treated as age zero.
        #expect(buffer.packet(7, at: 0) != nil)
    }

    @Test func refusesWhatIsNotAStorableRTPPacket() {
        let buffer = RetransmissionBuffer(capacity: 16, maximumPacketLength: 100)
        #expect(!buffer.store(rtpPacket(sequenceNumber: 1, payload: Array(repeating: 0, count: 89)), at: 0))
        #expect(buffer.store(rtpPacket(sequenceNumber: 1, payload: Array(repeating: 0, count: 88)), at: 0))
        #expect(!buffer.store([0x80, 0x60, 0, 2], at: 0))
        var notRTP = rtpPacket(sequenceNumber: 3)
        notRTP[0] = 0x40
        #expect(!buffer.store(notRTP, at: 0))
        #expect(buffer.packet(3, at: 0) == nil)
    }

    @Test func removeAllForgetsEverything() {
        let buffer = RetransmissionBuffer(capacity: 16)
        buffer.store(rtpPacket(sequenceNumber: 3), at: 0)
        buffer.removeAll()
        #expect(buffer.packet(3, at: 0) == nil)
    }

    @Test func aLargerBufferTakesOverWhatASmallOneKept() {
        let small = RetransmissionBuffer(capacity: 8)
        // 0 and 8 share a slot in `small` (8 overwrote 0), 3 was stored long before 11 shared it.
        for sequence: UInt16 in [0, 8, 9, 10] { small.store(rtpPacket(sequenceNumber: sequence, payload: [UInt8(sequence)]), at: millisecond) }
        small.store(rtpPacket(sequenceNumber: 0xFFFB), at: 0)           // slot 3, old
        var resent = 0
        _ = small.retransmit(sequenceNumber: 9, nowNanoseconds: 2 * millisecond, minimumIntervalNanoseconds: second) { _ in resent += 1 }
        let large = RetransmissionBuffer(capacity: 64)
        large.store(rtpPacket(sequenceNumber: 0xFFFB &+ 64, payload: [7]), at: 5 * millisecond)  // the same slot, newer
        small.copyContents(into: large)
        #expect(large.packet(8, at: 3 * millisecond) == rtpPacket(sequenceNumber: 8, payload: [8]))
        #expect(large.packet(10, at: 3 * millisecond) == rtpPacket(sequenceNumber: 10, payload: [10]))
        #expect(large.packet(0, at: 3 * millisecond) == nil)
        // The newer packet in the shared slot stays; the resend time came along with packet 9.
        #expect(large.packet(0xFFFB &+ 64, at: 6 * millisecond) == rtpPacket(sequenceNumber: 0xFFFB &+ 64, payload: [7]))
        #expect(large.retransmit(sequenceNumber: 9, nowNanoseconds: 3 * millisecond,
                                 minimumIntervalNanoseconds: second) { _ in } == .rateLimited)
    }

    @Test func retransmitRateLimitsEachPacket() {
        let buffer = RetransmissionBuffer(capacity: 16)
        buffer.store(rtpPacket(sequenceNumber: 3), at: 0)
        var sent = 0
        let interval = 100 * millisecond
        func resend(_ seq: UInt16, at now: UInt64) -> RetransmissionBuffer.RetransmissionOutcome {
            buffer.retransmit(sequenceNumber: seq, nowNanoseconds: now, minimumIntervalNanoseconds: interval) { _ in
                sent += 1
            }
        }
        #expect(resend(3, at: 0) == .resent)
        #expect(resend(3, at: 99 * millisecond) == .rateLimited)
        #expect(resend(3, at: interval) == .resent)
        #expect(resend(4, at: interval) == .unavailable)
        #expect(sent == 2)
        // Storing the slot again (a new packet) clears the resend history.
        buffer.store(rtpPacket(sequenceNumber: 3), at: interval)
        #expect(resend(3, at: interval) == .resent)
    }
}

/// Writes the RTX form of `original` into a `capacity`-byte buffer; nil when RTX.write refuses.
func rtxPacket(_ original: [UInt8], payloadType: UInt8 = 97, ssrc: UInt32 = 0x2222_2222,
               sequenceNumber: UInt16, capacity: Int = 100) -> [UInt8]? {
    var out = [UInt8](repeating: 0xEE, count: capacity)
    let n = original.withUnsafeBytes { source in
        out.withUnsafeMutableBytes {
            RTX.write(original: source, payloadType: payloadType, ssrc: ssrc, sequenceNumber: sequenceNumber, into: $0)
        }
    }
    return n.map { Array(out.prefix($0)) }
}

/// Restores an RTX packet in place; the restored bytes, or nil when refused.
func restoredPacket(_ rtx: [UInt8], payloadType: UInt8, ssrc: UInt32) -> [UInt8]? {
    var bytes = rtx
    let n = bytes.withUnsafeMutableBytes { RTX.restoreOriginal($0, payloadType: payloadType, ssrc: ssrc) }
    return n.map { Array(bytes.prefix($0)) }
}

@Suite struct RTXTests {
    /// Marker set, one CSRC, a one-byte extension word, payload, 4 bytes of padding.
    static let original = rtpPacket(sequenceNumber: 0x1234, timestamp: 0xCAFE_F00D, ssrc: 0x1111_1111,
                                    payloadType: 96, marker: true, payload: [0xA0, 0xA1, 0xA2],
                                    csrcs: [0x0000_00CC], extensionWords: [0x10AB_0000], padding: 4)

    @Test func rtxPacketLayoutFollowsRFC4588Section4() throws {
        let rtx = try #require(rtxPacket(Self.original, sequenceNumber: 0x0007))
        // Header: P cleared, CSRC count and X kept; M kept with the RTX payload type.
        #expect(rtx[0] == 0x91)
        #expect(rtx[1] == 0x80 | 97)
        #expect(Array(rtx[2..<4]) == [0x00, 0x07])
        // Timestamp unchanged, RTX SSRC, CSRC and extension copied.
        #expect(Array(rtx[4..<8]) == [0xCA, 0xFE, 0xF0, 0x0D])
        #expect(Array(rtx[8..<12]) == [0x22, 0x22, 0x22, 0x22])
        #expect(Array(rtx[12..<24]) == Array(Self.original[12..<24]))
        // Payload: OSN 0x1234 then the original payload, no padding.
        #expect(Array(rtx[24...]) == [0x12, 0x34, 0xA0, 0xA1, 0xA2])
        #expect(rtx.withUnsafeBytes { RTX.originalSequenceNumber(of: $0) } == 0x1234)
    }

    @Test func restoreOriginalUndoesRTX() throws {
        let rtx = try #require(rtxPacket(Self.original, sequenceNumber: 9))
        let unpadded = rtpPacket(sequenceNumber: 0x1234, timestamp: 0xCAFE_F00D, ssrc: 0x1111_1111,
                                 payloadType: 96, marker: true, payload: [0xA0, 0xA1, 0xA2],
                                 csrcs: [0x0000_00CC], extensionWords: [0x10AB_0000])
        #expect(restoredPacket(rtx, payloadType: 96, ssrc: 0x1111_1111) == unpadded)
    }

    @Test func paddingOnlyProbeBecomesAnOSNOnlyRTXPacket() throws {
        let probe = rtpPacket(sequenceNumber: 77, payload: [], padding: 200)
        let rtx = try #require(rtxPacket(probe, sequenceNumber: 1, capacity: 300))
        #expect(rtx.count == 14)
        #expect(Array(rtx[12...]) == [0, 77])
    }

    @Test func writesInPlaceWhenTheBufferHasRoom() {
        var bytes = rtpPacket(sequenceNumber: 500, payload: [1, 2, 3, 4]) + [0, 0]
        let n = bytes.withUnsafeMutableBytes { buf in
            RTX.write(original: UnsafeRawBufferPointer(rebasing: buf[0..<(buf.count - 2)]),
                      payloadType: 97, ssrc: 5, sequenceNumber: 1, into: buf)
        }
        #expect(n == bytes.count)
        #expect(Array(bytes[12...]) == [0x01, 0xF4, 1, 2, 3, 4])
    }

    @Test func refusesInvalidInputAndSmallBuffers() {
        #expect(rtxPacket(rtpPacket(sequenceNumber: 1, payload: [1, 2, 3]), sequenceNumber: 1, capacity: 16) == nil)
        #expect(rtxPacket(rtpPacket(sequenceNumber: 1, payload: [1, 2, 3]), sequenceNumber: 1, capacity: 17) != nil)
        #expect(rtxPacket([UInt8](repeating: 0, count: 20), sequenceNumber: 1) == nil)
        // An RTX packet needs the two OSN bytes.
        let short = rtpPacket(sequenceNumber: 1, payload: [9])
        #expect(short.withUnsafeBytes { RTX.originalSequenceNumber(of: $0) } == nil)
        #expect(restoredPacket(short, payloadType: 96, ssrc: 1) == nil)
    }

    @Test func senderCountsItsOwnSequenceAndWraps() {
        var sender = RTXSender(payloadType: 97, ssrc: 0x3333_3333, initialSequenceNumber: 65535)
        var out = [UInt8](repeating: 0, count: 64)
        func write(_ original: [UInt8]) -> Int? {
            original.withUnsafeBytes { source in
                out.withUnsafeMutableBytes { sender.write(original: source, into: $0) }
            }
        }
        for (expectedSeq, originalSeq) in [(UInt16(65535), UInt16(10)), (0, 11), (1, 40)] {
            let n = write(rtpPacket(sequenceNumber: originalSeq))
            #expect(n == 12 + 2 + 3)
            #expect(UInt16(out[2]) << 8 | UInt16(out[3]) == expectedSeq)
            #expect(UInt16(out[12]) << 8 | UInt16(out[13]) == originalSeq)
            #expect(out[1] == 97)
        }
        // A failed write does not use up a number.
        let failed = write([UInt8](repeating: 0, count: 4))
        #expect(failed == nil)
        #expect(sender.nextSequenceNumber == 2)
    }
}

@Suite struct NACKResponderTests {
    /// A buffer holding sequence numbers 90…120 stored at time 0.
    static func filledBuffer() -> RetransmissionBuffer {
        let buffer = RetransmissionBuffer(capacity: 64)
        for seq in UInt16(90)...120 { buffer.store(rtpPacket(sequenceNumber: seq), at: 0) }
        return buffer
    }

    /// Runs the responder on the NACK sample (100, 101, 103, 116) from its packet view.
    static func respond(_ responder: NACKResponder, _ buffer: RetransmissionBuffer, _ nack: [UInt8],
                        at now: UInt64) -> (NACKResponder.Summary?, [UInt16]) {
        var resent: [UInt16] = []
        let summary = withBytes(nack) { buf -> NACKResponder.Summary? in
            var it = RTCPCompoundIterator(UnsafeRawBufferPointer(buf))
            guard let packet = it.next() else { return nil }
            return responder.respond(to: packet, from: buffer, nowNanoseconds: now) { resent.append($0.u16(2)) }
        }
        return (summary, resent)
    }

    @Test func resendsEachRequestedPacketOncePerInterval() {
        let buffer = Self.filledBuffer()
        let responder = NACKResponder()
        var (summary, resent) = Self.respond(responder, buffer, Samples.nack, at: 10 * millisecond)
        #expect(resent == [100, 101, 103, 116])
        #expect(summary?.requested == 4 && summary?.resent == 4)
        // The receiver repeats the NACK before our resends could arrive.
        (summary, resent) = Self.respond(responder, buffer, Samples.nack, at: 60 * millisecond)
        #expect(resent.isEmpty)
        #expect(summary?.rateLimited == 4)
        // A round trip later it is honoured again.
        (summary, resent) = Self.respond(responder, buffer, Samples.nack, at: 110 * millisecond)
        #expect(resent == [100, 101, 103, 116])
    }

    @Test func countsPacketsNoLongerHeld() throws {
        let buffer = Self.filledBuffer()
        let lost: [UInt16] = [85, 119, 120, 121]
        let nack = try #require(written { RTCPWriter.writeNack(senderSSRC: 1, mediaSSRC: 2, lost: lost, into: $0) })
        let (summary, resent) = Self.respond(NACKResponder(), buffer, nack, at: 0)
        #expect(resent == [119, 120])
        #expect(summary == {
            var s = NACKResponder.Summary()
            s.requested = 4
            s.resent = 2
            s.unavailable = 2
            return s
        }())
    }

    @Test func parsedNACKAndEntriesGiveTheSameResult() throws {
        let (packets, _) = parseAll(Samples.nack)
        guard case .nack(let nack)? = packets.first else { Issue.record("not NACK"); return }
        let buffer = Self.filledBuffer()
        var resent: [UInt16] = []
        let summary = NACKResponder(minimumResendIntervalNanoseconds: 0)
            .respond(to: nack, from: buffer, nowNanoseconds: 0) { resent.append($0.u16(2)) }
        #expect(resent == [100, 101, 103, 116])
        #expect(summary.resent == 4)
        // With a zero interval every repeat is resent.
        let again = NACKResponder(minimumResendIntervalNanoseconds: 0)
            .respond(to: nack.entries, from: buffer, nowNanoseconds: 0) { _ in }
        #expect(again.resent == 4)
    }

    @Test func stalePacketsAreNotResent() {
        let buffer = Self.filledBuffer()
        let (summary, resent) = Self.respond(NACKResponder(), buffer, Samples.nack, at: 2 * second)
        #expect(resent.isEmpty)
        #expect(summary?.unavailable == 4)
    }

    @Test func otherFeedbackIsNotANACK() {
        let (summary, resent) = Self.respond(NACKResponder(), Self.filledBuffer(), Samples.pli, at: 0)
        #expect(summary == nil)
        #expect(resent.isEmpty)
    }
}
