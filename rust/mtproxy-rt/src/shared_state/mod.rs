//! Replay protection and named users' limits shared by a fleet of proxy
//! instances (Rust-only, `--shared-state redis://…`; README "Operating a
//! fleet"). The replay part is here; the users' part is `users.rs`.
//!
//! Instances behind one load balancer each keep their own replay caches, so
//! a handshake recorded on one and replayed to another would pass: the
//! active probe that identifies proxies. With a Redis (or Valkey) shared by
//! the fleet, each instance appends the digests it accepts (fake-TLS client
//! randoms, obfuscated2 header digests) to one Redis stream and reads the
//! other instances' into its own caches.
//!
//! The event loops never wait on Redis: they check and insert locally, then
//! hand the new digest to [`SharedState::publish`], a bounded queue. One
//! background thread per process pushes the queue in pipelined batches and
//! pulls the stream every [`SYNC_INTERVAL`].
//!
//! - Guarantee: a handshake accepted by one instance is refused by every
//!   other instance once 2 × [`SYNC_INTERVAL`] plus two Redis round trips
//!   have passed (at most one interval until it is pushed, one until the
//!   others pull it). A replay inside that window may pass.
//! - Redis down or slow (no answer within [`IO_TIMEOUT`]): instances go on
//!   with their local caches, log it once per outage, show
//!   `shared_state_up 0`, and keep up to [`OUTBOX_MAX`] unsent digests (the
//!   oldest beyond that are dropped and counted). When Redis answers again
//!   they push those and read what the stream still holds.
//! - Memory in Redis: one key, [`STREAM_KEY`], trimmed to about `entries`
//!   entries (`XADD MAXLEN ~`, which may keep up to one stream node,
//!   100 entries by default, more), each about 46 bytes, and expiring
//!   [`STREAM_TTL_MS`] after the fleet's last write.

mod users;

pub use users::{fleet_views, LIVE_TTL_MS, QUOTA_TTL_SECS, USERS_SYNC};

use crate::rust_only::{RustStats, SharedStats};
use crate::users::Registry;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The Redis key of the fleet's digest stream.
pub const STREAM_KEY: &str = "mtproxy:replay";
/// How often the background thread pushes and pulls.
pub const SYNC_INTERVAL: Duration = Duration::from_millis(50);
/// Longest wait for a Redis connect or answer before Redis counts as down.
pub const IO_TIMEOUT: Duration = Duration::from_secs(1);
/// Unsent digests kept while Redis is away.
pub const OUTBOX_MAX: usize = 65_536;
/// The stream expires this long after the fleet's last write (two days:
/// fake-TLS hellos older than the replay window fail their time check).
pub const STREAM_TTL_MS: u64 = 2 * 24 * 3600 * 1000;
/// Digests per pipelined push, and entries per stream read.
const BATCH: usize = 1024;
const READ_COUNT: usize = 4096;
/// Longest pause between reconnect attempts.
const RETRY_MAX: Duration = Duration::from_secs(2);

/// A digest one instance accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    /// The first 16 bytes of a fake-TLS hello's client random (the key of
    /// the fake-TLS replay cache).
    TlsRandom([u8; 16]),
    /// mtproxy-core `header_replay::digest` of an obfuscated2 header.
    Obfs2Header([u8; 16]),
}

impl Digest {
    /// The stream field's value: a kind byte (`t` or `o`), then the digest.
    fn encode(&self) -> [u8; 17] {
        let (kind, bytes) = match self {
            Digest::TlsRandom(b) => (b't', b),
            Digest::Obfs2Header(b) => (b'o', b),
        };
        let mut out = [0u8; 17];
        out[0] = kind;
        out[1..].copy_from_slice(bytes);
        out
    }

    fn decode(field: &[u8]) -> Option<Digest> {
        let (&kind, rest) = field.split_first()?;
        let bytes: [u8; 16] = rest.try_into().ok()?;
        match kind {
            b't' => Some(Digest::TlsRandom(bytes)),
            b'o' => Some(Digest::Obfs2Header(bytes)),
            _ => None,
        }
    }
}

/// What the background thread does with another instance's digest: put it
/// in this process's replay caches.
pub type Apply = Box<dyn FnMut(Digest) + Send>;

/// The publishing side the workers use, and the background thread.
pub struct SharedState {
    shown_url: String,
    outbox: Mutex<VecDeque<Digest>>,
    stopping: Mutex<bool>,
    wake: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<RustStats>,
}

impl SharedState {
    /// Checks the URL and starts the background thread (it connects in
    /// the background: a Redis that is down does not stop the proxy).
    pub fn start(
        url: &str,
        entries: usize,
        stats: Arc<RustStats>,
        apply: Apply,
        users: Option<Arc<Registry>>,
    ) -> Result<Arc<SharedState>, String> {
        let shown_url = without_password(url);
        if url.starts_with("rediss://") || url.starts_with("valkeys://") {
            return Err(format!(
                "--shared-state {shown_url}: TLS to Redis is not built in; reach it over a \
                 private network or a local TLS tunnel (redis://127.0.0.1:PORT)"
            ));
        }
        let client =
            redis::Client::open(url).map_err(|e| format!("--shared-state {shown_url}: {e}"))?;
        let shared = Arc::new(SharedState {
            shown_url,
            outbox: Mutex::new(VecDeque::new()),
            stopping: Mutex::new(false),
            wake: Condvar::new(),
            thread: Mutex::new(None),
            stats,
        });
        let worker = Arc::clone(&shared);
        let handle = crate::jobs::spawn_without_signals("shared-state".into(), move || {
            worker.run(&client, entries, apply, users)
        })
        .map_err(|e| format!("--shared-state: thread: {e}"))?;
        *lock(&shared.thread) = Some(handle);
        Ok(shared)
    }

    /// Queues a digest this instance accepted (never blocks on Redis).
    pub fn publish(&self, digest: Digest) {
        let mut queue = lock(&self.outbox);
        self.push_bounded(&mut queue, digest);
        self.set_pending(queue.len());
    }

    /// Stops the thread after one last push (bounded by [`IO_TIMEOUT`]).
    pub fn stop(&self) {
        *lock(&self.stopping) = true;
        self.wake.notify_all();
        if let Some(handle) = lock(&self.thread).take() {
            let _ = handle.join();
        }
    }

    fn counters(&self) -> &SharedStats {
        &self.stats.shared_state
    }

    fn push_bounded(&self, queue: &mut VecDeque<Digest>, digest: Digest) {
        if queue.len() >= OUTBOX_MAX {
            queue.pop_front();
            self.counters().dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(digest);
    }

    fn set_pending(&self, n: usize) {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        self.counters().pending.store(n, Ordering::Relaxed);
    }

    /// Waits `pause` or until stopped; `false` once stopped.
    fn pause(&self, pause: Duration) -> bool {
        let stopping = lock(&self.stopping);
        let (stopping, _) = self
            .wake
            .wait_timeout_while(stopping, pause, |s| !*s)
            .unwrap_or_else(PoisonError::into_inner);
        !*stopping
    }

    fn run(
        &self,
        client: &redis::Client,
        entries: usize,
        mut apply: Apply,
        users: Option<Arc<Registry>>,
    ) {
        let instance = instance_id();
        let mut link = Link {
            instance,
            users: users.map(|registry| users::UsersSync::new(registry, &instance)),
            entries,
            // From the start of what the stream holds: a new instance
            // learns what the fleet accepted before it came up.
            last_id: "0-0".into(),
            conn: None,
            outage_logged: false,
        };
        let mut retry = SYNC_INTERVAL;
        let mut pause = Duration::ZERO;
        let mut interrupted_in_a_row = 0;
        let mut running = true;
        while running {
            running = self.pause(pause);
            pause = SYNC_INTERVAL;
            match self.sync(client, &mut link, &mut apply) {
                Ok(()) => {
                    retry = SYNC_INTERVAL;
                    interrupted_in_a_row = 0;
                }
                Err(e) => {
                    // The connection's state is unknown after any error.
                    link.conn = None;
                    if let Some(users) = link.users.as_mut() {
                        users.failed();
                    }
                    self.counters().errors.fetch_add(1, Ordering::Relaxed);
                    if retry_at_once(&e, &mut interrupted_in_a_row) {
                        pause = Duration::ZERO;
                        continue;
                    }
                    self.counters().up.store(0, Ordering::Relaxed);
                    if !link.outage_logged {
                        link.outage_logged = true;
                        crate::log::line(&format!(
                            "shared state: Redis at {} unavailable ({e}); serving with this \
                             instance's replay caches until it is back",
                            self.shown_url
                        ));
                    }
                    pause = retry;
                    retry = (retry * 2).min(RETRY_MAX);
                }
            }
        }
        self.counters().up.store(0, Ordering::Relaxed);
    }

    /// Connects when needed, pushes everything queued, pulls every new
    /// entry of the stream, and exchanges the users' figures when due.
    fn sync(
        &self,
        client: &redis::Client,
        link: &mut Link,
        apply: &mut Apply,
    ) -> redis::RedisResult<()> {
        if link.conn.is_none() {
            link.conn = Some(connect(client)?);
            self.counters().up.store(1, Ordering::Relaxed);
            if link.outage_logged {
                link.outage_logged = false;
                crate::log::line(&format!(
                    "shared state: Redis at {} is back; pushing {} waiting digests",
                    self.shown_url,
                    lock(&self.outbox).len()
                ));
            }
        }
        let Some(conn) = link.conn.as_mut() else {
            return Ok(());
        };
        loop {
            let batch: Vec<Digest> = {
                let mut queue = lock(&self.outbox);
                let n = queue.len().min(BATCH);
                let batch = queue.drain(..n).collect();
                self.set_pending(queue.len());
                batch
            };
            if batch.is_empty() {
                break;
            }
            if let Err(e) = push(conn, &link.instance, link.entries, &batch) {
                // Back to the front, in order: nothing is lost to a failed
                // push (a digest pushed twice is harmless).
                let mut queue = lock(&self.outbox);
                let mut rest = std::mem::take(&mut *queue);
                for digest in batch.into_iter().chain(rest.drain(..)) {
                    self.push_bounded(&mut queue, digest);
                }
                self.set_pending(queue.len());
                return Err(e);
            }
            let n = i64::try_from(batch.len()).unwrap_or(i64::MAX);
            self.counters().published.fetch_add(n, Ordering::Relaxed);
            if batch.len() < BATCH {
                break;
            }
        }
        loop {
            let reply: redis::Value = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(READ_COUNT)
                .arg("STREAMS")
                .arg(STREAM_KEY)
                .arg(link.last_id.as_str())
                .query(conn)?;
            let entries = stream_entries(reply);
            let read = entries.len();
            for entry in entries {
                link.last_id = entry.id;
                match entry.payload {
                    Some((from, digest)) if from != link.instance => {
                        self.counters().received.fetch_add(1, Ordering::Relaxed);
                        apply(digest);
                    }
                    _ => {}
                }
            }
            if read < READ_COUNT {
                break;
            }
        }
        match link.users.as_mut() {
            Some(users) if users.due() => users.sync(conn),
            _ => Ok(()),
        }
    }
}

/// The background thread's connection and place in the stream.
struct Link {
    instance: [u8; 8],
    users: Option<users::UsersSync>,
    entries: usize,
    last_id: String,
    conn: Option<redis::Connection>,
    outage_logged: bool,
}

/// Interrupted waits in a row retried at once before they count as an
/// outage.
const INTERRUPTED_RETRIES: u32 = 3;

/// Whether a failed sync is tried again at once rather than starting an
/// outage: when a signal cut a socket wait short (EINTR), which says
/// nothing about Redis. A socket with a timeout is never restarted after a
/// signal handler, and glibc interrupts every thread with one when the
/// engine drops privileges (`-u`) just after this thread has connected.
fn retry_at_once(e: &redis::RedisError, interrupted_in_a_row: &mut u32) -> bool {
    if io_error_kind(e) == Some(std::io::ErrorKind::Interrupted)
        && *interrupted_in_a_row < INTERRUPTED_RETRIES
    {
        *interrupted_in_a_row += 1;
        return true;
    }
    *interrupted_in_a_row = 0;
    false
}

/// The kind of the I/O error under a Redis error, if it has one (the
/// client keeps it behind an `Arc`).
fn io_error_kind(e: &redis::RedisError) -> Option<std::io::ErrorKind> {
    type Shared = Arc<dyn std::error::Error + Send + Sync>;
    let source = std::error::Error::source(e)?;
    let io = match source.downcast_ref::<Shared>() {
        Some(shared) => shared.downcast_ref::<std::io::Error>(),
        None => source.downcast_ref::<std::io::Error>(),
    }?;
    Some(io.kind())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn connect(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let mut conn = client.get_connection_with_timeout(IO_TIMEOUT)?;
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    redis::cmd("PING").query::<()>(&mut conn)?;
    Ok(conn)
}

/// One pipelined round trip: an `XADD` per digest (trimmed to about
/// `entries`), then the key's expiry pushed back.
fn push(
    conn: &mut redis::Connection,
    instance: &[u8; 8],
    entries: usize,
    batch: &[Digest],
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    for digest in batch {
        pipe.cmd("XADD")
            .arg(STREAM_KEY)
            .arg("MAXLEN")
            .arg("~")
            .arg(entries)
            .arg("*")
            .arg("i")
            .arg(&instance[..])
            .arg("d")
            .arg(&digest.encode()[..])
            .ignore();
    }
    pipe.cmd("PEXPIRE")
        .arg(STREAM_KEY)
        .arg(STREAM_TTL_MS)
        .ignore();
    pipe.query::<()>(conn)
}

/// One stream entry: its id, and who published which digest (`None` for
/// an entry this version cannot read; its id still moves the cursor).
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub payload: Option<([u8; 8], Digest)>,
}

/// The entries of an `XREAD` reply for one stream, in order (RESP2 arrays
/// or RESP3 maps; nil when nothing is new).
pub fn stream_entries(reply: redis::Value) -> Vec<Entry> {
    use redis::Value;
    let streams = match reply {
        Value::Array(streams) => streams
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(mut pair) if pair.len() == 2 => pair.pop(),
                _ => None,
            })
            .collect(),
        Value::Map(pairs) => pairs.into_iter().map(|(_, entries)| entries).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for entries in streams {
        let Value::Array(entries) = entries else {
            continue;
        };
        for entry in entries {
            let Value::Array(mut parts) = entry else {
                continue;
            };
            if parts.len() != 2 {
                continue;
            }
            let fields = parts.pop();
            let Some(id) = parts.pop().and_then(|id| bytes(&id).map(<[u8]>::to_vec)) else {
                continue;
            };
            let Ok(id) = String::from_utf8(id) else {
                continue;
            };
            let payload = fields.and_then(|f| entry_payload(&f));
            out.push(Entry { id, payload });
        }
    }
    out
}

fn entry_payload(fields: &redis::Value) -> Option<([u8; 8], Digest)> {
    let redis::Value::Array(fields) = fields else {
        return None;
    };
    let (mut instance, mut digest) = (None, None);
    for pair in fields.chunks_exact(2) {
        match bytes(&pair[0])? {
            b"i" => instance = bytes(&pair[1])?.try_into().ok(),
            b"d" => digest = Digest::decode(bytes(&pair[1])?),
            _ => {}
        }
    }
    Some((instance?, digest?))
}

fn bytes(v: &redis::Value) -> Option<&[u8]> {
    match v {
        redis::Value::BulkString(b) => Some(b),
        redis::Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// This process's name in the stream: 8 bytes from the standard library's
/// per-process random hasher keys, the pid and the time.
fn instance_id() -> [u8; 8] {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    h.finish().to_le_bytes()
}

/// The URL as logs show it: a password replaced by `***`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::Value;

    fn bulk(b: &[u8]) -> Value {
        Value::BulkString(b.to_vec())
    }

    fn entry(id: &str, instance: &[u8], digest: &[u8]) -> Value {
        Value::Array(vec![
            bulk(id.as_bytes()),
            Value::Array(vec![bulk(b"i"), bulk(instance), bulk(b"d"), bulk(digest)]),
        ])
    }

    #[test]
    fn an_interrupted_wait_is_retried_at_once_a_few_times_then_is_an_outage() {
        use std::io::{Error, ErrorKind};
        // How the client wraps a socket error (as its `?` does).
        let interrupted = || redis::RedisError::from(Error::from_raw_os_error(nix::libc::EINTR));
        let refused = redis::RedisError::from(Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(io_error_kind(&interrupted()), Some(ErrorKind::Interrupted));
        assert_eq!(io_error_kind(&refused), Some(ErrorKind::ConnectionRefused));
        let in_a_row = &mut 0;
        for _ in 0..INTERRUPTED_RETRIES {
            assert!(retry_at_once(&interrupted(), in_a_row));
        }
        assert!(!retry_at_once(&interrupted(), in_a_row));
        assert!(retry_at_once(&interrupted(), in_a_row), "a new run");
        assert!(!retry_at_once(&refused, in_a_row));
        assert_eq!(*in_a_row, 0, "another error ends the run");
        let parse = redis::RedisError::from((redis::ErrorKind::Parse, "bad reply"));
        assert_eq!(io_error_kind(&parse), None);
        assert!(!retry_at_once(&parse, in_a_row));
    }

    #[test]
    fn digests_round_trip_and_unknown_kinds_are_refused() {
        for d in [Digest::TlsRandom([1; 16]), Digest::Obfs2Header([2; 16])] {
            assert_eq!(Digest::decode(&d.encode()), Some(d));
        }
        assert_eq!(Digest::decode(b"x0123456789abcdef"), None);
        assert_eq!(Digest::decode(b"t0123"), None);
        assert_eq!(Digest::decode(b""), None);
    }

    #[test]
    fn xread_replies_in_both_protocols_give_the_entries_in_order() {
        let tls = Digest::TlsRandom([7; 16]);
        let obfs2 = Digest::Obfs2Header([9; 16]);
        let entries = Value::Array(vec![
            entry("5-0", b"AAAAAAAA", &tls.encode()),
            entry("5-1", b"BBBBBBBB", &obfs2.encode()),
            entry("6-0", b"short", &tls.encode()),
        ]);
        let want = vec![
            Entry {
                id: "5-0".into(),
                payload: Some((*b"AAAAAAAA", tls)),
            },
            Entry {
                id: "5-1".into(),
                payload: Some((*b"BBBBBBBB", obfs2)),
            },
            Entry {
                id: "6-0".into(),
                payload: None,
            },
        ];
        let resp2 = Value::Array(vec![Value::Array(vec![
            bulk(STREAM_KEY.as_bytes()),
            entries.clone(),
        ])]);
        assert_eq!(stream_entries(resp2), want);
        let resp3 = Value::Map(vec![(bulk(STREAM_KEY.as_bytes()), entries)]);
        assert_eq!(stream_entries(resp3), want);
        assert_eq!(stream_entries(Value::Nil), []);
    }

    #[test]
    fn passwords_stay_out_of_the_logs() {
        assert_eq!(
            without_password("redis://user:secret@10.0.0.1:6379/2"),
            "redis://***@10.0.0.1:6379/2"
        );
        assert_eq!(
            without_password("redis://10.0.0.1:6379/2"),
            "redis://10.0.0.1:6379/2"
        );
        assert_eq!(
            without_password("redis://:p@ss@host/0?x=a@b"),
            "redis://***@host/0?x=a@b"
        );
    }

    #[test]
    fn the_outbox_keeps_the_newest_digests_and_counts_the_dropped() {
        let stats = Arc::new(RustStats::default());
        let shared = SharedState {
            shown_url: String::new(),
            outbox: Mutex::new(VecDeque::new()),
            stopping: Mutex::new(false),
            wake: Condvar::new(),
            thread: Mutex::new(None),
            stats: Arc::clone(&stats),
        };
        for i in 0..OUTBOX_MAX + 3 {
            let mut d = [0u8; 16];
            d[..8].copy_from_slice(&(i as u64).to_le_bytes());
            shared.publish(Digest::Obfs2Header(d));
        }
        let counters = &stats.shared_state;
        assert_eq!(counters.dropped.load(Ordering::Relaxed), 3);
        assert_eq!(counters.pending.load(Ordering::Relaxed), OUTBOX_MAX as i64);
        let queue = lock(&shared.outbox);
        let Some(Digest::Obfs2Header(first)) = queue.front() else {
            panic!("an obfuscated2 digest first");
        };
        assert_eq!(first[..8], 3u64.to_le_bytes());
    }
}
