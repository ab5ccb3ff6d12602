/* The nonce + handshake exchange between the proxy (client) and a
 * middle-end (server), docs/PROTOCOL.md 4.3-4.7, on frame payloads. Parsers check
 * in a fixed order (op, length, then content) so that every malformed
 * payload maps to one defined code; process ids stay in their 12-byte wire
 * form and are compared through the pid module. */
#include "mtp_rpc_handshake.h"

#include <string.h>

#include "mtp_pid.h"

#define OP_NONCE 0x7acb87aau
#define OP_HANDSHAKE 0x7682eef5u
#define OP_HANDSHAKE_ERROR 0x6a27bedau
#define OP_PING 0x5730a2dfu
#define OP_PONG 0x8430eaa7u
#define FLAGS_RESERVED 0xffu
#define MAX_CLOCK_SKEW 30
#define MAX_EXTRA_KEYS 8
#define PID_LEN 12
#define NONCE_BYTES 16

static void put_le32(uint8_t *out, uint32_t value) {
  for (int i = 0; i < 4; i++) {
    out[i] = (uint8_t)(value >> (8 * i));
  }
}

static uint32_t get_le32(const uint8_t *in) {
  return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

/* 0 if the payload starts with `op`; shorter than an op code is a length
 * error. */
static int32_t expect_op(const uint8_t *payload, size_t len, uint32_t op) {
  if (len < 4) {
    return MTP_RPC_HS_ERR_BAD_LENGTH;
  }
  return get_le32(payload) == op ? 0 : MTP_RPC_HS_ERR_BAD_OP;
}

int32_t mtp_rpc_nonce_build(uint32_t key_select, int32_t schema, int32_t timestamp, const uint8_t *nonce,
                            uint8_t *out, size_t *out_len) {
  if (!nonce || !out || !out_len) {
    return MTP_RPC_HS_ERR_ARG;
  }
  if (schema != MTP_RPC_SCHEMA_AES && schema != MTP_RPC_SCHEMA_AES_EXT) {
    return MTP_RPC_HS_ERR_BAD_SCHEMA;
  }
  put_le32(out, OP_NONCE);
  put_le32(out + 4, key_select);
  put_le32(out + 8, (uint32_t)schema);
  put_le32(out + 12, (uint32_t)timestamp);
  memcpy(out + 16, nonce, NONCE_BYTES);
  *out_len = MTP_RPC_NONCE_LEN;
  if (schema == MTP_RPC_SCHEMA_AES_EXT) {
    put_le32(out + MTP_RPC_NONCE_LEN, 0);
    *out_len = MTP_RPC_NONCE_EXT_LEN;
  }
  return 0;
}

/* The number of extra key ids of an AES_EXT nonce after checking the count
 * and the exact length, or a negative error. */
static int32_t extra_key_count(const uint8_t *payload, size_t len) {
  if (len < MTP_RPC_NONCE_EXT_LEN) {
    return MTP_RPC_HS_ERR_BAD_LENGTH;
  }
  int32_t count = (int32_t)get_le32(payload + MTP_RPC_NONCE_LEN);
  if (count < 0 || count > MAX_EXTRA_KEYS) {
    return MTP_RPC_HS_ERR_TOO_MANY_KEYS;
  }
  if (len != (size_t)MTP_RPC_NONCE_EXT_LEN + 4 * (size_t)count) {
    return MTP_RPC_HS_ERR_BAD_LENGTH;
  }
  return count;
}

int32_t mtp_rpc_nonce_parse(const uint8_t *payload, size_t len, uint32_t key_select, int64_t now,
                            mtp_rpc_nonce_info *out) {
  if (!out || (!payload && len)) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t err = expect_op(payload, len, OP_NONCE);
  if (err) {
    return err;
  }
  if (len < MTP_RPC_NONCE_LEN) {
    return MTP_RPC_HS_ERR_BAD_LENGTH;
  }
  int32_t schema = (int32_t)get_le32(payload + 8);
  int32_t extra = 0;
  if (schema == MTP_RPC_SCHEMA_AES) {
    if (len != MTP_RPC_NONCE_LEN) {
      return MTP_RPC_HS_ERR_BAD_LENGTH;
    }
  } else if (schema == MTP_RPC_SCHEMA_AES_EXT) {
    extra = extra_key_count(payload, len);
    if (extra < 0) {
      return extra;
    }
  } else {
    return MTP_RPC_HS_ERR_BAD_SCHEMA;
  }
  uint32_t peer_key = get_le32(payload + 4);
  int known = peer_key == key_select;
  for (int32_t i = 0; i < extra && !known; i++) {
    known = get_le32(payload + MTP_RPC_NONCE_EXT_LEN + 4 * i) == key_select;
  }
  if (!known) {
    return MTP_RPC_HS_ERR_KEY_MISMATCH;
  }
  int32_t ts = (int32_t)get_le32(payload + 12);
  /* ts +- 30 fits in int64_t whatever ts is; now - ts might not. */
  if (now > (int64_t)ts + MAX_CLOCK_SKEW || now < (int64_t)ts - MAX_CLOCK_SKEW) {
    return MTP_RPC_HS_ERR_CLOCK_SKEW;
  }
  out->key_select = peer_key;
  out->schema = schema;
  out->timestamp = ts;
  memcpy(out->nonce, payload + 16, NONCE_BYTES);
  return 0;
}

int32_t mtp_rpc_handshake_build(uint32_t flags, const uint8_t *sender_pid, const uint8_t *peer_pid,
                                uint8_t *out) {
  if (!sender_pid || !peer_pid || !out) {
    return MTP_RPC_HS_ERR_ARG;
  }
  put_le32(out, OP_HANDSHAKE);
  put_le32(out + 4, flags);
  memcpy(out + 8, sender_pid, PID_LEN);
  memcpy(out + 20, peer_pid, PID_LEN);
  return 0;
}

int32_t mtp_rpc_handshake_parse(const uint8_t *payload, size_t len, const uint8_t *own_pid,
                                int32_t crc32c_allowed, mtp_rpc_handshake_info *out) {
  if (!own_pid || !out || (!payload && len)) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t err = expect_op(payload, len, OP_HANDSHAKE);
  if (err) {
    return err;
  }
  if (len != MTP_RPC_HANDSHAKE_LEN) {
    return MTP_RPC_HS_ERR_BAD_LENGTH;
  }
  uint32_t flags = get_le32(payload + 4);
  if (flags & FLAGS_RESERVED) {
    return MTP_RPC_HS_ERR_BAD_FLAGS;
  }
  mtp_process_id own, peer;
  if (mtp_process_id_decode(own_pid, PID_LEN, &own) || mtp_process_id_decode(payload + 20, PID_LEN, &peer)) {
    return MTP_RPC_HS_ERR_BAD_LENGTH;
  }
  if (!mtp_process_id_matches(&own, &peer)) {
    return MTP_RPC_HS_ERR_PID_MISMATCH;
  }
  int32_t use_crc32c = (flags & (uint32_t)MTP_RPC_HS_FLAG_CRC32C) != 0;
  if (use_crc32c && !crc32c_allowed) {
    return MTP_RPC_HS_ERR_NO_CRC32C;
  }
  out->flags = flags;
  out->use_crc32c = use_crc32c;
  memcpy(out->sender_pid, payload + 8, PID_LEN);
  memcpy(out->peer_pid, payload + 20, PID_LEN);
  return 0;
}

int32_t mtp_rpc_handshake_error_build(int32_t code, const uint8_t *sender_pid, uint8_t *out) {
  if (!sender_pid || !out) {
    return MTP_RPC_HS_ERR_ARG;
  }
  put_le32(out, OP_HANDSHAKE_ERROR);
  put_le32(out + 4, (uint32_t)code);
  memcpy(out + 8, sender_pid, PID_LEN);
  return 0;
}

int32_t mtp_rpc_handshake_error_parse(const uint8_t *payload, size_t len, mtp_rpc_handshake_error_info *out) {
  if (!out || (!payload && len)) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t err = expect_op(payload, len, OP_HANDSHAKE_ERROR);
  if (err) {
    return err;
  }
  if (len != MTP_RPC_HANDSHAKE_ERROR_LEN) {
    return MTP_RPC_HS_ERR_BAD_LENGTH;
  }
  out->code = (int32_t)get_le32(payload + 4);
  memcpy(out->sender_pid, payload + 8, PID_LEN);
  return 0;
}

int32_t mtp_rpc_ping_build(int64_t ping_id, uint8_t *out) {
  if (!out) {
    return MTP_RPC_HS_ERR_ARG;
  }
  put_le32(out, OP_PING);
  put_le32(out + 4, (uint32_t)(uint64_t)ping_id);
  put_le32(out + 8, (uint32_t)((uint64_t)ping_id >> 32));
  return 0;
}

int32_t mtp_rpc_pong_for_ping(const uint8_t *payload, size_t len, uint8_t *out) {
  if (!out || (!payload && len)) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t err = expect_op(payload, len, OP_PING);
  if (err) {
    return err;
  }
  if (len != MTP_RPC_PING_LEN) {
    return MTP_RPC_HS_ERR_BAD_LENGTH;
  }
  put_le32(out, OP_PONG);
  memmove(out + 4, payload + 4, 8);
  return 0;
}

/* ---- state machine ---- */

/* Whether *hs holds valid codes, with an error exactly when failed. */
static int hs_valid(const mtp_rpc_hs *hs) {
  int role_ok = hs->role == MTP_RPC_HS_CLIENT || hs->role == MTP_RPC_HS_SERVER;
  int state_ok = hs->state >= MTP_RPC_HS_SEND_NONCE && hs->state <= MTP_RPC_HS_FAILED;
  return role_ok && state_ok && (hs->state == MTP_RPC_HS_FAILED) == (hs->error != 0);
}

/* Validates *hs and normalizes its flags to 0/1; then the sticky error after
 * a failure, MTP_RPC_HS_ERR_STATE unless in `state`, else 0. */
static int32_t hs_enter(mtp_rpc_hs *hs, int32_t state) {
  if (!hs || !hs_valid(hs)) {
    return MTP_RPC_HS_ERR_ARG;
  }
  hs->want_crc32c = hs->want_crc32c != 0;
  hs->use_crc32c = hs->use_crc32c != 0;
  if (hs->state == MTP_RPC_HS_FAILED) {
    return hs->error;
  }
  return hs->state == state ? 0 : MTP_RPC_HS_ERR_STATE;
}

static int32_t hs_fail(mtp_rpc_hs *hs, int32_t error) {
  hs->state = MTP_RPC_HS_FAILED;
  hs->error = error;
  return error;
}

static int is_client(const mtp_rpc_hs *hs) {
  return hs->role == MTP_RPC_HS_CLIENT;
}

int32_t mtp_rpc_hs_init(mtp_rpc_hs *hs, const mtp_rpc_hs_config *config, int64_t now, const uint8_t *nonce) {
  if (!hs || !config || !nonce) {
    return MTP_RPC_HS_ERR_ARG;
  }
  if (config->role != MTP_RPC_HS_CLIENT && config->role != MTP_RPC_HS_SERVER) {
    return MTP_RPC_HS_ERR_ARG;
  }
  memset(hs, 0, sizeof(*hs));
  hs->role = config->role;
  hs->state = is_client(hs) ? MTP_RPC_HS_SEND_NONCE : MTP_RPC_HS_WAIT_NONCE;
  hs->key_select = config->key_select;
  hs->want_crc32c = config->want_crc32c != 0;
  /* The wire field is 32 bits: keep the low bits of the clock. */
  hs->our_ts = (int32_t)(uint32_t)(uint64_t)now;
  memcpy(hs->our_nonce, nonce, NONCE_BYTES);
  memcpy(hs->our_pid, config->our_pid, PID_LEN);
  memcpy(hs->peer_pid, config->peer_pid, PID_LEN);
  return 0;
}

int32_t mtp_rpc_hs_send_nonce(mtp_rpc_hs *hs, uint8_t *out) {
  if (!out) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t err = hs_enter(hs, MTP_RPC_HS_SEND_NONCE);
  if (err) {
    return err;
  }
  size_t len = 0;
  mtp_rpc_nonce_build(hs->key_select, MTP_RPC_SCHEMA_AES, hs->our_ts, hs->our_nonce, out, &len);
  hs->state = is_client(hs) ? MTP_RPC_HS_WAIT_NONCE : MTP_RPC_HS_WAIT_HANDSHAKE;
  return 0;
}

int32_t mtp_rpc_hs_receive_nonce(mtp_rpc_hs *hs, const uint8_t *payload, size_t len, int64_t now) {
  if (!payload && len) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t err = hs_enter(hs, MTP_RPC_HS_WAIT_NONCE);
  if (err) {
    return err;
  }
  mtp_rpc_nonce_info info;
  err = mtp_rpc_nonce_parse(payload, len, hs->key_select, now, &info);
  if (err) {
    return hs_fail(hs, err);
  }
  hs->peer_ts = info.timestamp;
  memcpy(hs->peer_nonce, info.nonce, NONCE_BYTES);
  hs->state = is_client(hs) ? MTP_RPC_HS_SEND_HANDSHAKE : MTP_RPC_HS_SEND_NONCE;
  return 0;
}

int32_t mtp_rpc_hs_send_handshake(mtp_rpc_hs *hs, uint8_t *out) {
  if (!out) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t err = hs_enter(hs, MTP_RPC_HS_SEND_HANDSHAKE);
  if (err) {
    return err;
  }
  /* The client offers CRC-32C if it wants it; the server confirms what
   * receiving the client's offer negotiated. */
  int32_t crc32c = is_client(hs) ? hs->want_crc32c : hs->use_crc32c;
  mtp_rpc_handshake_build(crc32c ? (uint32_t)MTP_RPC_HS_FLAG_CRC32C : 0, hs->our_pid, hs->peer_pid, out);
  hs->state = is_client(hs) ? MTP_RPC_HS_WAIT_HANDSHAKE : MTP_RPC_HS_READY;
  return 0;
}

int32_t mtp_rpc_hs_receive_handshake(mtp_rpc_hs *hs, const uint8_t *payload, size_t len) {
  if (!payload && len) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t err = hs_enter(hs, MTP_RPC_HS_WAIT_HANDSHAKE);
  if (err) {
    return err;
  }
  /* A client refuses a switch it did not offer; a server just declines. */
  int32_t allowed = hs->want_crc32c || !is_client(hs);
  mtp_rpc_handshake_info info;
  err = mtp_rpc_handshake_parse(payload, len, hs->our_pid, allowed, &info);
  if (err) {
    return hs_fail(hs, err);
  }
  memcpy(hs->peer_sender_pid, info.sender_pid, PID_LEN);
  hs->use_crc32c = info.use_crc32c && hs->want_crc32c;
  hs->state = is_client(hs) ? MTP_RPC_HS_READY : MTP_RPC_HS_SEND_HANDSHAKE;
  return 0;
}

int32_t mtp_rpc_hs_error_reply(const mtp_rpc_hs *hs, uint8_t *out) {
  if (!hs || !hs_valid(hs) || !out) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t e = hs->error;
  int wire = e == MTP_RPC_HS_ERR_BAD_LENGTH || e == MTP_RPC_HS_ERR_PID_MISMATCH ||
             e == MTP_RPC_HS_ERR_BAD_FLAGS || e == MTP_RPC_HS_ERR_NO_CRC32C;
  if (hs->state != MTP_RPC_HS_FAILED || !wire) {
    return MTP_RPC_HS_ERR_STATE;
  }
  return mtp_rpc_handshake_error_build(e, hs->our_pid, out);
}

int32_t mtp_rpc_hs_key_inputs(const mtp_rpc_hs *hs, mtp_rpc_key_inputs *out) {
  if (!hs || !hs_valid(hs) || !out) {
    return MTP_RPC_HS_ERR_ARG;
  }
  int32_t s = hs->state;
  int known = is_client(hs) ? (s == MTP_RPC_HS_SEND_HANDSHAKE || s == MTP_RPC_HS_WAIT_HANDSHAKE || s == MTP_RPC_HS_READY)
                            : (s == MTP_RPC_HS_WAIT_HANDSHAKE || s == MTP_RPC_HS_SEND_HANDSHAKE || s == MTP_RPC_HS_READY);
  if (!known) {
    return MTP_RPC_HS_ERR_STATE;
  }
  memcpy(out->server_nonce, is_client(hs) ? hs->peer_nonce : hs->our_nonce, NONCE_BYTES);
  memcpy(out->client_nonce, is_client(hs) ? hs->our_nonce : hs->peer_nonce, NONCE_BYTES);
  out->client_ts = is_client(hs) ? hs->our_ts : hs->peer_ts;
  return 0;
}
