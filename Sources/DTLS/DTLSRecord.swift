// Cheap sanity check run before a datagram reaches OpenSSL.
//
// RFC 7983 demultiplexing puts DTLS records at first bytes 20...63, and every
// DTLS record header is 13 bytes. Anything else arriving on the DTLS path is
// garbage (or misrouted STUN/RTP) and is dropped and counted without touching
// the SSL state machine.

enum DTLSRecord {
    static let headerLength = 13

    static func looksLikeDTLS(_ datagram: [UInt8]) -> Bool {
        guard datagram.count >= headerLength, let first = datagram.first else { return false }
        return (20...63).contains(first)
    }

    /// True unless the datagram is a whole number of records, each protected one (epoch not 0)
    /// at least as long as the cipher's overhead.
    ///
    /// OpenSSL 3.0 discards most bad records silently, as RFC 6347 §4.1.2.7 asks, but takes two
    /// kinds as fatal internal errors that end an established association: a protected record
    /// shorter than the AEAD overhead (the cipher rejects its additional data before the MAC is
    /// checked) and a record header claiming more bytes than its read buffer holds (it tries to
    /// read the rest of a "partial" record). One forged datagram from anywhere would do, and no
    /// peer ever sends either, so they never reach OpenSSL.
    static func isMalformed(_ datagram: [UInt8], minimumProtectedLength: Int) -> Bool {
        var offset = 0
        while offset < datagram.count {
            guard datagram.count - offset >= headerLength else { return true }
            let epoch = UInt16(datagram[offset + 3]) << 8 | UInt16(datagram[offset + 4])
            let length = Int(datagram[offset + 11]) << 8 | Int(datagram[offset + 12])
            if epoch != 0, length < minimumProtectedLength { return true }
            offset += headerLength + length
        }
        return offset != datagram.count
    }
}
