// Typed errors for certificate handling, context setup and the handshake.
//
// OpenSSL reports details through a thread-local error queue; we drain it into
// the error's `reason` right where a call fails, so a stale entry can never be
// blamed on a later, unrelated call.

public import SRTP

public enum DTLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Generating the key pair or the self-signed certificate failed.
    case certificateGeneration(reason: String)
    /// Reading a PEM certificate or key file failed, or they do not match.
    case certificateLoad(path: String, reason: String)
    /// Configuring the process-wide SSL_CTX failed.
    case contextSetup(reason: String)
    /// Creating the per-PeerConnection SSL object failed.
    case endpointSetup(reason: String)
    /// An SDP fingerprint attribute could not be parsed.
    case invalidFingerprint(String)
    /// The peer presented no certificate.
    case noPeerCertificate
    /// The peer's certificate does not hash to the SDP fingerprint (RFC 8827 §6.5).
    case fingerprintMismatch
    /// The handshake finished without a use_srtp profile.
    case noSRTPProfile
    /// The negotiated profile id is one the SRTP target does not implement.
    case unsupportedSRTPProfile(id: UInt)
    /// SSL_export_keying_material failed.
    case keyExportFailed
    /// The exported bytes did not fit the profile.
    case keyingMaterial(SRTPError)
    /// A fatal protocol error (includes fatal alerts received from the peer).
    case handshakeFailed(reason: String)
    /// The retransmission limit was exceeded without an answer.
    case timedOut

    public var description: String {
        switch self {
        case let .certificateGeneration(reason): "DTLS certificate generation failed: \(reason)"
        case let .certificateLoad(path, reason): "cannot load DTLS certificate/key \(path): \(reason)"
        case let .contextSetup(reason): "DTLS context setup failed: \(reason)"
        case let .endpointSetup(reason): "DTLS endpoint setup failed: \(reason)"
        case let .invalidFingerprint(text): "invalid DTLS fingerprint '\(text)'"
        case .noPeerCertificate: "DTLS peer sent no certificate"
        case .fingerprintMismatch: "DTLS peer certificate does not match the SDP fingerprint"
        case .noSRTPProfile: "DTLS handshake negotiated no SRTP profile"
        case let .unsupportedSRTPProfile(id): "DTLS negotiated unsupported SRTP profile 0x\(String(id, radix: 16))"
        case .keyExportFailed: "DTLS-SRTP keying material export failed"
        case let .keyingMaterial(error): "DTLS-SRTP keying material rejected: \(error)"
        case let .handshakeFailed(reason): "DTLS failed: \(reason)"
        case .timedOut: "DTLS handshake timed out"
        }
    }
}
