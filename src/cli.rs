//! The upstream-compatible command line (`mtproto-proxy [options]
//! <proxy-multi.conf>`, docs/PROTOCOL.md §7) parsed into an `EngineConfig`.
//!
//! Every upstream option is accepted. Options that cannot have their upstream
//! effect here are refused with a reason (`-d`) or accepted with a warning
//! saying so; none is dropped without a word.

use mtproxy_core::runtime::{EngineConfig, TELEGRAM_CONFIG_URL, TELEGRAM_SECRET_URL};
use std::net::Ipv4Addr;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    Run(Box<EngineConfig>, Vec<String>),
    Help,
}

pub const USAGE: &str = "usage: mtproxy-rust [options] <proxy-multi.conf>
  -H, --http-ports P1[,P2..]   client ports (0 = kernel-chosen)
  -S, --mtproto-secret HEX32   client secret (repeatable)
  -P, --proxy-tag HEX32        ad tag from @MTProxybot
  -D, --domain NAME[:PORT]     fake-TLS domain (repeatable); relay port default 443
      --aes-pwd FILE           proxy-secret file (default ./secret)
  -p, --port PORT[:END]        local stats port on 127.0.0.1 (/stats, /metrics)
      --http-stats             accepted (stats are served whenever -p is given)
  -M, --slaves N               worker threads (0 or absent = one per CPU)
  -C, --max-special-connections N   client connections per worker
  -c, --connections N          wanted open-file limit (default 65536)
  -W, --window-clamp N         TCP window clamp for clients
  -u, --user NAME              user to run as after binding
  -6, --ipv6                   dual-stack IPv6 client listeners
      --address IPV4           bind address for client listeners
      --nat-info LOCAL:GLOBAL  address translation for the middle-end (repeatable)
  -b, --backlog N              listen backlog (default 8192)
  -v, --verbosity [N]          more log output
  -l, --log FILE               log file (reopened on SIGUSR1)
      --msg-buffers-size N[k|m|g]  buffer memory limit (default 256m)
      --disable-tcp            no stats listener
      --direct                 direct mode: relay clients straight to Telegram's DCs,
                               no middle-ends; proxy-multi.conf and --aes-pwd optional
                               (Rust proxy only; README \"Direct mode\")
      --dc-addr ID=HOST:PORT   DC address for direct connections (repeatable, also for
                               one ID: tried in turn; IPv4 or [IPv6])
      --prefer-ipv6            try a DC's IPv6 addresses first (IPv4 first by default)
      --direct-fallback SECS   send new clients direct when their middle-ends have had
                               no ready connection for SECS (middle-end mode)
      --config-url URL|default fetch proxy-multi.conf from URL (default: Telegram's
                               getProxyConfig) when missing and every refresh interval
      --secret-url URL|default the same for --aes-pwd's file (default: getProxySecret)
      --refresh-interval S     seconds between fetches (default 86400, ±10 %)
      --proxy-protocol CIDR,…  clients come through a load balancer in these address
                               blocks, each connection starting with a PROXY protocol
                               v1/v2 header (repeatable; README, load balancer)
      --users FILE             named users with limits and quotas (TOML; README, Users);
                               reloaded on SIGHUP
      --users-state FILE       where quota usage survives restarts
      --users-state-interval S seconds between state saves (default 60)
      --users-grace S          seconds a removed or disabled user's open connections
                               keep going after a reload (default 30; 0: closed at once)
      --shared-state URL       share replay protection with every instance pointed at
                               this Redis/Valkey (redis://[user:pass@]host[:port][/db];
                               README, Operating a fleet)
      --shared-state-entries N digests the shared stream keeps (default 1048576)
  -h, --help                   this text
  other commands: mtproxy-rust --modules | selftest | doctor [flags] | links --users FILE --server HOST [--server HOST…]
  test options: --ports-file FILE, --test-seed N, --shutdown-grace-ms N";

const MAX_SECRETS: usize = mtproxy_core::runtime::policy::MAX_SECRETS;
const MAX_NAT_RULES: usize = 16;
const MAX_PORTS: usize = 128;

/// Options that take a value: (short, long).
const WITH_VALUE: &[(&str, &str)] = &[
    ("H", "http-ports"),
    ("S", "mtproto-secret"),
    ("P", "proxy-tag"),
    ("D", "domain"),
    ("", "aes-pwd"),
    ("p", "port"),
    ("M", "slaves"),
    ("C", "max-special-connections"),
    ("c", "connections"),
    ("W", "window-clamp"),
    ("T", "ping-interval"),
    ("u", "user"),
    ("", "address"),
    ("", "nat-info"),
    ("b", "backlog"),
    ("l", "log"),
    ("", "nice"),
    ("", "msg-buffers-size"),
    ("", "cpu-threads"),
    ("", "io-threads"),
    ("", "tcp-cpu-threads"),
    ("", "tcp-iothreads"),
    ("", "max-dh-accept-rate"),
    ("", "max-accept-rate"),
    ("", "ports-file"),
    ("", "test-seed"),
    ("", "shutdown-grace-ms"),
    ("", "dc-addr"),
    ("", "direct-fallback"),
    ("", "proxy-protocol"),
    ("", "config-url"),
    ("", "secret-url"),
    ("", "refresh-interval"),
    ("", "users"),
    ("", "users-state"),
    ("", "users-state-interval"),
    ("", "users-grace"),
    ("", "shared-state"),
    ("", "shared-state-entries"),
];

/// Options whose value is optional and only given as `--name=V` or as the
/// next argument when that is a number.
const OPTIONAL_VALUE: &[(&str, &str)] =
    &[("v", "verbosity"), ("d", "daemonize"), ("", "multithread")];

const FLAGS: &[(&str, &str)] = &[
    ("h", "help"),
    ("6", "ipv6"),
    ("", "http-stats"),
    ("", "crc32c"),
    ("", "allow-skip-dh"),
    ("", "force-dh"),
    ("", "disable-tcp"),
    ("", "direct"),
    ("", "prefer-ipv6"),
];

fn find<'a>(
    table: &'a [(&'a str, &'a str)],
    short: Option<&str>,
    long: Option<&str>,
) -> Option<&'a str> {
    table.iter().find_map(|&(s, l)| {
        let hit = match (short, long) {
            (Some(want), _) => !s.is_empty() && s == want,
            (_, Some(want)) => l == want,
            _ => false,
        };
        hit.then_some(l)
    })
}

/// An option by its long name, with its value if it has one.
type Opt = (String, Option<String>);
/// One option letter or long name as written: (short, long).
type Spelled = (Option<String>, Option<String>);

/// Splits the arguments into options and positionals.
fn tokenize(args: &[String]) -> Result<(Vec<Opt>, Vec<String>), String> {
    let mut options = Vec::new();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        let (names, inline): (Vec<Spelled>, Option<String>) = if let Some(rest) =
            arg.strip_prefix("--")
        {
            let (name, value) = match rest.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (rest.to_string(), None),
            };
            (vec![(None, Some(name))], value)
        } else if arg.len() > 1 && arg.starts_with('-') {
            // `-vvv`, `-6v`, `-H443` (value glued to a value option).
            let body = &arg[1..];
            let mut out = Vec::new();
            let mut glued = None;
            for (pos, ch) in body.char_indices() {
                let s = ch.to_string();
                if find(WITH_VALUE, Some(&s), None).is_some() && pos + ch.len_utf8() < body.len() {
                    out.push((Some(s), None));
                    glued = Some(body[pos + ch.len_utf8()..].to_string());
                    break;
                }
                out.push((Some(s), None));
            }
            (out, glued)
        } else {
            positional.push(arg.clone());
            continue;
        };
        let count = names.len();
        for (k, (short, long)) in names.into_iter().enumerate() {
            let last = k + 1 == count;
            let shown = short.as_ref().map_or_else(
                || format!("--{}", long.clone().unwrap_or_default()),
                |s| format!("-{s}"),
            );
            if let Some(name) = find(WITH_VALUE, short.as_deref(), long.as_deref()) {
                let value = match (last, &inline) {
                    (true, Some(v)) => v.clone(),
                    _ => {
                        let Some(v) = args.get(i) else {
                            return Err(format!("option {shown} needs a value"));
                        };
                        i += 1;
                        v.clone()
                    }
                };
                options.push((name.to_string(), Some(value)));
            } else if let Some(name) = find(OPTIONAL_VALUE, short.as_deref(), long.as_deref()) {
                let mut value = if last { inline.clone() } else { None };
                if value.is_none() && name != "verbosity" {
                    if let Some(next) = args.get(i).filter(|n| n.parse::<u32>().is_ok()) {
                        value = Some(next.clone());
                        i += 1;
                    }
                }
                options.push((name.to_string(), value));
            } else if let Some(name) = find(FLAGS, short.as_deref(), long.as_deref()) {
                if last && inline.is_some() {
                    return Err(format!("option {shown} takes no value"));
                }
                options.push((name.to_string(), None));
            } else {
                return Err(format!("unknown option {shown}"));
            }
        }
    }
    Ok((options, positional))
}

/// `-P` with `--direct`: the answer to "why is my ad tag ignored".
pub const AD_TAG_WITH_DIRECT: &str = "an ad tag (-P) only works through Telegram's middle-ends: drop --direct to show the sponsored channel, or drop -P";

/// `--config-url` / `--secret-url`: a URL, or `default` for Telegram's.
fn refresh_url(value: &str, telegram: &str) -> String {
    if value == "default" {
        telegram.to_string()
    } else {
        value.to_string()
    }
}

/// `-P` with `--direct-fallback`: the price of the fallback.
pub const AD_TAG_WITH_FALLBACK: &str = "clients that --direct-fallback sends direct see no sponsored channel: an ad tag (-P) only works through Telegram's middle-ends";

/// `--dc-addr ID=HOST:PORT`: a DC id (negative for media DCs) and an IPv4
/// `a.b.c.d:port` or IPv6 `[addr]:port` address.
fn dc_addr(value: &str) -> Result<(i16, std::net::SocketAddr), String> {
    let (id, addr) = value
        .split_once('=')
        .ok_or_else(|| format!("--dc-addr: expected ID=HOST:PORT, got `{value}`"))?;
    let id: i16 = number("dc-addr", id)?;
    let addr = addr
        .trim()
        .parse()
        .map_err(|_| format!("--dc-addr: `{addr}` is not an IP address with a port"))?;
    Ok((id, addr))
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("--{name}: `{value}` is not a valid number"))
}

fn hex16(name: &str, value: &str) -> Result<[u8; 16], String> {
    let v = value.trim();
    if v.len() != 32 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "--{name}: expected exactly 32 hex digits, got `{value}`"
        ));
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&v[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn ipv4(name: &str, value: &str) -> Result<u32, String> {
    value
        .trim()
        .parse::<Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| format!("--{name}: `{value}` is not an IPv4 address"))
}

fn bytes_with_suffix(value: &str) -> Result<u64, String> {
    let v = value.trim().to_ascii_lowercase();
    let (digits, shift) = match v.chars().last() {
        Some('k') => (&v[..v.len() - 1], 10),
        Some('m') => (&v[..v.len() - 1], 20),
        Some('g') => (&v[..v.len() - 1], 30),
        _ => (&v[..], 0),
    };
    let n: u64 = number("msg-buffers-size", digits)?;
    n.checked_shl(shift)
        .filter(|x| x >> shift == n && *x > 0)
        .ok_or_else(|| format!("--msg-buffers-size: `{value}` is out of range"))
}

/// Parses the arguments after the program name. Warnings for accepted
/// options without effect are returned with the config.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let (options, positional) = tokenize(args)?;
    let mut c = EngineConfig {
        aes_pwd_file: "secret".into(),
        backlog: 8192,
        msg_buffers_size: 256 << 20,
        shutdown_grace_ms: 2000,
        ..EngineConfig::default()
    };
    let mut warnings = Vec::new();
    let mut disable_tcp = false;
    for (name, value) in options {
        let v = value.as_deref().unwrap_or("");
        match name.as_str() {
            "help" => return Ok(Command::Help),
            "http-ports" => {
                for p in v.split(',').filter(|p| !p.trim().is_empty()) {
                    c.ports.push(number(&name, p)?);
                }
            }
            "mtproto-secret" => c.secrets.push(hex16(&name, v)?),
            "proxy-tag" => c.ad_tag = Some(hex16(&name, v)?),
            "domain" => {
                let host = v.rsplit_once(':').map_or(v, |(h, _)| h);
                if let Some((_, port)) = v.rsplit_once(':') {
                    number::<u16>(&name, port)?;
                }
                if host.is_empty()
                    || host.len() > 253
                    || !host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                {
                    return Err(format!("--domain: `{v}` is not a domain name"));
                }
                c.domains.push(v.to_string());
            }
            "aes-pwd" => c.aes_pwd_file = v.to_string(),
            "port" => {
                let first = v.split_once(':').map_or(v, |(a, _)| a);
                c.stats_port = number(&name, first)?;
                c.http_stats = true;
            }
            "http-stats" => {}
            "slaves" => {
                c.workers = number(&name, v)?;
                if c.workers > 256 {
                    return Err("--slaves: at most 256 workers".into());
                }
            }
            "max-special-connections" => c.max_special_connections = number(&name, v)?,
            "connections" => c.max_connections = number(&name, v)?,
            "window-clamp" => c.window_clamp = number(&name, v)?,
            "ping-interval" => {
                number::<f64>(&name, v)?;
            }
            "user" => c.user = Some(v.to_string()),
            "ipv6" => c.ipv6 = true,
            "address" => c.bind_ipv4 = ipv4(&name, v)?,
            "nat-info" => {
                let (local, global) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--nat-info: expected LOCAL:GLOBAL, got `{v}`"))?;
                c.nat_info.push((ipv4(&name, local)?, ipv4(&name, global)?));
            }
            "backlog" => c.backlog = number(&name, v)?,
            "verbosity" => {
                c.verbosity = match value {
                    Some(n) => number(&name, &n)?,
                    None => c.verbosity + 1,
                }
            }
            "log" => c.log_file = Some(v.to_string()),
            "daemonize" => {
                if value.as_deref() != Some("0") {
                    return Err("-d/--daemonize is not supported: run mtproxy-rust in the foreground under a service manager (systemd, docker)".into());
                }
            }
            "nice" => warnings.push(format!(
                "--nice {v} ignored: set the priority with `nice` or the service manager"
            )),
            "msg-buffers-size" => c.msg_buffers_size = bytes_with_suffix(v)?,
            "cpu-threads" | "io-threads" | "tcp-cpu-threads" | "tcp-iothreads" | "multithread" => {
                warnings.push(format!(
                    "--{name} has no effect: each of the -M workers runs its own event loop"
                ));
            }
            // Upstream's RPC knobs: CRC-32C is always requested and DH is
            // never used by the proxy, so these change nothing there either.
            "crc32c" | "allow-skip-dh" | "force-dh" | "max-dh-accept-rate" => {}
            "max-accept-rate" => {
                warnings.push("--max-accept-rate is not supported and has no effect".into())
            }
            "disable-tcp" => disable_tcp = true,
            "ports-file" => c.ports_file = Some(v.to_string()),
            "test-seed" => c.test_seed = number(&name, v)?,
            "shutdown-grace-ms" => c.shutdown_grace_ms = number(&name, v)?,
            "direct" => c.rust_only.direct = true,
            "dc-addr" => c.rust_only.dc_addrs.push(dc_addr(v)?),
            "prefer-ipv6" => c.rust_only.prefer_ipv6 = true,
            "config-url" => {
                c.rust_only.refresh.config_url = Some(refresh_url(v, TELEGRAM_CONFIG_URL))
            }
            "secret-url" => {
                c.rust_only.refresh.secret_url = Some(refresh_url(v, TELEGRAM_SECRET_URL))
            }
            "refresh-interval" => {
                c.rust_only.refresh.interval_secs = number(&name, v)?;
                if c.rust_only.refresh.interval_secs == 0 {
                    return Err("--refresh-interval: at least 1 second".into());
                }
            }
            "proxy-protocol" => {
                for block in v.split(',') {
                    let block = block
                        .trim()
                        .parse()
                        .map_err(|e| format!("--proxy-protocol: {e}"))?;
                    c.rust_only.proxy_protocol.push(block);
                }
            }
            "direct-fallback" => {
                c.rust_only.direct_fallback_secs = number(&name, v)?;
                if c.rust_only.direct_fallback_secs == 0 {
                    return Err("--direct-fallback: at least 1 second".into());
                }
            }
            "users" => c.rust_only.users.file = Some(v.to_string()),
            "users-state" => c.rust_only.users.state_file = Some(v.to_string()),
            "users-grace" => c.rust_only.users.grace_secs = number(&name, v)?,
            "users-state-interval" => {
                c.rust_only.users.state_interval_secs = number(&name, v)?;
                if c.rust_only.users.state_interval_secs == 0 {
                    return Err("--users-state-interval: at least 1 second".into());
                }
            }
            "shared-state" => {
                if v.trim().is_empty() {
                    return Err("--shared-state: a redis:// URL".into());
                }
                c.rust_only.shared_state.url = Some(v.trim().to_string());
            }
            "shared-state-entries" => {
                c.rust_only.shared_state.entries = number(&name, v)?;
                if c.rust_only.shared_state.entries < 1000 {
                    return Err("--shared-state-entries: at least 1000".into());
                }
            }
            other => return Err(format!("option --{other} is not handled")),
        }
    }
    if disable_tcp {
        c.http_stats = false;
    }
    let shared = &c.rust_only.shared_state;
    if shared.url.is_none() && shared.entries != mtproxy_core::runtime::SHARED_STATE_ENTRIES {
        return Err("--shared-state-entries only applies with --shared-state URL".into());
    }
    if c.rust_only.direct && c.ad_tag.is_some() {
        return Err(AD_TAG_WITH_DIRECT.into());
    }
    if c.rust_only.direct && c.rust_only.direct_fallback_secs > 0 {
        return Err(
            "--direct-fallback is for middle-end mode: --direct already sends every client direct"
                .into(),
        );
    }
    if c.rust_only.direct_fallback_secs > 0 && c.ad_tag.is_some() {
        warnings.push(AD_TAG_WITH_FALLBACK.into());
    }
    if c.rust_only.users.file.is_none() && c.rust_only.users.state_file.is_some() {
        return Err("--users-state needs --users".into());
    }
    match positional.as_slice() {
        [file] => c.config_file = file.clone(),
        // Direct mode never reads the config: the file is optional.
        [] if c.rust_only.direct => {}
        [] => return Err("missing the proxy-multi.conf argument".into()),
        more => {
            return Err(format!(
                "expected one config file, got {} arguments: {}",
                more.len(),
                more.join(" ")
            ))
        }
    }
    if c.ports.is_empty() {
        return Err("no client port: give -H PORT".into());
    }
    if c.ports.len() > MAX_PORTS {
        return Err(format!("at most {MAX_PORTS} -H ports"));
    }
    if c.secrets.len() > MAX_SECRETS {
        return Err(format!("at most {MAX_SECRETS} -S secrets"));
    }
    if c.nat_info.len() > MAX_NAT_RULES {
        return Err(format!("at most {MAX_NAT_RULES} --nat-info rules"));
    }
    Ok(Command::Run(Box::new(c), warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn run(s: &str) -> EngineConfig {
        match parse(&args(s)).unwrap() {
            Command::Run(c, _) => *c,
            Command::Help => panic!("help"),
        }
    }

    #[test]
    fn upstream_example_line() {
        let c = run("-u nobody -p 8888 -H 443 -S 0123456789abcdef0123456789ABCDEF --aes-pwd proxy-secret proxy-multi.conf -M 1");
        assert_eq!(c.user.as_deref(), Some("nobody"));
        assert_eq!((c.http_stats, c.stats_port), (true, 8888));
        assert_eq!(c.ports, vec![443]);
        assert_eq!(c.secrets[0][0], 0x01);
        assert_eq!(c.secrets[0][15], 0xef);
        assert_eq!(c.aes_pwd_file, "proxy-secret");
        assert_eq!(c.config_file, "proxy-multi.conf");
        assert_eq!(c.workers, 1);
    }

    #[test]
    fn long_forms_glued_values_and_repeats() {
        let c = run("--http-ports=80,443 -H8443 -vvv --verbosity=5 -D a.example -D b.example:8443 --nat-info 10.0.0.1:1.2.3.4 --msg-buffers-size 1m x.conf");
        assert_eq!(c.ports, vec![80, 443, 8443]);
        assert_eq!(c.verbosity, 5);
        assert_eq!(c.domains, vec!["a.example", "b.example:8443"]);
        assert_eq!(c.nat_info, vec![(0x0a00_0001, 0x0102_0304)]);
        assert_eq!(c.msg_buffers_size, 1 << 20);
    }

    #[test]
    fn bad_inputs_are_refused_with_a_reason() {
        for (line, needle) in [
            ("-H 443 -S 1234 x.conf", "32 hex"),
            ("-H 443 x.conf y.conf", "one config file"),
            ("-H 443", "missing"),
            ("x.conf", "-H"),
            ("-H 443 --bogus x.conf", "unknown option --bogus"),
            ("-H 443 -d x.conf", "daemonize"),
            ("-H 443 --address 1.2.3 x.conf", "IPv4"),
            ("-H 99999 x.conf", "number"),
            ("-H 443 -M 300 x.conf", "256"),
            ("-H 443 -D bad/name x.conf", "domain"),
            ("-H 443 -S", "needs a value"),
        ] {
            let err = parse(&args(line)).unwrap_err();
            assert!(err.contains(needle), "{line}: {err}");
        }
    }

    #[test]
    fn knobs_without_effect_warn() {
        let Command::Run(_, warnings) =
            parse(&args("-H 1 --cpu-threads 4 --nice 5 --crc32c x.conf")).unwrap()
        else {
            panic!()
        };
        assert_eq!(warnings.len(), 2);
    }

    #[test]
    fn users_options() {
        let c = run(
            "-H 1 --users u.toml --users-state s --users-state-interval 5 --users-grace 0 x.conf",
        );
        let u = &c.rust_only.users;
        assert_eq!(u.grace_secs, 0);
        assert_eq!(run("-H 1 x.conf").rust_only.users.grace_secs, 30);
        assert_eq!(u.file.as_deref(), Some("u.toml"));
        assert_eq!(u.state_file.as_deref(), Some("s"));
        assert_eq!(u.state_interval_secs, 5);
        assert_eq!(run("-H 1 x.conf").rust_only.users.state_interval_secs, 60);
        for (line, needle) in [
            ("-H 1 --users-state s x.conf", "needs --users"),
            (
                "-H 1 --users u --users-state-interval 0 x.conf",
                "at least 1",
            ),
        ] {
            let e = parse(&args(line)).unwrap_err();
            assert!(e.contains(needle), "{line}: {e}");
        }
    }

    #[test]
    fn direct_mode_options() {
        let c = run("-H 1 --direct --dc-addr 2=127.0.0.1:7000 --dc-addr=-2=[::1]:7001");
        assert!(c.rust_only.direct);
        assert_eq!(c.config_file, "");
        assert_eq!(
            c.rust_only.dc_addrs,
            vec![
                (2, "127.0.0.1:7000".parse().unwrap()),
                (-2, "[::1]:7001".parse().unwrap())
            ]
        );
        let c = run("-H 1 --direct x.conf");
        assert_eq!(c.config_file, "x.conf");
        for (line, needle) in [
            (
                "-H 1 --direct -P 0123456789abcdef0123456789abcdef",
                "drop --direct",
            ),
            ("-H 1 --direct --dc-addr 2 x", "ID=HOST:PORT"),
            ("-H 1 --direct --dc-addr 2=localhost:1 x", "IP address"),
            ("-H 1 --direct --dc-addr 40000=1.2.3.4:1 x", "number"),
            ("-H 1 --direct --direct-fallback 5 x", "middle-end mode"),
            ("-H 1 --direct-fallback 0 x", "at least 1"),
            ("-H 1 --direct-fallback soon x", "number"),
        ] {
            let err = parse(&args(line)).unwrap_err();
            assert!(err.contains(needle), "{line}: {err}");
        }
    }

    #[test]
    fn fallback_and_address_family_options() {
        let c = run("-H 1 --direct-fallback 30 --prefer-ipv6 --dc-addr 2=[::1]:1 x.conf");
        assert_eq!(c.rust_only.direct_fallback_secs, 30);
        assert!(c.rust_only.prefer_ipv6 && !c.rust_only.direct);
        let line = "-H 1 --direct-fallback 30 -P 0123456789abcdef0123456789abcdef x.conf";
        match parse(&args(line)).unwrap() {
            Command::Run(_, warnings) => assert_eq!(warnings, vec![AD_TAG_WITH_FALLBACK]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn proxy_protocol_blocks() {
        let c = run("-H 1 --proxy-protocol 10.0.0.0/8,::1 --proxy-protocol=192.0.2.7 x.conf");
        let blocks: Vec<_> = ["10.0.0.0/8", "::1", "192.0.2.7"]
            .iter()
            .map(|b| b.parse().unwrap())
            .collect();
        assert_eq!(c.rust_only.proxy_protocol, blocks);
        for line in [
            "-H 1 --proxy-protocol 10.0.0.0/40 x",
            "-H 1 --proxy-protocol lb x",
        ] {
            let e = parse(&args(line)).unwrap_err();
            assert!(e.contains("--proxy-protocol: `"), "{line}: {e}");
        }
    }

    #[test]
    fn refresh_urls() {
        let c =
            run("-H 1 --config-url default --secret-url http://127.0.0.1:9/s --aes-pwd s x.conf");
        let r = &c.rust_only.refresh;
        assert_eq!(r.config_url.as_deref(), Some(TELEGRAM_CONFIG_URL));
        assert_eq!(r.secret_url.as_deref(), Some("http://127.0.0.1:9/s"));
        assert_eq!(
            r.interval_secs,
            mtproxy_core::runtime::REFRESH_INTERVAL_SECS
        );
        let c = run("-H 1 --config-url default --refresh-interval 60 x.conf");
        assert_eq!(c.rust_only.refresh.interval_secs, 60);
        let e = parse(&args("-H 1 --refresh-interval 0 x.conf")).unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
    }

    #[test]
    fn shared_state_options() {
        let c =
            run("-H 1 --shared-state redis://10.0.0.2:6379/3 --shared-state-entries 5000 x.conf");
        let shared = &c.rust_only.shared_state;
        assert_eq!(shared.url.as_deref(), Some("redis://10.0.0.2:6379/3"));
        assert_eq!(shared.entries, 5000);
        for (line, needle) in [
            (
                "-H 1 --shared-state-entries 5000 x.conf",
                "only applies with --shared-state",
            ),
            (
                "-H 1 --shared-state redis://h --shared-state-entries 10 x",
                "at least 1000",
            ),
            ("-H 1 --shared-state= x.conf", "a redis:// URL"),
        ] {
            let e = parse(&args(line)).unwrap_err();
            assert!(e.contains(needle), "{line}: {e}");
        }
    }

    #[test]
    fn help_wins() {
        assert_eq!(parse(&args("-h")).unwrap(), Command::Help);
    }
}
