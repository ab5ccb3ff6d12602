/* The engine: turns the parsed command line into a running proxy. It reads
 * the two files, builds the proxy, binds every socket while still
 * privileged, drops privileges, starts the workers and then serves signals
 * and the stats page on its own thread until a graceful stop finishes. */
#include "mtp_engine_main.h"
#include "mtp_jobs_threads.h"
#include "mtp_kprintf.h"
#include "mtp_md5.h"
#include "mtp_mtproto_proxy.h"
#include "mtp_net_events.h"

#include "engine/engine-internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* How long started workers wait for their siblings before giving up: only
 * a failed thread creation keeps them waiting that long. */
#define WORKER_GATE_TIMEOUT_S 5
#define ENGINE_EVENT_BATCH 64

void engine_log(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (n < 0) {
    return;
  }
  size_t msg_len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
  struct timeval tv;
  gettimeofday(&tv, NULL);
  int64_t usec = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
  char line[2200];
  size_t len = mtp_log_format_line(line, sizeof(line), (int32_t)getpid(), usec,
                                   (const uint8_t *)msg, msg_len);
  if (len >= sizeof(line)) {
    /* Cut (escapes can quadruple a message); the line still ends. */
    len = sizeof(line) - 1;
    line[len - 1] = '\n';
  }
  /* One write per line, so lines of different threads do not interleave. */
  ssize_t written = write(STDERR_FILENO, line, len);
  (void)written;
}

/* ---- workers ---- */

typedef enum gate_state { GATE_PENDING, GATE_OPEN, GATE_ABORTED } gate_state;

/* Shared by the worker entries. Workers wait at the gate until all of
 * them exist: if a thread cannot be created, mtp_jobs_start joins the ones
 * already running, so these must return on their own instead of running
 * the proxy. */
typedef struct worker_ctx {
  mtp_proxy *proxy;
  const int *listen_fds; /* workers x n_ports */
  size_t n_ports;
  uint32_t workers;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint32_t arrived;
  gate_state gate;
  atomic_bool *ran; /* per worker: took ownership of its listeners */
} worker_ctx;

static int pass_gate(worker_ctx *w) {
  pthread_mutex_lock(&w->lock);
  w->arrived++;
  if (w->arrived == w->workers && w->gate == GATE_PENDING) {
    w->gate = GATE_OPEN;
    pthread_cond_broadcast(&w->cond);
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += WORKER_GATE_TIMEOUT_S;
  while (w->gate == GATE_PENDING) {
    if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT &&
        w->gate == GATE_PENDING) {
      w->gate = GATE_ABORTED;
      pthread_cond_broadcast(&w->cond);
    }
  }
  int open = w->gate == GATE_OPEN;
  pthread_mutex_unlock(&w->lock);
  return open;
}

static void worker_entry(void *ctx, uint32_t index) {
  worker_ctx *w = ctx;
  if (!pass_gate(w)) {
    engine_log("worker %u: not all workers started, giving up", (unsigned)index);
    return;
  }
  atomic_store(&w->ran[index], true);
  int32_t rc = mtp_proxy_worker_run(w->proxy, index, w->listen_fds + (size_t)index * w->n_ports,
                                    w->n_ports);
  if (rc != 0) {
    engine_log("worker %u failed to run (%d)", (unsigned)index, (int)rc);
  }
}

/* Joins the workers off the engine thread so it keeps serving signals and
 * stats meanwhile; wakes the engine's reactor when they are all gone. */
typedef struct joiner {
  mtp_jobs *jobs;
  mtp_reactor *reactor;
  atomic_bool done;
} joiner;

static void *joiner_main(void *arg) {
  joiner *j = arg;
  mtp_jobs_join(j->jobs);
  atomic_store(&j->done, true);
  mtp_reactor_wake(j->reactor);
  return NULL;
}

/* ---- the engine thread ---- */

typedef struct engine {
  const mtp_engine_config *config;
  engine_files files;
  mtp_proxy *proxy;
  engine_info info;
  int stopping;
} engine;

static void update_config_info(engine *e) {
  uint8_t digest[16];
  mtp_md5(e->files.config, e->files.config_len, digest);
  for (int i = 0; i < 16; i++) {
    snprintf(e->info.config_md5_hex + 2 * i, 3, "%02x", digest[i]);
  }
  e->info.config_size = e->files.config_len;
  e->info.config_loaded_at = time(NULL);
}

static void reload(engine *e) {
  engine_files fresh;
  char why[512];
  if (engine_read_files(e->config, &fresh, why, sizeof(why)) != 0) {
    engine_log("SIGHUP: reload failed, keeping the old config: %s", why);
    return;
  }
  uint8_t err[512] = {0};
  int32_t rc = mtp_proxy_reload(e->proxy, fresh.config, fresh.config_len, fresh.secret,
                                fresh.secret_len, err, sizeof(err));
  if (rc != 0) {
    engine_log("SIGHUP: reload rejected, keeping the old config: %s", (const char *)err);
    engine_free_files(&fresh);
    return;
  }
  engine_free_files(&e->files);
  e->files = fresh;
  update_config_info(e);
  engine_log("SIGHUP: config reloaded from %s (%zu bytes)", e->config->config_file,
             e->files.config_len);
}

/* Acts on every pending signal. A stop only starts here: the loop ends
 * when the joiner reports that the workers are gone. */
static void handle_signals(engine *e, int sfd) {
  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(sfd, &si, sizeof(si));
    if (n != (ssize_t)sizeof(si)) {
      return; /* EAGAIN: all read */
    }
    switch (si.ssi_signo) {
      case SIGTERM:
      case SIGINT:
        if (e->stopping) {
          /* The user insists: skip the grace period (same status as
           * the Rust engine). */
          engine_log("second stop signal: exiting at once");
          _exit(MTP_ENGINE_EXIT_OK);
        }
        e->stopping = 1;
        engine_log("signal %u: stopping (grace %u ms)", si.ssi_signo,
                   (unsigned)e->config->shutdown_grace_ms);
        mtp_proxy_stop(e->proxy, e->config->shutdown_grace_ms);
        break;
      case SIGHUP:
        reload(e);
        break;
      case SIGUSR1:
        if (e->config->log_file != NULL) {
          if (engine_open_log(e->config->log_file) != 0) {
            engine_log("SIGUSR1: cannot reopen log %s: %s", e->config->log_file,
                       strerror(errno));
          } else {
            engine_log("SIGUSR1: log reopened");
          }
        }
        break;
      default:
        break;
    }
  }
}

/* Serves signals and stats until every worker returned. 0 when the workers
 * ended after a stop, -1 on a reactor failure or if they ended on their
 * own. */
static int serve(engine *e, mtp_reactor *reactor, int sfd, stats_server *stats, joiner *j) {
  mtp_event events[ENGINE_EVENT_BATCH];
  while (!atomic_load(&j->done)) {
    int32_t n = mtp_reactor_wait(reactor, events, ENGINE_EVENT_BATCH, -1);
    if (n < 0) {
      engine_log("engine: reactor wait failed: %s", strerror(errno));
      return -1;
    }
    for (int32_t i = 0; i < n; i++) {
      uint64_t token = events[i].token;
      if (events[i].events & MTP_EV_WAKE) {
        continue; /* the joiner: the loop condition checks */
      }
      if (token == ENGINE_TOKEN_SIGNALS) {
        handle_signals(e, sfd);
      } else if (stats != NULL && (token == ENGINE_TOKEN_STATS_LISTENER ||
                                   (token & ENGINE_TOKEN_STATS_CONN_TAG))) {
        stats_server_handle(stats, &events[i]);
      }
    }
  }
  if (!e->stopping) {
    engine_log("all workers ended without a stop signal");
    return -1;
  }
  return 0;
}

/* Starts the workers and runs the engine thread's loop; returns the exit
 * status. Signals are already blocked on this thread. */
static int run_workers(engine *e, engine_sockets *socks, int sfd) {
  const mtp_engine_config *cfg = e->config;
  uint32_t workers = socks->workers;
  int status = MTP_ENGINE_EXIT_FAILURE;
  mtp_reactor *reactor = mtp_reactor_new();
  if (reactor == NULL) {
    engine_log("cannot create the engine reactor: %s", strerror(errno));
    return status;
  }
  if (mtp_reactor_add(reactor, sfd, ENGINE_TOKEN_SIGNALS) != 0) {
    engine_log("cannot watch signals: %s", strerror(errno));
    mtp_reactor_free(reactor);
    return status;
  }
  stats_server *stats = NULL;
  if (socks->stats_fd >= 0) {
    stats = stats_server_new(reactor, socks->stats_fd, &e->info);
    if (stats == NULL) {
      engine_log("cannot start the stats server: %s", strerror(errno));
      mtp_reactor_free(reactor);
      return status;
    }
    socks->stats_fd = -1; /* owned by the server now */
  }
  atomic_bool *ran = calloc(workers, sizeof(atomic_bool));
  worker_ctx w = {
      .proxy = e->proxy,
      .listen_fds = socks->client_fds,
      .n_ports = cfg->n_ports,
      .workers = workers,
      .gate = GATE_PENDING,
      .ran = ran,
  };
  joiner j = {.reactor = reactor};
  atomic_init(&j.done, false);
  pthread_t joiner_thread;
  if (ran == NULL) {
    engine_log("out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < workers; i++) {
    atomic_init(&ran[i], false);
  }
  pthread_mutex_init(&w.lock, NULL);
  pthread_cond_init(&w.cond, NULL);
  engine_probe_start(e->info.probe);
  j.jobs = mtp_jobs_start(workers, worker_entry, &w);
  if (j.jobs == NULL) {
    engine_log("cannot start %u worker threads", (unsigned)workers);
  } else if (pthread_create(&joiner_thread, NULL, joiner_main, &j) != 0) {
    /* Without a joiner nobody would notice the end: stop and join here. */
    engine_log("cannot start the joiner thread; stopping");
    mtp_proxy_stop(e->proxy, 0);
    mtp_jobs_join(j.jobs);
  } else {
    engine_log("%u workers started", (unsigned)workers);
    if (serve(e, reactor, sfd, stats, &j) == 0) {
      status = MTP_ENGINE_EXIT_OK;
    } else if (!e->stopping) {
      /* Workers ended on their own (or the loop failed): make sure none
       * is left before the proxy is freed. */
      mtp_proxy_stop(e->proxy, 0);
    }
    pthread_join(joiner_thread, NULL);
  }
  /* Listeners of workers that never ran are still ours to close. */
  /* A worker that ran owns (and closed) its listeners; the listeners of
   * workers that never ran are still ours to close. */
  for (uint32_t i = 0; i < workers; i++) {
    if (atomic_load(&ran[i])) {
      engine_forget_worker_fds(socks, i);
    } else {
      engine_close_worker_fds(socks, i);
    }
  }
  pthread_cond_destroy(&w.cond);
  pthread_mutex_destroy(&w.lock);
out:
  free(ran);
  stats_server_free(stats);
  mtp_reactor_remove(reactor, sfd);
  mtp_reactor_free(reactor);
  return status;
}

int32_t mtp_engine_run(const mtp_engine_config *config) {
  if (config == NULL || config->config_file == NULL || config->aes_pwd_file == NULL) {
    fprintf(stderr, "mtproxy: no configuration given\n");
    return MTP_ENGINE_EXIT_FAILURE;
  }
  if (config->log_file != NULL && engine_open_log(config->log_file) != 0) {
    fprintf(stderr, "mtproxy: cannot open log file %s: %s\n", config->log_file, strerror(errno));
    return MTP_ENGINE_EXIT_FAILURE;
  }
  engine e;
  memset(&e, 0, sizeof(e));
  e.config = config;
  e.info.start_time = time(NULL);
  e.info.config_filename = config->config_file;
  char why[512];
  if (engine_read_files(config, &e.files, why, sizeof(why)) != 0) {
    engine_log("%s", why);
    return MTP_ENGINE_EXIT_FAILURE;
  }
  update_config_info(&e);
  uint32_t workers = config->workers ? config->workers : mtp_jobs_cpu_count();
  e.info.workers = workers;
  int status = MTP_ENGINE_EXIT_FAILURE;
  engine_sockets socks;
  engine_sockets_init(&socks);
  int sfd = -1;
  sigset_t handled, previous_mask;
  struct sigaction ignore_pipe, previous_pipe;
  int signals_set = 0;

  e.proxy = engine_new_proxy(config, &e.files, workers, &e.info.probe);
  if (e.proxy == NULL) {
    goto done;
  }
  e.info.proxy = e.proxy;
  const char *user = NULL;
  if (engine_resolve_user(config->user, &user) != 0) {
    goto done;
  }
  engine_raise_nofile(config->max_connections);
  if (engine_bind_all(config, workers, &socks) != 0) {
    goto done;
  }
  /* Before anyone is told the ports: the first ServerHello already looks
   * like the domain. */
  engine_probe_first_round(e.info.probe);
  if (engine_write_ports_file(config, &socks) != 0 || engine_drop_privileges(user) != 0) {
    goto done;
  }
  engine_print_links(config, &socks);

  /* Signals are blocked before any worker exists, so every thread
   * inherits the mask and only the signalfd below receives them. */
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGHUP);
  sigaddset(&handled, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &handled, &previous_mask);
  memset(&ignore_pipe, 0, sizeof(ignore_pipe));
  ignore_pipe.sa_handler = SIG_IGN;
  sigemptyset(&ignore_pipe.sa_mask);
  sigaction(SIGPIPE, &ignore_pipe, &previous_pipe);
  signals_set = 1;
  sfd = signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    engine_log("cannot create a signalfd: %s", strerror(errno));
    goto done;
  }
  status = run_workers(&e, &socks, sfd);
  if (status == MTP_ENGINE_EXIT_OK) {
    engine_log("stopped");
  }

done:
  if (sfd >= 0) {
    close(sfd);
  }
  if (signals_set) {
    sigaction(SIGPIPE, &previous_pipe, NULL);
    pthread_sigmask(SIG_SETMASK, &previous_mask, NULL);
  }
  engine_sockets_close(&socks);
  engine_probe_free(e.info.probe);
  mtp_proxy_free(e.proxy);
  engine_free_files(&e.files);
  return status;
}
