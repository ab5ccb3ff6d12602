/* The proxy's shared handle (docs/RUNTIME.md): a copy of the settings, the
 * current config snapshot with its generation (bumped on reload), the
 * fake-TLS replay cache behind one mutex, the atomic counters that
 * mtp_proxy_collect_stats sums, and the reactors of the running workers so
 * stop and reload can wake them. Also the small pieces every worker file
 * uses: randomness, output queues and growable buffers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mtp_mtproto_proxy.h"

#include "proxy-internal.h"

#include "mtp_kprintf.h"
#include "mtp_sha256.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Replay-cache entries: ample for two days of hellos on a busy proxy, and
 * bounded so a flood of hellos cannot grow memory without limit. */
#define REPLAY_CACHE_ENTRIES MTP_PROXY_REPLAY_CACHE_ENTRIES
/* Smallest output chunk: many small frames share one allocation. */
#define CHUNK_MIN (16u * 1024u)
#define PROXY_SECRET_MIN 32
#define PROXY_SECRET_MAX 256
#define MAX_SECRETS MTP_PROXY_MAX_SECRETS

static void set_err(uint8_t *err, size_t cap, const char *text) {
  if (err == NULL || cap == 0) {
    return;
  }
  size_t n = strlen(text);
  if (n >= cap) {
    n = cap - 1;
  }
  memcpy(err, text, n);
  err[n] = 0;
}

int64_t px_unix_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec;
}

void px_log(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) {
    return;
  }
  size_t msg_len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t usec = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
  char line[2200];
  size_t len = mtp_log_format_line(line, sizeof line, (int32_t)getpid(), usec,
                                   (const uint8_t *)msg, msg_len);
  if (len >= sizeof line) {
    len = sizeof line - 1;
    line[len - 1] = '\n';
  }
  ssize_t written = write(STDERR_FILENO, line, len); /* one write per line */
  (void)written;
}

uint32_t px_nat_translate(const mtp_proxy *proxy, uint32_t ip) {
  for (size_t i = 0; i < proxy->n_nat_info; i++) {
    if (proxy->nat_info[2 * i] == ip) {
      return proxy->nat_info[2 * i + 1];
    }
  }
  return ip;
}

/* ---- snapshots ---------------------------------------------------------- */

static px_snapshot *snapshot_parse(const uint8_t *config, size_t config_len, const uint8_t *secret,
                                   size_t secret_len, uint64_t generation, uint8_t *err,
                                   size_t err_cap) {
  char text[128];
  if (secret == NULL || secret_len < PROXY_SECRET_MIN || secret_len > PROXY_SECRET_MAX) {
    snprintf(text, sizeof text, "proxy secret must be %d..%d bytes, got %zu", PROXY_SECRET_MIN,
             PROXY_SECRET_MAX, secret == NULL ? (size_t)0 : secret_len);
    set_err(err, err_cap, text);
    return NULL;
  }
  if (config == NULL && config_len > 0) {
    set_err(err, err_cap, "config text missing");
    return NULL;
  }
  mtp_mtproto_config *parsed = NULL;
  int32_t line = 0;
  int32_t rc = mtp_mtproto_config_parse(config, config_len, 0, &parsed, &line);
  if (rc != 0) {
    snprintf(text, sizeof text, "config error %d at line %d", rc, line);
    set_err(err, err_cap, text);
    return NULL;
  }
  px_snapshot *snap = calloc(1, sizeof *snap);
  if (snap == NULL) {
    mtp_mtproto_config_free(parsed);
    set_err(err, err_cap, "out of memory");
    return NULL;
  }
  atomic_init(&snap->refs, 1);
  snap->generation = generation;
  snap->config = parsed;
  memcpy(snap->secret, secret, secret_len);
  snap->secret_len = secret_len;
  snap->loaded_at = px_unix_now();
  snap->size = (int64_t)config_len;
  return snap;
}

px_snapshot *px_snapshot_acquire(mtp_proxy *proxy) {
  pthread_mutex_lock(&proxy->lock);
  px_snapshot *snap = proxy->snapshot;
  atomic_fetch_add(&snap->refs, 1);
  pthread_mutex_unlock(&proxy->lock);
  return snap;
}

void px_snapshot_release(px_snapshot *snap) {
  if (snap != NULL && atomic_fetch_sub(&snap->refs, 1) == 1) {
    mtp_mtproto_config_free(snap->config);
    free(snap);
  }
}

/* ---- randomness ---------------------------------------------------------- */

void px_rng_init(px_rng *rng, uint64_t seed, uint32_t worker) {
  memset(rng, 0, sizeof *rng);
  rng->seed = seed;
  rng->worker = worker;
}

static void rng_refill(px_rng *rng) {
  rng->pos = 0;
  if (rng->seed != 0) {
    /* Block i = SHA-256(le64(seed) || le32(worker) || le64(i)). */
    uint8_t input[20];
    for (int i = 0; i < 8; i++) {
      input[i] = (uint8_t)(rng->seed >> (8 * i));
      input[12 + i] = (uint8_t)(rng->block >> (8 * i));
    }
    for (int i = 0; i < 4; i++) {
      input[8 + i] = (uint8_t)(rng->worker >> (8 * i));
    }
    rng->block++;
    mtp_sha256(input, sizeof input, rng->buf);
    rng->len = 32;
    return;
  }
  /* A batch per syscall, so a connection costs no getrandom call. */
  size_t got = 0;
  while (got < sizeof rng->buf) {
    ssize_t n = getrandom(rng->buf + got, sizeof rng->buf - got, 0);
    if (n > 0) {
      got += (size_t)n;
    } else if (n < 0 && errno != EINTR) {
      break;
    }
  }
  if (got == 0) {
    /* No kernel randomness (should not happen): hash the clock rather than
     * stop; nonces and padding only need bytes that differ per call. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    mtp_sha256((const uint8_t *)&ts, sizeof ts, rng->buf);
    got = 32;
  }
  rng->len = got;
}

void px_rng_fill(px_rng *rng, uint8_t *out, size_t len) {
  size_t done = 0;
  while (done < len) {
    if (rng->pos >= rng->len) {
      rng_refill(rng);
    }
    size_t n = rng->len - rng->pos;
    if (n > len - done) {
      n = len - done;
    }
    memcpy(out + done, rng->buf + rng->pos, n);
    rng->pos += n;
    done += n;
  }
}

uint32_t px_rng_u32(px_rng *rng) {
  uint8_t b[4];
  px_rng_fill(rng, b, 4);
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* ---- buffers --------------------------------------------------------------- */

uint8_t *px_outq_reserve(px_outq *q, size_t len) {
  px_chunk *t = q->tail;
  if (t != NULL && t->cap - t->end >= len) {
    return t->data + t->end;
  }
  size_t cap = len < CHUNK_MIN ? CHUNK_MIN : len;
  px_chunk *c = malloc(sizeof *c + cap);
  if (c == NULL) {
    return NULL;
  }
  c->next = NULL;
  c->start = c->end = 0;
  c->cap = cap;
  if (t != NULL) {
    t->next = c;
  } else {
    q->head = c;
  }
  q->tail = c;
  return c->data;
}

void px_outq_commit(px_outq *q, size_t len) {
  q->tail->end += len;
  q->bytes += len;
}

int px_outq_push(px_outq *q, const uint8_t *data, size_t len) {
  if (len == 0) {
    return 0;
  }
  uint8_t *dst = px_outq_reserve(q, len);
  if (dst == NULL) {
    return -1;
  }
  memcpy(dst, data, len);
  px_outq_commit(q, len);
  return 0;
}

static void outq_pop_head(px_outq *q) {
  px_chunk *c = q->head;
  q->head = c->next;
  if (q->head == NULL) {
    q->tail = NULL;
  }
  free(c);
}

int px_outq_flush(px_outq *q, int fd) {
  while (q->head != NULL) {
    struct iovec iov[64];
    int n = 0;
    for (px_chunk *c = q->head; c != NULL && n < 64; c = c->next) {
      if (c->end > c->start) {
        iov[n].iov_base = c->data + c->start;
        iov[n].iov_len = c->end - c->start;
        n++;
      }
    }
    if (n == 0) {
      while (q->head != NULL) {
        outq_pop_head(q);
      }
      break;
    }
    ssize_t wrote = writev(fd, iov, n);
    if (wrote < 0) {
      if (errno == EINTR) {
        continue;
      }
      return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
    size_t left = (size_t)wrote;
    q->bytes -= left;
    while (q->head != NULL) {
      px_chunk *c = q->head;
      size_t avail = c->end - c->start;
      if (left < avail) {
        c->start += left;
        break;
      }
      left -= avail;
      outq_pop_head(q);
    }
  }
  return 0;
}

size_t px_outq_clear(px_outq *q) {
  size_t n = q->bytes;
  while (q->head != NULL) {
    outq_pop_head(q);
  }
  q->bytes = 0;
  return n;
}

int px_bytes_append(px_bytes *b, const uint8_t *data, size_t len) {
  if (b->cap - b->len < len) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < len) {
      cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
      return -1;
    }
    b->data = p;
    b->cap = cap;
  }
  if (len > 0) {
    memcpy(b->data + b->len, data, len);
  }
  b->len += len;
  return 0;
}

void px_bytes_free(px_bytes *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* ---- the contract ----------------------------------------------------------- */

mtp_proxy *mtp_proxy_new(const mtp_proxy_settings *s, uint8_t *err, size_t err_cap) {
  if (s == NULL) {
    set_err(err, err_cap, "no settings");
    return NULL;
  }
  if (s->n_secrets > MAX_SECRETS || (s->n_secrets > 0 && s->secrets == NULL)) {
    char why[64];
    snprintf(why, sizeof why, "at most %u secrets", (unsigned)MAX_SECRETS);
    set_err(err, err_cap, why);
    return NULL;
  }
  if (s->n_domains > 0 && (s->domains == NULL || s->n_secrets == 0)) {
    set_err(err, err_cap, "fake-TLS domains need at least one secret");
    return NULL;
  }
  if (s->workers == 0) {
    set_err(err, err_cap, "at least one worker");
    return NULL;
  }
  if ((s->n_nat_info > 0 && s->nat_info == NULL) ||
      (s->proxy_secret == NULL && s->proxy_secret_len > 0)) {
    set_err(err, err_cap, "bad argument");
    return NULL;
  }
  for (size_t i = 0; i < s->n_domains; i++) {
    if (s->domains[i].name_len == 0 || s->domains[i].name_len > MTP_PROXY_MAX_DOMAIN_LEN) {
      set_err(err, err_cap, "bad domain name length");
      return NULL;
    }
  }
  px_snapshot *snap =
      snapshot_parse(s->config, s->config_len, s->proxy_secret, s->proxy_secret_len, 1, err, err_cap);
  if (snap == NULL) {
    return NULL;
  }
  mtp_proxy *p = calloc(1, sizeof *p);
  int ok = p != NULL;
  if (ok) {
    p->snapshot = snap;
    p->n_secrets = s->n_secrets;
    p->n_domains = s->n_domains;
    p->n_nat_info = s->n_nat_info;
    p->secrets = malloc(s->n_secrets * 16 + 1);
    p->domains = calloc(s->n_domains + 1, sizeof *p->domains);
    p->tls_domains = calloc(s->n_domains + 1, sizeof *p->tls_domains);
    p->nat_info = malloc(s->n_nat_info * 2 * sizeof(uint32_t) + 1);
    p->reactors = calloc(s->workers, sizeof *p->reactors);
    p->replay = mtp_tls_replay_cache_new(REPLAY_CACHE_ENTRIES);
    p->tls_profiles = calloc(s->n_domains + 1, sizeof *p->tls_profiles);
    ok = p->secrets && p->domains && p->tls_domains && p->nat_info && p->reactors && p->replay &&
         p->tls_profiles;
  }
  if (!ok) {
    if (p != NULL) {
      p->snapshot = NULL;
      free(p->secrets);
      free(p->domains);
      free(p->tls_domains);
      free(p->nat_info);
      free(p->reactors);
      free(p->tls_profiles);
      mtp_tls_replay_cache_free(p->replay);
      free(p);
    }
    px_snapshot_release(snap);
    set_err(err, err_cap, "out of memory");
    return NULL;
  }
  if (s->n_secrets > 0) {
    memcpy(p->secrets, s->secrets, s->n_secrets * 16);
  }
  for (size_t i = 0; i < s->n_domains; i++) {
    p->domains[i] = s->domains[i];
    p->tls_domains[i].data = p->domains[i].name;
    p->tls_domains[i].len = p->domains[i].name_len;
  }
  if (s->n_nat_info > 0) {
    memcpy(p->nat_info, s->nat_info, s->n_nat_info * 2 * sizeof(uint32_t));
  }
  if (s->ad_tag != NULL) {
    memcpy(p->ad_tag, s->ad_tag, 16);
    p->has_ad_tag = 1;
  }
  p->workers = s->workers;
  p->max_client_connections = s->max_client_connections;
  p->window_clamp = s->window_clamp;
  p->buffer_limit = s->buffer_limit;
  p->seed = s->seed;
  p->start_time = px_unix_now();
  pthread_mutex_init(&p->lock, NULL);
  pthread_mutex_init(&p->replay_lock, NULL);
  pthread_mutex_init(&p->profile_lock, NULL);
  atomic_init(&p->generation, 1);
  atomic_init(&p->stopping, 0);
  atomic_init(&p->grace_ms, 0);
  return p;
}

void mtp_proxy_free(mtp_proxy *p) {
  if (p == NULL) {
    return;
  }
  px_snapshot_release(p->snapshot);
  mtp_tls_replay_cache_free(p->replay);
  pthread_mutex_destroy(&p->lock);
  pthread_mutex_destroy(&p->replay_lock);
  pthread_mutex_destroy(&p->profile_lock);
  free(p->tls_profiles);
  free(p->secrets);
  free(p->domains);
  free(p->tls_domains);
  free(p->nat_info);
  free(p->reactors);
  free(p);
}

int32_t mtp_proxy_set_tls_profile(const mtp_proxy *proxy, uint32_t domain_index,
                                  const mtp_tls_profile *profile) {
  if (proxy == NULL || profile == NULL || domain_index >= proxy->n_domains) {
    return MTP_PROXY_ERR_ARG;
  }
  /* The handle is shared by every thread; the profiles are the one field
   * written after creation, under their own lock. */
  mtp_proxy *p = (mtp_proxy *)proxy;
  pthread_mutex_lock(&p->profile_lock);
  p->tls_profiles[domain_index] = *profile;
  pthread_mutex_unlock(&p->profile_lock);
  return 0;
}

mtp_tls_profile px_tls_profile(mtp_proxy *p, int32_t domain_index) {
  mtp_tls_profile profile;
  memset(&profile, 0, sizeof profile);
  if (domain_index >= 0 && (size_t)domain_index < p->n_domains) {
    pthread_mutex_lock(&p->profile_lock);
    profile = p->tls_profiles[domain_index];
    pthread_mutex_unlock(&p->profile_lock);
  }
  return profile;
}

static void wake_all(mtp_proxy *p) {
  pthread_mutex_lock(&p->lock);
  for (uint32_t i = 0; i < p->workers; i++) {
    if (p->reactors[i] != NULL) {
      mtp_reactor_wake(p->reactors[i]);
    }
  }
  pthread_mutex_unlock(&p->lock);
}

int32_t mtp_proxy_worker_run(mtp_proxy *p, uint32_t index, const int32_t *fds, size_t n_fds) {
  if (p == NULL || (fds == NULL && n_fds > 0) || index >= p->workers) {
    return MTP_PROXY_ERR_ARG;
  }
  return px_worker_run(p, index, fds, n_fds);
}

/* Called by a worker with its reactor (NULL to unregister); 0 if the index
 * is already taken. */
int px_register_worker(mtp_proxy *p, uint32_t index, mtp_reactor *reactor) {
  pthread_mutex_lock(&p->lock);
  int ok = reactor == NULL || p->reactors[index] == NULL;
  if (ok) {
    p->reactors[index] = reactor;
  }
  pthread_mutex_unlock(&p->lock);
  return ok;
}

int32_t mtp_proxy_reload(mtp_proxy *p, const uint8_t *config, size_t config_len,
                         const uint8_t *secret, size_t secret_len, uint8_t *err, size_t err_cap) {
  if (p == NULL) {
    set_err(err, err_cap, "no proxy");
    return MTP_PROXY_ERR_ARG;
  }
  pthread_mutex_lock(&p->lock);
  uint64_t next = p->snapshot->generation + 1;
  px_snapshot *snap = snapshot_parse(config, config_len, secret, secret_len, next, err, err_cap);
  px_snapshot *old = NULL;
  if (snap != NULL) {
    old = p->snapshot;
    p->snapshot = snap;
    atomic_store(&p->generation, next);
  }
  pthread_mutex_unlock(&p->lock);
  if (snap == NULL) {
    return MTP_PROXY_ERR_CONFIG;
  }
  px_snapshot_release(old);
  wake_all(p);
  return 0;
}

void mtp_proxy_stop(mtp_proxy *p, uint32_t grace_ms) {
  if (p == NULL) {
    return;
  }
  /* 2 = claimed by this call: the grace is stored before workers see 1. */
  int expected = 0;
  if (atomic_compare_exchange_strong(&p->stopping, &expected, 2)) {
    atomic_store(&p->grace_ms, grace_ms);
    atomic_store(&p->stopping, 1);
    wake_all(p);
  }
}

void mtp_proxy_collect_stats(const mtp_proxy *cp, mtp_proxy_stats *out) {
  if (cp == NULL || out == NULL) {
    return;
  }
  mtp_proxy *p = (mtp_proxy *)cp; /* the lock and reference count only */
  const px_counters *c = &p->counters;
#define GET(f) ((int64_t)atomic_load_explicit(&c->f, memory_order_relaxed))
  px_snapshot *snap = px_snapshot_acquire(p);
  int64_t workers = p->workers;
  out->config_loaded_at = snap->loaded_at;
  out->config_size = snap->size;
  out->config_auth_clusters = (int64_t)mtp_mtproto_config_cluster_count(snap->config);
  out->workers = workers;
  out->queries_get = 0;
  out->qps_get_milli = 0;
  out->tot_forwarded_queries = GET(forwarded_queries);
  out->expired_forwarded_queries = 0;
  out->dropped_queries = GET(dropped_queries);
  out->tot_forwarded_responses = GET(forwarded_responses);
  out->dropped_responses = GET(dropped_responses);
  out->tot_forwarded_simple_acks = GET(forwarded_simple_acks);
  out->dropped_simple_acks = GET(dropped_simple_acks);
  out->active_rpcs_created = 0;
  out->active_rpcs = 0;
  out->rpc_dropped_answers = 0;
  out->rpc_dropped_running = 0;
  out->window_clamp = p->window_clamp;
  int64_t targets = (int64_t)mtp_mtproto_config_target_count(snap->config) * workers;
  px_snapshot_release(snap);
  int64_t ready = GET(ready_targets), allocated = GET(allocated_targets);
  out->total_ready_targets = ready;
  out->total_allocated_targets = allocated;
  out->total_declared_targets = targets;
  out->total_inactive_targets = targets > allocated ? targets - allocated : 0;
  int64_t clients = GET(clients), mes = GET(me_connections);
  int64_t inbound = GET(allocated_inbound), outbound = GET(allocated_outbound);
  out->total_connections = clients + mes;
  out->total_encrypted_connections = GET(ext_connections) + GET(ready_connections);
  out->total_allocated_connections = inbound + outbound;
  out->total_allocated_outbound_connections = outbound;
  out->total_allocated_inbound_connections = inbound;
  out->total_allocated_socket_connections = clients + mes;
  out->total_dh_connections = 0;
  for (int i = 0; i < 3; i++) {
    out->total_dh_rounds[i] = 0;
  }
  out->total_special_connections = clients;
  out->total_max_special_connections = (int64_t)p->max_client_connections * workers;
  for (int i = 0; i < 5; i++) {
    out->total_accept_connections_failed[i] = 0;
  }
  out->total_accept_connections_failed[1] = GET(accept_failed);
  out->ext_connections = GET(ext_connections);
  out->ext_connections_created = GET(ext_connections_created);
  out->total_active_network_events = clients + mes;
  int64_t queued = GET(queued_bytes);
  out->total_network_buffers_used_size = queued;
  out->total_network_buffers_allocated_bytes = queued;
  out->total_network_buffers_used = GET(queued_chunks);
  out->total_network_chunks_allocated = GET(queued_chunks);
  out->total_network_chunks_allocated_max = (int64_t)(p->buffer_limit / 4096);
  out->mtproto_proxy_errors = 0;
  out->connections_failed_lru = 0;
  out->connections_failed_flood = GET(failed_flood);
  out->proxy_mode = 2;
  out->proxy_tag_set = p->has_ad_tag;
#undef GET
}
