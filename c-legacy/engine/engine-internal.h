/* Private interface between engine.c (start-up, signals, main loop) and
 * engine-stats.c (the loopback /stats and /metrics HTTP server). Not a
 * module contract: nothing outside c-legacy/engine/ includes it. */
#ifndef MTP_ENGINE_INTERNAL_H
#define MTP_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mtp_engine_main.h"
#include "mtp_mtproto_proxy.h"
#include "mtp_net_events.h"

/* Reactor tokens of the engine thread. Stats connections carry a tag bit,
 * their slot and a generation, so an event or timer of a closed
 * connection never reaches the slot's next occupant. */
#define ENGINE_TOKEN_SIGNALS 1u
#define ENGINE_TOKEN_STATS_LISTENER 2u
#define ENGINE_TOKEN_STATS_CONN_TAG (1ull << 63)

/* Writes one `[pid][time] text` line to stderr (printf-style). */
void engine_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The domain probe (engine-probe.c). */
typedef struct engine_probe engine_probe;

/* A probe of `domains` (copied) that hands profiles to `proxy`; NULL if out
 * of memory. */
engine_probe *engine_probe_new(const mtp_proxy *proxy, const mtp_proxy_domain *domains,
                               size_t n_domains);
/* The start-up round (bounded by MTP_TLS_PROBE_DEADLINE_MS). */
void engine_probe_first_round(engine_probe *probe);
/* Starts the periodic re-probe thread (call with signals blocked). */
void engine_probe_start(engine_probe *probe);
/* Stops the re-probe thread and frees the probe (NULL allowed). */
void engine_probe_free(engine_probe *probe);
/* The profile lines of the stats page into `out` (what fits); the full length. */
size_t engine_probe_render(engine_probe *probe, int prometheus, uint8_t *out, size_t cap);

/* What the stats pages show about the process, owned by the engine. */
typedef struct engine_info {
  const mtp_proxy *proxy;
  engine_probe *probe;
  uint32_t workers;
  time_t start_time;
  time_t config_loaded_at;
  const char *config_filename;
  size_t config_size;
  char config_md5_hex[33];
} engine_info;

typedef struct stats_server stats_server;

/* A server answering on the listening socket `listen_fd` (non-blocking,
 * not yet in the reactor; the server adds it and owns it from now on).
 * NULL if out of memory or the reactor refused (errno tells). */
stats_server *stats_server_new(mtp_reactor *reactor, int listen_fd, const engine_info *info);

/* Handles one reactor event whose token is the listener's or carries
 * ENGINE_TOKEN_STATS_CONN_TAG. */
void stats_server_handle(stats_server *server, const mtp_event *event);

/* Closes every connection and the listener and frees the server. */
void stats_server_free(stats_server *server);

/* ---- start-up steps (engine-setup.c) ---- */

/* The two files' bytes (config text and proxy secret), malloc'ed. */
typedef struct engine_files {
  uint8_t *config;
  size_t config_len;
  uint8_t *secret;
  size_t secret_len;
} engine_files;

/* Reads the config file and the --aes-pwd file. 0, or -1 with a reason
 * naming the file in `why`. */
int engine_read_files(const mtp_engine_config *config, engine_files *out, char *why, size_t why_cap);
void engine_free_files(engine_files *files);

/* Opens `path` for appending and puts it on stderr. 0 or -1 (errno). */
int engine_open_log(const char *path);

/* Resolves the -D domains and builds the proxy; logs why on failure. */
mtp_proxy *engine_new_proxy(const mtp_engine_config *config, const engine_files *files,
                            uint32_t workers, engine_probe **probe);

/* Raises the soft RLIMIT_NOFILE to `max_connections` (0: 65536) + 16,
 * warning when the hard limit is lower. */
void engine_raise_nofile(uint32_t max_connections);

/* Every socket the engine binds. client_fds[w * n_ports + k] is worker
 * w's listener for port k; -1 marks a slot not (or no longer) ours. */
typedef struct engine_sockets {
  int *client_fds;
  size_t n_ports;
  uint32_t workers;
  uint16_t client_ports[MTP_ENGINE_MAX_PORTS]; /* as bound */
  int stats_fd;
  uint16_t stats_port;
} engine_sockets;

void engine_sockets_init(engine_sockets *socks);
/* Binds the client listeners and the stats listener; logs why on failure. */
int engine_bind_all(const mtp_engine_config *config, uint32_t workers, engine_sockets *socks);
/* Closes worker `w`'s listeners (it never ran). */
void engine_close_worker_fds(engine_sockets *socks, uint32_t w);
/* Forgets worker `w`'s listeners (the worker owns and closed them). */
void engine_forget_worker_fds(engine_sockets *socks, uint32_t w);
/* Closes every socket still ours and frees the array. */
void engine_sockets_close(engine_sockets *socks);

/* Writes --ports-file (if given) atomically; logs why on failure. */
int engine_write_ports_file(const mtp_engine_config *config, const engine_sockets *socks);
/* Switches to `user` (NULL: nothing to do); logs why on failure. */
/* The user started as root without -u switches to (docs/PROTOCOL.md §8.3). */
#define ENGINE_DEFAULT_USER "mtproxy"
/* The user to switch to: `user` (-u), else ENGINE_DEFAULT_USER when started
 * as root, else none (*out = NULL). A user that does not exist is refused
 * (-1, logged); one with uid 0 (-u root) is allowed with a warning line.
 * Called before anything is bound. */
int engine_resolve_user(const char *user, const char **out);
/* Switches to `user` (NULL: no switch): groups, gid, uid; -1 (logged) on
 * failure, which is fatal. */
int engine_drop_privileges(const char *user);
/* Prints the tg://proxy links to stdout. */
void engine_print_links(const mtp_engine_config *config, const engine_sockets *socks);

#endif /* MTP_ENGINE_INTERNAL_H */
