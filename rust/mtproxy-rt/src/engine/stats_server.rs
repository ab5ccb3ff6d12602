//! The local stats HTTP server: loopback only, one request per
//! connection, `/stats` and `/metrics`, run on the engine's reactor.
//!
//! Connection tokens are `STATS_CONN_BASE + slot`; the engine owns the
//! other tokens.
use crate::clock::unix_now;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;

use mtproxy_sys::c::net_events::Reactor;
use mtproxy_sys::c::stats_http::{self, ProxyStats, StatsStrings};

/// First token of stats connections (and of their deadline timers).
pub const STATS_CONN_BASE: u64 = 1 << 32;
/// Stats connections open at once; more are closed at accept.
const MAX_CONNECTIONS: usize = 64;
/// A stats client must finish within this time.
const DEADLINE_MS: u64 = 10_000;

/// The counters the engine reports in the http_* fields.
#[derive(Default)]
pub struct HttpCounters {
    pub queries: u64,
    pub bad_headers: u64,
}

struct Connection {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
    sent: usize,
    timer: u64,
}

/// What renders a response body: filled by the engine per request.
pub trait StatsSource {
    /// The numbers (proxy's and process's) at this moment.
    fn stats(&mut self, http: &HttpCounters, open_connections: usize) -> ProxyStats;
    /// Lines appended to the body (`/metrics` when `prometheus`).
    fn extra(&self, prometheus: bool) -> Vec<u8>;
    /// config file name, config md5 hex, version.
    fn strings(&self) -> (&[u8], &[u8], &[u8]);
}

pub struct StatsServer {
    listener: TcpListener,
    listener_token: u64,
    slots: Vec<Option<Connection>>,
    pub counters: HttpCounters,
}

/// Renders with a growing buffer: the renderers report the full length
/// when the output does not fit.
pub(super) fn render(with: impl Fn(&mut [u8]) -> usize) -> Vec<u8> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let len = with(&mut buf);
        if len <= buf.len() {
            buf.truncate(len);
            return buf;
        }
        buf.resize(len, 0);
    }
}

impl StatsServer {
    /// Registers `listener` on `reactor` with `listener_token`.
    pub fn new(
        listener: TcpListener,
        listener_token: u64,
        reactor: &mut Reactor,
    ) -> Result<StatsServer, String> {
        reactor
            .add(listener.as_raw_fd(), listener_token)
            .map_err(|code| format!("cannot watch the stats listener (error {code})"))?;
        Ok(StatsServer {
            listener,
            listener_token,
            slots: Vec::new(),
            counters: HttpCounters::default(),
        })
    }

    fn open_connections(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Handles a reactor event with `token` if it is the server's; returns
    /// false for tokens it does not own.
    pub fn handle(
        &mut self,
        reactor: &mut Reactor,
        token: u64,
        events: u32,
        source: &mut dyn StatsSource,
    ) -> bool {
        if token == self.listener_token {
            self.accept_all(reactor);
            return true;
        }
        let Some(slot) = token
            .checked_sub(STATS_CONN_BASE)
            .and_then(|s| usize::try_from(s).ok())
        else {
            return false;
        };
        if slot >= self.slots.len() {
            return false;
        }
        let timer_fired = events & super::EV_TIMER != 0;
        if timer_fired {
            // The deadline passed: whatever state it is in, it is done.
            if let Some(conn) = self.slots[slot].take() {
                let _ = reactor.remove(conn.stream.as_raw_fd());
            }
            return true;
        }
        if !self.progress(slot, source) {
            self.close(reactor, slot);
        }
        true
    }

    fn accept_all(&mut self, reactor: &mut Reactor) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => self.adopt(reactor, stream),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // E.g. out of fds or a connection reset before accept: the
                // listener stays registered; the next edge retries.
                Err(_) => return,
            }
        }
    }

    fn adopt(&mut self, reactor: &mut Reactor, stream: TcpStream) {
        if self.open_connections() >= MAX_CONNECTIONS || stream.set_nonblocking(true).is_err() {
            return;
        }
        let slot = match self.slots.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let token = STATS_CONN_BASE + slot as u64;
        if reactor.add(stream.as_raw_fd(), token).is_err() {
            return;
        }
        let timer = reactor.timer(token, DEADLINE_MS);
        self.slots[slot] = Some(Connection {
            stream,
            input: Vec::new(),
            output: Vec::new(),
            sent: 0,
            timer,
        });
    }

    fn close(&mut self, reactor: &mut Reactor, slot: usize) {
        if let Some(conn) = self.slots[slot].take() {
            let _ = reactor.remove(conn.stream.as_raw_fd());
            reactor.cancel(conn.timer);
        }
    }

    /// Reads, answers and writes as far as the socket allows; false when
    /// the connection is finished (answered or broken).
    fn progress(&mut self, slot: usize, source: &mut dyn StatsSource) -> bool {
        let open = self.open_connections();
        let counters = &mut self.counters;
        let Some(conn) = self.slots[slot].as_mut() else {
            return true;
        };
        if conn.output.is_empty() {
            let mut buf = [0u8; 4096];
            loop {
                match conn.stream.read(&mut buf) {
                    Ok(0) => return false,
                    Ok(n) => {
                        // Bytes past the head's limit cannot change the
                        // verdict (431), so they are not kept.
                        let room = stats_http::MAX_HEADER_LEN + 1
                            - conn.input.len().min(stats_http::MAX_HEADER_LEN + 1);
                        conn.input.extend_from_slice(&buf[..n.min(room)]);
                        let request = stats_http::parse_request(&conn.input);
                        if request.status != 0 {
                            conn.output = respond(request, counters, open, source);
                            break;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return false,
                }
            }
        }
        while conn.sent < conn.output.len() {
            match conn.stream.write(&conn.output[conn.sent..]) {
                Ok(0) => return false,
                Ok(n) => conn.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        false
    }
}

/// The whole response (head and body) to a judged request.
fn respond(
    request: stats_http::HttpRequest,
    counters: &mut HttpCounters,
    open: usize,
    source: &mut dyn StatsSource,
) -> Vec<u8> {
    counters.queries += 1;
    let (content_type, body): (&[u8], Vec<u8>) = if request.status == 200 {
        let stats = source.stats(counters, open);
        if request.target == stats_http::TARGET_METRICS {
            let mut body = render(|out| stats_http::render_prometheus(&stats, out));
            body.extend_from_slice(&source.extra(true));
            if let Some(extra) = crate::rust_only::direct_stats() {
                body.extend_from_slice(extra.render_prometheus().as_bytes());
            }
            if let Some(users) = crate::rust_only::users() {
                body.extend_from_slice(users.render_prometheus(unix_now()).as_bytes());
            }
            (b"text/plain; version=0.0.4", body)
        } else {
            let (config_filename, config_md5, version) = source.strings();
            let strings = StatsStrings {
                config_filename,
                config_md5,
                version,
            };
            let mut body = render(|out| stats_http::render_text(&stats, &strings, out));
            body.extend_from_slice(&source.extra(false));
            // Rust-only lines (rust_only.rs), after upstream's.
            if let Some(extra) = crate::rust_only::direct_stats() {
                body.extend_from_slice(extra.render_text().as_bytes());
            }
            if let Some(users) = crate::rust_only::users() {
                body.extend_from_slice(users.render_text(unix_now()).as_bytes());
            }
            (b"text/plain", body)
        }
    } else {
        counters.bad_headers += 1;
        (b"text/plain", Vec::new())
    };
    let mut head = [0u8; stats_http::MAX_HEAD_LEN];
    let len = stats_http::response_head(
        request.status,
        content_type,
        body.len() as u64,
        unix_now(),
        &mut head,
    )
    .unwrap_or(0);
    let mut out = head[..len].to_vec();
    out.extend_from_slice(&body);
    out
}
