/* The engine's start-up steps, in the order engine.c runs them: read the
 * files, build the proxy, raise the fd limit, bind, write the ports file,
 * drop privileges, print the links. Each step says on stderr why it failed;
 * a failure of any step (except the fd limit) ends the run. */
#include "mtp_engine_main.h"
#include "mtp_mtproto_proxy.h"
#include "mtp_obfs2.h"

#include "engine/engine-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger files are certainly not a proxy config or secret. */
#define MAX_INPUT_FILE (16 * 1024 * 1024)
#define DEFAULT_MAX_CONNECTIONS 65536
/* Descriptors beyond the connections: listeners, epoll, eventfd, logs. */
#define NOFILE_HEADROOM 16
#define DEFAULT_RELAY_PORT 443

/* ---- files ---- */

/* Reads all of `path` into a malloc'ed buffer. 0, or -1 with errno (EFBIG
 * for an oversized file). */
static int read_whole_file(const char *path, uint8_t **out, size_t *out_len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  if (buf == NULL) {
    close(fd);
    errno = ENOMEM;
    return -1;
  }
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_INPUT_FILE) {
        free(buf);
        close(fd);
        errno = EFBIG;
        return -1;
      }
      uint8_t *grown = realloc(buf, cap * 2);
      if (grown == NULL) {
        free(buf);
        close(fd);
        errno = ENOMEM;
        return -1;
      }
      buf = grown;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int saved = errno;
      free(buf);
      close(fd);
      errno = saved;
      return -1;
    }
    if (n == 0) {
      break;
    }
    len += (size_t)n;
  }
  close(fd);
  *out = buf;
  *out_len = len;
  return 0;
}

int engine_read_files(const mtp_engine_config *config, engine_files *out, char *why,
                      size_t why_cap) {
  memset(out, 0, sizeof(*out));
  if (read_whole_file(config->config_file, &out->config, &out->config_len) != 0) {
    snprintf(why, why_cap, "cannot read config file %s: %s", config->config_file,
             strerror(errno));
    return -1;
  }
  if (read_whole_file(config->aes_pwd_file, &out->secret, &out->secret_len) != 0) {
    snprintf(why, why_cap, "cannot read proxy secret file %s (--aes-pwd): %s",
             config->aes_pwd_file, strerror(errno));
    engine_free_files(out);
    return -1;
  }
  return 0;
}

void engine_free_files(engine_files *files) {
  free(files->config);
  free(files->secret);
  memset(files, 0, sizeof(*files));
}

int engine_open_log(const char *path) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return -1;
  }
  if (dup2(fd, STDERR_FILENO) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  close(fd);
  return 0;
}

/* ---- the proxy ---- */

/* Parses `NAME[:PORT]` and resolves NAME to an IPv4 address. 0, or -1
 * with the reason logged. */
static int resolve_domain(const char *spec, mtp_proxy_domain *out) {
  memset(out, 0, sizeof(*out));
  const char *colon = strrchr(spec, ':');
  size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
  unsigned long port = DEFAULT_RELAY_PORT;
  if (colon != NULL) {
    char *end = NULL;
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || port == 0 || port > 65535) {
      engine_log("-D %s: bad port", spec);
      return -1;
    }
  }
  if (name_len == 0 || name_len > MTP_PROXY_MAX_DOMAIN_LEN) {
    engine_log("-D %s: the domain name must be 1..%d bytes", spec, MTP_PROXY_MAX_DOMAIN_LEN);
    return -1;
  }
  char name[MTP_PROXY_MAX_DOMAIN_LEN + 1];
  memcpy(name, spec, name_len);
  name[name_len] = '\0';
  struct addrinfo hints, *found = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(name, NULL, &hints, &found);
  if (rc != 0 || found == NULL) {
    engine_log("-D %s: cannot resolve %s: %s", spec, name, gai_strerror(rc));
    return -1;
  }
  const struct sockaddr_in *addr = (const struct sockaddr_in *)found->ai_addr;
  out->relay_ipv4 = ntohl(addr->sin_addr.s_addr);
  freeaddrinfo(found);
  memcpy(out->name, name, name_len);
  out->name_len = name_len;
  out->relay_port = (uint16_t)port;
  return 0;
}

mtp_proxy *engine_new_proxy(const mtp_engine_config *config, const engine_files *files,
                            uint32_t workers, engine_probe **probe) {
  mtp_proxy_domain *domains = NULL;
  if (config->n_domains > 0) {
    domains = calloc(config->n_domains, sizeof(*domains));
    if (domains == NULL) {
      engine_log("out of memory");
      return NULL;
    }
    for (size_t i = 0; i < config->n_domains; i++) {
      if (resolve_domain(config->domains[i], &domains[i]) != 0) {
        free(domains);
        return NULL;
      }
    }
  }
  mtp_proxy_settings settings = {
      .secrets = config->secrets,
      .n_secrets = config->n_secrets,
      .domains = domains,
      .n_domains = config->n_domains,
      .ad_tag = config->ad_tag,
      .proxy_secret = files->secret,
      .proxy_secret_len = files->secret_len,
      .config = files->config,
      .config_len = files->config_len,
      .nat_info = config->nat_info,
      .n_nat_info = config->n_nat_info,
      .workers = workers,
      .max_client_connections = config->max_special_connections,
      .window_clamp = config->window_clamp,
      .buffer_limit = config->msg_buffers_size,
      .seed = config->test_seed,
  };
  uint8_t err[512] = {0};
  mtp_proxy *proxy = mtp_proxy_new(&settings, err, sizeof(err));
  if (proxy != NULL) {
    *probe = engine_probe_new(proxy, domains, config->n_domains);
    if (*probe == NULL) {
      engine_log("out of memory");
      mtp_proxy_free(proxy);
      free(domains);
      return NULL;
    }
  }
  free(domains); /* the proxy and the probe copied what they keep */
  if (proxy == NULL) {
    engine_log("cannot start the proxy (config %s, secret %s): %s", config->config_file,
               config->aes_pwd_file, err[0] ? (const char *)err : "invalid settings");
  }
  return proxy;
}

void engine_raise_nofile(uint32_t max_connections) {
  rlim_t want = (rlim_t)(max_connections ? max_connections : DEFAULT_MAX_CONNECTIONS) +
                NOFILE_HEADROOM;
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    engine_log("warning: cannot read RLIMIT_NOFILE: %s", strerror(errno));
    return;
  }
  if (lim.rlim_cur >= want) {
    return;
  }
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < want) {
    engine_log("warning: RLIMIT_NOFILE hard limit %llu is below the wanted %llu",
               (unsigned long long)lim.rlim_max, (unsigned long long)want);
    want = lim.rlim_max;
  }
  if (lim.rlim_cur >= want) {
    return;
  }
  lim.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    engine_log("warning: cannot raise RLIMIT_NOFILE to %llu: %s", (unsigned long long)want,
               strerror(errno));
  }
}

/* ---- sockets ---- */

void engine_sockets_init(engine_sockets *socks) {
  memset(socks, 0, sizeof(*socks));
  socks->stats_fd = -1;
}

/* A non-blocking listening socket on `port` (0: kernel's choice) with the
 * bound port in `*bound`; -1 with errno. `ipv6`: dual stack. */
static int listen_on(int ipv6, uint32_t ipv4, uint16_t port, int reuse_port, int backlog,
                     uint16_t *bound) {
  int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  int one = 1, zero = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) ||
      (ipv6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0)) {
    goto fail;
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  socklen_t len;
  if (ipv6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    if (ipv4 != 0) {
      /* A v4 --address on a v6 socket: its v4-mapped form. */
      a6->sin6_addr.s6_addr[10] = 0xff;
      a6->sin6_addr.s6_addr[11] = 0xff;
      uint32_t be = htonl(ipv4);
      memcpy(&a6->sin6_addr.s6_addr[12], &be, 4);
    } else {
      a6->sin6_addr = in6addr_any;
    }
    len = sizeof(*a6);
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    a4->sin_addr.s_addr = htonl(ipv4);
    len = sizeof(*a4);
  }
  if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0) {
    goto fail;
  }
  len = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    goto fail;
  }
  *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
  return fd;
fail:;
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

int engine_bind_all(const mtp_engine_config *config, uint32_t workers, engine_sockets *socks) {
  if (config->n_ports > MTP_ENGINE_MAX_PORTS) {
    engine_log("too many client ports (-H): %zu, at most %d", config->n_ports,
               MTP_ENGINE_MAX_PORTS);
    return -1;
  }
  int backlog = config->backlog == 0 || config->backlog > (uint32_t)INT32_MAX
                    ? SOMAXCONN
                    : (int)config->backlog;
  size_t total = (size_t)workers * config->n_ports;
  socks->n_ports = config->n_ports;
  socks->workers = workers;
  socks->client_fds = malloc((total ? total : 1) * sizeof(int));
  if (socks->client_fds == NULL) {
    engine_log("out of memory");
    return -1;
  }
  for (size_t i = 0; i < total; i++) {
    socks->client_fds[i] = -1;
  }
  for (size_t k = 0; k < config->n_ports; k++) {
    /* Port 0: the first worker's socket gets a kernel-chosen port and the
     * others join it through SO_REUSEPORT. */
    uint16_t port = config->ports[k];
    for (uint32_t w = 0; w < workers; w++) {
      uint16_t bound = 0;
      int fd = listen_on(config->ipv6, config->bind_ipv4, port, 1, backlog, &bound);
      if (fd < 0) {
        engine_log("cannot listen on client port %u: %s", (unsigned)port, strerror(errno));
        return -1;
      }
      socks->client_fds[(size_t)w * config->n_ports + k] = fd;
      port = bound;
    }
    socks->client_ports[k] = port;
  }
  if (config->http_stats) {
    uint16_t bound = 0;
    socks->stats_fd =
        listen_on(0, INADDR_LOOPBACK, config->stats_port, 0, backlog, &bound);
    if (socks->stats_fd < 0) {
      engine_log("cannot listen on stats port 127.0.0.1:%u: %s", (unsigned)config->stats_port,
                 strerror(errno));
      return -1;
    }
    socks->stats_port = bound;
  }
  return 0;
}

void engine_close_worker_fds(engine_sockets *socks, uint32_t w) {
  for (size_t k = 0; k < socks->n_ports && socks->client_fds != NULL; k++) {
    int *fd = &socks->client_fds[(size_t)w * socks->n_ports + k];
    if (*fd >= 0) {
      close(*fd);
    }
    *fd = -1;
  }
}

void engine_forget_worker_fds(engine_sockets *socks, uint32_t w) {
  for (size_t k = 0; k < socks->n_ports && socks->client_fds != NULL; k++) {
    socks->client_fds[(size_t)w * socks->n_ports + k] = -1;
  }
}

void engine_sockets_close(engine_sockets *socks) {
  for (uint32_t w = 0; w < socks->workers; w++) {
    engine_close_worker_fds(socks, w);
  }
  free(socks->client_fds);
  socks->client_fds = NULL;
  if (socks->stats_fd >= 0) {
    close(socks->stats_fd);
    socks->stats_fd = -1;
  }
}

/* ---- after binding ---- */

int engine_write_ports_file(const mtp_engine_config *config, const engine_sockets *socks) {
  if (config->ports_file == NULL) {
    return 0;
  }
  /* Written beside the target and renamed over it, so a reader never sees
   * a half-written file. */
  size_t tmp_len = strlen(config->ports_file) + 32;
  char *tmp = malloc(tmp_len);
  if (tmp == NULL) {
    engine_log("out of memory");
    return -1;
  }
  snprintf(tmp, tmp_len, "%s.tmp.%ld", config->ports_file, (long)getpid());
  FILE *f = fopen(tmp, "we");
  if (f == NULL) {
    engine_log("cannot write ports file %s: %s", tmp, strerror(errno));
    free(tmp);
    return -1;
  }
  for (size_t k = 0; k < socks->n_ports; k++) {
    fprintf(f, "client %u\n", (unsigned)socks->client_ports[k]);
  }
  if (config->http_stats) {
    fprintf(f, "stats %u\n", (unsigned)socks->stats_port);
  }
  int failed = ferror(f) != 0;
  failed |= fclose(f) != 0;
  if (failed || rename(tmp, config->ports_file) != 0) {
    engine_log("cannot write ports file %s: %s", config->ports_file, strerror(errno));
    unlink(tmp);
    free(tmp);
    return -1;
  }
  free(tmp);
  return 0;
}

int engine_resolve_user(const char *user, const char **out) {
  *out = NULL;
  int implicit = 0;
  if (user == NULL) {
    if (geteuid() != 0) {
      return 0; /* unprivileged and no -u: nothing to switch */
    }
    user = ENGINE_DEFAULT_USER;
    implicit = 1;
  }
  struct passwd *pw = getpwnam(user);
  if (pw == NULL) {
    engine_log("can't find the user %s to switch to%s", user,
               implicit ? " (started as root without -u: create that user or pass -u USER)" : "");
    return -1;
  }
  if (pw->pw_uid == 0) {
    engine_log("warning: -u %s: the proxy keeps running as root", user);
  }
  *out = user;
  return 0;
}

int engine_drop_privileges(const char *user) {
  if (user == NULL) {
    return 0;
  }
  errno = 0;
  struct passwd *pw = getpwnam(user);
  if (pw == NULL) {
    engine_log("can't find the user %s to switch to", user);
    return -1;
  }
  gid_t gid = pw->pw_gid;
  uid_t uid = pw->pw_uid;
  if (geteuid() != 0 && uid == geteuid() && gid == getegid()) {
    return 0; /* already that user: an unprivileged run needs no switch */
  }
  /* Groups first: after setuid we may no longer change them. */
  if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
    engine_log("cannot change user to %s: %s", user, strerror(errno));
    return -1;
  }
  return 0;
}

/* Prints the link of one secret form, formatted by the obfs2 module; a form
 * it refuses (an invalid domain) prints nothing. */
static void print_link(const char *server, unsigned port, const mtp_obfs2_secret *secret) {
  uint8_t text[MTP_OBFS2_MAX_SECRET_TEXT_LEN + 1];
  size_t len = 0;
  if (mtp_obfs2_format_secret(secret, text, sizeof text, &len) == 0) {
    printf("tg://proxy?server=%s&port=%u&secret=%s\n", server, port, (const char *)text);
  }
}

void engine_print_links(const mtp_engine_config *config, const engine_sockets *socks) {
  if (socks->n_ports == 0) {
    return;
  }
  char server[64];
  uint32_t ip = config->bind_ipv4;
  if (ip == 0 && config->n_nat_info > 0) {
    ip = config->nat_info[1]; /* the global side of the first rule */
  }
  if (ip != 0) {
    snprintf(server, sizeof(server), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
             ip & 255);
  } else {
    snprintf(server, sizeof(server), "SERVER_IP");
  }
  unsigned port = socks->client_ports[0];
  for (size_t i = 0; i < config->n_secrets; i++) {
    mtp_obfs2_secret secret;
    memset(&secret, 0, sizeof secret);
    memcpy(secret.key, config->secrets + 16 * i, sizeof secret.key);
    if (config->n_domains == 0) {
      secret.kind = MTP_OBFS2_SECRET_PLAIN;
      print_link(server, port, &secret);
      secret.kind = MTP_OBFS2_SECRET_PADDED;
      print_link(server, port, &secret);
      continue;
    }
    /* Fake-TLS: the first domain is the one clients are told about. */
    const char *spec = config->domains[0];
    const char *colon = strrchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len <= sizeof secret.domain) {
      secret.kind = MTP_OBFS2_SECRET_FAKE_TLS;
      memcpy(secret.domain, spec, len);
      secret.domain_len = len;
      print_link(server, port, &secret);
    }
  }
  fflush(stdout);
}
