//! `proxy-multi.conf`: the middle-end list, parsed into a cluster table
//! (docs/PROTOCOL.md §5.1, routing in §4.10).
//!
//! Statements, each ended by `;` (tokens from [`crate::common::parse_config`]):
//! - `proxy_for DC HOST:PORT` adds a target to cluster `DC` (−32768..32767);
//!   the lines of one cluster must be consecutive;
//! - `proxy HOST:PORT` is `proxy_for 0 HOST:PORT`;
//! - `default DC` names the fallback cluster (0 when absent);
//! - `min_connections N` (1..current max) and `max_connections N` (current
//!   min..1000) apply to the targets listed after them (defaults 4 and 8);
//! - `timeout N` (10..30000) is checked and ignored.
//!
//! `HOST` is a name or dotted IPv4 of at most 63 bytes (resolved to IPv4), or
//! a bracketed IPv6 literal. At most 1024 clusters and 4096 proxy lines; at
//! least one proxy line. An `ip:port` listed more than once (in one or several
//! clusters) is one target, which keeps the connection limits of its first
//! line; a cluster lists it once per line.
//!
//! Differences from upstream, on purpose: keywords are whole words (upstream
//! matches them as prefixes, so `proxy_for2 ...` or `defaultx 1;` were read
//! as keywords there; here they are syntax errors), and whitespace includes
//! newlines between any two tokens.
//!
//! Errors carry a code and a line: the line of the offending token, or of the
//! statement's keyword for the checks made once a statement is complete
//! (intermixed, too many clusters or targets); line 0 for an oversized file.
use crate::common::parse_config::{self, CfgError, CfgLexer, CfgToken, CfgTokenKind};
use crate::common::resolver::{self, ResolvedAddr};

/// Error codes (negative), shared with the C contract.
pub const ERR_SYNTAX: i32 = -1;
pub const ERR_DC_RANGE: i32 = -2;
pub const ERR_PORT_RANGE: i32 = -3;
pub const ERR_HOST: i32 = -4;
pub const ERR_RESOLVE: i32 = -5;
pub const ERR_INTERMIXED: i32 = -6;
pub const ERR_TOO_MANY_CLUSTERS: i32 = -7;
pub const ERR_TOO_MANY_TARGETS: i32 = -8;
pub const ERR_MIN_CONNECTIONS: i32 = -9;
pub const ERR_MAX_CONNECTIONS: i32 = -10;
pub const ERR_TIMEOUT: i32 = -11;
pub const ERR_NO_PROXIES: i32 = -12;
pub const ERR_TOO_BIG: i32 = -13;

/// Parse option: host names other than IPv4 literals fail with
/// [`ERR_RESOLVE`] instead of being looked up (no DNS, no /etc/hosts).
pub const OPTION_LITERAL_HOSTS: u32 = 1;

pub const MAX_CLUSTERS: usize = 1024;
/// Proxy lines (a bound on the distinct targets too).
pub const MAX_PROXY_LINES: usize = 4096;
pub const MAX_HOST_LEN: usize = 63;
pub const DEFAULT_MIN_CONNECTIONS: i32 = 4;
pub const DEFAULT_MAX_CONNECTIONS: i32 = 8;
const MAX_CONNECTIONS_LIMIT: i64 = 1000;
const DC_MIN: i64 = -32768;
const DC_MAX: i64 = 32767;

/// A parse error: one of `ERR_*` and the line it was found on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub code: i32,
    pub line: i32,
}

/// A target: `family` 4 (`ipv4` host-order, 127.0.0.1 = 0x7f000001) or 6
/// (`ipv6` network order), the port and the connection limits of its first
/// line.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub family: i32,
    pub ipv4: u32,
    pub ipv6: [u8; 16],
    pub port: i32,
    pub min_connections: i32,
    pub max_connections: i32,
}

/// A cluster: its DC id and number of proxy lines.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClusterInfo {
    pub id: i32,
    pub target_count: usize,
}

/// A cluster's lines are consecutive, so its references are one run of
/// `refs`.
#[derive(Clone, Copy, Debug)]
struct Cluster {
    id: i32,
    first_ref: usize,
    ref_count: usize,
}

/// The parsed configuration.
#[derive(Clone, Debug, Default)]
pub struct ProxyConfig {
    clusters: Vec<Cluster>,
    /// Target index of every proxy line, in file order.
    refs: Vec<usize>,
    targets: Vec<Target>,
    default_cluster_id: i32,
}

impl ProxyConfig {
    /// Parses a config; `options` is 0 or [`OPTION_LITERAL_HOSTS`] (other
    /// bits are ignored by the core; the C contract refuses them).
    pub fn parse(text: &[u8], options: u32) -> Result<ProxyConfig, ConfigError> {
        let lexer = CfgLexer::new(text).map_err(|_| ConfigError {
            code: ERR_TOO_BIG,
            line: 0,
        })?;
        let mut parser = Parser {
            text,
            lexer,
            literal_hosts: options & OPTION_LITERAL_HOSTS != 0,
            min_connections: DEFAULT_MIN_CONNECTIONS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            config: ProxyConfig {
                clusters: Vec::new(),
                refs: Vec::new(),
                targets: Vec::new(),
                default_cluster_id: 0,
            },
        };
        parser.run()?;
        Ok(parser.config)
    }

    pub fn cluster_count(&self) -> usize {
        self.clusters.len()
    }

    /// Clusters in order of their first line.
    pub fn cluster(&self, index: usize) -> Option<ClusterInfo> {
        self.clusters.get(index).map(|c| ClusterInfo {
            id: c.id,
            target_count: c.ref_count,
        })
    }

    /// The target index of a cluster's `line`-th proxy line.
    pub fn cluster_target(&self, cluster: usize, line: usize) -> Option<usize> {
        let c = self.clusters.get(cluster)?;
        if line >= c.ref_count {
            return None;
        }
        self.refs.get(c.first_ref + line).copied()
    }

    /// Distinct targets, in order of first appearance.
    pub fn target_count(&self) -> usize {
        self.targets.len()
    }

    pub fn target(&self, index: usize) -> Option<Target> {
        self.targets.get(index).copied()
    }

    pub fn default_cluster_id(&self) -> i32 {
        self.default_cluster_id
    }

    /// The cluster for a DC id from a client's header (§4.10): the cluster
    /// with that id, else the default cluster, else none.
    pub fn lookup(&self, dc: i32) -> Option<usize> {
        let find = |id| self.clusters.iter().position(|c| c.id == id);
        find(dc).or_else(|| find(self.default_cluster_id))
    }
}

struct Parser<'a> {
    text: &'a [u8],
    lexer: CfgLexer<'a>,
    literal_hosts: bool,
    min_connections: i32,
    max_connections: i32,
    config: ProxyConfig,
}

fn fail<T>(code: i32, line: i32) -> Result<T, ConfigError> {
    Err(ConfigError { code, line })
}

impl<'a> Parser<'a> {
    fn bytes(&self, token: &CfgToken) -> &'a [u8] {
        let text: &'a [u8] = self.text;
        text.get(token.start..token.start + token.len)
            .unwrap_or_default()
    }

    fn run(&mut self) -> Result<(), ConfigError> {
        loop {
            let token = self.lexer.next_token();
            match token.kind {
                CfgTokenKind::End if self.config.refs.is_empty() => {
                    return fail(ERR_NO_PROXIES, token.line)
                }
                CfgTokenKind::End => return Ok(()),
                CfgTokenKind::Word => self.statement(&token)?,
                _ => return fail(ERR_SYNTAX, token.line),
            }
        }
    }

    fn statement(&mut self, keyword: &CfgToken) -> Result<(), ConfigError> {
        match self.bytes(keyword) {
            b"proxy_for" => {
                let dc = self.number(DC_MIN, DC_MAX, ERR_DC_RANGE)?;
                let (addr, port) = self.host_port()?;
                self.semicolon()?;
                self.add_target(keyword.line, dc as i32, addr, port)
            }
            b"proxy" => {
                let (addr, port) = self.host_port()?;
                self.semicolon()?;
                self.add_target(keyword.line, 0, addr, port)
            }
            b"default" => {
                let dc = self.number(DC_MIN, DC_MAX, ERR_DC_RANGE)?;
                self.semicolon()?;
                self.config.default_cluster_id = dc as i32;
                Ok(())
            }
            b"min_connections" => {
                let max = i64::from(self.max_connections);
                let n = self.number(1, max, ERR_MIN_CONNECTIONS)?;
                self.semicolon()?;
                self.min_connections = n as i32;
                Ok(())
            }
            b"max_connections" => {
                let min = i64::from(self.min_connections);
                let n = self.number(min, MAX_CONNECTIONS_LIMIT, ERR_MAX_CONNECTIONS)?;
                self.semicolon()?;
                self.max_connections = n as i32;
                Ok(())
            }
            b"timeout" => {
                self.number(10, 30000, ERR_TIMEOUT)?;
                self.semicolon()
            }
            _ => fail(ERR_SYNTAX, keyword.line),
        }
    }

    /// The next token, which must be a word.
    fn word(&mut self) -> Result<(CfgToken, &'a [u8]), ConfigError> {
        let token = self.lexer.next_token();
        if token.kind != CfgTokenKind::Word {
            return fail(ERR_SYNTAX, token.line);
        }
        Ok((token, self.bytes(&token)))
    }

    /// A word that is an integer in `min..=max` (`range_error` otherwise).
    fn number(&mut self, min: i64, max: i64, range_error: i32) -> Result<i64, ConfigError> {
        let (token, text) = self.word()?;
        parse_config::parse_int(text, min, max).or_else(|e| {
            let code = if e == CfgError::RANGE {
                range_error
            } else {
                ERR_SYNTAX
            };
            fail(code, token.line)
        })
    }

    /// The punctuation byte `which`.
    fn punct(&mut self, which: u8) -> Result<(), ConfigError> {
        let token = self.lexer.next_token();
        if token.kind == CfgTokenKind::Punct && self.bytes(&token) == [which] {
            Ok(())
        } else {
            fail(ERR_SYNTAX, token.line)
        }
    }

    fn semicolon(&mut self) -> Result<(), ConfigError> {
        self.punct(b';')
    }

    fn host_port(&mut self) -> Result<(ResolvedAddr, i32), ConfigError> {
        let token = self.lexer.next_token();
        let host = self.bytes(&token);
        let addr = match token.kind {
            CfgTokenKind::Word if host.len() > MAX_HOST_LEN => fail(ERR_HOST, token.line),
            CfgTokenKind::Word => self.resolve(host).map_err(|code| ConfigError {
                code,
                line: token.line,
            }),
            CfgTokenKind::Bracketed => match resolver::parse_ipv6(host) {
                Ok(ipv6) => Ok(ResolvedAddr {
                    family: resolver::FAMILY_V6,
                    ipv4: 0,
                    ipv6,
                }),
                Err(_) => fail(ERR_HOST, token.line),
            },
            _ => fail(ERR_SYNTAX, token.line),
        }?;
        self.punct(b':')?;
        let port = self.number(1, 65535, ERR_PORT_RANGE)?;
        Ok((addr, port as i32))
    }

    /// An IPv4 address for a host word.
    fn resolve(&self, host: &[u8]) -> Result<ResolvedAddr, i32> {
        if self.literal_hosts {
            return resolver::parse_ipv4(host)
                .map(|ipv4| ResolvedAddr {
                    family: resolver::FAMILY_V4,
                    ipv4,
                    ipv6: [0; 16],
                })
                .map_err(|_| ERR_RESOLVE);
        }
        resolver::resolve_host(host, resolver::FAMILY_V4).map_err(|e| {
            if e == resolver::ERR_BAD_NAME {
                ERR_HOST
            } else {
                ERR_RESOLVE
            }
        })
    }

    fn add_target(
        &mut self,
        line: i32,
        dc: i32,
        addr: ResolvedAddr,
        port: i32,
    ) -> Result<(), ConfigError> {
        let config = &mut self.config;
        let last = config.clusters.last().map(|c| c.id);
        if last != Some(dc) {
            if config.clusters.iter().any(|c| c.id == dc) {
                return fail(ERR_INTERMIXED, line);
            }
            if config.clusters.len() >= MAX_CLUSTERS {
                return fail(ERR_TOO_MANY_CLUSTERS, line);
            }
        }
        if config.refs.len() >= MAX_PROXY_LINES {
            return fail(ERR_TOO_MANY_TARGETS, line);
        }
        if last != Some(dc) {
            config.clusters.push(Cluster {
                id: dc,
                first_ref: config.refs.len(),
                ref_count: 0,
            });
        }
        let same = |t: &Target| {
            t.family == addr.family && t.ipv4 == addr.ipv4 && t.ipv6 == addr.ipv6 && t.port == port
        };
        let index = match config.targets.iter().position(same) {
            Some(found) => found,
            None => {
                config.targets.push(Target {
                    family: addr.family,
                    ipv4: addr.ipv4,
                    ipv6: addr.ipv6,
                    port,
                    min_connections: self.min_connections,
                    max_connections: self.max_connections,
                });
                config.targets.len() - 1
            }
        };
        config.refs.push(index);
        if let Some(cluster) = config.clusters.last_mut() {
            cluster.ref_count += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProxyConfig, ConfigError> {
        ProxyConfig::parse(text.as_bytes(), OPTION_LITERAL_HOSTS)
    }

    fn err(code: i32, line: i32) -> Result<(), ConfigError> {
        Err(ConfigError { code, line })
    }

    #[test]
    fn official_style_file() {
        let text = "# force_probability 10 10\ndefault 2;\n\
            proxy_for 1 149.154.175.50:8888;\nproxy_for -1 149.154.175.50:8888;\n\
            proxy_for 2 149.154.161.144:8888;\nproxy_for 2 149.154.161.145:8888;\n\
            proxy_for 203 [2001:b28:f23d:f001::a]:8888;\n";
        let c = parse(text).unwrap();
        assert_eq!(c.cluster_count(), 4);
        assert_eq!(c.target_count(), 4);
        assert_eq!(c.default_cluster_id(), 2);
        assert_eq!(
            c.cluster(1),
            Some(ClusterInfo {
                id: -1,
                target_count: 1
            })
        );
        assert_eq!(c.cluster_target(1, 0), Some(0));
        assert_eq!(c.cluster_target(2, 1), Some(2));
        assert_eq!(c.cluster_target(2, 2), None);
        assert_eq!(
            c.target(3).map(|t| (t.family, t.ipv6[0], t.port)),
            Some((6, 0x20, 8888))
        );
        assert_eq!(c.lookup(-1), Some(1));
        assert_eq!(c.lookup(10002), Some(2));
    }

    #[test]
    fn grammar_errors_with_lines() {
        let cases = [
            ("proxy 1.2.3.4:80", ERR_SYNTAX, 1),
            ("proxy_for2 1.2.3.4:80;", ERR_SYNTAX, 1),
            ("\nproxy_for 32768 1.2.3.4:80;", ERR_DC_RANGE, 2),
            ("proxy 1.2.3.4:0;", ERR_PORT_RANGE, 1),
            ("proxy [1.2.3.4]:80;", ERR_HOST, 1),
            ("proxy nosuchhost:80;", ERR_RESOLVE, 1),
            (
                "proxy_for 1 1.1.1.1:1;\nproxy_for 2 1.1.1.1:1;\nproxy_for 1 1.1.1.1:1;",
                ERR_INTERMIXED,
                3,
            ),
            ("max_connections 3;", ERR_MAX_CONNECTIONS, 1),
            ("min_connections 9;", ERR_MIN_CONNECTIONS, 1),
            ("timeout 9;", ERR_TIMEOUT, 1),
            ("# nothing\n", ERR_NO_PROXIES, 2),
        ];
        for (text, code, line) in cases {
            assert_eq!(parse(text).map(|_| ()), err(code, line), "{text}");
        }
    }

    #[test]
    fn limits() {
        let mut text = String::new();
        for i in 0..1024 {
            text.push_str(&format!("proxy_for {i} 1.1.1.1:1;\n"));
        }
        assert_eq!(parse(&text).map(|c| c.target_count()), Ok(1));
        text.push_str("proxy_for 5000 1.1.1.1:1;\n");
        assert_eq!(parse(&text).map(|_| ()), err(ERR_TOO_MANY_CLUSTERS, 1025));
        let many = "proxy 1.1.1.1:1;\n".repeat(4097);
        assert_eq!(parse(&many).map(|_| ()), err(ERR_TOO_MANY_TARGETS, 4097));
    }
}
