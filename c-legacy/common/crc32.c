/* CRC-32 (IEEE 802.3 polynomial, reflected 0xEDB88320): slice-by-8 tables for
 * speed, GF(2) operator powers for combining two CRCs without the data. */
#include "mtp_crc32.h"

#include <pthread.h>

#define CRC32_POLY_REFLECTED 0xedb88320u

static uint32_t crc32_table[8][256];
static pthread_once_t crc32_table_once = PTHREAD_ONCE_INIT;

static void crc32_build_tables(void) {
  for (uint32_t byte = 0; byte < 256; byte++) {
    uint32_t c = byte;
    for (int bit = 0; bit < 8; bit++) {
      c = (c & 1) ? (c >> 1) ^ CRC32_POLY_REFLECTED : c >> 1;
    }
    crc32_table[0][byte] = c;
  }
  for (int t = 1; t < 8; t++) {
    for (int byte = 0; byte < 256; byte++) {
      uint32_t prev = crc32_table[t - 1][byte];
      crc32_table[t][byte] = (prev >> 8) ^ crc32_table[0][prev & 0xff];
    }
  }
}

static inline uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t mtp_crc32_partial(const uint8_t *data, size_t len, uint32_t crc) {
  pthread_once(&crc32_table_once, crc32_build_tables);
  if (!data) {
    return crc;
  }
  while (len >= 8) {
    uint32_t lo = load_le32(data) ^ crc;
    uint32_t hi = load_le32(data + 4);
    crc = crc32_table[7][lo & 0xff] ^ crc32_table[6][(lo >> 8) & 0xff] ^
          crc32_table[5][(lo >> 16) & 0xff] ^ crc32_table[4][lo >> 24] ^
          crc32_table[3][hi & 0xff] ^ crc32_table[2][(hi >> 8) & 0xff] ^
          crc32_table[1][(hi >> 16) & 0xff] ^ crc32_table[0][hi >> 24];
    data += 8;
    len -= 8;
  }
  while (len--) {
    crc = (crc >> 8) ^ crc32_table[0][(crc ^ *data++) & 0xff];
  }
  return crc;
}

uint32_t mtp_compute_crc32(const uint8_t *data, size_t len) {
  return ~mtp_crc32_partial(data, len, 0xffffffffu);
}

/* A 32x32 matrix over GF(2), one column per input bit, applied to a vector. */
static uint32_t gf2_apply(const uint32_t *mat, uint32_t vec) {
  uint32_t sum = 0;
  for (int i = 0; vec; i++, vec >>= 1) {
    if (vec & 1) {
      sum ^= mat[i];
    }
  }
  return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat) {
  for (int i = 0; i < 32; i++) {
    square[i] = gf2_apply(mat, mat[i]);
  }
}

/* CRC(A||B) = shift CRC(A) through len2 zero bytes, then xor CRC(B). The shift
 * operator for 2^k zero bits is built by repeated squaring of the one-bit
 * operator, and applied for each set bit of the byte count. */
uint32_t mtp_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2) {
  uint32_t even[32];
  uint32_t odd[32];
  if (len2 == 0) {
    return crc1;
  }
  odd[0] = CRC32_POLY_REFLECTED; /* operator for one zero bit */
  for (int i = 1; i < 32; i++) {
    odd[i] = 1u << (i - 1);
  }
  gf2_square(even, odd); /* two zero bits */
  gf2_square(odd, even); /* four zero bits */
  /* Alternate between the two buffers; the first squaring below gives the
   * one-byte operator. */
  for (;;) {
    gf2_square(even, odd);
    if (len2 & 1) {
      crc1 = gf2_apply(even, crc1);
    }
    len2 >>= 1;
    if (!len2) {
      break;
    }
    gf2_square(odd, even);
    if (len2 & 1) {
      crc1 = gf2_apply(odd, crc1);
    }
    len2 >>= 1;
    if (!len2) {
      break;
    }
  }
  return crc1 ^ crc2;
}
