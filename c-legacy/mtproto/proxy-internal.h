/* Private declarations shared by the C mtproto-proxy files: the shared handle
 * (mtproto-proxy.c), one worker's event loop and routing (proxy-worker.c),
 * client connections (proxy-client.c) and middle-end connections
 * (proxy-me.c). Behaviour follows docs/RUNTIME.md; bytes follow docs/PROTOCOL.md. */
#ifndef MTP_PROXY_INTERNAL_H
#define MTP_PROXY_INTERNAL_H

#include "mtp_mtproto_proxy.h"

#include "mtp_aesni256.h"
#include "mtp_ext_framing.h"
#include "mtp_fake_tls.h"
#include "mtp_mtproto_config.h"
#include "mtp_net_events.h"
#include "mtp_obfs2.h"
#include "mtp_rpc_frame.h"
#include "mtp_rpc_handshake.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

/* Soft cap of one connection's output queue (RUNTIME.md "Backpressure"). */
#define PX_QUEUE_SOFT_CAP MTP_PROXY_QUEUE_SOFT_CAP
/* Client handshake deadline, pending-packet deadline and flood limit. */
#define PX_CLIENT_DEADLINE_MS MTP_PROXY_CLIENT_DEADLINE_MS
/* Bytes read from a socket at once. */
#define PX_READ_CHUNK (64u * 1024u)
/* The longest first record a fake-TLS client may send. */
#define PX_MAX_HELLO (16384u + 5u)
/* ext_conn_id slots must fit in 22 bits. */
#define PX_MAX_CLIENT_SLOTS (1u << 22)

/* ---- shared handle (mtproto-proxy.c) ---------------------------------- */

/* One loaded config with the proxy secret it goes with; reference counted
 * so a worker keeps using its snapshot while a reload installs the next. */
typedef struct px_snapshot {
  atomic_long refs;
  uint64_t generation;
  mtp_mtproto_config *config;
  uint8_t secret[256];
  size_t secret_len;
  int64_t loaded_at;
  int64_t size;
} px_snapshot;

/* Counters summed over the workers: gauges go up and down, totals grow. */
typedef struct px_counters {
  atomic_llong forwarded_queries, dropped_queries;
  atomic_llong forwarded_responses, dropped_responses;
  atomic_llong forwarded_simple_acks, dropped_simple_acks;
  atomic_llong failed_flood, accept_failed;
  atomic_llong clients, me_connections, ready_targets, allocated_targets;
  atomic_llong ready_connections; /* ME connections past the handshake */
  atomic_llong ext_connections, ext_connections_created;
  atomic_llong allocated_inbound, allocated_outbound;
  atomic_llong queued_bytes, queued_chunks;
} px_counters;

struct mtp_proxy {
  /* Settings copy. */
  uint8_t *secrets; /* n_secrets * 16 */
  size_t n_secrets;
  mtp_proxy_domain *domains;
  mtp_tls_domain *tls_domains; /* views of `domains` for the fake-tls core */
  size_t n_domains;
  uint8_t ad_tag[16];
  int has_ad_tag;
  uint32_t *nat_info; /* n_nat_info (local, global) pairs */
  size_t n_nat_info;
  uint32_t workers, max_client_connections, window_clamp;
  uint64_t buffer_limit, seed;
  int64_t start_time;

  pthread_mutex_t lock; /* guards `snapshot` and `reactors` */
  px_snapshot *snapshot;
  atomic_ullong generation; /* mirrors snapshot->generation, read lock-free */
  mtp_reactor **reactors;   /* running worker reactors, per index */

  pthread_mutex_t replay_lock;
  mtp_tls_replay_cache *replay;

  pthread_mutex_t profile_lock;
  mtp_tls_profile *tls_profiles; /* per domain; zero = the fallback */

  atomic_int stopping;
  atomic_uint grace_ms;
  px_counters counters;
};

#define PX_ADD(proxy, field, delta) \
  atomic_fetch_add_explicit(&(proxy)->counters.field, (long long)(delta), memory_order_relaxed)

int px_worker_run(mtp_proxy *proxy, uint32_t index, const int32_t *fds, size_t n_fds);
/* Records a running worker's reactor (NULL: unregister); 0 if taken. */
int px_register_worker(mtp_proxy *proxy, uint32_t index, mtp_reactor *reactor);
px_snapshot *px_snapshot_acquire(mtp_proxy *proxy);
/* A copy of domain `domain_index`'s fake-TLS profile (the fallback if none). */
mtp_tls_profile px_tls_profile(mtp_proxy *proxy, int32_t domain_index);
void px_snapshot_release(px_snapshot *snap);
int64_t px_unix_now(void);
/* One `[pid][time] text` line on stderr, as the engine writes them. */
void px_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint32_t px_nat_translate(const mtp_proxy *proxy, uint32_t ip);

/* ---- randomness (RUNTIME.md "Randomness") ---------------------------- */

typedef struct px_rng {
  uint64_t seed; /* 0: the OS */
  uint32_t worker;
  uint64_t block;
  uint8_t buf[4096];
  size_t len, pos;
} px_rng;

void px_rng_init(px_rng *rng, uint64_t seed, uint32_t worker);
void px_rng_fill(px_rng *rng, uint8_t *out, size_t len);
uint32_t px_rng_u32(px_rng *rng);

/* ---- output queue ----------------------------------------------------- */

/* A FIFO of heap chunks; holds no memory while empty (idle connections keep
 * no buffers). */
typedef struct px_chunk {
  struct px_chunk *next;
  size_t start, end, cap;
  uint8_t data[];
} px_chunk;

typedef struct px_outq {
  px_chunk *head, *tail;
  size_t bytes;
} px_outq;

/* Room for `len` contiguous bytes at the tail (committed with
 * px_outq_commit), or NULL when out of memory. */
uint8_t *px_outq_reserve(px_outq *q, size_t len);
void px_outq_commit(px_outq *q, size_t len);
int px_outq_push(px_outq *q, const uint8_t *data, size_t len);
/* Writes to `fd` until EAGAIN or empty: 0, or -1 on a socket error. */
int px_outq_flush(px_outq *q, int fd);
/* Drops everything; returns the bytes dropped. */
size_t px_outq_clear(px_outq *q);
static inline int px_outq_over_cap(const px_outq *q) { return q->bytes > PX_QUEUE_SOFT_CAP; }

/* ---- growable byte buffer -------------------------------------------- */

typedef struct px_bytes {
  uint8_t *data;
  size_t len, cap;
} px_bytes;

int px_bytes_append(px_bytes *b, const uint8_t *data, size_t len);
void px_bytes_free(px_bytes *b);

/* ---- worker ----------------------------------------------------------- */

enum px_kind {
  PX_K_LISTENER = 1,
  PX_K_CLIENT = 2,
  PX_K_RELAY = 3,
  PX_K_ME = 4,
  PX_K_HANDSHAKE_TIMER = 5,
  PX_K_FLOOD_TIMER = 6,
  PX_K_PENDING_TIMER = 7,
  PX_K_ME_TIMER = 8,
  PX_K_GRACE_TIMER = 9,
  PX_K_DRAIN_TIMER = 10,
};

static inline uint64_t px_token(enum px_kind kind, uint32_t slot, uint32_t gen) {
  return (uint64_t)kind | ((uint64_t)(slot & 0x0fffffffu) << 4) | ((uint64_t)gen << 32);
}

typedef struct px_client px_client;
typedef struct px_me px_me;

/* The connections a worker keeps to one config target (RUNTIME.md "Routing
 * and the middle-end pool"): `n` ME slots in a fixed order, and where the
 * round-robin search for a ready one starts next. */
typedef struct px_pool {
  size_t *conns;
  size_t n;
  size_t next;
} px_pool;

/* A list of (slot, generation) pairs: follow-up work of the current round. */
typedef struct px_slot_list {
  uint64_t *items; /* slot | gen << 32 */
  size_t len, cap;
} px_slot_list;

typedef struct px_worker {
  mtp_proxy *proxy;
  uint32_t index;
  mtp_reactor *reactor;
  px_rng rng;
  int *listeners; /* -1 once closed */
  size_t n_listeners;
  int accept_paused;

  px_client **clients;
  uint32_t *client_gen;
  int64_t *last_ext_id; /* reuse counter of each client slot's ext id */
  size_t client_cap, n_clients;
  uint32_t *client_free;
  size_t n_client_free;

  px_me **mes;
  size_t me_cap;

  px_snapshot *snapshot;
  px_pool *pools; /* per config target index */
  size_t n_pools;
  size_t round_robin;

  px_slot_list waiting, dirty_clients, dirty_mes, rerun_clients, rerun_mes;

  size_t queued, budget;
  int stopping;
  uint64_t stop_deadline;

  uint8_t *read_buf;   /* PX_READ_CHUNK + 16 */
  uint8_t *tls_buf;    /* record payload scratch, PX_READ_CHUNK */
  uint8_t *packet_buf; /* one client packet, MTP_EXT_FRAMING_MAX_PACKET_LEN */
  px_bytes msg_buf;    /* one outgoing message */
} px_worker;

int px_list_push(px_slot_list *l, uint32_t slot, uint32_t gen);
void px_worker_account(px_worker *w, size_t before, size_t after);
int px_worker_under_budget(const px_worker *w);
void px_worker_budget_relieved(px_worker *w, int was_over);
void px_worker_accept_ready(px_worker *w, size_t index);
int px_worker_may_accept(const px_worker *w);

/* ---- clients (proxy-client.c, proxy-client-out.c) -------------------- */

enum phase { PH_HELLO, PH_TLS_INNER, PH_DATA, PH_RELAY };

/* A packet waiting for a ready middle-end connection. */
typedef struct pending {
  struct pending *next;
  size_t len;
  int quick_ack, unencrypted;
  uint8_t data[];
} pending;

struct px_client {
  int fd;
  struct sockaddr_storage peer, local;
  enum phase phase;
  px_bytes raw;          /* everything received before the handshake completed */
  mtp_tls_reader *tls;   /* fake-TLS record decoder (TLS_INNER and DATA) */
  px_bytes inner;        /* TLS_INNER: record payload so far */
  mtp_aes_ctx *dec, *enc;
  mtp_ext_framing_decoder *framer;
  int32_t mode;
  int16_t dc;
  int relay_fd;
  px_outq relay_out; /* client -> domain */
  int relay_connected, relay_read_paused;
  px_outq out;
  size_t me; /* bound ME slot when `bound` */
  int bound, me_gone;
  int64_t ext_id;
  pending *pend_head, *pend_tail;
  size_t pending_bytes, n_pending;
  uint64_t handshake_timer, flood_timer, pending_timer, drain_timer;
  int read_paused, over_cap, closing;
};

uint64_t px_client_arm(px_worker *w, enum px_kind kind, uint32_t slot, uint64_t ms);
void px_client_cancel(px_worker *w, uint64_t *timer);
void px_client_mark_dirty(px_worker *w, uint32_t slot);
/* A rejected handshake: relay everything to the first domain. */
/* A client on this local port is relayed to port 80 (docs/PROTOCOL.md §2.2
 * check 2, §2.6); PX_HTTPS_PORT is a `-D NAME` without `:PORT`. */
#define PX_HTTP_PORT 80
#define PX_HTTPS_PORT 443
/* Where a rejected client goes (docs/PROTOCOL.md §2.6): the domain its SNI named
 * (`sni_domain` >= 0, from a VERDICT_RELAY_SNI check), else the first one;
 * at that domain's port (443 unless -D NAME:PORT gave another), except that
 * a client on local port 80 goes to port 80 of a domain on 443. -1 without
 * domains. */
int px_relay_target(const mtp_proxy_domain *domains, size_t n_domains, int32_t sni_domain,
                    uint16_t local_port, uint32_t *ipv4, uint16_t *port);
/* The local port a client connected to (0 if unknown). */
uint16_t px_client_local_port(px_worker *w, uint32_t slot);
/* Relays a rejected client to the default domain / to px_relay_target's. */
void px_client_start_relay(px_worker *w, uint32_t slot);
void px_client_start_relay_to(px_worker *w, uint32_t slot, int32_t sni_domain);

px_client *px_client_get(px_worker *w, uint32_t slot, uint32_t gen);
px_client *px_client_at(px_worker *w, uint32_t slot);
void px_client_accepted(px_worker *w, int fd);
void px_client_event(px_worker *w, uint32_t slot, uint32_t events);
void px_relay_event(px_worker *w, uint32_t slot, uint32_t events);
void px_client_readable(px_worker *w, uint32_t slot, int short_read_drains);
void px_client_flush(px_worker *w, uint32_t slot);
void px_client_timer(px_worker *w, enum px_kind kind, uint32_t slot);
void px_client_close(px_worker *w, uint32_t slot);
void px_client_set_closing(px_worker *w, uint32_t slot);
/* 1 if queued; an answer no transport frame can carry closes the client
 * (logged, counted in dropped_responses) and returns 0. */
int px_client_send_payload(px_worker *w, uint32_t slot, const uint8_t *data, size_t len);
void px_client_send_quick_ack(px_worker *w, uint32_t slot, uint32_t confirm);
/* The client's ME connection let go of it (CLOSE_EXT or lost). */
void px_client_detach(px_worker *w, uint32_t slot);
int px_client_read_paused(px_worker *w, uint32_t slot);
int64_t px_client_ext_id(px_worker *w, uint32_t slot, size_t *me_slot);
void px_client_retry_waiting(px_worker *w);

/* ---- middle-end connections (proxy-me.c) ----------------------------- */

px_me *px_me_at(px_worker *w, size_t slot);
size_t px_me_open(px_worker *w, const mtp_mtproto_target *target);
/* Whether connection `slot` goes to `target`'s address. */
int px_me_goes_to(px_worker *w, size_t slot, const mtp_mtproto_target *target);
void px_me_set_retiring(px_worker *w, size_t slot, int retiring);
void px_me_retire_if_unused(px_worker *w, size_t slot);
int px_me_ready(px_worker *w, size_t slot);
int px_me_over_cap(px_worker *w, size_t slot);
void px_me_event(px_worker *w, uint32_t slot, uint32_t gen, uint32_t events);
void px_me_timer(px_worker *w, uint32_t slot, uint32_t gen);
void px_me_readable(px_worker *w, size_t slot, int short_read_drains);
void px_me_flush(px_worker *w, size_t slot);
void px_me_send(px_worker *w, size_t slot, const uint8_t *payload, size_t len);
void px_me_bind(px_worker *w, size_t slot, uint32_t client);
/* Drops a client's binding; sends CLOSE_CONN for `ext_id` if `notify`. */
void px_me_unbind(px_worker *w, size_t slot, uint32_t client, int over_cap, int notify,
                  int64_t ext_id);
/* A bound client's queue crossed the soft cap (`over` 1) or fell below. */
void px_me_client_cap(px_worker *w, size_t slot, int over);
void px_me_close(px_worker *w, size_t slot);
int px_connect_nonblocking(const struct sockaddr *addr, socklen_t len);

#endif /* MTP_PROXY_INTERNAL_H */
