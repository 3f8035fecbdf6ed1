internal import COpenSSL
#if canImport(FoundationEssentials)
import FoundationEssentials
import Glibc
#else
import Foundation
#endif

/// Checks a PEM certificate and private key pair at load time, so a TLS listener that could not
/// start is reported as `file:line: key` like any other setting (the listener loads them again).
enum TLSFileCheck {
    struct Problem: Equatable {
        /// Which of the two settings is at fault.
        let blamesKey: Bool
        let message: String
    }

    /// Nil when the certificate file holds a PEM certificate, the key file a PEM private key, and
    /// the key belongs to the certificate.
    static func problem(certificate certificatePath: String, key keyPath: String) -> Problem? {
        guard let certificateBIO = openPEM(certificatePath) else {
            return Problem(blamesKey: false, message: "\"\(certificatePath)\" cannot be read")
        }
        defer { BIO_free(certificateBIO) }
        guard let keyBIO = openPEM(keyPath) else { return Problem(blamesKey: true, message: "\"\(keyPath)\" cannot be read") }
        defer { BIO_free(keyBIO) }
        ERR_clear_error()
        defer { ERR_clear_error() }
        guard let certificate = PEM_read_bio_X509(certificateBIO, nil, nil, nil) else {
            return Problem(blamesKey: false, message: "\"\(certificatePath)\" holds no PEM certificate")
        }
        defer { X509_free(certificate) }
        guard let privateKey = PEM_read_bio_PrivateKey(keyBIO, nil, noPassword, nil) else {
            return Problem(blamesKey: true, message: "\"\(keyPath)\" holds no PEM private key (or it is encrypted)")
        }
        defer { EVP_PKEY_free(privateKey) }
        guard X509_check_private_key(certificate, privateKey) == 1 else {
            return Problem(blamesKey: true, message: "\"\(keyPath)\" does not match the certificate in turn.tls_certificate")
        }
        return nil
    }

    /// An encrypted key is refused rather than prompting on the terminal (OpenSSL's default callback).
    private static let noPassword: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, _, _, _ in 0 }

    /// A file BIO, or nil when the path is not a readable regular file.
    private static func openPEM(_ path: String) -> OpaquePointer? {
        // stat(2) follows symbolic links (certificate directories are often made of them).
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
              FileManager.default.isReadableFile(atPath: path) else { return nil }
        return BIO_new_file(path, "r")
    }
}
