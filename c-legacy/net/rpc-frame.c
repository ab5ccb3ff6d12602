/* The proxy <-> middle-end "full" RPC framing (docs/PROTOCOL.md 4.2):
 * LE32 length L | LE32 seq | payload | LE32 CRC of bytes 0..L-4, L = payload
 * + 12, plus the padding word 04 00 00 00 that receivers skip.
 *
 * The decoder buffers at most one frame and stops consuming input at the end
 * of each frame, so the caller can switch the CRC kind or sequence number
 * between frames. Its errors are sticky. */
#include "mtp_rpc_frame.h"

#include <stdlib.h>
#include <string.h>

#include "mtp_crc32.h"
#include "mtp_crc32c.h"

#define FRAME_MIN_LEN 16u
#define PADDING_WORD_LEN 4u
#define PAD_BLOCK 16u
#define MIN_BUFFER 64u

struct mtp_rpc_frame_decoder {
  uint8_t *buf;     /* bytes of the frame in progress, header included */
  size_t len;       /* bytes held in buf */
  size_t cap;       /* bytes allocated for buf */
  int delivered;    /* buf holds a frame already handed out */
  int32_t expected_seq;
  int32_t crc_kind;
  int32_t error;
};

static int valid_kind(int32_t kind) {
  return kind == MTP_RPC_FRAME_CRC32 || kind == MTP_RPC_FRAME_CRC32C;
}

static uint32_t checksum(int32_t kind, const uint8_t *data, size_t len) {
  return kind == MTP_RPC_FRAME_CRC32C ? mtp_compute_crc32c(data, len) : mtp_compute_crc32(data, len);
}

static void put_le32(uint8_t *out, uint32_t value) {
  for (int i = 0; i < 4; i++) {
    out[i] = (uint8_t)(value >> (8 * i));
  }
}

static uint32_t get_le32(const uint8_t *in) {
  return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

int32_t mtp_rpc_frame_encode(int32_t seq, const uint8_t *payload, size_t payload_len, int32_t crc_kind,
                             uint8_t *out, size_t out_cap, size_t *out_len) {
  if (!valid_kind(crc_kind) || !out_len || (!payload && payload_len)) {
    return MTP_RPC_FRAME_ERR_ARG;
  }
  if (payload_len == 0 || payload_len % 4) {
    return MTP_RPC_FRAME_ERR_BAD_LENGTH;
  }
  if (payload_len > (size_t)MTP_RPC_FRAME_MAX_LEN - MTP_RPC_FRAME_OVERHEAD) {
    return MTP_RPC_FRAME_ERR_TOO_BIG;
  }
  size_t len = payload_len + MTP_RPC_FRAME_OVERHEAD;
  if (!out || out_cap < len) {
    return MTP_RPC_FRAME_ERR_OUT_SMALL;
  }
  put_le32(out, (uint32_t)len);
  put_le32(out + 4, (uint32_t)seq);
  memcpy(out + 8, payload, payload_len);
  put_le32(out + len - 4, checksum(crc_kind, out, len - 4));
  *out_len = len;
  return 0;
}

int32_t mtp_rpc_frame_padding(uint64_t total, uint8_t *out, size_t out_cap, size_t *out_len) {
  if (!out_len) {
    return MTP_RPC_FRAME_ERR_ARG;
  }
  if (total % 4) {
    return MTP_RPC_FRAME_ERR_BAD_LENGTH;
  }
  size_t len = (size_t)((PAD_BLOCK - total % PAD_BLOCK) % PAD_BLOCK);
  if (len && (!out || out_cap < len)) {
    return MTP_RPC_FRAME_ERR_OUT_SMALL;
  }
  for (size_t i = 0; i < len; i += 4) {
    put_le32(out + i, PADDING_WORD_LEN);
  }
  *out_len = len;
  return 0;
}

mtp_rpc_frame_decoder *mtp_rpc_frame_decoder_new(int32_t first_seq, int32_t crc_kind) {
  if (!valid_kind(crc_kind)) {
    return NULL;
  }
  mtp_rpc_frame_decoder *dec = calloc(1, sizeof(*dec));
  if (dec) {
    dec->expected_seq = first_seq;
    dec->crc_kind = crc_kind;
  }
  return dec;
}

void mtp_rpc_frame_decoder_free(mtp_rpc_frame_decoder *dec) {
  if (dec) {
    free(dec->buf);
    free(dec);
  }
}

static int32_t decoder_fail(mtp_rpc_frame_decoder *dec, int32_t error) {
  if (!dec->error) {
    dec->error = error;
  }
  return dec->error;
}

/* Moves up to `want` bytes from *data into the buffer, growing it
 * geometrically but never past `limit` (the frame's length). */
static int32_t take(mtp_rpc_frame_decoder *dec, const uint8_t **data, size_t *left, size_t want,
                    size_t limit) {
  size_t n = want < *left ? want : *left;
  if (dec->len + n > dec->cap) {
    size_t cap = dec->cap ? dec->cap * 2 : MIN_BUFFER;
    if (cap < dec->len + n) {
      cap = dec->len + n;
    }
    if (cap > limit) {
      cap = limit;
    }
    uint8_t *grown = realloc(dec->buf, cap);
    if (!grown) {
      return decoder_fail(dec, MTP_RPC_FRAME_ERR_NO_MEMORY);
    }
    dec->buf = grown;
    dec->cap = cap;
  }
  if (n) {
    memcpy(dec->buf + dec->len, *data, n);
  }
  dec->len += n;
  *data += n;
  *left -= n;
  return 0;
}

/* The validated length of the frame in progress: 0 while its length field is
 * incomplete, a negative error for a length no frame may have. */
static int64_t frame_length(mtp_rpc_frame_decoder *dec, const uint8_t **data, size_t *left) {
  if (dec->len < 4) {
    int32_t err = take(dec, data, left, 4 - dec->len, MTP_RPC_FRAME_MAX_LEN);
    if (err) {
      return err;
    }
    if (dec->len < 4) {
      return 0;
    }
  }
  int32_t len = (int32_t)get_le32(dec->buf);
  if (len <= 0 || len % 4 || (len > (int32_t)PADDING_WORD_LEN && len < (int32_t)FRAME_MIN_LEN)) {
    return decoder_fail(dec, MTP_RPC_FRAME_ERR_BAD_LENGTH);
  }
  if (len > MTP_RPC_FRAME_MAX_LEN) {
    return decoder_fail(dec, MTP_RPC_FRAME_ERR_TOO_BIG);
  }
  return len;
}

/* CRC first, then the sequence number: a corrupted frame reports its CRC. */
static int32_t check_frame(mtp_rpc_frame_decoder *dec) {
  size_t body = dec->len - 4;
  if (get_le32(dec->buf + body) != checksum(dec->crc_kind, dec->buf, body)) {
    return decoder_fail(dec, MTP_RPC_FRAME_ERR_BAD_CRC);
  }
  if ((int32_t)get_le32(dec->buf + 4) != dec->expected_seq) {
    return decoder_fail(dec, MTP_RPC_FRAME_ERR_BAD_SEQ);
  }
  dec->expected_seq = (int32_t)((uint32_t)dec->expected_seq + 1u);
  return 0;
}

int32_t mtp_rpc_frame_decoder_push(mtp_rpc_frame_decoder *dec, const uint8_t *data, size_t len,
                                   size_t *consumed, mtp_rpc_frame *frame) {
  if (!dec || !consumed || !frame || (!data && len)) {
    return MTP_RPC_FRAME_ERR_ARG;
  }
  if (dec->error) {
    return dec->error;
  }
  if (dec->delivered) {
    dec->len = 0;
    dec->delivered = 0;
  }
  size_t left = len;
  for (;;) {
    int64_t frame_len = frame_length(dec, &data, &left);
    if (frame_len < 0) {
      return (int32_t)frame_len;
    }
    if (frame_len == 0) {
      break;
    }
    if (frame_len == PADDING_WORD_LEN) {
      dec->len = 0;
      continue;
    }
    int32_t err = take(dec, &data, &left, (size_t)frame_len - dec->len, (size_t)frame_len);
    if (err) {
      return err;
    }
    if (dec->len < (size_t)frame_len) {
      break;
    }
    err = check_frame(dec);
    if (err) {
      return err;
    }
    dec->delivered = 1;
    *consumed = len - left;
    frame->seq = (int32_t)((uint32_t)dec->expected_seq - 1u);
    frame->payload = dec->buf + 8;
    frame->payload_len = dec->len - MTP_RPC_FRAME_OVERHEAD;
    return 1;
  }
  *consumed = len;
  return 0;
}

int32_t mtp_rpc_frame_decoder_set_crc(mtp_rpc_frame_decoder *dec, int32_t crc_kind) {
  if (!dec || !valid_kind(crc_kind)) {
    return MTP_RPC_FRAME_ERR_ARG;
  }
  dec->crc_kind = crc_kind;
  return 0;
}

int32_t mtp_rpc_frame_decoder_set_seq(mtp_rpc_frame_decoder *dec, int32_t seq) {
  if (!dec) {
    return MTP_RPC_FRAME_ERR_ARG;
  }
  dec->expected_seq = seq;
  return 0;
}

int32_t mtp_rpc_frame_decoder_get_info(const mtp_rpc_frame_decoder *dec, mtp_rpc_frame_decoder_info *info) {
  if (!dec || !info) {
    return MTP_RPC_FRAME_ERR_ARG;
  }
  info->expected_seq = dec->expected_seq;
  info->crc_kind = dec->crc_kind;
  info->buffered = dec->delivered ? 0 : dec->len;
  info->error = dec->error;
  return 0;
}
