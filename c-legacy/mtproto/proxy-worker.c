/* One worker's event loop (docs/RUNTIME.md "Worker event loop", "Stop and
 * reload"): its own reactor through the net-events contract, its listeners,
 * the client slot table, routing of new clients to middle-end connections,
 * config generations, buffer accounting and the graceful stop. Client logic
 * is in proxy-client.c, middle-end logic in proxy-me.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mtp_mtproto_proxy.h"

#include "proxy-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Events taken per wait. */
#define EVENT_BATCH 256

int px_list_push(px_slot_list *l, uint32_t slot, uint32_t gen) {
  if (l->len == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    uint64_t *items = realloc(l->items, cap * sizeof *items);
    if (items == NULL) {
      return -1;
    }
    l->items = items;
    l->cap = cap;
  }
  l->items[l->len++] = (uint64_t)slot | (uint64_t)gen << 32;
  return 0;
}

static int list_pop(px_slot_list *l, uint32_t *slot, uint32_t *gen) {
  if (l->len == 0) {
    return 0;
  }
  uint64_t v = l->items[--l->len];
  *slot = (uint32_t)v;
  *gen = (uint32_t)(v >> 32);
  return 1;
}

static void list_free(px_slot_list *l) {
  free(l->items);
  l->items = NULL;
  l->len = l->cap = 0;
}

void px_worker_account(px_worker *w, size_t before, size_t after) {
  if (after >= before) {
    w->queued += after - before;
  } else {
    size_t d = before - after;
    w->queued -= d < w->queued ? d : w->queued;
  }
  PX_ADD(w->proxy, queued_bytes, (long long)after - (long long)before);
}

int px_worker_under_budget(const px_worker *w) { return w->queued < w->budget; }

/* Queued data shrank: clients paused for the worker's budget may read. */
void px_worker_budget_relieved(px_worker *w, int was_over) {
  if (!was_over || !px_worker_under_budget(w)) {
    return;
  }
  for (size_t i = 0; i < w->client_cap; i++) {
    if (w->clients[i] != NULL && px_client_read_paused(w, (uint32_t)i)) {
      px_list_push(&w->rerun_clients, (uint32_t)i, w->client_gen[i]);
    }
  }
}

int px_worker_may_accept(const px_worker *w) {
  uint32_t max = w->proxy->max_client_connections;
  return !w->stopping && (max == 0 || w->n_clients < max);
}

void px_worker_accept_ready(px_worker *w, size_t index) {
  for (;;) {
    if (!px_worker_may_accept(w)) {
      w->accept_paused = !w->stopping;
      return;
    }
    if (index >= w->n_listeners || w->listeners[index] < 0) {
      return;
    }
    int fd = accept4(w->listeners[index], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      px_client_accepted(w, fd);
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    }
    if (errno == EINTR || errno == ECONNABORTED) {
      continue;
    }
    PX_ADD(w->proxy, accept_failed, 1);
    /* Out of fds or memory: wait until a client closes rather than spin on
     * the same error (settle() retries after every event). */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      w->accept_paused = 1;
    }
    return;
  }
}

static void pools_free(px_pool *pools, size_t n) {
  for (size_t i = 0; pools != NULL && i < n; i++) {
    free(pools[i].conns);
  }
  free(pools);
}

/* How many connections a worker keeps to `target`: its min_connections
 * (never above max_connections; at least 1). */
static size_t pool_size(const mtp_mtproto_target *target) {
  int32_t n = target->min_connections;
  if (n > target->max_connections) {
    n = target->max_connections;
  }
  return n < 1 ? 1 : (size_t)n;
}

/* Gives every config target its pool: the connections of the old pool of
 * the same address are kept, in their order, up to the new size (the rest
 * retire), and new ones are opened to fill it. Connections in no pool any
 * more retire: they close once no client is bound to them. */
static void apply_snapshot(px_worker *w, px_snapshot *snap) {
  size_t n = mtp_mtproto_config_target_count(snap->config);
  px_pool *pools = calloc(n + 1, sizeof *pools);
  mtp_mtproto_target *targets = calloc(n + 1, sizeof *targets);
  int ok = pools != NULL && targets != NULL;
  for (size_t t = 0; ok && t < n; t++) {
    ok = mtp_mtproto_config_target(snap->config, t, &targets[t]) == 0 &&
         (pools[t].conns = calloc(pool_size(&targets[t]), sizeof *pools[t].conns)) != NULL;
  }
  if (!ok) {
    pools_free(pools, n);
    free(targets);
    px_snapshot_release(snap); /* keep the old pools; the next wake retries */
    return;
  }
  for (size_t t = 0; t < n; t++) {
    size_t want = pool_size(&targets[t]);
    const px_pool *old = NULL;
    for (size_t o = 0; o < w->n_pools && old == NULL; o++) {
      if (w->pools[o].n > 0 && px_me_goes_to(w, w->pools[o].conns[0], &targets[t])) {
        old = &w->pools[o];
      }
    }
    px_pool *pool = &pools[t];
    for (size_t i = 0; old != NULL && i < old->n && pool->n < want; i++) {
      pool->conns[pool->n++] = old->conns[i];
    }
    pool->next = old != NULL ? old->next : 0;
    while (pool->n < want) {
      size_t slot = px_me_open(w, &targets[t]);
      if (slot == SIZE_MAX) {
        break; /* out of memory: a smaller pool */
      }
      pool->conns[pool->n++] = slot;
    }
  }
  free(targets);
  unsigned char *keep = calloc(w->me_cap + 1, 1);
  if (keep != NULL) {
    for (size_t t = 0; t < n; t++) {
      for (size_t i = 0; i < pools[t].n; i++) {
        keep[pools[t].conns[i]] = 1;
      }
    }
    for (size_t s = 0; s < w->me_cap; s++) {
      if (px_me_at(w, s) != NULL && !keep[s]) {
        px_me_set_retiring(w, s, 1);
        px_me_retire_if_unused(w, s);
      }
    }
  }
  free(keep);
  pools_free(w->pools, w->n_pools);
  w->pools = pools;
  w->n_pools = n;
  px_snapshot_release(w->snapshot);
  w->snapshot = snap;
}

static void begin_stop(px_worker *w, uint32_t grace_ms) {
  w->stopping = 1;
  for (size_t i = 0; i < w->n_listeners; i++) {
    if (w->listeners[i] >= 0) {
      mtp_reactor_remove(w->reactor, w->listeners[i]);
      close(w->listeners[i]);
      w->listeners[i] = -1;
    }
  }
  w->stop_deadline = mtp_reactor_now_ms() + grace_ms;
  mtp_reactor_timer(w->reactor, px_token(PX_K_GRACE_TIMER, 0, 0), grace_ms);
}

/* Stop and reload requests (the wake event). */
static void check_shared_state(px_worker *w) {
  mtp_proxy *p = w->proxy;
  if (atomic_load(&p->stopping) == 1 && !w->stopping) {
    begin_stop(w, atomic_load(&p->grace_ms));
  }
  if (!w->stopping && atomic_load(&p->generation) != w->snapshot->generation) {
    apply_snapshot(w, px_snapshot_acquire(p));
  }
}

static void dispatch(px_worker *w, uint64_t token, uint32_t events) {
  enum px_kind kind = (enum px_kind)(token & 0xf);
  uint32_t slot = (uint32_t)((token >> 4) & 0x0fffffffu);
  uint32_t gen = (uint32_t)(token >> 32);
  switch (kind) {
    case PX_K_LISTENER:
      px_worker_accept_ready(w, slot);
      return;
    case PX_K_ME:
      px_me_event(w, slot, gen, events);
      return;
    case PX_K_ME_TIMER:
      px_me_timer(w, slot, gen);
      return;
    case PX_K_GRACE_TIMER:
      return;
    default:
      break;
  }
  if (px_client_get(w, slot, gen) == NULL) {
    return; /* an event for a connection closed earlier this round */
  }
  switch (kind) {
    case PX_K_CLIENT:
      px_client_event(w, slot, events);
      break;
    case PX_K_RELAY:
      px_relay_event(w, slot, events);
      break;
    case PX_K_HANDSHAKE_TIMER:
    case PX_K_FLOOD_TIMER:
    case PX_K_PENDING_TIMER:
    case PX_K_DRAIN_TIMER:
      px_client_timer(w, kind, slot);
      break;
    default:
      break;
  }
}

/* Follow-ups of an event until none is left: resumed reads, then flushes. */
static void settle(px_worker *w) {
  for (;;) {
    uint32_t slot, gen;
    if (list_pop(&w->rerun_clients, &slot, &gen)) {
      if (px_client_get(w, slot, gen) != NULL) {
        px_client_readable(w, slot, 0);
      }
    } else if (list_pop(&w->rerun_mes, &slot, &gen)) {
      px_me *m = px_me_at(w, slot);
      if (m != NULL) {
        px_me_readable(w, slot, 0);
      }
    } else if (list_pop(&w->dirty_mes, &slot, &gen)) {
      if (px_me_at(w, slot) != NULL) {
        px_me_flush(w, slot);
      }
    } else if (list_pop(&w->dirty_clients, &slot, &gen)) {
      if (px_client_get(w, slot, gen) != NULL) {
        px_client_flush(w, slot);
      }
    } else {
      break;
    }
  }
  if (w->accept_paused && px_worker_may_accept(w)) {
    w->accept_paused = 0;
    for (size_t i = 0; i < w->n_listeners; i++) {
      px_worker_accept_ready(w, i);
    }
  }
}

static void shutdown_all(px_worker *w) {
  for (size_t i = 0; i < w->client_cap; i++) {
    if (w->clients[i] != NULL) {
      px_client_close(w, (uint32_t)i);
    }
  }
  for (size_t i = 0; i < w->me_cap; i++) {
    if (px_me_at(w, i) != NULL) {
      px_me_close(w, i);
    }
  }
  settle(w); /* nothing may be left dangling in the lists */
}

static void worker_free(px_worker *w) {
  for (size_t i = 0; i < w->n_listeners; i++) {
    if (w->listeners[i] >= 0) {
      close(w->listeners[i]);
    }
  }
  free(w->listeners);
  free(w->clients);
  free(w->client_gen);
  free(w->last_ext_id);
  free(w->client_free);
  free(w->mes);
  pools_free(w->pools, w->n_pools);
  px_snapshot_release(w->snapshot);
  list_free(&w->waiting);
  list_free(&w->dirty_clients);
  list_free(&w->dirty_mes);
  list_free(&w->rerun_clients);
  list_free(&w->rerun_mes);
  free(w->read_buf);
  free(w->tls_buf);
  free(w->packet_buf);
  px_bytes_free(&w->msg_buf);
}

static int event_loop(px_worker *w) {
  mtp_event events[EVENT_BATCH];
  /* A stop or reload may have come before this worker registered. */
  check_shared_state(w);
  for (;;) {
    if (w->stopping && w->n_clients == 0) {
      break;
    }
    int32_t n = mtp_reactor_wait(w->reactor, events, EVENT_BATCH, -1);
    if (n < 0) {
      return MTP_PROXY_ERR_SYS;
    }
    for (int32_t i = 0; i < n; i++) {
      if (events[i].token == 0) {
        check_shared_state(w);
      } else {
        dispatch(w, events[i].token, events[i].events);
      }
    }
    /* Once per round: the packets of every client read in this round leave
     * in one write per middle-end connection. */
    settle(w);
    if (w->stopping && mtp_reactor_now_ms() >= w->stop_deadline) {
      break;
    }
  }
  return 0;
}

int px_worker_run(mtp_proxy *p, uint32_t index, const int32_t *fds, size_t n_fds) {
  px_worker *w = calloc(1, sizeof *w);
  if (w == NULL) {
    for (size_t i = 0; i < n_fds; i++) {
      close(fds[i]);
    }
    return MTP_PROXY_ERR_SYS;
  }
  w->proxy = p;
  w->index = index;
  w->listeners = malloc((n_fds + 1) * sizeof *w->listeners);
  w->n_listeners = w->listeners ? n_fds : 0;
  for (size_t i = 0; i < w->n_listeners; i++) {
    w->listeners[i] = fds[i];
  }
  w->read_buf = malloc(PX_READ_CHUNK + 16);
  w->tls_buf = malloc(PX_READ_CHUNK + 16);
  w->packet_buf = malloc(MTP_EXT_FRAMING_MAX_PACKET_LEN + 16);
  w->reactor = mtp_reactor_new();
  int rc = 0;
  if (w->listeners == NULL || !w->read_buf || !w->tls_buf || !w->packet_buf || !w->reactor) {
    rc = MTP_PROXY_ERR_SYS;
  }
  for (size_t i = 0; rc == 0 && i < w->n_listeners; i++) {
    if (mtp_reactor_add(w->reactor, fds[i], px_token(PX_K_LISTENER, (uint32_t)i, 0)) != 0) {
      rc = MTP_PROXY_ERR_SYS;
    }
  }
  if (rc == 0 && !px_register_worker(p, index, w->reactor)) {
    rc = MTP_PROXY_ERR_ARG; /* this index is already running */
  }
  if (rc == 0) {
    px_rng_init(&w->rng, p->seed, index);
    uint64_t share = p->buffer_limit / (p->workers ? p->workers : 1);
    w->budget = share == 0 ? SIZE_MAX : (size_t)share;
    w->snapshot = px_snapshot_acquire(p);
    apply_snapshot(w, px_snapshot_acquire(p));
    rc = event_loop(w);
    shutdown_all(w);
    px_register_worker(p, index, NULL);
  }
  mtp_reactor_free(w->reactor);
  worker_free(w);
  free(w);
  return rc;
}
