// libsrtp2's AES counter mode, AES-GCM and HMAC-SHA1 on OpenSSL's libcrypto (see csrtp_crypto.h).
//
// Each libsrtp2 cipher or auth object belongs to one SRTP stream direction, and libsrtp2 already
// requires a session to be used by one thread at a time, so these contexts need no locking.
// Everything is allocated when libsrtp2 allocates the object (session creation, key derivation);
// the per-packet calls (set_iv, set_aad, encrypt/decrypt, get_tag; start/update/compute) only
// run the cipher on the caller's buffer.

// The SHA-1 block functions (SHA1_Init/Update/Final) are deprecated in OpenSSL 3 in favour of
// EVP, but HMAC through EVP_MAC re-creates the digest's provider context for every message
// (a malloc and free per packet); HMAC's definition needs only two saved SHA-1 states, which a
// struct copy restores. The macro keeps the declarations without deprecation warnings.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "csrtp_crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <srtp2/auth.h>
#include <srtp2/cipher.h>
#include <srtp2/crypto_types.h>
#include <srtp2/srtp.h>

/// A failed OpenSSL call can leave entries on the calling thread's error queue, which would make
/// the next SSL_get_error of a DTLS handshake on the same media thread report a failure that is
/// not its own (a forged packet failing its tag check is routine); so a failure clears them.
static srtp_err_status_t failed(srtp_err_status_t status) {
    ERR_clear_error();
    return status;
}

// MARK: - AES counter mode (RFC 3711 §4.1.1), also libsrtp2's key derivation function

enum { SALT_LENGTH = 14, BLOCK_LENGTH = 16 };

typedef struct {
    EVP_CIPHER_CTX *context;
    int key_length;                     // 16 or 32
    unsigned char salt[BLOCK_LENGTH];   // the 112-bit salt, last two octets zero
} counter_mode_state;

static const srtp_cipher_type_t counter_mode_128;
static const srtp_cipher_type_t counter_mode_256;

static srtp_err_status_t counter_mode_alloc(srtp_cipher_t **cipher, int key_length_with_salt, int tag_length) {
    (void)tag_length;
    const srtp_cipher_type_t *type;
    int algorithm;
    switch (key_length_with_salt) {
    case SRTP_AES_ICM_128_KEY_LEN_WSALT: type = &counter_mode_128; algorithm = SRTP_AES_ICM_128; break;
    case SRTP_AES_ICM_256_KEY_LEN_WSALT: type = &counter_mode_256; algorithm = SRTP_AES_ICM_256; break;
    default: return srtp_err_status_bad_param;
    }
    srtp_cipher_t *object = calloc(1, sizeof(srtp_cipher_t) + sizeof(counter_mode_state));
    if (object == NULL) return srtp_err_status_alloc_fail;
    counter_mode_state *state = (counter_mode_state *)(object + 1);
    state->context = EVP_CIPHER_CTX_new();
    if (state->context == NULL) {
        free(object);
        return srtp_err_status_alloc_fail;
    }
    state->key_length = key_length_with_salt - SALT_LENGTH;
    object->type = type;
    object->state = state;
    object->key_len = key_length_with_salt;
    object->algorithm = algorithm;
    *cipher = object;
    return srtp_err_status_ok;
}

static srtp_err_status_t counter_mode_dealloc(srtp_cipher_t *cipher) {
    if (cipher == NULL) return srtp_err_status_bad_param;
    counter_mode_state *state = cipher->state;
    EVP_CIPHER_CTX_free(state->context);
    OPENSSL_cleanse(cipher, sizeof(srtp_cipher_t) + sizeof(counter_mode_state));
    free(cipher);
    return srtp_err_status_ok;
}

/// `key` is the cipher key followed by the 14-byte salt. The key schedule is computed here, once.
static srtp_err_status_t counter_mode_init(void *opaque, const uint8_t *key) {
    counter_mode_state *state = opaque;
    const EVP_CIPHER *algorithm = state->key_length == 16 ? EVP_aes_128_ctr() : EVP_aes_256_ctr();
    memset(state->salt, 0, sizeof state->salt);
    memcpy(state->salt, key + state->key_length, SALT_LENGTH);
    if (EVP_EncryptInit_ex(state->context, algorithm, NULL, key, NULL) != 1) return failed(srtp_err_status_init_fail);
    return srtp_err_status_ok;
}

/// The counter block is the salt XOR the 16-byte IV libsrtp2 builds (SSRC and packet index in place).
static srtp_err_status_t counter_mode_set_iv(void *opaque, uint8_t *iv, srtp_cipher_direction_t direction) {
    (void)direction; // counter mode is its own inverse
    counter_mode_state *state = opaque;
    unsigned char counter[BLOCK_LENGTH];
    for (int i = 0; i < BLOCK_LENGTH; i++) counter[i] = state->salt[i] ^ iv[i];
    if (EVP_EncryptInit_ex(state->context, NULL, NULL, NULL, counter) != 1) return failed(srtp_err_status_cipher_fail);
    return srtp_err_status_ok;
}

static srtp_err_status_t counter_mode_crypt(void *opaque, uint8_t *buffer, unsigned int *length) {
    counter_mode_state *state = opaque;
    if (*length == 0) return srtp_err_status_ok;
    int written = 0;
    if (EVP_EncryptUpdate(state->context, buffer, &written, buffer, (int)*length) != 1) return failed(srtp_err_status_cipher_fail);
    *length = (unsigned int)written;
    return srtp_err_status_ok;
}

// RFC 3711 appendix B.2 (AES-128) and RFC 6188 §7 (AES-256): the keystream for a zero IV.
static const uint8_t counter_mode_128_key[SRTP_AES_ICM_128_KEY_LEN_WSALT] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t counter_mode_256_key[SRTP_AES_ICM_256_KEY_LEN_WSALT] = {
    0x57, 0xf8, 0x2f, 0xe3, 0x61, 0x3f, 0xd1, 0x70, 0xa8, 0x5e, 0xc9, 0x3c, 0x40, 0xb1, 0xf0, 0x92,
    0x2e, 0xc4, 0xcb, 0x0d, 0xc0, 0x25, 0xb5, 0x82, 0x72, 0x14, 0x7c, 0xc4, 0x38, 0x94, 0x4a, 0x98,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static uint8_t zero_iv[BLOCK_LENGTH];
static const uint8_t zeros[32];
static const uint8_t counter_mode_128_keystream[32] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
};
static const uint8_t counter_mode_256_keystream[32] = {
    0x92, 0xbd, 0xd2, 0x8a, 0x93, 0xc3, 0xf5, 0x25, 0x11, 0xc6, 0x77, 0xd0, 0x8b, 0x55, 0x15, 0xa4,
    0x9d, 0xa7, 0x1b, 0x23, 0x78, 0xa8, 0x54, 0xf6, 0x70, 0x50, 0x75, 0x6d, 0xed, 0x16, 0x5b, 0xac,
};
static const srtp_cipher_test_case_t counter_mode_128_test = {
    SRTP_AES_ICM_128_KEY_LEN_WSALT, counter_mode_128_key, zero_iv, 32, zeros, 32, counter_mode_128_keystream,
    0, NULL, 0, NULL,
};
static const srtp_cipher_test_case_t counter_mode_256_test = {
    SRTP_AES_ICM_256_KEY_LEN_WSALT, counter_mode_256_key, zero_iv, 32, zeros, 32, counter_mode_256_keystream,
    0, NULL, 0, NULL,
};

static const srtp_cipher_type_t counter_mode_128 = {
    counter_mode_alloc, counter_mode_dealloc, counter_mode_init, NULL, counter_mode_crypt, counter_mode_crypt,
    counter_mode_set_iv, NULL, "AES-128 counter mode (OpenSSL)", &counter_mode_128_test, SRTP_AES_ICM_128,
};
static const srtp_cipher_type_t counter_mode_256 = {
    counter_mode_alloc, counter_mode_dealloc, counter_mode_init, NULL, counter_mode_crypt, counter_mode_crypt,
    counter_mode_set_iv, NULL, "AES-256 counter mode (OpenSSL)", &counter_mode_256_test, SRTP_AES_ICM_256,
};

// MARK: - AES-GCM (RFC 7714)

enum { GCM_IV_LENGTH = 12 };

typedef struct {
    EVP_CIPHER_CTX *context;
    int key_length;   // 16 or 32
    int tag_length;   // 16 or 8
    int encrypting;   // the direction the last set_iv chose
} gcm_state;

static const srtp_cipher_type_t gcm_128;
static const srtp_cipher_type_t gcm_256;

/// libsrtp2 passes the key length with the 12-byte salt; the salt itself stays with libsrtp2,
/// which folds it into each packet's IV (RFC 7714 §8.1).
static srtp_err_status_t gcm_alloc(srtp_cipher_t **cipher, int key_length_with_salt, int tag_length) {
    const srtp_cipher_type_t *type;
    int algorithm;
    switch (key_length_with_salt) {
    case SRTP_AES_GCM_128_KEY_LEN_WSALT: type = &gcm_128; algorithm = SRTP_AES_GCM_128; break;
    case SRTP_AES_GCM_256_KEY_LEN_WSALT: type = &gcm_256; algorithm = SRTP_AES_GCM_256; break;
    default: return srtp_err_status_bad_param;
    }
    if (tag_length != 16 && tag_length != 8) return srtp_err_status_bad_param;
    srtp_cipher_t *object = calloc(1, sizeof(srtp_cipher_t) + sizeof(gcm_state));
    if (object == NULL) return srtp_err_status_alloc_fail;
    gcm_state *state = (gcm_state *)(object + 1);
    state->context = EVP_CIPHER_CTX_new();
    if (state->context == NULL) {
        free(object);
        return srtp_err_status_alloc_fail;
    }
    state->key_length = key_length_with_salt - SRTP_AEAD_SALT_LEN;
    state->tag_length = tag_length;
    object->type = type;
    object->state = state;
    object->key_len = key_length_with_salt;
    object->algorithm = algorithm;
    *cipher = object;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_dealloc(srtp_cipher_t *cipher) {
    if (cipher == NULL) return srtp_err_status_bad_param;
    gcm_state *state = cipher->state;
    EVP_CIPHER_CTX_free(state->context);
    OPENSSL_cleanse(cipher, sizeof(srtp_cipher_t) + sizeof(gcm_state));
    free(cipher);
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_init(void *opaque, const uint8_t *key) {
    gcm_state *state = opaque;
    const EVP_CIPHER *algorithm = state->key_length == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    // The direction is chosen per packet by set_iv; the key schedule (and GHASH key) is kept.
    if (EVP_CipherInit_ex(state->context, algorithm, NULL, key, NULL, 1) != 1) return failed(srtp_err_status_init_fail);
    state->encrypting = 1;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_iv(void *opaque, uint8_t *iv, srtp_cipher_direction_t direction) {
    gcm_state *state = opaque;
    if (direction != srtp_direction_encrypt && direction != srtp_direction_decrypt) return srtp_err_status_bad_param;
    state->encrypting = direction == srtp_direction_encrypt;
    if (EVP_CipherInit_ex(state->context, NULL, NULL, NULL, iv, state->encrypting) != 1) return failed(srtp_err_status_cipher_fail);
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_aad(void *opaque, const uint8_t *aad, uint32_t length) {
    gcm_state *state = opaque;
    int written = 0;
    if (length == 0) return srtp_err_status_ok;
    if (EVP_CipherUpdate(state->context, NULL, &written, aad, (int)length) != 1) return failed(srtp_err_status_algo_fail);
    return srtp_err_status_ok;
}

/// Encrypts in place; the tag comes from get_tag.
static srtp_err_status_t gcm_encrypt(void *opaque, uint8_t *buffer, unsigned int *length) {
    gcm_state *state = opaque;
    if (!state->encrypting) return srtp_err_status_bad_param;
    if (*length == 0) return srtp_err_status_ok;
    int written = 0;
    if (EVP_CipherUpdate(state->context, buffer, &written, buffer, (int)*length) != 1) return failed(srtp_err_status_cipher_fail);
    *length = (unsigned int)written;
    return srtp_err_status_ok;
}

static srtp_err_status_t gcm_get_tag(void *opaque, uint8_t *tag, uint32_t *length) {
    gcm_state *state = opaque;
    unsigned char unused[BLOCK_LENGTH];
    int written = 0;
    if (EVP_CipherFinal_ex(state->context, unused, &written) != 1) return failed(srtp_err_status_algo_fail);
    if (EVP_CIPHER_CTX_ctrl(state->context, EVP_CTRL_GCM_GET_TAG, state->tag_length, tag) != 1) return failed(srtp_err_status_algo_fail);
    *length = (uint32_t)state->tag_length;
    return srtp_err_status_ok;
}

/// `*length` counts the ciphertext and the tag after it; on success it is the plaintext's length.
static srtp_err_status_t gcm_decrypt(void *opaque, uint8_t *buffer, unsigned int *length) {
    gcm_state *state = opaque;
    if (state->encrypting) return srtp_err_status_bad_param;
    if (*length < (unsigned int)state->tag_length) return srtp_err_status_bad_param;
    unsigned int ciphertext_length = *length - (unsigned int)state->tag_length;
    if (EVP_CIPHER_CTX_ctrl(state->context, EVP_CTRL_GCM_SET_TAG, state->tag_length, buffer + ciphertext_length) != 1) {
        return failed(srtp_err_status_algo_fail);
    }
    int written = 0;
    if (ciphertext_length > 0 &&
        EVP_CipherUpdate(state->context, buffer, &written, buffer, (int)ciphertext_length) != 1) {
        return failed(srtp_err_status_cipher_fail);
    }
    unsigned char unused[BLOCK_LENGTH];
    int final_written = 0;
    if (EVP_CipherFinal_ex(state->context, unused, &final_written) != 1) return failed(srtp_err_status_auth_fail);
    *length = ciphertext_length;
    return srtp_err_status_ok;
}

// The GCM specification's test cases 4 (AES-128) and 16 (AES-256): 60 bytes, 20 bytes of AAD.
static const uint8_t gcm_128_key[SRTP_AES_GCM_128_KEY_LEN_WSALT] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, // salt: unused by the cipher
};
static const uint8_t gcm_256_key[SRTP_AES_GCM_256_KEY_LEN_WSALT] = {
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};
static uint8_t gcm_iv[GCM_IV_LENGTH] = { 0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88 };
static const uint8_t gcm_plaintext[60] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26, 0x9a,
    0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31, 0x8a, 0x72,
    0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49, 0xa6, 0xb5, 0x25,
    0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39,
};
static const uint8_t gcm_aad[20] = {
    0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef,
    0xab, 0xad, 0xda, 0xd2,
};
static const uint8_t gcm_128_ciphertext[76] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4, 0x9c,
    0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac, 0xa1, 0x2e,
    0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac, 0x84, 0xaa, 0x05,
    0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91,
    0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a, 0x47, // tag
};
static const uint8_t gcm_256_ciphertext[76] = {
    0x52, 0x2d, 0xc1, 0xf0, 0x99, 0x56, 0x7d, 0x07, 0xf4, 0x7f, 0x37, 0xa3, 0x2a, 0x84, 0x42, 0x7d,
    0x64, 0x3a, 0x8c, 0xdc, 0xbf, 0xe5, 0xc0, 0xc9, 0x75, 0x98, 0xa2, 0xbd, 0x25, 0x55, 0xd1, 0xaa,
    0x8c, 0xb0, 0x8e, 0x48, 0x59, 0x0d, 0xbb, 0x3d, 0xa7, 0xb0, 0x8b, 0x10, 0x56, 0x82, 0x88, 0x38,
    0xc5, 0xf6, 0x1e, 0x63, 0x93, 0xba, 0x7a, 0x0a, 0xbc, 0xc9, 0xf6, 0x62,
    0x76, 0xfc, 0x6e, 0xce, 0x0f, 0x4e, 0x17, 0x68, 0xcd, 0xdf, 0x88, 0x53, 0xbb, 0x2d, 0x55, 0x1b, // tag
};
// The same vectors with the tag cut to 8 bytes (RFC 7714's 8-octet tag option).
static const srtp_cipher_test_case_t gcm_128_short_tag_test = {
    SRTP_AES_GCM_128_KEY_LEN_WSALT, gcm_128_key, gcm_iv, 60, gcm_plaintext, 68, gcm_128_ciphertext,
    20, gcm_aad, 8, NULL,
};
static const srtp_cipher_test_case_t gcm_128_test = {
    SRTP_AES_GCM_128_KEY_LEN_WSALT, gcm_128_key, gcm_iv, 60, gcm_plaintext, 76, gcm_128_ciphertext,
    20, gcm_aad, 16, &gcm_128_short_tag_test,
};
static const srtp_cipher_test_case_t gcm_256_test = {
    SRTP_AES_GCM_256_KEY_LEN_WSALT, gcm_256_key, gcm_iv, 60, gcm_plaintext, 76, gcm_256_ciphertext,
    20, gcm_aad, 16, NULL,
};

static const srtp_cipher_type_t gcm_128 = {
    gcm_alloc, gcm_dealloc, gcm_init, gcm_set_aad, gcm_encrypt, gcm_decrypt, gcm_set_iv, gcm_get_tag,
    "AES-128 GCM (OpenSSL)", &gcm_128_test, SRTP_AES_GCM_128,
};
static const srtp_cipher_type_t gcm_256 = {
    gcm_alloc, gcm_dealloc, gcm_init, gcm_set_aad, gcm_encrypt, gcm_decrypt, gcm_set_iv, gcm_get_tag,
    "AES-256 GCM (OpenSSL)", &gcm_256_test, SRTP_AES_GCM_256,
};

// MARK: - HMAC-SHA1 (RFC 2104), SRTP's authentication tag (RFC 3711 §4.2.1)

enum { SHA1_LENGTH = 20, SHA1_BLOCK = 64 };

typedef struct {
    SHA_CTX inner_start;  // SHA-1 after absorbing key XOR ipad
    SHA_CTX outer_start;  // SHA-1 after absorbing key XOR opad
    SHA_CTX running;      // the message in progress
} hmac_state;

static const srtp_auth_type_t hmac_sha1;

static srtp_err_status_t hmac_alloc(srtp_auth_t **auth, int key_length, int tag_length) {
    if (key_length < 0 || key_length > SHA1_BLOCK) return srtp_err_status_bad_param;
    if (tag_length < 0 || tag_length > SHA1_LENGTH) return srtp_err_status_bad_param;
    srtp_auth_t *object = calloc(1, sizeof(srtp_auth_t) + sizeof(hmac_state));
    if (object == NULL) return srtp_err_status_alloc_fail;
    object->type = &hmac_sha1;
    object->state = object + 1;
    object->out_len = tag_length;
    object->key_len = key_length;
    object->prefix_len = 0;
    *auth = object;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_dealloc(srtp_auth_t *auth) {
    if (auth == NULL) return srtp_err_status_bad_param;
    OPENSSL_cleanse(auth, sizeof(srtp_auth_t) + sizeof(hmac_state));
    free(auth);
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_init(void *opaque, const uint8_t *key, int key_length) {
    hmac_state *state = opaque;
    if (key_length < 0 || key_length > SHA1_BLOCK) return srtp_err_status_bad_param;
    unsigned char pad[SHA1_BLOCK];
    memset(pad, 0x36, sizeof pad);
    for (int i = 0; i < key_length; i++) pad[i] ^= key[i];
    SHA1_Init(&state->inner_start);
    SHA1_Update(&state->inner_start, pad, sizeof pad);
    memset(pad, 0x5c, sizeof pad);
    for (int i = 0; i < key_length; i++) pad[i] ^= key[i];
    SHA1_Init(&state->outer_start);
    SHA1_Update(&state->outer_start, pad, sizeof pad);
    OPENSSL_cleanse(pad, sizeof pad);
    state->running = state->inner_start;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_start(void *opaque) {
    hmac_state *state = opaque;
    state->running = state->inner_start;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_update(void *opaque, const uint8_t *message, int length) {
    hmac_state *state = opaque;
    if (length < 0) return srtp_err_status_bad_param;
    SHA1_Update(&state->running, message, (size_t)length);
    return srtp_err_status_ok;
}

/// Absorbs the last `length` bytes and writes the first `tag_length` bytes of the HMAC.
static srtp_err_status_t hmac_compute(void *opaque, const uint8_t *message, int length, int tag_length, uint8_t *tag) {
    hmac_state *state = opaque;
    if (length < 0 || tag_length < 0 || tag_length > SHA1_LENGTH) return srtp_err_status_bad_param;
    unsigned char digest[SHA1_LENGTH];
    SHA1_Update(&state->running, message, (size_t)length);
    SHA1_Final(digest, &state->running);
    SHA_CTX outer = state->outer_start;
    SHA1_Update(&outer, digest, sizeof digest);
    SHA1_Final(digest, &outer);
    memcpy(tag, digest, (size_t)tag_length);
    return srtp_err_status_ok;
}

// RFC 2202 test case 1 (SRTP's keys are 20 bytes; keys longer than a block are refused).
static const uint8_t hmac_key_1[20] = {
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
    0x0b, 0x0b, 0x0b, 0x0b,
};
static const uint8_t hmac_data_1[8] = { 'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e' };
static const uint8_t hmac_tag_1[20] = {
    0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b, 0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e,
    0xf1, 0x46, 0xbe, 0x00,
};
static const srtp_auth_test_case_t hmac_test = { 20, hmac_key_1, 8, hmac_data_1, 20, hmac_tag_1, NULL };

static const srtp_auth_type_t hmac_sha1 = {
    hmac_alloc, hmac_dealloc, hmac_init, hmac_compute, hmac_update, hmac_start,
    "HMAC-SHA1 (OpenSSL SHA-1)", &hmac_test, SRTP_HMAC_SHA1,
};

// MARK: - Installation

int confab_srtp_install_openssl_crypto(void) {
    const srtp_cipher_type_t *ciphers[] = { &counter_mode_128, &counter_mode_256, &gcm_128, &gcm_256 };
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
        srtp_err_status_t status = srtp_replace_cipher_type(ciphers[i], ciphers[i]->id);
        if (status != srtp_err_status_ok) return (int)status;
    }
    return (int)srtp_replace_auth_type(&hmac_sha1, SRTP_HMAC_SHA1);
}
