/* CRC-32C (Castagnoli, reflected 0x82F63B78). Two paths give the same result:
 * - the SSE4.2 crc32 instruction, on three independent streams at once so
 *   the instruction's latency is hidden, the three partial CRCs then merged
 *   with precomputed "skip N zero bytes" tables;
 * - slice-by-8 tables, for CPUs without SSE4.2 (and mtp_crc32c_partial_portable). */
#include "mtp_crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define CRC32C_HAVE_SSE42_PATH 1
#endif

#define CRC32C_POLY_REFLECTED 0x82f63b78u

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_init_once = PTHREAD_ONCE_INIT;

static inline uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint32_t crc32c_update_portable(const uint8_t *data, size_t len, uint32_t crc) {
  while (len >= 8) {
    uint32_t lo = load_le32(data) ^ crc;
    uint32_t hi = load_le32(data + 4);
    crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
          crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
          crc32c_table[3][hi & 0xff] ^ crc32c_table[2][(hi >> 8) & 0xff] ^
          crc32c_table[1][(hi >> 16) & 0xff] ^ crc32c_table[0][hi >> 24];
    data += 8;
    len -= 8;
  }
  while (len--) {
    crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *data++) & 0xff];
  }
  return crc;
}

static void crc32c_build_slice_tables(void) {
  for (uint32_t byte = 0; byte < 256; byte++) {
    uint32_t c = byte;
    for (int bit = 0; bit < 8; bit++) {
      c = (c & 1) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
    }
    crc32c_table[0][byte] = c;
  }
  for (int t = 1; t < 8; t++) {
    for (int byte = 0; byte < 256; byte++) {
      uint32_t prev = crc32c_table[t - 1][byte];
      crc32c_table[t][byte] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
    }
  }
}

#ifdef CRC32C_HAVE_SSE42_PATH

/* Stream lengths of the interleaved loop: long blocks for big buffers, short
 * ones so that buffers of about 1 KiB still get three streams. Multiples of 8. */
#define CRC32C_LONG_STREAM 2048
#define CRC32C_SHORT_STREAM 256

/* A linear map on CRC states, "feed N zero bytes", as four byte-indexed
 * tables: shift(s) = t[0][s & 0xff] ^ t[1][(s >> 8) & 0xff] ^ ... */
typedef uint32_t crc32c_shift_table[4][256];

static crc32c_shift_table crc32c_shift_long;
static crc32c_shift_table crc32c_shift_short;
static int crc32c_use_sse42;

static void crc32c_build_shift_table(crc32c_shift_table table, size_t zero_bytes) {
  static const uint8_t zeros[CRC32C_LONG_STREAM];
  uint32_t basis[32]; /* image of each single-bit state */
  for (int bit = 0; bit < 32; bit++) {
    basis[bit] = crc32c_update_portable(zeros, zero_bytes, 1u << bit);
  }
  for (int k = 0; k < 4; k++) {
    for (uint32_t byte = 0; byte < 256; byte++) {
      uint32_t image = 0;
      for (int bit = 0; bit < 8; bit++) {
        if (byte & (1u << bit)) {
          image ^= basis[8 * k + bit];
        }
      }
      table[k][byte] = image;
    }
  }
}

static inline uint32_t crc32c_shift(crc32c_shift_table table, uint32_t crc) {
  return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^
         table[3][crc >> 24];
}

static inline uint64_t load_u64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* Consumes blocks of three streams of `stream` bytes while they fit; the
 * state after a block is shift(shift(a) ^ b) ^ c, where a, b, c are the
 * three streams' CRCs (a started from the incoming state, b and c from 0). */
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42_triples(
    const uint8_t **data, size_t *len, uint32_t crc, size_t stream,
    crc32c_shift_table shift) {
  const uint8_t *p = *data;
  size_t left = *len;
  while (left >= 3 * stream) {
    uint64_t a = crc, b = 0, c = 0;
    for (size_t i = 0; i < stream; i += 8) {
      a = _mm_crc32_u64(a, load_u64(p + i));
      b = _mm_crc32_u64(b, load_u64(p + stream + i));
      c = _mm_crc32_u64(c, load_u64(p + 2 * stream + i));
    }
    crc = crc32c_shift(shift, crc32c_shift(shift, (uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
    p += 3 * stream;
    left -= 3 * stream;
  }
  *data = p;
  *len = left;
  return crc;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_update_sse42(const uint8_t *data,
                                                                      size_t len, uint32_t crc) {
  crc = crc32c_sse42_triples(&data, &len, crc, CRC32C_LONG_STREAM, crc32c_shift_long);
  crc = crc32c_sse42_triples(&data, &len, crc, CRC32C_SHORT_STREAM, crc32c_shift_short);
  uint64_t wide = crc;
  while (len >= 8) {
    wide = _mm_crc32_u64(wide, load_u64(data));
    data += 8;
    len -= 8;
  }
  crc = (uint32_t)wide;
  while (len--) {
    crc = _mm_crc32_u8(crc, *data++);
  }
  return crc;
}
#endif

static void crc32c_init(void) {
  crc32c_build_slice_tables();
#ifdef CRC32C_HAVE_SSE42_PATH
  crc32c_build_shift_table(crc32c_shift_long, CRC32C_LONG_STREAM);
  crc32c_build_shift_table(crc32c_shift_short, CRC32C_SHORT_STREAM);
  crc32c_use_sse42 = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t mtp_crc32c_partial_portable(const uint8_t *data, size_t len, uint32_t crc) {
  pthread_once(&crc32c_init_once, crc32c_init);
  if (!data) {
    return crc;
  }
  return crc32c_update_portable(data, len, crc);
}

uint32_t mtp_crc32c_partial(const uint8_t *data, size_t len, uint32_t crc) {
  pthread_once(&crc32c_init_once, crc32c_init);
  if (!data) {
    return crc;
  }
#ifdef CRC32C_HAVE_SSE42_PATH
  if (crc32c_use_sse42) {
    return crc32c_update_sse42(data, len, crc);
  }
#endif
  return crc32c_update_portable(data, len, crc);
}

uint32_t mtp_compute_crc32c(const uint8_t *data, size_t len) {
  return ~mtp_crc32c_partial(data, len, 0xffffffffu);
}
