/* Client connections, second half: what goes to the client (answers,
 * quick acks, framed and encrypted in place in the output queue), flushing
 * with backpressure bookkeeping, the client timers, closing, and the relay
 * to the fronting domain (docs/RUNTIME.md "Client connections",
 * "Backpressure and memory"). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mtp_mtproto_proxy.h"

#include "proxy-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Keeps the ME's count of over-cap clients and the flood timer in step
 * with the client's queue. */
static void cap_changed(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  int over = px_outq_over_cap(&c->out);
  if (over == c->over_cap) {
    return;
  }
  c->over_cap = over;
  if (over) {
    c->flood_timer = px_client_arm(w, PX_K_FLOOD_TIMER, slot, PX_CLIENT_DEADLINE_MS);
  } else {
    px_client_cancel(w, &c->flood_timer);
  }
  if (c->bound) {
    px_me_client_cap(w, c->me, over);
  }
}

/* Frames one answer (`quick_ack` < 0) or a quick ack for the client's
 * transport, encrypts it and queues it (wrapped in TLS records if needed).
 * Returns 1 if queued, 0 if not (the client may be closed then). */
static int queue_to_client(px_worker *w, uint32_t slot, const uint8_t *payload, size_t len,
                           int64_t quick_ack) {
  px_client *c = px_client_at(w, slot);
  if (c == NULL || c->phase != PH_DATA || c->closing) {
    return 0;
  }
  uint8_t padding[MTP_EXT_FRAMING_MAX_PROXY_PADDING];
  uint8_t random[MTP_EXT_FRAMING_QUICK_ACK_RANDOM_LEN] = {0};
  size_t pad_len = 0;
  if (quick_ack < 0 && c->mode == MTP_EXT_FRAMING_PADDED) {
    uint8_t b;
    px_rng_fill(&w->rng, &b, 1);
    pad_len = b % (MTP_EXT_FRAMING_MAX_PROXY_PADDING + 1);
    px_rng_fill(&w->rng, padding, pad_len);
  } else if (quick_ack >= 0 && c->mode == MTP_EXT_FRAMING_PADDED) {
    px_rng_fill(&w->rng, random, sizeof random);
  }
  size_t max = quick_ack < 0 ? MTP_EXT_FRAMING_MAX_HEADER_LEN + len + pad_len
                             : MTP_EXT_FRAMING_MAX_QUICK_ACK_LEN;
  size_t before = c->out.bytes;
  /* Plain obfuscated2: frame straight into the queue. TLS: frame into the
   * scratch buffer, then wrap into the queue. */
  uint8_t *dst;
  if (c->tls == NULL) {
    dst = px_outq_reserve(&c->out, max);
  } else {
    px_bytes *m = &w->msg_buf;
    if (m->cap < max) {
      uint8_t *d = realloc(m->data, max);
      if (d == NULL) {
        px_client_close(w, slot);
        return 0;
      }
      m->data = d;
      m->cap = max;
    }
    dst = m->data;
  }
  size_t n = 0;
  int32_t rc = dst == NULL ? -1
               : quick_ack < 0
                   ? mtp_ext_framing_encode(MTP_EXT_FRAMING_FROM_PROXY, c->mode, 0, payload, len,
                                            padding, pad_len, dst, max, &n)
                   : mtp_ext_framing_quick_ack(c->mode, (uint32_t)quick_ack, random, sizeof random,
                                               dst, max, &n);
  if (rc != 0) {
    if (dst == NULL) {
      px_client_close(w, slot); /* out of memory */
      return 0;
    }
    /* An answer no transport frame can carry (over the 16 MiB a
     * middle-end frame holds): the client can never get it, so it is closed
     * at once instead of waiting forever. */
    px_log("answer of %zu bytes cannot be framed for the client (error %d): client closed", len,
           (int)rc);
    PX_ADD(w->proxy, dropped_responses, 1);
    px_client_close(w, slot);
    return 0;
  }
  mtp_aes_crypt(c->enc, dst, dst, n);
  if (c->tls == NULL) {
    px_outq_commit(&c->out, n);
  } else {
    size_t wrapped = mtp_tls_wrapped_len(n), written = 0;
    uint8_t *out = px_outq_reserve(&c->out, wrapped);
    int wrap_failed = out == NULL || mtp_tls_wrap_records(dst, n, out, wrapped, &written) != 0;
    if (w->msg_buf.cap > MTP_EXT_FRAMING_MAX_PACKET_LEN + 64) {
      /* A huge answer's scratch space is not kept for the next small one. */
      px_bytes_free(&w->msg_buf);
    }
    if (wrap_failed) {
      px_client_close(w, slot);
      return 0;
    }
    px_outq_commit(&c->out, written);
  }
  px_worker_account(w, before, c->out.bytes);
  px_client_mark_dirty(w, slot);
  cap_changed(w, slot);
  return 1;
}

int px_client_send_payload(px_worker *w, uint32_t slot, const uint8_t *data, size_t len) {
  return queue_to_client(w, slot, data, len, -1);
}

void px_client_send_quick_ack(px_worker *w, uint32_t slot, uint32_t confirm) {
  (void)queue_to_client(w, slot, NULL, 0, (int64_t)confirm);
}

void px_client_detach(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  if (c == NULL || !c->bound) {
    return;
  }
  c->bound = 0;
  c->me_gone = 1;
  PX_ADD(w->proxy, ext_connections, -1);
  if (c->over_cap) {
    px_me_client_cap(w, c->me, 0);
  }
}

static void relay_readable(px_worker *w, uint32_t slot);

void px_client_flush(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  int was_over_budget = !px_worker_under_budget(w);
  size_t before = c->out.bytes + c->relay_out.bytes;
  int dead = px_outq_flush(&c->out, c->fd) != 0;
  int relay = c->phase == PH_RELAY;
  if (relay && c->relay_connected && !dead) {
    dead = px_outq_flush(&c->relay_out, c->relay_fd) != 0;
  }
  px_worker_account(w, before, c->out.bytes + c->relay_out.bytes);
  int drained = c->out.bytes == 0 && c->relay_out.bytes == 0;
  if (dead || (c->closing && drained)) {
    px_client_close(w, slot);
    px_worker_budget_relieved(w, was_over_budget);
    return;
  }
  if (relay) {
    if (c->read_paused && !px_outq_over_cap(&c->relay_out)) {
      px_list_push(&w->rerun_clients, slot, w->client_gen[slot]);
    }
    if (c->relay_read_paused && !px_outq_over_cap(&c->out)) {
      relay_readable(w, slot);
    }
  } else {
    cap_changed(w, slot);
  }
  px_worker_budget_relieved(w, was_over_budget);
}

/* Close once everything queued is written (10 s at most). */
void px_client_set_closing(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  if (c == NULL) {
    return;
  }
  if (!c->closing) {
    c->closing = 1;
    c->drain_timer = px_client_arm(w, PX_K_DRAIN_TIMER, slot, PX_CLIENT_DEADLINE_MS);
  }
  px_client_mark_dirty(w, slot);
}

void px_client_timer(px_worker *w, enum px_kind kind, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  switch (kind) {
    case PX_K_HANDSHAKE_TIMER:
      c->handshake_timer = 0;
      if (c->phase == PH_HELLO || c->phase == PH_TLS_INNER) {
        if (w->proxy->n_domains > 0) {
          px_client_start_relay(w, slot);
        } else {
          px_client_close(w, slot);
        }
      }
      break;
    case PX_K_FLOOD_TIMER:
      c->flood_timer = 0;
      if (px_outq_over_cap(&c->out)) {
        PX_ADD(w->proxy, failed_flood, 1);
        px_client_close(w, slot);
      }
      break;
    case PX_K_PENDING_TIMER:
      c->pending_timer = 0;
      if (!c->bound && c->pend_head != NULL) {
        PX_ADD(w->proxy, dropped_queries, (long long)c->n_pending);
        px_client_close(w, slot);
      }
      break;
    case PX_K_DRAIN_TIMER:
      c->drain_timer = 0;
      px_client_close(w, slot);
      break;
    default:
      break;
  }
}

/* Closes and frees a client; tells its ME connection unless the ME ended
 * it. */
void px_client_close(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  if (c == NULL) {
    return;
  }
  int was_over_budget = !px_worker_under_budget(w);
  w->clients[slot] = NULL;
  w->client_free[w->n_client_free++] = slot;
  w->n_clients--;
  mtp_reactor_remove(w->reactor, c->fd);
  close(c->fd);
  px_client_cancel(w, &c->handshake_timer);
  px_client_cancel(w, &c->flood_timer);
  px_client_cancel(w, &c->pending_timer);
  px_client_cancel(w, &c->drain_timer);
  size_t queued = px_outq_clear(&c->out) + px_outq_clear(&c->relay_out) + c->pending_bytes;
  if (c->relay_fd >= 0) {
    mtp_reactor_remove(w->reactor, c->relay_fd);
    close(c->relay_fd);
    PX_ADD(w->proxy, allocated_outbound, -1);
  }
  px_worker_account(w, queued, 0);
  for (pending *p = c->pend_head; p != NULL;) {
    pending *next = p->next;
    free(p);
    p = next;
  }
  px_bytes_free(&c->raw);
  px_bytes_free(&c->inner);
  mtp_tls_reader_free(c->tls);
  mtp_aes_free(c->dec);
  mtp_aes_free(c->enc);
  mtp_ext_framing_decoder_free(c->framer);
  PX_ADD(w->proxy, clients, -1);
  PX_ADD(w->proxy, allocated_inbound, -1);
  if (c->bound) {
    PX_ADD(w->proxy, ext_connections, -1);
    px_me_unbind(w, c->me, slot, c->over_cap, 1, c->ext_id);
  }
  free(c);
  px_worker_budget_relieved(w, was_over_budget);
}

/* ---- relay to the fronting domain ------------------------------------------ */

int px_relay_target(const mtp_proxy_domain *domains, size_t n_domains, int32_t sni_domain,
                    uint16_t local_port, uint32_t *ipv4, uint16_t *port) {
  if (n_domains == 0) {
    return -1;
  }
  const mtp_proxy_domain *d =
      sni_domain >= 0 && (size_t)sni_domain < n_domains ? &domains[sni_domain] : &domains[0];
  *ipv4 = d->relay_ipv4;
  *port = local_port == PX_HTTP_PORT && d->relay_port == PX_HTTPS_PORT ? PX_HTTP_PORT
                                                                       : d->relay_port;
  return 0;
}

uint16_t px_client_local_port(px_worker *w, uint32_t slot) {
  px_client *c = px_client_at(w, slot);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (c == NULL || getsockname(c->fd, (struct sockaddr *)&ss, &len) != 0) {
    return 0;
  }
  if (ss.ss_family == AF_INET) {
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  }
  if (ss.ss_family == AF_INET6) {
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  return 0;
}

void px_client_start_relay(px_worker *w, uint32_t slot) {
  px_client_start_relay_to(w, slot, -1);
}

void px_client_start_relay_to(px_worker *w, uint32_t slot, int32_t sni_domain) {
  px_client *c = px_client_at(w, slot);
  const mtp_proxy *p = w->proxy;
  uint32_t ipv4;
  uint16_t port;
  if (px_relay_target(p->domains, p->n_domains, sni_domain, px_client_local_port(w, slot), &ipv4,
                      &port) != 0) {
    px_client_close(w, slot);
    return;
  }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(ipv4);
  a.sin_port = htons(port);
  int fd = px_connect_nonblocking((struct sockaddr *)&a, sizeof a);
  if (fd < 0) {
    px_client_close(w, slot);
    return;
  }
  if (mtp_reactor_add(w->reactor, fd, px_token(PX_K_RELAY, slot, w->client_gen[slot])) != 0) {
    close(fd);
    px_client_close(w, slot);
    return;
  }
  c->relay_fd = fd;
  PX_ADD(w->proxy, allocated_outbound, 1);
  px_client_cancel(w, &c->handshake_timer);
  /* Everything the client sent so far goes to the domain first. */
  if (px_outq_push(&c->relay_out, c->raw.data, c->raw.len) != 0) {
    px_client_close(w, slot);
    return;
  }
  px_worker_account(w, 0, c->raw.len);
  px_bytes_free(&c->raw);
  px_bytes_free(&c->inner);
  mtp_tls_reader_free(c->tls);
  c->tls = NULL;
  c->phase = PH_RELAY;
}

void px_relay_event(px_worker *w, uint32_t slot, uint32_t events) {
  px_client *c = px_client_at(w, slot);
  if (c->phase != PH_RELAY) {
    return;
  }
  if (!c->relay_connected && (events & (MTP_EV_WRITE | MTP_EV_CLOSED))) {
    int err = 0;
    socklen_t len = sizeof err;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (getsockopt(c->relay_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0 ||
        getpeername(c->relay_fd, (struct sockaddr *)&peer, &plen) != 0) {
      px_client_close(w, slot);
      return;
    }
    c->relay_connected = 1;
    int one = 1;
    setsockopt(c->relay_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (events & MTP_EV_WRITE) {
    px_client_mark_dirty(w, slot);
  }
  if (events & (MTP_EV_READ | MTP_EV_CLOSED)) {
    relay_readable(w, slot);
  }
}

/* Domain -> client, paused while the client's queue is over the cap. */
static void relay_readable(px_worker *w, uint32_t slot) {
  uint32_t gen = w->client_gen[slot];
  for (;;) {
    px_client *c = px_client_get(w, slot, gen);
    if (c == NULL || c->phase != PH_RELAY || !c->relay_connected || c->closing) {
      return;
    }
    c->relay_read_paused = px_outq_over_cap(&c->out);
    if (c->relay_read_paused) {
      return;
    }
    ssize_t n = read(c->relay_fd, w->read_buf, PX_READ_CHUNK);
    if (n > 0) {
      if (px_outq_push(&c->out, w->read_buf, (size_t)n) != 0) {
        px_client_close(w, slot);
        return;
      }
      px_worker_account(w, 0, (size_t)n);
      px_client_mark_dirty(w, slot);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
      px_client_set_closing(w, slot);
      return;
    } else if (errno != EINTR) {
      return;
    }
  }
}
