//! Start-up steps before the workers run: the two files, the fake-TLS
//! domains, the file limit, the listening sockets, the ports file and the
//! user switch. Each step's error is the line the engine prints.
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, TcpListener};
use std::os::fd::OwnedFd;

use mtproxy_core::runtime::{Domain, EngineConfig, ProxySettings};
use mtproxy_sys::c::{resolver, server_functions};
use nix::sys::socket::{
    bind, getsockname, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag,
    SockType, SockaddrIn, SockaddrIn6, SockaddrLike, SockaddrStorage,
};

/// `-c` default.
const DEFAULT_MAX_CONNECTIONS: u64 = 65_536;
/// Fds kept beyond `-c` for listeners, logs, the stats server.
const SPARE_FDS: u64 = 16;
/// The user a process started as root without `-u` switches to.
const DEFAULT_USER: &str = "mtproxy";
/// Relay port of a `-D NAME` without `:PORT`.
const DEFAULT_RELAY_PORT: u16 = 443;

/// A file's bytes, or an error naming the file and the reason.
pub fn read_file(path: &str, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {what} {path}: {e}"))
}

/// `-D NAME[:PORT]` split into the name and the relay port.
fn split_domain(text: &str) -> Result<(&str, u16), String> {
    match text.rsplit_once(':') {
        Some((name, port)) => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .map(|port| (name, port))
            .ok_or_else(|| format!("bad port in domain {text}")),
        None => Ok((text, DEFAULT_RELAY_PORT)),
    }
}

/// `-D NAME[:PORT]`, the name resolved to the IPv4 address relayed to.
fn parse_domain(text: &str) -> Result<Domain, String> {
    let (name, port) = split_domain(text)?;
    let addr = resolver::resolve_host(name.as_bytes(), resolver::FAMILY_V4)
        .map_err(|_| format!("cannot resolve domain {name} to an IPv4 address"))?;
    Ok(Domain {
        name: name.as_bytes().to_vec(),
        relay_ipv4: addr.ipv4,
        relay_port: port,
    })
}

/// What the proxy gets from the command line and the two files.
pub fn proxy_settings(
    config: &EngineConfig,
    workers: u32,
    proxy_secret: Vec<u8>,
    config_text: Vec<u8>,
) -> Result<ProxySettings, String> {
    let domains = config
        .domains
        .iter()
        .map(|d| parse_domain(d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProxySettings {
        secrets: config.secrets.clone(),
        domains,
        ad_tag: config.ad_tag,
        proxy_secret,
        config: config_text,
        nat_info: config.nat_info.clone(),
        workers,
        max_client_connections: config.max_special_connections,
        window_clamp: config.window_clamp,
        buffer_limit: config.msg_buffers_size,
        seed: config.test_seed,
        rust_only: config.rust_only.clone(),
    })
}

/// Raises RLIMIT_NOFILE to `-c` + 16; a warning (not an error) when the
/// hard limit is lower.
pub fn raise_file_limit(config: &EngineConfig) -> Option<String> {
    let wanted = match config.max_connections {
        0 => DEFAULT_MAX_CONNECTIONS,
        n => u64::from(n),
    } + SPARE_FDS;
    match server_functions::raise_file_limit(wanted) {
        Ok((_, false)) => None,
        Ok((limit, true)) => Some(format!(
            "warning: open file limit is {} (hard {}), below the {wanted} wanted",
            limit.soft, limit.hard
        )),
        Err(code) => Some(format!(
            "warning: cannot read or raise the open file limit (error {code})"
        )),
    }
}

/// The client listening sockets: `listeners[worker]` holds one socket per
/// `-H` port (SO_REUSEPORT, so the kernel spreads clients over workers),
/// and `ports` the ports bound, in `-H` order (port 0 resolved).
pub struct ClientListeners {
    pub listeners: Vec<Vec<OwnedFd>>,
    pub ports: Vec<u16>,
}

fn client_address(config: &EngineConfig, port: u16) -> SockaddrStorage {
    let v4 = Ipv4Addr::from(config.bind_ipv4);
    if config.ipv6 {
        let ip = if config.bind_ipv4 == 0 {
            Ipv6Addr::UNSPECIFIED
        } else {
            v4.to_ipv6_mapped()
        };
        SocketAddrV6::new(ip, port, 0, 0).into()
    } else {
        SocketAddrV4::new(v4, port).into()
    }
}

fn bound_port(fd: &OwnedFd) -> nix::Result<u16> {
    use std::os::fd::AsRawFd;
    let addr: SockaddrStorage = getsockname(fd.as_raw_fd())?;
    addr.as_sockaddr_in()
        .map(SockaddrIn::port)
        .or_else(|| addr.as_sockaddr_in6().map(SockaddrIn6::port))
        .ok_or(nix::errno::Errno::EAFNOSUPPORT)
}

/// One non-blocking listening socket on `addr`.
fn listen_on(config: &EngineConfig, addr: &SockaddrStorage) -> nix::Result<OwnedFd> {
    let family = addr.family().unwrap_or(AddressFamily::Inet);
    let fd = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    setsockopt(&fd, sockopt::ReusePort, &true)?;
    if family == AddressFamily::Inet6 {
        setsockopt(&fd, sockopt::Ipv6V6Only, &false)?;
    }
    use std::os::fd::AsRawFd;
    bind(fd.as_raw_fd(), addr)?;
    let backlog = i32::try_from(config.backlog).unwrap_or(i32::MAX).max(1);
    listen(&fd, Backlog::new(backlog).unwrap_or(Backlog::MAXCONN))?;
    Ok(fd)
}

/// Binds every `-H` port once per worker; `-H 0` lets the kernel pick a
/// port for the first worker and the others share it.
pub fn bind_clients(config: &EngineConfig, workers: u32) -> Result<ClientListeners, String> {
    let mut listeners: Vec<Vec<OwnedFd>> = (0..workers).map(|_| Vec::new()).collect();
    let mut ports = Vec::with_capacity(config.ports.len());
    for &wanted in &config.ports {
        let mut port = wanted;
        for worker in &mut listeners {
            let addr = client_address(config, port);
            let fd = listen_on(config, &addr)
                .map_err(|e| format!("cannot listen on client port {wanted}: {e}"))?;
            if port == 0 {
                port = bound_port(&fd)
                    .map_err(|e| format!("cannot read the bound client port: {e}"))?;
            }
            worker.push(fd);
        }
        ports.push(port);
    }
    Ok(ClientListeners { listeners, ports })
}

/// The stats listener on 127.0.0.1 (non-blocking).
pub fn bind_stats(port: u16) -> Result<TcpListener, String> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .map_err(|e| format!("cannot listen on stats port {port}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot make the stats listener non-blocking: {e}"))?;
    Ok(listener)
}

/// Writes `client <port>` lines then `stats <port>` to a temporary file
/// renamed into place, so readers never see half of it.
pub fn write_ports_file(path: &str, clients: &[u16], stats: Option<u16>) -> Result<(), String> {
    let mut text = String::new();
    for port in clients {
        text.push_str(&format!("client {port}\n"));
    }
    if let Some(port) = stats {
        text.push_str(&format!("stats {port}\n"));
    }
    let tmp = format!("{path}.tmp.{}", std::process::id());
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write ports file {path}: {e}")
        })
}

/// The user the proxy switches to (docs/PROTOCOL.md §8.3): `-u`, else
/// `mtproxy` when started as root, else none. A user that does not exist is
/// refused before anything is bound; one with uid 0 (`-u root`) is allowed
/// with a warning line (returned for the caller to log).
pub fn resolve_user(
    user: Option<&str>,
    root: bool,
) -> Result<(Option<String>, Option<String>), String> {
    let (name, implicit) = match user {
        Some(name) => (name, false),
        None if root => (DEFAULT_USER, true),
        None => return Ok((None, None)),
    };
    match server_functions::lookup_user(name) {
        Ok((uid, _)) => {
            let warning =
                (uid == 0).then(|| format!("warning: -u {name}: the proxy keeps running as root"));
            Ok((Some(name.to_string()), warning))
        }
        Err(_) => Err(format!(
            "can't find the user {name} to switch to{}",
            if implicit {
                " (started as root without -u: create that user or pass -u USER)"
            } else {
                ""
            }
        )),
    }
}

/// Switches to `name` (groups, gid, uid); any failure is fatal. An
/// unprivileged process that already is that user needs no switch.
pub fn change_user(name: &str) -> Result<(), String> {
    use nix::unistd::{getegid, geteuid};
    if let Ok((uid, gid)) = server_functions::lookup_user(name) {
        if !geteuid().is_root() && uid == geteuid().as_raw() && gid == getegid().as_raw() {
            return Ok(());
        }
    }
    server_functions::change_user(name).map_err(|code| {
        if code == server_functions::ERR_NO_USER {
            format!("can't find the user {name} to switch to")
        } else {
            format!(
                "cannot change user to {name}: {}",
                nix::errno::Errno::last().desc()
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Resolution goes through the resolver contract, which only the
    // binary links; the split is tested here, the rest end to end.
    #[test]
    fn domains_split_with_and_without_port() {
        assert_eq!(split_domain("example.com"), Ok(("example.com", 443)));
        assert_eq!(split_domain("a.b:8443"), Ok(("a.b", 8443)));
        assert!(split_domain("a.b:0").is_err());
        assert!(split_domain("a.b:x").is_err());
        assert!(split_domain("a.b:70000").is_err());
    }

    #[test]
    fn port_zero_is_shared_by_all_workers() {
        let config = EngineConfig {
            ports: vec![0, 0],
            backlog: 16,
            bind_ipv4: 0x7f00_0001,
            ..EngineConfig::default()
        };
        let bound = bind_clients(&config, 3).unwrap();
        assert_eq!(bound.listeners.len(), 3);
        assert!(bound.listeners.iter().all(|l| l.len() == 2));
        assert_ne!(bound.ports[0], 0);
        assert_ne!(bound.ports[0], bound.ports[1]);
        for worker in &bound.listeners {
            assert_eq!(bound_port(&worker[0]).unwrap(), bound.ports[0]);
            assert_eq!(bound_port(&worker[1]).unwrap(), bound.ports[1]);
        }
    }

    #[test]
    fn ports_file_is_complete() {
        let path = std::env::temp_dir().join(format!("mtproxy-ports-test-{}", std::process::id()));
        let path = path.to_str().unwrap();
        write_ports_file(path, &[1, 2], Some(3)).unwrap();
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            "client 1\nclient 2\nstats 3\n"
        );
        std::fs::remove_file(path).unwrap();
    }
}
