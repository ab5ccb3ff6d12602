/* The domain probe (docs/PROTOCOL.md section 2.4, docs/RUNTIME.md "Domain
 * probe"): for each -D domain, MTP_TLS_PROBE_CONNECTIONS connections at once
 * (one thread each, blocking sockets with timeouts), each sending the
 * fake-tls core's probe ClientHello and reading the domain's first flight
 * until it is complete and the domain has been quiet for
 * MTP_TLS_PROBE_QUIET_MS. The replies that parse become the domain's
 * profile, handed to the proxy and kept for the stats pages. Once at
 * start-up, then every MTP_TLS_PROBE_INTERVAL_S plus a random part of
 * MTP_TLS_PROBE_JITTER_S on a background thread. A failed round keeps the
 * last profile. */
#include "engine-internal.h"
#include "mtp_engine_main.h"

#include "mtp_fake_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

struct engine_probe {
  const mtp_proxy *proxy;
  mtp_proxy_domain *domains;
  size_t n_domains;
  pthread_mutex_t lock; /* guards `profiles` */
  mtp_tls_profile *profiles;
  pthread_mutex_t stop_lock;
  pthread_cond_t stop_cond;
  int stopping;
  int thread_started;
  pthread_t thread;
};

typedef struct {
  const mtp_proxy_domain *domain;
  struct timespec deadline; /* CLOCK_MONOTONIC */
  int ok;
  mtp_tls_probe_reply reply;
} probe_conn;

static int64_t ms_left(const struct timespec *deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
         (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for `events` on `fd` for at most `ms`; 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t ms) {
  if (ms <= 0) {
    return 0;
  }
  struct pollfd p = {.fd = fd, .events = events};
  for (;;) {
    int rc = poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    return rc < 0 ? -1 : rc;
  }
}

static int connect_by(int fd, const mtp_proxy_domain *d, const struct timespec *deadline) {
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(d->relay_port);
  addr.sin_addr.s_addr = htonl(d->relay_ipv4);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
    return 0;
  }
  if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, ms_left(deadline)) != 1) {
    return -1;
  }
  int err = 0;
  socklen_t len = sizeof err;
  return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 ? 0 : -1;
}

static int send_all(int fd, const uint8_t *data, size_t len, const struct timespec *deadline) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      len -= (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (wait_fd(fd, POLLOUT, ms_left(deadline)) != 1) {
        return -1;
      }
    } else {
      return -1;
    }
  }
  return 0;
}

/* One probe connection: reads until the flight is complete and quiet. */
static void *probe_one(void *arg) {
  probe_conn *pc = arg;
  uint8_t random[MTP_TLS_PROBE_RANDOM_LEN], hello[MTP_TLS_PROBE_HELLO_LEN];
  if (getrandom(random, sizeof random, 0) != (ssize_t)sizeof random) {
    memset(random, 0x5a, sizeof random);
  }
  size_t hello_len = 0;
  if (mtp_tls_build_probe_hello(pc->domain->name, pc->domain->name_len, random, hello,
                                sizeof hello, &hello_len) != 0) {
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return NULL;
  }
  size_t cap = 64 * 1024, len = 0;
  uint8_t *data = malloc(cap);
  int parsed = 0;
  if (data == NULL || connect_by(fd, pc->domain, &pc->deadline) != 0 ||
      send_all(fd, hello, hello_len, &pc->deadline) != 0) {
    goto out;
  }
  for (;;) {
    int64_t wait = ms_left(&pc->deadline);
    if (parsed && wait > MTP_TLS_PROBE_QUIET_MS) {
      wait = MTP_TLS_PROBE_QUIET_MS;
    }
    if (wait_fd(fd, POLLIN, wait) != 1) {
      break; /* quiet after a complete record, or the deadline */
    }
    if (len == cap) {
      /* ServerHello, CCS and MTP_TLS_PROBE_MAX_RECORDS records of the
       * largest size fit in 256 KiB; a domain sending more cannot grow
       * memory. */
      if (cap >= 256 * 1024) {
        break;
      }
      uint8_t *bigger = realloc(data, cap * 2);
      if (bigger == NULL) {
        break;
      }
      data = bigger;
      cap *= 2;
    }
    ssize_t n = recv(fd, data + len, cap - len, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    len += (size_t)n;
    mtp_tls_probe_reply reply;
    int32_t rc = mtp_tls_parse_probe_reply(data, len, random + 32, &reply);
    if (rc == 0) {
      pc->reply = reply;
      parsed = 1;
      if (reply.record_count >= MTP_TLS_PROBE_MAX_RECORDS) {
        break;
      }
    } else if (rc != MTP_TLS_ERR_NEED_MORE) {
      parsed = 0;
      break;
    }
  }
  pc->ok = parsed;
out:
  free(data);
  close(fd);
  return NULL;
}

/* One round for every domain; `learned[i]` is set where a profile came. */
static void probe_round(engine_probe *p, mtp_tls_profile *out, int *learned) {
  size_t per = MTP_TLS_PROBE_CONNECTIONS, total = p->n_domains * per;
  probe_conn *conns = calloc(total, sizeof *conns);
  pthread_t *threads = calloc(total, sizeof *threads);
  int *started = calloc(total, sizeof *started);
  mtp_tls_probe_reply *replies = calloc(per, sizeof *replies);
  memset(learned, 0, p->n_domains * sizeof *learned);
  if (conns == NULL || threads == NULL || started == NULL || replies == NULL) {
    goto out;
  }
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += MTP_TLS_PROBE_DEADLINE_MS / 1000;
  deadline.tv_nsec += (MTP_TLS_PROBE_DEADLINE_MS % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  for (size_t i = 0; i < total; i++) {
    conns[i].domain = &p->domains[i / per];
    conns[i].deadline = deadline;
    started[i] = pthread_create(&threads[i], NULL, probe_one, &conns[i]) == 0;
  }
  for (size_t i = 0; i < total; i++) {
    if (started[i]) {
      pthread_join(threads[i], NULL);
    }
  }
  time_t now = time(NULL);
  for (size_t d = 0; d < p->n_domains; d++) {
    size_t n = 0;
    for (size_t k = 0; k < per; k++) {
      if (conns[d * per + k].ok) {
        replies[n++] = conns[d * per + k].reply;
      }
    }
    learned[d] = n > 0 && mtp_tls_profile_from_replies(replies, n, (int64_t)now, &out[d]) == 0;
  }
out:
  free(conns);
  free(threads);
  free(started);
  free(replies);
}

static void apply_round(engine_probe *p, const mtp_tls_profile *round, const int *learned) {
  pthread_mutex_lock(&p->lock);
  for (size_t d = 0; d < p->n_domains; d++) {
    const mtp_proxy_domain *dom = &p->domains[d];
    if (learned[d]) {
      p->profiles[d] = round[d];
      mtp_proxy_set_tls_profile(p->proxy, (uint32_t)d, &round[d]);
      engine_log("domain probe: %.*s answers with a %zu-byte encrypted flight in %zu record(s), "
                 "%s first",
                 (int)dom->name_len, (const char *)dom->name, round[d].app_data_len,
                 round[d].record_count,
                 round[d].extensions_swapped ? "supported_versions" : "key_share");
    } else {
      struct in_addr a = {.s_addr = htonl(dom->relay_ipv4)};
      char ip[INET_ADDRSTRLEN] = "?";
      inet_ntop(AF_INET, &a, ip, sizeof ip);
      engine_log("warning: domain probe: %.*s (%s:%u) did not answer like a TLS 1.3 server; %s",
                 (int)dom->name_len, (const char *)dom->name, ip, (unsigned)dom->relay_port,
                 p->profiles[d].learned ? "keeping the last learned profile"
                                        : "using the default ServerHello sizes");
    }
  }
  pthread_mutex_unlock(&p->lock);
}

static void run_round(engine_probe *p) {
  mtp_tls_profile *round = calloc(p->n_domains + 1, sizeof *round);
  int *learned = calloc(p->n_domains + 1, sizeof *learned);
  if (round != NULL && learned != NULL) {
    probe_round(p, round, learned);
    apply_round(p, round, learned);
  }
  free(round);
  free(learned);
}

engine_probe *engine_probe_new(const mtp_proxy *proxy, const mtp_proxy_domain *domains,
                               size_t n_domains) {
  engine_probe *p = calloc(1, sizeof *p);
  if (p == NULL) {
    return NULL;
  }
  p->proxy = proxy;
  p->n_domains = n_domains;
  p->domains = calloc(n_domains + 1, sizeof *p->domains);
  p->profiles = calloc(n_domains + 1, sizeof *p->profiles);
  if (p->domains == NULL || p->profiles == NULL) {
    free(p->domains);
    free(p->profiles);
    free(p);
    return NULL;
  }
  if (n_domains > 0) {
    memcpy(p->domains, domains, n_domains * sizeof *domains);
  }
  pthread_mutex_init(&p->lock, NULL);
  pthread_mutex_init(&p->stop_lock, NULL);
  pthread_cond_init(&p->stop_cond, NULL);
  return p;
}

void engine_probe_first_round(engine_probe *p) {
  if (p != NULL && p->n_domains > 0) {
    run_round(p);
  }
}

static void *reprobe_main(void *arg) {
  engine_probe *p = arg;
  pthread_mutex_lock(&p->stop_lock);
  while (!p->stopping) {
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
      r = 0;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += MTP_TLS_PROBE_INTERVAL_S + (time_t)(r % MTP_TLS_PROBE_JITTER_S);
    int rc = 0;
    while (!p->stopping && rc != ETIMEDOUT) {
      rc = pthread_cond_timedwait(&p->stop_cond, &p->stop_lock, &until);
    }
    if (p->stopping) {
      break;
    }
    pthread_mutex_unlock(&p->stop_lock);
    run_round(p);
    pthread_mutex_lock(&p->stop_lock);
  }
  pthread_mutex_unlock(&p->stop_lock);
  return NULL;
}

void engine_probe_start(engine_probe *p) {
  if (p != NULL && p->n_domains > 0 && !p->thread_started) {
    p->thread_started = pthread_create(&p->thread, NULL, reprobe_main, p) == 0;
    if (!p->thread_started) {
      engine_log("warning: cannot start the domain re-probe thread; profiles stay as learned");
    }
  }
}

void engine_probe_free(engine_probe *p) {
  if (p == NULL) {
    return;
  }
  if (p->thread_started) {
    pthread_mutex_lock(&p->stop_lock);
    p->stopping = 1;
    pthread_cond_signal(&p->stop_cond);
    pthread_mutex_unlock(&p->stop_lock);
    pthread_join(p->thread, NULL);
  }
  pthread_cond_destroy(&p->stop_cond);
  pthread_mutex_destroy(&p->stop_lock);
  pthread_mutex_destroy(&p->lock);
  free(p->domains);
  free(p->profiles);
  free(p);
}

size_t engine_probe_render(engine_probe *p, int prometheus, uint8_t *out, size_t cap) {
  if (p == NULL) {
    return 0;
  }
  size_t total = 0;
  int64_t now = (int64_t)time(NULL);
  pthread_mutex_lock(&p->lock);
  for (size_t d = 0; d < p->n_domains; d++) {
    size_t room = total < cap ? cap - total : 0;
    total += mtp_tls_render_profile_stats(p->domains[d].name, p->domains[d].name_len,
                                          &p->profiles[d], now, prometheus,
                                          room ? out + total : NULL, room);
  }
  pthread_mutex_unlock(&p->lock);
  return total;
}
