import COpenSSL
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import STUN

/// TURN REST API credentials (draft-uberti-behave-turn-rest): `username = "<expiry>:<user>"`,
/// `password = base64(HMAC-SHA1(secret, username))`, expiry in Unix seconds.
public enum TURNRESTCredentials {
    public static func password(secret: String, username: String) -> String {
        Data(hmacSHA1(key: Array(secret.utf8), data: Array(username.utf8))).base64EncodedString()
    }

    /// Fresh credentials for `user`, valid `lifetime` seconds from `now` (Unix time).
    public static func make(secret: String, user: String = "confab", lifetime: Int,
                            now: Double = Date().timeIntervalSince1970) -> (username: String, password: String) {
        let username = "\(Int(now) + lifetime):\(user)"
        return (username, password(secret: secret, username: username))
    }

    /// The expiry of a REST username ("1700000000:alice" or just "1700000000"), or nil if it is not one.
    public static func expiry(of username: String) -> Int? {
        let prefix = username.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard !prefix.isEmpty, prefix.count <= 18, prefix.allSatisfy(\.isASCII), prefix.allSatisfy(\.isNumber) else { return nil }
        return Int(prefix)
    }

    /// A random secret for when `turn.secret` is empty: 32 bytes, base64.
    public static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }
}

func hmacSHA1(key: [UInt8], data: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let keyStorage = key.isEmpty ? [0] : key
    let ok = keyStorage.withUnsafeBufferPointer { k in
        data.withUnsafeBufferPointer { d in
            out.withUnsafeMutableBufferPointer { o in
                HMAC(EVP_sha1(), k.baseAddress, Int32(key.count), d.baseAddress, d.count, o.baseAddress, &length)
            }
        }
    }
    return ok == nil ? [] : Array(out.prefix(Int(length)))
}

/// Stateless nonces: the issue time and a MAC over it under a per-process key, so any nonce this
/// process handed out can be checked for age without remembering it. Kept short (about 18 characters:
/// seconds in hex, 8 MAC bytes in base64url) because every 401/438 challenge carries one to clients
/// nobody has authenticated yet, and a challenge should not dwarf the request that drew it.
struct NonceIssuer {
    let key: [UInt8]
    let lifetime: Double

    init(lifetime: Double) {
        var generator = SystemRandomNumberGenerator()
        key = (0..<20).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.lifetime = lifetime
    }

    /// `now` in (monotonic) milliseconds; the nonce carries whole seconds.
    func make(now: UInt64) -> String {
        let stamp = String(now / 1000, radix: 16)
        return stamp + "-" + Self.base64URL(mac(stamp))
    }

    enum Verdict { case valid, stale, invalid }

    func check(_ nonce: String, now: UInt64) -> Verdict {
        // The stamp is hex; the MAC (base64url) may contain "-" itself.
        let parts = nonce.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 16, let issued = UInt64(parts[0], radix: 16),
              Self.base64URL(mac(String(parts[0]))) == parts[1] else { return .invalid }
        let seconds = now / 1000
        if issued > seconds { return .invalid }
        return Double(seconds - issued) >= lifetime ? .stale : .valid
    }

    private func mac(_ stamp: String) -> [UInt8] { Array(hmacSHA1(key: key, data: Array(stamp.utf8)).prefix(8)) }

    /// RFC 4648 §5 without padding: only characters a NONCE's quoted-string allows.
    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for byte in chunk { value = value << 8 | Int(byte) }
            value <<= 8 * (3 - chunk.count)
            for position in 0...chunk.count { out.append(alphabet[(value >> (18 - 6 * position)) & 0x3F]) }
            index += 3
        }
        return out
    }
}
