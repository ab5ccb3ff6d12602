/* Streaming AES-256 contexts on OpenSSL EVP: CTR (EVP keeps the position
 * inside a keystream block between calls and carries the counter over all
 * 128 bits) and CBC with padding disabled (EVP then neither buffers nor holds
 * back a block, so every call turns its whole input into output). */
#include "mtp_aesni256.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>

struct mtp_aes_ctx {
  EVP_CIPHER_CTX *evp;
  int32_t mode;
};

/* EVP takes int lengths: larger calls go in steps of this many bytes (a
 * multiple of the block size, so CBC steps stay whole blocks). */
#define AES_MAX_STEP ((size_t)1 << 30)

mtp_aes_ctx *mtp_aes_new(int32_t mode, const uint8_t *key, const uint8_t *iv) {
  const EVP_CIPHER *cipher;
  int encrypt = 1;
  switch (mode) {
    case MTP_AES_CTR:
      cipher = EVP_aes_256_ctr();
      break;
    case MTP_AES_CBC_ENCRYPT:
      cipher = EVP_aes_256_cbc();
      break;
    case MTP_AES_CBC_DECRYPT:
      cipher = EVP_aes_256_cbc();
      encrypt = 0;
      break;
    default:
      return NULL;
  }
  if (!key || !iv) {
    return NULL;
  }
  mtp_aes_ctx *ctx = malloc(sizeof(*ctx));
  if (!ctx) {
    return NULL;
  }
  ctx->mode = mode;
  ctx->evp = EVP_CIPHER_CTX_new();
  if (!ctx->evp || EVP_CipherInit_ex(ctx->evp, cipher, NULL, key, iv, encrypt) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx->evp, 0) != 1) {
    mtp_aes_free(ctx);
    return NULL;
  }
  return ctx;
}

int32_t mtp_aes_crypt(mtp_aes_ctx *ctx, const uint8_t *input, uint8_t *output, size_t len) {
  if (!ctx) {
    return MTP_AES_ERR_NULL;
  }
  if (len == 0) {
    return 0;
  }
  if (!input || !output) {
    return MTP_AES_ERR_NULL;
  }
  if (ctx->mode != MTP_AES_CTR && len % 16 != 0) {
    return MTP_AES_ERR_BAD_LENGTH;
  }
  while (len > 0) {
    size_t step = len < AES_MAX_STEP ? len : AES_MAX_STEP;
    int written = 0;
    if (EVP_CipherUpdate(ctx->evp, output, &written, input, (int)step) != 1 ||
        (size_t)written != step) {
      return MTP_AES_ERR_CRYPTO;
    }
    input += step;
    output += step;
    len -= step;
  }
  return 0;
}

void mtp_aes_free(mtp_aes_ctx *ctx) {
  if (ctx) {
    EVP_CIPHER_CTX_free(ctx->evp);
    free(ctx);
  }
}
