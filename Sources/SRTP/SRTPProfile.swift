// DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2) that browsers
// negotiate in the DTLS use_srtp extension, with their key sizes and the
// libsrtp crypto policies that implement them.

internal import CSRTP

public enum SRTPProfile: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case aes128CmSha1_80 = 0x0001
    case aes128CmSha1_32 = 0x0002
    case aeadAes128Gcm = 0x0007
    case aeadAes256Gcm = 0x0008

    /// Order to offer/select in use_srtp: AEAD first (cheaper, stronger), then
    /// the mandatory-to-implement AES-CM/HMAC-SHA1-80.
    public static let preferenceOrder: [SRTPProfile] = [.aeadAes128Gcm, .aeadAes256Gcm, .aes128CmSha1_80, .aes128CmSha1_32]

    /// The IANA name, as OpenSSL's SSL_CTX_set_tlsext_use_srtp expects it.
    public var name: String {
        switch self {
        case .aes128CmSha1_80: "SRTP_AES128_CM_SHA1_80"
        case .aes128CmSha1_32: "SRTP_AES128_CM_SHA1_32"
        case .aeadAes128Gcm: "SRTP_AEAD_AES_128_GCM"
        case .aeadAes256Gcm: "SRTP_AEAD_AES_256_GCM"
        }
    }

    public var description: String { name }

    /// Master key length in bytes.
    public var keyLength: Int {
        switch self {
        case .aes128CmSha1_80, .aes128CmSha1_32, .aeadAes128Gcm: 16
        case .aeadAes256Gcm: 32
        }
    }

    /// Master salt length in bytes: 112 bits for AES-CM (RFC 3711), 96 for GCM (RFC 7714).
    public var saltLength: Int {
        switch self {
        case .aes128CmSha1_80, .aes128CmSha1_32: 14
        case .aeadAes128Gcm, .aeadAes256Gcm: 12
        }
    }

    /// key + salt, the layout libsrtp expects in srtp_policy_t.key.
    public var masterKeyAndSaltLength: Int { keyLength + saltLength }

    /// Bytes to export from DTLS ("EXTRACTOR-dtls_srtp", RFC 5764 §4.2):
    /// client key, server key, client salt, server salt.
    public var keyingMaterialLength: Int { 2 * masterKeyAndSaltLength }

    /// Bytes srtp_protect appends to an RTP packet (auth tag; no MKI is used).
    public var rtpOverhead: Int {
        switch self {
        case .aes128CmSha1_80: 10
        case .aes128CmSha1_32: 4
        case .aeadAes128Gcm, .aeadAes256Gcm: 16
        }
    }

    /// Bytes srtp_protect_rtcp appends: the 4-byte E||SRTCP index plus the tag.
    /// SHA1_32 still uses an 80-bit tag for SRTCP (RFC 5764 §4.1.2).
    public var rtcpOverhead: Int {
        switch self {
        case .aes128CmSha1_80, .aes128CmSha1_32: 4 + 10
        case .aeadAes128Gcm, .aeadAes256Gcm: 4 + 16
        }
    }

    /// Fills the libsrtp RTP and RTCP crypto policies for this profile.
    func apply(to policy: inout srtp_policy_t) {
        switch self {
        case .aes128CmSha1_80:
            srtp_crypto_policy_set_rtp_default(&policy.rtp) // == aes_cm_128_hmac_sha1_80
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        case .aes128CmSha1_32:
            srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp)
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp) // 80-bit SRTCP tag
        case .aeadAes128Gcm:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        case .aeadAes256Gcm:
            srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp)
        }
    }
}
