// One-time initialisation of libsrtp2.
//
// srtp_init() registers the cipher and auth modules in process-global tables and
// must run exactly once before any srtp_create(). It is not itself safe to call
// concurrently, so we route it through a Swift `static let`, whose lazy
// initialiser the runtime runs exactly once (swift_once) even when several
// threads race to touch it first.

internal import CSRTP

/// Process-wide libsrtp2 state.
public enum LibSRTP {
    /// Raw srtp_err_status_t of the single srtp_init() call, cached forever.
    /// A plain Int32 so the stored global is trivially Sendable.
    private static let initStatus: Int32 = Int32(bitPattern: srtp_init().rawValue)

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
