/* Middle-end connections (docs/RUNTIME.md "Routing and the middle-end pool";
 * docs/PROTOCOL.md §4): a pool of `min_connections` per address per worker (the
 * pools themselves are kept by proxy-worker.c). Non-blocking connect, the
 * plaintext nonce exchange, key derivation, the encrypted handshake, then
 * AES-256-CBC frames both ways. Frames made during a round collect in
 * `plain` and are padded to a whole block and encrypted straight into the
 * output queue once per round (one write burst). A lost connection closes
 * its clients and reconnects after a doubling backoff. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mtp_mtproto_proxy.h"

#include "proxy-internal.h"

#include "mtp_net_crypto_aes.h"
#include "mtp_pid.h"
#include "mtp_rpc_proxy_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* First reconnect delay and its ceiling (RUNTIME.md). */
#define BACKOFF_FIRST_MS MTP_PROXY_ME_BACKOFF_FIRST_MS
#define BACKOFF_MAX_MS MTP_PROXY_ME_BACKOFF_MAX_MS
/* A connection not ready this long after the connect attempt is dropped
 * (docs/PROTOCOL.md §4.1), so a silent middle-end cannot hold it forever. */
#define READY_DEADLINE_MS MTP_PROXY_ME_READY_DEADLINE_MS
/* `plain` capacity kept between rounds; larger bursts give theirs back. */
#define PLAIN_KEEP (128u * 1024u)
/* A burst is sealed once its frames reach this many bytes, so `plain` stays
 * within PLAIN_KEEP and is reused instead of growing to a whole round. */
#define SEAL_AT (64u * 1024u)

enum me_state { ME_BACKOFF, ME_CONNECTING, ME_NONCE, ME_HANDSHAKE, ME_READY };

struct px_me {
  uint32_t gen; /* bumped on every connect: stale events are ignored */
  mtp_mtproto_target target;
  enum me_state state;
  int fd;
  mtp_rpc_hs hs;
  mtp_rpc_frame_decoder *decoder;
  mtp_aes_ctx *enc, *dec;
  int32_t out_seq;
  int32_t crc;
  px_bytes plain; /* frames of this round, not yet padded and encrypted */
  px_outq out;
  uint8_t partial[16]; /* received ciphertext short of a whole block */
  size_t partial_len;
  uint32_t *bound; /* client slots bound to this connection */
  size_t n_bound, bound_cap;
  size_t over_cap_clients; /* bound clients over the soft cap */
  uint64_t backoff_ms;
  uint64_t timer;
  int retiring; /* its address left the config: close once unused */
  int read_paused;
};

static void me_lost(px_worker *w, size_t slot);

px_me *px_me_at(px_worker *w, size_t slot) { return slot < w->me_cap ? w->mes[slot] : NULL; }

int px_me_ready(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  return m != NULL && m->state == ME_READY && !m->retiring;
}

int px_me_over_cap(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  return m != NULL && px_outq_over_cap(&m->out);
}

static int same_target(const mtp_mtproto_target *a, const mtp_mtproto_target *b) {
  return a->family == b->family && a->port == b->port &&
         (a->family == 6 ? memcmp(a->ipv6, b->ipv6, 16) == 0 : a->ipv4 == b->ipv4);
}

int px_me_goes_to(px_worker *w, size_t slot, const mtp_mtproto_target *target) {
  px_me *m = px_me_at(w, slot);
  return m != NULL && same_target(&m->target, target);
}

/* This worker's connections to `target` other than `except` (only ready
 * ones if `ready`): a target counts as allocated while it has a connection
 * slot and as ready while one of them is ready (/stats). */
static size_t count_target(px_worker *w, const mtp_mtproto_target *target, int ready,
                           size_t except) {
  size_t n = 0;
  for (size_t i = 0; i < w->me_cap; i++) {
    px_me *m = w->mes[i];
    if (i != except && m != NULL && same_target(&m->target, target) &&
        (!ready || m->state == ME_READY)) {
      n++;
    }
  }
  return n;
}

void px_me_set_retiring(px_worker *w, size_t slot, int retiring) {
  px_me *m = px_me_at(w, slot);
  if (m != NULL) {
    m->retiring = retiring;
  }
}

void px_me_retire_if_unused(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  if (m != NULL && m->retiring && m->n_bound == 0) {
    px_me_close(w, slot);
  }
}

int px_connect_nonblocking(const struct sockaddr *addr, socklen_t len) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  if (connect(fd, addr, len) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

static void arm_timer(px_worker *w, px_me *m, size_t slot, uint64_t delay_ms) {
  if (m->timer != 0) {
    mtp_reactor_cancel(w->reactor, m->timer);
  }
  m->timer = mtp_reactor_timer(w->reactor, px_token(PX_K_ME_TIMER, (uint32_t)slot, m->gen), delay_ms);
}

static void me_connect(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  if (m->target.family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)m->target.port);
    memcpy(&a->sin6_addr, m->target.ipv6, 16);
    len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)m->target.port);
    a->sin_addr.s_addr = htonl(m->target.ipv4);
    len = sizeof *a;
  }
  m->gen++;
  int fd = px_connect_nonblocking((struct sockaddr *)&ss, len);
  if (fd < 0) {
    me_lost(w, slot);
    return;
  }
  if (mtp_reactor_add(w->reactor, fd, px_token(PX_K_ME, (uint32_t)slot, m->gen)) != 0) {
    close(fd);
    me_lost(w, slot);
    return;
  }
  m->fd = fd;
  m->state = ME_CONNECTING;
  PX_ADD(w->proxy, me_connections, 1);
  PX_ADD(w->proxy, allocated_outbound, 1);
  arm_timer(w, m, slot, READY_DEADLINE_MS);
}

size_t px_me_open(px_worker *w, const mtp_mtproto_target *target) {
  size_t slot = 0;
  while (slot < w->me_cap && w->mes[slot] != NULL) {
    slot++;
  }
  if (slot == w->me_cap) {
    size_t cap = w->me_cap ? w->me_cap * 2 : 8;
    px_me **mes = realloc(w->mes, cap * sizeof *mes);
    if (mes == NULL) {
      return SIZE_MAX;
    }
    memset(mes + w->me_cap, 0, (cap - w->me_cap) * sizeof *mes);
    w->mes = mes;
    w->me_cap = cap;
  }
  px_me *m = calloc(1, sizeof *m);
  if (m == NULL) {
    return SIZE_MAX;
  }
  if (count_target(w, target, 0, SIZE_MAX) == 0) {
    PX_ADD(w->proxy, allocated_targets, 1);
  }
  m->target = *target;
  m->state = ME_BACKOFF;
  m->fd = -1;
  m->backoff_ms = BACKOFF_FIRST_MS;
  w->mes[slot] = m;
  me_connect(w, slot);
  return slot;
}

/* Host-order IPv4 of an address (IPv4-mapped IPv6 too), else 0. */
static uint32_t ipv4_of(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET) {
    return ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
  }
  const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
  if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
    const uint8_t *b = a->sin6_addr.s6_addr + 12;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
  }
  return 0;
}

static uint16_t port_of(const struct sockaddr_storage *ss) {
  return ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
                                  : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int addresses(int fd, struct sockaddr_storage *local, struct sockaddr_storage *peer) {
  socklen_t l1 = sizeof *local, l2 = sizeof *peer;
  return getsockname(fd, (struct sockaddr *)local, &l1) == 0 &&
         getpeername(fd, (struct sockaddr *)peer, &l2) == 0;
}

/* Connected: start the exchange with our plaintext nonce (seq -2). */
static void send_nonce(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  uint8_t nonce[16];
  px_rng_fill(&w->rng, nonce, sizeof nonce);
  struct sockaddr_storage local, peer;
  if (!addresses(m->fd, &local, &peer)) {
    me_lost(w, slot);
    return;
  }
  int one = 1;
  setsockopt(m->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  uint32_t me_ip = ipv4_of(&peer);
  mtp_process_id our_pid, peer_pid;
  mtp_process_id_init(&our_pid, px_nat_translate(w->proxy, ipv4_of(&local)), -1, (int64_t)getpid(),
                      (int32_t)w->proxy->start_time);
  mtp_process_id_init(&peer_pid, me_ip == 0x7f000001u ? 0 : me_ip, (int16_t)port_of(&peer), 0, 0);
  const uint8_t *secret = w->snapshot->secret;
  mtp_rpc_hs_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.role = MTP_RPC_HS_CLIENT;
  cfg.key_select = (uint32_t)secret[0] | (uint32_t)secret[1] << 8 | (uint32_t)secret[2] << 16 |
                   (uint32_t)secret[3] << 24;
  cfg.want_crc32c = 1;
  mtp_process_id_encode(&our_pid, cfg.our_pid);
  mtp_process_id_encode(&peer_pid, cfg.peer_pid);
  uint8_t payload[MTP_RPC_NONCE_LEN];
  uint8_t frame[MTP_RPC_NONCE_LEN + MTP_RPC_FRAME_OVERHEAD];
  size_t frame_len = 0;
  if (mtp_rpc_hs_init(&m->hs, &cfg, px_unix_now(), nonce) != 0 ||
      mtp_rpc_hs_send_nonce(&m->hs, payload) != 0 ||
      mtp_rpc_frame_encode(-2, payload, sizeof payload, MTP_RPC_FRAME_CRC32, frame, sizeof frame,
                           &frame_len) != 0) {
    me_lost(w, slot);
    return;
  }
  m->decoder = mtp_rpc_frame_decoder_new(-2, MTP_RPC_FRAME_CRC32);
  if (m->decoder == NULL || px_outq_push(&m->out, frame, frame_len) != 0) {
    me_lost(w, slot);
    return;
  }
  m->state = ME_NONCE;
  m->partial_len = 0;
  px_worker_account(w, 0, frame_len);
  px_list_push(&w->dirty_mes, (uint32_t)slot, m->gen);
}

void px_me_event(px_worker *w, uint32_t slot, uint32_t gen, uint32_t events) {
  px_me *m = px_me_at(w, slot);
  if (m == NULL || m->gen != gen || m->fd < 0) {
    return;
  }
  if (m->state == ME_CONNECTING && (events & (MTP_EV_WRITE | MTP_EV_CLOSED))) {
    int err = 0;
    socklen_t len = sizeof err;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0 ||
        getpeername(m->fd, (struct sockaddr *)&peer, &plen) != 0) {
      me_lost(w, slot);
      return;
    }
    send_nonce(w, slot);
    m = px_me_at(w, slot);
    if (m == NULL || m->gen != gen || m->state == ME_BACKOFF) {
      return;
    }
  }
  if (events & MTP_EV_WRITE) {
    px_list_push(&w->dirty_mes, slot, gen);
  }
  if (events & (MTP_EV_READ | MTP_EV_CLOSED)) {
    px_me_readable(w, slot, !(events & MTP_EV_CLOSED));
  }
}

void px_me_timer(px_worker *w, uint32_t slot, uint32_t gen) {
  px_me *m = px_me_at(w, slot);
  if (m == NULL || m->gen != gen) {
    return;
  }
  m->timer = 0;
  if (m->state == ME_BACKOFF) {
    if (m->retiring || w->stopping) {
      px_me_close(w, slot);
    } else {
      me_connect(w, slot);
    }
  } else if (m->state != ME_READY) {
    me_lost(w, slot); /* not ready in time */
  }
}

/* The middle-end's nonce: derive keys, send our handshake (seq -1). */
static int on_nonce(px_worker *w, size_t slot, const uint8_t *payload, size_t len) {
  px_me *m = px_me_at(w, slot);
  if (mtp_rpc_hs_receive_nonce(&m->hs, payload, len, px_unix_now()) != 0) {
    return 0;
  }
  mtp_rpc_key_inputs in;
  struct sockaddr_storage local, peer;
  if (mtp_rpc_hs_key_inputs(&m->hs, &in) != 0 || !addresses(m->fd, &local, &peer)) {
    return 0;
  }
  mtp_rpc_key_params kp;
  memset(&kp, 0, sizeof kp);
  memcpy(kp.nonce_server, in.server_nonce, 16);
  memcpy(kp.nonce_client, in.client_nonce, 16);
  kp.client_timestamp = in.client_ts;
  kp.server_ip = px_nat_translate(w->proxy, ipv4_of(&peer));
  kp.client_ip = px_nat_translate(w->proxy, ipv4_of(&local));
  kp.client_port = port_of(&local);
  kp.server_port = port_of(&peer);
  const struct sockaddr_in6 *p6 = (const struct sockaddr_in6 *)&peer;
  if (peer.ss_family == AF_INET6 && local.ss_family == AF_INET6 &&
      !IN6_IS_ADDR_V4MAPPED(&p6->sin6_addr)) {
    kp.use_ipv6 = 1;
    kp.server_ip = kp.client_ip = 0;
    memcpy(kp.server_ipv6, &p6->sin6_addr, 16);
    memcpy(kp.client_ipv6, &((const struct sockaddr_in6 *)&local)->sin6_addr, 16);
  }
  const px_snapshot *snap = w->snapshot;
  uint8_t wkey[32], wiv[16], rkey[32], riv[16], hs[MTP_RPC_HANDSHAKE_LEN];
  if (mtp_rpc_derive_keys(&kp, snap->secret, snap->secret_len, MTP_RPC_PURPOSE_CLIENT, wkey, wiv) !=
          0 ||
      mtp_rpc_derive_keys(&kp, snap->secret, snap->secret_len, MTP_RPC_PURPOSE_SERVER, rkey, riv) !=
          0) {
    return 0;
  }
  m->enc = mtp_aes_new(MTP_AES_CBC_ENCRYPT, wkey, wiv);
  m->dec = mtp_aes_new(MTP_AES_CBC_DECRYPT, rkey, riv);
  if (m->enc == NULL || m->dec == NULL || mtp_rpc_hs_send_handshake(&m->hs, hs) != 0) {
    return 0;
  }
  m->state = ME_HANDSHAKE;
  m->out_seq = -1;
  px_me_send(w, slot, hs, sizeof hs);
  return 1;
}

/* Pads and encrypts this round's frames straight into the output queue. */
static int seal(px_worker *w, px_me *m) {
  if (m->plain.len == 0 || m->enc == NULL) {
    return 1;
  }
  uint8_t pad[12];
  size_t pad_len = 0;
  if (mtp_rpc_frame_padding(m->plain.len, pad, sizeof pad, &pad_len) != 0 ||
      px_bytes_append(&m->plain, pad, pad_len) != 0) {
    return 0;
  }
  uint8_t *dst = px_outq_reserve(&m->out, m->plain.len);
  if (dst == NULL || mtp_aes_crypt(m->enc, m->plain.data, dst, m->plain.len) != 0) {
    return 0;
  }
  px_outq_commit(&m->out, m->plain.len);
  px_worker_account(w, 0, m->plain.len);
  m->plain.len = 0;
  if (m->plain.cap > PLAIN_KEEP) {
    px_bytes_free(&m->plain);
  }
  return 1;
}

/* The middle-end's handshake; 1 once ready. A refused one gets our
 * HANDSHAKE_ERROR, written at once (best effort) since the connection is
 * dropped right after. */
static int on_handshake(px_worker *w, size_t slot, const uint8_t *payload, size_t len) {
  px_me *m = px_me_at(w, slot);
  if (mtp_rpc_hs_receive_handshake(&m->hs, payload, len) != 0) {
    uint8_t reply[MTP_RPC_HANDSHAKE_ERROR_LEN];
    if (mtp_rpc_hs_error_reply(&m->hs, reply) == 0) {
      px_me_send(w, slot, reply, sizeof reply);
      if (seal(w, m)) {
        size_t before = m->out.bytes;
        px_outq_flush(&m->out, m->fd);
        px_worker_account(w, before, m->out.bytes);
      }
    }
    return 0;
  }
  if (m->hs.use_crc32c) {
    m->crc = MTP_RPC_FRAME_CRC32C;
  }
  if (count_target(w, &m->target, 1, slot) == 0) {
    PX_ADD(w->proxy, ready_targets, 1);
  }
  m->state = ME_READY;
  m->backoff_ms = BACKOFF_FIRST_MS;
  if (m->timer != 0) {
    mtp_reactor_cancel(w->reactor, m->timer);
    m->timer = 0;
  }
  PX_ADD(w->proxy, ready_connections, 1);
  px_client_retry_waiting(w);
  return 1;
}

/* The client slot with ext id `id` if it is bound to connection `slot`. */
static int client_of(px_worker *w, size_t slot, int64_t id, uint32_t *client) {
  uint32_t c = (uint32_t)((uint64_t)id & (PX_MAX_CLIENT_SLOTS - 1));
  size_t me_slot;
  if (px_client_at(w, c) == NULL || px_client_ext_id(w, c, &me_slot) != id || me_slot != slot) {
    return 0;
  }
  *client = c;
  return 1;
}

static void remove_bound(px_me *m, uint32_t client) {
  for (size_t i = 0; i < m->n_bound; i++) {
    if (m->bound[i] == client) {
      m->bound[i] = m->bound[--m->n_bound];
      return;
    }
  }
}

/* A message on a ready connection (docs/PROTOCOL.md §4.9). */
static void on_message(px_worker *w, size_t slot, const uint8_t *p, size_t len) {
  mtp_proxy *proxy = w->proxy;
  uint32_t client;
  switch (mtp_rpc_msg_kind(p, len)) {
    case MTP_RPC_MSG_KIND_PROXY_ANS: {
      mtp_rpc_msg_proxy_ans ans;
      if (mtp_rpc_msg_proxy_ans_decode(p, len, &ans) == 0 && client_of(w, slot, ans.ext_conn_id, &client)) {
        if (px_client_send_payload(w, client, p + ans.data_offset, ans.data_len)) {
          PX_ADD(proxy, forwarded_responses, 1);
        }
      } else {
        PX_ADD(proxy, dropped_responses, 1);
      }
      break;
    }
    case MTP_RPC_MSG_KIND_SIMPLE_ACK: {
      mtp_rpc_msg_simple_ack ack;
      if (mtp_rpc_msg_simple_ack_decode(p, len, &ack) == 0 && client_of(w, slot, ack.ext_conn_id, &client)) {
        px_client_send_quick_ack(w, client, ack.confirm);
        PX_ADD(proxy, forwarded_simple_acks, 1);
      } else {
        PX_ADD(proxy, dropped_simple_acks, 1);
      }
      break;
    }
    case MTP_RPC_MSG_KIND_CLOSE_EXT: {
      int64_t id;
      if (mtp_rpc_msg_close_ext_decode(p, len, &id) == 0 && client_of(w, slot, id, &client)) {
        px_client_detach(w, client);
        px_client_set_closing(w, client);
      }
      break;
    }
    case MTP_RPC_MSG_KIND_PING: {
      uint8_t pong[MTP_RPC_PING_LEN];
      if (mtp_rpc_pong_for_ping(p, len, pong) == 0) {
        px_me_send(w, slot, pong, sizeof pong);
      }
      break;
    }
    default:
      break; /* PONG and unknown messages are ignored */
  }
}

/* Decrypted bytes: cut into frames and handle each. The decoder is taken
 * out while frames are handled (a frame's payload points into it), since
 * handling may drop or free the connection. */
static void me_bytes(px_worker *w, size_t slot, const uint8_t *data, size_t len) {
  px_me *m = px_me_at(w, slot);
  uint32_t gen = m->gen;
  mtp_rpc_frame_decoder *dec = m->decoder;
  if (dec == NULL) {
    return;
  }
  m->decoder = NULL;
  int ok = 1;
  while (len > 0) {
    size_t used = 0;
    mtp_rpc_frame frame;
    int32_t rc = mtp_rpc_frame_decoder_push(dec, data, len, &used, &frame);
    if (rc < 0) {
      if (rc == MTP_RPC_FRAME_ERR_TOO_BIG) {
        /* Its clients are closed with the connection below. */
        px_log("middle-end frame over %d bytes: connection dropped, %zu clients closed",
               (int)MTP_RPC_FRAME_MAX_LEN, (size_t)m->n_bound);
        PX_ADD(w->proxy, dropped_responses, 1);
      }
      ok = 0;
      break;
    }
    data += used;
    len -= used;
    if (rc == 0) {
      continue;
    }
    switch (m->state) {
      case ME_NONCE:
        /* Nothing may follow the nonce before our handshake. */
        ok = len == 0 && on_nonce(w, slot, frame.payload, frame.payload_len);
        break;
      case ME_HANDSHAKE:
        ok = on_handshake(w, slot, frame.payload, frame.payload_len);
        if (ok && m->hs.use_crc32c) {
          mtp_rpc_frame_decoder_set_crc(dec, MTP_RPC_FRAME_CRC32C);
        }
        break;
      case ME_READY:
        on_message(w, slot, frame.payload, frame.payload_len);
        break;
      default:
        ok = 0;
    }
    m = px_me_at(w, slot);
    if (m == NULL || m->gen != gen) {
      mtp_rpc_frame_decoder_free(dec); /* the session it belonged to is gone */
      return;
    }
    if (!ok) {
      break;
    }
  }
  m->decoder = dec;
  if (!ok) {
    me_lost(w, slot);
  }
}

/* A short read ends the loop as in px_client_readable. */
void px_me_readable(px_worker *w, size_t slot, int short_read_drains) {
  uint8_t *buf = w->read_buf;
  for (;;) {
    px_me *m = px_me_at(w, slot);
    if (m == NULL) {
      return;
    }
    m->read_paused = m->over_cap_clients > 0;
    if (m->read_paused || m->fd < 0 ||
        !(m->state == ME_NONCE || m->state == ME_HANDSHAKE || m->state == ME_READY)) {
      return;
    }
    /* Ciphertext short of a block from the last read goes first. */
    size_t carried = m->partial_len;
    memcpy(buf, m->partial, carried);
    ssize_t n = read(m->fd, buf + carried, PX_READ_CHUNK);
    if (n == 0) {
      me_lost(w, slot);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        me_lost(w, slot);
      }
      return;
    }
    size_t total = carried + (size_t)n, usable = total;
    m->partial_len = 0;
    if (m->dec != NULL) {
      usable = total - total % 16;
      m->partial_len = total - usable;
      memcpy(m->partial, buf + usable, m->partial_len);
      if (mtp_aes_crypt(m->dec, buf, buf, usable) != 0) {
        me_lost(w, slot);
        return;
      }
    }
    me_bytes(w, slot, buf, usable);
    if (short_read_drains && (size_t)n < PX_READ_CHUNK) {
      return;
    }
  }
}

void px_me_send(px_worker *w, size_t slot, const uint8_t *payload, size_t len) {
  px_me *m = px_me_at(w, slot);
  if (m == NULL || m->enc == NULL) {
    return;
  }
  size_t start = m->plain.len, room = len + MTP_RPC_FRAME_OVERHEAD;
  if (m->plain.cap - start < room) {
    size_t cap = m->plain.cap ? m->plain.cap : 256;
    while (cap - start < room) {
      cap *= 2;
    }
    uint8_t *p = realloc(m->plain.data, cap);
    if (p == NULL) {
      return;
    }
    m->plain.data = p;
    m->plain.cap = cap;
  }
  size_t out_len = 0;
  if (mtp_rpc_frame_encode(m->out_seq, payload, len, m->crc, m->plain.data + start, room,
                           &out_len) == 0) {
    m->plain.len = start + out_len;
    m->out_seq++;
  }
  if (m->plain.len >= SEAL_AT) {
    /* A failure leaves the burst in `plain`; the round's flush seals
     * again and drops the link if it still cannot. */
    (void)seal(w, m);
  }
  px_list_push(&w->dirty_mes, (uint32_t)slot, m->gen);
}

void px_me_flush(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  if (m == NULL) {
    return;
  }
  int was_over_budget = !px_worker_under_budget(w);
  int was_over = px_outq_over_cap(&m->out);
  if (!seal(w, m)) {
    me_lost(w, slot);
    return;
  }
  size_t before = m->out.bytes;
  int failed = 0;
  if (m->fd >= 0 && m->state != ME_CONNECTING) {
    failed = px_outq_flush(&m->out, m->fd) != 0;
  }
  px_worker_account(w, before, m->out.bytes);
  if (failed) {
    me_lost(w, slot);
    return;
  }
  if (was_over && !px_outq_over_cap(&m->out)) {
    for (size_t i = 0; i < m->n_bound; i++) {
      if (px_client_read_paused(w, m->bound[i])) {
        px_list_push(&w->rerun_clients, m->bound[i], w->client_gen[m->bound[i]]);
      }
    }
  }
  px_worker_budget_relieved(w, was_over_budget);
}

void px_me_bind(px_worker *w, size_t slot, uint32_t client) {
  px_me *m = px_me_at(w, slot);
  if (m->n_bound == m->bound_cap) {
    size_t cap = m->bound_cap ? m->bound_cap * 2 : 16;
    uint32_t *b = realloc(m->bound, cap * sizeof *b);
    if (b == NULL) {
      return; /* the client is then closed with the connection only */
    }
    m->bound = b;
    m->bound_cap = cap;
  }
  m->bound[m->n_bound++] = client;
}

void px_me_client_cap(px_worker *w, size_t slot, int over) {
  px_me *m = px_me_at(w, slot);
  if (m == NULL) {
    return;
  }
  if (over) {
    m->over_cap_clients++;
  } else if (m->over_cap_clients > 0 && --m->over_cap_clients == 0 && m->read_paused) {
    px_list_push(&w->rerun_mes, (uint32_t)slot, m->gen);
  }
}

void px_me_unbind(px_worker *w, size_t slot, uint32_t client, int over_cap, int notify,
                  int64_t ext_id) {
  px_me *m = px_me_at(w, slot);
  if (m == NULL) {
    return;
  }
  remove_bound(m, client);
  if (over_cap) {
    px_me_client_cap(w, slot, 0);
  }
  if (notify && m->state == ME_READY) {
    uint8_t msg[MTP_RPC_MSG_CLOSE_LEN];
    if (mtp_rpc_msg_close_conn_encode(ext_id, msg) == 0) {
      px_me_send(w, slot, msg, sizeof msg);
    }
  }
  px_me_retire_if_unused(w, slot);
}

/* Drops the socket and the session state; the slot stays. */
static void drop_socket(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  if (m->fd >= 0) {
    mtp_reactor_remove(w->reactor, m->fd);
    close(m->fd);
    m->fd = -1;
    PX_ADD(w->proxy, me_connections, -1);
    PX_ADD(w->proxy, allocated_outbound, -1);
  }
  if (m->state == ME_READY) {
    PX_ADD(w->proxy, ready_connections, -1);
    if (count_target(w, &m->target, 1, slot) == 0) {
      PX_ADD(w->proxy, ready_targets, -1);
    }
  }
  m->state = ME_BACKOFF;
  mtp_rpc_frame_decoder_free(m->decoder);
  m->decoder = NULL;
  mtp_aes_free(m->enc);
  mtp_aes_free(m->dec);
  m->enc = m->dec = NULL;
  m->crc = MTP_RPC_FRAME_CRC32;
  px_bytes_free(&m->plain);
  m->partial_len = 0;
  m->over_cap_clients = 0;
  m->read_paused = 0;
  px_worker_account(w, px_outq_clear(&m->out), 0);
  if (m->timer != 0) {
    mtp_reactor_cancel(w->reactor, m->timer);
    m->timer = 0;
  }
}

/* Unbinds every client of the connection (each is closed once its output is
 * flushed) and closes the socket. */
static void release_clients_and_socket(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  while (m->n_bound > 0) {
    uint32_t client = m->bound[--m->n_bound];
    px_client_detach(w, client);
    px_client_set_closing(w, client);
  }
  drop_socket(w, slot);
}

/* The connection failed or closed: only its own clients are closed (once
 * their output is flushed), and this pool member reconnects after its
 * backoff; the other connections of the pool are not touched. */
static void me_lost(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  if (m == NULL) {
    return;
  }
  release_clients_and_socket(w, slot);
  m->gen++; /* events and timers of the lost socket are stale now */
  if (m->retiring || w->stopping) {
    px_me_close(w, slot);
    return;
  }
  uint64_t delay = m->backoff_ms;
  m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
  arm_timer(w, m, slot, delay);
}

/* Frees the slot (worker exit, retired address). */
void px_me_close(px_worker *w, size_t slot) {
  px_me *m = px_me_at(w, slot);
  if (m == NULL) {
    return;
  }
  release_clients_and_socket(w, slot);
  mtp_mtproto_target target = m->target;
  free(m->bound);
  free(m);
  w->mes[slot] = NULL;
  if (count_target(w, &target, 0, SIZE_MAX) == 0) {
    PX_ADD(w->proxy, allocated_targets, -1);
  }
}
