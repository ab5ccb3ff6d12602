/* proxy-multi.conf parsed into a cluster table, through the parse-config
 * tokenizer and the resolver. Keywords are whole words. A cluster's lines are
 * consecutive, so its target references are one run of refs[]; the table has
 * fixed capacities (1024 clusters, 4096 lines), allocated once. */
#include "mtp_mtproto_config.h"

#include "mtp_parse_config.h"
#include "mtp_resolver.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CLUSTERS 1024
#define MAX_PROXY_LINES 4096
#define MAX_HOST_LEN 63
#define DC_MIN (-32768)
#define DC_MAX 32767
#define MAX_CONNECTIONS_LIMIT 1000

typedef struct {
  int32_t id;
  size_t first_ref;
  size_t ref_count;
} cluster;

struct mtp_mtproto_config {
  size_t cluster_count;
  size_t target_count;
  size_t ref_count;
  int32_t default_cluster_id;
  cluster clusters[MAX_CLUSTERS];
  mtp_mtproto_target targets[MAX_PROXY_LINES];
  size_t refs[MAX_PROXY_LINES];
};

typedef struct {
  mtp_cfg_lexer lexer;
  int literal_hosts;
  int32_t min_connections;
  int32_t max_connections;
  int32_t error_line;
  mtp_mtproto_config *config;
} parser;

static int32_t fail(parser *p, int32_t code, int32_t line) {
  p->error_line = line;
  return code;
}

static const uint8_t *token_bytes(const parser *p, const mtp_cfg_token *t) {
  return p->lexer.data + t->start;
}

static int token_is(const parser *p, const mtp_cfg_token *t, const char *word) {
  size_t n = strlen(word);
  return t->len == n && memcmp(token_bytes(p, t), word, n) == 0;
}

/* A word that is an integer in [min, max]; range_error otherwise. */
static int32_t number(parser *p, int64_t min, int64_t max, int32_t range_error, int64_t *out) {
  mtp_cfg_token t;
  if (mtp_cfg_next_token(&p->lexer, &t) != MTP_CFG_TOK_WORD) {
    return fail(p, MTP_MTPROTO_CONFIG_ERR_SYNTAX, t.line);
  }
  int32_t err = mtp_cfg_parse_int(token_bytes(p, &t), t.len, min, max, out);
  if (err == MTP_CFG_ERR_RANGE) {
    return fail(p, range_error, t.line);
  }
  return err ? fail(p, MTP_MTPROTO_CONFIG_ERR_SYNTAX, t.line) : 0;
}

static int32_t punct(parser *p, char which) {
  mtp_cfg_token t;
  int32_t kind = mtp_cfg_next_token(&p->lexer, &t);
  if (kind != MTP_CFG_TOK_PUNCT || token_bytes(p, &t)[0] != (uint8_t)which) {
    return fail(p, MTP_MTPROTO_CONFIG_ERR_SYNTAX, t.line);
  }
  return 0;
}

/* An IPv4 address for a host word: a literal only, or any resolvable name. */
static int32_t resolve(const parser *p, const uint8_t *host, size_t len, mtp_resolved_addr *addr) {
  memset(addr, 0, sizeof *addr);
  if (p->literal_hosts) {
    if (mtp_parse_ipv4(host, len, &addr->ipv4) != 0) {
      return MTP_MTPROTO_CONFIG_ERR_RESOLVE;
    }
    addr->family = MTP_RESOLVE_FAMILY_V4;
    return 0;
  }
  int32_t err = mtp_resolve_host(host, len, MTP_RESOLVE_FAMILY_V4, addr);
  if (err == MTP_RESOLVE_ERR_BAD_NAME) {
    return MTP_MTPROTO_CONFIG_ERR_HOST;
  }
  return err ? MTP_MTPROTO_CONFIG_ERR_RESOLVE : 0;
}

static int32_t host_port(parser *p, mtp_resolved_addr *addr, int32_t *port) {
  mtp_cfg_token t;
  int32_t kind = mtp_cfg_next_token(&p->lexer, &t);
  const uint8_t *host = token_bytes(p, &t);
  if (kind == MTP_CFG_TOK_WORD) {
    if (t.len > MAX_HOST_LEN) {
      return fail(p, MTP_MTPROTO_CONFIG_ERR_HOST, t.line);
    }
    int32_t err = resolve(p, host, t.len, addr);
    if (err) {
      return fail(p, err, t.line);
    }
  } else if (kind == MTP_CFG_TOK_BRACKETED) {
    memset(addr, 0, sizeof *addr);
    if (mtp_parse_ipv6(host, t.len, addr->ipv6) != 0) {
      return fail(p, MTP_MTPROTO_CONFIG_ERR_HOST, t.line);
    }
    addr->family = MTP_RESOLVE_FAMILY_V6;
  } else {
    return fail(p, MTP_MTPROTO_CONFIG_ERR_SYNTAX, t.line);
  }
  int64_t value = 0;
  int32_t err = punct(p, ':');
  if (!err) {
    err = number(p, 1, 65535, MTP_MTPROTO_CONFIG_ERR_PORT_RANGE, &value);
  }
  *port = (int32_t)value;
  return err;
}

static int same_target(const mtp_mtproto_target *t, const mtp_resolved_addr *addr, int32_t port) {
  return t->family == addr->family && t->ipv4 == addr->ipv4 &&
         memcmp(t->ipv6, addr->ipv6, sizeof t->ipv6) == 0 && t->port == port;
}

static int32_t add_target(parser *p, int32_t line, int32_t dc, const mtp_resolved_addr *addr,
                          int32_t port) {
  mtp_mtproto_config *c = p->config;
  int new_cluster = c->cluster_count == 0 || c->clusters[c->cluster_count - 1].id != dc;
  if (new_cluster) {
    for (size_t i = 0; i < c->cluster_count; i++) {
      if (c->clusters[i].id == dc) {
        return fail(p, MTP_MTPROTO_CONFIG_ERR_INTERMIXED, line);
      }
    }
    if (c->cluster_count >= MAX_CLUSTERS) {
      return fail(p, MTP_MTPROTO_CONFIG_ERR_TOO_MANY_CLUSTERS, line);
    }
  }
  if (c->ref_count >= MAX_PROXY_LINES) {
    return fail(p, MTP_MTPROTO_CONFIG_ERR_TOO_MANY_TARGETS, line);
  }
  if (new_cluster) {
    cluster *added = &c->clusters[c->cluster_count++];
    added->id = dc;
    added->first_ref = c->ref_count;
    added->ref_count = 0;
  }
  size_t index = 0;
  while (index < c->target_count && !same_target(&c->targets[index], addr, port)) {
    index++;
  }
  if (index == c->target_count) {
    mtp_mtproto_target *t = &c->targets[c->target_count++];
    t->family = addr->family;
    t->ipv4 = addr->ipv4;
    memcpy(t->ipv6, addr->ipv6, sizeof t->ipv6);
    t->port = port;
    t->min_connections = p->min_connections;
    t->max_connections = p->max_connections;
  }
  c->refs[c->ref_count++] = index;
  c->clusters[c->cluster_count - 1].ref_count++;
  return 0;
}

static int32_t statement(parser *p, const mtp_cfg_token *keyword) {
  int64_t n = 0;
  int32_t port = 0, err;
  mtp_resolved_addr addr;
  if (token_is(p, keyword, "proxy_for")) {
    if ((err = number(p, DC_MIN, DC_MAX, MTP_MTPROTO_CONFIG_ERR_DC_RANGE, &n)) ||
        (err = host_port(p, &addr, &port)) || (err = punct(p, ';'))) {
      return err;
    }
    return add_target(p, keyword->line, (int32_t)n, &addr, port);
  }
  if (token_is(p, keyword, "proxy")) {
    if ((err = host_port(p, &addr, &port)) || (err = punct(p, ';'))) {
      return err;
    }
    return add_target(p, keyword->line, 0, &addr, port);
  }
  if (token_is(p, keyword, "default")) {
    if (!(err = number(p, DC_MIN, DC_MAX, MTP_MTPROTO_CONFIG_ERR_DC_RANGE, &n)) &&
        !(err = punct(p, ';'))) {
      p->config->default_cluster_id = (int32_t)n;
    }
    return err;
  }
  if (token_is(p, keyword, "min_connections")) {
    if (!(err = number(p, 1, p->max_connections, MTP_MTPROTO_CONFIG_ERR_MIN_CONNECTIONS, &n)) &&
        !(err = punct(p, ';'))) {
      p->min_connections = (int32_t)n;
    }
    return err;
  }
  if (token_is(p, keyword, "max_connections")) {
    if (!(err = number(p, p->min_connections, MAX_CONNECTIONS_LIMIT,
                       MTP_MTPROTO_CONFIG_ERR_MAX_CONNECTIONS, &n)) &&
        !(err = punct(p, ';'))) {
      p->max_connections = (int32_t)n;
    }
    return err;
  }
  if (token_is(p, keyword, "timeout")) {
    if ((err = number(p, 10, 30000, MTP_MTPROTO_CONFIG_ERR_TIMEOUT, &n))) {
      return err;
    }
    return punct(p, ';');
  }
  return fail(p, MTP_MTPROTO_CONFIG_ERR_SYNTAX, keyword->line);
}

static int32_t run(parser *p) {
  for (;;) {
    mtp_cfg_token t;
    int32_t kind = mtp_cfg_next_token(&p->lexer, &t);
    if (kind == MTP_CFG_TOK_END) {
      return p->config->ref_count ? 0 : fail(p, MTP_MTPROTO_CONFIG_ERR_NO_PROXIES, t.line);
    }
    if (kind != MTP_CFG_TOK_WORD) {
      return fail(p, MTP_MTPROTO_CONFIG_ERR_SYNTAX, t.line);
    }
    int32_t err = statement(p, &t);
    if (err) {
      return err;
    }
  }
}

int32_t mtp_mtproto_config_parse(const uint8_t *data, size_t len, int32_t options,
                                 mtp_mtproto_config **out, int32_t *error_line) {
  if ((!data && len > 0) || !out || (options & ~MTP_MTPROTO_CONFIG_LITERAL_HOSTS)) {
    return MTP_MTPROTO_CONFIG_ERR_ARG;
  }
  parser p;
  memset(&p, 0, sizeof p);
  if (mtp_cfg_lexer_init(&p.lexer, data, len) != 0) {
    if (error_line) {
      *error_line = 0;
    }
    return MTP_MTPROTO_CONFIG_ERR_TOO_BIG;
  }
  p.literal_hosts = (options & MTP_MTPROTO_CONFIG_LITERAL_HOSTS) != 0;
  p.min_connections = 4;
  p.max_connections = 8;
  p.config = calloc(1, sizeof *p.config);
  if (!p.config) {
    return MTP_MTPROTO_CONFIG_ERR_NO_MEMORY;
  }
  int32_t err = run(&p);
  if (err) {
    free(p.config);
    if (error_line) {
      *error_line = p.error_line;
    }
    return err;
  }
  *out = p.config;
  return 0;
}

void mtp_mtproto_config_free(mtp_mtproto_config *config) {
  free(config);
}

size_t mtp_mtproto_config_cluster_count(const mtp_mtproto_config *config) {
  return config ? config->cluster_count : 0;
}

int32_t mtp_mtproto_config_cluster(const mtp_mtproto_config *config, size_t index,
                                   mtp_mtproto_cluster *out) {
  if (!config || !out) {
    return MTP_MTPROTO_CONFIG_ERR_ARG;
  }
  if (index >= config->cluster_count) {
    return MTP_MTPROTO_CONFIG_ERR_INDEX;
  }
  out->id = config->clusters[index].id;
  out->target_count = config->clusters[index].ref_count;
  return 0;
}

int32_t mtp_mtproto_config_cluster_target(const mtp_mtproto_config *config, size_t cluster_index,
                                          size_t line, size_t *target_index) {
  if (!config || !target_index) {
    return MTP_MTPROTO_CONFIG_ERR_ARG;
  }
  if (cluster_index >= config->cluster_count ||
      line >= config->clusters[cluster_index].ref_count) {
    return MTP_MTPROTO_CONFIG_ERR_INDEX;
  }
  *target_index = config->refs[config->clusters[cluster_index].first_ref + line];
  return 0;
}

size_t mtp_mtproto_config_target_count(const mtp_mtproto_config *config) {
  return config ? config->target_count : 0;
}

int32_t mtp_mtproto_config_target(const mtp_mtproto_config *config, size_t index,
                                  mtp_mtproto_target *out) {
  if (!config || !out) {
    return MTP_MTPROTO_CONFIG_ERR_ARG;
  }
  if (index >= config->target_count) {
    return MTP_MTPROTO_CONFIG_ERR_INDEX;
  }
  *out = config->targets[index];
  return 0;
}

int32_t mtp_mtproto_config_default_cluster_id(const mtp_mtproto_config *config, int32_t *out) {
  if (!config || !out) {
    return MTP_MTPROTO_CONFIG_ERR_ARG;
  }
  *out = config->default_cluster_id;
  return 0;
}

static int find_cluster(const mtp_mtproto_config *config, int32_t id, size_t *index) {
  for (size_t i = 0; i < config->cluster_count; i++) {
    if (config->clusters[i].id == id) {
      *index = i;
      return 1;
    }
  }
  return 0;
}

int32_t mtp_mtproto_config_lookup(const mtp_mtproto_config *config, int32_t dc,
                                  size_t *cluster_index) {
  if (!config || !cluster_index) {
    return MTP_MTPROTO_CONFIG_ERR_ARG;
  }
  if (find_cluster(config, dc, cluster_index) ||
      find_cluster(config, config->default_cluster_id, cluster_index)) {
    return 0;
  }
  return MTP_MTPROTO_CONFIG_ERR_NOT_FOUND;
}
