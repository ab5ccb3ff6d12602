/* IP address literals (strict: one spelling, one address) and host name
 * resolution through getaddrinfo. Hand-written parsers instead of inet_pton,
 * so the accepted syntax is exactly the contract's and not libc's. */
#include "mtp_resolver.h"

#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_NAME_LEN 253

/* One decimal octet in [s, s+len): 1..3 digits, no leading zero unless "0". */
static int parse_octet(const uint8_t *s, size_t len, uint32_t *out) {
  if (len < 1 || len > 3 || (len > 1 && s[0] == '0')) {
    return -1;
  }
  uint32_t value = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
    value = value * 10 + (uint32_t)(s[i] - '0');
  }
  if (value > 255) {
    return -1;
  }
  *out = value;
  return 0;
}

static int32_t parse_ipv4_text(const uint8_t *s, size_t len, uint32_t *out) {
  if (len == 0) { /* s may be NULL then */
    return MTP_RESOLVE_ERR_SYNTAX;
  }
  uint32_t value = 0;
  int octets = 0;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && s[i] != '.') {
      continue;
    }
    uint32_t octet;
    if (octets == 4 || parse_octet(s + start, i - start, &octet) != 0) {
      return MTP_RESOLVE_ERR_SYNTAX;
    }
    value = (value << 8) | octet;
    octets++;
    start = i + 1;
  }
  if (octets != 4) {
    return MTP_RESOLVE_ERR_SYNTAX;
  }
  *out = value;
  return 0;
}

int32_t mtp_parse_ipv4(const uint8_t *s, size_t len, uint32_t *out) {
  if ((!s && len) || !out) {
    return MTP_RESOLVE_ERR_ARG;
  }
  return parse_ipv4_text(s, len, out);
}

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Colon-separated groups in [s, s+len) appended to groups[*count] (at most 8
 * in all). If ends_address, the last piece may be a dotted IPv4 address that
 * stands for two groups. */
static int parse_groups(const uint8_t *s, size_t len, int ends_address, uint16_t *groups,
                        int *count) {
  *count = 0;
  if (len == 0) {
    return 0;
  }
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && s[i] != ':') {
      continue;
    }
    const uint8_t *piece = s + start;
    size_t piece_len = i - start;
    int is_last = i == len;
    if (is_last && ends_address && memchr(piece, '.', piece_len)) {
      uint32_t ipv4;
      if (*count > 6 || parse_ipv4_text(piece, piece_len, &ipv4) != 0) {
        return -1;
      }
      groups[(*count)++] = (uint16_t)(ipv4 >> 16);
      groups[(*count)++] = (uint16_t)ipv4;
    } else {
      if (*count > 7 || piece_len < 1 || piece_len > 4) {
        return -1;
      }
      uint16_t group = 0;
      for (size_t k = 0; k < piece_len; k++) {
        int nibble = hex_value(piece[k]);
        if (nibble < 0) {
          return -1;
        }
        group = (uint16_t)((group << 4) | nibble);
      }
      groups[(*count)++] = group;
    }
    start = i + 1;
  }
  return 0;
}

static int32_t parse_ipv6_text(const uint8_t *s, size_t len, uint8_t *out) {
  uint16_t head[8], tail[8], all[8] = {0};
  int head_count, tail_count;
  size_t double_colon = len;
  if (len == 0) { /* s may be NULL then */
    return MTP_RESOLVE_ERR_SYNTAX;
  }
  for (size_t i = 0; i + 1 < len; i++) {
    if (s[i] == ':' && s[i + 1] == ':') {
      double_colon = i;
      break;
    }
  }
  if (double_colon == len) {
    if (parse_groups(s, len, 1, all, &head_count) != 0 || head_count != 8) {
      return MTP_RESOLVE_ERR_SYNTAX;
    }
  } else {
    /* A second "::" shows up as an empty group in the tail and fails there. */
    if (parse_groups(s, double_colon, 0, head, &head_count) != 0 ||
        parse_groups(s + double_colon + 2, len - double_colon - 2, 1, tail, &tail_count) != 0 ||
        head_count + tail_count > 7) { /* "::" stands for at least one group */
      return MTP_RESOLVE_ERR_SYNTAX;
    }
    memcpy(all, head, sizeof(uint16_t) * (size_t)head_count);
    memcpy(all + 8 - tail_count, tail, sizeof(uint16_t) * (size_t)tail_count);
  }
  for (int i = 0; i < 8; i++) {
    out[2 * i] = (uint8_t)(all[i] >> 8);
    out[2 * i + 1] = (uint8_t)all[i];
  }
  return 0;
}

int32_t mtp_parse_ipv6(const uint8_t *s, size_t len, uint8_t *out) {
  if ((!s && len) || !out) {
    return MTP_RESOLVE_ERR_ARG;
  }
  return parse_ipv6_text(s, len, out);
}

static int family_wanted(int32_t family, int32_t have) {
  return family == MTP_RESOLVE_FAMILY_ANY || family == have;
}

static int32_t lookup(const uint8_t *name, size_t len, int32_t family, mtp_resolved_addr *out) {
  if (len == 0 || len > MAX_NAME_LEN) {
    return MTP_RESOLVE_ERR_BAD_NAME;
  }
  for (size_t i = 0; i < len; i++) {
    uint8_t c = name[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-';
    if (!ok) {
      return MTP_RESOLVE_ERR_BAD_NAME;
    }
  }
  char host[MAX_NAME_LEN + 1];
  memcpy(host, name, len);
  host[len] = 0;
  /* The same hints as Rust's std lookup, so both see the same list. */
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo *list = NULL;
  if (getaddrinfo(host, NULL, &hints, &list) != 0) {
    return MTP_RESOLVE_ERR_NOT_FOUND;
  }
  int32_t rc = MTP_RESOLVE_ERR_NOT_FOUND;
  for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET && family_wanted(family, MTP_RESOLVE_FAMILY_V4)) {
      const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
      memset(out, 0, sizeof(*out));
      out->family = MTP_RESOLVE_FAMILY_V4;
      out->ipv4 = ntohl(sin->sin_addr.s_addr);
      rc = 0;
      break;
    }
    if (ai->ai_family == AF_INET6 && family_wanted(family, MTP_RESOLVE_FAMILY_V6)) {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ai->ai_addr;
      memset(out, 0, sizeof(*out));
      out->family = MTP_RESOLVE_FAMILY_V6;
      memcpy(out->ipv6, sin6->sin6_addr.s6_addr, 16);
      rc = 0;
      break;
    }
  }
  freeaddrinfo(list);
  return rc;
}

int32_t mtp_resolve_host(const uint8_t *name, size_t len, int32_t family,
                         mtp_resolved_addr *out) {
  int known_family = family == MTP_RESOLVE_FAMILY_ANY || family == MTP_RESOLVE_FAMILY_V4 ||
                     family == MTP_RESOLVE_FAMILY_V6;
  if ((!name && len) || !out || !known_family) {
    return MTP_RESOLVE_ERR_ARG;
  }
  uint32_t ipv4;
  uint8_t ipv6[16];
  if (parse_ipv4_text(name, len, &ipv4) == 0) {
    if (!family_wanted(family, MTP_RESOLVE_FAMILY_V4)) {
      return MTP_RESOLVE_ERR_NOT_FOUND;
    }
    memset(out, 0, sizeof(*out));
    out->family = MTP_RESOLVE_FAMILY_V4;
    out->ipv4 = ipv4;
    return 0;
  }
  if (parse_ipv6_text(name, len, ipv6) == 0) {
    if (!family_wanted(family, MTP_RESOLVE_FAMILY_V6)) {
      return MTP_RESOLVE_ERR_NOT_FOUND;
    }
    memset(out, 0, sizeof(*out));
    out->family = MTP_RESOLVE_FAMILY_V6;
    memcpy(out->ipv6, ipv6, 16);
    return 0;
  }
  return lookup(name, len, family, out);
}
