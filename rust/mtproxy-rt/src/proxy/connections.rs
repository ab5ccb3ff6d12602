//! The records the worker keeps in its slabs, one per connection
//! (docs/RUNTIME.md, "Worker event loop"): an accepted client with its
//! phase (handshake, data session or relay), the relay to the fronting
//! domain or a DC, and a middle-end connection with its session. Plain
//! state and the sockets' opening; the worker's handlers (client.rs,
//! relay.rs, direct.rs, me.rs) act on them.

use super::buffers::OutQueue;
use super::client_session::ClientSession;
use super::direct_session::DirectCrypto;
use super::me_session::MeSession;
use super::routing::TargetKey;
use mtproxy_core::mtproto::mtproto_config::Target;
use mtproxy_core::net::fake_tls::RecordReader;
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrIn6};
use std::collections::{HashSet, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;

/// Starts a non-blocking TCP connect; completion is reported as writable.
pub(crate) fn connect_nonblocking(addr: SocketAddr) -> io::Result<TcpStream> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    let fd = socket::socket(family, SockType::Stream, flags, None)?;
    let result = match addr {
        SocketAddr::V4(a) => socket::connect(fd.as_raw_fd(), &SockaddrIn::from(a)),
        SocketAddr::V6(a) => socket::connect(fd.as_raw_fd(), &SockaddrIn6::from(a)),
    };
    match result {
        Ok(()) | Err(nix::errno::Errno::EINPROGRESS) => Ok(TcpStream::from(fd)),
        Err(e) => Err(e.into()),
    }
}

/// Where an accepted client is: from its first bytes to its data session
/// or its relay.
pub(crate) enum Phase {
    /// `--proxy-protocol`: collecting the load balancer's PROXY header
    /// (proxy_header.rs).
    ProxyHeader,
    /// Collecting the 64-byte header or the ClientHello.
    Hello,
    /// ServerHello sent; collecting the inner header from the records.
    TlsInner {
        reader: RecordReader,
        inner: Vec<u8>,
        /// The secret the hello matched: tried first for the inner header.
        secret: Option<usize>,
    },
    Data(Box<ClientSession>),
    Relay(Box<Relay>),
}

/// A packet waiting for a ready middle-end connection.
pub(crate) struct Pending {
    pub packet: Vec<u8>,
    pub quick_ack: bool,
    pub unencrypted: bool,
}

pub(crate) struct Client {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub phase: Phase,
    /// Everything received before the handshake completed (for a relay).
    pub raw: Vec<u8>,
    pub out: OutQueue,
    /// The ME connection slot this client is bound to, and its ext id.
    pub me: Option<usize>,
    pub ext_id: i64,
    /// The ME closed this client (CLOSE_EXT or lost): tell it nothing.
    pub me_gone: bool,
    pub pending: VecDeque<Pending>,
    pub pending_bytes: usize,
    pub pending_timer: Option<u64>,
    pub handshake_timer: Option<u64>,
    pub flood_timer: Option<u64>,
    pub drain_timer: Option<u64>,
    pub read_paused: bool,
    /// Counted in its ME connection's `over_cap_clients`.
    pub over_cap: bool,
    /// Close once the output is flushed.
    pub closing: bool,
    /// The named user whose secret the client used (Rust-only).
    pub user: Option<Box<UserConn>>,
}

/// A named user's connection: who, from where, and the bytes not yet
/// reported to the registry.
pub(crate) struct UserConn {
    pub name: String,
    pub ip: std::net::IpAddr,
    pub ad_tag: Option<[u8; 16]>,
    pub up: u64,
    pub down: u64,
}

impl UserConn {
    pub fn new(user: &mtproxy_core::users::User, ip: std::net::IpAddr) -> UserConn {
        UserConn {
            name: user.name.clone(),
            ip,
            ad_tag: user.ad_tag,
            up: 0,
            down: 0,
        }
    }
}

/// The other end of a relayed client: the fronting domain, or in direct
/// mode the client's DC.
pub(crate) struct Relay {
    pub stream: TcpStream,
    pub out: OutQueue,
    pub connected: bool,
    pub read_paused: bool,
    /// Direct mode: the peer is a Telegram DC and bytes are re-encrypted
    /// both ways (direct_session.rs); `None` for the fronting relay.
    pub direct: Option<Box<DirectCrypto>>,
}

/// A middle-end connection's socket: none while it waits to reconnect.
pub(crate) enum Link {
    /// Waiting for the reconnect timer.
    Backoff,
    Connecting,
    /// Connected: the session runs the exchange and then the frames.
    Open(Box<MeSession>),
}

/// One member of a middle-end pool (routing.rs); the slot outlives its
/// sockets: a lost connection reconnects in place.
pub(crate) struct MeConn {
    pub key: TargetKey,
    pub target: Target,
    pub link: Link,
    pub stream: Option<TcpStream>,
    pub out: OutQueue,
    /// Client slots bound to this connection.
    pub bound: HashSet<usize>,
    /// Bound clients whose queue is over the soft cap (this connection is
    /// not read while any is).
    pub over_cap_clients: usize,
    pub backoff_ms: u64,
    pub timer: Option<u64>,
    /// Its address left the config: closes once no client is bound.
    pub retiring: bool,
    pub read_paused: bool,
}

impl MeConn {
    pub fn new(target: Target, backoff_ms: u64) -> MeConn {
        MeConn {
            key: TargetKey::from(&target),
            target,
            link: Link::Backoff,
            stream: None,
            out: OutQueue::default(),
            bound: HashSet::new(),
            over_cap_clients: 0,
            backoff_ms,
            timer: None,
            retiring: false,
            read_paused: false,
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(&self.link, Link::Open(s) if s.is_ready())
    }

    pub fn address(&self) -> SocketAddr {
        let port = u16::try_from(self.target.port).unwrap_or(0);
        let ip = if self.target.family == 6 {
            IpAddr::V6(Ipv6Addr::from(self.target.ipv6))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.target.ipv4))
        };
        SocketAddr::new(ip, port)
    }
}
