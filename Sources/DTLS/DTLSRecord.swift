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
}
