/* The engine's stats HTTP server: loopback only, one request per
 * connection. The head is judged by the stats-http contract, the body is
 * the proxy's counters plus the process fields, then the connection is
 * closed. Runs on the engine thread's reactor, non-blocking throughout. */
#include "mtp_engine_main.h"
#include "mtp_proc_stat.h"
#include "mtp_stats_http.h"

#include "engine/engine-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Open stats connections at most; more are closed at once (bounded memory
 * whatever a local client does). */
#define MAX_STATS_CONNECTIONS 64
/* A client has this long to send its head and take the answer. */
#define STATS_DEADLINE_MS 5000
#define PROC_STATUS_MAX (64 * 1024)

/* Same form as the Rust engine's, with the side that built the page. */
static const char VERSION[] = "mtproxy-rust-0.1.0 (C engine)";
static const char TEXT_TYPE[] = "text/plain";
static const char METRICS_TYPE[] = "text/plain; version=0.0.4";

typedef enum conn_state {
  CONN_FREE = 0,
  CONN_READING, /* collecting the request head */
  CONN_WRITING, /* sending the response */
  CONN_DRAINING /* response sent, write side shut: discard input to EOF */
} conn_state;

typedef struct stats_conn {
  conn_state state;
  int fd;
  uint32_t generation;
  uint64_t timer_id;
  uint8_t head[MTP_STATS_HTTP_MAX_HEADER_LEN];
  size_t head_len;
  uint8_t *out; /* response bytes, malloc'ed */
  size_t out_len;
  size_t out_sent;
} stats_conn;

struct stats_server {
  mtp_reactor *reactor;
  int listen_fd;
  const engine_info *info;
  stats_conn conns[MAX_STATS_CONNECTIONS];
  int64_t open_connections;
  int64_t pending_queries;
  int64_t queries;
  int64_t bad_headers;
};

static uint64_t conn_token(const stats_server *s, const stats_conn *c) {
  uint64_t slot = (uint64_t)(c - s->conns);
  return ENGINE_TOKEN_STATS_CONN_TAG | ((uint64_t)c->generation << 16) | slot;
}

/* The live connection a token names, or NULL if it is gone. */
static stats_conn *conn_of_token(stats_server *s, uint64_t token) {
  uint64_t slot = token & 0xffffu;
  if (slot >= MAX_STATS_CONNECTIONS) {
    return NULL;
  }
  stats_conn *c = &s->conns[slot];
  uint32_t generation = (uint32_t)((token & ~ENGINE_TOKEN_STATS_CONN_TAG) >> 16);
  if (c->state == CONN_FREE || c->generation != generation) {
    return NULL;
  }
  return c;
}

static void conn_close(stats_server *s, stats_conn *c) {
  if (c->state == CONN_READING) {
    s->pending_queries--;
  }
  mtp_reactor_remove(s->reactor, c->fd);
  close(c->fd);
  mtp_reactor_cancel(s->reactor, c->timer_id);
  free(c->out);
  c->out = NULL;
  c->state = CONN_FREE;
  /* Generations fit the 47 token bits above the slot. */
  c->generation = (c->generation + 1) & 0x7fffffffu;
  s->open_connections--;
}

stats_server *stats_server_new(mtp_reactor *reactor, int listen_fd, const engine_info *info) {
  stats_server *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    return NULL;
  }
  s->reactor = reactor;
  s->listen_fd = listen_fd;
  s->info = info;
  if (mtp_reactor_add(reactor, listen_fd, ENGINE_TOKEN_STATS_LISTENER) != 0) {
    int saved = errno;
    free(s);
    errno = saved;
    return NULL;
  }
  return s;
}

void stats_server_free(stats_server *s) {
  if (s == NULL) {
    return;
  }
  for (size_t i = 0; i < MAX_STATS_CONNECTIONS; i++) {
    if (s->conns[i].state != CONN_FREE) {
      conn_close(s, &s->conns[i]);
    }
  }
  mtp_reactor_remove(s->reactor, s->listen_fd);
  close(s->listen_fd);
  free(s);
}

/* ---- the response ---- */

/* Reads /proc/self/status into `buf`; its length, 0 on failure. */
static size_t read_proc_status(uint8_t *buf, size_t cap) {
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  size_t len = 0;
  while (len < cap) {
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    len += (size_t)n;
  }
  close(fd);
  return len;
}

static int64_t status_bytes(const uint8_t *text, size_t len, const char *key) {
  int64_t bytes = 0;
  if (mtp_parse_status_kb(text, len, (const uint8_t *)key, strlen(key), &bytes) != 0) {
    return 0;
  }
  return bytes;
}

/* The proxy's counters plus the fields the engine owns. */
static void fill_stats(const stats_server *s, mtp_proxy_stats *st) {
  memset(st, 0, sizeof(*st));
  mtp_proxy_collect_stats(s->info->proxy, st);
  time_t now = time(NULL);
  st->pid = (int64_t)getpid();
  st->start_time = (int64_t)s->info->start_time;
  st->current_time = (int64_t)now;
  st->uptime = (int64_t)(now - s->info->start_time);
  uint8_t *status = malloc(PROC_STATUS_MAX);
  if (status != NULL) {
    size_t len = read_proc_status(status, PROC_STATUS_MAX);
    st->vmsize_bytes = status_bytes(status, len, "VmSize");
    st->vmrss_bytes = status_bytes(status, len, "VmRSS");
    st->vmdata_bytes = status_bytes(status, len, "VmData");
    free(status);
  }
  if (st->config_loaded_at == 0) {
    st->config_loaded_at = (int64_t)s->info->config_loaded_at;
  }
  st->config_size = (int64_t)s->info->config_size;
  st->workers = (int64_t)s->info->workers;
  st->http_connections = s->open_connections;
  st->pending_http_queries = s->pending_queries;
  st->http_queries = s->queries;
  st->http_bad_headers = s->bad_headers;
  st->http_qps_milli = st->uptime > 0 ? s->queries * 1000 / st->uptime : 0;
}

/* Renders the body for a 200 of `target` into a malloc'ed buffer. */
static uint8_t *render_body(const stats_server *s, int32_t target, size_t *len) {
  mtp_proxy_stats st;
  fill_stats(s, &st);
  const engine_info *info = s->info;
  mtp_stats_strings strings = {
      .config_filename = (const uint8_t *)info->config_filename,
      .config_filename_len = strlen(info->config_filename),
      .config_md5 = (const uint8_t *)info->config_md5_hex,
      .config_md5_len = strlen(info->config_md5_hex),
      .version = (const uint8_t *)VERSION,
      .version_len = sizeof(VERSION) - 1,
  };
  /* First call measures (a zero cap never fits), the second renders; the
   * domain profiles' lines follow the counters. */
  int metrics = target == MTP_STATS_TARGET_METRICS;
  size_t need = metrics ? mtp_stats_render_prometheus(&st, NULL, 0)
                        : mtp_stats_render_text(&st, &strings, NULL, 0);
  size_t extra = engine_probe_render(info->probe, metrics, NULL, 0);
  uint8_t *body = malloc(need + extra + 1);
  if (body == NULL) {
    return NULL;
  }
  size_t got = metrics ? mtp_stats_render_prometheus(&st, body, need + 1)
                       : mtp_stats_render_text(&st, &strings, body, need + 1);
  if (got > need) {
    *len = 0;
    return body;
  }
  size_t more = engine_probe_render(info->probe, metrics, body + got, extra + 1);
  *len = got + (more <= extra ? more : 0);
  return body;
}

/* Builds the whole response for verdict `req` into `c->out`. 0 or -1. */
static int build_response(stats_server *s, stats_conn *c, const mtp_http_request *req) {
  uint8_t *body = NULL;
  size_t body_len = 0;
  const char *type = TEXT_TYPE;
  if (req->status == 200) {
    body = render_body(s, req->target, &body_len);
    if (body == NULL) {
      return -1;
    }
    if (req->target == MTP_STATS_TARGET_METRICS) {
      type = METRICS_TYPE;
    }
  }
  uint8_t head[MTP_STATS_HTTP_MAX_HEAD_LEN];
  size_t head_len = 0;
  if (mtp_stats_http_response_head(req->status, (const uint8_t *)type, strlen(type), body_len,
                                   (int64_t)time(NULL), head, sizeof(head), &head_len) != 0) {
    free(body);
    return -1;
  }
  c->out = malloc(head_len + body_len);
  if (c->out == NULL) {
    free(body);
    return -1;
  }
  memcpy(c->out, head, head_len);
  if (body_len > 0) {
    memcpy(c->out + head_len, body, body_len);
  }
  free(body);
  c->out_len = head_len + body_len;
  c->out_sent = 0;
  return 0;
}

/* ---- connection I/O ---- */

/* Sends what is queued; on completion shuts the write side and starts
 * discarding input, so closing later does not reset the connection before
 * the client read the answer. 0, or -1 when the connection must close. */
static int conn_flush(stats_conn *c) {
  while (c->out_sent < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
    c->out_sent += (size_t)n;
  }
  free(c->out);
  c->out = NULL;
  c->state = CONN_DRAINING;
  shutdown(c->fd, SHUT_WR);
  return 0;
}

/* Discards input until EAGAIN: -1 at EOF or error (time to close). */
static int conn_discard(stats_conn *c) {
  uint8_t sink[4096];
  for (;;) {
    ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
    if (n > 0) {
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
  }
}

/* Reads the head; once judged, queues the answer. 0 or -1 (close). */
static int conn_read_head(stats_server *s, stats_conn *c) {
  for (;;) {
    if (c->head_len == sizeof(c->head)) {
      break; /* full: the parser gives its verdict (431 at the latest) */
    }
    ssize_t n = recv(c->fd, c->head + c->head_len, sizeof(c->head) - c->head_len, 0);
    if (n > 0) {
      c->head_len += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    return -1; /* EOF or error before a complete head: nobody to answer */
  }
  mtp_http_request req;
  if (mtp_stats_http_parse(c->head, c->head_len, &req) != 0) {
    return -1;
  }
  if (req.status == 0) {
    return 0; /* incomplete: wait for more */
  }
  s->pending_queries--;
  s->queries++;
  if (req.status != 200) {
    s->bad_headers++; /* every refused request, as the Rust engine counts */
  }
  c->state = CONN_WRITING;
  if (build_response(s, c, &req) != 0) {
    engine_log("stats: cannot build a response (out of memory)");
    return -1;
  }
  return conn_flush(c);
}

/* Peers other than 127.0.0.1 are refused: stats are for the local host. */
static int peer_is_loopback(const struct sockaddr_in *peer, socklen_t len) {
  return len >= (socklen_t)sizeof(*peer) && peer->sin_family == AF_INET &&
         ntohl(peer->sin_addr.s_addr) == INADDR_LOOPBACK;
}

static void accept_all(stats_server *s) {
  for (;;) {
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    int fd = accept4(s->listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        /* E.g. EMFILE: the pending connection stays queued; the next edge
         * comes with the next client. Logged, not fatal. */
        engine_log("stats: accept failed: %s", strerror(errno));
      }
      return;
    }
    stats_conn *c = NULL;
    for (size_t i = 0; i < MAX_STATS_CONNECTIONS && c == NULL; i++) {
      if (s->conns[i].state == CONN_FREE) {
        c = &s->conns[i];
      }
    }
    if (c == NULL || !peer_is_loopback(&peer, len)) {
      close(fd);
      continue;
    }
    c->fd = fd;
    c->head_len = 0;
    c->out = NULL;
    c->out_len = c->out_sent = 0;
    c->state = CONN_READING;
    s->open_connections++;
    s->pending_queries++;
    uint64_t token = conn_token(s, c);
    c->timer_id = mtp_reactor_timer(s->reactor, token, STATS_DEADLINE_MS);
    if (c->timer_id == 0 || mtp_reactor_add(s->reactor, fd, token) != 0) {
      conn_close(s, c);
    }
  }
}

void stats_server_handle(stats_server *s, const mtp_event *event) {
  if (event->token == ENGINE_TOKEN_STATS_LISTENER) {
    accept_all(s);
    return;
  }
  stats_conn *c = conn_of_token(s, event->token);
  if (c == NULL) {
    return;
  }
  if (event->events & MTP_EV_TIMER) {
    c->timer_id = 0; /* fired: nothing left to cancel */
    conn_close(s, c);
    return;
  }
  int rc = 0;
  switch (c->state) {
    case CONN_READING:
      if (event->events & (MTP_EV_READ | MTP_EV_CLOSED)) {
        rc = conn_read_head(s, c);
      }
      break;
    case CONN_WRITING:
      if (event->events & MTP_EV_WRITE) {
        rc = conn_flush(c);
      } else if (event->events & MTP_EV_CLOSED) {
        rc = -1;
      }
      break;
    case CONN_DRAINING:
      break;
    case CONN_FREE:
      return;
  }
  if (rc == 0 && c->state == CONN_DRAINING) {
    rc = conn_discard(c);
  }
  if (rc != 0) {
    conn_close(s, c);
  }
}
