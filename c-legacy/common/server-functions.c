/* Process setup for a server: memory sizes from the command line, dropping
 * root privileges, the open-file limit. */
#include "mtp_server_functions.h"

#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SIZE_DIGITS 19
#define DEFAULT_USER "mtproxy"

int32_t mtp_parse_memory_size(const uint8_t *s, size_t len, int64_t *out) {
  if ((!s && len) || !out) {
    return MTP_SF_ERR_ARG;
  }
  size_t digits = 0;
  while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
    digits++;
  }
  if (digits < 1 || digits > MAX_SIZE_DIGITS) {
    return MTP_SF_ERR_SYNTAX;
  }
  int shift = 0;
  if (len == digits + 1) {
    switch (s[digits]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return MTP_SF_ERR_SYNTAX;
    }
  } else if (len != digits) {
    return MTP_SF_ERR_SYNTAX;
  }
  int64_t value = 0;
  for (size_t i = 0; i < digits; i++) {
    int d = s[i] - '0';
    if (value > (INT64_MAX - d) / 10) {
      return MTP_SF_ERR_RANGE;
    }
    value = value * 10 + d;
  }
  if (value > (INT64_MAX >> shift)) {
    return MTP_SF_ERR_RANGE;
  }
  *out = value << shift;
  return 0;
}

int32_t mtp_lookup_user(const char *name, uint32_t *uid, uint32_t *gid) {
  if (!name || !uid || !gid) {
    return MTP_SF_ERR_ARG;
  }
  struct passwd *pw = getpwnam(name);
  if (!pw) {
    return MTP_SF_ERR_NO_USER;
  }
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
  return 0;
}

int32_t mtp_change_user(const char *name) {
  if (!name || !*name) {
    if (geteuid() != 0) {
      return 0;
    }
    name = DEFAULT_USER;
  }
  struct passwd *pw = getpwnam(name);
  if (!pw) {
    return MTP_SF_ERR_NO_USER;
  }
  gid_t gid = pw->pw_gid;
  uid_t uid = pw->pw_uid;
  /* Groups before ids: once the uid changes the others are out of reach. */
  if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
    return MTP_SF_ERR_PERMISSION;
  }
  return 0;
}

int32_t mtp_raise_file_limit(uint64_t wanted, mtp_file_limit *result) {
  if (!result) {
    return MTP_SF_ERR_ARG;
  }
  struct rlimit current;
  if (getrlimit(RLIMIT_NOFILE, &current) != 0) {
    return MTP_SF_ERR_SYSCALL;
  }
  if (current.rlim_cur < wanted) {
    struct rlimit raised = {wanted, current.rlim_max > wanted ? current.rlim_max : wanted};
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      /* Best effort: the limits read back below say what we got. */
      struct rlimit up_to_hard = {current.rlim_max, current.rlim_max};
      (void)setrlimit(RLIMIT_NOFILE, &up_to_hard);
    }
    if (getrlimit(RLIMIT_NOFILE, &current) != 0) {
      return MTP_SF_ERR_SYSCALL;
    }
  }
  result->soft = current.rlim_cur;
  result->hard = current.rlim_max;
  return current.rlim_cur >= wanted ? 0 : MTP_SF_CLAMPED;
}

int32_t mtp_set_tcp_window_clamp(int32_t fd, uint32_t clamp) {
  if (fd < 0 || clamp > (uint32_t)INT32_MAX) {
    return MTP_SF_ERR_ARG;
  }
  int value = (int)clamp;
  if (setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &value, sizeof value) != 0) {
    return MTP_SF_ERR_SYSCALL;
  }
  return 0;
}
