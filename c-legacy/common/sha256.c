/* SHA-256 and HMAC-SHA256 through OpenSSL's EVP interfaces. */
#include "mtp_sha256.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

/* Fetched once: an explicit fetch spares every call OpenSSL's implicit
 * algorithm lookup. */
static EVP_MD *sha256_md;
static EVP_MAC *hmac_mac;
static pthread_once_t sha256_fetch_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void) {
  sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
  hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* OpenSSL wants a real pointer even for zero bytes (a null key means "keep
 * the previous key" to EVP_MAC_init). */
static const uint8_t no_bytes[1];

static const uint8_t *nonnull(const uint8_t *p) {
  return p ? p : no_bytes;
}

/* Every failure below means no memory or no provider; a void hash has no way
 * to report that, and a wrong digest must never be used. */
static void sha256_require(int ok) {
  if (!ok) {
    abort();
  }
}

void mtp_sha256(const uint8_t *data, size_t len, uint8_t *out) {
  if (!out) {
    return;
  }
  pthread_once(&sha256_fetch_once, sha256_fetch);
  sha256_require(sha256_md && EVP_Digest(nonnull(data), data ? len : 0, out, NULL, sha256_md, NULL));
}

void mtp_sha256_two_chunks(const uint8_t *first, size_t first_len, const uint8_t *second,
                           size_t second_len, uint8_t *out) {
  if (!out) {
    return;
  }
  pthread_once(&sha256_fetch_once, sha256_fetch);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  sha256_require(ctx && sha256_md && EVP_DigestInit_ex(ctx, sha256_md, NULL) &&
                 EVP_DigestUpdate(ctx, nonnull(first), first ? first_len : 0) &&
                 EVP_DigestUpdate(ctx, nonnull(second), second ? second_len : 0) &&
                 EVP_DigestFinal_ex(ctx, out, NULL));
  EVP_MD_CTX_free(ctx);
}

void mtp_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                     uint8_t *out) {
  if (!out) {
    return;
  }
  pthread_once(&sha256_fetch_once, sha256_fetch);
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end(),
  };
  size_t out_len = 0;
  EVP_MAC_CTX *ctx = hmac_mac ? EVP_MAC_CTX_new(hmac_mac) : NULL;
  sha256_require(ctx && EVP_MAC_init(ctx, nonnull(key), key ? key_len : 0, params) &&
                 EVP_MAC_update(ctx, nonnull(msg), msg ? msg_len : 0) &&
                 EVP_MAC_final(ctx, out, &out_len, 32) && out_len == 32);
  EVP_MAC_CTX_free(ctx);
}
