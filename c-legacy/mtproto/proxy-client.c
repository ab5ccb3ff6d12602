/* Client connections (docs/RUNTIME.md "Client connections"): the
 * obfuscated2 / fake-TLS handshake, the relay to the fronting domain for
 * rejected ones, and the data path: decrypt in place, cut packets, filter,
 * forward as PROXY_REQ; answers are framed straight into the output queue
 * and encrypted there in place (TLS: wrapped into records on the way). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mtp_mtproto_proxy.h"

#include "proxy-internal.h"

#include "mtp_rpc_proxy_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

px_client *px_client_at(px_worker *w, uint32_t slot) {
  return slot < w->client_cap ? w->clients[slot] : NULL;
}

px_client *px_client_get(px_worker *w, uint32_t slot, uint32_t gen) {
  px_client *c = px_client_at(w, slot);
  return c != NULL && w->client_gen[slot] == gen ? c : NULL;
}

int px_client_read_paused(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  return c != NULL && c->read_paused;
}

int64_t px_client_ext_id(px_worker *w, uint32_t slot, size_t *me_slot) {
  px_client *c = px_client_at(w, slot);
  if (c == NULL || !c->bound) {
    *me_slot = SIZE_MAX;
    return 0;
  }
  *me_slot = c->me;
  return c->ext_id;
}

uint64_t px_client_arm(px_worker *w, enum px_kind kind, uint32_t slot, uint64_t ms) {
  return mtp_reactor_timer(w->reactor, px_token(kind, slot, w->client_gen[slot]), ms);
}

void px_client_cancel(px_worker *w, uint64_t *timer) {
  if (*timer != 0) {
    mtp_reactor_cancel(w->reactor, *timer);
    *timer = 0;
  }
}

void px_client_mark_dirty(px_worker *w, uint32_t slot) {
  px_list_push(&w->dirty_clients, slot, w->client_gen[slot]);
}

/* A free slot, growing the table (ext ids limit it to 2^22). */
static int alloc_slot(px_worker *w, uint32_t *slot) {
  if (w->n_client_free > 0) {
    *slot = w->client_free[--w->n_client_free];
    return 1;
  }
  if (w->client_cap >= PX_MAX_CLIENT_SLOTS) {
    return 0;
  }
  size_t cap = w->client_cap ? w->client_cap * 2 : 64;
  px_client **clients = realloc(w->clients, cap * sizeof *clients);
  if (clients != NULL) {
    w->clients = clients;
  }
  uint32_t *gen = clients ? realloc(w->client_gen, cap * sizeof *gen) : NULL;
  if (gen != NULL) {
    w->client_gen = gen;
  }
  int64_t *ids = gen ? realloc(w->last_ext_id, cap * sizeof *ids) : NULL;
  if (ids != NULL) {
    w->last_ext_id = ids;
  }
  uint32_t *free_list = ids ? realloc(w->client_free, cap * sizeof *free_list) : NULL;
  if (free_list == NULL) {
    return 0;
  }
  w->client_free = free_list;
  for (size_t i = w->client_cap; i < cap; i++) {
    w->clients[i] = NULL;
    w->client_gen[i] = 0;
    w->last_ext_id[i] = 0;
  }
  /* Hand out low slots first. */
  for (size_t i = cap; i > w->client_cap + 1; i--) {
    w->client_free[w->n_client_free++] = (uint32_t)(i - 1);
  }
  *slot = (uint32_t)w->client_cap;
  w->client_cap = cap;
  return 1;
}

void px_client_accepted(px_worker *w, int fd) {
  px_client *c = calloc(1, sizeof *c);
  uint32_t slot;
  socklen_t l1 = sizeof c->peer, l2 = sizeof c->local;
  if (c == NULL || getpeername(fd, (struct sockaddr *)&c->peer, &l1) != 0 ||
      getsockname(fd, (struct sockaddr *)&c->local, &l2) != 0 || !alloc_slot(w, &slot)) {
    free(c);
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (w->proxy->window_clamp > 0) {
    int clamp = (int)w->proxy->window_clamp;
    setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &clamp, sizeof clamp);
  }
  uint32_t gen = ++w->client_gen[slot];
  if (mtp_reactor_add(w->reactor, fd, px_token(PX_K_CLIENT, slot, gen)) != 0) {
    w->client_free[w->n_client_free++] = slot;
    free(c);
    close(fd);
    return;
  }
  c->fd = fd;
  c->relay_fd = -1;
  c->phase = PH_HELLO;
  w->clients[slot] = c;
  w->n_clients++;
  c->handshake_timer = px_client_arm(w, PX_K_HANDSHAKE_TIMER, slot, PX_CLIENT_DEADLINE_MS);
  PX_ADD(w->proxy, clients, 1);
  PX_ADD(w->proxy, allocated_inbound, 1);
  /* Bytes may already be waiting; reading now saves a round. */
  px_client_readable(w, slot, 0);
}

void px_client_event(px_worker *w, uint32_t slot, uint32_t events) {
  if (events & MTP_EV_WRITE) {
    px_client_mark_dirty(w, slot);
  }
  if (events & (MTP_EV_READ | MTP_EV_CLOSED)) {
    px_client_readable(w, slot, !(events & MTP_EV_CLOSED));
  }
}

/* Backpressure: may the client be read now? */
static int may_read(px_worker *w, px_client *c) {
  if (c->phase == PH_RELAY) {
    return !px_outq_over_cap(&c->relay_out);
  }
  if (c->phase != PH_DATA) {
    return 1;
  }
  if (c->bound && px_me_over_cap(w, c->me)) {
    return 0;
  }
  return px_worker_under_budget(w) && c->pending_bytes <= PX_QUEUE_SOFT_CAP;
}

static void client_bytes(px_worker *w, uint32_t slot, uint8_t *data, size_t len);

/* With short_read_drains, a read that fills less than the buffer ends the
 * loop: the socket is empty and the edge-triggered registration reports what
 * comes next, so the read that would only return EAGAIN is saved. Not after
 * a reported close (the EOF would stay unread and never be reported again),
 * nor on a resumed read (the close may have come while reading was paused). */
void px_client_readable(px_worker *w, uint32_t slot, int short_read_drains) {
  uint32_t gen = w->client_gen[slot];
  for (;;) {
    px_client *c = px_client_get(w, slot, gen);
    if (c == NULL || c->closing) {
      return;
    }
    if (!may_read(w, c)) {
      c->read_paused = 1;
      return;
    }
    c->read_paused = 0;
    ssize_t n = read(c->fd, w->read_buf, PX_READ_CHUNK);
    if (n > 0) {
      client_bytes(w, slot, w->read_buf, (size_t)n);
      if (short_read_drains && (size_t)n < PX_READ_CHUNK) {
        return;
      }
    } else if (n == 0) {
      /* A relay passes on what the client sent, then closes both. */
      if (c->phase == PH_RELAY) {
        px_client_set_closing(w, slot);
      } else {
        px_client_close(w, slot);
      }
      return;
    } else if (errno != EINTR) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        px_client_close(w, slot);
      }
      return;
    }
  }
}

/* ---- handshake ---------------------------------------------------------- */

static void decoded_bytes(px_worker *w, uint32_t slot, uint8_t *data, size_t len);

/* The handshake succeeded: ciphers and framing, then the bytes after the
 * header (writable: they are decrypted in place). */
static void start_stream(px_worker *w, uint32_t slot, const mtp_obfs2_server_header *h,
                         uint8_t *rest, size_t rest_len) {
  px_client *c = px_client_at(w, slot);
  int32_t mode = mtp_ext_framing_mode_from_tag(h->tag);
  c->dec = mtp_aes_new(MTP_AES_CTR, h->read.key, h->read.iv);
  c->enc = mtp_aes_new(MTP_AES_CTR, h->write.key, h->write.iv);
  if (mode < 0 || c->dec == NULL || c->enc == NULL ||
      mtp_ext_framing_decoder_new(mode, MTP_EXT_FRAMING_FROM_CLIENT, &c->framer) != 0) {
    px_client_close(w, slot);
    return;
  }
  /* The header used the first 64 keystream bytes. */
  uint8_t skip[MTP_OBFS2_HEADER_LEN] = {0};
  mtp_aes_crypt(c->dec, skip, skip, sizeof skip);
  c->mode = mode;
  c->dc = h->dc;
  c->phase = PH_DATA;
  px_client_cancel(w, &c->handshake_timer);
  if (rest_len > 0) {
    decoded_bytes(w, slot, rest, rest_len);
  }
}

static void check_obfs2_header(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  if (c->raw.len < MTP_OBFS2_HEADER_LEN) {
    return;
  }
  mtp_obfs2_server_header h;
  const mtp_proxy *p = w->proxy;
  if (mtp_obfs2_parse_header(c->raw.data, c->raw.len, p->secrets, p->n_secrets, 0, &h) != 0) {
    px_client_close(w, slot); /* no match: close without a word */
    return;
  }
  px_bytes raw = c->raw; /* owned here: the stream may close the client */
  memset(&c->raw, 0, sizeof c->raw);
  start_stream(w, slot, &h, raw.data + MTP_OBFS2_HEADER_LEN, raw.len - MTP_OBFS2_HEADER_LEN);
  px_bytes_free(&raw);
}

static void send_server_hello(px_worker *w, uint32_t slot, const mtp_tls_hello_check *check) {
  px_client *c = px_client_at(w, slot);
  const uint8_t *secret = w->proxy->secrets + 16 * (size_t)check->secret_index;
  mtp_tls_profile profile = px_tls_profile(w->proxy, check->domain_index);
  size_t n = mtp_tls_profile_app_data_len(&profile, px_rng_u32(&w->rng));
  uint8_t *random = malloc(32 + n);
  size_t total = MTP_TLS_SERVER_HELLO_FIXED_LEN + n, written = 0;
  uint8_t *dst = random ? px_outq_reserve(&c->out, total) : NULL;
  c->tls = mtp_tls_reader_new(1);
  if (dst != NULL && c->tls != NULL) {
    px_rng_fill(&w->rng, random, 32 + n);
  }
  if (dst == NULL || c->tls == NULL ||
      mtp_tls_build_server_hello(check->client_random, check->session_id, check->cipher_suite,
                                 secret, n, profile.extensions_swapped == 1, random, 32 + n, dst,
                                 total, &written) != 0) {
    free(random);
    px_client_close(w, slot);
    return;
  }
  free(random);
  px_outq_commit(&c->out, written);
  px_worker_account(w, 0, written);
  c->phase = PH_TLS_INNER;
  px_client_mark_dirty(w, slot);
}

static void check_hello(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  size_t record_len = 0;
  int32_t rc = mtp_tls_detect_client_hello(c->raw.data, c->raw.len, &record_len);
  if (rc == MTP_TLS_ERR_NEED_MORE) {
    return;
  }
  if (rc != 0 || record_len > PX_MAX_HELLO) {
    px_client_start_relay(w, slot);
    return;
  }
  if (c->raw.len < record_len) {
    return;
  }
  mtp_proxy *p = w->proxy;
  /* §2.2 check 2: a hello on local port 80 is relayed, never served.
   * Claiming one byte more than the record stops the check right after the
   * SNI (check 1), before the replay cache sees the hello. */
  int on_http_port = px_client_local_port(w, slot) == PX_HTTP_PORT;
  size_t buffered = on_http_port ? record_len + 1 : c->raw.len;
  mtp_tls_hello_check check;
  pthread_mutex_lock(&p->replay_lock);
  rc = mtp_tls_check_client_hello(c->raw.data, record_len, buffered, p->secrets, p->n_secrets,
                                  p->tls_domains, p->n_domains, p->replay, px_unix_now(), &check);
  pthread_mutex_unlock(&p->replay_lock);
  if (rc == 0 && check.verdict == MTP_TLS_VERDICT_ACCEPT && !on_http_port &&
      check.secret_index >= 0 && (size_t)check.secret_index < p->n_secrets) {
    send_server_hello(w, slot, &check);
  } else if (rc == 0 && check.verdict == MTP_TLS_VERDICT_RELAY_SNI) {
    /* A hello naming one of our domains that fails a later check goes to
     * that domain (§2.6). */
    px_client_start_relay_to(w, slot, check.domain_index);
  } else {
    px_client_start_relay(w, slot);
  }
}

/* Records after the ServerHello, up to the inner obfuscated2 header. */
static void tls_inner_bytes(px_worker *w, uint32_t slot, const uint8_t *data, size_t len) {
  px_client *c = px_client_at(w, slot);
  size_t done = 0;
  while (done < len) {
    size_t used = 0, made = 0;
    if (mtp_tls_reader_feed(c->tls, data + done, len - done, w->tls_buf, PX_READ_CHUNK, &used,
                            &made) != 0 ||
        px_bytes_append(&c->inner, w->tls_buf, made) != 0) {
      px_client_close(w, slot);
      return;
    }
    done += used;
    if (used == 0 && made == 0) {
      break;
    }
  }
  if (c->inner.len < MTP_OBFS2_HEADER_LEN) {
    return;
  }
  mtp_obfs2_server_header h;
  const mtp_proxy *p = w->proxy;
  if (mtp_obfs2_parse_header(c->inner.data, c->inner.len, p->secrets, p->n_secrets, 1, &h) != 0) {
    px_client_start_relay(w, slot);
    return;
  }
  px_bytes_free(&c->raw);
  px_bytes inner = c->inner;
  memset(&c->inner, 0, sizeof c->inner);
  start_stream(w, slot, &h, inner.data + MTP_OBFS2_HEADER_LEN, inner.len - MTP_OBFS2_HEADER_LEN);
  px_bytes_free(&inner);
}

static void client_bytes(px_worker *w, uint32_t slot, uint8_t *data, size_t len) {
  px_client *c = px_client_at(w, slot);
  switch (c->phase) {
    case PH_HELLO:
      if (px_bytes_append(&c->raw, data, len) != 0) {
        px_client_close(w, slot);
      } else if (w->proxy->n_domains > 0) {
        check_hello(w, slot);
      } else {
        check_obfs2_header(w, slot);
      }
      break;
    case PH_TLS_INNER:
      if (px_bytes_append(&c->raw, data, len) != 0) {
        px_client_close(w, slot);
      } else {
        tls_inner_bytes(w, slot, data, len);
      }
      break;
    case PH_DATA:
      if (c->tls == NULL) {
        decoded_bytes(w, slot, data, len);
        break;
      }
      {
        /* Payload never outnumbers record bytes, so tls_buf is enough. */
        size_t done = 0, made_total = 0;
        int failed = 0;
        while (done < len) {
          size_t used = 0, made = 0;
          if (mtp_tls_reader_feed(c->tls, data + done, len - done, w->tls_buf + made_total,
                                  PX_READ_CHUNK - made_total, &used, &made) != 0) {
            failed = 1;
            break;
          }
          done += used;
          made_total += made;
          if (used == 0 && made == 0) {
            break;
          }
        }
        uint32_t gen = w->client_gen[slot];
        if (made_total > 0) {
          decoded_bytes(w, slot, w->tls_buf, made_total);
        }
        if (failed && px_client_get(w, slot, gen) != NULL) {
          px_client_close(w, slot);
        }
      }
      break;
    case PH_RELAY:
      if (px_outq_push(&c->relay_out, data, len) != 0) {
        px_client_close(w, slot);
        return;
      }
      px_worker_account(w, 0, len);
      px_client_mark_dirty(w, slot);
      break;
  }
}

/* ---- data path: client -> middle-end --------------------------------------- */

static void forward(px_worker *w, uint32_t slot, const uint8_t *packet, size_t len, int quick_ack,
                    int unencrypted);

static void decoded_bytes(px_worker *w, uint32_t slot, uint8_t *data, size_t len) {
  uint32_t gen = w->client_gen[slot];
  px_client *c = px_client_at(w, slot);
  mtp_aes_crypt(c->dec, data, data, len);
  while (len > 0) {
    size_t took = 0;
    if (mtp_ext_framing_decoder_feed(c->framer, data, len, &took) != 0) {
      px_client_close(w, slot);
      return;
    }
    data += took;
    len -= took;
    int got = 0;
    for (;;) {
      mtp_ext_framing_packet info;
      int32_t rc = mtp_ext_framing_decoder_next(c->framer, w->packet_buf,
                                                MTP_EXT_FRAMING_MAX_PACKET_LEN, &info);
      if (rc != 0) {
        px_client_close(w, slot);
        return;
      }
      if (!info.ready) {
        break;
      }
      got = 1;
      mtp_ext_framing_verdict v;
      mtp_ext_framing_classify(w->packet_buf, info.length, &v);
      if (v.action == MTP_EXT_FRAMING_PING) {
        px_client_send_payload(w, slot, v.pong, sizeof v.pong);
      } else if (v.action == MTP_EXT_FRAMING_FORWARD) {
        forward(w, slot, w->packet_buf, info.length, info.quick_ack, v.unencrypted);
      }
      c = px_client_get(w, slot, gen);
      if (c == NULL || c->phase != PH_DATA) {
        return;
      }
    }
    if (took == 0 && !got) {
      px_client_close(w, slot); /* cannot happen: a full decoder yields a packet */
      return;
    }
  }
}

/* 16-byte address as PROXY_REQ carries it: IPv4 mapped and translated. */
static void wire_address(const mtp_proxy *p, const struct sockaddr_storage *ss, uint8_t out[16]) {
  const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
  uint32_t ip;
  if (ss->ss_family == AF_INET) {
    ip = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
  } else if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
    const uint8_t *b = a6->sin6_addr.s6_addr + 12;
    ip = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
  } else {
    memcpy(out, ss->ss_family == AF_INET6 ? a6->sin6_addr.s6_addr : (const uint8_t *)"", 16);
    if (ss->ss_family != AF_INET6) {
      memset(out, 0, 16);
    }
    return;
  }
  mtp_rpc_msg_ipv4_mapped(px_nat_translate(p, ip), out);
}

static int port_of(const struct sockaddr_storage *ss) {
  return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                  : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void send_request(px_worker *w, uint32_t slot, const uint8_t *packet, size_t len,
                         int quick_ack, int unencrypted) {
  px_client *c = px_client_at(w, slot);
  const mtp_proxy *p = w->proxy;
  int32_t transport = c->mode == MTP_EXT_FRAMING_ABRIDGED       ? MTP_RPC_MSG_TRANSPORT_ABRIDGED
                      : c->mode == MTP_EXT_FRAMING_INTERMEDIATE ? MTP_RPC_MSG_TRANSPORT_INTERMEDIATE
                                                                : MTP_RPC_MSG_TRANSPORT_PADDED;
  mtp_rpc_msg_proxy_req req;
  memset(&req, 0, sizeof req);
  if (mtp_rpc_msg_proxy_req_flags(transport, quick_ack, unencrypted, p->has_ad_tag, 0,
                                  &req.flags) != 0) {
    return;
  }
  req.ext_conn_id = c->ext_id;
  wire_address(p, &c->peer, req.client_ip);
  req.client_port = port_of(&c->peer);
  wire_address(p, &c->local, req.proxy_ip);
  req.proxy_port = port_of(&c->local);
  memcpy(req.ad_tag, p->ad_tag, 16);
  px_bytes *m = &w->msg_buf;
  size_t need = MTP_RPC_MSG_PROXY_REQ_MAX_HEADER_LEN + len;
  m->len = 0;
  if (m->cap < need && px_bytes_append(m, NULL, 0) == 0) {
    uint8_t *d = realloc(m->data, need);
    if (d == NULL) {
      return;
    }
    m->data = d;
    m->cap = need;
  }
  size_t written = 0;
  if (mtp_rpc_msg_proxy_req_encode(&req, packet, len, m->data, m->cap, &written) == 0) {
    px_me_send(w, c->me, m->data, written);
    PX_ADD(w->proxy, forwarded_queries, 1);
  }
}

/* Binds an unbound client to a ready connection of its cluster, then sends
 * the packets that waited, in order. */
static int try_bind(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  const mtp_mtproto_config *cfg = w->snapshot->config;
  size_t cluster;
  mtp_mtproto_cluster info;
  if (mtp_mtproto_config_lookup(cfg, c->dc, &cluster) != 0 ||
      mtp_mtproto_config_cluster(cfg, cluster, &info) != 0 || info.target_count == 0) {
    return 0;
  }
  /* The first line from the worker's round-robin counter whose target has
   * a ready connection; in that target's pool, the first ready connection
   * from the pool's own round-robin position. */
  size_t picked = SIZE_MAX, index = 0;
  px_pool *pool = NULL;
  for (size_t i = 0; i < info.target_count && picked == SIZE_MAX; i++) {
    size_t target;
    size_t line = (w->round_robin + i) % info.target_count;
    if (mtp_mtproto_config_cluster_target(cfg, cluster, line, &target) != 0 ||
        target >= w->n_pools) {
      continue;
    }
    pool = &w->pools[target];
    for (size_t j = 0; j < pool->n && picked == SIZE_MAX; j++) {
      index = (pool->next + j) % pool->n;
      if (px_me_ready(w, pool->conns[index])) {
        picked = pool->conns[index];
      }
    }
  }
  int64_t id;
  if (picked == SIZE_MAX || mtp_rpc_msg_ext_conn_id_next(w->last_ext_id[slot], slot, &id) != 0) {
    return 0;
  }
  w->round_robin++;
  pool->next = (index + 1) % pool->n;
  w->last_ext_id[slot] = id;
  px_me_bind(w, picked, slot);
  c->me = picked;
  c->bound = 1;
  c->ext_id = id;
  if (c->over_cap) {
    px_me_client_cap(w, picked, 1);
  }
  PX_ADD(w->proxy, ext_connections, 1);
  PX_ADD(w->proxy, ext_connections_created, 1);
  px_client_cancel(w, &c->pending_timer);
  size_t waited = c->pending_bytes;
  c->pending_bytes = 0;
  c->n_pending = 0;
  pending *p = c->pend_head;
  c->pend_head = c->pend_tail = NULL;
  while (p != NULL) {
    pending *next = p->next;
    send_request(w, slot, p->data, p->len, p->quick_ack, p->unencrypted);
    free(p);
    p = next;
  }
  px_worker_account(w, waited, 0);
  return 1;
}

static void forward(px_worker *w, uint32_t slot, const uint8_t *packet, size_t len, int quick_ack,
                    int unencrypted) {
  px_client *c = px_client_at(w, slot);
  if (c->bound) {
    send_request(w, slot, packet, len, quick_ack, unencrypted);
    return;
  }
  size_t cluster;
  int routable = mtp_mtproto_config_lookup(w->snapshot->config, c->dc, &cluster) == 0;
  if (c->pend_head == NULL && !try_bind(w, slot) && !routable) {
    PX_ADD(w->proxy, dropped_queries, 1);
    return;
  }
  if (c->bound) {
    send_request(w, slot, packet, len, quick_ack, unencrypted);
    return;
  }
  pending *p = malloc(sizeof *p + len);
  if (p == NULL) {
    PX_ADD(w->proxy, dropped_queries, 1);
    return;
  }
  p->next = NULL;
  p->len = len;
  p->quick_ack = quick_ack;
  p->unencrypted = unencrypted;
  memcpy(p->data, packet, len);
  if (c->pend_tail != NULL) {
    c->pend_tail->next = p;
  } else {
    c->pend_head = p;
  }
  c->pend_tail = p;
  c->pending_bytes += len;
  c->n_pending++;
  if (c->pending_timer == 0) {
    c->pending_timer = px_client_arm(w, PX_K_PENDING_TIMER, slot, PX_CLIENT_DEADLINE_MS);
    px_list_push(&w->waiting, slot, w->client_gen[slot]);
  }
  px_worker_account(w, 0, len);
}

/* An ME connection became ready: bind the clients waiting for one. */
void px_client_retry_waiting(px_worker *w) {
  px_slot_list list = w->waiting;
  memset(&w->waiting, 0, sizeof w->waiting);
  for (size_t i = 0; i < list.len; i++) {
    uint32_t slot = (uint32_t)list.items[i], gen = (uint32_t)(list.items[i] >> 32);
    px_client *c = px_client_get(w, slot, gen);
    if (c == NULL || c->bound || c->pend_head == NULL) {
      continue;
    }
    if (try_bind(w, slot)) {
      px_list_push(&w->rerun_clients, slot, gen);
    } else {
      px_list_push(&w->waiting, slot, gen);
    }
  }
  free(list.items);
}
