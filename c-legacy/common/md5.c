/* MD5 through OpenSSL's EVP interface. */
#include "mtp_md5.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

/* Fetched once: an explicit fetch spares every call OpenSSL's implicit
 * algorithm lookup. */
static EVP_MD *md5_md;
static pthread_once_t md5_fetch_once = PTHREAD_ONCE_INIT;

static void md5_fetch(void) {
  md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
}

void mtp_md5(const uint8_t *data, size_t len, uint8_t *out) {
  static const uint8_t empty[1];
  if (!out) {
    return;
  }
  pthread_once(&md5_fetch_once, md5_fetch);
  /* Fails only without memory or without an MD5 provider; a void hash has no
   * way to report that, and a wrong digest must never be used. */
  if (!md5_md || !EVP_Digest(data ? data : empty, data ? len : 0, out, NULL, md5_md, NULL)) {
    abort();
  }
}
