//! The Rust-only options (ARCHITECTURE.md, "Rust-only features") on their
//! way from `main` to the Rust proxy, and the Rust proxy's extra counters on
//! their way to the Rust stats server.
//!
//! The C contracts (`mtp_engine_config`, `mtp_proxy_settings`,
//! `mtp_proxy_stats`) stay exactly upstream's, so these travel outside
//! them: `main` stores the options once ([`set_options`]) before it runs the
//! engine, the Rust proxy's `mtp_proxy_new` shim reads them
//! ([`options`]), and the Rust proxy registers its direct-mode counters
//! ([`set_direct_stats`]) for the Rust engine's `/stats` and `/metrics` to
//! append; with a users file it registers its users' registry
//! ([`set_users`]) for the engine's reload, state saver and stats. A C
//! proxy never reads the options (main refuses them first when
//! the proxy is C); a C engine does not print the extra lines.
//! Nothing sets them in the in-process differential tests, so the two
//! proxies are compared on upstream's behaviour there.

use crate::users::Registry;
use mtproxy_core::runtime::RustOnly;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

static OPTIONS: OnceLock<RustOnly> = OnceLock::new();
static STATS: Mutex<Option<Arc<RustStats>>> = Mutex::new(None);
static USERS: Mutex<Option<Arc<Registry>>> = Mutex::new(None);

/// Stores the options for the proxy created next; only the first call
/// counts (`false` for later ones).
pub fn set_options(options: RustOnly) -> bool {
    OPTIONS.set(options).is_ok()
}

/// The options `main` stored, or all off.
pub fn options() -> RustOnly {
    OPTIONS.get().cloned().unwrap_or_default()
}

/// Registers the counters of the running Rust proxy.
pub fn set_direct_stats(stats: Arc<RustStats>) {
    *STATS.lock().unwrap_or_else(PoisonError::into_inner) = Some(stats);
}

/// The counters of the running Rust proxy, if there is one.
pub fn direct_stats() -> Option<Arc<RustStats>> {
    STATS.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Registers the running Rust proxy's users (for the engine's reload,
/// state saver and stats).
pub fn set_users(registry: Arc<Registry>) {
    *USERS.lock().unwrap_or_else(PoisonError::into_inner) = Some(registry);
}

/// The running Rust proxy's users, if it has a users file.
pub fn users() -> Option<Arc<Registry>> {
    USERS.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// One DC's direct-mode counters.
#[derive(Default, Debug)]
pub struct DcCounters {
    /// Open connections to the DC now.
    pub connections: AtomicI64,
    pub connections_total: AtomicI64,
    pub bytes_to_dc: AtomicI64,
    pub bytes_from_dc: AtomicI64,
}

/// The Rust proxy's counters that upstream's stats struct has no field for.
#[derive(Default, Debug)]
pub struct RustStats {
    pub direct_mode: bool,
    /// Clients closed because their DC id has no address (0, unknown).
    pub direct_unknown_dc: AtomicI64,
    /// Clients closed because no address of their DC could be connected.
    pub direct_connect_failed: AtomicI64,
    /// Connects to a DC address that failed (or timed out) with another
    /// address of the DC left to try.
    pub direct_address_fallbacks: AtomicI64,
    /// Clients sent direct because their middle-ends were down
    /// (`--direct-fallback`).
    pub direct_fallback_clients: AtomicI64,
    /// PROXY protocol (`--proxy-protocol`): headers accepted, connections
    /// from outside the trusted blocks, and connections closed for a
    /// missing, malformed, too long or too slow header.
    pub proxy_protocol_headers: AtomicI64,
    pub proxy_protocol_untrusted: AtomicI64,
    pub proxy_protocol_bad: AtomicI64,
    /// obfuscated2 headers refused as replays.
    pub obfs2_replays: AtomicI64,
    /// Handshakes (with users) that got only their address's last secret
    /// tried, because full searches had used up their share of the time.
    pub secret_searches_skipped: AtomicI64,
    /// `--shared-state`: whether it is on, and its health.
    pub shared_state_on: bool,
    pub shared_state: SharedStats,
    per_dc: RwLock<BTreeMap<i16, Arc<DcCounters>>>,
}

impl RustStats {
    pub fn new(direct_mode: bool, shared_state_on: bool) -> RustStats {
        RustStats {
            direct_mode,
            shared_state_on,
            ..RustStats::default()
        }
    }

    /// The counters of DC `dc` (created on first use; one lock per new
    /// connection, none per byte).
    pub fn dc(&self, dc: i16) -> Arc<DcCounters> {
        if let Some(c) = self
            .per_dc
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&dc)
        {
            return Arc::clone(c);
        }
        let mut map = self.per_dc.write().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(dc).or_default())
    }

    fn rows(&self) -> Vec<(String, Option<i16>, i64, bool)> {
        let get = |a: &AtomicI64| a.load(Ordering::Relaxed);
        let counter = |name: &str, a: &AtomicI64| (name.to_string(), None, get(a), true);
        let mut rows = vec![
            (
                "direct_mode".to_string(),
                None,
                i64::from(self.direct_mode),
                false,
            ),
            counter("direct_unknown_dc", &self.direct_unknown_dc),
            counter("direct_connect_failed", &self.direct_connect_failed),
            counter("direct_address_fallbacks", &self.direct_address_fallbacks),
            counter("direct_fallback_clients", &self.direct_fallback_clients),
            counter("proxy_protocol_headers", &self.proxy_protocol_headers),
            counter("proxy_protocol_untrusted", &self.proxy_protocol_untrusted),
            counter("proxy_protocol_bad", &self.proxy_protocol_bad),
            counter("obfs2_replays_rejected", &self.obfs2_replays),
            counter("secret_searches_skipped", &self.secret_searches_skipped),
        ];
        if self.shared_state_on {
            let shared = &self.shared_state;
            let gauge = |name: &str, a: &AtomicI64| (name.to_string(), None, get(a), false);
            rows.extend([
                gauge("shared_state_up", &shared.up),
                counter("shared_state_errors", &shared.errors),
                counter("shared_state_published", &shared.published),
                counter("shared_state_received", &shared.received),
                gauge("shared_state_pending", &shared.pending),
                counter("shared_state_dropped", &shared.dropped),
            ]);
        }
        let map = self.per_dc.read().unwrap_or_else(PoisonError::into_inner);
        for (&dc, c) in map.iter() {
            let per_dc =
                |name: &str, a: &AtomicI64, counter| (name.to_string(), Some(dc), get(a), counter);
            rows.extend([
                per_dc("direct_connections", &c.connections, false),
                per_dc("direct_connections_total", &c.connections_total, true),
                per_dc("direct_bytes_up", &c.bytes_to_dc, true),
                per_dc("direct_bytes_down", &c.bytes_from_dc, true),
            ]);
        }
        rows
    }

    /// Lines appended to `/stats`: `name\tvalue`, per DC `name_dc<ID>`.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for (name, dc, value, _) in self.rows() {
            match dc {
                Some(dc) => out.push_str(&format!("{name}_dc{dc}\t{value}\n")),
                None => out.push_str(&format!("{name}\t{value}\n")),
            }
        }
        out
    }

    /// Lines appended to `/metrics`: `mtproxy_<name>{dc="ID"} value`.
    pub fn render_prometheus(&self) -> String {
        let mut out = String::new();
        let mut typed = std::collections::HashSet::new();
        for (name, dc, value, counter) in self.rows() {
            if typed.insert(name.clone()) {
                let kind = if counter { "counter" } else { "gauge" };
                out.push_str(&format!("# TYPE mtproxy_{name} {kind}\n"));
            }
            match dc {
                Some(dc) => out.push_str(&format!("mtproxy_{name}{{dc=\"{dc}\"}} {value}\n")),
                None => out.push_str(&format!("mtproxy_{name} {value}\n")),
            }
        }
        out
    }
}

/// The `--shared-state` counters `/stats` and `/metrics` show (README
/// "Operating a fleet"); kept by shared_state.rs.
#[derive(Default, Debug)]
pub struct SharedStats {
    /// 1 while Redis answers, else 0.
    pub up: AtomicI64,
    /// Failed connects and commands.
    pub errors: AtomicI64,
    /// Digests pushed, and other instances' digests taken in.
    pub published: AtomicI64,
    pub received: AtomicI64,
    /// Digests waiting to be pushed, and those dropped while Redis was away.
    pub pending: AtomicI64,
    pub dropped: AtomicI64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_dc_rows_render_in_both_formats() {
        let s = RustStats::new(true, true);
        s.dc(-2).bytes_to_dc.fetch_add(5, Ordering::Relaxed);
        s.dc(2).connections_total.fetch_add(1, Ordering::Relaxed);
        let text = s.render_text();
        assert!(text.contains("direct_mode\t1\n"), "{text}");
        assert!(text.contains("shared_state_up\t0\n"), "{text}");
        assert!(!RustStats::new(true, false)
            .render_text()
            .contains("shared_state"));
        assert!(text.contains("direct_bytes_up_dc-2\t5\n"), "{text}");
        assert!(text.contains("direct_connections_total_dc2\t1\n"), "{text}");
        let prom = s.render_prometheus();
        assert!(
            prom.contains("mtproxy_direct_bytes_up{dc=\"-2\"} 5\n"),
            "{prom}"
        );
        assert_eq!(prom.matches("# TYPE mtproxy_direct_bytes_up ").count(), 1);
    }
}
