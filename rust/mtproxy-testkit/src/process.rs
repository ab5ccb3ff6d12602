//! A child process that cannot outlive its owner: [`ChildGuard`] kills and
//! reaps the process when dropped; and the port files the test kit's
//! binaries write for scripts.

use std::io;
use std::process::{Child, ExitStatus};

/// Owns a spawned child; kills and waits for it on drop.
pub struct ChildGuard(Option<Child>);

impl ChildGuard {
    pub fn new(child: Child) -> Self {
        ChildGuard(Some(child))
    }

    /// The process id, while the child is still owned.
    pub fn id(&self) -> Option<u32> {
        self.0.as_ref().map(Child::id)
    }

    /// The child, e.g. to take its stdin/stdout.
    pub fn child_mut(&mut self) -> Option<&mut Child> {
        self.0.as_mut()
    }

    /// Whether it has exited, without blocking.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match self.0.as_mut() {
            Some(child) => child.try_wait(),
            None => Err(io::Error::other("child already reaped")),
        }
    }

    /// Kills the child (unless it already exited) and reaps it.
    pub fn kill_and_wait(mut self) -> io::Result<ExitStatus> {
        let mut child = self
            .0
            .take()
            .ok_or_else(|| io::Error::other("child already reaped"))?;
        kill_and_reap(&mut child)
    }
}

fn kill_and_reap(child: &mut Child) -> io::Result<ExitStatus> {
    if let Some(status) = child.try_wait()? {
        return Ok(status);
    }
    // Fails only if it exited meanwhile; wait() reaps it either way.
    let _ = child.kill();
    child.wait()
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = kill_and_reap(&mut child);
        }
    }
}

/// Writes via a temporary file and a rename, so a reader polling for the
/// file never sees it half-written.
pub fn write_atomically(path: &std::path::Path, text: &str) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
