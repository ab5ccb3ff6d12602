//! Process signals, read synchronously by the engine thread from a
//! signalfd registered on its reactor. The signals are blocked in the
//! engine thread before any worker starts (workers block them too), so
//! none is delivered asynchronously.
use nix::sys::signal::{pthread_sigmask, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// What the engine does for a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// SIGTERM / SIGINT.
    Stop,
    /// SIGHUP: reread the files and reload the proxy.
    Reload,
    /// SIGUSR1: reopen the log file.
    ReopenLog,
    /// SIGPIPE (and anything unexpected).
    Ignore,
}

pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Blocks the process signals on this thread and opens the signalfd.
    /// They stay blocked after the run: a signal arriving while the
    /// engine returns must not kill the process with its default action.
    pub fn new() -> Result<Signals, String> {
        let set = crate::jobs::process_signals();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .map_err(|e| format!("cannot block signals: {e}"))?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| format!("cannot open a signalfd: {e}"))?;
        Ok(Signals { fd })
    }

    pub fn fd(&self) -> &SignalFd {
        &self.fd
    }

    /// The signals pending now (the fd is edge-triggered: read them all).
    pub fn drain(&self) -> Vec<(Signal, Action)> {
        let mut out = Vec::new();
        while let Ok(Some(info)) = self.fd.read_signal() {
            let Ok(signal) = Signal::try_from(info.ssi_signo as i32) else {
                continue;
            };
            let action = match signal {
                Signal::SIGTERM | Signal::SIGINT => Action::Stop,
                Signal::SIGHUP => Action::Reload,
                Signal::SIGUSR1 => Action::ReopenLog,
                _ => Action::Ignore,
            };
            out.push((signal, action));
        }
        out
    }
}
