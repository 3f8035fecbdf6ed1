/// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT checks (RFC 8489 §14.5–14.7),
/// plus key derivation. Hashing goes through OpenSSL (already linked for DTLS) rather than
/// a hand-rolled SHA, so only the CRC-32 is our own code.
import COpenSSL

/// Thin wrappers over OpenSSL's one-shot HMAC and digest calls.
enum STUNCrypto {
    /// FINGERPRINT is CRC-32 XOR "STUN" so it differs from CRCs of other protocols.
    static let fingerprintXOR: UInt32 = 0x5354_554E

    static func hmacSHA1(key: [UInt8], data: [UInt8]) -> [UInt8] { hmac(EVP_sha1(), key: key, data: data) }
    static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] { hmac(EVP_sha256(), key: key, data: data) }
    static func md5(_ data: [UInt8]) -> [UInt8] { digest(EVP_md5(), data) }
    static func sha256(_ data: [UInt8]) -> [UInt8] { digest(EVP_sha256(), data) }

    private static func hmac(_ md: OpaquePointer?, key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var outLength: UInt32 = 0
        // OpenSSL reads a NULL key as "keep the previous key", so an empty key must still be
        // a valid pointer; one spare byte with length 0 gives exactly that.
        let keyStorage = key.isEmpty ? [0] : key
        let ok = keyStorage.withUnsafeBufferPointer { k in
            data.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(md, k.baseAddress, Int32(key.count), d.baseAddress, d.count, o.baseAddress, &outLength)
                }
            }
        }
        // A failed HMAC yields an empty MAC, which never verifies.
        return ok == nil ? [] : Array(out.prefix(Int(outLength)))
    }

    private static func digest(_ md: OpaquePointer?, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var outLength: UInt32 = 0
        let ok = data.withUnsafeBufferPointer { d in
            out.withUnsafeMutableBufferPointer { o in
                EVP_Digest(d.baseAddress, d.count, o.baseAddress, &outLength, md, nil)
            }
        }
        return ok == 1 ? Array(out.prefix(Int(outLength))) : []
    }

    /// Compares without an early exit, so timing does not reveal how many MAC bytes matched.
    static func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

/// Keys for MESSAGE-INTEGRITY (RFC 8489 §9). Strings are used as their UTF-8 bytes: callers
/// pass already-prepared values (OpaqueString/SASLprep is the identity for the ASCII
/// credentials ICE and this server issue; RFC 5769's non-ASCII sample is given prepared).
public enum STUNCredentials {
    /// Short-term credential (ICE): the key is the password itself.
    public static func shortTermKey(password: String) -> [UInt8] { Array(password.utf8) }

    /// Long-term credential: MD5(username ":" realm ":" password).
    public static func longTermKey(username: String, realm: String, password: String) -> [UInt8] {
        STUNCrypto.md5(Array("\(username):\(realm):\(password)".utf8))
    }

    /// Long-term credential with PASSWORD-ALGORITHM SHA-256: SHA-256(username ":" realm ":" password).
    public static func longTermKeySHA256(username: String, realm: String, password: String) -> [UInt8] {
        STUNCrypto.sha256(Array("\(username):\(realm):\(password)".utf8))
    }

    /// USERHASH value: SHA-256(username ":" realm) (RFC 8489 §14.4).
    public static func userhash(username: String, realm: String) -> [UInt8] {
        STUNCrypto.sha256(Array("\(username):\(realm)".utf8))
    }
}

extension STUNMessage {
    /// Checks the integrity of the bytes this message was parsed from; false for messages
    /// built locally (there is nothing received to check).
    public func verifyIntegrity(key: [UInt8]) -> Bool {
        guard let rawBytes else { return false }
        return Self.verifyIntegrity(bytes: rawBytes, key: key)
    }

    /// True when FINGERPRINT is present, last, and matches the received bytes.
    public func verifyFingerprint() -> Bool {
        guard let rawBytes else { return false }
        return Self.verifyFingerprint(bytes: rawBytes)
    }

    /// Verifies MESSAGE-INTEGRITY-SHA256 if present, otherwise MESSAGE-INTEGRITY (the order
    /// RFC 8489 §9.1.3 prescribes). False if neither is present or the bytes are malformed.
    public static func verifyIntegrity(bytes: some Collection<UInt8>, key: [UInt8]) -> Bool {
        let bytes = Array(bytes)
        guard let spans = try? scan(bytes) else { return false }
        if let span = spans.first(where: { $0.type == STUNAttributeType.messageIntegritySHA256 }) {
            guard span.length >= 16, span.length <= 32, span.length % 4 == 0 else { return false }
            let mac = STUNCrypto.hmacSHA256(key: key, data: coveredBytes(bytes, upTo: span))
            return STUNCrypto.constantTimeEqual(mac.prefix(span.length), bytes[span.valueStart..<span.valueEnd])
        }
        if let span = spans.first(where: { $0.type == STUNAttributeType.messageIntegrity }) {
            guard span.length == 20 else { return false }
            let mac = STUNCrypto.hmacSHA1(key: key, data: coveredBytes(bytes, upTo: span))
            return STUNCrypto.constantTimeEqual(mac, bytes[span.valueStart..<span.valueEnd])
        }
        return false
    }

    /// FINGERPRINT check over raw bytes; the attribute must be the last one (RFC 8489 §14.7).
    public static func verifyFingerprint(bytes: some Collection<UInt8>) -> Bool {
        let bytes = Array(bytes)
        guard let spans = try? scan(bytes), let last = spans.last,
              last.type == STUNAttributeType.fingerprint, last.length == 4 else { return false }
        let crc = CRC32.checksum(coveredBytes(bytes, upTo: last)) ^ STUNCrypto.fingerprintXOR
        return crc == readUInt32(bytes, last.valueStart)
    }

    /// The bytes before `span`, with the header length rewritten to end just after `span` —
    /// what the sender hashed, since it computed the value before appending later attributes.
    static func coveredBytes(_ bytes: [UInt8], upTo span: STUNAttributeSpan) -> [UInt8] {
        var covered = Array(bytes[0..<span.offset])
        setLength(&covered, span.offset - headerLength + 4 + span.length)
        return covered
    }
}
