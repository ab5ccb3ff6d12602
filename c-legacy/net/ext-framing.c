/* Client transport framing inside obfuscation (docs/PROTOCOL.md §3): abridged,
 * intermediate and padded intermediate, quick acks, the forward filter. */
#include "mtp_ext_framing.h"

#include <stdlib.h>
#include <string.h>

enum {
  QUICK_ACK_RANDOM_LEN = MTP_EXT_FRAMING_QUICK_ACK_RANDOM_LEN,
};

/* The longest packet `sender` may send (the proxy's answers are longer). */
static size_t max_len(int32_t sender) {
  return sender == MTP_EXT_FRAMING_FROM_PROXY ? (size_t)MTP_EXT_FRAMING_MAX_ANSWER_LEN
                                              : (size_t)MTP_EXT_FRAMING_MAX_PACKET_LEN;
}

#define QUICK_ACK_FLAG 0x80000000u
#define RPC_PING 0x5730a2dfu
#define RPC_PONG 0x8430eaa7u

struct mtp_ext_framing_decoder {
  int32_t mode;
  int32_t sender;
  uint8_t *buf;
  size_t cap;   /* allocated */
  size_t len;   /* filled */
  size_t start; /* first unread byte */
  int32_t error;
};

static uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static int valid_mode_and_sender(int32_t mode, int32_t sender) {
  return mode >= MTP_EXT_FRAMING_ABRIDGED && mode <= MTP_EXT_FRAMING_PADDED &&
         (sender == MTP_EXT_FRAMING_FROM_CLIENT || sender == MTP_EXT_FRAMING_FROM_PROXY);
}

int32_t mtp_ext_framing_mode_from_tag(uint32_t tag) {
  switch (tag) {
    case 0xefefefefu: return MTP_EXT_FRAMING_ABRIDGED;
    case 0xeeeeeeeeu: return MTP_EXT_FRAMING_INTERMEDIATE;
    case 0xddddddddu: return MTP_EXT_FRAMING_PADDED;
    default: return MTP_EXT_FRAMING_ERR_ARG;
  }
}

int32_t mtp_ext_framing_decoder_new(int32_t mode, int32_t sender, mtp_ext_framing_decoder **out) {
  if (!out || !valid_mode_and_sender(mode, sender)) return MTP_EXT_FRAMING_ERR_ARG;
  mtp_ext_framing_decoder *dec = calloc(1, sizeof *dec);
  if (!dec) abort(); /* no error code for memory; a half-made decoder is worse */
  dec->mode = mode;
  dec->sender = sender;
  *out = dec;
  return 0;
}

void mtp_ext_framing_decoder_free(mtp_ext_framing_decoder *dec) {
  if (!dec) return;
  free(dec->buf);
  free(dec);
}

int32_t mtp_ext_framing_decoder_feed(mtp_ext_framing_decoder *dec, const uint8_t *data, size_t len,
                                     size_t *consumed) {
  if (!dec || !consumed) return MTP_EXT_FRAMING_ERR_ARG;
  if (dec->error) return dec->error;
  if (!data) len = 0;
  if (dec->start > 0) {
    memmove(dec->buf, dec->buf + dec->start, dec->len - dec->start);
    dec->len -= dec->start;
    dec->start = 0;
  }
  /* At most one maximal frame of this sender. */
  size_t limit = MTP_EXT_FRAMING_MAX_HEADER_LEN + max_len(dec->sender);
  size_t take = len < limit - dec->len ? len : limit - dec->len;
  if (dec->len + take > dec->cap) {
    size_t cap = dec->cap ? dec->cap : 256;
    while (cap < dec->len + take) cap *= 2;
    if (cap > limit) cap = limit;
    uint8_t *grown = realloc(dec->buf, cap);
    if (!grown) abort();
    dec->buf = grown;
    dec->cap = cap;
  }
  if (take) memcpy(dec->buf + dec->len, data, take);
  dec->len += take;
  *consumed = take;
  return 0;
}

static int32_t checked_length(int32_t sender, size_t len) {
  if (len == 0) return MTP_EXT_FRAMING_ERR_ZERO_LENGTH;
  if (len > max_len(sender)) return MTP_EXT_FRAMING_ERR_TOO_LONG;
  return 0;
}

/* Frame header at b[0..n): returns 0 with *need_more, *is_ack (+ *confirm)
 * or the packet fields, or a framing error. */
struct header {
  int need_more, is_ack, quick_ack;
  uint32_t confirm;
  size_t header_len, wire_length;
};

static int32_t read_header(const mtp_ext_framing_decoder *dec, const uint8_t *b, size_t n,
                           struct header *h) {
  int from_proxy = dec->sender == MTP_EXT_FRAMING_FROM_PROXY;
  memset(h, 0, sizeof *h);
  if (dec->mode == MTP_EXT_FRAMING_ABRIDGED) {
    if (n < 1) return h->need_more = 1, 0;
    h->quick_ack = (b[0] & 0x80) != 0;
    if (h->quick_ack && from_proxy) {
      if (n < 4) return h->need_more = 1, 0;
      h->is_ack = 1;
      h->confirm = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
      return 0;
    }
    size_t quarters = b[0] & 0x7f;
    h->header_len = 1;
    if (quarters == 0x7f) {
      if (n < 4) return h->need_more = 1, 0;
      quarters = (size_t)b[1] | (size_t)b[2] << 8 | (size_t)b[3] << 16;
      if (quarters < 0x7f) return MTP_EXT_FRAMING_ERR_OVERLONG;
      h->header_len = 4;
    }
    h->wire_length = quarters * 4;
    return checked_length(dec->sender, h->wire_length);
  }
  if (n < 4) return h->need_more = 1, 0;
  uint32_t word = load_le32(b);
  h->quick_ack = (word & QUICK_ACK_FLAG) != 0;
  if (h->quick_ack && from_proxy) {
    h->is_ack = 1;
    h->confirm = word;
    return 0;
  }
  h->header_len = 4;
  h->wire_length = word & ~QUICK_ACK_FLAG;
  int32_t err = checked_length(dec->sender, h->wire_length);
  if (err) return err;
  if (dec->mode == MTP_EXT_FRAMING_INTERMEDIATE && h->wire_length % 4 != 0) {
    return MTP_EXT_FRAMING_ERR_UNALIGNED;
  }
  return 0;
}

static void consume(mtp_ext_framing_decoder *dec, size_t n) {
  dec->start += n;
  if (dec->start >= dec->len) dec->start = dec->len = 0;
}

int32_t mtp_ext_framing_decoder_next(mtp_ext_framing_decoder *dec, uint8_t *out, size_t cap,
                                     mtp_ext_framing_packet *info) {
  if (!dec || !info) return MTP_EXT_FRAMING_ERR_ARG;
  if (dec->error) return dec->error;
  if (!out) cap = 0;
  const uint8_t *pending = dec->buf + dec->start;
  size_t n = dec->len - dec->start;
  struct header h;
  int32_t err = read_header(dec, n ? pending : NULL, n, &h);
  if (err) return dec->error = err;
  mtp_ext_framing_packet result;
  memset(&result, 0, sizeof result);
  if (h.is_ack) {
    consume(dec, 4);
    result.ready = 1;
    result.quick_ack = 1;
    result.confirm = h.confirm;
  } else if (!h.need_more && n - h.header_len >= h.wire_length) {
    size_t length = dec->mode == MTP_EXT_FRAMING_PADDED ? h.wire_length & ~(size_t)3 : h.wire_length;
    if (cap < length) return MTP_EXT_FRAMING_ERR_OUT_SPACE;
    memcpy(out, pending + h.header_len, length);
    consume(dec, h.header_len + h.wire_length);
    result.ready = 1;
    result.quick_ack = h.quick_ack;
    result.length = length;
    result.wire_length = h.wire_length;
  }
  *info = result;
  return 0;
}

size_t mtp_ext_framing_decoder_buffered(const mtp_ext_framing_decoder *dec) {
  return dec ? dec->len - dec->start : 0;
}

int32_t mtp_ext_framing_decoder_error(const mtp_ext_framing_decoder *dec) {
  return dec ? dec->error : MTP_EXT_FRAMING_ERR_ARG;
}

int32_t mtp_ext_framing_encode(int32_t sender, int32_t mode, int32_t quick_ack,
                               const uint8_t *payload, size_t payload_len, const uint8_t *padding,
                               size_t padding_len, uint8_t *out, size_t cap, size_t *out_len) {
  if (!valid_mode_and_sender(mode, sender)) return MTP_EXT_FRAMING_ERR_ARG;
  if (!payload) payload_len = 0;
  if (!padding) padding_len = 0;
  if (!out) cap = 0;
  size_t max_padding = 0;
  if (mode == MTP_EXT_FRAMING_PADDED) {
    max_padding = sender == MTP_EXT_FRAMING_FROM_CLIENT ? MTP_EXT_FRAMING_MAX_CLIENT_PADDING
                                                        : MTP_EXT_FRAMING_MAX_PROXY_PADDING;
  }
  if (padding_len > max_padding || (quick_ack && sender == MTP_EXT_FRAMING_FROM_PROXY)) {
    return MTP_EXT_FRAMING_ERR_ARG;
  }
  if (!out_len) return MTP_EXT_FRAMING_ERR_ARG;
  /* checked before adding: payload_len may be anything */
  if (payload_len > max_len(sender)) return MTP_EXT_FRAMING_ERR_TOO_LONG;
  size_t wire_length = payload_len + padding_len;
  int32_t err = checked_length(sender, wire_length);
  if (err) return err;
  if (mode != MTP_EXT_FRAMING_PADDED && wire_length % 4 != 0) return MTP_EXT_FRAMING_ERR_UNALIGNED;
  uint8_t header[MTP_EXT_FRAMING_MAX_HEADER_LEN];
  size_t header_len = 4;
  uint8_t ack_bit = quick_ack ? 0x80 : 0;
  if (mode != MTP_EXT_FRAMING_ABRIDGED) {
    store_le32(header, (uint32_t)wire_length | (quick_ack ? QUICK_ACK_FLAG : 0));
  } else if (wire_length / 4 < 0x7f) {
    header[0] = (uint8_t)(wire_length / 4) | ack_bit;
    header_len = 1;
  } else {
    store_le32(header, (uint32_t)(wire_length / 4) << 8 | 0x7f | ack_bit);
  }
  size_t total = header_len + wire_length;
  if (cap < total) return MTP_EXT_FRAMING_ERR_OUT_SPACE;
  memcpy(out, header, header_len);
  if (payload_len) memcpy(out + header_len, payload, payload_len);
  if (padding_len) memcpy(out + header_len + payload_len, padding, padding_len);
  *out_len = total;
  return 0;
}

/* One framed packet of the two-packet quick ack: content minus its last 4
 * bytes unless bit 0 of choice, plus (choice >> 1) & 3 pad bytes. */
static size_t padded_part(uint8_t *out, const uint8_t *content, size_t content_len, uint8_t choice,
                          const uint8_t *pad) {
  if (!(choice & 1)) content_len -= 4;
  size_t pad_len = (choice >> 1) & 3;
  store_le32(out, (uint32_t)(content_len + pad_len));
  memcpy(out + 4, content, content_len);
  memcpy(out + 4 + content_len, pad, pad_len);
  return 4 + content_len + pad_len;
}

int32_t mtp_ext_framing_quick_ack(int32_t mode, uint32_t confirm, const uint8_t *random,
                                  size_t random_len, uint8_t *out, size_t cap, size_t *out_len) {
  if (!valid_mode_and_sender(mode, MTP_EXT_FRAMING_FROM_PROXY)) return MTP_EXT_FRAMING_ERR_ARG;
  if (!random) random_len = 0;
  if (!out) cap = 0;
  uint8_t answer[MTP_EXT_FRAMING_MAX_QUICK_ACK_LEN];
  size_t len = 4;
  if (mode == MTP_EXT_FRAMING_ABRIDGED) {
    for (int i = 0; i < 4; i++) answer[i] = (uint8_t)(confirm >> (24 - 8 * i));
  } else if (mode == MTP_EXT_FRAMING_INTERMEDIATE) {
    store_le32(answer, confirm);
  } else {
    if (random_len < QUICK_ACK_RANDOM_LEN) return MTP_EXT_FRAMING_ERR_ARG;
    if (!(random[0] & 1)) {
      store_le32(answer, confirm);
    } else {
      uint8_t first[12], second[8];
      memset(first, 0xff, 4);
      store_le32(first + 4, confirm);
      memcpy(first + 8, random + 3, 4);
      memset(second, 0, 4);
      memcpy(second + 4, random + 10, 4);
      len = padded_part(answer, first, sizeof first, random[1], random + 7);
      len += padded_part(answer + len, second, sizeof second, random[2], random + 14);
    }
  }
  if (!out_len) return MTP_EXT_FRAMING_ERR_ARG;
  if (cap < len) return MTP_EXT_FRAMING_ERR_OUT_SPACE;
  memcpy(out, answer, len);
  *out_len = len;
  return 0;
}

static int32_t verdict_drop(mtp_ext_framing_verdict *out, int32_t reason) {
  out->action = MTP_EXT_FRAMING_DROP;
  out->reason = reason;
  return 0;
}

int32_t mtp_ext_framing_classify(const uint8_t *packet, size_t len, mtp_ext_framing_verdict *out) {
  static const uint32_t functions[] = {0x60469778u, 0xbe7e8ef1u, 0xd712e4beu, 0xf5045f1fu};
  if (!out) return MTP_EXT_FRAMING_ERR_ARG;
  if (!packet) len = 0;
  memset(out, 0, sizeof *out);
  if (len == 12 && load_le32(packet) == RPC_PING) {
    out->action = MTP_EXT_FRAMING_PING;
    store_le32(out->pong, RPC_PONG);
    memcpy(out->pong + 4, packet + 4, 8);
    return 0;
  }
  if (len < 28) return verdict_drop(out, MTP_EXT_FRAMING_DROP_SHORT);
  if (len % 4 != 0) return verdict_drop(out, MTP_EXT_FRAMING_DROP_UNALIGNED);
  static const uint8_t zero_id[8];
  if (memcmp(packet, zero_id, 8) != 0) {
    if (len < 56) return verdict_drop(out, MTP_EXT_FRAMING_DROP_ENCRYPTED_SHORT);
    return 0;
  }
  int64_t message_length = (int32_t)load_le32(packet + 16);
  if (message_length < 20 || message_length > (int64_t)len - 20) {
    return verdict_drop(out, MTP_EXT_FRAMING_DROP_BAD_MESSAGE_LENGTH);
  }
  uint32_t function = load_le32(packet + 20);
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    if (function == functions[i]) {
      out->unencrypted = 1;
      return 0;
    }
  }
  return verdict_drop(out, MTP_EXT_FRAMING_DROP_BAD_FUNCTION);
}
