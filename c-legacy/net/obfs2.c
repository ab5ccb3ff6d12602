/* Obfuscated2: secret texts and the 64-byte init header (docs/PROTOCOL.md §1).
 * SHA-256 comes from the sha256 contract, one AES block per candidate from
 * OpenSSL (AES-256-ECB of the counter block is the CTR keystream block). */
#include "mtp_obfs2.h"

#include "mtp_sha256.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TAG_ABRIDGED 0xefefefefu
#define TAG_INTERMEDIATE 0xeeeeeeeeu
#define TAG_PADDED 0xddddddddu

/* The encrypted tail (tag, DC, 2 random bytes) starts at 56: bytes 8..15 of
 * keystream block 3. */
enum { TAIL_START = 56, TAIL_BLOCK = 3, TAIL_IN_BLOCK = 8 };
enum { DECODED_MAX = 1 + MTP_OBFS2_SECRET_LEN + MTP_OBFS2_MAX_DOMAIN_LEN };

static EVP_CIPHER *aes_ecb;
static pthread_once_t aes_fetch_once = PTHREAD_ONCE_INIT;

static void aes_fetch(void) {
  aes_ecb = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
}

static uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- secret texts ---- */

/* Space, \t, \n, \f, \r: the whitespace trimmed around a secret (not \v). */
static int is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int base64_value(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

/* Decoded length, or -1 unless all hex digits, even length, fits. */
static long decode_hex(const uint8_t *text, size_t len, uint8_t *out) {
  if (len % 2 != 0 || len / 2 > DECODED_MAX) return -1;
  for (size_t i = 0; i < len; i += 2) {
    int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  return (long)(len / 2);
}

/* Either alphabet; `=` padding optional, but if present 1 or 2 of them and a
 * total length that is a multiple of 4; leftover low bits ignored. */
static long decode_base64(const uint8_t *text, size_t len, uint8_t *out) {
  size_t pad = 0;
  while (pad < len && text[len - 1 - pad] == '=') pad++;
  if (pad > 2 || (pad > 0 && len % 4 != 0)) return -1;
  size_t body = len - pad;
  if (body % 4 == 1 || body / 4 * 3 > DECODED_MAX) return -1;
  uint32_t acc = 0;
  int bits = 0;
  long n = 0;
  for (size_t i = 0; i < body; i++) {
    int v = base64_value(text[i]);
    if (v < 0) return -1;
    acc = ((acc << 6) | (uint32_t)v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= DECODED_MAX) return -1;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

static int valid_domain(const uint8_t *d, size_t len) {
  if (len < 1 || len > MTP_OBFS2_MAX_DOMAIN_LEN) return 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t c = d[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-';
    if (!ok) return 0;
  }
  return 1;
}

/* 1 and fills *out if the decoded bytes have one of the three forms. */
static int classify_secret(const uint8_t *b, long n, mtp_obfs2_secret *out) {
  mtp_obfs2_secret s;
  memset(&s, 0, sizeof s);
  const uint8_t *key;
  if (n == MTP_OBFS2_SECRET_LEN) {
    s.kind = MTP_OBFS2_SECRET_PLAIN;
    key = b;
  } else if (n == 1 + MTP_OBFS2_SECRET_LEN && b[0] == 0xdd) {
    s.kind = MTP_OBFS2_SECRET_PADDED;
    key = b + 1;
  } else if (n > 1 + MTP_OBFS2_SECRET_LEN && b[0] == 0xee) {
    size_t domain_len = (size_t)n - 1 - MTP_OBFS2_SECRET_LEN;
    if (!valid_domain(b + 1 + MTP_OBFS2_SECRET_LEN, domain_len)) return 0;
    s.kind = MTP_OBFS2_SECRET_FAKE_TLS;
    memcpy(s.domain, b + 1 + MTP_OBFS2_SECRET_LEN, domain_len);
    s.domain_len = domain_len;
    key = b + 1;
  } else {
    return 0;
  }
  memcpy(s.key, key, MTP_OBFS2_SECRET_LEN);
  *out = s;
  return 1;
}

int32_t mtp_obfs2_parse_secret(const uint8_t *text, size_t len, mtp_obfs2_secret *out) {
  if (!out) return MTP_OBFS2_ERR_ARG;
  if (!text) len = 0;
  while (len > 0 && is_space(text[0])) {
    text++;
    len--;
  }
  while (len > 0 && is_space(text[len - 1])) len--;
  uint8_t buf[DECODED_MAX];
  long n = decode_hex(text, len, buf);
  if (n >= 0 && classify_secret(buf, n, out)) return 0;
  n = decode_base64(text, len, buf);
  if (n >= 0 && classify_secret(buf, n, out)) return 0;
  return MTP_OBFS2_ERR_BAD_SECRET;
}

int32_t mtp_obfs2_format_secret(const mtp_obfs2_secret *secret, uint8_t *out, size_t cap,
                                size_t *out_len) {
  static const char digits[] = "0123456789abcdef";
  if (!secret || !out_len) return MTP_OBFS2_ERR_ARG;
  const char *prefix;
  size_t domain_len = 0;
  switch (secret->kind) {
    case MTP_OBFS2_SECRET_PLAIN: prefix = ""; break;
    case MTP_OBFS2_SECRET_PADDED: prefix = "dd"; break;
    case MTP_OBFS2_SECRET_FAKE_TLS:
      prefix = "ee";
      domain_len = secret->domain_len;
      if (!valid_domain(secret->domain, domain_len)) return MTP_OBFS2_ERR_BAD_SECRET;
      break;
    default: return MTP_OBFS2_ERR_BAD_SECRET;
  }
  size_t len = strlen(prefix) + 2 * (MTP_OBFS2_SECRET_LEN + domain_len);
  if (!out || cap < len + 1) return MTP_OBFS2_ERR_ARG;
  size_t pos = strlen(prefix);
  memcpy(out, prefix, pos);
  for (size_t i = 0; i < MTP_OBFS2_SECRET_LEN + domain_len; i++) {
    uint8_t b = i < MTP_OBFS2_SECRET_LEN ? secret->key[i] : secret->domain[i - MTP_OBFS2_SECRET_LEN];
    out[pos++] = (uint8_t)digits[b >> 4];
    out[pos++] = (uint8_t)digits[b & 15];
  }
  out[pos] = 0;
  *out_len = len;
  return 0;
}

/* ---- the init header ---- */

/* Key material ‖ secret hashed, or the material itself without a secret. */
static void derive_key(const uint8_t material[32], const uint8_t *secret, uint8_t key[32]) {
  if (!secret) {
    memcpy(key, material, 32);
    return;
  }
  uint8_t joined[32 + MTP_OBFS2_SECRET_LEN];
  memcpy(joined, material, 32);
  memcpy(joined + 32, secret, MTP_OBFS2_SECRET_LEN);
  mtp_sha256(joined, sizeof joined, key);
}

static void read_key(const uint8_t *h, const uint8_t *secret, mtp_obfs2_ctr_key *k) {
  derive_key(h + 8, secret, k->key);
  memcpy(k->iv, h + 40, 16);
}

/* The write direction uses h[8..56) reversed. */
static void write_key(const uint8_t *h, const uint8_t *secret, mtp_obfs2_ctr_key *k) {
  uint8_t material[32];
  for (int i = 0; i < 32; i++) material[i] = h[55 - i];
  derive_key(material, secret, k->key);
  for (int i = 0; i < 16; i++) k->iv[i] = h[23 - i];
}

/* tail = h[56..64) XOR keystream[56..64) of k; ctx is reused across calls.
 * Returns 0 on an OpenSSL failure (no memory / provider). */
static int crypt_tail(EVP_CIPHER_CTX *ctx, const uint8_t *h, const mtp_obfs2_ctr_key *k,
                      uint8_t tail[8]) {
  uint8_t counter[16];
  memcpy(counter, k->iv, 16);
  /* big-endian 128-bit addition of TAIL_BLOCK, wrapping */
  unsigned carry = TAIL_BLOCK;
  for (int i = 15; i >= 0 && carry; i--) {
    unsigned sum = counter[i] + carry;
    counter[i] = (uint8_t)sum;
    carry = sum >> 8;
  }
  uint8_t block[16];
  int out_len = 0;
  if (!EVP_EncryptInit_ex2(ctx, aes_ecb, k->key, NULL, NULL) ||
      !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
      !EVP_EncryptUpdate(ctx, block, &out_len, counter, 16) || out_len != 16) {
    return 0;
  }
  for (int i = 0; i < 8; i++) tail[i] = h[TAIL_START + i] ^ block[TAIL_IN_BLOCK + i];
  return 1;
}

/* Creates the reusable AES context; aborts without memory or provider, as a
 * wrong answer is never acceptable and the contract has no error for it. */
static EVP_CIPHER_CTX *new_aes_ctx(void) {
  pthread_once(&aes_fetch_once, aes_fetch);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx || !aes_ecb) abort();
  return ctx;
}

static int tag_accepted(uint32_t tag, int32_t padded_only) {
  if (padded_only) return tag == TAG_PADDED;
  return tag == TAG_ABRIDGED || tag == TAG_INTERMEDIATE || tag == TAG_PADDED;
}

int32_t mtp_obfs2_parse_header(const uint8_t *header, size_t header_len, const uint8_t *secrets,
                               size_t n_secrets, int32_t padded_only,
                               mtp_obfs2_server_header *out) {
  if (!out || n_secrets > SIZE_MAX / MTP_OBFS2_SECRET_LEN || (n_secrets > 0 && !secrets)) {
    return MTP_OBFS2_ERR_ARG;
  }
  if (!header || header_len < MTP_OBFS2_HEADER_LEN) return MTP_OBFS2_ERR_SHORT;
  EVP_CIPHER_CTX *ctx = new_aes_ctx();
  size_t candidates = n_secrets ? n_secrets : 1;
  int32_t result = MTP_OBFS2_ERR_NO_MATCH;
  for (size_t i = 0; i < candidates; i++) {
    const uint8_t *secret = n_secrets ? secrets + i * MTP_OBFS2_SECRET_LEN : NULL;
    mtp_obfs2_ctr_key read;
    uint8_t tail[8];
    read_key(header, secret, &read);
    if (!crypt_tail(ctx, header, &read, tail)) abort();
    uint32_t tag = load_le32(tail);
    if (tag_accepted(tag, padded_only)) {
      out->secret_index = n_secrets ? (int32_t)i : -1;
      out->tag = tag;
      out->dc = (int16_t)(uint16_t)(tail[4] | tail[5] << 8);
      out->read = read;
      write_key(header, secret, &out->write);
      result = 0;
      break;
    }
  }
  EVP_CIPHER_CTX_free(ctx);
  return result;
}

/* §1.5, plus any `16 03 01 xx` with xx >= 2 (current proxies' TLS test). */
static int forbidden_start(const uint8_t *h) {
  static const uint32_t words[] = {0x44414548u, 0x54534f50u, 0x20544547u, 0x4954504fu,
                                   0x02010316u, TAG_PADDED,  TAG_INTERMEDIATE};
  uint32_t first = load_le32(h);
  if (h[0] == 0xef) return 1;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (first == words[i]) return 1;
  }
  if (h[0] == 0x16 && h[1] == 0x03 && h[2] == 0x01 && h[3] >= 2) return 1;
  return h[4] == 0 && h[5] == 0 && h[6] == 0 && h[7] == 0;
}

int32_t mtp_obfs2_build_client_header(const uint8_t *random, const uint8_t *secret, uint32_t tag,
                                      int16_t dc, mtp_obfs2_client_header *out) {
  if (!random || !out) return MTP_OBFS2_ERR_ARG;
  if (forbidden_start(random)) return MTP_OBFS2_ERR_FORBIDDEN;
  mtp_obfs2_client_header built;
  memcpy(built.header, random, MTP_OBFS2_HEADER_LEN);
  uint16_t dc_bits = (uint16_t)dc;
  for (int i = 0; i < 4; i++) built.header[TAIL_START + i] = (uint8_t)(tag >> (8 * i));
  built.header[TAIL_START + 4] = (uint8_t)dc_bits;
  built.header[TAIL_START + 5] = (uint8_t)(dc_bits >> 8);
  read_key(built.header, secret, &built.encrypt);
  write_key(built.header, secret, &built.decrypt);
  EVP_CIPHER_CTX *ctx = new_aes_ctx();
  uint8_t tail[8];
  if (!crypt_tail(ctx, built.header, &built.encrypt, tail)) abort();
  EVP_CIPHER_CTX_free(ctx);
  memcpy(built.header + TAIL_START, tail, 8);
  *out = built;
  return 0;
}
