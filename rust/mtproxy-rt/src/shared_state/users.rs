//! Named users' limits across a fleet (`--shared-state` with `--users`;
//! README "Operating a fleet"): every [`USERS_SYNC`] the shared-state
//! thread reports this instance's figures of each user with a shared limit
//! and reads the rest of the fleet's into the registry, where admission and
//! the quota check count them with this instance's own
//! (mtproxy-core `users::Fleet`).
//!
//! In Redis:
//! - `mtproxy:live:<process>`: a hash per running process, `c:<user>` =
//!   open connections and `i:<user>` = the addresses it counts against
//!   `max_ips`; rewritten whole each sync, expiring [`LIVE_TTL_MS`] after
//!   the last, so a process that dies stops counting within that time.
//! - `mtproxy:instances`: the processes seen within [`LIVE_TTL_MS`].
//! - `mtproxy:q:<user>:<period start>`: a hash per user and quota period,
//!   one field per instance holding the bytes that instance relayed in the
//!   period. Each instance writes its own absolute figure, so a write
//!   repeated after an error or after Redis lost its data counts once, and
//!   an instance that stops leaves its bytes in place. With a
//!   `--users-state` file the field's name is stable across restarts (host
//!   name and state file path), so the restored figure replaces the old
//!   one. Expires [`QUOTA_TTL_SECS`] after its last write.

use crate::users::{FleetReport, Registry};
use mtproxy_core::users::Fleet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often users' figures are exchanged: the most an instance's view of
/// the others lags, plus two round trips.
pub const USERS_SYNC: Duration = Duration::from_secs(1);
/// A process's live figures expire this long after its last sync.
pub const LIVE_TTL_MS: u64 = 10_000;
/// A quota period's figures expire this long after their last write
/// (longer than a month: the longest reset period).
pub const QUOTA_TTL_SECS: u64 = 40 * 86_400;
const INSTANCES_KEY: &str = "mtproxy:instances";

pub(super) struct UsersSync {
    registry: Arc<Registry>,
    process: String,
    quota_name: String,
    last_try: Option<Instant>,
    last_ok: Instant,
    forgotten: bool,
}

impl UsersSync {
    pub(super) fn new(registry: Arc<Registry>, process: &[u8; 8]) -> UsersSync {
        let process = hex(process);
        let quota_name = match registry.state_file() {
            Some(path) => {
                let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
                let seed = format!("{}\0{}", host.trim(), path.display());
                let digest = mtproxy_core::common::sha256::sha256(seed.as_bytes());
                hex(&digest[..8])
            }
            None => process.clone(),
        };
        UsersSync {
            registry,
            process,
            quota_name,
            last_try: None,
            last_ok: Instant::now(),
            forgotten: false,
        }
    }

    pub(super) fn due(&self) -> bool {
        self.last_try.is_none_or(|t| t.elapsed() >= USERS_SYNC)
    }

    /// Redis failed: once the others' live figures are older than their
    /// lifetime in Redis, stop counting them (quota bytes stay).
    pub(super) fn failed(&mut self) {
        if !self.forgotten && self.last_ok.elapsed() >= Duration::from_millis(LIVE_TTL_MS) {
            self.registry.forget_fleet_connections();
            self.forgotten = true;
        }
    }

    /// Two pipelined round trips: write this instance's figures and list
    /// the live processes; then read theirs and the quota periods.
    pub(super) fn sync(&mut self, conn: &mut redis::Connection) -> redis::RedisResult<()> {
        self.last_try = Some(Instant::now());
        let now = crate::clock::unix_now();
        let now_ms = u64::try_from(now).unwrap_or(0) * 1000;
        let reports = self.registry.fleet_report(now);
        let live_key = format!("mtproxy:live:{}", self.process);
        let mut write = redis::pipe();
        write.cmd("DEL").arg(&live_key).ignore();
        let mut fields: Vec<(String, String)> = Vec::new();
        for r in &reports {
            if r.connections > 0 {
                fields.push((format!("c:{}", r.name), r.connections.to_string()));
            }
            if !r.ips.is_empty() {
                let ips: Vec<String> = r.ips.iter().map(IpAddr::to_string).collect();
                fields.push((format!("i:{}", r.name), ips.join(",")));
            }
        }
        if !fields.is_empty() {
            write.cmd("HSET").arg(&live_key).arg(&fields).ignore();
            write
                .cmd("PEXPIRE")
                .arg(&live_key)
                .arg(LIVE_TTL_MS)
                .ignore();
        }
        write
            .cmd("ZADD")
            .arg(INSTANCES_KEY)
            .arg(now_ms)
            .arg(&self.process)
            .ignore();
        let oldest = now_ms.saturating_sub(LIVE_TTL_MS);
        write
            .cmd("ZREMRANGEBYSCORE")
            .arg(INSTANCES_KEY)
            .arg("-inf")
            .arg(format!("({oldest}"))
            .ignore();
        write
            .cmd("PEXPIRE")
            .arg(INSTANCES_KEY)
            .arg(LIVE_TTL_MS)
            .ignore();
        for r in &reports {
            if let Some(period) = r.quota_period {
                let key = quota_key(&r.name, period);
                write
                    .cmd("HSET")
                    .arg(&key)
                    .arg(&self.quota_name)
                    .arg(r.bytes)
                    .ignore();
                write.cmd("EXPIRE").arg(&key).arg(QUOTA_TTL_SECS).ignore();
            }
        }
        write.cmd("ZRANGE").arg(INSTANCES_KEY).arg(0).arg(-1);
        let (processes,): (Vec<String>,) = write.query(conn)?;
        let others: Vec<&String> = processes.iter().filter(|p| **p != self.process).collect();
        let quota_users: Vec<&FleetReport> = reports
            .iter()
            .filter(|r| r.quota_period.is_some())
            .collect();
        let mut read = redis::pipe();
        for p in &others {
            read.cmd("HGETALL").arg(format!("mtproxy:live:{p}"));
        }
        for r in &quota_users {
            read.cmd("HGETALL")
                .arg(quota_key(&r.name, r.quota_period.unwrap_or_default()));
        }
        let maps: Vec<HashMap<String, String>> = if others.is_empty() && quota_users.is_empty() {
            Vec::new()
        } else {
            read.query(conn)?
        };
        let (live, quotas) = maps.split_at(others.len().min(maps.len()));
        for (name, fleet) in fleet_views(&reports, live, quotas, &self.quota_name) {
            self.registry.set_fleet(&name, fleet);
        }
        self.last_ok = Instant::now();
        self.forgotten = false;
        Ok(())
    }
}

fn quota_key(user: &str, period_start: i64) -> String {
    format!("mtproxy:q:{user}:{period_start}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The rest of the fleet's figures of each reported user: `live` holds
/// the other processes' live hashes; `quotas` the quota hash of each
/// reported user with a quota, in report order (this instance's own field,
/// `me`, left out).
pub fn fleet_views(
    reports: &[FleetReport],
    live: &[HashMap<String, String>],
    quotas: &[HashMap<String, String>],
    me: &str,
) -> Vec<(String, Fleet)> {
    let mut quotas = quotas.iter();
    reports
        .iter()
        .map(|r| {
            let mut fleet = Fleet::default();
            for other in live {
                let open = other.get(&format!("c:{}", r.name));
                let open: u32 = open.and_then(|n| n.parse().ok()).unwrap_or(0);
                fleet.connections = fleet.connections.saturating_add(open);
                let ips = other
                    .get(&format!("i:{}", r.name))
                    .map_or("", String::as_str);
                for ip in ips.split(',').filter_map(|ip| ip.parse::<IpAddr>().ok()) {
                    if !fleet.ips.contains(&ip) {
                        fleet.ips.push(ip);
                    }
                }
            }
            if let Some(period) = r.quota_period {
                fleet.period_start = period;
                if let Some(fields) = quotas.next() {
                    fleet.bytes = fields
                        .iter()
                        .filter(|(name, _)| name.as_str() != me)
                        .filter_map(|(_, bytes)| bytes.parse::<u64>().ok())
                        .fold(0u64, u64::saturating_add);
                }
            }
            (r.name.clone(), fleet)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn views_sum_the_others_and_leave_this_instance_out() {
        let reports = [
            FleetReport {
                name: "alice".into(),
                connections: 1,
                ips: vec![],
                quota_period: None,
                bytes: 0,
            },
            FleetReport {
                name: "bob".into(),
                connections: 0,
                ips: vec![],
                quota_period: Some(86_400),
                bytes: 50,
            },
        ];
        let live = [
            map(&[
                ("c:alice", "2"),
                ("i:alice", "10.0.0.1,::1"),
                ("c:bob", "1"),
            ]),
            map(&[
                ("c:alice", "1"),
                ("i:alice", "10.0.0.1,bad"),
                ("i:bob", "10.0.0.9"),
            ]),
        ];
        let quotas = [map(&[
            ("me", "50"),
            ("x", "30"),
            ("y", "12"),
            ("z", "junk"),
        ])];
        let views = fleet_views(&reports, &live, &quotas, "me");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            views,
            [
                (
                    "alice".to_string(),
                    Fleet {
                        connections: 3,
                        ips: vec![ip("10.0.0.1"), ip("::1")],
                        period_start: 0,
                        bytes: 0,
                    }
                ),
                (
                    "bob".to_string(),
                    Fleet {
                        connections: 1,
                        ips: vec![ip("10.0.0.9")],
                        period_start: 86_400,
                        bytes: 42,
                    }
                ),
            ]
        );
    }
}
