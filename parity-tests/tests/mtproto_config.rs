//! mtproto-config: proxy-multi.conf on both sides — the official-style file,
//! every grammar error with its code and line, random configs generated from
//! the grammar against a model, and mutated configs (identical errors).
//! Host names are literals or "localhost" only (no DNS).
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::mtproto_config as cc;
use rust::mtproto::mtproto_config as rc;
use rust::mtproto::mtproto_config::*;

const LITERAL: u32 = OPTION_LITERAL_HOSTS;

/// Everything a config exposes, for comparing sides and a model.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    clusters: Vec<(i32, Vec<usize>)>,
    /// family, ipv4, ipv6, port, min, max
    targets: Vec<(i32, u32, [u8; 16], i32, i32, i32)>,
    default_cluster_id: i32,
    lookups: Vec<Option<usize>>,
}

/// DC ids whose lookup every snapshot records.
const PROBE_DCS: [i32; 9] = [0, 1, -1, 2, -2, 3, 203, 10002, -32768];

macro_rules! snapshot {
    ($cfg:expr) => {{
        let cfg = &$cfg;
        let clusters = (0..cfg.cluster_count())
            .map(|i| {
                let info = cfg.cluster(i).unwrap();
                let refs = (0..info.target_count)
                    .map(|j| cfg.cluster_target(i, j).unwrap())
                    .collect();
                assert_eq!(cfg.cluster_target(i, info.target_count), None);
                (info.id, refs)
            })
            .collect();
        assert!(cfg.cluster(cfg.cluster_count()).is_none());
        assert!(cfg.target(cfg.target_count()).is_none());
        let targets = (0..cfg.target_count())
            .map(|i| {
                let t = cfg.target(i).unwrap();
                (
                    t.family,
                    t.ipv4,
                    t.ipv6,
                    t.port,
                    t.min_connections,
                    t.max_connections,
                )
            })
            .collect();
        Snapshot {
            clusters,
            targets,
            default_cluster_id: cfg.default_cluster_id(),
            lookups: PROBE_DCS.iter().map(|&dc| cfg.lookup(dc)).collect(),
        }
    }};
}

/// Parses on both sides; asserts they agree and returns the result.
fn parse_both(text: &[u8], options: u32) -> Result<Snapshot, (i32, i32)> {
    let c = cc::ProxyConfig::parse(text, options)
        .map(|cfg| snapshot!(cfg))
        .map_err(|e| (e.code, e.line));
    let r = rc::ProxyConfig::parse(text, options)
        .map(|cfg| snapshot!(cfg))
        .map_err(|e| (e.code, e.line));
    assert_eq!(c, r, "sides differ on {:?}", String::from_utf8_lossy(text));
    r
}

fn v6(text: &str) -> [u8; 16] {
    text.parse::<std::net::Ipv6Addr>().unwrap().octets()
}

#[test]
fn known_answer_official_style_file() {
    let text = "# force_probability 10 10\n\
        default 2;\n\
        proxy_for 1 149.154.175.50:8888;\n\
        proxy_for -1 149.154.175.50:8888;\n\
        proxy_for 2 149.154.161.144:8888;\n\
        proxy_for -2 149.154.161.144:8888;\n\
        proxy_for 3 149.154.175.100:8888;\n\
        proxy_for -3 149.154.175.100:8888;\n\
        proxy_for 203 [2001:b28:f23d:f001::a]:8888;\n\
        proxy_for -203 91.105.192.100:443;\n";
    let want_targets = vec![
        (4, 0x959a_af32, [0; 16], 8888, 4, 8),
        (4, 0x959a_a190, [0; 16], 8888, 4, 8),
        (4, 0x959a_af64, [0; 16], 8888, 4, 8),
        (6, 0, v6("2001:b28:f23d:f001::a"), 8888, 4, 8),
        (4, 0x5b69_c064, [0; 16], 443, 4, 8),
    ];
    let want = Snapshot {
        clusters: vec![
            (1, vec![0]),
            (-1, vec![0]),
            (2, vec![1]),
            (-2, vec![1]),
            (3, vec![2]),
            (-3, vec![2]),
            (203, vec![3]),
            (-203, vec![4]),
        ],
        targets: want_targets,
        default_cluster_id: 2,
        // 0, 10002 and -32768 have no cluster and fall back to default 2.
        lookups: vec![
            Some(2),
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(4),
            Some(6),
            Some(2),
            Some(2),
        ],
    };
    assert_eq!(parse_both(text.as_bytes(), 0), Ok(want));
    assert_eq!(
        parse_both(text.as_bytes(), LITERAL).map(|s| s.targets.len()),
        Ok(5)
    );
}

#[test]
fn known_answer_limits_defaults_and_localhost() {
    let text = "proxy localhost:443;\nmax_connections 20;\nmin_connections 12;\n\
        timeout 30000;\nproxy 127.0.0.1:443;\nproxy 127.0.0.2:443;\nproxy [::1]:1;";
    let want = Snapshot {
        clusters: vec![(0, vec![0, 0, 1, 2])],
        targets: vec![
            (4, 0x7f00_0001, [0; 16], 443, 4, 8),
            (4, 0x7f00_0002, [0; 16], 443, 12, 20),
            (6, 0, v6("::1"), 1, 12, 20),
        ],
        default_cluster_id: 0,
        lookups: vec![Some(0); 9],
    };
    assert_eq!(parse_both(text.as_bytes(), 0), Ok(want));
    // Without lookups, "localhost" is not an address.
    assert_eq!(parse_both(text.as_bytes(), LITERAL), Err((ERR_RESOLVE, 1)));
    // No default cluster: unknown DCs find nothing.
    let s = parse_both(b"default 7; proxy_for 1 1.1.1.1:1;", 0).unwrap();
    assert_eq!(s.lookups[1], Some(0));
    assert_eq!(s.lookups[0], None);
}

#[test]
fn every_grammar_error_with_its_line() {
    let long_host = "a".repeat(64);
    let many_clusters: String = (0..1025)
        .map(|i| format!("proxy_for {i} 10.0.0.1:80;\n"))
        .collect();
    let many_lines = "proxy 10.0.0.1:80;\n".repeat(4097);
    let cases: Vec<(String, u32, i32, i32)> = vec![
        // syntax
        ("bogus 1;".into(), 0, ERR_SYNTAX, 1),
        ("proxy_for2 1.2.3.4:80;".into(), 0, ERR_SYNTAX, 1),
        ("proxyfor 1 1.2.3.4:80;".into(), 0, ERR_SYNTAX, 1),
        ("\n\nproxy 1.2.3.4:80".into(), 0, ERR_SYNTAX, 3),
        (
            "proxy 1.2.3.4:80\n\nproxy 1.2.3.4:81;".into(),
            0,
            ERR_SYNTAX,
            3,
        ),
        ("proxy 1.2.3.4 80;".into(), 0, ERR_SYNTAX, 1),
        ("proxy 1.2.3.4;80;".into(), 0, ERR_SYNTAX, 1),
        ("proxy :80;".into(), 0, ERR_SYNTAX, 1),
        ("proxy 1.2.3.4:;".into(), 0, ERR_SYNTAX, 1),
        ("proxy 1.2.3.4:8x;".into(), 0, ERR_SYNTAX, 1),
        ("proxy_for x 1.2.3.4:80;".into(), 0, ERR_SYNTAX, 1),
        ("proxy_for 1.2.3.4:80;".into(), 0, ERR_SYNTAX, 1),
        ("proxy 1.2.3.4:80;;".into(), 0, ERR_SYNTAX, 1),
        (";".into(), 0, ERR_SYNTAX, 1),
        ("proxy 1.2.3.4:80; $".into(), 0, ERR_SYNTAX, 1),
        ("proxy [::1:80;".into(), 0, ERR_SYNTAX, 1),
        ("proxy\n[::1".into(), 0, ERR_SYNTAX, 2),
        ("default;".into(), 0, ERR_SYNTAX, 1),
        ("default 1 2;".into(), 0, ERR_SYNTAX, 1),
        ("timeout 100".into(), 0, ERR_SYNTAX, 1),
        ("min_connections -x;".into(), 0, ERR_SYNTAX, 1),
        // ranges
        ("proxy_for 32768 1.2.3.4:80;".into(), 0, ERR_DC_RANGE, 1),
        ("proxy_for -32769 1.2.3.4:80;".into(), 0, ERR_DC_RANGE, 1),
        ("default 99999999999999999999;".into(), 0, ERR_SYNTAX, 1),
        ("default 9999999999999999999;".into(), 0, ERR_DC_RANGE, 1),
        ("\ndefault\n-40000;".into(), 0, ERR_DC_RANGE, 3),
        ("proxy 1.2.3.4:0;".into(), 0, ERR_PORT_RANGE, 1),
        ("proxy 1.2.3.4:65536;".into(), 0, ERR_PORT_RANGE, 1),
        ("proxy 1.2.3.4:-1;".into(), 0, ERR_PORT_RANGE, 1),
        ("min_connections 0;".into(), 0, ERR_MIN_CONNECTIONS, 1),
        ("min_connections 9;".into(), 0, ERR_MIN_CONNECTIONS, 1),
        (
            "max_connections 9; min_connections 10;".into(),
            0,
            ERR_MIN_CONNECTIONS,
            1,
        ),
        ("max_connections 3;".into(), 0, ERR_MAX_CONNECTIONS, 1),
        ("max_connections 1001;".into(), 0, ERR_MAX_CONNECTIONS, 1),
        (
            "min_connections 1;\nmax_connections 0;".into(),
            0,
            ERR_MAX_CONNECTIONS,
            2,
        ),
        ("timeout 9;".into(), 0, ERR_TIMEOUT, 1),
        ("timeout 30001;".into(), 0, ERR_TIMEOUT, 1),
        // hosts
        (format!("proxy {long_host}:80;"), 0, ERR_HOST, 1),
        (format!("proxy {long_host}:80;"), LITERAL, ERR_HOST, 1),
        ("proxy a_b:80;".into(), 0, ERR_HOST, 1),
        ("proxy a_b:80;".into(), LITERAL, ERR_RESOLVE, 1),
        ("proxy 1.2.3.256:80;".into(), LITERAL, ERR_RESOLVE, 1),
        ("proxy [1.2.3.4]:80;".into(), 0, ERR_HOST, 1),
        ("proxy []:80;".into(), 0, ERR_HOST, 1),
        ("proxy [1::2::3]:80;".into(), 0, ERR_HOST, 1),
        // structure
        (
            "proxy_for 1 1.1.1.1:1;\nproxy_for 2 1.1.1.1:1;\ndefault 1;\nproxy_for 1 1.1.1.1:1;"
                .into(),
            0,
            ERR_INTERMIXED,
            4,
        ),
        (
            "proxy 1.1.1.1:1;\nproxy_for 1 1.1.1.1:1;\nproxy 1.1.1.1:2;".into(),
            0,
            ERR_INTERMIXED,
            3,
        ),
        (many_clusters, 0, ERR_TOO_MANY_CLUSTERS, 1025),
        (many_lines, 0, ERR_TOO_MANY_TARGETS, 4097),
        ("".into(), 0, ERR_NO_PROXIES, 1),
        ("default 2;\n# only\n\n".into(), 0, ERR_NO_PROXIES, 4),
        ("timeout 100;".into(), 0, ERR_NO_PROXIES, 1),
    ];
    for (text, options, code, line) in &cases {
        assert_eq!(
            parse_both(text.as_bytes(), *options).map(|_| ()),
            Err((*code, *line)),
            "{text:?}"
        );
    }
}

#[test]
fn oversized_files_and_bad_options() {
    let mut big = b"proxy 1.2.3.4:80;".to_vec();
    big.resize(16 << 20, b' ');
    assert!(parse_both(&big, 0).is_ok());
    big.push(b' ');
    assert_eq!(parse_both(&big, 0), Err((ERR_TOO_BIG, 0)));
    assert_eq!(
        cc::ProxyConfig::parse(b"proxy 1.2.3.4:80;", 2).map(|_| ()),
        Err(cc::ConfigError { code: -14, line: 0 })
    );
}

/// One statement of the grammar, with values that may be out of range.
#[derive(Clone, Debug)]
enum Stmt {
    ProxyFor(i64, usize, i64),
    Proxy(usize, i64),
    Default(i64),
    Min(i64),
    Max(i64),
    Timeout(i64),
}

/// Host spellings and what they resolve to (family, ipv4, ipv6).
fn hosts() -> Vec<(&'static str, i32, u32, [u8; 16])> {
    vec![
        ("149.154.175.50", 4, 0x959a_af32, [0; 16]),
        ("10.0.0.1", 4, 0x0a00_0001, [0; 16]),
        ("127.0.0.1", 4, 0x7f00_0001, [0; 16]),
        ("localhost", 4, 0x7f00_0001, [0; 16]),
        ("[::1]", 6, 0, v6("::1")),
        ("[2001:b28:f23d:f001::a]", 6, 0, v6("2001:b28:f23d:f001::a")),
    ]
}

/// Statements in blocks: a run of `proxy_for` lines of one DC (mostly), or
/// one other statement; values mostly in range.
fn stmts(max_blocks: usize) -> impl Strategy<Value = Vec<Stmt>> {
    let dc = prop_oneof![
        80 => -12i64..=12,
        8 => Just(203),
        8 => Just(-203),
        1 => Just(32767),
        1 => Just(-32768),
        1 => Just(32768),
        1 => Just(-32769),
    ];
    let port = prop_oneof![300 => 1i64..=65535, 1 => Just(0), 1 => Just(65536)];
    let line = (0usize..6, port);
    let block = prop_oneof![
        6 => (dc.clone(), proptest::collection::vec(line.clone(), 1..4)).prop_map(|(d, lines)| {
            lines.into_iter().map(|(h, p)| Stmt::ProxyFor(d, h, p)).collect()
        }),
        2 => line.prop_map(|(h, p)| vec![Stmt::Proxy(h, p)]),
        1 => dc.prop_map(|d| vec![Stmt::Default(d)]),
        1 => prop_oneof![30 => 1i64..9, 1 => Just(0), 1 => 9i64..14].prop_map(|n| vec![Stmt::Min(n)]),
        1 => prop_oneof![30 => 4i64..1001, 1 => 0i64..4, 1 => Just(1001)].prop_map(|n| vec![Stmt::Max(n)]),
        1 => prop_oneof![30 => 10i64..=30000, 1 => Just(9), 1 => Just(30001)]
            .prop_map(|n| vec![Stmt::Timeout(n)]),
    ];
    proptest::collection::vec(block, 0..max_blocks)
        .prop_map(|blocks| blocks.into_iter().flatten().collect())
}

/// The statements' semantics, written plainly: the snapshot, or the first
/// error with the line of `lines[i]` (each statement sits on one line).
fn model(stmts: &[Stmt], lines: &[i32], end_line: i32) -> Result<Snapshot, (i32, i32)> {
    let hosts = hosts();
    let (mut min, mut max, mut default) = (4i64, 8i64, 0i64);
    let mut clusters: Vec<(i32, Vec<usize>)> = Vec::new();
    let mut targets: Vec<(i32, u32, [u8; 16], i32, i32, i32)> = Vec::new();
    let dc_ok = |d: i64| (-32768..=32767).contains(&d);
    for (s, &line) in stmts.iter().zip(lines) {
        let err = |code| Err((code, line));
        let (dc, host, port) = match *s {
            Stmt::ProxyFor(d, h, p) => (d, h, p),
            Stmt::Proxy(h, p) => (0, h, p),
            Stmt::Default(d) if dc_ok(d) => {
                default = d;
                continue;
            }
            Stmt::Min(n) if (1..=max).contains(&n) => {
                min = n;
                continue;
            }
            Stmt::Max(n) if (min..=1000).contains(&n) => {
                max = n;
                continue;
            }
            Stmt::Timeout(n) if (10..=30000).contains(&n) => continue,
            Stmt::Default(_) => return err(ERR_DC_RANGE),
            Stmt::Min(_) => return err(ERR_MIN_CONNECTIONS),
            Stmt::Max(_) => return err(ERR_MAX_CONNECTIONS),
            Stmt::Timeout(_) => return err(ERR_TIMEOUT),
        };
        if !dc_ok(dc) {
            return err(ERR_DC_RANGE);
        }
        if !(1..=65535).contains(&port) {
            return err(ERR_PORT_RANGE);
        }
        let (_, family, ipv4, ipv6) = hosts[host];
        let dc = dc as i32;
        if clusters.last().map(|c| c.0) != Some(dc) {
            if clusters.iter().any(|c| c.0 == dc) {
                return err(ERR_INTERMIXED);
            }
            clusters.push((dc, Vec::new()));
        }
        let key = (family, ipv4, ipv6, port as i32);
        let index = match targets.iter().position(|t| (t.0, t.1, t.2, t.3) == key) {
            Some(i) => i,
            None => {
                targets.push((family, ipv4, ipv6, port as i32, min as i32, max as i32));
                targets.len() - 1
            }
        };
        clusters.last_mut().unwrap().1.push(index);
    }
    if clusters.is_empty() {
        return Err((ERR_NO_PROXIES, end_line));
    }
    let find = |id: i64| clusters.iter().position(|c| i64::from(c.0) == id);
    let lookups = PROBE_DCS
        .iter()
        .map(|&dc| find(i64::from(dc)).or_else(|| find(default)))
        .collect();
    Ok(Snapshot {
        clusters,
        targets,
        default_cluster_id: default as i32,
        lookups,
    })
}

/// Renders statements one per line with random blanks, comments and empty
/// lines (`layout` bytes choose them); returns the text, each statement's
/// line and the last line.
fn render(stmts: &[Stmt], layout: &[u8]) -> (String, Vec<i32>, i32) {
    let hosts = hosts();
    let mut text = String::new();
    let mut lines = Vec::new();
    let mut line = 1;
    let mut knobs = layout.iter().copied().cycle();
    let mut sep = || match knobs.next().unwrap_or(0) % 4 {
        0 => " ",
        1 => "\t",
        2 => "  ",
        _ => " \t ",
    };
    for s in stmts {
        let words: Vec<String> = match s {
            Stmt::ProxyFor(d, h, p) => vec![
                "proxy_for".into(),
                d.to_string(),
                format!("{}:{p};", hosts[*h].0),
            ],
            Stmt::Proxy(h, p) => vec!["proxy".into(), format!("{}:{p};", hosts[*h].0)],
            Stmt::Default(d) => vec!["default".into(), format!("{d};")],
            Stmt::Min(n) => vec!["min_connections".into(), format!("{n};")],
            Stmt::Max(n) => vec!["max_connections".into(), format!("{n};")],
            Stmt::Timeout(n) => vec!["timeout".into(), format!("{n};")],
        };
        let extra = sep();
        if extra.len() == 3 {
            text.push_str("# a comment; proxy 1.2.3.4:5;\n\n");
            line += 2;
        }
        lines.push(line);
        text.push_str(&words.join(sep()));
        if sep() == "\t" {
            text.push_str(" # trailing");
        }
        text.push('\n');
        line += 1;
    }
    (text, lines, line)
}

proptest! {
    #![proptest_config(config())]

    /// Configs from the grammar: both sides equal the model (with lookups of
    /// "localhost", which /etc/hosts answers).
    #[test]
    fn generated_configs_match_the_model(
        stmts in stmts(16),
        layout in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let (text, lines, end_line) = render(&stmts, &layout);
        let want = model(&stmts, &lines, end_line);
        prop_assert_eq!(parse_both(text.as_bytes(), 0), want);
    }

    /// The same configs with random edits (replace, insert, delete) from a
    /// config-ish alphabet: both sides give the same result or error + line.
    #[test]
    fn mutated_configs_agree(
        stmts in stmts(8),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, 0usize..24), 1..6),
    ) {
        const ALPHABET: &[u8] = b"0123456789:;[]-_. \n\t#xp$";
        let (text, _, _) = render(&stmts, &[0]);
        let mut bytes = text.replace("localhost", "127.0.0.1").into_bytes();
        for (at, op, ch) in edits {
            let i = at.index(bytes.len() + 1);
            let b = ALPHABET[ch % ALPHABET.len()];
            match op {
                0 if i < bytes.len() => bytes[i] = b,
                1 => bytes.insert(i, b),
                _ if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => {}
            }
        }
        parse_both(&bytes, LITERAL).ok();
    }

    /// Token soup: random sequences of grammar words and punctuation.
    #[test]
    fn token_soup_agrees(words in proptest::collection::vec(0usize..16, 0..30)) {
        const VOCAB: [&str; 16] = [
            "proxy_for", "proxy", "default", "min_connections", "max_connections", "timeout",
            "1", "-2", "65535", "1.2.3.4", "[::1]", ":", ";", "\n", "#c\n", "proxy_for1",
        ];
        let text: Vec<&str> = words.iter().map(|&w| VOCAB[w]).collect();
        parse_both(text.join(" ").as_bytes(), LITERAL).ok();
    }

    #[test]
    fn random_bytes_agree(data in parity_tests::bytes(200)) {
        parse_both(&data, LITERAL).ok();
    }
}

mod args;
