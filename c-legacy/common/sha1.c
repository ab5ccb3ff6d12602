/* SHA-1 through OpenSSL's EVP interface. */
#include "mtp_sha1.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

/* Fetched once: an explicit fetch spares every call OpenSSL's implicit
 * algorithm lookup. */
static EVP_MD *sha1_md;
static pthread_once_t sha1_fetch_once = PTHREAD_ONCE_INIT;

static void sha1_fetch(void) {
  sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

void mtp_sha1(const uint8_t *data, size_t len, uint8_t *out) {
  static const uint8_t empty[1];
  if (!out) {
    return;
  }
  pthread_once(&sha1_fetch_once, sha1_fetch);
  /* Fails only without memory or without a SHA-1 provider; a void hash has
   * no way to report that, and a wrong digest must never be used. */
  if (!sha1_md || !EVP_Digest(data ? data : empty, data ? len : 0, out, NULL, sha1_md, NULL)) {
    abort();
  }
}
