/* The per-thread reactor: one edge-triggered epoll instance, an eventfd for
 * cross-thread wake-ups and a binary min-heap of one-shot timers. Events are
 * handed back to the caller (no callbacks), so the owner decides what to do
 * with each one; the wait timeout is the nearest timer deadline, so an idle
 * reactor sleeps in the kernel. */
#include "mtp_net_events.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Most epoll events fetched per round; the rest stay queued in the kernel. */
#define MAX_EPOLL_BATCH 256

/* A timer slot: reused after it fires or is cancelled, so memory is bounded
 * by the number of timers pending at once. The timer id encodes the slot and
 * its generation, so a stale id never cancels the slot's next timer. */
typedef struct timer_slot {
  uint64_t deadline_ms;
  uint64_t seq;       /* arming order, breaks deadline ties */
  uint64_t token;
  uint32_t generation;
  uint32_t heap_pos;  /* index in the heap while pending */
  int pending;
  uint32_t next_free; /* free-list link while not pending */
} timer_slot;

/* What is known about one watched fd (indexed by the fd number). */
typedef struct fd_entry {
  uint64_t token;
  int watched;
} fd_entry;

struct mtp_reactor {
  int epoll_fd;
  int wake_fd;
  fd_entry *fds;
  size_t fds_cap;
  timer_slot *slots;
  uint32_t slots_cap;
  uint32_t free_head; /* UINT32_MAX: no free slot */
  uint32_t *heap;     /* slot indexes ordered by (deadline, seq) */
  uint32_t heap_len;
  uint64_t next_seq;
};

#define NO_SLOT UINT32_MAX

uint64_t mtp_reactor_now_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    return 0;
  }
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

mtp_reactor *mtp_reactor_new(void) {
  mtp_reactor *r = calloc(1, sizeof(*r));
  if (r == NULL) {
    return NULL;
  }
  r->free_head = NO_SLOT;
  r->next_seq = 1;
  r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (r->epoll_fd < 0) {
    free(r);
    return NULL;
  }
  r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (r->wake_fd < 0) {
    int saved = errno;
    close(r->epoll_fd);
    free(r);
    errno = saved;
    return NULL;
  }
  /* The wake fd is told apart from user fds by its fd number (data.fd), so
   * every u64 token value stays available to callers. */
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = r->wake_fd;
  if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, r->wake_fd, &ev) != 0) {
    int saved = errno;
    close(r->wake_fd);
    close(r->epoll_fd);
    free(r);
    errno = saved;
    return NULL;
  }
  return r;
}

void mtp_reactor_free(mtp_reactor *reactor) {
  if (reactor == NULL) {
    return;
  }
  close(reactor->wake_fd);
  close(reactor->epoll_fd);
  free(reactor->fds);
  free(reactor->slots);
  free(reactor->heap);
  free(reactor);
}

/* Makes `fds` long enough to index `fd`. 0 or -1 (errno ENOMEM). */
static int ensure_fd_capacity(mtp_reactor *r, size_t fd) {
  if (fd < r->fds_cap) {
    return 0;
  }
  size_t cap = r->fds_cap ? r->fds_cap : 64;
  while (cap <= fd) {
    if (cap > SIZE_MAX / 2 / sizeof(fd_entry)) {
      errno = ENOMEM;
      return -1;
    }
    cap *= 2;
  }
  fd_entry *grown = realloc(r->fds, cap * sizeof(fd_entry));
  if (grown == NULL) {
    errno = ENOMEM;
    return -1;
  }
  memset(grown + r->fds_cap, 0, (cap - r->fds_cap) * sizeof(fd_entry));
  r->fds = grown;
  r->fds_cap = cap;
  return 0;
}

int32_t mtp_reactor_add(mtp_reactor *reactor, int32_t fd, uint64_t token) {
  if (reactor == NULL || fd < 0) {
    return MTP_REACTOR_ERR_ARG;
  }
  if (ensure_fd_capacity(reactor, (size_t)fd) != 0) {
    return MTP_REACTOR_ERR_SYS;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if (epoll_ctl(reactor->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return MTP_REACTOR_ERR_SYS;
  }
  reactor->fds[fd].token = token;
  reactor->fds[fd].watched = 1;
  return 0;
}

int32_t mtp_reactor_remove(mtp_reactor *reactor, int32_t fd) {
  if (reactor == NULL || fd < 0) {
    return MTP_REACTOR_ERR_ARG;
  }
  if (fd == reactor->wake_fd) {
    /* The wake fd is internal; to callers it is not watched. */
    errno = ENOENT;
    return MTP_REACTOR_ERR_SYS;
  }
  if (epoll_ctl(reactor->epoll_fd, EPOLL_CTL_DEL, fd, NULL) != 0) {
    return MTP_REACTOR_ERR_SYS;
  }
  if ((size_t)fd < reactor->fds_cap) {
    reactor->fds[fd].watched = 0;
  }
  return 0;
}

/* ---- timer heap ---- */

static int slot_before(const mtp_reactor *r, uint32_t a, uint32_t b) {
  const timer_slot *x = &r->slots[a];
  const timer_slot *y = &r->slots[b];
  if (x->deadline_ms != y->deadline_ms) {
    return x->deadline_ms < y->deadline_ms;
  }
  return x->seq < y->seq;
}

static void heap_place(mtp_reactor *r, uint32_t pos, uint32_t slot) {
  r->heap[pos] = slot;
  r->slots[slot].heap_pos = pos;
}

static void sift_up(mtp_reactor *r, uint32_t pos) {
  uint32_t slot = r->heap[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (!slot_before(r, slot, r->heap[parent])) {
      break;
    }
    heap_place(r, pos, r->heap[parent]);
    pos = parent;
  }
  heap_place(r, pos, slot);
}

static void sift_down(mtp_reactor *r, uint32_t pos) {
  uint32_t slot = r->heap[pos];
  for (;;) {
    uint32_t child = 2 * pos + 1;
    if (child >= r->heap_len) {
      break;
    }
    if (child + 1 < r->heap_len && slot_before(r, r->heap[child + 1], r->heap[child])) {
      child++;
    }
    if (!slot_before(r, r->heap[child], slot)) {
      break;
    }
    heap_place(r, pos, r->heap[child]);
    pos = child;
  }
  heap_place(r, pos, slot);
}

/* Takes the slot at heap position `pos` out of the heap and frees it. */
static void heap_remove_at(mtp_reactor *r, uint32_t pos) {
  uint32_t slot = r->heap[pos];
  r->heap_len--;
  if (pos < r->heap_len) {
    /* The last entry fills the hole; it may belong above or below it. */
    heap_place(r, pos, r->heap[r->heap_len]);
    if (pos > 0 && slot_before(r, r->heap[pos], r->heap[(pos - 1) / 2])) {
      sift_up(r, pos);
    } else {
      sift_down(r, pos);
    }
  }
  timer_slot *s = &r->slots[slot];
  s->pending = 0;
  s->generation++;
  s->next_free = r->free_head;
  r->free_head = slot;
}

/* A free slot index, growing the slot and heap arrays; NO_SLOT if out of
 * memory. */
static uint32_t take_slot(mtp_reactor *r) {
  if (r->free_head == NO_SLOT) {
    uint32_t old = r->slots_cap;
    if (old >= (NO_SLOT - 1) / 2) {
      return NO_SLOT;
    }
    uint32_t cap = old ? old * 2 : 16;
    timer_slot *slots = realloc(r->slots, (size_t)cap * sizeof(*slots));
    if (slots == NULL) {
      return NO_SLOT;
    }
    r->slots = slots;
    uint32_t *heap = realloc(r->heap, (size_t)cap * sizeof(*heap));
    if (heap == NULL) {
      return NO_SLOT; /* slots grew, harmless: slots_cap stays old */
    }
    r->heap = heap;
    memset(slots + old, 0, (size_t)(cap - old) * sizeof(*slots));
    /* Link the new slots so the lowest index is handed out first. */
    for (uint32_t i = cap; i > old; i--) {
      slots[i - 1].next_free = r->free_head;
      r->free_head = i - 1;
    }
    r->slots_cap = cap;
  }
  uint32_t slot = r->free_head;
  r->free_head = r->slots[slot].next_free;
  return slot;
}

uint64_t mtp_reactor_timer(mtp_reactor *reactor, uint64_t token, uint64_t delay_ms) {
  if (reactor == NULL) {
    return 0;
  }
  uint32_t slot = take_slot(reactor);
  if (slot == NO_SLOT) {
    /* The contract has no error value besides 0 (NULL reactor); out of
     * memory for a timer is treated the same way. */
    return 0;
  }
  uint64_t now = mtp_reactor_now_ms();
  timer_slot *s = &reactor->slots[slot];
  s->deadline_ms = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;
  s->seq = reactor->next_seq++;
  s->token = token;
  s->pending = 1;
  reactor->heap[reactor->heap_len] = slot;
  s->heap_pos = reactor->heap_len;
  reactor->heap_len++;
  sift_up(reactor, s->heap_pos);
  return ((uint64_t)s->generation << 32) | ((uint64_t)slot + 1);
}

int32_t mtp_reactor_cancel(mtp_reactor *reactor, uint64_t timer_id) {
  if (reactor == NULL || timer_id == 0) {
    return 0;
  }
  uint64_t low = timer_id & 0xffffffffu;
  if (low == 0 || low > reactor->slots_cap) {
    return 0;
  }
  uint32_t slot = (uint32_t)(low - 1);
  timer_slot *s = &reactor->slots[slot];
  if (!s->pending || s->generation != (uint32_t)(timer_id >> 32)) {
    return 0;
  }
  heap_remove_at(reactor, s->heap_pos);
  return 1;
}

/* ---- waiting ---- */

/* Converts a kernel readiness mask into MTP_EV_* bits. A hang-up or error is
 * also reported as READ, so the caller reads and sees the EOF / error. */
static uint32_t translate_events(uint32_t kernel) {
  uint32_t out = 0;
  if (kernel & EPOLLIN) {
    out |= MTP_EV_READ;
  }
  if (kernel & EPOLLOUT) {
    out |= MTP_EV_WRITE;
  }
  if (kernel & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
    out |= MTP_EV_CLOSED | MTP_EV_READ;
  }
  return out;
}

/* Milliseconds epoll may sleep: up to the next timer deadline, within the
 * caller's limit (-1 = none). */
static int sleep_budget(const mtp_reactor *r, uint64_t now, int64_t caller_left) {
  int64_t budget = caller_left; /* -1: unbounded */
  if (r->heap_len > 0) {
    uint64_t deadline = r->slots[r->heap[0]].deadline_ms;
    uint64_t until = deadline > now ? deadline - now : 0;
    if (until > INT_MAX) {
      until = INT_MAX;
    }
    if (budget < 0 || (int64_t)until < budget) {
      budget = (int64_t)until;
    }
  }
  if (budget > INT_MAX) {
    budget = INT_MAX;
  }
  return (int)budget;
}

/* Appends expired timers (earliest first) while there is room. */
static size_t collect_timers(mtp_reactor *r, mtp_event *out, size_t n, size_t cap) {
  uint64_t now = mtp_reactor_now_ms();
  while (n < cap && r->heap_len > 0) {
    uint32_t slot = r->heap[0];
    if (r->slots[slot].deadline_ms > now) {
      break;
    }
    out[n].token = r->slots[slot].token;
    out[n].events = MTP_EV_TIMER;
    n++;
    heap_remove_at(r, 0);
  }
  return n;
}

int32_t mtp_reactor_wait(mtp_reactor *reactor, mtp_event *out, size_t cap, int32_t timeout_ms) {
  if (reactor == NULL || out == NULL || cap == 0) {
    return MTP_REACTOR_ERR_ARG;
  }
  if (cap > INT32_MAX) {
    cap = INT32_MAX; /* the count is returned as int32_t */
  }
  struct epoll_event batch[MAX_EPOLL_BATCH];
  int max_events = cap < MAX_EPOLL_BATCH ? (int)cap : MAX_EPOLL_BATCH;
  uint64_t start = mtp_reactor_now_ms();
  for (;;) {
    uint64_t now = mtp_reactor_now_ms();
    int64_t caller_left = -1;
    if (timeout_ms >= 0) {
      uint64_t spent = now - start;
      caller_left = spent >= (uint64_t)timeout_ms ? 0 : (int64_t)timeout_ms - (int64_t)spent;
    }
    int ready = epoll_wait(reactor->epoll_fd, batch, max_events,
                           sleep_budget(reactor, now, caller_left));
    if (ready < 0) {
      return errno == EINTR ? 0 : MTP_REACTOR_ERR_SYS;
    }
    size_t n = 0;
    for (int i = 0; i < ready; i++) {
      int fd = batch[i].data.fd;
      if (fd == reactor->wake_fd) {
        /* Drain the counter: every wake since the last one is one event. */
        uint64_t count;
        while (read(reactor->wake_fd, &count, sizeof(count)) > 0) {
        }
        out[n].token = 0;
        out[n].events = MTP_EV_WAKE;
        n++;
        continue;
      }
      if (fd < 0 || (size_t)fd >= reactor->fds_cap || !reactor->fds[fd].watched) {
        continue; /* removed after the kernel queued it */
      }
      out[n].token = reactor->fds[fd].token;
      out[n].events = translate_events(batch[i].events);
      n++;
    }
    n = collect_timers(reactor, out, n, cap);
    if (n > 0) {
      return (int32_t)n;
    }
    /* Nothing to report: the caller's time is up, or only stale fd events
     * came, or epoll woke just before a timer's millisecond boundary; in
     * the last two cases sleep again. */
    if (timeout_ms >= 0 && mtp_reactor_now_ms() - start >= (uint64_t)timeout_ms) {
      return 0;
    }
  }
}

void mtp_reactor_wake(const mtp_reactor *reactor) {
  if (reactor == NULL) {
    return;
  }
  uint64_t one = 1;
  /* EAGAIN means the counter is saturated: a wake is pending anyway. */
  ssize_t written = write(reactor->wake_fd, &one, sizeof(one));
  (void)written;
}
