/* Worker threads: a fixed set of pthreads, each running the caller's entry
 * once with its index. Workers block the process signals so that they are
 * delivered to (and handled synchronously by) the thread that started them. */
#include "mtp_jobs_threads.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* What one worker thread needs; lives in the set until join. */
typedef struct worker {
  mtp_job_entry entry;
  void *ctx;
  uint32_t index;
  pthread_t thread;
} worker;

struct mtp_jobs {
  uint32_t count;
  worker *workers;
};

/* The signals the engine thread handles; workers must never receive them. */
static void fill_worker_blocked_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGUSR1);
  sigaddset(set, SIGPIPE);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  /* Also inherited from the creator (which blocks them around
   * pthread_create), set again here so the guarantee does not depend on it. */
  sigset_t blocked;
  fill_worker_blocked_signals(&blocked);
  pthread_sigmask(SIG_BLOCK, &blocked, NULL);
  /* Linux limits names to 15 bytes: "mtproxy-w" leaves 6 digits. */
  char name[16];
  snprintf(name, sizeof(name), "mtproxy-w%u", (unsigned)w->index);
  pthread_setname_np(pthread_self(), name);
  w->entry(w->ctx, w->index);
  return NULL;
}

static void join_first(worker *workers, uint32_t started) {
  for (uint32_t i = 0; i < started; i++) {
    pthread_join(workers[i].thread, NULL);
  }
}

mtp_jobs *mtp_jobs_start(uint32_t workers, mtp_job_entry entry, void *ctx) {
  if (workers == 0 || entry == NULL) {
    return NULL;
  }
  mtp_jobs *jobs = calloc(1, sizeof(*jobs));
  if (jobs == NULL) {
    return NULL;
  }
  jobs->workers = calloc(workers, sizeof(worker));
  if (jobs->workers == NULL) {
    free(jobs);
    return NULL;
  }
  /* New threads inherit the creator's mask: block the signals while
   * creating them so none can land on a worker before it runs. */
  sigset_t blocked, previous;
  fill_worker_blocked_signals(&blocked);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  uint32_t started = 0;
  for (; started < workers; started++) {
    worker *w = &jobs->workers[started];
    w->entry = entry;
    w->ctx = ctx;
    w->index = started;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
      break;
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  if (started < workers) {
    join_first(jobs->workers, started);
    free(jobs->workers);
    free(jobs);
    return NULL;
  }
  jobs->count = workers;
  return jobs;
}

void mtp_jobs_join(mtp_jobs *jobs) {
  if (jobs == NULL) {
    return;
  }
  join_first(jobs->workers, jobs->count);
  free(jobs->workers);
  free(jobs);
}

uint32_t mtp_jobs_cpu_count(void) {
  /* The affinity mask is what this process may actually use (containers,
   * taskset); grow the set for machines with more CPUs than CPU_SETSIZE. */
  for (int ncpus = CPU_SETSIZE; ncpus <= (1 << 16); ncpus *= 2) {
    cpu_set_t *set = CPU_ALLOC(ncpus);
    if (set == NULL) {
      break;
    }
    size_t size = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) == 0) {
      int count = CPU_COUNT_S(size, set);
      CPU_FREE(set);
      return count > 0 ? (uint32_t)count : 1;
    }
    CPU_FREE(set);
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? (uint32_t)online : 1;
}
