//! Named users at run time (Rust-only, README "Users"): the users file in
//! force, each user's live counters, reloads, and the quota state file.
//! The decisions are mtproxy-core's (`users`); this is the shared, locked
//! part the workers call, and the files.
//!
//! Guarantees, as documented in README:
//! - a users file with an error is refused whole; the one in force stays;
//! - a user removed or disabled by a reload keeps its open connections for
//!   `--users-grace` seconds (default 30), then they are closed; new ones
//!   are refused at once;
//! - quota usage is saved every `--users-state-interval` seconds (and at
//!   stop), by writing a temporary file and renaming it over the old one, so
//!   a crash loses at most one interval and never leaves half a file; a state
//!   file that fails its checks is renamed aside (`.corrupt`) and reported.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use mtproxy_core::common::sha256::HmacKey;
use mtproxy_core::net::fake_tls::hello_keys;
use mtproxy_core::users::state::{decode_state, encode_state};
use mtproxy_core::users::{parse_users, Fleet, Live, Refusal, Usage, User};

/// How long a removed or disabled user's open connections may go on,
/// unless `--users-grace` says otherwise.
pub const REMOVAL_GRACE_SECS: i64 = mtproxy_core::runtime::USERS_GRACE_SECS as i64;
/// Users shown one by one in `/metrics`; the rest are summed under
/// `user="_other"`, so a large users file cannot flood a metrics store.
pub const MAX_LABELLED_USERS: usize = 1000;

/// One loaded users file and every secret a handshake may match: the
/// `-S` secrets first, then each user's (one key per distinct secret),
/// packed for obfuscated2 and as precomputed HMAC keys for the fake-TLS
/// hello, so a trial allocates nothing.
#[derive(Default)]
pub struct Table {
    pub users: Vec<User>,
    /// 16 bytes per secret.
    pub keys: Vec<u8>,
    pub hello_keys: Vec<HmacKey>,
    /// `owners[i]`: the user of key `i`; `None` for an `-S` secret.
    pub owners: Vec<Option<usize>>,
    /// Key index of each secret (the first, for an `-S` secret given twice).
    index_of: HashMap<[u8; 16], usize>,
}

impl Table {
    /// Refuses a user secret that is also an `-S` secret: a client of it
    /// could not be told apart from an anonymous one.
    fn new(users: Vec<User>, anonymous: &[[u8; 16]]) -> Result<Table, String> {
        let mut secrets: Vec<[u8; 16]> = anonymous.to_vec();
        let mut owners = vec![None; anonymous.len()];
        for (i, user) in users.iter().enumerate() {
            for s in &user.secrets {
                if anonymous.contains(&s.key) {
                    return Err(format!(
                        "user `{}` (line {}): a secret also given with -S",
                        user.name, user.line
                    ));
                }
                if !secrets[anonymous.len()..].contains(&s.key) {
                    secrets.push(s.key);
                    owners.push(Some(i));
                }
            }
        }
        Ok(Table {
            users,
            keys: secrets.concat(),
            hello_keys: hello_keys(&secrets),
            owners,
            index_of: index_of(&secrets),
        })
    }

    /// The `-S` secrets alone (no users file).
    pub fn anonymous(secrets: &[[u8; 16]]) -> Table {
        Table {
            keys: secrets.concat(),
            hello_keys: hello_keys(secrets),
            owners: vec![None; secrets.len()],
            users: Vec::new(),
            index_of: index_of(secrets),
        }
    }

    /// The secret of key `index`.
    pub fn secret(&self, index: i32) -> Option<[u8; 16]> {
        let at = usize::try_from(index).ok()?.checked_mul(16)?;
        self.keys.get(at..at + 16)?.try_into().ok()
    }

    /// The user whose secret is key `index`, if it is a user's.
    pub fn owner(&self, index: i32) -> Option<&User> {
        let i = usize::try_from(index).ok()?;
        self.users.get((*self.owners.get(i)?)?)
    }

    fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
}

fn index_of(secrets: &[[u8; 16]]) -> HashMap<[u8; 16], usize> {
    let mut map = HashMap::new();
    for (i, s) in secrets.iter().enumerate() {
        map.entry(*s).or_insert(i);
    }
    map
}

/// Client addresses whose last matched secret is remembered (about 64
/// bytes each, so about 1 MiB); when full, the memory starts over.
pub const RECENT_ADDRESSES: usize = 16 * 1024;

#[derive(Default)]
struct UserState {
    live: Live,
    connections_total: u64,
    refusals: [u64; Refusal::ALL.len()],
    /// When a reload removed or disabled the user (the grace starts).
    gone_since: Option<i64>,
}

pub struct Registry {
    file: PathBuf,
    /// The `-S` secrets, first in every table.
    anonymous: Vec<[u8; 16]>,
    grace_secs: i64,
    state_file: Option<PathBuf>,
    table: RwLock<Arc<Table>>,
    states: Mutex<HashMap<String, UserState>>,
    /// The secret each recent client address matched last (by value, so
    /// it survives a reload that moves it).
    recent: Mutex<HashMap<IpAddr, [u8; 16]>>,
}

fn read_users(file: &Path) -> Result<Vec<User>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    parse_users(&text).map_err(|e| format!("{}: {e}", file.display()))
}

impl Registry {
    /// Loads the users file and, when given, the state file. Returns the
    /// registry and what to log about the state file (a missing one is
    /// normal; a damaged one is set aside).
    pub fn open(
        file: &Path,
        state_file: Option<&Path>,
        anonymous: &[[u8; 16]],
    ) -> Result<(Registry, Vec<String>), String> {
        let table = Table::new(read_users(file)?, anonymous)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let mut notes = Vec::new();
        let mut states = HashMap::new();
        if let Some(path) = state_file {
            match std::fs::read_to_string(path) {
                Ok(text) => match decode_state(&text) {
                    Ok(map) => {
                        for (name, usage) in map {
                            let mut s = UserState::default();
                            s.live.usage = usage;
                            states.insert(name, s);
                        }
                    }
                    Err(reason) => {
                        let aside = path.with_extension("corrupt");
                        let moved = std::fs::rename(path, &aside).is_ok();
                        notes.push(format!(
                            "users state {}: {reason}; {} and starting from zero usage",
                            path.display(),
                            if moved {
                                format!("set aside as {}", aside.display())
                            } else {
                                "could not set it aside".into()
                            }
                        ));
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("users state {}: {e}", path.display())),
            }
        }
        let registry = Registry {
            file: file.to_path_buf(),
            anonymous: anonymous.to_vec(),
            grace_secs: REMOVAL_GRACE_SECS,
            state_file: state_file.map(Path::to_path_buf),
            table: RwLock::new(Arc::new(table)),
            states: Mutex::new(states),
            recent: Mutex::new(HashMap::new()),
        };
        Ok((registry, notes))
    }

    pub fn table(&self) -> Arc<Table> {
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn states(&self) -> std::sync::MutexGuard<'_, HashMap<String, UserState>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets how long a removed or disabled user's open connections go on.
    pub fn set_grace(&mut self, secs: u32) {
        self.grace_secs = i64::from(secs);
    }

    /// Re-reads the users file; on an error the file in force stays.
    /// Returns the number of users now in force.
    pub fn reload(&self, now: i64) -> Result<usize, String> {
        let next = Table::new(read_users(&self.file)?, &self.anonymous)
            .map_err(|e| format!("{}: {e}", self.file.display()))?;
        let next = Arc::new(next);
        let mut states = self.states();
        for (name, s) in states.iter_mut() {
            let active = next.user(name).is_some_and(|u| !u.disabled);
            s.gone_since = match (active, s.gone_since) {
                (true, _) => None,
                (false, None) => Some(now),
                (false, since) => since,
            };
        }
        let count = next.users.len();
        *self.table.write().unwrap_or_else(PoisonError::into_inner) = next;
        Ok(count)
    }

    /// The index in `table` of the secret `ip` matched last, if any.
    pub fn recent(&self, ip: IpAddr, table: &Table) -> Option<usize> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        table.index_of.get(recent.get(&ip)?).copied()
    }

    /// Remembers that `ip` matched key `index` of `table`.
    pub fn remember(&self, ip: IpAddr, table: &Table, index: i32) {
        let Some(secret) = table.secret(index) else {
            return;
        };
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() >= RECENT_ADDRESSES && !recent.contains_key(&ip) {
            recent.clear();
        }
        recent.insert(ip, secret);
    }

    /// Admits one connection of user `name` from `ip`, or counts the refusal.
    pub fn admit(&self, name: &str, ip: IpAddr, now: i64) -> Result<(), Refusal> {
        let table = self.table();
        let mut states = self.states();
        let state = states.entry(name.to_string()).or_default();
        let verdict = match table.user(name) {
            Some(user) => state.live.admit(&user.limits, user.disabled, ip, now),
            None => Err(Refusal::Disabled),
        };
        match verdict {
            Ok(()) => state.connections_total += 1,
            Err(r) => state.refusals[r as usize] += 1,
        }
        verdict
    }

    /// The end of a connection [`Registry::admit`] let in.
    pub fn close(&self, name: &str, ip: IpAddr, now: i64) {
        if let Some(s) = self.states().get_mut(name) {
            s.live.close(ip, now);
        }
    }

    /// Adds relayed bytes; `false` when the user's connections must now
    /// close (quota used up, expired, or removed past the grace).
    pub fn add_bytes(&self, name: &str, up: u64, down: u64, now: i64) -> bool {
        let table = self.table();
        let mut states = self.states();
        let Some(s) = states.get_mut(name) else {
            return false;
        };
        match table.user(name) {
            Some(user) => {
                s.live.add_bytes(&user.limits, now, up, down);
                !s.live.over(&user.limits, now) && !past_grace(s, now, self.grace_secs)
            }
            None => !past_grace(s, now, self.grace_secs),
        }
    }

    /// Whether user `name`'s open connections may go on at `now`.
    pub fn may_continue(&self, name: &str, now: i64) -> bool {
        self.add_bytes(name, 0, 0, now)
    }

    /// Writes the state file (temporary file, fsync, rename).
    pub fn save_state(&self) -> std::io::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let usage: BTreeMap<String, Usage> = self
            .states()
            .iter()
            .map(|(name, s)| (name.clone(), s.live.usage))
            .collect();
        let text = encode_state(&usage);
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    }

    /// One row per user in force, in file order.
    fn rows(&self, now: i64) -> Vec<Row> {
        let table = self.table();
        let states = self.states();
        let empty = UserState::default();
        table
            .users
            .iter()
            .map(|user| {
                let s = states.get(&user.name).unwrap_or(&empty);
                let mut live = s.live.clone();
                live.roll_period(&user.limits, now);
                let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                let left = live.quota_left(&user.limits).map_or(-1, n);
                (
                    user.name.clone(),
                    [
                        ("connections", i64::from(live.connections), false),
                        ("connections_total", n(s.connections_total), true),
                        ("bytes_up", n(live.usage.bytes_up), true),
                        ("bytes_down", n(live.usage.bytes_down), true),
                        ("quota_used", n(live.usage.total()), false),
                        ("quota_left", left, false),
                        // The rest of a fleet's (`--shared-state`); 0 alone.
                        (
                            "fleet_connections",
                            i64::from(live.fleet.connections),
                            false,
                        ),
                        (
                            "active",
                            i64::from(!user.disabled && s.gone_since.is_none()),
                            false,
                        ),
                    ],
                    s.refusals,
                )
            })
            .collect()
    }

    /// Lines for `/stats`: `user_<field>:<name>\t<value>`; quota_left is
    /// -1 without a quota.
    pub fn render_text(&self, now: i64) -> String {
        let mut out = String::new();
        for (name, fields, refusals) in self.rows(now) {
            for (field, value, _) in fields {
                out.push_str(&format!("user_{field}:{name}\t{value}\n"));
            }
            for (r, count) in Refusal::ALL.iter().zip(refusals) {
                out.push_str(&format!("user_refused_{}:{name}\t{count}\n", r.name()));
            }
        }
        out
    }

    /// Lines for `/metrics`: `mtproxy_user_<field>{user="NAME"}`, at most
    /// [`MAX_LABELLED_USERS`] names, the rest summed as `user="_other"`.
    pub fn render_prometheus(&self, now: i64) -> String {
        let rows = self.rows(now);
        let mut out = String::new();
        let Some((_, first, _)) = rows.first() else {
            return out;
        };
        let fields: Vec<(&str, bool)> = first.iter().map(|&(f, _, c)| (f, c)).collect();
        let labelled = rows.len().min(MAX_LABELLED_USERS);
        for (i, &(field, counter)) in fields.iter().enumerate() {
            let kind = if counter { "counter" } else { "gauge" };
            out.push_str(&format!("# TYPE mtproxy_user_{field} {kind}\n"));
            for (name, values, _) in &rows[..labelled] {
                out.push_str(&format!(
                    "mtproxy_user_{field}{{user=\"{name}\"}} {}\n",
                    values[i].1
                ));
            }
            if rows.len() > labelled {
                let rest: i64 = rows[labelled..].iter().map(|r| r.1[i].1.max(0)).sum();
                out.push_str(&format!("mtproxy_user_{field}{{user=\"_other\"}} {rest}\n"));
            }
        }
        out.push_str("# TYPE mtproxy_user_refused counter\n");
        for (name, _, refusals) in &rows[..labelled] {
            for (r, count) in Refusal::ALL.iter().zip(refusals) {
                out.push_str(&format!(
                    "mtproxy_user_refused{{user=\"{name}\",reason=\"{}\"}} {count}\n",
                    r.name()
                ));
            }
        }
        out
    }
}

/// Saves the registry's state file every interval on its own thread, and
/// once more when stopped.
pub struct StateSaver {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl StateSaver {
    pub fn start(registry: Arc<Registry>, interval_secs: u32) -> std::io::Result<StateSaver> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let every = std::time::Duration::from_secs(u64::from(interval_secs.max(1)));
        let thread = crate::jobs::spawn_without_signals("users-state".into(), move || {
            // Until `stop` sends or is dropped.
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every)
            {
                registry.save_logged();
            }
            registry.save_logged();
        })?;
        Ok(StateSaver { stop, thread })
    }

    /// Stops the thread after its last save.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

impl Registry {
    fn save_logged(&self) {
        if let Err(e) = self.save_state() {
            crate::log::line(&format!("users state: could not save: {e}"));
        }
    }

    /// The `--users-state` file, if any.
    pub fn has_state_file(&self) -> bool {
        self.state_file.is_some()
    }

    pub fn state_file(&self) -> Option<&Path> {
        self.state_file.as_deref()
    }

    /// This instance's figures of every user with a limit the fleet
    /// shares (connections, addresses, quota), for `--shared-state`.
    pub fn fleet_report(&self, now: i64) -> Vec<FleetReport> {
        let table = self.table();
        let mut states = self.states();
        table
            .users
            .iter()
            .filter(|u| {
                let l = &u.limits;
                l.max_connections.is_some() || l.max_ips.is_some() || l.quota_bytes.is_some()
            })
            .map(|u| {
                let live = &mut states.entry(u.name.clone()).or_default().live;
                live.roll_period(&u.limits, now);
                FleetReport {
                    name: u.name.clone(),
                    connections: live.connections,
                    ips: live.counted_ips(&u.limits, now),
                    quota_period: u.limits.quota_bytes.map(|_| live.usage.period_start),
                    bytes: live.usage.total(),
                }
            })
            .collect()
    }

    /// Sets what the rest of the fleet reports for user `name`.
    pub fn set_fleet(&self, name: &str, fleet: Fleet) {
        if let Some(s) = self.states().get_mut(name) {
            s.live.fleet = fleet;
        }
    }

    /// What the rest of the fleet reports for user `name` now.
    pub fn fleet_view(&self, name: &str) -> Option<Fleet> {
        self.states().get(name).map(|s| s.live.fleet.clone())
    }

    /// Forgets the rest of the fleet's open connections and addresses
    /// (when they can no longer be known), keeping its quota bytes.
    pub fn forget_fleet_connections(&self) {
        for s in self.states().values_mut() {
            s.live.fleet.connections = 0;
            s.live.fleet.ips.clear();
        }
    }
}

/// One user's figures as this instance reports them to the fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetReport {
    pub name: String,
    pub connections: u32,
    pub ips: Vec<IpAddr>,
    /// The current quota period's start; `None` without a quota.
    pub quota_period: Option<i64>,
    /// Bytes relayed in that period.
    pub bytes: u64,
}

/// A figure of one user: its name, value, and whether it only grows.
type Figure = (&'static str, i64, bool);
/// A user's name, figures and refusals by reason.
type Row = (String, [Figure; 8], [u64; Refusal::ALL.len()]);

fn past_grace(s: &UserState, now: i64, grace_secs: i64) -> bool {
    s.gone_since.is_some_and(|t| now - t >= grace_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "0123456789abcdef0123456789abcdef";
    const KEY_B: &str = "fedcba9876543210fedcba9876543210";

    /// A scratch directory removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Dir {
            let path =
                std::env::temp_dir().join(format!("mtproxy-users-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn ip() -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    fn two_users() -> String {
        format!(
            "[users.alice]\nsecrets = [\"dd{KEY_A}\", \"{KEY_A}\"]\nmax_connections = 1\n\
             [users.bob]\nsecrets = [\"{KEY_B}\"]\nquota = 100\n"
        )
    }

    #[test]
    fn keys_are_packed_once_per_user_secret() {
        let dir = Dir::new("keys");
        let (r, notes) = Registry::open(&dir.write("u.toml", &two_users()), None, &[]).unwrap();
        assert!(notes.is_empty());
        let t = r.table();
        assert_eq!(t.keys.len(), 32, "alice's two forms share one key");
        assert_eq!(t.owners, [Some(0), Some(1)]);
        assert_eq!(t.hello_keys.len(), 2);
        let anon = [[9u8; 16]];
        let (r, _) = Registry::open(&dir.write("v.toml", &two_users()), None, &anon).unwrap();
        let t = r.table();
        assert_eq!(t.owners, [None, Some(0), Some(1)], "-S secrets come first");
        assert!(t.owner(0).is_none());
        assert_eq!(t.owner(2).map(|u| u.name.as_str()), Some("bob"));
        let clash = [[
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
            0xcd, 0xef,
        ]];
        let e = Registry::open(&dir.0.join("v.toml"), None, &clash)
            .err()
            .unwrap();
        assert!(
            e.contains("user `alice` (line 1): a secret also given with -S"),
            "{e}"
        );
    }

    #[test]
    fn recent_matches_survive_a_reload_that_moves_the_secret_and_stay_bounded() {
        let dir = Dir::new("recent");
        let file = dir.write("u.toml", &two_users());
        let (r, _) = Registry::open(&file, None, &[]).unwrap();
        let t = r.table();
        assert_eq!(r.recent(ip(), &t), None);
        r.remember(ip(), &t, 1);
        assert_eq!(r.recent(ip(), &t), Some(1));
        std::fs::write(&file, format!("[users.bob]\nsecrets = [\"{KEY_B}\"]\n")).unwrap();
        r.reload(0).unwrap();
        assert_eq!(r.recent(ip(), &r.table()), Some(0), "bob's key moved to 0");
        for i in 0..RECENT_ADDRESSES as u32 + 1 {
            r.remember(IpAddr::from(i.to_be_bytes()), &r.table(), 0);
        }
        let held = r.recent.lock().unwrap().len();
        assert!(held <= RECENT_ADDRESSES, "{held}");
    }

    #[test]
    fn limits_refuse_and_count_and_the_quota_closes_connections() {
        let dir = Dir::new("limits");
        let (r, _) = Registry::open(&dir.write("u.toml", &two_users()), None, &[]).unwrap();
        assert_eq!(r.admit("alice", ip(), 0), Ok(()));
        assert_eq!(r.admit("alice", ip(), 0), Err(Refusal::Connections));
        r.close("alice", ip(), 1);
        assert_eq!(r.admit("alice", ip(), 1), Ok(()));
        assert_eq!(r.admit("bob", ip(), 0), Ok(()));
        assert!(r.add_bytes("bob", 60, 39, 1));
        assert!(
            !r.add_bytes("bob", 1, 0, 2),
            "the 100th byte uses the quota up"
        );
        assert_eq!(r.admit("bob", ip(), 3), Err(Refusal::Quota));
        assert_eq!(r.admit("carol", ip(), 3), Err(Refusal::Disabled));
        let stats = r.render_text(3);
        assert!(
            stats.contains("user_refused_connections:alice\t1\n"),
            "{stats}"
        );
        assert!(stats.contains("user_quota_left:bob\t0\n"), "{stats}");
        assert!(stats.contains("user_quota_left:alice\t-1\n"), "{stats}");
        let prom = r.render_prometheus(3);
        assert!(
            prom.contains("mtproxy_user_bytes_up{user=\"bob\"} 61\n"),
            "{prom}"
        );
        assert!(
            prom.contains("mtproxy_user_refused{user=\"bob\",reason=\"quota\"} 1\n"),
            "{prom}"
        );
        assert_eq!(prom.matches("# TYPE mtproxy_user_connections ").count(), 1);
    }

    #[test]
    fn a_reload_with_an_error_keeps_the_old_file_and_removals_get_a_grace() {
        let dir = Dir::new("reload");
        let file = dir.write("u.toml", &two_users());
        let (r, _) = Registry::open(&file, None, &[]).unwrap();
        assert_eq!(r.admit("bob", ip(), 0), Ok(()));
        std::fs::write(&file, "[users.bob]\nsecrets = [\"nope\"]\n").unwrap();
        let e = r.reload(10).unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert_eq!(r.table().users.len(), 2);
        std::fs::write(&file, format!("[users.alice]\nsecrets = [\"{KEY_A}\"]\n")).unwrap();
        assert_eq!(r.reload(10), Ok(1));
        assert_eq!(r.admit("bob", ip(), 11), Err(Refusal::Disabled));
        assert!(r.may_continue("bob", 10 + REMOVAL_GRACE_SECS - 1));
        assert!(!r.may_continue("bob", 10 + REMOVAL_GRACE_SECS));
        // Back in the file: the grace is over for good.
        std::fs::write(&file, two_users()).unwrap();
        assert_eq!(r.reload(100), Ok(2));
        assert!(r.may_continue("bob", 1000));
    }

    #[test]
    fn state_survives_a_restart_and_a_damaged_file_is_set_aside() {
        let dir = Dir::new("state");
        let file = dir.write("u.toml", &two_users());
        let state = dir.0.join("state");
        let (r, _) = Registry::open(&file, Some(&state), &[]).unwrap();
        assert_eq!(r.admit("bob", ip(), 0), Ok(()));
        r.add_bytes("bob", 40, 2, 1);
        r.save_state().unwrap();
        let (again, notes) = Registry::open(&file, Some(&state), &[]).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert!(again.render_text(2).contains("user_quota_used:bob\t42\n"));
        let text = std::fs::read_to_string(&state).unwrap();
        std::fs::write(&state, &text[..text.len() - 3]).unwrap();
        let (fresh, notes) = Registry::open(&file, Some(&state), &[]).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("set aside"), "{notes:?}");
        assert!(dir.0.join("state.corrupt").exists());
        assert!(fresh.render_text(2).contains("user_quota_used:bob\t0\n"));
    }

    #[test]
    fn metrics_label_at_most_the_bound_and_sum_the_rest() {
        let dir = Dir::new("bound");
        let mut text = String::new();
        for i in 0..MAX_LABELLED_USERS + 2 {
            text.push_str(&format!("[users.u{i}]\nsecrets = [\"{i:032x}\"]\n"));
        }
        let (r, _) = Registry::open(&dir.write("u.toml", &text), None, &[]).unwrap();
        r.admit("u1001", ip(), 0).unwrap();
        let prom = r.render_prometheus(0);
        assert!(prom.contains("mtproxy_user_connections{user=\"_other\"} 1\n"));
        assert!(!prom.contains("user=\"u1001\""));
        assert_eq!(
            prom.matches("mtproxy_user_connections{").count(),
            MAX_LABELLED_USERS + 1
        );
    }
}
