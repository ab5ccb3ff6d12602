//! The jobs-threads module: the proxy's worker threads (contract:
//! ffi/include/mtp_jobs_threads.h).
//!
//! Workers, and every other runtime thread (`spawn_without_signals`), block
//! the process signals, so that SIGTERM & co. reach the engine thread,
//! which reads them synchronously (signalfd).
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use nix::sched::{sched_getaffinity, CpuSet};
use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow, Signal};
use nix::unistd::Pid;

/// The signals workers never receive (the engine handles them).
pub fn process_signals() -> SigSet {
    let mut set = SigSet::empty();
    for sig in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGPIPE,
    ] {
        set.add(sig);
    }
    set
}

/// Running worker threads.
pub struct Jobs {
    threads: Vec<JoinHandle<()>>,
}

/// Blocks the process signals on the calling thread; returns the mask it
/// had before, if it could be read.
fn block_process_signals() -> Option<SigSet> {
    let mut old = SigSet::empty();
    pthread_sigmask(
        SigmaskHow::SIG_BLOCK,
        Some(&process_signals()),
        Some(&mut old),
    )
    .ok()
    .map(|()| old)
}

/// Spawns a named thread that never takes the process signals, so that
/// they reach the engine's signalfd (a signal's default action on any
/// thread ends the whole process). The mask is set while spawning, since a
/// thread inherits its creator's: this holds for threads started before the
/// engine blocks the signals on its own thread too.
pub fn spawn_without_signals<T, F>(name: String, body: F) -> io::Result<JoinHandle<T>>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let saved = block_process_signals();
    let spawned = std::thread::Builder::new().name(name).spawn(body);
    if let Some(old) = saved {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
    spawned
}

/// Starts `workers` threads named `mtproxy-w<index>`, each running
/// `body(index)` with the process signals blocked. Fails with
/// `InvalidInput` for 0 workers, or with the spawn error after joining the
/// threads already started (so `body` must return on its own then).
pub fn start(workers: u32, body: Arc<dyn Fn(u32) + Send + Sync>) -> io::Result<Jobs> {
    if workers == 0 {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let mut threads = Vec::with_capacity(workers as usize);
    let mut failure = None;
    for index in 0..workers {
        let body = Arc::clone(&body);
        match spawn_without_signals(format!("mtproxy-w{index}"), move || body(index)) {
            Ok(handle) => threads.push(handle),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let jobs = Jobs { threads };
    match failure {
        None => Ok(jobs),
        Some(e) => {
            jobs.join();
            Err(e)
        }
    }
}

impl Jobs {
    /// Waits until every worker returned. A worker that panicked has
    /// already reported it on stderr (panic hook); it counts as returned.
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

/// CPUs this process may run on (at least 1).
pub fn cpu_count() -> u32 {
    let from_affinity = sched_getaffinity(Pid::from_raw(0)).ok().map(|set| {
        (0..CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .count()
    });
    let count = match from_affinity {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map_or(1, usize::from),
    };
    u32::try_from(count).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn runs_every_index_on_named_threads_with_signals_blocked() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let jobs = start(
            3,
            Arc::new(move |index| {
                let name = std::thread::current().name().unwrap_or("").to_string();
                let mut mask = SigSet::empty();
                pthread_sigmask(SigmaskHow::SIG_BLOCK, None, Some(&mut mask)).unwrap();
                let blocked = process_signals().iter().all(|s| mask.contains(s));
                record.lock().unwrap().push((index, name, blocked));
            }),
        )
        .unwrap();
        jobs.join();
        let mut seen = seen.lock().unwrap().clone();
        seen.sort();
        assert_eq!(
            seen,
            (0..3)
                .map(|i| (i, format!("mtproxy-w{i}"), true))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn creator_mask_is_restored() {
        let before = SigSet::thread_get_mask().unwrap();
        start(1, Arc::new(|_| {})).unwrap().join();
        let after = SigSet::thread_get_mask().unwrap();
        assert_eq!(
            process_signals()
                .iter()
                .map(|s| before.contains(s))
                .collect::<Vec<_>>(),
            process_signals()
                .iter()
                .map(|s| after.contains(s))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn zero_workers_is_refused() {
        assert!(start(0, Arc::new(|_| {})).is_err());
    }

    #[test]
    fn at_least_one_cpu() {
        assert!(cpu_count() >= 1);
    }
}
