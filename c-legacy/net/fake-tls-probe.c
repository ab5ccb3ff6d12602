/* Fake TLS, the parts that make the proxy look like its fronting domain
 * (docs/PROTOCOL.md section 2.4): a real X25519 key share, the ClientHello
 * the domain probe sends, the parser of the domain's first flight, and the
 * profile the ServerHello builder follows. Sans-IO: the engine does the
 * connecting and reading; randomness and time are arguments.
 *
 * A Telegram client accepts one application-data record in the ServerHello
 * flight, so a domain whose encrypted flight spans several records is copied
 * as one record with the same number of bytes on the wire. */
#include "mtp_fake_tls.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PROBE_HEAD_LEN 114

static const uint8_t HRR_RANDOM[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
static const uint8_t PROBE_KEY_SHARE[8] = {0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20};
static const uint8_t PROBE_VERSIONS[6] = {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};
static const uint8_t PROBE_CCS[6] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};

int32_t mtp_tls_x25519_public_key(const uint8_t *private_key, uint8_t *public_key) {
  if (!private_key || !public_key) {
    return MTP_TLS_ERR_ARG;
  }
  EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, private_key, 32);
  size_t len = 32;
  int ok = key && EVP_PKEY_get_raw_public_key(key, public_key, &len) == 1 && len == 32;
  EVP_PKEY_free(key);
  return ok ? 0 : MTP_TLS_ERR_ARG;
}

/* ---- the probe ClientHello ---- */

typedef struct {
  uint8_t *p;
  size_t len;
} writer;

static void put(writer *w, const void *data, size_t n) {
  memcpy(w->p + w->len, data, n);
  w->len += n;
}

static void put_be16v(writer *w, size_t v) {
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  put(w, b, 2);
}

static uint8_t grease_of(const uint8_t *random, int i) {
  return (uint8_t)((random[96 + i] & 0xf0) | 0x0a);
}

/* Extensions of the probe hello (without padding) into `w`. */
static int32_t probe_extensions(writer *w, const uint8_t *domain, size_t n, const uint8_t *random) {
  uint8_t g0 = grease_of(random, 0), g1 = grease_of(random, 1);
  uint8_t g2 = grease_of(random, 2);
  uint8_t key_share[32];
  if (mtp_tls_x25519_public_key(random + 64, key_share) != 0) {
    return MTP_TLS_ERR_ARG;
  }
  const uint8_t grease_ext[4] = {g0, g0, 0x00, 0x00};
  put(w, grease_ext, 4);
  const uint8_t sni_type[2] = {0x00, 0x00};
  put(w, sni_type, 2);
  put_be16v(w, n + 5);
  put_be16v(w, n + 3);
  const uint8_t host_type = 0;
  put(w, &host_type, 1);
  put_be16v(w, n);
  put(w, domain, n);
  const uint8_t middle[] = {
      0x00, 0x17, 0x00, 0x00,                                           /* extended_master_secret */
      0xff, 0x01, 0x00, 0x01, 0x00,                                     /* renegotiation_info */
      0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, g1,   g1,   0x00, 0x1d, 0x00, /* supported_groups */
      0x17, 0x00, 0x18,                                                 /* ... P-256, P-384 */
      0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                               /* ec_point_formats */
      0x00, 0x23, 0x00, 0x00,                                           /* session_ticket */
      0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h',  '2',  0x08, 'h',  /* ALPN h2, */
      't',  't',  'p',  '/',  '1',  '.',  '1',                          /* http/1.1 */
      0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00,             /* status_request */
      0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04, 0x03, 0x08, 0x04, 0x04, /* signature_algorithms */
      0x01, 0x05, 0x03, 0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01,
      0x00, 0x12, 0x00, 0x00,                                           /* SCT */
      0x00, 0x33, 0x00, 0x2b, 0x00, 0x29, g1,   g1,   0x00, 0x01, 0x00, /* key_share: GREASE, */
      0x00, 0x1d, 0x00, 0x20,                                           /* x25519 */
  };
  put(w, middle, sizeof(middle));
  put(w, key_share, 32);
  const uint8_t tail[] = {
      0x00, 0x2d, 0x00, 0x02, 0x01, 0x01,                               /* psk_key_exchange_modes */
      0x00, 0x2b, 0x00, 0x07, 0x06, g2,   g2,   0x03, 0x04, 0x03, 0x03, /* supported_versions */
      0x00, 0x1b, 0x00, 0x03, 0x02, 0x00, 0x02,                         /* compress_certificate */
      (uint8_t)(g0 ^ 0x10), (uint8_t)(g0 ^ 0x10), 0x00, 0x01, 0x00,     /* GREASE */
  };
  put(w, tail, sizeof(tail));
  return 0;
}

int32_t mtp_tls_build_probe_hello(const uint8_t *domain, size_t domain_len, const uint8_t *random,
                                  uint8_t *out, size_t out_cap, size_t *written) {
  if (!random || (!domain && domain_len > 0) || (!out && out_cap > 0)) {
    return MTP_TLS_ERR_ARG;
  }
  if (domain_len == 0 || domain_len > 255 || memchr(domain, 0, domain_len)) {
    return MTP_TLS_ERR_ARG;
  }
  if (out_cap < MTP_TLS_PROBE_HELLO_LEN) {
    return MTP_TLS_ERR_SPACE;
  }
  uint8_t ext_buf[MTP_TLS_PROBE_HELLO_LEN + 512];
  writer ext = {ext_buf, 0};
  if (probe_extensions(&ext, domain, domain_len, random) != 0) {
    return MTP_TLS_ERR_ARG;
  }
  if (PROBE_HEAD_LEN + ext.len + 4 > MTP_TLS_PROBE_HELLO_LEN) {
    return MTP_TLS_ERR_ARG;
  }
  size_t padding = MTP_TLS_PROBE_HELLO_LEN - (PROBE_HEAD_LEN + ext.len + 4);
  const uint8_t padding_type[2] = {0x00, 0x15};
  put(&ext, padding_type, 2);
  put_be16v(&ext, padding);
  memset(ext.p + ext.len, 0, padding);
  ext.len += padding;

  writer w = {out, 0};
  const uint8_t record_type[3] = {0x16, 0x03, 0x01};
  put(&w, record_type, 3);
  put_be16v(&w, MTP_TLS_PROBE_HELLO_LEN - 5);
  const uint8_t hello_type[2] = {0x01, 0x00};
  put(&w, hello_type, 2);
  put_be16v(&w, MTP_TLS_PROBE_HELLO_LEN - 9);
  const uint8_t version[2] = {0x03, 0x03};
  put(&w, version, 2);
  put(&w, random, 32);
  const uint8_t session_len = 0x20;
  put(&w, &session_len, 1);
  put(&w, random + 32, 32);
  uint8_t g0 = grease_of(random, 0);
  const uint8_t suites[] = {0x00, 0x20, g0,   g0,   0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b,
                            0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13,
                            0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35};
  put(&w, suites, sizeof(suites));
  const uint8_t compression[2] = {0x01, 0x00};
  put(&w, compression, 2);
  put_be16v(&w, ext.len);
  put(&w, ext.p, ext.len);
  if (written) {
    *written = w.len;
  }
  return 0;
}

/* ---- the domain's reply ---- */

static size_t be16(const uint8_t *p) {
  return ((size_t)p[0] << 8) | p[1];
}

/* The ServerHello record at the start of `data`: 0 and its length, the
 * extension order and the suite, or an error code. */
static int32_t server_hello_record(const uint8_t *data, size_t len, const uint8_t *session_id,
                                   size_t *record_len, int32_t *swapped, uint8_t *suite) {
  if (len < 5) {
    return MTP_TLS_ERR_NEED_MORE;
  }
  if (data[0] != 0x16 || data[1] != 0x03 || data[2] != 0x03) {
    return MTP_TLS_ERR_BAD_SERVER_HELLO;
  }
  size_t total = 5 + be16(data + 3);
  if (len < total) {
    return MTP_TLS_ERR_NEED_MORE;
  }
  const uint8_t *body = data + 5;
  size_t body_len = total - 5;
  if (body_len < 76 || body[0] != 0x02 || body[1] != 0 || be16(body + 2) != body_len - 4 ||
      body[4] != 0x03 || body[5] != 0x03 || !memcmp(body + 6, HRR_RANDOM, 32) || body[38] != 0x20 ||
      memcmp(body + 39, session_id, 32) != 0 || body[71] != 0x13 || body[73] != 0x00) {
    return MTP_TLS_ERR_BAD_SERVER_HELLO;
  }
  const uint8_t *ext = body + 76;
  if (be16(body + 74) != body_len - 76 || body_len - 76 != 46) {
    return MTP_TLS_ERR_BAD_SERVER_HELLO;
  }
  if (!memcmp(ext, PROBE_KEY_SHARE, 8) && !memcmp(ext + 40, PROBE_VERSIONS, 6)) {
    *swapped = 0;
  } else if (!memcmp(ext, PROBE_VERSIONS, 6) && !memcmp(ext + 6, PROBE_KEY_SHARE, 8)) {
    *swapped = 1;
  } else {
    return MTP_TLS_ERR_BAD_SERVER_HELLO;
  }
  *suite = body[72];
  *record_len = total;
  return 0;
}

int32_t mtp_tls_parse_probe_reply(const uint8_t *data, size_t len, const uint8_t *session_id,
                                  mtp_tls_probe_reply *out) {
  if (!session_id || !out || (!data && len > 0)) {
    return MTP_TLS_ERR_ARG;
  }
  mtp_tls_probe_reply reply;
  memset(&reply, 0, sizeof(reply));
  size_t at;
  int32_t rc = server_hello_record(data, len, session_id, &at, &reply.extensions_swapped,
                                   &reply.cipher_suite);
  if (rc != 0) {
    return rc;
  }
  if (len >= at + sizeof(PROBE_CCS)) {
    if (!memcmp(data + at, PROBE_CCS, sizeof(PROBE_CCS))) {
      at += sizeof(PROBE_CCS);
    } else if (data[at] == 0x14) {
      return MTP_TLS_ERR_BAD_SERVER_HELLO;
    }
  } else if (len > at && data[at] != 0x14 && data[at] != 0x17) {
    return MTP_TLS_ERR_BAD_SERVER_HELLO;
  } else {
    return MTP_TLS_ERR_NEED_MORE;
  }
  size_t wire = 0;
  while (reply.record_count < MTP_TLS_PROBE_MAX_RECORDS) {
    if (len < at + 5) {
      if (len > at && data[at] != 0x17) {
        return MTP_TLS_ERR_BAD_SERVER_HELLO;
      }
      break;
    }
    if (data[at] != 0x17 || data[at + 1] != 0x03 || data[at + 2] != 0x03) {
      return MTP_TLS_ERR_BAD_SERVER_HELLO;
    }
    size_t n = be16(data + at + 3);
    if (n == 0 || len - at - 5 < n) {
      break;
    }
    reply.record_lens[reply.record_count] = n;
    wire += reply.record_count == 0 ? n : 5 + n;
    reply.record_count++;
    at += 5 + n;
  }
  if (reply.record_count == 0) {
    return MTP_TLS_ERR_NEED_MORE;
  }
  reply.flight_len = wire < MTP_TLS_MAX_FAKE_APP_DATA ? wire : MTP_TLS_MAX_FAKE_APP_DATA;
  *out = reply;
  return 0;
}

/* ---- the profile ---- */

static size_t clamp_len(size_t n, size_t lo, size_t hi) {
  return n < lo ? lo : n > hi ? hi : n;
}

int32_t mtp_tls_profile_from_replies(const mtp_tls_probe_reply *replies, size_t count, int64_t now,
                                     mtp_tls_profile *out) {
  if (!replies || !out || count == 0) {
    return MTP_TLS_ERR_ARG;
  }
  size_t min = SIZE_MAX, max = 0, sum = 0;
  for (size_t i = 0; i < count; i++) {
    size_t n = replies[i].flight_len;
    min = n < min ? n : min;
    max = n > max ? n : max;
    sum += n;
  }
  size_t len;
  int32_t randomize;
  if (min == max) {
    len = max;
    randomize = 0;
  } else if (max - min <= 3) {
    len = max - 1;
    randomize = 1;
  } else {
    len = (sum + count / 2) / count;
    randomize = 1;
  }
  mtp_tls_profile profile;
  memset(&profile, 0, sizeof(profile));
  profile.learned = 1;
  profile.extensions_swapped = replies[0].extensions_swapped;
  profile.app_data_len = clamp_len(len, 2, MTP_TLS_MAX_FAKE_APP_DATA - 1);
  profile.randomize = randomize;
  profile.record_count = replies[0].record_count;
  profile.learned_at = now;
  *out = profile;
  return 0;
}

size_t mtp_tls_profile_app_data_len(const mtp_tls_profile *profile, uint32_t r) {
  if (!profile || !profile->learned) {
    return MTP_TLS_FALLBACK_APP_DATA_BASE + r % MTP_TLS_FALLBACK_APP_DATA_SPREAD;
  }
  size_t n = profile->app_data_len;
  if (profile->randomize) {
    switch (r % 4) {
    case 0:
      n -= n > 0;
      break;
    case 3:
      n += n < SIZE_MAX;
      break;
    default:
      break;
    }
  }
  return clamp_len(n, 1, MTP_TLS_MAX_FAKE_APP_DATA);
}

/* ---- stats ---- */

size_t mtp_tls_render_profile_stats(const uint8_t *domain, size_t domain_len,
                                    const mtp_tls_profile *profile, int64_t now, int32_t prometheus,
                                    uint8_t *out, size_t cap) {
  if (profile == NULL || (domain == NULL && domain_len > 0)) {
    return 0;
  }
  char name[256];
  size_t n = domain_len < sizeof name - 1 ? domain_len : sizeof name - 1;
  for (size_t i = 0; i < n; i++) {
    uint8_t b = domain[i];
    int keep = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
               b == '.' || b == '-';
    name[i] = keep ? (char)b : '_';
  }
  name[n] = 0;
  int64_t age;
  if (__builtin_sub_overflow(now, profile->learned_at, &age)) {
    age = now > profile->learned_at ? INT64_MAX : 0;
  }
  age = age > 0 ? age : 0;
  char text[1200];
  int len;
  if (!prometheus && !profile->learned) {
    len = snprintf(text, sizeof text, "fake_tls_profile_%s\tfallback\n", name);
  } else if (!prometheus) {
    len = snprintf(text, sizeof text,
                   "fake_tls_profile_%s\tlearned age=%lld len=%zu random=%d records=%zu order=%s\n",
                   name, (long long)age, profile->app_data_len, profile->randomize, profile->record_count,
                   profile->extensions_swapped ? "supported_versions,key_share"
                                               : "key_share,supported_versions");
  } else if (!profile->learned) {
    len = snprintf(text, sizeof text, "mtproxy_fake_tls_profile_learned{domain=\"%s\"} 0\n", name);
  } else {
    len = snprintf(text, sizeof text,
                   "mtproxy_fake_tls_profile_learned{domain=\"%s\"} 1\n"
                   "mtproxy_fake_tls_profile_age_seconds{domain=\"%s\"} %lld\n"
                   "mtproxy_fake_tls_profile_app_data_len{domain=\"%s\"} %zu\n",
                   name, name, (long long)age, name, profile->app_data_len);
  }
  size_t total = len > 0 ? (size_t)len : 0;
  if (out != NULL && cap > 0) {
    memcpy(out, text, total < cap ? total : cap);
  }
  return total;
}
