// One-time initialisation of libsrtp2.
//
// srtp_init() registers the cipher and auth modules in process-global tables and
// must run exactly once before any srtp_create(). It is not itself safe to call
// concurrently, so we route it through a Swift `static let`, whose lazy
// initialiser the runtime runs exactly once (swift_once) even when several
// threads race to touch it first. The same initialiser then swaps libsrtp2's AES
// and HMAC-SHA1 for OpenSSL-backed ones (CSRTPCrypto): Debian's libsrtp2 does its
// crypto through NSS, which sets up a context and allocates for every packet.

#if canImport(Glibc)
import Glibc
#endif
internal import CSRTP
internal import CSRTPCrypto

/// Process-wide libsrtp2 state.
public enum LibSRTP {
    /// Which implementation does SRTP's AES and HMAC-SHA1 in this process.
    public enum CryptoBackend: String, Sendable {
        /// OpenSSL's libcrypto, one keyed context per stream and direction (the default).
        case openSSL = "openssl"
        /// libsrtp2's own build (NSS on Debian); chosen with `CONFAB_SRTP_CRYPTO=libsrtp`, to
        /// compare the two in benchmarks.
        case libsrtp
    }

    /// The backend asked for in the environment, read once.
    public static let backend: CryptoBackend = {
        guard let raw = getenv("CONFAB_SRTP_CRYPTO") else { return .openSSL }
        return CryptoBackend(rawValue: String(cString: raw)) ?? .openSSL
    }()

    /// Raw srtp_err_status_t of srtp_init() and the crypto replacement, cached forever.
    /// A plain Int32 so the stored global is trivially Sendable.
    private static let initStatus: Int32 = {
        let status = Int32(bitPattern: srtp_init().rawValue)
        guard status == 0, backend == .openSSL else { return status }
        return confab_srtp_install_openssl_crypto()
    }()

    /// Initialises libsrtp2 once per process. Cheap after the first call, safe
    /// from any thread. `SRTPSession.init` calls it, so calling it yourself is
    /// only useful to surface an initialisation failure early (e.g. at startup).
    public static func initialize() throws(SRTPError) {
        let status = initStatus
        guard status == 0 else { throw .initializationFailed(status: status) }
    }

    /// libsrtp2's version string, e.g. "libsrtp2 2.5.0" (for logs / the Admin API).
    public static var version: String {
        guard let cString = srtp_get_version_string() else { return "libsrtp2 (unknown)" }
        return String(cString: cString)
    }
}
