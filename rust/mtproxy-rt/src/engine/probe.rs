//! The domain probe (docs/PROTOCOL.md §2.4, docs/RUNTIME.md "Domain
//! probe"): for each `-D` domain, [`PROBE_CONNECTIONS`] connections at once,
//! each sending the core's probe ClientHello and reading the domain's first
//! flight until it is complete and the domain has been quiet for
//! [`PROBE_QUIET_MS`]; the replies that parse become the domain's profile.
//! Once at start-up (bounded by [`PROBE_DEADLINE_MS`]), then every
//! [`PROBE_INTERVAL_S`] plus up to [`PROBE_JITTER_S`] in a background
//! thread. A failed round keeps the last profile (the fallback at first).
use crate::log;
use mtproxy_core::net::fake_tls::{
    build_probe_hello, parse_probe_reply, profile_from_replies, ProbeReply, TlsProfile,
    ERR_NEED_MORE, PROBE_CONNECTIONS, PROBE_DEADLINE_MS, PROBE_HELLO_LEN, PROBE_INTERVAL_S,
    PROBE_JITTER_S, PROBE_MAX_RECORDS, PROBE_QUIET_MS, PROBE_RANDOM_LEN,
};
use mtproxy_sys::c::mtproto_proxy::Proxy;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes of a domain's answer kept at most: ServerHello and CCS plus
/// [`PROBE_MAX_RECORDS`] records of the largest size.
const MAX_FLIGHT_BYTES: usize = 256 * 1024;

/// One `-D` domain: its SNI name and where it listens.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub addr: SocketAddr,
}

/// The profiles the engine reports in its stats, per domain.
pub type Profiles = Arc<Mutex<Vec<TlsProfile>>>;

fn random_bytes(out: &mut [u8]) {
    // The probe's randomness need not be reproducible; a failed read leaves
    // a fixed but harmless hello.
    if let Ok(mut urandom) = std::fs::File::open("/dev/urandom") {
        let _ = urandom.read_exact(out);
    }
}

/// One probe connection: the parsed flight, or None.
fn probe_once(target: &Target, deadline: Instant) -> Option<ProbeReply> {
    let mut random = [0u8; PROBE_RANDOM_LEN];
    random_bytes(&mut random);
    let mut hello = [0u8; PROBE_HELLO_LEN];
    build_probe_hello(target.name.as_bytes(), &random, &mut hello).ok()?;
    let mut session = [0u8; 32];
    session.copy_from_slice(&random[32..64]);
    let left = deadline.checked_duration_since(Instant::now())?;
    let mut stream = TcpStream::connect_timeout(&target.addr, left).ok()?;
    stream.set_write_timeout(Some(left)).ok()?;
    stream.write_all(&hello).ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut parsed: Option<ProbeReply> = None;
    loop {
        let now = Instant::now();
        let left = deadline.checked_duration_since(now)?;
        let wait = match parsed {
            Some(_) => left.min(Duration::from_millis(PROBE_QUIET_MS)),
            None => left,
        };
        stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .ok()?;
        match stream.read(&mut buf) {
            Ok(0) => return parsed,
            // A flight of the most records the parser counts fits in
            // this; a domain that sends more cannot grow memory.
            Ok(_) if data.len() > MAX_FLIGHT_BYTES => return parsed,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // Quiet after a complete record: the flight is over.
                return parsed;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return parsed,
        }
        match parse_probe_reply(&data, &session) {
            Ok(reply) if reply.record_count >= PROBE_MAX_RECORDS => return Some(reply),
            Ok(reply) => parsed = Some(reply),
            Err(ERR_NEED_MORE) => {}
            Err(_) => return None,
        }
    }
}

/// One round for every target at once; `None` where no connection of a
/// domain brought a usable flight.
pub fn probe_round(targets: &[Target], deadline: Duration) -> Vec<Option<TlsProfile>> {
    let until = Instant::now() + deadline;
    let replies: Vec<Vec<ProbeReply>> = std::thread::scope(|scope| {
        let handles: Vec<Vec<_>> = targets
            .iter()
            .map(|target| {
                (0..PROBE_CONNECTIONS)
                    .map(|_| scope.spawn(move || probe_once(target, until)))
                    .collect()
            })
            .collect();
        handles
            .into_iter()
            .map(|per_domain| {
                per_domain
                    .into_iter()
                    .filter_map(|h| h.join().ok().flatten())
                    .collect()
            })
            .collect()
    });
    let now = crate::clock::unix_now();
    replies
        .iter()
        .map(|r| profile_from_replies(r, now).ok())
        .collect()
}

/// Applies a round's results: learned profiles replace the old ones (in the
/// proxy and in `profiles`), failures keep them; one log line per domain.
pub fn apply_round(
    targets: &[Target],
    results: Vec<Option<TlsProfile>>,
    proxy: &Proxy,
    profiles: &Profiles,
) {
    let mut kept = profiles.lock().unwrap_or_else(PoisonError::into_inner);
    for (index, (target, result)) in targets.iter().zip(results).enumerate() {
        match result {
            Some(profile) => {
                log::line(&format!(
                    "domain probe: {} answers with a {}-byte encrypted flight in {} record(s), {} first",
                    target.name,
                    profile.app_data_len,
                    profile.record_count,
                    if profile.extensions_swapped != 0 { "supported_versions" } else { "key_share" },
                ));
                proxy.set_tls_profile(index as u32, &profile);
                if let Some(slot) = kept.get_mut(index) {
                    *slot = profile;
                }
            }
            None => {
                let using = match kept.get(index) {
                    Some(p) if p.learned != 0 => "keeping the last learned profile",
                    _ => "using the default ServerHello sizes",
                };
                log::line(&format!(
                    "warning: domain probe: {} ({}) did not answer like a TLS 1.3 server; {using}",
                    target.name, target.addr
                ));
            }
        }
    }
}

/// The start-up round, bounded by [`PROBE_DEADLINE_MS`].
pub fn first_round(targets: &[Target], proxy: &Proxy, profiles: &Profiles) {
    if targets.is_empty() {
        return;
    }
    let results = probe_round(targets, Duration::from_millis(PROBE_DEADLINE_MS));
    apply_round(targets, results, proxy, profiles);
}

/// Seconds until the next round: the interval plus a random extra.
pub fn next_delay(random: u64) -> Duration {
    Duration::from_secs(PROBE_INTERVAL_S + random % PROBE_JITTER_S)
}

/// The background re-probe; stops when its sender is dropped.
pub struct Reprober {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Reprober {
    pub fn start(targets: Vec<Target>, proxy: Arc<Proxy>, profiles: Profiles) -> Reprober {
        if targets.is_empty() {
            return Reprober {
                stop: None,
                thread: None,
            };
        }
        let (stop, stopped): (Sender<()>, Receiver<()>) = std::sync::mpsc::channel();
        let thread = crate::jobs::spawn_without_signals("domain-probe".into(), move || loop {
            let mut word = [0u8; 8];
            random_bytes(&mut word);
            match stopped.recv_timeout(next_delay(u64::from_le_bytes(word))) {
                Err(RecvTimeoutError::Timeout) => {
                    let results = probe_round(&targets, Duration::from_millis(PROBE_DEADLINE_MS));
                    apply_round(&targets, results, &proxy, &profiles);
                }
                _ => return,
            }
        })
        .ok();
        Reprober {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Reprober {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_delay_stays_within_the_interval_and_jitter() {
        assert_eq!(next_delay(0), Duration::from_secs(PROBE_INTERVAL_S));
        let top = next_delay(PROBE_JITTER_S - 1);
        assert_eq!(
            top,
            Duration::from_secs(PROBE_INTERVAL_S + PROBE_JITTER_S - 1)
        );
        assert!(next_delay(u64::MAX) < Duration::from_secs(PROBE_INTERVAL_S + PROBE_JITTER_S));
    }

    #[test]
    fn a_closed_port_gives_no_profile_within_the_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let target = Target {
            name: "example.com".into(),
            addr,
        };
        let started = Instant::now();
        assert_eq!(
            probe_round(&[target], Duration::from_millis(500)),
            vec![None]
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
