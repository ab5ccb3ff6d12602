//! Whether a user may open one more connection, and the live counters the
//! decision needs. Sans-IO: the runtime calls these with the time and the
//! client's address; nothing here reads a clock.

use std::net::IpAddr;

use super::file::Limits;

/// Why a client of a known user was refused. The client sees the same as
/// for a wrong secret; only the counters tell these apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Refusal {
    Disabled,
    Expired,
    Connections,
    Ips,
    Quota,
}

impl Refusal {
    pub const ALL: [Refusal; 5] = [
        Refusal::Disabled,
        Refusal::Expired,
        Refusal::Connections,
        Refusal::Ips,
        Refusal::Quota,
    ];

    /// The label in `/stats` and `/metrics`.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::Disabled => "disabled",
            Refusal::Expired => "expired",
            Refusal::Connections => "connections",
            Refusal::Ips => "ips",
            Refusal::Quota => "quota",
        }
    }
}

/// One client address of a user: how many connections it has open and when
/// its last one closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    ip: IpAddr,
    open: u32,
    last_closed: i64,
}

/// Data used in the current quota period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Start of the period the bytes belong to (`Reset::period_start`).
    pub period_start: i64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.bytes_up.saturating_add(self.bytes_down)
    }
}

/// What the other instances of a fleet report for one user
/// (`--shared-state`), counted together with this instance's own figures.
/// All zero outside a fleet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fleet {
    /// Connections open on the other instances.
    pub connections: u32,
    /// Addresses the other instances count against `max_ips` now.
    pub ips: Vec<IpAddr>,
    /// Bytes the other instances relayed in the period starting at
    /// `period_start` (ignored for any other period).
    pub period_start: i64,
    pub bytes: u64,
}

/// A user's live state. Memory is bounded by the limits: addresses are
/// kept only when `max_ips` is set, and never more than `max_ips` of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Live {
    pub connections: u32,
    seen: Vec<Seen>,
    pub usage: Usage,
    /// The rest of the fleet's view of this user.
    pub fleet: Fleet,
}

impl Live {
    /// Starts a new period's count when `now` is past the recorded one.
    pub fn roll_period(&mut self, limits: &Limits, now: i64) {
        let start = limits.reset.period_start(now);
        if start != self.usage.period_start {
            self.usage = Usage {
                period_start: start,
                ..Usage::default()
            };
        }
    }

    /// Bytes left in this period, the fleet's included; `None` without a
    /// quota.
    pub fn quota_left(&self, limits: &Limits) -> Option<u64> {
        let fleet = if self.fleet.period_start == self.usage.period_start {
            self.fleet.bytes
        } else {
            0
        };
        let used = self.usage.total().saturating_add(fleet);
        limits.quota_bytes.map(|q| q.saturating_sub(used))
    }

    /// Distinct addresses this instance counts against `max_ips`.
    pub fn distinct_ips(&self) -> usize {
        self.seen.len()
    }

    /// The addresses this instance counts against `max_ips` at `now`: the
    /// ones with an open connection or one closed within the window (what
    /// it reports to the fleet).
    pub fn counted_ips(&self, limits: &Limits, now: i64) -> Vec<IpAddr> {
        let window = i64::from(limits.ip_window_secs);
        self.seen
            .iter()
            .filter(|s| s.open > 0 || now - s.last_closed < window)
            .map(|s| s.ip)
            .collect()
    }

    /// Admits one connection from `ip` at `now`, or says why not. On
    /// success the connection is counted; pair it with [`Live::close`].
    pub fn admit(
        &mut self,
        limits: &Limits,
        disabled: bool,
        ip: IpAddr,
        now: i64,
    ) -> Result<(), Refusal> {
        if disabled {
            return Err(Refusal::Disabled);
        }
        if limits.expires.is_some_and(|t| now >= t) {
            return Err(Refusal::Expired);
        }
        self.roll_period(limits, now);
        if self.quota_left(limits) == Some(0) {
            return Err(Refusal::Quota);
        }
        let open = self.connections.saturating_add(self.fleet.connections);
        if limits.max_connections.is_some_and(|m| open >= m) {
            return Err(Refusal::Connections);
        }
        if let Some(max_ips) = limits.max_ips {
            let window = i64::from(limits.ip_window_secs);
            self.seen
                .retain(|s| s.open > 0 || now - s.last_closed < window);
            let elsewhere = |ip: &IpAddr| !self.seen.iter().any(|s| s.ip == *ip);
            let known = self.seen.len() + self.fleet.ips.iter().filter(|ip| elsewhere(ip)).count();
            let fleet_knows = self.fleet.ips.contains(&ip);
            match self.seen.iter_mut().find(|s| s.ip == ip) {
                Some(s) => s.open += 1,
                None if known >= max_ips as usize && !fleet_knows => return Err(Refusal::Ips),
                None => self.seen.push(Seen {
                    ip,
                    open: 1,
                    last_closed: now,
                }),
            }
        }
        self.connections += 1;
        Ok(())
    }

    /// Counts the end of a connection [`Live::admit`] let in.
    pub fn close(&mut self, ip: IpAddr, now: i64) {
        self.connections = self.connections.saturating_sub(1);
        if let Some(s) = self.seen.iter_mut().find(|s| s.ip == ip) {
            s.open = s.open.saturating_sub(1);
            s.last_closed = now;
        }
    }

    /// Adds relayed bytes to the current period (`up` = client to Telegram).
    pub fn add_bytes(&mut self, limits: &Limits, now: i64, up: u64, down: u64) {
        self.roll_period(limits, now);
        self.usage.bytes_up = self.usage.bytes_up.saturating_add(up);
        self.usage.bytes_down = self.usage.bytes_down.saturating_add(down);
    }

    /// Whether open connections must now be closed: the quota is used up
    /// or the user expired.
    pub fn over(&self, limits: &Limits, now: i64) -> bool {
        limits.expires.is_some_and(|t| now >= t) || self.quota_left(limits) == Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::schedule::Reset;
    use super::*;
    use proptest::prelude::*;

    fn limits() -> Limits {
        Limits {
            max_connections: None,
            max_ips: None,
            ip_window_secs: 300,
            quota_bytes: None,
            reset: Reset::Never,
            expires: None,
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn each_limit_refuses_with_its_reason() {
        let mut live = Live::default();
        assert_eq!(
            live.admit(&limits(), true, ip(1), 0),
            Err(Refusal::Disabled)
        );
        let expiring = Limits {
            expires: Some(100),
            ..limits()
        };
        assert_eq!(live.admit(&expiring, false, ip(1), 99), Ok(()));
        assert_eq!(
            live.admit(&expiring, false, ip(1), 100),
            Err(Refusal::Expired)
        );
        let two = Limits {
            max_connections: Some(2),
            ..limits()
        };
        let mut live = Live::default();
        assert_eq!(live.admit(&two, false, ip(1), 0), Ok(()));
        assert_eq!(live.admit(&two, false, ip(1), 0), Ok(()));
        assert_eq!(live.admit(&two, false, ip(1), 0), Err(Refusal::Connections));
        live.close(ip(1), 1);
        assert_eq!(live.admit(&two, false, ip(1), 1), Ok(()));
    }

    #[test]
    fn addresses_count_while_open_and_for_a_window_after() {
        let l = Limits {
            max_ips: Some(2),
            ip_window_secs: 60,
            ..limits()
        };
        let mut live = Live::default();
        assert_eq!(live.admit(&l, false, ip(1), 0), Ok(()));
        assert_eq!(live.admit(&l, false, ip(2), 0), Ok(()));
        assert_eq!(live.admit(&l, false, ip(1), 0), Ok(()), "a known address");
        assert_eq!(live.admit(&l, false, ip(3), 0), Err(Refusal::Ips));
        live.close(ip(2), 10);
        assert_eq!(
            live.admit(&l, false, ip(3), 69),
            Err(Refusal::Ips),
            "inside the window"
        );
        assert_eq!(
            live.admit(&l, false, ip(3), 70),
            Ok(()),
            "the window has passed"
        );
        // Open connections keep an address counted however old it is.
        assert_eq!(live.admit(&l, false, ip(4), 10_000), Err(Refusal::Ips));
    }

    #[test]
    fn the_fleet_counts_with_this_instance() {
        let l = Limits {
            max_connections: Some(2),
            max_ips: Some(2),
            quota_bytes: Some(1000),
            ..limits()
        };
        let mut live = Live {
            fleet: Fleet {
                connections: 1,
                ips: vec![ip(1), ip(2)],
                period_start: l.reset.period_start(0),
                bytes: 700,
            },
            ..Live::default()
        };
        // Two addresses are in use elsewhere: only those two may come.
        assert_eq!(live.admit(&l, false, ip(3), 0), Err(Refusal::Ips));
        assert_eq!(live.admit(&l, false, ip(2), 0), Ok(()));
        assert_eq!(live.counted_ips(&l, 0), [ip(2)]);
        // One open elsewhere, one here: the limit of two is reached.
        assert_eq!(live.admit(&l, false, ip(1), 0), Err(Refusal::Connections));
        // 700 bytes elsewhere and 300 here use up 1000.
        assert_eq!(live.quota_left(&l), Some(300));
        live.add_bytes(&l, 0, 200, 100);
        assert!(live.over(&l, 0));
        // Bytes of another period do not count.
        live.fleet.period_start = 0;
        assert_eq!(live.quota_left(&l), Some(700));
    }

    #[test]
    fn the_quota_refuses_when_used_and_comes_back_at_the_reset() {
        let day = 86_400;
        let l = Limits {
            quota_bytes: Some(1000),
            reset: Reset::Daily { hour: 0 },
            ..limits()
        };
        let mut live = Live::default();
        assert_eq!(live.admit(&l, false, ip(1), 10), Ok(()));
        live.add_bytes(&l, 20, 600, 399);
        assert!(!live.over(&l, 20));
        assert_eq!(live.quota_left(&l), Some(1));
        live.add_bytes(&l, 30, 1, 0);
        assert!(live.over(&l, 30));
        assert_eq!(live.admit(&l, false, ip(1), day - 1), Err(Refusal::Quota));
        assert_eq!(live.admit(&l, false, ip(1), day), Ok(()));
        assert_eq!(live.usage.total(), 0);
    }

    proptest! {
        /// Whatever the order of admits and closes, the counts never exceed
        /// the limits and the address list stays within max_ips.
        #[test]
        fn limits_hold_under_any_sequence(
            max_conn in 1u32..5,
            max_ips in 1u32..4,
            ops in proptest::collection::vec((any::<bool>(), 0u8..6, 0i64..5), 0..200),
        ) {
            let l = Limits { max_connections: Some(max_conn), max_ips: Some(max_ips), ip_window_secs: 3, ..limits() };
            let mut live = Live::default();
            let mut open: Vec<IpAddr> = Vec::new();
            let mut now = 0;
            for (admit, last, step) in ops {
                now += step;
                if admit {
                    if live.admit(&l, false, ip(last), now).is_ok() {
                        open.push(ip(last));
                    }
                } else if let Some(i) = open.iter().position(|&a| a == ip(last)) {
                    open.swap_remove(i);
                    live.close(ip(last), now);
                }
                prop_assert_eq!(live.connections as usize, open.len());
                prop_assert!(live.connections <= max_conn);
                prop_assert!(live.distinct_ips() <= max_ips as usize);
            }
        }
    }
}
