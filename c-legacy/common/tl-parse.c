/* TL reader and writer over a caller's buffer. Every call first returns a
 * sticky error if one is recorded, then checks its pointer arguments, then
 * its bounds; only a call that succeeds moves pos or writes an output. */
#include "mtp_tl_parse.h"

#include <string.h>

#define TL_LONG_STRING_MARK 254
#define TL_INVALID_STRING_MARK 255
#define TL_MAX_STRING_LEN 0xffffffu

static int32_t tl_in_fail(mtp_tl_in *in, int32_t error) {
  if (!in->error) {
    in->error = error;
  }
  return in->error;
}

static int32_t tl_out_fail(mtp_tl_out *out, int32_t error) {
  if (!out->error) {
    out->error = error;
  }
  return out->error;
}

/* The sticky error, else MTP_TL_ERR_ARG (recorded) when an argument is
 * missing or the buffer is null with a nonzero length, else 0. */
static int32_t tl_in_check(mtp_tl_in *in, int args_present) {
  if (in->error) {
    return in->error;
  }
  if (!args_present || (!in->data && in->len > 0)) {
    return tl_in_fail(in, MTP_TL_ERR_ARG);
  }
  return 0;
}

static int32_t tl_out_check(mtp_tl_out *out, int args_present) {
  if (out->error) {
    return out->error;
  }
  if (!args_present || (!out->data && out->cap > 0)) {
    return tl_out_fail(out, MTP_TL_ERR_ARG);
  }
  return 0;
}

/* Whether n bytes are readable at offset at, without overflowing. */
static int tl_in_has(const mtp_tl_in *in, size_t at, size_t n) {
  return at <= in->len && n <= in->len - at;
}

void mtp_tl_in_init(mtp_tl_in *in, const uint8_t *data, size_t len) {
  if (!in) {
    return;
  }
  in->data = data;
  in->len = len;
  in->pos = 0;
  in->error = 0;
}

int32_t mtp_tl_fetch_raw(mtp_tl_in *in, uint8_t *out, size_t n) {
  if (!in) {
    return MTP_TL_ERR_ARG;
  }
  int32_t err = tl_in_check(in, n == 0 || out != NULL);
  if (err) {
    return err;
  }
  if (!tl_in_has(in, in->pos, n)) {
    return tl_in_fail(in, MTP_TL_ERR_SHORT);
  }
  if (n > 0) {
    memcpy(out, in->data + in->pos, n);
  }
  in->pos += n;
  return 0;
}

int32_t mtp_tl_fetch_int(mtp_tl_in *in, int32_t *out) {
  uint8_t b[4];
  if (!in) {
    return MTP_TL_ERR_ARG;
  }
  int32_t err = tl_in_check(in, out != NULL);
  if (!err) {
    err = mtp_tl_fetch_raw(in, b, sizeof b);
  }
  if (err) {
    return err;
  }
  uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  *out = (int32_t)v;
  return 0;
}

int32_t mtp_tl_fetch_long(mtp_tl_in *in, int64_t *out) {
  uint8_t b[8];
  if (!in) {
    return MTP_TL_ERR_ARG;
  }
  int32_t err = tl_in_check(in, out != NULL);
  if (!err) {
    err = mtp_tl_fetch_raw(in, b, sizeof b);
  }
  if (err) {
    return err;
  }
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) {
    v = v << 8 | b[i];
  }
  *out = (int64_t)v;
  return 0;
}

int32_t mtp_tl_fetch_string(mtp_tl_in *in, size_t *offset_out, size_t *len_out) {
  if (!in) {
    return MTP_TL_ERR_ARG;
  }
  int32_t err = tl_in_check(in, offset_out != NULL && len_out != NULL);
  if (err) {
    return err;
  }
  size_t start = in->pos;
  if (!tl_in_has(in, start, 1)) {
    return tl_in_fail(in, MTP_TL_ERR_SHORT);
  }
  const uint8_t *p = in->data + start;
  size_t header;
  size_t len;
  if (p[0] == TL_INVALID_STRING_MARK) {
    return tl_in_fail(in, MTP_TL_ERR_BAD_STRING);
  } else if (p[0] == TL_LONG_STRING_MARK) {
    if (!tl_in_has(in, start, 4)) {
      return tl_in_fail(in, MTP_TL_ERR_SHORT);
    }
    header = 4;
    len = (size_t)p[1] | (size_t)p[2] << 8 | (size_t)p[3] << 16;
  } else {
    header = 1;
    len = p[0];
  }
  /* header + len is at most 4 + 0xffffff: no overflow. */
  size_t total = (header + len + 3) & ~(size_t)3;
  if (!tl_in_has(in, start, total)) {
    return tl_in_fail(in, MTP_TL_ERR_SHORT);
  }
  in->pos = start + total;
  *offset_out = start + header;
  *len_out = len;
  return 0;
}

int32_t mtp_tl_skip(mtp_tl_in *in, size_t n) {
  if (!in) {
    return MTP_TL_ERR_ARG;
  }
  int32_t err = tl_in_check(in, 1);
  if (err) {
    return err;
  }
  if (!tl_in_has(in, in->pos, n)) {
    return tl_in_fail(in, MTP_TL_ERR_SHORT);
  }
  in->pos += n;
  return 0;
}

size_t mtp_tl_remaining(const mtp_tl_in *in) {
  if (!in || !in->data || in->pos >= in->len) {
    return 0;
  }
  return in->len - in->pos;
}

int32_t mtp_tl_fetch_end(mtp_tl_in *in) {
  if (!in) {
    return MTP_TL_ERR_ARG;
  }
  int32_t err = tl_in_check(in, 1);
  if (err) {
    return err;
  }
  return mtp_tl_remaining(in) ? tl_in_fail(in, MTP_TL_ERR_TRAILING) : 0;
}

int32_t mtp_tl_out_init(mtp_tl_out *out, uint8_t *data, size_t cap) {
  if (!out) {
    return MTP_TL_ERR_ARG;
  }
  out->data = data;
  out->cap = cap;
  out->pos = 0;
  out->error = (!data && cap > 0) ? MTP_TL_ERR_ARG : 0;
  return out->error;
}

/* Claims the next n bytes of the writer: their offset in *at, or records
 * OVERFLOW (offsets rather than pointers: data may be NULL when cap is 0). */
static int32_t tl_out_reserve(mtp_tl_out *out, size_t n, size_t *at) {
  if (out->pos > out->cap || n > out->cap - out->pos) {
    return tl_out_fail(out, MTP_TL_ERR_OVERFLOW);
  }
  *at = out->pos;
  out->pos += n;
  return 0;
}

int32_t mtp_tl_store_raw(mtp_tl_out *out, const uint8_t *data, size_t len) {
  size_t at;
  if (!out) {
    return MTP_TL_ERR_ARG;
  }
  int32_t err = tl_out_check(out, len == 0 || data != NULL);
  if (!err) {
    err = tl_out_reserve(out, len, &at);
  }
  if (err) {
    return err;
  }
  if (len > 0) {
    memcpy(out->data + at, data, len);
  }
  return 0;
}

int32_t mtp_tl_store_int(mtp_tl_out *out, int32_t value) {
  uint8_t b[4];
  uint32_t v = (uint32_t)value;
  for (int i = 0; i < 4; i++) {
    b[i] = (uint8_t)(v >> (8 * i));
  }
  return mtp_tl_store_raw(out, b, sizeof b);
}

int32_t mtp_tl_store_long(mtp_tl_out *out, int64_t value) {
  uint8_t b[8];
  uint64_t v = (uint64_t)value;
  for (int i = 0; i < 8; i++) {
    b[i] = (uint8_t)(v >> (8 * i));
  }
  return mtp_tl_store_raw(out, b, sizeof b);
}

int32_t mtp_tl_store_string(mtp_tl_out *out, const uint8_t *data, size_t len) {
  if (!out) {
    return MTP_TL_ERR_ARG;
  }
  int32_t err = tl_out_check(out, len == 0 || data != NULL);
  if (err) {
    return err;
  }
  if (len > TL_MAX_STRING_LEN) {
    return tl_out_fail(out, MTP_TL_ERR_TOO_LONG);
  }
  size_t header = len < TL_LONG_STRING_MARK ? 1 : 4;
  size_t total = (header + len + 3) & ~(size_t)3;
  size_t at;
  err = tl_out_reserve(out, total, &at);
  if (err) {
    return err;
  }
  /* total >= 4 > 0, so data is not NULL here. */
  uint8_t *p = out->data + at;
  if (header == 1) {
    p[0] = (uint8_t)len;
  } else {
    p[0] = TL_LONG_STRING_MARK;
    p[1] = (uint8_t)len;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)(len >> 16);
  }
  if (len > 0) {
    memcpy(p + header, data, len);
  }
  memset(p + header + len, 0, total - header - len);
  return 0;
}
