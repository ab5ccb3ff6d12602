/* Bounded lock-free multi-producer multi-consumer FIFO of 64-bit values: a
 * ring of cells, each carrying a sequence number that says whose turn it is
 * (the per-slot-sequence design described by Dmitry Vyukov).
 *
 * Positions grow forever (size_t, wrapping is harmless: only differences are
 * looked at). Cell `pos & mask` is
 *   - free for the producer of position `pos` when its sequence == pos,
 *   - filled for the consumer of position `pos` when its sequence == pos + 1;
 * the consumer then hands it to the producer of the next lap by setting the
 * sequence to pos + capacity. A thread claims a position by advancing the
 * shared tail (producers) or head (consumers) with a compare-and-swap, so it
 * owns that cell's value alone until it publishes the new sequence. */
#include "mtp_mp_queue.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define MPQ_MIN_CAPACITY 2u
#define MPQ_CACHE_LINE 64

struct mpq_cell {
  _Atomic size_t sequence;
  uint64_t value; /* owned by whoever the sequence says; see above */
};

/* tail (producers) and head (consumers) sit on their own cache lines so the
 * two sides do not invalidate each other's line on every operation. */
struct mtp_mpq {
  _Alignas(MPQ_CACHE_LINE) _Atomic size_t tail;
  _Alignas(MPQ_CACHE_LINE) _Atomic size_t head;
  _Alignas(MPQ_CACHE_LINE) struct mpq_cell *cells;
  size_t mask; /* capacity - 1 */
};

static void *mpq_alloc_aligned(size_t size) {
  void *p = NULL;
  return posix_memalign(&p, MPQ_CACHE_LINE, size) == 0 ? p : NULL;
}

mtp_mpq *mtp_mpq_new(size_t capacity) {
  if (capacity == 0 || capacity > (size_t)MTP_MPQ_MAX_CAPACITY) {
    return NULL;
  }
  size_t slots = MPQ_MIN_CAPACITY;
  while (slots < capacity) {
    slots <<= 1;
  }
  mtp_mpq *q = mpq_alloc_aligned(sizeof(*q));
  if (!q) {
    return NULL;
  }
  q->cells = mpq_alloc_aligned(slots * sizeof(struct mpq_cell));
  if (!q->cells) {
    free(q);
    return NULL;
  }
  q->mask = slots - 1;
  for (size_t i = 0; i < slots; i++) {
    /* Plain initialization: nobody else can see the queue before it is
     * returned; handing the pointer to another thread is the caller's
     * synchronization. */
    atomic_init(&q->cells[i].sequence, i);
    q->cells[i].value = 0;
  }
  atomic_init(&q->tail, 0);
  atomic_init(&q->head, 0);
  return q;
}

int32_t mtp_mpq_push(mtp_mpq *q, uint64_t value) {
  if (!q) {
    return MTP_MPQ_ERR_ARG;
  }
  /* Relaxed: the tail is only a hint of which cell to try; the cell's
   * sequence (acquire below) is what grants access. */
  size_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
  struct mpq_cell *cell;
  for (;;) {
    cell = &q->cells[pos & q->mask];
    /* Acquire: pairs with the release of the consumer that emptied this
     * cell one lap ago, so its read of the old value happens before our
     * write of the new one. */
    size_t seq = atomic_load_explicit(&cell->sequence, memory_order_acquire);
    intptr_t lag = (intptr_t)(seq - pos);
    if (lag == 0) {
      /* Relaxed CAS: it only decides which producer owns `pos`; the data
       * hand-off is ordered by the cell sequence, not by the tail. On
       * failure `pos` is reloaded with the current tail. */
      if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1, memory_order_relaxed,
                                                memory_order_relaxed)) {
        break;
      }
    } else if (lag < 0) {
      /* The cell still holds the value from one lap ago: full. */
      return MTP_MPQ_FULL;
    } else {
      /* Another producer already took `pos`; catch up. */
      pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    }
  }
  cell->value = value;
  /* Release: publishes the value to the consumer that acquires pos + 1. */
  atomic_store_explicit(&cell->sequence, pos + 1, memory_order_release);
  return 0;
}

int32_t mtp_mpq_pop(mtp_mpq *q, uint64_t *out) {
  if (!q || !out) {
    return MTP_MPQ_ERR_ARG;
  }
  /* Relaxed: a hint, as for the tail in push. */
  size_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
  struct mpq_cell *cell;
  for (;;) {
    cell = &q->cells[pos & q->mask];
    /* Acquire: pairs with the producer's release of pos + 1, so its write
     * of the value happens before our read. */
    size_t seq = atomic_load_explicit(&cell->sequence, memory_order_acquire);
    intptr_t lag = (intptr_t)(seq - (pos + 1));
    if (lag == 0) {
      /* Relaxed CAS: only picks the one consumer that owns `pos`. */
      if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1, memory_order_relaxed,
                                                memory_order_relaxed)) {
        break;
      }
    } else if (lag < 0) {
      /* Nothing has been written at `pos` yet: empty. */
      return MTP_MPQ_EMPTY;
    } else {
      /* Another consumer already took `pos`; catch up. */
      pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    }
  }
  *out = cell->value;
  /* Release: our read of the value happens before the next lap's producer
   * (which acquires this sequence) overwrites it. */
  atomic_store_explicit(&cell->sequence, pos + q->mask + 1, memory_order_release);
  return 0;
}

size_t mtp_mpq_capacity(const mtp_mpq *q) {
  return q ? q->mask + 1 : 0;
}

size_t mtp_mpq_len(const mtp_mpq *q) {
  if (!q) {
    return 0;
  }
  /* Acquire loads: a caller that has synchronized with the last push/pop
   * (e.g. joined its thread) sees exact positions. Under concurrency the
   * two loads are not one snapshot, so the difference is clamped into
   * [0, capacity]. The head is read first: it can only have grown by the
   * time the tail is read, so a stale head errs on the large side. */
  size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
  size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
  intptr_t queued = (intptr_t)(tail - head);
  if (queued < 0) {
    return 0;
  }
  return (size_t)queued > q->mask + 1 ? q->mask + 1 : (size_t)queued;
}

void mtp_mpq_free(mtp_mpq *q) {
  if (q) {
    free(q->cells);
    free(q);
  }
}
