/* The process's own resource usage from /proc/self/stat and
 * /proc/self/status. The parsing rules are the contract's (see
 * mtp_proc_stat.h): comm runs to the last ')', fields 4-24 are integers,
 * later fields are ignored. */
#include "mtp_proc_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILE_LEN (64 * 1024)
#define FIRST_FIELD_AFTER_COMM 3
#define LAST_FIELD 24

static int is_separator(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n';
}

static int is_digit(uint8_t c) {
  return c >= '0' && c <= '9';
}

/* Decimal digits only; -1 if empty, not digits, or above UINT64_MAX. */
static int parse_decimal(const uint8_t *s, size_t len, uint64_t *out) {
  if (len == 0) {
    return -1;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < len; i++) {
    if (!is_digit(s[i])) {
      return -1;
    }
    uint64_t d = (uint64_t)(s[i] - '0');
    if (value > (UINT64_MAX - d) / 10) {
      return -1;
    }
    value = value * 10 + d;
  }
  *out = value;
  return 0;
}

/* "-?digits" (the range is not checked here). */
static int is_integer(const uint8_t *s, size_t len) {
  if (len > 0 && s[0] == '-') {
    s++;
    len--;
  }
  if (len == 0) {
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    if (!is_digit(s[i])) {
      return 0;
    }
  }
  return 1;
}

/* "-?digits" within [-(max+1), max] (two's complement types). */
static int parse_signed(const uint8_t *s, size_t len, int64_t max, int64_t *out) {
  int negative = len > 0 && s[0] == '-';
  uint64_t magnitude;
  if (parse_decimal(s + negative, len - (size_t)negative, &magnitude) != 0) {
    return -1;
  }
  if (!negative) {
    if (magnitude > (uint64_t)max) {
      return -1;
    }
    *out = (int64_t)magnitude;
  } else {
    if (magnitude > (uint64_t)max + 1) {
      return -1;
    }
    *out = magnitude == (uint64_t)max + 1 ? -max - 1 : -(int64_t)magnitude;
  }
  return 0;
}

static int parse_i32(const uint8_t *s, size_t len, int32_t *out) {
  int64_t value;
  if (parse_signed(s, len, INT32_MAX, &value) != 0) {
    return -1;
  }
  *out = (int32_t)value;
  return 0;
}

static int parse_stat_fields(const uint8_t *s, size_t len, mtp_proc_stat *out) {
  size_t pid_len = 0;
  while (pid_len < len && is_digit(s[pid_len])) {
    pid_len++;
  }
  int32_t pid;
  if (parse_i32(s, pid_len, &pid) != 0 || len - pid_len < 2 || s[pid_len] != ' ' ||
      s[pid_len + 1] != '(') {
    return -1;
  }
  size_t comm_start = pid_len + 2;
  size_t after_comm = 0; /* index just past the last ')' */
  for (size_t i = len; i > comm_start; i--) {
    if (s[i - 1] == ')') {
      after_comm = i;
      break;
    }
  }
  if (!after_comm || after_comm == len || !is_separator(s[after_comm])) {
    return -1;
  }
  mtp_proc_stat stat;
  memset(&stat, 0, sizeof(stat));
  size_t pos = after_comm;
  for (int field = FIRST_FIELD_AFTER_COMM; field <= LAST_FIELD; field++) {
    while (pos < len && is_separator(s[pos])) {
      pos++;
    }
    size_t start = pos;
    while (pos < len && !is_separator(s[pos])) {
      pos++;
    }
    const uint8_t *token = s + start;
    size_t token_len = pos - start;
    if (token_len == 0) {
      return -1; /* truncated */
    }
    int bad;
    switch (field) {
    case 3:
      bad = token_len != 1;
      stat.state = token[0];
      break;
    case 4: bad = parse_i32(token, token_len, &stat.ppid); break;
    case 14: bad = parse_decimal(token, token_len, &stat.utime_ticks); break;
    case 15: bad = parse_decimal(token, token_len, &stat.stime_ticks); break;
    case 20: bad = parse_i32(token, token_len, &stat.num_threads); break;
    case 22: bad = parse_decimal(token, token_len, &stat.start_ticks); break;
    case 23: bad = parse_decimal(token, token_len, &stat.vsize_bytes); break;
    case 24: bad = parse_signed(token, token_len, INT64_MAX, &stat.rss_pages); break;
    default: bad = !is_integer(token, token_len); break;
    }
    if (bad) {
      return -1;
    }
  }
  stat.pid = pid;
  *out = stat;
  return 0;
}

int32_t mtp_parse_proc_stat(const uint8_t *s, size_t len, mtp_proc_stat *out) {
  if ((!s && len) || !out) {
    return MTP_PROC_ERR_ARG;
  }
  if (len == 0) { /* s may be NULL then */
    return MTP_PROC_ERR_SYNTAX;
  }
  return parse_stat_fields(s, len, out) == 0 ? 0 : MTP_PROC_ERR_SYNTAX;
}

/* The value part of a status line: "<spaces/tabs>N kB" -> N * 1024. */
static int32_t parse_kb_value(const uint8_t *v, size_t len, int64_t *bytes_out) {
  size_t pos = 0;
  while (pos < len && (v[pos] == ' ' || v[pos] == '\t')) {
    pos++;
  }
  size_t digits_start = pos;
  while (pos < len && is_digit(v[pos])) {
    pos++;
  }
  uint64_t kib;
  if (len - pos != 3 || memcmp(v + pos, " kB", 3) != 0 ||
      parse_decimal(v + digits_start, pos - digits_start, &kib) != 0 ||
      kib > (uint64_t)(INT64_MAX / 1024)) {
    return MTP_PROC_ERR_SYNTAX;
  }
  *bytes_out = (int64_t)kib * 1024;
  return 0;
}

int32_t mtp_parse_status_kb(const uint8_t *text, size_t len, const uint8_t *key, size_t key_len,
                            int64_t *bytes_out) {
  if ((!text && len) || (!key && key_len) || !bytes_out) {
    return MTP_PROC_ERR_ARG;
  }
  size_t start = 0;
  while (start < len) {
    const uint8_t *line = text + start;
    const uint8_t *newline = memchr(line, '\n', len - start);
    size_t line_len = newline ? (size_t)(newline - line) : len - start;
    if (line_len > key_len && (key_len == 0 || memcmp(line, key, key_len) == 0) &&
        line[key_len] == ':') {
      return parse_kb_value(line + key_len + 1, line_len - key_len - 1, bytes_out);
    }
    start += line_len + 1;
  }
  return MTP_PROC_ERR_NOT_FOUND;
}

/* Up to MAX_FILE_LEN bytes of a file into buf; -1 on any error. */
static ssize_t read_file(const char *path, uint8_t *buf) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  size_t got = 0;
  while (got < MAX_FILE_LEN) {
    ssize_t n = read(fd, buf + got, MAX_FILE_LEN - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      close(fd);
      return -1;
    }
    if (n == 0) {
      break;
    }
    got += (size_t)n;
  }
  close(fd);
  return (ssize_t)got;
}

static int32_t read_proc_self(uint8_t *buf, mtp_proc_stat *stat, int64_t *rss, int64_t *size) {
  ssize_t len = read_file("/proc/self/stat", buf);
  if (len < 0) {
    return MTP_PROC_ERR_IO;
  }
  int32_t rc = mtp_parse_proc_stat(buf, (size_t)len, stat);
  if (rc != 0) {
    return rc;
  }
  len = read_file("/proc/self/status", buf);
  if (len < 0) {
    return MTP_PROC_ERR_IO;
  }
  rc = mtp_parse_status_kb(buf, (size_t)len, (const uint8_t *)"VmRSS", 5, rss);
  if (rc != 0) {
    return rc;
  }
  return mtp_parse_status_kb(buf, (size_t)len, (const uint8_t *)"VmSize", 6, size);
}

int32_t mtp_read_proc_self(mtp_proc_stat *out, int64_t *vm_rss_bytes, int64_t *vm_size_bytes) {
  if (!out || !vm_rss_bytes || !vm_size_bytes) {
    return MTP_PROC_ERR_ARG;
  }
  uint8_t *buf = malloc(MAX_FILE_LEN);
  if (!buf) {
    return MTP_PROC_ERR_IO;
  }
  mtp_proc_stat stat;
  int64_t rss, size;
  int32_t rc = read_proc_self(buf, &stat, &rss, &size);
  free(buf);
  if (rc == 0) {
    *out = stat;
    *vm_rss_bytes = rss;
    *vm_size_bytes = size;
  }
  return rc;
}
