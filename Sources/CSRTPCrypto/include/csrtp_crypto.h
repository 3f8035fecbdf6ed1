// libsrtp2's AES (counter mode and GCM) and HMAC-SHA1 on OpenSSL's libcrypto.
//
// Debian builds libsrtp2 on NSS, whose per-operation overhead (a PK11 context set up for every
// packet, about four malloc calls, locks in softokn/NSPR) was a fifth of a media reader's time.
// libsrtp2 lets an application replace a cipher or an authentication function by id
// (srtp_replace_cipher_type / srtp_replace_auth_type, its public API); these implementations keep
// one OpenSSL context per SRTP session and direction, keyed once, so protecting or unprotecting a
// packet sets an IV and runs the cipher: no allocation and no lock. libsrtp2 itself keeps doing
// SRTP: key derivation (through the replaced AES counter mode), replay windows, rollover counters.
#ifndef CSRTP_CRYPTO_H
#define CSRTP_CRYPTO_H

/// Replaces AES-ICM-128/256, AES-GCM-128/256 and HMAC-SHA1 in libsrtp2's crypto kernel. Call once,
/// after srtp_init() and before any srtp_create(). libsrtp2 runs its own known-answer self-tests on
/// each replacement (and the replaced type's vectors) before accepting it; returns 0
/// (srtp_err_status_ok) or the first failing srtp_err_status_t.
int confab_srtp_install_openssl_crypto(void);

#endif
