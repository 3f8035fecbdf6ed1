// The process-wide DTLS configuration: one SSL_CTX shared by every endpoint.
//
// Settings follow RFC 8827/8842 and what browsers expect: DTLS 1.2 minimum,
// mutual authentication with self-signed certificates (so certificate chains
// are not verified here — the peer certificate is pinned against the SDP
// fingerprint once the handshake completes), and the use_srtp extension
// offering AEAD-GCM first and the mandatory AES-CM/HMAC-SHA1-80.

internal import COpenSSL
internal import OpenSSLSupport
public import SRTP

/// Thread-safety: the SSL_CTX and BIO_METHOD are configured completely in
/// `init` and never changed afterwards. OpenSSL documents SSL_new() on a
/// configured SSL_CTX as safe from several threads (its refcounts and session
/// cache are internally locked), so sharing is sound: @unchecked Sendable.
public final class DTLSContext: @unchecked Sendable {
    /// Profiles offered by default, most preferred first.
    public static let defaultSRTPProfiles: [SRTPProfile] = [.aeadAes128Gcm, .aes128CmSha1_80]

    public let certificate: DTLSCertificate
    public let srtpProfiles: [SRTPProfile]
    /// SSL_CTX*, owned.
    let context: OpaquePointer
    /// The datagram BIO method endpoints use, owned.
    let bioMethod: OpaquePointer

    public init(certificate: DTLSCertificate, srtpProfiles: [SRTPProfile] = DTLSContext.defaultSRTPProfiles) throws(DTLSError) {
        ERR_clear_error()
        guard !srtpProfiles.isEmpty else { throw .contextSetup(reason: "no SRTP profiles") }
        guard let method = DatagramBIO.makeMethod() else {
            throw .contextSetup(reason: "BIO_meth_new: \(drainOpenSSLErrors())")
        }
        guard let context = SSL_CTX_new(DTLS_method()) else {
            BIO_meth_free(method)
            throw .contextSetup(reason: "SSL_CTX_new: \(drainOpenSSLErrors())")
        }
        // Assign before further checks: deinit frees both on any later throw.
        self.context = context
        self.bioMethod = method
        self.certificate = certificate
        self.srtpProfiles = srtpProfiles

        // SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl.
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(DTLS1_2_VERSION), nil) == 1 else {
            throw .contextSetup(reason: "minimum DTLS 1.2: \(drainOpenSSLErrors())")
        }
        guard SSL_CTX_use_certificate(context, certificate.x509) == 1,
              SSL_CTX_use_PrivateKey(context, certificate.privateKey) == 1,
              SSL_CTX_check_private_key(context) == 1
        else {
            throw .contextSetup(reason: "certificate: \(drainOpenSSLErrors())")
        }
        // Note the inverted convention: 0 means success for this one.
        let profileList = srtpProfiles.map(\.name).joined(separator: ":")
        guard SSL_CTX_set_tlsext_use_srtp(context, profileList) == 0 else {
            throw .contextSetup(reason: "use_srtp \(profileList): \(drainOpenSSLErrors())")
        }
        // Require a peer certificate (the server sends CertificateRequest) but
        // accept any chain: self-signed is the norm, the fingerprint decides.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) { _, _ in 1 }
        // ICE already proved reachability and there is no resumption across
        // PeerConnections, so skip tickets (smaller flights).
        // SSL_OP_NO_TICKET is the macro expression SSL_OP_BIT(14).
        SSL_CTX_set_options(context, UInt64(1) << 14)
    }

    deinit {
        SSL_CTX_free(context)
        BIO_meth_free(bioMethod)
    }
}
