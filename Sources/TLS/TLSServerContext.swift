// The server side of TLS 1.2/1.3 on the system OpenSSL: one SSL_CTX built from PEM files, shared by
// every connection's `TLSServerHandler`. Kept apart from swift-nio-ssl on purpose: that package
// compiles its own BoringSSL, far too slow for this project's CI, while OpenSSL is already linked
// for DTLS.

internal import COpenSSL
internal import OpenSSLSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Why a certificate/key pair cannot serve TLS; `key` names the file to blame.
public struct TLSContextError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Key: Sendable, Equatable {
        case certificate
        case privateKey
    }

    public let key: Key
    public let message: String

    public var description: String { message }
}

/// Thread-safety: the SSL_CTX is completely configured in `init` and never changed afterwards;
/// OpenSSL documents SSL_new() on a configured SSL_CTX as safe from several threads (refcounts and
/// caches are internally locked), so sharing it is sound: @unchecked Sendable.
public final class TLSServerContext: @unchecked Sendable {
    /// SSL_CTX*, owned.
    let context: OpaquePointer

    /// Loads a PEM certificate (chain: the leaf first, then intermediates) and its PEM private key.
    /// Fails when a file is missing or unreadable, holds no PEM of the right kind, or the key does
    /// not belong to the certificate.
    public init(certificatePath: String, privateKeyPath: String) throws(TLSContextError) {
        try Self.checkReadable(certificatePath, .certificate, what: "certificate")
        try Self.checkReadable(privateKeyPath, .privateKey, what: "private key")
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSContextError(key: .certificate, message: "SSL_CTX_new: \(drainOpenSSLErrors())")
        }
        self.context = context  // deinit frees it on any later throw
        // TLS 1.2 minimum (RFC 8656 §3.1 and every browser); SSL_CTX_set_min_proto_version is a macro.
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        // No session tickets: a TURN connection lasts the whole call, resumption buys nothing and
        // TLS 1.3 tickets would cost two records per connection. SSL_OP_NO_TICKET is SSL_OP_BIT(14).
        SSL_CTX_set_options(context, UInt64(1) << 14)
        _ = SSL_CTX_set_num_tickets(context, 0)
        // ALPN (RFC 7443): a client that offers "stun.turn" gets it; one that offers only other
        // protocols (or none) gets no ALPN answer and TURN anyway, as coturn does.
        SSL_CTX_set_alpn_select_cb(context, { _, selected, selectedLength, offered, offeredLength, _ in
            guard let offered, let selected, let selectedLength else { return SSL_TLSEXT_ERR_NOACK }
            guard let offset = TLSServerContext.offset(of: TLSServerContext.turnALPN, inOffered: offered,
                                                       length: Int(offeredLength)) else { return SSL_TLSEXT_ERR_NOACK }
            selected.pointee = offered + offset
            selectedLength.pointee = UInt8(TLSServerContext.turnALPN.count)
            return SSL_TLSEXT_ERR_OK
        }, nil)
        // An encrypted key fails instead of OpenSSL prompting for a pass phrase on the terminal.
        SSL_CTX_set_default_passwd_cb(context) { _, _, _, _ in 0 }
        guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
            throw TLSContextError(key: .certificate,
                                  message: "\(certificatePath) holds no usable PEM certificate: \(drainOpenSSLErrors())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            // OpenSSL already compares the key with the certificate here (X509_R_KEY_VALUES_MISMATCH).
            let reasons = drainOpenSSLErrors()
            let message = reasons.contains("key values mismatch")
                ? "\(privateKeyPath) does not match the certificate in \(certificatePath)"
                : "\(privateKeyPath) holds no usable PEM private key: \(reasons)"
            throw TLSContextError(key: .privateKey, message: message)
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            ERR_clear_error()
            throw TLSContextError(key: .privateKey,
                                  message: "\(privateKeyPath) does not match the certificate in \(certificatePath)")
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// The ALPN protocol ID of TURN over TLS (RFC 7443).
    static let turnALPN = Array("stun.turn".utf8)

    /// Where `protocolID`'s bytes start in a client's ALPN list (length-prefixed names), nil when the
    /// list does not offer it or is malformed.
    static func offset(of protocolID: [UInt8], inOffered list: UnsafePointer<UInt8>, length: Int) -> Int? {
        var index = 0
        while index < length {
            let nameLength = Int(list[index])
            let start = index + 1
            guard nameLength > 0, start + nameLength <= length else { return nil }
            if nameLength == protocolID.count,
               (0..<nameLength).allSatisfy({ list[start + $0] == protocolID[$0] }) { return start }
            index = start + nameLength
        }
        return nil
    }

    private static func checkReadable(_ path: String, _ key: TLSContextError.Key, what: String) throws(TLSContextError) {
        guard !path.isEmpty else { throw TLSContextError(key: key, message: "no \(what) file given") }
        // Opened, not only checked with access(2): that is what OpenSSL will do.
        guard FileManager.default.isReadableFile(atPath: path),
              (try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)) != nil else {
            throw TLSContextError(key: key, message: "cannot read the \(what) file \(path)")
        }
    }
}
