//! A throwaway `redis-server` for tests of `--shared-state`: on a free
//! loopback port (never the standard 6379), with no persistence; killed and
//! reaped when dropped. `scripts/setup.sh`
//! installs Debian's redis-server; without it [`RedisServer::start`] fails
//! with what to do.

use crate::process::ChildGuard;
use std::io;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a started server may take to answer PING.
const START_DEADLINE: Duration = Duration::from_secs(10);

/// The server process; dropping it kills it (see [`RedisServer::stop`]).
pub struct RedisServer {
    child: ChildGuard,
    port: u16,
}

impl RedisServer {
    /// A server on a port the kernel just handed out (a few tries, in case
    /// another process takes the port between the probe and the start).
    pub fn start() -> io::Result<RedisServer> {
        let mut last = io::Error::other("no try");
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            match RedisServer::start_on(port) {
                Ok(server) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// A server on `port` (e.g. the port of one that was stopped, to bring
    /// "the same" Redis back, empty).
    pub fn start_on(port: u16) -> io::Result<RedisServer> {
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            // No file is written (no RDB, no AOF); the directory is only
            // where redis-server would put one.
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => ChildGuard::new(child),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(io::Error::other(
                "redis-server not found: run scripts/setup.sh (it installs Debian's redis-server)",
            )),
            Err(e) => return Err(e),
        };
        let mut server = RedisServer { child, port };
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if server.connection().is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(io::Error::other(format!(
                    "redis-server on port {port} exited with {status}"
                )));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::other(format!(
                    "redis-server on port {port} did not answer within {START_DEADLINE:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL `--shared-state` takes.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A connection for the test's own looks (XLEN, PTTL, …).
    pub fn connection(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_connection_with_timeout(Duration::from_secs(1))?;
        redis::cmd("PING").query::<()>(&mut conn)?;
        Ok(conn)
    }

    /// Runs one command; e.g. `server.query::<i64>(&["XLEN", "k"])`.
    pub fn query<T: redis::FromRedisValue>(&self, args: &[&str]) -> redis::RedisResult<T> {
        let mut conn = self.connection()?;
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut conn)
    }

    /// Kills the server and waits for it (its data goes with it: no
    /// persistence); the port is free again on return.
    pub fn stop(self) {
        let _ = self.child.kill_and_wait();
    }
}
