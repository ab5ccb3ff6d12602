/* The TL messages between the proxy and a middle-end: RPC_PROXY_REQ (with
 * its ad-tag extras), RPC_PROXY_ANS, RPC_SIMPLE_ACK, RPC_CLOSE_EXT and
 * RPC_CLOSE_CONN, both directions, as whole frame payloads. Pointers are
 * checked first, then the op code, then lengths; outputs are written only on
 * success. Fields go through the tl-parse contract. */
#include "mtp_rpc_proxy_msg.h"

#include "mtp_tl_parse.h"

#include <string.h>

#define OP_PROXY_REQ 0x36cef1eeu
#define OP_PROXY_ANS 0x4403da0du
#define OP_SIMPLE_ACK 0x3bac409bu
#define OP_CLOSE_EXT 0x5eb634a2u
#define OP_CLOSE_CONN 0x1fcf425du
#define OP_PING 0x5730a2dfu
#define OP_PONG 0x8430eaa7u
#define TL_PROXY_TAG 0xdb1e26aeu

#define FLAG_UNENCRYPTED 0x00000002u
#define FLAG_HTTP_EXTRAS 0x00000004u
#define FLAG_AD_TAG 0x00000008u
#define FLAG_TCP_LISTENER 0x00001000u
#define FLAG_OBFUSCATED2 0x00020000u
#define FLAG_EARLIER_DROPPED 0x10000000u
#define FLAG_INTERMEDIATE 0x20000000u
#define FLAG_ABRIDGED 0x40000000u
#define FLAG_QUICK_ACK 0x80000000u

#define PROXY_REQ_HEADER_LEN 56
#define AD_TAG_LEN 16
#define AD_TAG_EXTRAS_LEN 24
#define SLOT_BITS 22
/* The largest reuse counter that keeps an id positive: 2^41 - 1. */
#define MAX_COUNTER (UINT64_MAX >> (SLOT_BITS + 1))

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) {
    p[i] = (uint8_t)(v >> (8 * i));
  }
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) {
    p[i] = (uint8_t)(v >> (8 * i));
  }
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* MTP_RPC_MSG_ERR_SHORT below 4 bytes, else 0 with the op code in *op. */
static int32_t read_op(const uint8_t *data, size_t len, uint32_t *op) {
  if (len < 4) {
    return MTP_RPC_MSG_ERR_SHORT;
  }
  *op = get_u32(data);
  return 0;
}

/* Checks the op code, then the length rule. */
static int32_t check_fixed(const uint8_t *data, size_t len, uint32_t want_op, int length_ok) {
  uint32_t op;
  int32_t err = read_op(data, len, &op);
  if (err) {
    return err;
  }
  if (op != want_op) {
    return MTP_RPC_MSG_ERR_WRONG_OP;
  }
  return length_ok ? 0 : MTP_RPC_MSG_ERR_LENGTH;
}

int32_t mtp_rpc_msg_proxy_req_flags(int32_t transport, int32_t quick_ack, int32_t unencrypted,
                                    int32_t has_ad_tag, int32_t earlier_dropped, uint32_t *out) {
  if (!out) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  uint32_t flags = FLAG_TCP_LISTENER | FLAG_OBFUSCATED2;
  if (transport == MTP_RPC_MSG_TRANSPORT_ABRIDGED) {
    flags |= FLAG_ABRIDGED;
  } else if (transport == MTP_RPC_MSG_TRANSPORT_INTERMEDIATE ||
             transport == MTP_RPC_MSG_TRANSPORT_PADDED) {
    flags |= FLAG_INTERMEDIATE;
  } else {
    return MTP_RPC_MSG_ERR_ARG;
  }
  flags |= quick_ack ? FLAG_QUICK_ACK : 0;
  flags |= unencrypted ? FLAG_UNENCRYPTED : 0;
  flags |= has_ad_tag ? FLAG_AD_TAG : 0;
  flags |= earlier_dropped ? FLAG_EARLIER_DROPPED : 0;
  *out = flags;
  return 0;
}

int32_t mtp_rpc_msg_ipv4_mapped(uint32_t ipv4, uint8_t *out) {
  if (!out) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  memset(out, 0, 10);
  out[10] = 0xff;
  out[11] = 0xff;
  for (int i = 0; i < 4; i++) {
    out[12 + i] = (uint8_t)(ipv4 >> (24 - 8 * i));
  }
  return 0;
}

int32_t mtp_rpc_msg_ext_conn_id_next(int64_t previous, uint32_t slot, int64_t *out) {
  if (!out || slot >> SLOT_BITS) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  uint64_t counter = ((uint64_t)previous >> SLOT_BITS) & MAX_COUNTER;
  counter = counter >= MAX_COUNTER ? 1 : counter + 1;
  *out = (int64_t)(counter << SLOT_BITS | slot);
  return 0;
}

int32_t mtp_rpc_msg_kind(const uint8_t *data, size_t len) {
  if (!data && len > 0) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  uint32_t op;
  int32_t err = read_op(data, len, &op);
  if (err) {
    return err;
  }
  switch (op) {
    case OP_PROXY_REQ:
      return MTP_RPC_MSG_KIND_PROXY_REQ;
    case OP_PROXY_ANS:
      return MTP_RPC_MSG_KIND_PROXY_ANS;
    case OP_SIMPLE_ACK:
      return MTP_RPC_MSG_KIND_SIMPLE_ACK;
    case OP_CLOSE_EXT:
      return MTP_RPC_MSG_KIND_CLOSE_EXT;
    case OP_CLOSE_CONN:
      return MTP_RPC_MSG_KIND_CLOSE_CONN;
    case OP_PING:
      return MTP_RPC_MSG_KIND_PING;
    case OP_PONG:
      return MTP_RPC_MSG_KIND_PONG;
    default:
      return MTP_RPC_MSG_KIND_OTHER;
  }
}

int32_t mtp_rpc_msg_proxy_req_encode(const mtp_rpc_msg_proxy_req *req, const uint8_t *packet,
                                     size_t packet_len, uint8_t *out, size_t cap,
                                     size_t *written) {
  if (!req || (!packet && packet_len > 0) || (!out && cap > 0) || !written) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  if (req->flags & FLAG_HTTP_EXTRAS) {
    return MTP_RPC_MSG_ERR_UNSUPPORTED;
  }
  int with_tag = (req->flags & FLAG_AD_TAG) != 0;
  size_t header = with_tag ? MTP_RPC_MSG_PROXY_REQ_MAX_HEADER_LEN : PROXY_REQ_HEADER_LEN;
  if (cap < header || packet_len > cap - header) {
    return MTP_RPC_MSG_ERR_OVERFLOW;
  }
  size_t total = header + packet_len;
  mtp_tl_out w;
  mtp_tl_out_init(&w, out, total);
  mtp_tl_store_int(&w, (int32_t)OP_PROXY_REQ);
  mtp_tl_store_int(&w, (int32_t)req->flags);
  mtp_tl_store_long(&w, req->ext_conn_id);
  mtp_tl_store_raw(&w, req->client_ip, sizeof req->client_ip);
  mtp_tl_store_int(&w, req->client_port);
  mtp_tl_store_raw(&w, req->proxy_ip, sizeof req->proxy_ip);
  mtp_tl_store_int(&w, req->proxy_port);
  if (with_tag) {
    mtp_tl_store_int(&w, AD_TAG_EXTRAS_LEN);
    mtp_tl_store_int(&w, (int32_t)TL_PROXY_TAG);
    mtp_tl_store_string(&w, req->ad_tag, AD_TAG_LEN);
  }
  /* The errors are sticky: checking once at the end covers every store. */
  if (mtp_tl_store_raw(&w, packet, packet_len) != 0) {
    return MTP_RPC_MSG_ERR_OVERFLOW;
  }
  *written = total;
  return 0;
}

/* The extras of a request with only the ad-tag flag: exactly one
 * TL_PROXY_TAG item with a 16-byte string. */
static int32_t read_ad_tag(const uint8_t *extras, size_t len, uint8_t tag[AD_TAG_LEN]) {
  mtp_tl_in r;
  mtp_tl_in_init(&r, extras, len);
  int32_t item = 0;
  size_t offset = 0, tag_len = 0;
  mtp_tl_fetch_int(&r, &item);
  if ((uint32_t)item != TL_PROXY_TAG || mtp_tl_fetch_string(&r, &offset, &tag_len) != 0 ||
      tag_len != AD_TAG_LEN || mtp_tl_fetch_end(&r) != 0) {
    return MTP_RPC_MSG_ERR_EXTRAS;
  }
  memcpy(tag, extras + offset, AD_TAG_LEN);
  return 0;
}

int32_t mtp_rpc_msg_proxy_req_decode(const uint8_t *data, size_t len, mtp_rpc_msg_proxy_req *out,
                                     size_t *packet_offset) {
  if ((!data && len > 0) || !out || !packet_offset) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  int32_t err = check_fixed(data, len, OP_PROXY_REQ, 1);
  if (err) {
    return err;
  }
  mtp_rpc_msg_proxy_req req;
  memset(&req, 0, sizeof req);
  int32_t flags = 0;
  mtp_tl_in r;
  mtp_tl_in_init(&r, data, len);
  mtp_tl_skip(&r, 4);
  mtp_tl_fetch_int(&r, &flags);
  mtp_tl_fetch_long(&r, &req.ext_conn_id);
  mtp_tl_fetch_raw(&r, req.client_ip, sizeof req.client_ip);
  mtp_tl_fetch_int(&r, &req.client_port);
  mtp_tl_fetch_raw(&r, req.proxy_ip, sizeof req.proxy_ip);
  if (mtp_tl_fetch_int(&r, &req.proxy_port) != 0) {
    return MTP_RPC_MSG_ERR_SHORT;
  }
  req.flags = (uint32_t)flags;
  size_t packet_start = r.pos;
  if (req.flags & (FLAG_HTTP_EXTRAS | FLAG_AD_TAG)) {
    if (req.flags & FLAG_HTTP_EXTRAS) {
      return MTP_RPC_MSG_ERR_UNSUPPORTED;
    }
    int32_t extra_size = 0;
    if (mtp_tl_fetch_int(&r, &extra_size) != 0) {
      return MTP_RPC_MSG_ERR_SHORT;
    }
    size_t start = r.pos;
    if (extra_size < 0 || (size_t)extra_size > len - start) {
      return MTP_RPC_MSG_ERR_EXTRAS;
    }
    err = read_ad_tag(data + start, (size_t)extra_size, req.ad_tag);
    if (err) {
      return err;
    }
    packet_start = start + (size_t)extra_size;
  }
  *out = req;
  *packet_offset = packet_start;
  return 0;
}

int32_t mtp_rpc_msg_proxy_ans_encode(int32_t flags, int64_t ext_conn_id, const uint8_t *data,
                                     size_t data_len, uint8_t *out, size_t cap, size_t *written) {
  if ((!data && data_len > 0) || (!out && cap > 0) || !written) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  if (data_len % 4 != 0) {
    return MTP_RPC_MSG_ERR_LENGTH;
  }
  size_t header = MTP_RPC_MSG_PROXY_ANS_HEADER_LEN;
  if (cap < header || data_len > cap - header) {
    return MTP_RPC_MSG_ERR_OVERFLOW;
  }
  put_u32(out, OP_PROXY_ANS);
  put_u32(out + 4, (uint32_t)flags);
  put_u64(out + 8, (uint64_t)ext_conn_id);
  if (data_len > 0) {
    memcpy(out + header, data, data_len);
  }
  *written = header + data_len;
  return 0;
}

int32_t mtp_rpc_msg_proxy_ans_decode(const uint8_t *data, size_t len, mtp_rpc_msg_proxy_ans *out) {
  if ((!data && len > 0) || !out) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  size_t header = MTP_RPC_MSG_PROXY_ANS_HEADER_LEN;
  int32_t err = check_fixed(data, len, OP_PROXY_ANS, len >= header && len % 4 == 0);
  if (err) {
    return err;
  }
  mtp_tl_in r;
  mtp_tl_in_init(&r, data + 4, len - 4);
  mtp_tl_fetch_int(&r, &out->flags);
  mtp_tl_fetch_long(&r, &out->ext_conn_id);
  out->data_offset = header;
  out->data_len = len - header;
  return 0;
}

int32_t mtp_rpc_msg_simple_ack_encode(int64_t ext_conn_id, uint32_t confirm, uint8_t *out) {
  if (!out) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  put_u32(out, OP_SIMPLE_ACK);
  put_u64(out + 4, (uint64_t)ext_conn_id);
  put_u32(out + 12, confirm);
  return 0;
}

int32_t mtp_rpc_msg_simple_ack_decode(const uint8_t *data, size_t len,
                                      mtp_rpc_msg_simple_ack *out) {
  if ((!data && len > 0) || !out) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  int32_t err = check_fixed(data, len, OP_SIMPLE_ACK, len == MTP_RPC_MSG_SIMPLE_ACK_LEN);
  if (err) {
    return err;
  }
  int32_t confirm = 0;
  mtp_tl_in r;
  mtp_tl_in_init(&r, data + 4, len - 4);
  mtp_tl_fetch_long(&r, &out->ext_conn_id);
  mtp_tl_fetch_int(&r, &confirm);
  out->confirm = (uint32_t)confirm;
  return 0;
}

static int32_t close_encode(uint32_t op, int64_t ext_conn_id, uint8_t *out) {
  if (!out) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  put_u32(out, op);
  put_u64(out + 4, (uint64_t)ext_conn_id);
  return 0;
}

static int32_t close_decode(uint32_t op, const uint8_t *data, size_t len, int64_t *ext_conn_id) {
  if ((!data && len > 0) || !ext_conn_id) {
    return MTP_RPC_MSG_ERR_ARG;
  }
  int32_t err = check_fixed(data, len, op, len == MTP_RPC_MSG_CLOSE_LEN);
  if (err) {
    return err;
  }
  mtp_tl_in r;
  mtp_tl_in_init(&r, data + 4, len - 4);
  mtp_tl_fetch_long(&r, ext_conn_id);
  return 0;
}

int32_t mtp_rpc_msg_close_ext_encode(int64_t ext_conn_id, uint8_t *out) {
  return close_encode(OP_CLOSE_EXT, ext_conn_id, out);
}

int32_t mtp_rpc_msg_close_ext_decode(const uint8_t *data, size_t len, int64_t *ext_conn_id) {
  return close_decode(OP_CLOSE_EXT, data, len, ext_conn_id);
}

int32_t mtp_rpc_msg_close_conn_encode(int64_t ext_conn_id, uint8_t *out) {
  return close_encode(OP_CLOSE_CONN, ext_conn_id, out);
}

int32_t mtp_rpc_msg_close_conn_decode(const uint8_t *data, size_t len, int64_t *ext_conn_id) {
  return close_decode(OP_CLOSE_CONN, data, len, ext_conn_id);
}
