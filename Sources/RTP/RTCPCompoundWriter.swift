// Compound RTCP the SFU sends on its own behalf. RFC 3550 §6.1 requires every
// compound to start with an SR or RR and to carry an SDES CNAME, so these
// writers pair the existing report writers with an SDES packet. The CNAME is
// taken as bytes the caller keeps (e.g. `Array(cname.utf8)` made once per
// session) so writing a report does not allocate.

extension RTCPWriter {
    /// Longest CNAME an SDES item can hold (one length byte).
    public static let maximumCNAMELength = 255

    /// SDES with one chunk holding only a CNAME item (RFC 3550 §6.5.1).
    public static func writeSourceDescription<CNAME: Collection>(
        ssrc: UInt32, cname: CNAME, into out: UnsafeMutableRawBufferPointer
    ) -> Int? where CNAME.Element == UInt8 {
        let n = cname.count
        // SSRC, item type and length, text, then at least one zero byte that
        // ends the item list, padded to a 32-bit boundary.
        let chunkLength = (4 + 2 + n + 1 + 3) & ~3
        let length = 4 + chunkLength
        guard n <= maximumCNAMELength, length <= out.count else { return nil }
        header(out, count: 1, type: RTCPPacketType.sourceDescription, length: length)
        out.put32(ssrc, at: 4)
        out[8] = 1
        out[9] = UInt8(n)
        var pos = 10
        for byte in cname {
            out[pos] = byte
            pos += 1
        }
        while pos < length {
            out[pos] = 0
            pos += 1
        }
        return length
    }

    /// RR followed by SDES CNAME for `report.ssrc`: what a receiver sends.
    public static func writeReceiverReport<CNAME: Collection>(
        _ report: RTCPReceiverReport, cname: CNAME, into out: UnsafeMutableRawBufferPointer
    ) -> Int? where CNAME.Element == UInt8 {
        guard let first = writeReceiverReport(report, into: out) else { return nil }
        return appendSourceDescription(after: first, ssrc: report.ssrc, cname: cname, into: out)
    }

    /// SR followed by SDES CNAME for `report.ssrc`: what a sender sends.
    public static func writeSenderReport<CNAME: Collection>(
        _ report: RTCPSenderReport, cname: CNAME, into out: UnsafeMutableRawBufferPointer
    ) -> Int? where CNAME.Element == UInt8 {
        guard let first = writeSenderReport(report, into: out) else { return nil }
        return appendSourceDescription(after: first, ssrc: report.ssrc, cname: cname, into: out)
    }

    private static func appendSourceDescription<CNAME: Collection>(
        after offset: Int, ssrc: UInt32, cname: CNAME, into out: UnsafeMutableRawBufferPointer
    ) -> Int? where CNAME.Element == UInt8 {
        let rest = UnsafeMutableRawBufferPointer(rebasing: out[offset...])
        guard let second = writeSourceDescription(ssrc: ssrc, cname: cname, into: rest) else { return nil }
        return offset + second
    }
}
