/* Log-line formatting: "[pid][YYYY-MM-DD HH:MM:SS.uuuuuu UTC] msg\n" with the
 * UTC date computed by hand (no localtime, no TZ) and control bytes of the
 * message escaped so one call can only ever produce one line. */
#include "mtp_kprintf.h"

#include <string.h>

#define LOG_MAX_UNIX_USEC 253402300799999999LL
#define LOG_DAYS_PER_400_YEARS 146097

/* snprintf-style output: keeps what fits (leaving room for the NUL) and
 * counts everything. */
struct log_sink {
  char *out;
  size_t cap;
  size_t len;
};

static void sink_put(struct log_sink *s, char c) {
  if (s->cap > 0 && s->len < s->cap - 1) {
    s->out[s->len] = c;
  }
  s->len++;
}

static void sink_puts(struct log_sink *s, const char *text) {
  while (*text) {
    sink_put(s, *text++);
  }
}

/* Decimal of v, zero-padded to at least width digits. */
static void sink_decimal(struct log_sink *s, uint64_t v, int width) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n < width) {
    digits[n++] = '0';
  }
  while (n > 0) {
    sink_put(s, digits[--n]);
  }
}

static int is_leap(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* Date of a day count since 1970-01-01 (days >= 0). The Gregorian calendar
 * repeats every 400 years, so whole cycles are skipped arithmetically and
 * the rest (under 400 years) walked year by year, then month by month. */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day) {
  static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t y = 1970 + 400 * (days / LOG_DAYS_PER_400_YEARS);
  days %= LOG_DAYS_PER_400_YEARS;
  while (days >= 365 + is_leap(y)) {
    days -= 365 + is_leap(y);
    y++;
  }
  int m = 0;
  while (days >= month_days[m] + (m == 1 && is_leap(y))) {
    days -= month_days[m] + (m == 1 && is_leap(y));
    m++;
  }
  *year = y;
  *month = m + 1;
  *day = (int)days + 1;
}

size_t mtp_log_format_line(char *out, size_t cap, int32_t pid, int64_t unix_usec, const uint8_t *msg,
                           size_t msg_len) {
  static const char hex[] = "0123456789abcdef";
  struct log_sink s = {out, out ? cap : 0, 0};
  if (unix_usec < 0) {
    unix_usec = 0;
  } else if (unix_usec > LOG_MAX_UNIX_USEC) {
    unix_usec = LOG_MAX_UNIX_USEC;
  }
  int64_t secs = unix_usec / 1000000;
  int64_t year;
  int month;
  int day;
  civil_from_days(secs / 86400, &year, &month, &day);
  int64_t sec_of_day = secs % 86400;

  sink_put(&s, '[');
  if (pid < 0) {
    sink_put(&s, '-');
  }
  /* Negate in unsigned arithmetic: INT32_MIN has no positive int32. */
  sink_decimal(&s, pid < 0 ? 0u - (uint64_t)(int64_t)pid : (uint64_t)pid, 1);
  sink_puts(&s, "][");
  sink_decimal(&s, (uint64_t)year, 4);
  sink_put(&s, '-');
  sink_decimal(&s, (uint64_t)month, 2);
  sink_put(&s, '-');
  sink_decimal(&s, (uint64_t)day, 2);
  sink_put(&s, ' ');
  sink_decimal(&s, (uint64_t)(sec_of_day / 3600), 2);
  sink_put(&s, ':');
  sink_decimal(&s, (uint64_t)(sec_of_day / 60 % 60), 2);
  sink_put(&s, ':');
  sink_decimal(&s, (uint64_t)(sec_of_day % 60), 2);
  sink_put(&s, '.');
  sink_decimal(&s, (uint64_t)(unix_usec % 1000000), 6);
  sink_puts(&s, " UTC] ");

  if (!msg) {
    msg_len = 0;
  }
  if (msg_len > 0 && msg[msg_len - 1] == '\n') {
    msg_len--;
  }
  for (size_t i = 0; i < msg_len; i++) {
    uint8_t b = msg[i];
    if ((b < 0x20 && b != '\t') || b == 0x7f) {
      sink_put(&s, '\\');
      sink_put(&s, 'x');
      sink_put(&s, hex[b >> 4]);
      sink_put(&s, hex[b & 15]);
    } else {
      sink_put(&s, (char)b);
    }
  }
  sink_put(&s, '\n');
  if (s.cap > 0) {
    s.out[s.len < s.cap - 1 ? s.len : s.cap - 1] = '\0';
  }
  return s.len;
}

int32_t mtp_log_level_enabled(int32_t verbosity, int32_t level) {
  return level <= verbosity;
}

int32_t mtp_log_parse_verbosity(const uint8_t *s, size_t len, int32_t *out) {
  if (!out || (!s && len > 0)) {
    return MTP_LOG_ERR_ARG;
  }
  if (len != 1 || s[0] < '0' || s[0] > '9') {
    return MTP_LOG_ERR_BAD_LEVEL;
  }
  *out = s[0] - '0';
  return 0;
}
