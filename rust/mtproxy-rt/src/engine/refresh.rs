//! Telegram's files, kept fresh (Rust-only; README "Running against real
//! Telegram"): with `--config-url` / `--secret-url`, proxy-multi.conf and
//! proxy-secret are fetched at start-up when the file is missing, and again
//! every `--refresh-interval` (±10 %). An answer is validated as the proxy
//! would load it (a config the parser accepts, a secret of the accepted
//! length) before it replaces the file on disk (write, then rename); a
//! changed file is loaded through the SIGHUP reload, so middle-end
//! connections move to the new generation while clients on the old ones
//! drain. A failed fetch keeps the last good copy and is logged and
//! counted.

use super::log;
use mtproxy_core::crypto::net_crypto_aes::{SECRET_MAX_LEN, SECRET_MIN_LEN};
use mtproxy_core::mtproto::mtproto_config::ProxyConfig;
use mtproxy_core::runtime::RefreshOptions;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest a fetch may take (less when the interval is shorter).
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer accepted (Telegram's config is a few KiB).
const MAX_ANSWER: u64 = 1 << 20;

/// Which file a URL feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Config,
    Secret,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Config => "config",
            Kind::Secret => "proxy secret",
        }
    }

    /// Whether `bytes` would load: the reasons a reload would refuse.
    fn validate(self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Kind::Config => ProxyConfig::parse(bytes, 0)
                .map(drop)
                .map_err(|e| format!("not a config (error {} at line {})", e.code, e.line)),
            Kind::Secret if (SECRET_MIN_LEN..=SECRET_MAX_LEN).contains(&bytes.len()) => Ok(()),
            Kind::Secret => Err(format!(
                "not a proxy secret ({} bytes, {SECRET_MIN_LEN}..{SECRET_MAX_LEN} expected)",
                bytes.len()
            )),
        }
    }
}

/// One file kept fresh: from `url` into `path`.
#[derive(Clone, Debug)]
struct Source {
    kind: Kind,
    url: String,
    path: String,
}

/// The counters `/stats` and `/metrics` show.
#[derive(Debug, Default)]
pub struct RefreshStats {
    /// Fetches that returned a valid file (changed or not).
    pub fetched: AtomicI64,
    /// Valid files that differed from the one on disk and replaced it.
    pub changed: AtomicI64,
    /// Fetches that failed or returned something invalid.
    pub failed: AtomicI64,
}

impl RefreshStats {
    /// `name\tvalue` lines, or Prometheus counters.
    pub fn render(&self, prometheus: bool) -> Vec<u8> {
        let mut out = String::new();
        for (name, counter) in [
            ("telegram_files_fetched", &self.fetched),
            ("telegram_files_changed", &self.changed),
            ("telegram_fetch_failed", &self.failed),
        ] {
            let value = counter.load(Ordering::Relaxed);
            if prometheus {
                out.push_str(&format!(
                    "# TYPE mtproxy_{name} counter\nmtproxy_{name} {value}\n"
                ));
            } else {
                out.push_str(&format!("{name}\t{value}\n"));
            }
        }
        out.into_bytes()
    }
}

fn sources(options: &RefreshOptions, config_file: &str, secret_file: &str) -> Vec<Source> {
    let mut out = Vec::new();
    if let Some(url) = &options.config_url {
        out.push(Source {
            kind: Kind::Config,
            url: url.clone(),
            path: config_file.to_string(),
        });
    }
    if let Some(url) = &options.secret_url {
        out.push(Source {
            kind: Kind::Secret,
            url: url.clone(),
            path: secret_file.to_string(),
        });
    }
    out
}

/// GET `url`: the body of a 200 answer that arrived whole within
/// `timeout`.
fn fetch(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(true)
        .build()
        .into();
    let mut answer = agent.get(url).call().map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    answer
        .body_mut()
        .as_reader()
        .take(MAX_ANSWER + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("reading the answer: {e}"))?;
    if body.len() as u64 > MAX_ANSWER {
        return Err(format!("answer over {MAX_ANSWER} bytes"));
    }
    Ok(body)
}

/// Replaces `path` with `bytes`: a temporary file beside it, renamed over
/// it, so a reader never sees half a file.
fn write_atomically(path: &str, bytes: &[u8]) -> Result<(), String> {
    let target = Path::new(path);
    let name = target
        .file_name()
        .ok_or_else(|| format!("{path}: not a file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(".new");
    let temp = target.with_file_name(temp_name);
    std::fs::write(&temp, bytes)
        .and_then(|()| std::fs::rename(&temp, target))
        .map_err(|e| format!("{path}: {e}"))
}

/// Fetches and validates one source; writes it when it differs from the
/// file. `Ok(true)` when the file changed.
fn refresh(source: &Source, timeout: Duration, stats: &RefreshStats) -> Result<bool, String> {
    let outcome = fetch(&source.url, timeout).and_then(|bytes| {
        source.kind.validate(&bytes)?;
        Ok(bytes)
    });
    let bytes = match outcome {
        Ok(bytes) => bytes,
        Err(reason) => {
            stats.failed.fetch_add(1, Ordering::Relaxed);
            return Err(format!(
                "{} from {}: {reason}",
                source.kind.name(),
                source.url
            ));
        }
    };
    stats.fetched.fetch_add(1, Ordering::Relaxed);
    if std::fs::read(&source.path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    write_atomically(&source.path, &bytes)?;
    stats.changed.fetch_add(1, Ordering::Relaxed);
    Ok(true)
}

/// The fetch timeout for an interval: [`FETCH_TIMEOUT`], or the interval
/// when that is shorter.
fn timeout_for(interval: Duration) -> Duration {
    FETCH_TIMEOUT.min(interval)
}

/// At start-up: every source whose file does not exist is fetched into
/// it; a failure then stops the start (there is nothing to run on).
pub fn fetch_missing(
    options: &RefreshOptions,
    config_file: &str,
    secret_file: &str,
    stats: &RefreshStats,
) -> Result<(), String> {
    let timeout = timeout_for(Duration::from_secs(u64::from(options.interval_secs)));
    for source in sources(options, config_file, secret_file) {
        if Path::new(&source.path).exists() {
            continue;
        }
        refresh(&source, timeout, stats).map_err(|reason| {
            format!(
                "{} does not exist and cannot be fetched: {reason}",
                source.path
            )
        })?;
        log::line(&format!(
            "{} fetched from {} into {}",
            source.kind.name(),
            source.url,
            source.path
        ));
    }
    Ok(())
}

/// The background thread that refetches every interval and asks for a
/// reload (SIGHUP to this process) when a file changed.
pub struct Refresher {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl Refresher {
    /// `None` when no URL is given.
    pub fn start(
        options: &RefreshOptions,
        config_file: &str,
        secret_file: &str,
        stats: Arc<RefreshStats>,
    ) -> Option<Refresher> {
        let sources = sources(options, config_file, secret_file);
        if sources.is_empty() {
            return None;
        }
        let interval = Duration::from_secs(u64::from(options.interval_secs.max(1)));
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = crate::jobs::spawn_without_signals("mtproxy-refresh".into(), move || {
            // Only the first failure in a row of each source is logged.
            let mut failing = vec![false; sources.len()];
            loop {
                match stopped.recv_timeout(jittered(interval)) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let mut changed = false;
                for (source, failing) in sources.iter().zip(failing.iter_mut()) {
                    match refresh(source, timeout_for(interval), &stats) {
                        Ok(this) => {
                            changed |= this;
                            *failing = false;
                        }
                        Err(reason) if !*failing => {
                            *failing = true;
                            log::line(&format!(
                                "refresh failed, keeping the last good copy: {reason}"
                            ));
                        }
                        Err(_) => {}
                    }
                }
                if changed {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::this(),
                        nix::sys::signal::Signal::SIGHUP,
                    );
                }
            }
        })
        .ok()?;
        Some(Refresher { stop, thread })
    }

    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// `interval` ± 10 %, so a fleet started together does not fetch together.
fn jittered(interval: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let spread = interval / 5;
    let offset = spread.mul_f64(f64::from(nanos) / 1e9);
    interval - interval / 10 + offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_is_the_loaders() {
        assert!(Kind::Config
            .validate(b"proxy_for 2 127.0.0.1:1; default 2;")
            .is_ok());
        for bad in [
            &b"<html>502 Bad Gateway</html>"[..],
            b"proxy_for 2 127.0.0.1:1",
        ] {
            assert!(Kind::Config.validate(bad).is_err(), "{bad:?}");
        }
        assert!(Kind::Secret.validate(&[7; 128]).is_ok());
        assert!(Kind::Secret.validate(&[7; SECRET_MIN_LEN - 1]).is_err());
        assert!(Kind::Secret.validate(&vec![7; SECRET_MAX_LEN + 1]).is_err());
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let day = Duration::from_secs(86_400);
        for _ in 0..100 {
            let d = jittered(day);
            assert!(d >= day * 9 / 10 && d <= day * 11 / 10, "{d:?}");
        }
    }

    #[test]
    fn writes_replace_the_file_whole() {
        let dir = std::env::temp_dir().join(format!("mtproxy-refresh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("proxy-multi.conf");
        let path = path.to_str().unwrap();
        write_atomically(path, b"one").unwrap();
        write_atomically(path, b"two").unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
