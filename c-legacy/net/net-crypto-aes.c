/* Middle-end connection keys: the string s of docs/PROTOCOL.md 4.4 is laid out in
 * one stack buffer and hashed with the md5/sha1 module contracts. Also loads
 * the raw proxy-secret file (5.2). */
#include "mtp_net_crypto_aes.h"

#include "mtp_md5.h"
#include "mtp_sha1.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define SECRET_MIN_LEN 32
#define SECRET_MAX_LEN 256
/* fixed head + secret + server nonce + two IPv6 addresses + client nonce */
#define KEY_STRING_MAX (54 + SECRET_MAX_LEN + 16 + 32 + 16)

static uint8_t *put_bytes(uint8_t *at, const void *src, size_t len) {
  memcpy(at, src, len);
  return at + len;
}

static uint8_t *put_le32(uint8_t *at, uint32_t v) {
  for (int i = 0; i < 4; i++) {
    *at++ = (uint8_t)(v >> (8 * i));
  }
  return at;
}

static uint8_t *put_le16(uint8_t *at, uint16_t v) {
  *at++ = (uint8_t)v;
  *at++ = (uint8_t)(v >> 8);
  return at;
}

int32_t mtp_rpc_derive_keys(const mtp_rpc_key_params *p, const uint8_t *secret, size_t secret_len,
                            int32_t purpose, uint8_t *key_out, uint8_t *iv_out) {
  if (purpose != MTP_RPC_PURPOSE_CLIENT && purpose != MTP_RPC_PURPOSE_SERVER) {
    return MTP_RPC_KEY_ERR_ARG;
  }
  if (!p || !key_out || !iv_out || (!secret && secret_len > 0)) {
    return MTP_RPC_KEY_ERR_ARG;
  }
  if (secret_len < SECRET_MIN_LEN || secret_len > SECRET_MAX_LEN) {
    return MTP_RPC_KEY_ERR_SECRET_LEN;
  }
  /* IPv6 connections hash zero IPv4 fields plus both IPv6 addresses. */
  uint32_t server_ip = p->use_ipv6 ? 0 : p->server_ip;
  uint32_t client_ip = p->use_ipv6 ? 0 : p->client_ip;

  uint8_t s[KEY_STRING_MAX];
  uint8_t *at = s;
  at = put_bytes(at, p->nonce_server, 16);
  at = put_bytes(at, p->nonce_client, 16);
  at = put_le32(at, (uint32_t)p->client_timestamp);
  at = put_le32(at, server_ip);
  at = put_le16(at, p->client_port);
  at = put_bytes(at, purpose == MTP_RPC_PURPOSE_CLIENT ? "CLIENT" : "SERVER", 6);
  at = put_le32(at, client_ip);
  at = put_le16(at, p->server_port);
  at = put_bytes(at, secret, secret_len);
  at = put_bytes(at, p->nonce_server, 16);
  if (p->use_ipv6) {
    at = put_bytes(at, p->client_ipv6, 16);
    at = put_bytes(at, p->server_ipv6, 16);
  }
  at = put_bytes(at, p->nonce_client, 16);
  size_t len = (size_t)(at - s);

  uint8_t md5_from_1[16];
  uint8_t sha1_all[20];
  uint8_t md5_from_2[16];
  mtp_md5(s + 1, len - 1, md5_from_1);
  mtp_sha1(s, len, sha1_all);
  mtp_md5(s + 2, len - 2, md5_from_2);
  memcpy(key_out, md5_from_1, 12);
  memcpy(key_out + 12, sha1_all, 20);
  memcpy(iv_out, md5_from_2, 16);
  return 0;
}

int32_t mtp_load_proxy_secret(const char *path, uint8_t *out, size_t cap, size_t *out_len) {
  if (!path || !out_len || (!out && cap > 0)) {
    return MTP_SECRET_ERR_ARG;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return MTP_SECRET_ERR_OPEN;
  }
  /* One byte more than allowed tells "too long" from "exactly the maximum". */
  uint8_t buf[SECRET_MAX_LEN + 1];
  size_t filled = 0;
  while (filled < sizeof(buf)) {
    ssize_t n = read(fd, buf + filled, sizeof(buf) - filled);
    if (n == 0) {
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      close(fd);
      return MTP_SECRET_ERR_OPEN;
    }
    filled += (size_t)n;
  }
  close(fd);
  if (filled < SECRET_MIN_LEN) {
    return MTP_SECRET_ERR_TOO_SHORT;
  }
  if (filled > SECRET_MAX_LEN) {
    return MTP_SECRET_ERR_TOO_LONG;
  }
  if (cap < filled) {
    return MTP_SECRET_ERR_BUFFER;
  }
  memcpy(out, buf, filled);
  *out_len = filled;
  return 0;
}
