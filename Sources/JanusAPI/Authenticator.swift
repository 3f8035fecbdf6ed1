import COpenSSL
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Janus's request authorisation: the shared `apisecret`, stored tokens (managed through the
/// Admin API, each with the plugins it may attach to) and signed HMAC tokens
/// (`expiry,janus,plugin[,plugin...]:base64(HMAC-SHA1(secret, data))`, Janus 1.x's auth.c).
public final class Authenticator: Sendable {
    public enum TokenMode: Sendable, Equatable {
        case off
        case stored
        case signed(secret: String)
    }

    public let apiSecret: String
    public let tokenMode: TokenMode
    /// The signed-token realm Janus uses.
    static let realm = "janus"
    private let storedTokens = Mutex<[String: Set<String>]>([:])

    public init(apiSecret: String, tokenMode: TokenMode) {
        self.apiSecret = apiSecret
        self.tokenMode = tokenMode
    }

    public var tokensEnabled: Bool { tokenMode != .off }

    /// A request is allowed with the right `apisecret` or a valid `token`; either one suffices.
    public func authorizes(_ request: [String: JSON]) -> Bool {
        if apiSecret.isEmpty && !tokensEnabled { return true }
        if !apiSecret.isEmpty, let secret = request["apisecret"]?.stringValue,
            constantTimeEquals(secret, apiSecret)
        {
            return true
        }
        if tokensEnabled, let token = request["token"]?.stringValue, isValid(token: token) { return true }
        return false
    }

    /// At `attach`: a token (when one is given) must be allowed to use that plugin.
    public func allows(token: String?, plugin: String) -> Bool {
        guard let token else { return true }
        switch tokenMode {
        case .off: return true
        case .stored: return storedTokens.withLock { $0[token]?.contains(plugin) ?? false }
        case .signed(let secret):
            guard let fields = signedFields(token, secret: secret) else { return false }
            return fields.dropFirst(2).contains { $0 == plugin }
        }
    }

    public func isValid(token: String) -> Bool {
        switch tokenMode {
        case .off: return false
        case .stored: return storedTokens.withLock { $0[token] != nil }
        case .signed(let secret): return signedFields(token, secret: secret) != nil
        }
    }

    // MARK: Stored tokens (Admin API)

    /// Adds a token (or extends its plugins). Returns the plugins it may use now.
    @discardableResult
    public func addToken(_ token: String, plugins: Set<String>) -> Set<String> {
        storedTokens.withLock { tokens in
            tokens[token, default: []].formUnion(plugins)
            return tokens[token] ?? []
        }
    }

    public func allowPlugins(_ plugins: Set<String>, for token: String) -> Set<String>? {
        storedTokens.withLock { tokens in
            guard tokens[token] != nil else { return nil }
            tokens[token]?.formUnion(plugins)
            return tokens[token]
        }
    }

    public func disallowPlugins(_ plugins: Set<String>, for token: String) -> Set<String>? {
        storedTokens.withLock { tokens in
            guard tokens[token] != nil else { return nil }
            tokens[token]?.subtract(plugins)
            return tokens[token]
        }
    }

    public func removeToken(_ token: String) -> Bool {
        storedTokens.withLock { $0.removeValue(forKey: token) != nil }
    }

    public var tokens: [String: Set<String>] { storedTokens.withLock { $0 } }

    // MARK: Signed tokens

    /// The token's comma-separated fields when its signature, realm and expiry check out.
    private func signedFields(_ token: String, secret: String) -> [Substring]? {
        let parts = token.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let fields = parts[0].split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 2, fields[1] == Self.realm, let expiry = Int64(fields[0]),
            expiry > Int64(Date().timeIntervalSince1970)
        else { return nil }
        let expected = Self.sign(String(parts[0]), secret: secret)
        guard constantTimeEquals(String(parts[1]), expected) else { return nil }
        return fields
    }

    /// base64(HMAC-SHA1(secret, data)), as Janus's `janus_auth_check_signature` computes it.
    public static func sign(_ data: String, secret: String) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let keyBytes = Array(secret.utf8)
        let dataBytes = Array(data.utf8)
        _ = HMAC(EVP_sha1(), keyBytes, Int32(keyBytes.count), dataBytes, dataBytes.count, &digest, &length)
        return Data(digest.prefix(Int(length))).base64EncodedString()
    }

    /// Makes a signed token valid until `expiry` (seconds since 1970) for `plugins`.
    public static func signedToken(expiry: Int64, plugins: [String], secret: String) -> String {
        let data = ([String(expiry), realm] + plugins).joined(separator: ",")
        return data + ":" + sign(data, secret: secret)
    }
}

/// Compares secrets without leaking, through timing, how long a prefix matched.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<x.count { difference |= x[i] ^ y[i] }
    return difference == 0
}
