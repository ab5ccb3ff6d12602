/* The local stats endpoint (docs/PROTOCOL.md section 6), sans-IO: the /stats
 * text body and its Prometheus twin from one field table, the stats port's
 * HTTP request parser and the response head. */
#include "mtp_stats_http.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_UNIX_TIME 253402300799LL
#define MAX_METHOD_LEN 32

/* ---- rendering ---- */

enum value_type { V_INT, V_MILLI, V_LIST3, V_LIST5, V_TEXT };
enum text_field { T_FILENAME, T_MD5, T_VERSION };

struct field {
  const char *name;
  int counter;
  enum value_type type;
  size_t offset; /* into mtp_proxy_stats, or the text_field for V_TEXT */
};

#define G(name) {#name, 0, V_INT, offsetof(mtp_proxy_stats, name)}
#define C(name) {#name, 1, V_INT, offsetof(mtp_proxy_stats, name)}

/* Every field in upstream's order. */
static const struct field FIELDS[] = {
    G(pid),
    G(start_time),
    G(current_time),
    G(uptime),
    G(vmsize_bytes),
    G(vmrss_bytes),
    G(vmdata_bytes),
    {"config_filename", 0, V_TEXT, T_FILENAME},
    G(config_loaded_at),
    G(config_size),
    {"config_md5", 0, V_TEXT, T_MD5},
    G(config_auth_clusters),
    G(workers),
    C(queries_get),
    {"qps_get", 0, V_MILLI, offsetof(mtp_proxy_stats, qps_get_milli)},
    C(tot_forwarded_queries),
    C(expired_forwarded_queries),
    C(dropped_queries),
    C(tot_forwarded_responses),
    C(dropped_responses),
    C(tot_forwarded_simple_acks),
    C(dropped_simple_acks),
    C(active_rpcs_created),
    G(active_rpcs),
    C(rpc_dropped_answers),
    C(rpc_dropped_running),
    G(window_clamp),
    G(total_ready_targets),
    G(total_allocated_targets),
    G(total_declared_targets),
    G(total_inactive_targets),
    G(total_connections),
    G(total_encrypted_connections),
    G(total_allocated_connections),
    G(total_allocated_outbound_connections),
    G(total_allocated_inbound_connections),
    G(total_allocated_socket_connections),
    G(total_dh_connections),
    {"total_dh_rounds", 1, V_LIST3, offsetof(mtp_proxy_stats, total_dh_rounds)},
    G(total_special_connections),
    G(total_max_special_connections),
    {"total_accept_connections_failed", 1, V_LIST5,
     offsetof(mtp_proxy_stats, total_accept_connections_failed)},
    G(ext_connections),
    C(ext_connections_created),
    G(total_active_network_events),
    G(total_network_buffers_used_size),
    G(total_network_buffers_allocated_bytes),
    G(total_network_buffers_used),
    G(total_network_chunks_allocated),
    G(total_network_chunks_allocated_max),
    C(mtproto_proxy_errors),
    C(connections_failed_lru),
    C(connections_failed_flood),
    G(http_connections),
    G(pending_http_queries),
    C(http_queries),
    C(http_bad_headers),
    {"http_qps", 0, V_MILLI, offsetof(mtp_proxy_stats, http_qps_milli)},
    G(proxy_mode),
    G(proxy_tag_set),
    {"version", 0, V_TEXT, T_VERSION},
};

/* An output that counts everything and stores bytes only when `store`. */
struct sink {
  uint8_t *out;
  size_t len;
  int store;
};

static void put_bytes(struct sink *s, const void *data, size_t n) {
  if (s->store && n > 0) {
    memcpy(s->out + s->len, data, n);
  }
  s->len += n;
}

static void put_str(struct sink *s, const char *text) {
  put_bytes(s, text, strlen(text));
}

static void put_int(struct sink *s, int64_t v) {
  char tmp[32];
  int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
  put_bytes(s, tmp, (size_t)n);
}

static void put_milli(struct sink *s, int64_t v) {
  uint64_t abs = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  char tmp[40];
  int n = snprintf(tmp, sizeof(tmp), "%s%" PRIu64 ".%03" PRIu64, v < 0 ? "-" : "", abs / 1000,
                   abs % 1000);
  put_bytes(s, tmp, (size_t)n);
}

static void put_sanitized(struct sink *s, const uint8_t *text, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t b = text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
    put_bytes(s, &b, 1);
  }
}

static const int64_t *field_ints(const mtp_proxy_stats *stats, const struct field *f) {
  return (const int64_t *)((const char *)stats + f->offset);
}

static void render_text(struct sink *s, const mtp_proxy_stats *stats, const uint8_t *const texts[3],
                        const size_t text_lens[3]) {
  for (size_t i = 0; i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++) {
    const struct field *f = &FIELDS[i];
    put_str(s, f->name);
    put_str(s, "\t");
    if (f->type == V_TEXT) {
      put_sanitized(s, texts[f->offset], text_lens[f->offset]);
    } else if (f->type == V_MILLI) {
      put_milli(s, *field_ints(stats, f));
    } else {
      size_t count = f->type == V_LIST3 ? 3 : f->type == V_LIST5 ? 5 : 1;
      for (size_t k = 0; k < count; k++) {
        if (k > 0) {
          put_str(s, " ");
        }
        put_int(s, field_ints(stats, f)[k]);
      }
    }
    put_str(s, "\n");
  }
}

static void render_prometheus(struct sink *s, const mtp_proxy_stats *stats) {
  for (size_t i = 0; i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++) {
    const struct field *f = &FIELDS[i];
    if (f->type == V_TEXT) {
      continue;
    }
    put_str(s, "# TYPE mtproxy_");
    put_str(s, f->name);
    put_str(s, f->counter ? " counter\n" : " gauge\n");
    size_t count = f->type == V_LIST3 ? 3 : f->type == V_LIST5 ? 5 : 1;
    for (size_t k = 0; k < count; k++) {
      put_str(s, "mtproxy_");
      put_str(s, f->name);
      if (count > 1) {
        char label[24];
        snprintf(label, sizeof(label), "{index=\"%zu\"}", k);
        put_str(s, label);
      }
      put_str(s, " ");
      if (f->type == V_MILLI) {
        put_milli(s, *field_ints(stats, f));
      } else {
        put_int(s, field_ints(stats, f)[k]);
      }
      put_str(s, "\n");
    }
  }
}

size_t mtp_stats_render_text(const mtp_proxy_stats *stats, const mtp_stats_strings *strings,
                             uint8_t *out, size_t cap) {
  const uint8_t *texts[3] = {NULL, NULL, NULL};
  size_t lens[3] = {0, 0, 0};
  if (strings) {
    texts[T_FILENAME] = strings->config_filename;
    lens[T_FILENAME] = strings->config_filename_len;
    texts[T_MD5] = strings->config_md5;
    lens[T_MD5] = strings->config_md5_len;
    texts[T_VERSION] = strings->version;
    lens[T_VERSION] = strings->version_len;
  }
  for (int i = 0; i < 3; i++) {
    if (!texts[i] && lens[i] > 0) {
      return 0;
    }
  }
  if (!stats || (!out && cap > 0)) {
    return 0;
  }
  struct sink measure = {out, 0, 0};
  render_text(&measure, stats, texts, lens);
  if (measure.len <= cap) {
    struct sink write = {out, 0, 1};
    render_text(&write, stats, texts, lens);
  }
  return measure.len;
}

size_t mtp_stats_render_prometheus(const mtp_proxy_stats *stats, uint8_t *out, size_t cap) {
  if (!stats || (!out && cap > 0)) {
    return 0;
  }
  struct sink measure = {out, 0, 0};
  render_prometheus(&measure, stats);
  if (measure.len <= cap) {
    struct sink write = {out, 0, 1};
    render_prometheus(&write, stats);
  }
  return measure.len;
}

/* ---- request parsing (rules in the contract header) ---- */

static int is_tchar(uint8_t b) {
  return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
         (b != 0 && strchr("!#$%&'*+-.^_`|~", b) != NULL);
}

static int is_token(const uint8_t *s, size_t n) {
  if (n == 0) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!is_tchar(s[i])) {
      return 0;
    }
  }
  return 1;
}

static int bytes_equal(const uint8_t *s, size_t n, const char *lit) {
  return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static int name_is(const uint8_t *s, size_t n, const char *lit) {
  return n == strlen(lit) && strncasecmp((const char *)s, lit, n) == 0;
}

/* Content-Length value: 1..18 digits after trimming SP/HT; -1 if invalid. */
static int64_t content_length(const uint8_t *v, size_t n) {
  while (n > 0 && (v[0] == ' ' || v[0] == '\t')) {
    v++;
    n--;
  }
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) {
    n--;
  }
  if (n == 0 || n > 18) {
    return -1;
  }
  int64_t value = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') {
      return -1;
    }
    value = value * 10 + (v[i] - '0');
  }
  return value;
}

static int is_body_method(const uint8_t *m, size_t n) {
  return bytes_equal(m, n, "POST") || bytes_equal(m, n, "PUT") || bytes_equal(m, n, "PATCH");
}

static int is_other_known_method(const uint8_t *m, size_t n) {
  static const char *const known[] = {"HEAD", "OPTIONS", "DELETE", "CONNECT", "TRACE"};
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
    if (bytes_equal(m, n, known[i])) {
      return 1;
    }
  }
  return 0;
}

/* Judges the request line; 0 with the three parts, else 400. */
static int split_request_line(const uint8_t *line, size_t n, const uint8_t **parts,
                              size_t *lens) {
  size_t count = 0, start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || line[i] == ' ') {
      if (count == 3) {
        return 400;
      }
      parts[count] = line + start;
      lens[count] = i - start;
      count++;
      start = i + 1;
    }
  }
  if (count != 3) {
    return 400;
  }
  int target_ok = lens[1] > 0;
  for (size_t i = 0; i < lens[1]; i++) {
    target_ok &= parts[1][i] >= 0x21 && parts[1][i] <= 0x7e;
  }
  int version_ok = bytes_equal(parts[2], lens[2], "HTTP/1.0") || bytes_equal(parts[2], lens[2], "HTTP/1.1");
  if (!is_token(parts[0], lens[0]) || lens[0] > MAX_METHOD_LEN || !target_ok || !version_ok) {
    return 400;
  }
  return 0;
}

/* Judges one header line; updates the Content-Length / Transfer-Encoding
 * state; 0 or 400. */
static int judge_field(const uint8_t *line, size_t n, int64_t *length, int *chunked) {
  const uint8_t *colon = memchr(line, ':', n);
  if (!colon) {
    return 400;
  }
  size_t name_len = (size_t)(colon - line);
  const uint8_t *value = colon + 1;
  size_t value_len = n - name_len - 1;
  if (!is_token(line, name_len)) {
    return 400;
  }
  for (size_t i = 0; i < value_len; i++) {
    if ((value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7f) {
      return 400;
    }
  }
  if (name_is(line, name_len, "content-length")) {
    int64_t v = content_length(value, value_len);
    if (v < 0 || (*length >= 0 && *length != v)) {
      return 400;
    }
    *length = v;
  } else if (name_is(line, name_len, "transfer-encoding")) {
    *chunked = 1;
  }
  return 0;
}

int32_t mtp_stats_http_parse(const uint8_t *data, size_t len, mtp_http_request *out) {
  if (!out || (!data && len > 0)) {
    return MTP_STATS_ERR_ARG;
  }
  size_t window = len < MTP_STATS_HTTP_MAX_HEADER_LEN ? len : MTP_STATS_HTTP_MAX_HEADER_LEN;
  mtp_http_request result = {0, MTP_STATS_TARGET_NONE, 0};
  const uint8_t *parts[3];
  size_t lens[3];
  int64_t length = -1;
  int chunked = 0, verdict = 0;
  size_t pos = 0, line_no = 0;
  for (;;) {
    const uint8_t *nl = pos < window ? memchr(data + pos, '\n', window - pos) : NULL;
    if (!nl) {
      result.status = len >= MTP_STATS_HTTP_MAX_HEADER_LEN ? 431 : 0;
      *out = result;
      return 0;
    }
    size_t n = (size_t)(nl - (data + pos));
    const uint8_t *line = data + pos;
    if (n > 0 && line[n - 1] == '\r') {
      n--;
    }
    pos = (size_t)(nl - data) + 1;
    if (n == 0) {
      break;
    }
    if (verdict == 0) {
      verdict = line_no == 0 ? split_request_line(line, n, parts, lens)
                             : judge_field(line, n, &length, &chunked);
    }
    line_no++;
  }
  result.header_len = pos;
  if (line_no == 0 || verdict != 0) {
    result.status = 400;
  } else if (bytes_equal(parts[0], lens[0], "GET")) {
    if (bytes_equal(parts[1], lens[1], "/stats")) {
      result.status = 200;
      result.target = MTP_STATS_TARGET_STATS;
    } else if (bytes_equal(parts[1], lens[1], "/metrics")) {
      result.status = 200;
      result.target = MTP_STATS_TARGET_METRICS;
    } else {
      result.status = 404;
    }
  } else if (is_body_method(parts[0], lens[0])) {
    result.status = chunked ? 501 : length < 0 ? 411 : 405;
  } else {
    result.status = is_other_known_method(parts[0], lens[0]) ? 405 : 501;
  }
  *out = result;
  return 0;
}

/* ---- response head ---- */

static const char *reason_phrase(int32_t status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 411: return "Length Required";
  case 431: return "Request Header Fields Too Large";
  case 501: return "Not Implemented";
  default: return NULL;
  }
}

/* IMF-fixdate of t in 0..MAX_UNIX_TIME (civil-from-days, Hinnant). */
static void http_date(int64_t t, char out[32]) {
  static const char *const days_of_week[7] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t days = t / 86400, secs = t % 86400;
  int64_t z = days + 719468;
  int64_t era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2);
  snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days_of_week[days % 7], (int)day,
           months[month - 1], (int)year, (int)(secs / 3600), (int)(secs / 60 % 60),
           (int)(secs % 60));
}

int32_t mtp_stats_http_response_head(int32_t status, const uint8_t *content_type,
                                     size_t content_type_len, uint64_t content_length, int64_t now,
                                     uint8_t *out, size_t cap, size_t *written) {
  if ((!content_type && content_type_len > 0) || (!out && cap > 0)) {
    return MTP_STATS_ERR_ARG;
  }
  const char *reason = reason_phrase(status);
  int type_ok = content_type_len <= MTP_STATS_HTTP_MAX_CONTENT_TYPE_LEN;
  for (size_t i = 0; type_ok && i < content_type_len; i++) {
    type_ok = content_type[i] >= 0x20 && content_type[i] <= 0x7e;
  }
  if (!reason || !type_ok || now < 0 || now > MAX_UNIX_TIME) {
    return MTP_STATS_ERR_ARG;
  }
  char date[32], head[160], tail[128];
  http_date(now, date);
  int head_len = snprintf(head, sizeof(head),
                          "HTTP/1.1 %d %s\r\nServer: MTProxy/1.0\r\nDate: %s\r\nContent-Type: ",
                          (int)status, reason, date);
  int tail_len = snprintf(tail, sizeof(tail),
                          "\r\nConnection: close\r\nContent-Length: %" PRIu64 "\r\n%s\r\n",
                          content_length, status == 405 ? "Allow: GET\r\n" : "");
  size_t total = (size_t)head_len + content_type_len + (size_t)tail_len;
  if (cap < total) {
    return MTP_STATS_ERR_SPACE;
  }
  memcpy(out, head, (size_t)head_len);
  if (content_type_len > 0) {
    memcpy(out + head_len, content_type, content_type_len);
  }
  memcpy(out + head_len + content_type_len, tail, (size_t)tail_len);
  if (written) {
    *written = total;
  }
  return 0;
}
