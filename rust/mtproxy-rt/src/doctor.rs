//! `mtproxy-rust doctor [the proxy's flags] [--time-url URL]` (Rust-only;
//! README "Running as a service"): checks what makes a deployed proxy fail
//! or stand out, one line each, `ok`, `warn` or `fail` with what to do:
//! not running as root, the open-file limit, the clock against an HTTP
//! Date header (middle-ends refuse handshakes 30 s off; fake-TLS clients
//! are checked against the clock too), reachability of the middle-ends (or
//! the DCs in direct mode), each `-D` domain (TLS 1.3 with X25519, a
//! certificate the webpki roots trust) and whether the domain's DNS points
//! at this host.

use mtproxy_core::mtproto::mtproto_config::ProxyConfig;
use mtproxy_core::runtime::EngineConfig;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long one connect or request may take.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Clock offsets: within this, ok; within [`CLOCK_FAIL_SECS`], warn.
const CLOCK_OK_SECS: f64 = 2.0;
/// A middle-end refuses a nonce timestamp more than 30 s off.
const CLOCK_FAIL_SECS: f64 = 30.0;
/// Fewer open files than this: warn.
const NOFILE_MIN: u64 = 65_536;
/// Where the clock is compared by default.
pub const DEFAULT_TIME_URL: &str = "https://core.telegram.org/";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

/// One check's line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub verdict: Verdict,
    pub text: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = match self.verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        };
        write!(f, "{word} {:<11} {}", self.check, self.text)
    }
}

fn finding(check: &'static str, verdict: Verdict, text: String) -> Finding {
    Finding {
        check,
        verdict,
        text,
    }
}

/// Every check for a proxy started with `config`.
pub fn run(config: &EngineConfig, time_url: &str) -> Vec<Finding> {
    let mut out = vec![user(), open_files(), clock(time_url)];
    out.extend(upstream(config));
    for domain in &config.domains {
        out.extend(fronting_domain(domain));
    }
    out
}

fn user() -> Finding {
    if nix::unistd::geteuid().is_root() {
        finding(
            "user",
            Verdict::Warn,
            "running as root: run as an unprivileged user (-u USER, or deploy/mtproxy.service)"
                .into(),
        )
    } else {
        finding("user", Verdict::Ok, "not root".into())
    }
}

fn open_files() -> Finding {
    use nix::sys::resource::{getrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft.max(hard) >= NOFILE_MIN => finding(
            "open-files",
            Verdict::Ok,
            format!("limit {soft} (hard {hard}); the proxy raises it to the hard limit"),
        ),
        Ok((soft, hard)) => finding(
            "open-files",
            Verdict::Warn,
            format!(
                "limit {soft} (hard {hard}): each client takes a descriptor; raise it \
                 (LimitNOFILE= in the unit, ulimit -n) to {NOFILE_MIN} or more"
            ),
        ),
        Err(e) => finding("open-files", Verdict::Warn, format!("cannot read: {e}")),
    }
}

/// The Date header of `url` against this clock.
fn clock(url: &str) -> Finding {
    match clock_offset(url) {
        Ok(offset) => {
            let off = offset.abs();
            let text = format!("{offset:+.1} s against {url}");
            let verdict = if off <= CLOCK_OK_SECS {
                Verdict::Ok
            } else if off <= CLOCK_FAIL_SECS {
                Verdict::Warn
            } else {
                Verdict::Fail
            };
            let advice = match verdict {
                Verdict::Ok => "",
                _ => {
                    ": synchronise the clock (chrony, systemd-timesyncd); middle-ends refuse \
                      handshakes 30 s off"
                }
            };
            finding("clock", verdict, format!("{text}{advice}"))
        }
        Err(reason) => finding(
            "clock",
            Verdict::Warn,
            format!("cannot compare with {url}: {reason}"),
        ),
    }
}

/// Seconds this clock is ahead (+) of the server's Date header.
fn clock_offset(url: &str) -> Result<f64, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let before = SystemTime::now();
    let answer = agent.get(url).call().map_err(|e| e.to_string())?;
    let after = SystemTime::now();
    let date = answer
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .ok_or("no Date header")?;
    let server = parse_http_date(date).ok_or_else(|| format!("bad Date header `{date}`"))?;
    // The server's second is somewhere in the request: compare its middle.
    let middle = before + after.duration_since(before).unwrap_or_default() / 2;
    let ours = unix_secs(middle);
    Ok(ours - server as f64 - 0.5)
}

fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's preferred form) as unix
/// seconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let (day, year): (u32, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    let days = mtproxy_core::users::schedule::days_from_civil(year, month, day);
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

fn connects(addr: SocketAddr) -> Result<(), String> {
    TcpStream::connect_timeout(&addr, TIMEOUT)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The middle-ends of the config file, or the DCs in direct mode.
fn upstream(config: &EngineConfig) -> Vec<Finding> {
    let direct = config.rust_only.direct;
    let (check, targets): (&'static str, Vec<SocketAddr>) = if direct {
        let o = &config.rust_only;
        let dcs = (1..=5).flat_map(|dc| crate::proxy::dc_addresses(dc, &o.dc_addrs, o.prefer_ipv6));
        ("dcs", dcs.collect())
    } else {
        let text = match std::fs::read(&config.config_file) {
            Ok(text) => text,
            Err(e) => {
                return vec![finding(
                    "middle-ends",
                    Verdict::Fail,
                    format!("{}: {e}", config.config_file),
                )]
            }
        };
        let parsed = match ProxyConfig::parse(&text, 0) {
            Ok(parsed) => parsed,
            Err(e) => {
                return vec![finding(
                    "middle-ends",
                    Verdict::Fail,
                    format!(
                        "{}: config error {} at line {}",
                        config.config_file, e.code, e.line
                    ),
                )]
            }
        };
        let targets = (0..parsed.target_count())
            .filter_map(|t| parsed.target(t))
            .map(|t| {
                let port = u16::try_from(t.port).unwrap_or(0);
                match t.family {
                    6 => SocketAddr::from((std::net::Ipv6Addr::from(t.ipv6), port)),
                    _ => SocketAddr::from((std::net::Ipv4Addr::from(t.ipv4), port)),
                }
            })
            .collect();
        ("middle-ends", targets)
    };
    let failed: Vec<String> = targets
        .iter()
        .filter_map(|&a| connects(a).err().map(|e| format!("{a} ({e})")))
        .collect();
    let verdict = match failed.len() {
        0 if !targets.is_empty() => Verdict::Ok,
        n if n < targets.len() => Verdict::Warn,
        _ => Verdict::Fail,
    };
    let mut text = format!(
        "{} of {} reachable",
        targets.len() - failed.len(),
        targets.len()
    );
    if !failed.is_empty() {
        text.push_str(&format!(
            "; not: {} (check the firewall and routes)",
            failed.join(", ")
        ));
    }
    vec![finding(check, verdict, text)]
}

/// `NAME` or `NAME:PORT` of `-D`.
fn split_domain(domain: &str) -> (String, u16) {
    match domain.rsplit_once(':') {
        Some((name, port)) if port.parse::<u16>().is_ok() => {
            (name.to_string(), port.parse().unwrap_or(443))
        }
        _ => (domain.to_string(), 443),
    }
}

fn fronting_domain(domain: &str) -> Vec<Finding> {
    let (name, port) = split_domain(domain);
    let addrs: Vec<SocketAddr> = match (name.as_str(), port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            return vec![finding(
                "domain",
                Verdict::Fail,
                format!("{name}: does not resolve ({e})"),
            )]
        }
    };
    vec![tls_check(&name, &addrs), dns_check(&name, &addrs)]
}

/// A TLS 1.3 handshake offering only X25519, with certificate checks, then
/// (if the certificate was the problem) without them.
fn tls_check(name: &str, addrs: &[SocketAddr]) -> Finding {
    let Some(&addr) = addrs.first() else {
        return finding("domain", Verdict::Fail, format!("{name}: no address"));
    };
    match handshake(name, addr, true) {
        Ok(()) => finding(
            "domain",
            Verdict::Ok,
            format!("{name} ({addr}): TLS 1.3 with X25519, trusted certificate"),
        ),
        Err(reason) if handshake(name, addr, false).is_ok() => finding(
            "domain",
            Verdict::Warn,
            format!(
                "{name} ({addr}): TLS 1.3 with X25519, but the certificate is not trusted \
                 ({reason}): a probe that checks it sees a self-made site"
            ),
        ),
        Err(reason) => finding(
            "domain",
            Verdict::Fail,
            format!(
                "{name} ({addr}): no TLS 1.3 handshake with X25519 ({reason}): pick a domain \
                 that serves TLS 1.3"
            ),
        ),
    }
}

fn handshake(name: &str, addr: SocketAddr, verify: bool) -> Result<(), String> {
    use rustls::crypto::ring as provider;
    let mut crypto = provider::default_provider();
    crypto.kx_groups = vec![provider::kx_group::X25519];
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(crypto))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?;
    let config = if verify {
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate))
            .with_no_client_auth()
    };
    let server =
        rustls::pki_types::ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), server).map_err(|e| e.to_string())?;
    let mut sock = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Accepts any certificate: only to tell "no TLS 1.3" from "untrusted
/// certificate" after a verified handshake failed.
#[derive(Debug)]
struct AnyCertificate;

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Whether `ip` is one of this host's addresses (a socket can bind it).
fn is_local(ip: IpAddr) -> bool {
    UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// A censor may compare the SNI's DNS answer with the address the client
/// connected to.
fn dns_check(name: &str, addrs: &[SocketAddr]) -> Finding {
    let listed: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    if addrs.iter().any(|a| is_local(a.ip())) {
        finding(
            "domain-dns",
            Verdict::Ok,
            format!("{name} resolves to this host ({})", listed.join(", ")),
        )
    } else {
        finding(
            "domain-dns",
            Verdict::Warn,
            format!(
                "{name} resolves to {}, not to this host: a censor comparing the SNI's DNS \
                 with the server's address can tell; a domain of your own pointing here cannot \
                 be told apart",
                listed.join(", ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(1_835_481_599)
        );
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn domains_with_and_without_ports() {
        assert_eq!(split_domain("example.com"), ("example.com".into(), 443));
        assert_eq!(
            split_domain("example.com:8443"),
            ("example.com".into(), 8443)
        );
    }

    #[test]
    fn loopback_is_this_host() {
        assert!(is_local("127.0.0.1".parse().unwrap()));
        assert!(!is_local("192.0.2.1".parse().unwrap()));
    }
}
