// The server's DTLS identity: an ECDSA P-256 key and a self-signed certificate.
//
// WebRTC does not use PKI for DTLS; peers pin each other's certificate by the
// fingerprint exchanged in SDP. A fresh certificate per process start is what
// browsers do too. P-256 because every browser supports ECDSA P-256 and its
// handshake messages are far smaller than RSA (fewer fragmented flights).

internal import COpenSSL
internal import OpenSSLSupport

/// Thread-safety: the X509 and EVP_PKEY are fully built in `init` and never
/// mutated afterwards; OpenSSL only reads them (SSL_CTX_use_* takes its own
/// reference), and reference counts are atomic. Hence @unchecked Sendable.
public final class DTLSCertificate: @unchecked Sendable {
    /// X509*, owned (freed in deinit).
    let x509: OpaquePointer
    /// EVP_PKEY*, owned (freed in deinit).
    let privateKey: OpaquePointer
    /// SHA-256 fingerprint for our SDP a=fingerprint line.
    public let fingerprint: DTLSFingerprint

    private init(x509: OpaquePointer, privateKey: OpaquePointer) throws(DTLSError) {
        self.x509 = x509
        self.privateKey = privateKey
        // If this throws, deinit still runs and frees both objects.
        self.fingerprint = try DTLSFingerprint(certificate: x509, algorithm: .sha256)
    }

    deinit {
        X509_free(x509)
        EVP_PKEY_free(privateKey)
    }

    /// Generates a P-256 key and a self-signed certificate valid from one day
    /// ago (tolerates peer clock skew) for `validityDays`.
    public static func generate(commonName: String = "confab", validityDays: Int = 30) throws(DTLSError) -> DTLSCertificate {
        ERR_clear_error()
        let key = try generateP256Key()
        guard let x509 = X509_new() else {
            EVP_PKEY_free(key)
            throw .certificateGeneration(reason: "X509_new: \(drainOpenSSLErrors())")
        }
        // The initializer takes ownership of both at once; its deinit frees them on any throw.
        return try DTLSCertificate(unsignedX509: x509, key: key, commonName: commonName, validityDays: validityDays)
    }

    /// Fills in and signs `x509`, then wraps it.
    private convenience init(unsignedX509 x509: OpaquePointer, key: OpaquePointer, commonName: String, validityDays: Int) throws(DTLSError) {
        var ok = X509_set_version(x509, 2) == 1 // v3
        // A random positive serial: browsers do not care, but duplicate
        // serials from one issuer name confuse some tooling.
        var serial: UInt32 = 0
        ok = ok && withUnsafeMutableBytes(of: &serial) { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), 4) } == 1
        ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x509), Int(serial & 0x7FFF_FFFF)) == 1
        ok = ok && X509_gmtime_adj(X509_getm_notBefore(x509), -86_400) != nil
        ok = ok && X509_gmtime_adj(X509_getm_notAfter(x509), 86_400 * validityDays) != nil
        ok = ok && X509_set_pubkey(x509, key) == 1
        if ok, let name = X509_get_subject_name(x509) {
            // MBSTRING_ASC is a macro expression Swift cannot import: MBSTRING_FLAG (0x1000) | 1.
            ok = X509_NAME_add_entry_by_txt(name, "CN", 0x1000 | 1, commonName, -1, -1, 0) == 1
            ok = ok && X509_set_issuer_name(x509, name) == 1
        } else {
            ok = false
        }
        ok = ok && X509_sign(x509, key, EVP_sha256()) > 0
        // Take ownership before any throw so nothing leaks.
        try self.init(x509: x509, privateKey: key)
        guard ok else { throw .certificateGeneration(reason: drainOpenSSLErrors()) }
    }

    /// Loads a PEM certificate and PEM private key (e.g. from the config file's
    /// dtls_certificate / dtls_private_key settings).
    public static func load(certificatePath: String, privateKeyPath: String) throws(DTLSError) -> DTLSCertificate {
        ERR_clear_error()
        guard let certBIO = BIO_new_file(certificatePath, "r") else {
            throw .certificateLoad(path: certificatePath, reason: drainOpenSSLErrors())
        }
        let x509 = PEM_read_bio_X509(certBIO, nil, nil, nil)
        BIO_free(certBIO)
        guard let x509 else { throw .certificateLoad(path: certificatePath, reason: drainOpenSSLErrors()) }

        guard let keyBIO = BIO_new_file(privateKeyPath, "r") else {
            X509_free(x509)
            throw .certificateLoad(path: privateKeyPath, reason: drainOpenSSLErrors())
        }
        let key = PEM_read_bio_PrivateKey(keyBIO, nil, nil, nil)
        BIO_free(keyBIO)
        guard let key else {
            X509_free(x509)
            throw .certificateLoad(path: privateKeyPath, reason: drainOpenSSLErrors())
        }
        let certificate = try DTLSCertificate(x509: x509, privateKey: key)
        guard X509_check_private_key(x509, key) == 1 else {
            throw .certificateLoad(path: privateKeyPath, reason: "private key does not match certificate")
        }
        return certificate
    }

    /// PEM text of the certificate (for tests and for writing it out).
    public var certificatePEM: String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard PEM_write_bio_X509(bio, x509) == 1 else { return nil }
        return Self.drain(bio)
    }

    /// PEM text (PKCS#8, unencrypted) of the private key.
    public var privateKeyPEM: String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, privateKey, nil, nil, 0, nil, nil) == 1 else { return nil }
        return Self.drain(bio)
    }

    private static func drain(_ bio: OpaquePointer) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = BIO_read(bio, &chunk, Int32(chunk.count))
            if n <= 0 { break }
            bytes += chunk.prefix(Int(n))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// EVP_PKEY_Q_keygen/EVP_EC_gen are variadic or macros Swift cannot call,
    /// so use the explicit 3.0 keygen sequence.
    private static func generateP256Key() throws(DTLSError) -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw .certificateGeneration(reason: "EVP_PKEY_CTX_new_from_name: \(drainOpenSSLErrors())")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
              EVP_PKEY_CTX_set_group_name(context, "P-256") == 1,
              EVP_PKEY_generate(context, &key) == 1,
              let key
        else {
            throw .certificateGeneration(reason: "P-256 keygen: \(drainOpenSSLErrors())")
        }
        return key
    }
}
