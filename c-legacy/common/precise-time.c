/* Clock readings: 32.32 fixed-point "precise time", realtime and monotonic
 * seconds as double, unix seconds. */
#include "mtp_precise_time.h"

#include <time.h>

#define NANOS_PER_SEC 1000000000LL

/* Seconds that do not fit 32.32 wrap (two's complement); the unsigned
 * arithmetic keeps that defined instead of signed overflow. */
int64_t mtp_precise_time_from_parts(int64_t sec, int64_t nsec) {
  int64_t carry = nsec / NANOS_PER_SEC;
  int64_t frac_nanos = nsec % NANOS_PER_SEC;
  if (frac_nanos < 0) { /* C division truncates; we want floor */
    frac_nanos += NANOS_PER_SEC;
    carry -= 1;
  }
  uint64_t whole = (uint64_t)sec + (uint64_t)carry;
  uint64_t frac = ((uint64_t)frac_nanos << 32) / (uint64_t)NANOS_PER_SEC;
  return (int64_t)((whole << 32) + frac);
}

/* A clock that cannot be read (never the case for these two on Linux) reads
 * as zero. */
static struct timespec read_clock(clockid_t clock) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) {
    ts.tv_sec = 0;
    ts.tv_nsec = 0;
  }
  return ts;
}

static double seconds_as_double(struct timespec ts) {
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t mtp_get_precise_time(void) {
  struct timespec ts = read_clock(CLOCK_REALTIME);
  return mtp_precise_time_from_parts(ts.tv_sec, ts.tv_nsec);
}

double mtp_get_double_time(void) {
  return seconds_as_double(read_clock(CLOCK_REALTIME));
}

double mtp_get_utime_monotonic(void) {
  return seconds_as_double(read_clock(CLOCK_MONOTONIC));
}

int32_t mtp_now(void) {
  return (int32_t)read_clock(CLOCK_REALTIME).tv_sec;
}
