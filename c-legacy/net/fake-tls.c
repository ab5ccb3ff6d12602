/* Fake TLS (docs/PROTOCOL.md section 2), sans-IO: ClientHello detection and
 * checks, the replay cache, the ServerHello flight, the record layer after
 * it, and the client side used by tests. Every length read from the input is
 * checked against the bytes present before it is used. */
#include "mtp_fake_tls.h"

#include "mtp_sha256.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RECORD_HEADER_LEN 5
#define SECRET_LEN 16
#define RANDOM_OFFSET 11
#define RANDOM_LEN 32
#define SESSION_ID_OFFSET 44
#define CIPHER_SUITES_OFFSET 76
#define HMAC_MATCH_LEN 28
#define MAX_FUTURE_SKEW 3
#define MAX_PAST_SKEW 600
#define EXTENSIONS_OFFSET 81
#define EXTENSIONS_END 127
#define MIN_FIRST_RECORD 64
#define CLIENT_HELLO_FIXED_LEN 152
#define MAX_DOMAIN_LEN 255

static const uint8_t CCS_THEN_DATA[9] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03};
static const uint8_t DATA_RECORD[3] = {0x17, 0x03, 0x03};
static const uint8_t SH_HEAD[11] = {0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03};
static const uint8_t KEY_SHARE_HEAD[8] = {0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20};
static const uint8_t SUPPORTED_VERSIONS[6] = {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};

static size_t be16_at(const uint8_t *p) {
  return ((size_t)p[0] << 8) | p[1];
}

static void put_be16(uint8_t *p, size_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static uint32_t le32_at(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? INT64_MIN : INT64_MAX) : r;
}

/* ---- detection ---- */

int32_t mtp_tls_detect_client_hello(const uint8_t *data, size_t len, size_t *record_len) {
  static const uint8_t magic[3] = {0x16, 0x03, 0x01};
  if (!data && len > 0) {
    return MTP_TLS_ERR_ARG;
  }
  size_t n = len < 3 ? len : 3;
  if (n > 0 && memcmp(data, magic, n) != 0) {
    return MTP_TLS_ERR_NOT_TLS;
  }
  if (len >= 4 && data[3] < 2) {
    return MTP_TLS_ERR_NOT_TLS;
  }
  if (len < RECORD_HEADER_LEN) {
    return MTP_TLS_ERR_NEED_MORE;
  }
  if (record_len) {
    *record_len = RECORD_HEADER_LEN + be16_at(data + 3);
  }
  return 0;
}

/* ---- replay cache: ring of entries in arrival order + open-addressing
 * index (linear probing, backward-shift deletion) keyed by SipHash-1-3 with
 * a per-cache random key, so chosen client randoms cannot force long probe
 * chains. ---- */

struct replay_entry {
  uint8_t key[16];
  int64_t time;
};

struct mtp_tls_replay_cache {
  size_t max_entries;
  size_t head; /* ring position of the oldest entry */
  size_t count;
  struct replay_entry *entries;
  uint32_t *slots; /* ring position + 1; 0 = empty */
  size_t slot_mask;
  uint64_t k0, k1;
};

static uint64_t le64_at(const uint8_t *p) {
  return (uint64_t)le32_at(p) | (uint64_t)le32_at(p + 4) << 32;
}

static uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

#define SIP_ROUND                                                                                  \
  do {                                                                                             \
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                                      \
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                                         \
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                                         \
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                                      \
  } while (0)

static size_t replay_home(const mtp_tls_replay_cache *c, const uint8_t key[16]) {
  uint64_t v0 = c->k0 ^ 0x736f6d6570736575ULL, v1 = c->k1 ^ 0x646f72616e646f6dULL;
  uint64_t v2 = c->k0 ^ 0x6c7967656e657261ULL, v3 = c->k1 ^ 0x7465646279746573ULL;
  const uint64_t words[3] = {le64_at(key), le64_at(key + 8), (uint64_t)16 << 56};
  for (int i = 0; i < 3; i++) {
    v3 ^= words[i];
    SIP_ROUND;
    v0 ^= words[i];
  }
  v2 ^= 0xff;
  SIP_ROUND;
  SIP_ROUND;
  SIP_ROUND;
  return (size_t)(v0 ^ v1 ^ v2 ^ v3) & c->slot_mask;
}

/* The slot holding key, or SIZE_MAX. */
static size_t replay_find(const mtp_tls_replay_cache *c, const uint8_t key[16]) {
  for (size_t i = replay_home(c, key);; i = (i + 1) & c->slot_mask) {
    uint32_t s = c->slots[i];
    if (s == 0) {
      return SIZE_MAX;
    }
    if (memcmp(c->entries[s - 1].key, key, 16) == 0) {
      return i;
    }
  }
}

static void replay_unlink(mtp_tls_replay_cache *c, size_t hole) {
  for (size_t j = (hole + 1) & c->slot_mask; c->slots[j] != 0; j = (j + 1) & c->slot_mask) {
    size_t home = replay_home(c, c->entries[c->slots[j] - 1].key);
    /* j's entry may move into the hole iff its home is not cyclically in (hole, j]. */
    int home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_range) {
      c->slots[hole] = c->slots[j];
      hole = j;
    }
  }
  c->slots[hole] = 0;
}

static void replay_pop_oldest(mtp_tls_replay_cache *c) {
  size_t slot = replay_find(c, c->entries[c->head].key);
  if (slot != SIZE_MAX) {
    replay_unlink(c, slot);
  }
  c->head = (c->head + 1) % c->max_entries;
  c->count--;
}

static void replay_expire(mtp_tls_replay_cache *c, int64_t now) {
  if (now < INT64_MIN + MTP_TLS_REPLAY_EXPIRY) {
    return;
  }
  int64_t limit = now - MTP_TLS_REPLAY_EXPIRY;
  while (c->count > 1 && c->entries[c->head].time <= limit) {
    replay_pop_oldest(c);
  }
}

mtp_tls_replay_cache *mtp_tls_replay_cache_new(size_t max_entries) {
  if (max_entries < 1 || max_entries > (size_t)MTP_TLS_MAX_REPLAY_ENTRIES) {
    return NULL;
  }
  size_t slots = 2;
  while (slots < 2 * max_entries) {
    slots *= 2;
  }
  mtp_tls_replay_cache *c = calloc(1, sizeof(*c));
  if (!c) {
    return NULL;
  }
  c->entries = malloc(max_entries * sizeof(*c->entries));
  c->slots = calloc(slots, sizeof(*c->slots));
  uint64_t seed[2];
  if (!c->entries || !c->slots) {
    mtp_tls_replay_cache_free(c);
    return NULL;
  }
  if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
    seed[0] = (uint64_t)(uintptr_t)c ^ (uint64_t)time(NULL);
    seed[1] = (uint64_t)(uintptr_t)c->slots * 0x9e3779b97f4a7c15ULL;
  }
  c->max_entries = max_entries;
  c->slot_mask = slots - 1;
  c->k0 = seed[0];
  c->k1 = seed[1];
  return c;
}

void mtp_tls_replay_cache_free(mtp_tls_replay_cache *cache) {
  if (cache) {
    free(cache->entries);
    free(cache->slots);
    free(cache);
  }
}

int32_t mtp_tls_replay_cache_lookup(mtp_tls_replay_cache *cache, const uint8_t *key, int64_t now) {
  if (!cache || !key) {
    return MTP_TLS_ERR_ARG;
  }
  replay_expire(cache, now);
  return replay_find(cache, key) != SIZE_MAX;
}

int32_t mtp_tls_replay_cache_insert(mtp_tls_replay_cache *cache, const uint8_t *key, int64_t now) {
  if (!cache || !key) {
    return MTP_TLS_ERR_ARG;
  }
  replay_expire(cache, now);
  if (replay_find(cache, key) != SIZE_MAX) {
    return 0;
  }
  if (cache->count == cache->max_entries) {
    replay_pop_oldest(cache);
  }
  size_t pos = (cache->head + cache->count) % cache->max_entries;
  memcpy(cache->entries[pos].key, key, 16);
  cache->entries[pos].time = now;
  size_t i = replay_home(cache, key);
  while (cache->slots[i] != 0) {
    i = (i + 1) & cache->slot_mask;
  }
  cache->slots[i] = (uint32_t)(pos + 1);
  cache->count++;
  return 0;
}

size_t mtp_tls_replay_cache_len(const mtp_tls_replay_cache *cache) {
  return cache ? cache->count : 0;
}

int32_t mtp_tls_replay_cache_oldest(const mtp_tls_replay_cache *cache, int64_t *out) {
  if (!cache || !out) {
    return MTP_TLS_ERR_ARG;
  }
  if (cache->count == 0) {
    return MTP_TLS_ERR_EMPTY;
  }
  *out = cache->entries[cache->head].time;
  return 0;
}

/* ---- ClientHello check ---- */

/* The server_name extension's data (and its length), or NULL. */
static const uint8_t *find_sni_extension(const uint8_t *rec, size_t len, size_t *ext_len) {
  if (len < CIPHER_SUITES_OFFSET + 2) {
    return NULL;
  }
  /* Suites, 2 bytes of compression methods, 2 bytes of extensions length. */
  size_t pos = CIPHER_SUITES_OFFSET + 2 + be16_at(rec + CIPHER_SUITES_OFFSET) + 4;
  while (pos + 4 <= len) {
    size_t type = be16_at(rec + pos);
    size_t elen = be16_at(rec + pos + 2);
    if (elen > len - pos - 4) {
      return NULL;
    }
    if (type == 0) {
      *ext_len = elen;
      return rec + pos + 4;
    }
    pos += 4 + elen;
  }
  return NULL;
}

/* The host name of a well-formed server_name extension, or NULL. */
static const uint8_t *sni_name(const uint8_t *ext, size_t len, size_t *name_len) {
  if (len < 5 || be16_at(ext) != len - 2 || ext[2] != 0 || be16_at(ext + 3) != len - 5 ||
      memchr(ext + 5, 0, len - 5) != NULL) {
    return NULL;
  }
  *name_len = len - 5;
  return ext + 5;
}

static int timestamp_ok(uint32_t ts32, int64_t now, int64_t oldest) {
  int64_t ts = ts32;
  return ts <= sat_add(now, MAX_FUTURE_SKEW) &&
         (ts > sat_add(oldest, MAX_FUTURE_SKEW) || ts > sat_sub(now, MAX_PAST_SKEW));
}

/* The xx of the first non-GREASE suite if it is 13 01/02/03, else 0. */
static uint8_t pick_cipher_suite(const uint8_t *suites, size_t len) {
  for (size_t i = 0; i + 2 <= len; i += 2) {
    uint8_t a = suites[i], b = suites[i + 1];
    if ((a & 0x0f) == 0x0a && (b & 0x0f) == 0x0a) {
      continue;
    }
    return a == 0x13 && b >= 1 && b <= 3 ? b : 0;
  }
  return 0;
}

static int32_t finish(mtp_tls_hello_check *out, mtp_tls_hello_check *res, int32_t verdict,
                      int32_t reason) {
  res->verdict = verdict;
  res->reason = reason;
  *out = *res;
  return 0;
}

int32_t mtp_tls_check_client_hello(const uint8_t *record, size_t record_len, size_t buffered,
                                   const uint8_t *secrets, size_t secret_count,
                                   const mtp_tls_domain *domains, size_t domain_count,
                                   mtp_tls_replay_cache *cache, int64_t now,
                                   mtp_tls_hello_check *out) {
  if (!cache || !out || (!record && record_len > 0) || (!secrets && secret_count > 0) ||
      (!domains && domain_count > 0) || secret_count > SIZE_MAX / SECRET_LEN) {
    return MTP_TLS_ERR_ARG;
  }
  for (size_t i = 0; i < domain_count; i++) {
    if (!domains[i].data && domains[i].len > 0) {
      return MTP_TLS_ERR_ARG;
    }
  }
  size_t header_len = 0;
  int32_t err = mtp_tls_detect_client_hello(record, record_len, &header_len);
  if (err) {
    return err;
  }
  if (header_len != record_len || buffered < record_len) {
    return MTP_TLS_ERR_ARG;
  }
  mtp_tls_hello_check res;
  memset(&res, 0, sizeof(res));
  res.secret_index = -1;
  res.domain_index = -1;
  /* A valid header makes the record at least 5 + 0x200 bytes long. */
  memcpy(res.client_random, record + RANDOM_OFFSET, RANDOM_LEN);
  memcpy(res.session_id, record + SESSION_ID_OFFSET, 32);

  size_t ext_len = 0, name_len = 0;
  const uint8_t *ext = find_sni_extension(record, record_len, &ext_len);
  const uint8_t *name = ext ? sni_name(ext, ext_len, &name_len) : NULL;
  if (!name) {
    return finish(out, &res, MTP_TLS_VERDICT_RELAY_DEFAULT, MTP_TLS_REJECT_NO_SNI);
  }
  size_t domain = 0;
  while (domain < domain_count && (domains[domain].len != name_len ||
                                   (name_len > 0 && memcmp(domains[domain].data, name, name_len)))) {
    domain++;
  }
  if (domain == domain_count || domain > INT32_MAX) {
    return finish(out, &res, MTP_TLS_VERDICT_RELAY_DEFAULT, MTP_TLS_REJECT_UNKNOWN_SNI);
  }
  res.domain_index = (int32_t)domain;
  if (buffered != record_len) {
    return finish(out, &res, MTP_TLS_VERDICT_RELAY_SNI, MTP_TLS_REJECT_TRAILING_DATA);
  }
  if (record_len > MTP_TLS_MAX_HELLO_RECORD) {
    return finish(out, &res, MTP_TLS_VERDICT_RELAY_SNI, MTP_TLS_REJECT_TOO_LONG);
  }
  if (mtp_tls_replay_cache_lookup(cache, res.client_random, now) == 1) {
    return finish(out, &res, MTP_TLS_VERDICT_RELAY_SNI, MTP_TLS_REJECT_REPLAY);
  }
  mtp_tls_replay_cache_insert(cache, res.client_random, now);

  uint8_t zeroed[MTP_TLS_MAX_HELLO_RECORD];
  memcpy(zeroed, record, record_len);
  memset(zeroed + RANDOM_OFFSET, 0, RANDOM_LEN);
  uint8_t digest[32];
  size_t secret = 0;
  for (; secret < secret_count; secret++) {
    mtp_hmac_sha256(secrets + secret * SECRET_LEN, SECRET_LEN, zeroed, record_len, digest);
    if (memcmp(digest, res.client_random, HMAC_MATCH_LEN) == 0) {
      break;
    }
  }
  if (secret == secret_count || secret > INT32_MAX) {
    return finish(out, &res, MTP_TLS_VERDICT_RELAY_SNI, MTP_TLS_REJECT_BAD_HMAC);
  }
  res.secret_index = (int32_t)secret;
  uint32_t ts = le32_at(digest + HMAC_MATCH_LEN) ^ le32_at(res.client_random + HMAC_MATCH_LEN);
  int64_t oldest = now; /* the cache holds at least the entry just inserted */
  mtp_tls_replay_cache_oldest(cache, &oldest);
  if (!timestamp_ok(ts, now, oldest)) {
    return finish(out, &res, MTP_TLS_VERDICT_RELAY_SNI, MTP_TLS_REJECT_BAD_TIME);
  }
  size_t suites_len = be16_at(record + CIPHER_SUITES_OFFSET);
  uint8_t suite = 0;
  if (suites_len <= record_len - CIPHER_SUITES_OFFSET - 2) {
    suite = pick_cipher_suite(record + CIPHER_SUITES_OFFSET + 2, suites_len);
  }
  if (!suite) {
    return finish(out, &res, MTP_TLS_VERDICT_RELAY_SNI, MTP_TLS_REJECT_BAD_CIPHER);
  }
  res.cipher_suite = suite;
  return finish(out, &res, MTP_TLS_VERDICT_ACCEPT, MTP_TLS_REJECT_NONE);
}

/* ---- ServerHello flight ---- */

#define MAX_FLIGHT (MTP_TLS_SERVER_HELLO_FIXED_LEN + MTP_TLS_MAX_FAKE_APP_DATA)

/* HMAC(secret, client_random || flight with bytes 11..43 zero). */
static void server_random(const uint8_t *secret, const uint8_t *client_random,
                          const uint8_t *flight, size_t len, uint8_t out[32]) {
  static _Thread_local uint8_t msg[RANDOM_LEN + MAX_FLIGHT];
  memcpy(msg, client_random, RANDOM_LEN);
  memcpy(msg + RANDOM_LEN, flight, len);
  memset(msg + RANDOM_LEN + RANDOM_OFFSET, 0, RANDOM_LEN);
  mtp_hmac_sha256(secret, SECRET_LEN, msg, RANDOM_LEN + len, out);
}

int32_t mtp_tls_build_server_hello(const uint8_t *client_random, const uint8_t *session_id,
                                   uint8_t cipher_suite, const uint8_t *secret,
                                   size_t app_data_len, int32_t swap_extensions,
                                   const uint8_t *random, size_t random_len, uint8_t *out,
                                   size_t out_cap, size_t *written) {
  if (!client_random || !session_id || !secret || (swap_extensions != 0 && swap_extensions != 1) ||
      (!random && random_len > 0) || (!out && out_cap > 0)) {
    return MTP_TLS_ERR_ARG;
  }
  if (app_data_len > MTP_TLS_MAX_FAKE_APP_DATA || random_len != 32 + app_data_len ||
      cipher_suite < 1 || cipher_suite > 3) {
    return MTP_TLS_ERR_ARG;
  }
  size_t total = MTP_TLS_SERVER_HELLO_FIXED_LEN + app_data_len;
  if (out_cap < total) {
    return MTP_TLS_ERR_SPACE;
  }
  uint8_t *p = out;
  memcpy(p, SH_HEAD, sizeof(SH_HEAD));
  memset(p + RANDOM_OFFSET, 0, RANDOM_LEN);
  p[43] = 0x20;
  memcpy(p + SESSION_ID_OFFSET, session_id, 32);
  const uint8_t suite_and_ext_len[5] = {0x13, cipher_suite, 0x00, 0x00, 0x2e};
  memcpy(p + 76, suite_and_ext_len, 5);
  size_t key_share_at = swap_extensions ? EXTENSIONS_OFFSET + 6 : EXTENSIONS_OFFSET;
  size_t versions_at = swap_extensions ? EXTENSIONS_OFFSET : EXTENSIONS_OFFSET + 40;
  memcpy(p + key_share_at, KEY_SHARE_HEAD, 8);
  if (mtp_tls_x25519_public_key(random, p + key_share_at + 8) != 0) {
    return MTP_TLS_ERR_ARG;
  }
  memcpy(p + versions_at, SUPPORTED_VERSIONS, 6);
  memcpy(p + EXTENSIONS_END, CCS_THEN_DATA, 9);
  put_be16(p + 136, app_data_len);
  if (app_data_len > 0) {
    memcpy(p + 138, random + 32, app_data_len);
  }
  uint8_t digest[32];
  server_random(secret, client_random, out, total, digest);
  memcpy(out + RANDOM_OFFSET, digest, RANDOM_LEN);
  if (written) {
    *written = total;
  }
  return 0;
}

int32_t mtp_tls_parse_server_hello(const uint8_t *data, size_t len, const uint8_t *client_random,
                                   const uint8_t *session_id, const uint8_t *secret,
                                   mtp_tls_server_hello_info *out) {
  if (!client_random || !session_id || !secret || !out || (!data && len > 0)) {
    return MTP_TLS_ERR_ARG;
  }
  if (len < MTP_TLS_SERVER_HELLO_FIXED_LEN) {
    return MTP_TLS_ERR_NEED_MORE;
  }
  const uint8_t *ext = data + EXTENSIONS_OFFSET;
  int32_t swapped;
  if (!memcmp(ext, KEY_SHARE_HEAD, 8) && !memcmp(data + EXTENSIONS_END - 6, SUPPORTED_VERSIONS, 6)) {
    swapped = 0;
  } else if (!memcmp(ext, SUPPORTED_VERSIONS, 6) && !memcmp(ext + 6, KEY_SHARE_HEAD, 8)) {
    swapped = 1;
  } else {
    return MTP_TLS_ERR_BAD_SERVER_HELLO;
  }
  static const uint8_t after_suite[3] = {0x00, 0x00, 0x2e};
  uint8_t suite = data[77];
  if (memcmp(data, SH_HEAD, sizeof(SH_HEAD)) || data[43] != 0x20 ||
      memcmp(data + SESSION_ID_OFFSET, session_id, 32) || data[76] != 0x13 || suite < 1 ||
      suite > 3 || memcmp(data + 78, after_suite, 3) ||
      memcmp(data + EXTENSIONS_END, CCS_THEN_DATA, 9)) {
    return MTP_TLS_ERR_BAD_SERVER_HELLO;
  }
  size_t app_data_len = be16_at(data + 136);
  size_t total = MTP_TLS_SERVER_HELLO_FIXED_LEN + app_data_len;
  if (len < total) {
    return MTP_TLS_ERR_NEED_MORE;
  }
  uint8_t digest[32];
  server_random(secret, client_random, data, total, digest);
  if (memcmp(digest, data + RANDOM_OFFSET, RANDOM_LEN)) {
    return MTP_TLS_ERR_BAD_HMAC;
  }
  out->cipher_suite = suite;
  out->extensions_swapped = swapped;
  out->app_data_len = app_data_len;
  out->total_len = total;
  return 0;
}

/* ---- client side: a ClientHello the check accepts (layout in the Rust
 * core's client_hello.rs) ---- */

int32_t mtp_tls_build_client_hello(const uint8_t *secret, const uint8_t *domain,
                                   size_t domain_len, uint32_t unix_time, const uint8_t *random,
                                   size_t total_len, uint8_t *out, size_t out_cap,
                                   size_t *written) {
  if (!secret || !random || (!domain && domain_len > 0) || (!out && out_cap > 0)) {
    return MTP_TLS_ERR_ARG;
  }
  if (total_len < MTP_TLS_MIN_CLIENT_HELLO || total_len > MTP_TLS_MAX_HELLO_RECORD ||
      domain_len == 0 || domain_len > MAX_DOMAIN_LEN || memchr(domain, 0, domain_len)) {
    return MTP_TLS_ERR_ARG;
  }
  if (out_cap < total_len) {
    return MTP_TLS_ERR_SPACE;
  }
  uint8_t *p = out;
  uint8_t grease = (uint8_t)((random[0] & 0xf0) | 0x0a);
  const uint8_t head[11] = {0x16, 0x03, 0x01, 0, 0, 0x01, 0, 0, 0, 0x03, 0x03};
  memcpy(p, head, sizeof(head));
  put_be16(p + 3, total_len - 5);
  p[7] = (uint8_t)((total_len - 9) >> 8);
  p[8] = (uint8_t)(total_len - 9);
  memset(p + RANDOM_OFFSET, 0, RANDOM_LEN);
  p[43] = 0x20;
  memcpy(p + SESSION_ID_OFFSET, random, 32);
  const uint8_t suites[12] = {0x00, 0x08, grease, grease, 0x13, 0x01,
                              0x13, 0x02, 0x13, 0x03, 0x01, 0x00};
  memcpy(p + 76, suites, sizeof(suites));
  put_be16(p + 88, total_len - 90);
  size_t at = 90;
  const uint8_t sni_type[2] = {0x00, 0x00};
  memcpy(p + at, sni_type, 2);
  put_be16(p + at + 2, domain_len + 5);
  put_be16(p + at + 4, domain_len + 3);
  p[at + 6] = 0;
  put_be16(p + at + 7, domain_len);
  memcpy(p + at + 9, domain, domain_len);
  at += 9 + domain_len;
  static const uint8_t versions_and_key_share[17] = {0x00, 0x2b, 0x00, 0x03, 0x02, 0x03,
                                                     0x04, 0x00, 0x33, 0x00, 0x26, 0x00,
                                                     0x24, 0x00, 0x1d, 0x00, 0x20};
  memcpy(p + at, versions_and_key_share, sizeof(versions_and_key_share));
  memcpy(p + at + 17, random + 32, 32);
  at += 17 + 32;
  p[at] = 0x00;
  p[at + 1] = 0x15;
  put_be16(p + at + 2, total_len - CLIENT_HELLO_FIXED_LEN - domain_len);
  memset(p + at + 4, 0, total_len - at - 4);
  uint8_t digest[32];
  mtp_hmac_sha256(secret, SECRET_LEN, p, total_len, digest);
  memcpy(p + RANDOM_OFFSET, digest, RANDOM_LEN);
  for (int i = 0; i < 4; i++) {
    p[RANDOM_OFFSET + HMAC_MATCH_LEN + i] ^= (uint8_t)(unix_time >> (8 * i));
  }
  if (written) {
    *written = total_len;
  }
  return 0;
}

/* ---- record layer ---- */

struct mtp_tls_reader {
  const uint8_t *expected; /* literal start of the current header */
  size_t expected_len;
  uint8_t header[sizeof(CCS_THEN_DATA) + 2];
  size_t header_len;
  size_t payload_left;
  int check_first_len;
  int32_t error;
};

mtp_tls_reader *mtp_tls_reader_new(int32_t expect_ccs) {
  if (expect_ccs != 0 && expect_ccs != 1) {
    return NULL;
  }
  mtp_tls_reader *r = calloc(1, sizeof(*r));
  if (r) {
    r->expected = expect_ccs ? CCS_THEN_DATA : DATA_RECORD;
    r->expected_len = expect_ccs ? sizeof(CCS_THEN_DATA) : sizeof(DATA_RECORD);
    r->check_first_len = expect_ccs;
  }
  return r;
}

void mtp_tls_reader_free(mtp_tls_reader *reader) {
  free(reader);
}

/* Takes one header byte: 0, or the error it causes. */
static int32_t reader_header_byte(mtp_tls_reader *r, uint8_t byte) {
  size_t at = r->header_len;
  if (at < r->expected_len && byte != r->expected[at]) {
    int in_ccs = r->expected_len == sizeof(CCS_THEN_DATA) && at < 6;
    return in_ccs ? MTP_TLS_ERR_BAD_CCS : MTP_TLS_ERR_BAD_RECORD;
  }
  r->header[at] = byte;
  r->header_len++;
  if (r->header_len < r->expected_len + 2) {
    return 0;
  }
  size_t len = be16_at(r->header + r->expected_len);
  if (r->check_first_len && len < MIN_FIRST_RECORD) {
    return MTP_TLS_ERR_FIRST_RECORD_SHORT;
  }
  r->check_first_len = 0;
  r->expected = DATA_RECORD;
  r->expected_len = sizeof(DATA_RECORD);
  r->header_len = 0;
  r->payload_left = len;
  return 0;
}

int32_t mtp_tls_reader_feed(mtp_tls_reader *reader, const uint8_t *input, size_t in_len,
                            uint8_t *out, size_t out_cap, size_t *consumed, size_t *produced) {
  if (!reader || (!input && in_len > 0) || (!out && out_cap > 0)) {
    return MTP_TLS_ERR_ARG;
  }
  if (reader->error) {
    return reader->error;
  }
  size_t used = 0, made = 0;
  for (;;) {
    if (reader->payload_left > 0) {
      size_t n = reader->payload_left;
      n = n < in_len - used ? n : in_len - used;
      n = n < out_cap - made ? n : out_cap - made;
      if (n == 0) {
        break;
      }
      memcpy(out + made, input + used, n);
      used += n;
      made += n;
      reader->payload_left -= n;
      continue;
    }
    if (used == in_len) {
      break;
    }
    int32_t err = reader_header_byte(reader, input[used]);
    if (err) {
      reader->error = err;
      if (used == 0 && made == 0) {
        return err;
      }
      break;
    }
    used++;
  }
  if (consumed) {
    *consumed = used;
  }
  if (produced) {
    *produced = made;
  }
  return 0;
}

size_t mtp_tls_wrapped_len(size_t payload_len) {
  size_t records = payload_len / MTP_TLS_MAX_RECORD_PAYLOAD +
                   (payload_len % MTP_TLS_MAX_RECORD_PAYLOAD != 0);
  if (records > (SIZE_MAX - payload_len) / 5) {
    return SIZE_MAX;
  }
  return payload_len + 5 * records;
}

int32_t mtp_tls_wrap_records(const uint8_t *payload, size_t len, uint8_t *out, size_t out_cap,
                             size_t *written) {
  if ((!payload && len > 0) || (!out && out_cap > 0)) {
    return MTP_TLS_ERR_ARG;
  }
  size_t total = mtp_tls_wrapped_len(len);
  if (out_cap < total) {
    return MTP_TLS_ERR_SPACE;
  }
  size_t at = 0;
  for (size_t done = 0; done < len;) {
    size_t n = len - done < MTP_TLS_MAX_RECORD_PAYLOAD ? len - done : MTP_TLS_MAX_RECORD_PAYLOAD;
    memcpy(out + at, DATA_RECORD, 3);
    put_be16(out + at + 3, n);
    memcpy(out + at + 5, payload + done, n);
    at += 5 + n;
    done += n;
  }
  if (written) {
    *written = total;
  }
  return 0;
}
