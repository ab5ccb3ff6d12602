//! Routing helpers (docs/RUNTIME.md, "Routing and the middle-end pool"):
//! the slab that gives connections stable slots and generations (tokens and
//! ext ids are built from them), event tokens, NAT translation and the
//! choice of a middle-end connection inside a cluster.

use mtproxy_core::mtproto::mtproto_config::{ProxyConfig, Target};
use std::time::{Duration, Instant};

/// Event bits of the net-events contract, as the reactor reports them.
pub(crate) const EV_READ: u32 = mtproxy_sys::bindings::MTP_EV_READ;
pub(crate) const EV_WRITE: u32 = mtproxy_sys::bindings::MTP_EV_WRITE;
pub(crate) const EV_CLOSED: u32 = mtproxy_sys::bindings::MTP_EV_CLOSED;

/// What an event token names; timers have kinds of their own so a stale
/// timer is told apart from socket readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Listener = 1,
    Client = 2,
    Relay = 3,
    Me = 4,
    HandshakeTimer = 5,
    FloodTimer = 6,
    PendingTimer = 7,
    MeTimer = 8,
    GraceTimer = 9,
    DrainTimer = 10,
    /// The named users' sweep (Rust-only): bytes reported, limits applied.
    UsersTimer = 11,
}

impl Kind {
    fn from_bits(bits: u64) -> Option<Kind> {
        Some(match bits {
            1 => Kind::Listener,
            2 => Kind::Client,
            3 => Kind::Relay,
            4 => Kind::Me,
            5 => Kind::HandshakeTimer,
            6 => Kind::FloodTimer,
            7 => Kind::PendingTimer,
            8 => Kind::MeTimer,
            9 => Kind::GraceTimer,
            10 => Kind::DrainTimer,
            11 => Kind::UsersTimer,
            _ => return None,
        })
    }
}

/// `kind | slot << 4 | generation << 32`; 0 is the reactor's wake token.
pub(crate) fn token(kind: Kind, slot: usize, generation: u32) -> u64 {
    kind as u64 | ((slot as u64) & 0x0fff_ffff) << 4 | u64::from(generation) << 32
}

pub(crate) fn split_token(token: u64) -> Option<(Kind, usize, u32)> {
    let kind = Kind::from_bits(token & 0xf)?;
    Some((
        kind,
        ((token >> 4) & 0x0fff_ffff) as usize,
        (token >> 32) as u32,
    ))
}

/// Slots with generations: a freed slot's next occupant gets a new
/// generation, so tokens of the old one are recognised as stale.
pub(crate) struct Slab<T> {
    entries: Vec<(u32, Option<T>)>,
    free: Vec<usize>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    /// The slot and generation the next `insert` will use.
    pub fn next_slot(&self) -> (usize, u32) {
        match self.free.last() {
            Some(&slot) => (slot, self.entries[slot].0.wrapping_add(1)),
            None => (self.entries.len(), 1),
        }
    }

    pub fn insert(&mut self, value: T) -> (usize, u32) {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            let entry = &mut self.entries[slot];
            entry.0 = entry.0.wrapping_add(1);
            entry.1 = Some(value);
            (slot, entry.0)
        } else {
            self.entries.push((1, Some(value)));
            (self.entries.len() - 1, 1)
        }
    }

    pub fn remove(&mut self, slot: usize) -> Option<T> {
        let value = self.entries.get_mut(slot)?.1.take()?;
        self.free.push(slot);
        self.live -= 1;
        Some(value)
    }

    pub fn get(&self, slot: usize) -> Option<&T> {
        self.entries.get(slot)?.1.as_ref()
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut T> {
        self.entries.get_mut(slot)?.1.as_mut()
    }

    pub fn generation(&self, slot: usize) -> Option<u32> {
        let (g, value) = self.entries.get(slot)?;
        value.as_ref().map(|_| *g)
    }

    pub fn len(&self) -> usize {
        self.live
    }

    /// The live values with their slots, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        let live = self.entries.iter().enumerate();
        live.filter_map(|(i, (_, v))| v.as_ref().map(|v| (i, v)))
    }

    pub fn slots(&self) -> Vec<usize> {
        let live = self.entries.iter().enumerate();
        live.filter(|(_, (_, v))| v.is_some())
            .map(|(i, _)| i)
            .collect()
    }
}

/// `--nat-info`: the global address of a local one.
pub(crate) fn nat_translate(rules: &[(u32, u32)], ip: u32) -> u32 {
    rules
        .iter()
        .find(|(local, _)| *local == ip)
        .map_or(ip, |(_, global)| *global)
}

/// The identity of a middle-end address across config generations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TargetKey {
    pub family: i32,
    pub ipv4: u32,
    pub ipv6: [u8; 16],
    pub port: i32,
}

impl From<&Target> for TargetKey {
    fn from(t: &Target) -> Self {
        TargetKey {
            family: t.family,
            ipv4: t.ipv4,
            ipv6: t.ipv6,
            port: t.port,
        }
    }
}

/// The connections a worker keeps to one config target (RUNTIME.md,
/// "Routing and the middle-end pool"): ME slots in a fixed order, and the
/// pool position where the round-robin search for a ready one starts next.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Pool {
    pub conns: Vec<usize>,
    pub next: usize,
    /// When a connection of the pool was last seen ready, or the pool was
    /// made (`--direct-fallback` counts the time without one from here).
    pub ready_seen: Option<Instant>,
}

/// How many connections a worker keeps to `target`: its min_connections
/// (never above max_connections; at least 1).
pub(crate) fn pool_size(target: &Target) -> usize {
    target.min_connections.min(target.max_connections).max(1) as usize
}

/// The connection for a client of `cluster`: the first line, starting at
/// `counter` (modulo the line count), whose target's pool has a connection
/// `ready` accepts; in that pool, the first one from the pool's `next`.
/// `pools` is indexed by config target. Returns (target, index in its
/// pool, connection slot).
pub(crate) fn pick_connection(
    config: &ProxyConfig,
    cluster: usize,
    counter: usize,
    pools: &[Pool],
    ready: impl Fn(usize) -> bool,
) -> Option<(usize, usize, usize)> {
    let lines = config.cluster(cluster)?.target_count;
    (0..lines)
        .filter_map(|i| config.cluster_target(cluster, (counter + i) % lines))
        .find_map(|target| {
            let pool = pools.get(target)?;
            let n = pool.conns.len();
            (0..n)
                .map(|j| (pool.next + j) % n)
                .find(|&k| ready(pool.conns[k]))
                .map(|k| (target, k, pool.conns[k]))
        })
}

/// `--direct-fallback`: whether a new client of `cluster` goes direct,
/// because no connection of any of the cluster's targets is `ready` and
/// none has been for `after` (counted from a pool's `ready_seen`).
pub(crate) fn fallback_due(
    config: &ProxyConfig,
    cluster: usize,
    pools: &[Pool],
    ready: impl Fn(usize) -> bool,
    now: Instant,
    after: Duration,
) -> bool {
    let Some(lines) = config.cluster(cluster).map(|c| c.target_count) else {
        return false;
    };
    (0..lines)
        .filter_map(|i| config.cluster_target(cluster, i))
        .all(|target| {
            pools.get(target).is_none_or(|pool| {
                !pool.conns.iter().any(|&c| ready(c))
                    && pool
                        .ready_seen
                        .is_none_or(|seen| now.saturating_duration_since(seen) >= after)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_never_collide_with_wake() {
        let t = token(Kind::Me, 12345, 0xdead_beef);
        assert_ne!(t, 0);
        assert_eq!(split_token(t), Some((Kind::Me, 12345, 0xdead_beef)));
        assert_eq!(split_token(0), None);
    }

    #[test]
    fn slab_reuses_slots_with_new_generations() {
        let mut slab = Slab::default();
        let (a, ga) = slab.insert("a");
        assert_eq!(slab.next_slot(), (1, 1));
        let (b, _) = slab.insert("b");
        assert_eq!(slab.remove(a), Some("a"));
        assert_eq!(slab.next_slot(), (a, ga + 1));
        let (c, gc) = slab.insert("c");
        assert_eq!((c, gc), (a, ga + 1));
        assert_eq!(slab.generation(a), Some(gc));
        assert_eq!(slab.get(c).copied(), Some("c"));
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.slots(), vec![a, b]);
    }

    #[test]
    fn nat_rules_translate_matching_addresses_only() {
        let rules = [(0x0a00_0001, 0x0102_0304)];
        assert_eq!(nat_translate(&rules, 0x0a00_0001), 0x0102_0304);
        assert_eq!(nat_translate(&rules, 0x7f00_0001), 0x7f00_0001);
    }

    fn single(slot: usize) -> Pool {
        Pool {
            conns: vec![slot],
            ..Pool::default()
        }
    }

    #[test]
    fn falls_back_only_when_every_target_has_been_unready_long_enough() {
        let text = b"proxy_for 2 127.0.0.1:1; proxy_for 2 127.0.0.1:2; proxy_for 4 127.0.0.1:3; default 2;";
        let config = ProxyConfig::parse(text, 1).unwrap();
        let two = config.lookup(2).unwrap();
        let start = Instant::now();
        let after = Duration::from_secs(10);
        let mut pools = [single(10), single(11), single(12)];
        for pool in &mut pools {
            pool.ready_seen = Some(start);
        }
        let due = |pools: &[Pool], at: u64, ready: &dyn Fn(usize) -> bool| {
            fallback_due(
                &config,
                two,
                pools,
                ready,
                start + Duration::from_secs(at),
                after,
            )
        };
        let none = |_: usize| false;
        assert!(!due(&pools, 9, &none), "not yet 10 s");
        assert!(due(&pools, 10, &none));
        // One ready connection of the cluster keeps it on the middle-ends.
        assert!(!due(&pools, 60, &|c| c == 11));
        // A connection of another cluster does not.
        assert!(due(&pools, 60, &|c| c == 12));
        // One target seen ready recently is enough to wait.
        pools[1].ready_seen = Some(start + Duration::from_secs(55));
        assert!(!due(&pools, 60, &none));
        assert!(due(&pools, 65, &none));
        // A cluster the config does not have never falls back.
        assert!(!fallback_due(
            &config,
            99,
            &pools,
            none,
            start,
            Duration::ZERO
        ));
    }

    #[test]
    fn picks_the_first_ready_line_from_the_counter() {
        let text = b"proxy_for 2 127.0.0.1:1; proxy_for 2 127.0.0.1:2; proxy_for 2 127.0.0.1:3; default 2;";
        let config = ProxyConfig::parse(text, 1).unwrap();
        let cluster = config.lookup(5).unwrap();
        let pools = [single(10), single(11), single(12)];
        let pick = |counter, ready: &dyn Fn(usize) -> bool| {
            pick_connection(&config, cluster, counter, &pools, ready).map(|(_, _, c)| c)
        };
        assert_eq!(pick(0, &|_| true), Some(10));
        assert_eq!(pick(4, &|_| true), Some(11));
        assert_eq!(pick(1, &|c| c == 10), Some(10));
        assert_eq!(pick(1, &|_| false), None);
    }

    #[test]
    fn picks_in_the_pool_from_its_position_and_skips_unready() {
        let text = b"min_connections 3; proxy_for 2 127.0.0.1:1; default 2;";
        let config = ProxyConfig::parse(text, 1).unwrap();
        assert_eq!(pool_size(&config.target(0).unwrap()), 3);
        let cluster = config.lookup(2).unwrap();
        let mut pools = [Pool {
            conns: vec![7, 8, 9],
            next: 1,
            ready_seen: None,
        }];
        let found = pick_connection(&config, cluster, 0, &pools, |_| true);
        assert_eq!(found, Some((0, 1, 8)));
        pools[0].next = 2;
        let found = pick_connection(&config, cluster, 0, &pools, |c| c != 9);
        assert_eq!(found, Some((0, 0, 7)));
    }
}
