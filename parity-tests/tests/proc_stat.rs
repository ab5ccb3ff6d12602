//! proc-stat: C vs Rust on /proc/<pid>/stat lines and /proc/<pid>/status
//! text (generated from random fields, plus garbage, truncations and
//! mutations), checked against a model too, and on reading /proc/self.
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::proc_stat as cc;
use rust::common::proc_stat as rc;

/// The fields of either side's struct (same names on both), for comparing.
macro_rules! fields {
    ($stat:expr) => {{
        let s = &$stat;
        (
            (s.pid, s.state, s.ppid, s.num_threads),
            (
                s.utime_ticks,
                s.stime_ticks,
                s.start_ticks,
                s.vsize_bytes,
                s.rss_pages,
            ),
        )
    }};
}

type Fields = ((i32, i32, i32, i32), (u64, u64, u64, u64, i64));

fn c_parse(text: &[u8]) -> Result<Fields, i32> {
    cc::parse_proc_stat(text).map(|s| fields!(s))
}

fn r_parse(text: &[u8]) -> Result<Fields, i32> {
    rc::parse_proc_stat(text).map(|s| fields!(s))
}

/// A line as the kernel writes it (from `cat /proc/self/stat`).
const REAL_LINE: &[u8] = b"22919 (cat) R 22917 22917 7950 0 -1 4194304 98 0 0 0 12 34 0 0 20 0 1 0 \
    123187 3133440 390 18446744073709551615 93876569051136 93876569071017 140731390988368 0 0 0 0 0 \
    0 0 0 0 17 0 0 0 0 0 0 93876569087024 93876569088640 93877319827456 140731390991072 \
    140731390991092 140731390991092 140731390992363 0\n";

#[test]
fn known_answers_both_sides() {
    let r = i32::from(b'R');
    let s = i32::from(b'S');
    let z = i32::from(b'Z');
    for (line, want) in [
        (
            REAL_LINE,
            ((22919, r, 22917, 1), (12, 34, 123_187, 3_133_440, 390)),
        ),
        (
            &b"812 ((sd-pam)) S 811 811 811 0 -1 1077936448 54 0 0 0 0 0 0 0 20 0 1 0 2210 \
               106803200 1059 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0"[..],
            ((812, s, 811, 1), (0, 0, 2210, 106_803_200, 1059)),
        ),
        (
            b"42 (a) b) (c)) Z 1 0 0 0 -1 0 0 0 0 0 5 6 -7 -8 -100 19 3 0 99 0 0",
            ((42, z, 1, 3), (5, 6, 99, 0, 0)),
        ),
        (
            b"2147483647 () S -2147483648 0 0 0 0 0 0 0 0 0 18446744073709551615 0 0 0 0 0 \
               -2147483648 0 0 0 -9223372036854775808",
            (
                (i32::MAX, s, i32::MIN, i32::MIN),
                (u64::MAX, 0, 0, 0, i64::MIN),
            ),
        ),
    ] {
        assert_eq!(
            c_parse(line),
            Ok(want),
            "C {}",
            String::from_utf8_lossy(line)
        );
        assert_eq!(
            r_parse(line),
            Ok(want),
            "Rust {}",
            String::from_utf8_lossy(line)
        );
    }
    let status = b"Name:\tcat\nVmPeak:\t    3892 kB\nVmSize:\t    3891 kB\nVmRSS:\t    1952 kB\n";
    for (key, want) in [
        (&b"VmSize"[..], Ok(3891 * 1024)),
        (b"VmRSS", Ok(1952 * 1024)),
        (b"VmPeak", Ok(3892 * 1024)),
        (b"VmHWM", Err(rc::ERR_NOT_FOUND)),
        (b"Name", Err(rc::ERR_SYNTAX)),
        (b"Vm", Err(rc::ERR_NOT_FOUND)),
    ] {
        assert_eq!(cc::parse_status_kb(status, key), want, "C {key:?}");
        assert_eq!(rc::parse_status_kb(status, key), want, "Rust {key:?}");
    }
}

#[test]
fn error_codes_agree() {
    assert_eq!(
        [cc::ERR_SYNTAX, cc::ERR_NOT_FOUND, cc::ERR_IO],
        [rc::ERR_SYNTAX, rc::ERR_NOT_FOUND, rc::ERR_IO]
    );
}

#[test]
fn bad_lines_fail_alike() {
    let out_of_range = [
        &b"2147483648 (x) R 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0"[..],
        b"1 (x) R 2147483648 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0",
        b"1 (x) R 1 0 0 0 0 0 0 0 0 0 18446744073709551616 0 0 0 0 0 1 0 0 0 0",
        b"1 (x) R 1 0 0 0 0 0 0 0 0 0 -1 0 0 0 0 0 1 0 0 0 0",
        b"1 (x) R 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 9223372036854775808",
    ];
    let malformed = [
        &b""[..],
        b"1",
        b"1 ",
        b"1 (",
        b"1 (x",
        b"1 (x)",
        b"1 (x) ",
        b"(x) R",
        b" 1 (x) R",
        b"1  (x) R 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0",
        b"1 (x)R 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0",
        b"1 (x) RS 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0",
        b"1 (x) R 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0",
        b"1 (x) R 1 0 0 0 0 - 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0",
        b"1 (x) R 1 0 0 0 0 +1 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0",
        b"1 (x) R 1 0 0 0 0 0x1 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0",
        b"1 (x) R 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0)",
        b"1 (x) R 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0\0",
    ];
    for line in out_of_range.iter().chain(&malformed) {
        assert_eq!(
            c_parse(line),
            Err(cc::ERR_SYNTAX),
            "C {}",
            String::from_utf8_lossy(line)
        );
        assert_eq!(
            r_parse(line),
            Err(rc::ERR_SYNTAX),
            "Rust {}",
            String::from_utf8_lossy(line)
        );
    }
    for len in 0..REAL_LINE.len() {
        let cut = &REAL_LINE[..len];
        assert_eq!(c_parse(cut), r_parse(cut), "cut at {len}");
    }
}

#[test]
fn reading_this_process_agrees() {
    let c_me = cc::read_proc_self().expect("C read_proc_self");
    let r_me = rc::read_proc_self().expect("Rust read_proc_self");
    let me = std::process::id() as i32;
    assert_eq!((c_me.stat.pid, r_me.stat.pid), (me, me));
    assert_eq!(c_me.stat.ppid, r_me.stat.ppid);
    assert_eq!(c_me.stat.start_ticks, r_me.stat.start_ticks);
    for (side, stat, rss, size) in [
        (
            "C",
            fields!(c_me.stat),
            c_me.vm_rss_bytes,
            c_me.vm_size_bytes,
        ),
        (
            "Rust",
            fields!(r_me.stat),
            r_me.vm_rss_bytes,
            r_me.vm_size_bytes,
        ),
    ] {
        let ((_, _, _, threads), (_, _, _, vsize, rss_pages)) = stat;
        assert!(
            threads >= 1 && vsize > 0 && rss_pages > 0,
            "{side}: {stat:?}"
        );
        assert!(
            rss > 0 && size > 0 && rss <= size,
            "{side}: VmRSS {rss}, VmSize {size}"
        );
    }
}

/// proc(5) fields 4..=24 as text: mostly in range, sometimes not.
fn number_token() -> impl Strategy<Value = String> {
    prop_oneof![
        24 => (0u32..100_000).prop_map(|n| n.to_string()),
        2 => any::<u64>().prop_map(|n| n.to_string()),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<i32>().prop_map(|n| n.to_string()),
        1 => "[0-9]{19,22}",
        1 => Just("-0".to_string()),
    ]
}

/// A stat line from random parts, with random separators and comm.
fn stat_line() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![4 => (0u32..=i32::MAX as u32).prop_map(|n| n.to_string()), 1 => number_token()],
        prop::collection::vec(prop::sample::select(&b"ab z09()/:- \n"[..]), 0..=20),
        prop_oneof![8 => prop::sample::select(&b"RSDZTtWXxKPI"[..]).prop_map(|b| vec![b]), 1 => Just(b"RS".to_vec())],
        prop::collection::vec(number_token(), 21),
        prop::collection::vec(number_token(), 0..6),
        prop_oneof![8 => Just(" "), 1 => Just("  "), 1 => Just("\t"), 1 => Just(" \n ")],
        prop_oneof![Just(""), Just("\n"), Just(" ")],
    )
        .prop_map(|(pid, comm, state, fields, extra, sep, end)| {
            let mut line = format!("{pid} (").into_bytes();
            line.extend_from_slice(&comm);
            line.extend_from_slice(b")");
            line.extend_from_slice(sep.as_bytes());
            line.extend_from_slice(&state);
            for token in fields.iter().chain(&extra) {
                line.extend_from_slice(sep.as_bytes());
                line.extend_from_slice(token.as_bytes());
            }
            line.extend_from_slice(end.as_bytes());
            line
        })
}

/// The parse rules written out with std's number parsing: what a line built
/// by `stat_line` must give.
fn stat_model(line: &[u8]) -> Result<Fields, i32> {
    let syntax = Err(rc::ERR_SYNTAX);
    let Some(open) = line.windows(2).position(|w| w == b" (") else {
        return syntax;
    };
    let Some(close) = line.iter().rposition(|&b| b == b')') else {
        return syntax;
    };
    let pid_text = std::str::from_utf8(&line[..open]).unwrap_or("x");
    let pid = match pid_text
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| pid_text.parse::<i32>())
    {
        Some(Ok(pid)) => pid,
        _ => return syntax,
    };
    let rest = std::str::from_utf8(&line[close + 1..]).unwrap_or("x");
    if close < open + 1 || !rest.starts_with([' ', '\t', '\n']) {
        return syntax;
    }
    let tokens: Vec<&str> = rest
        .split([' ', '\t', '\n'])
        .filter(|t| !t.is_empty())
        .collect();
    let Some(fields) = tokens.get(..22) else {
        return syntax;
    };
    let integer = |t: &str| {
        t.strip_prefix('-')
            .unwrap_or(t)
            .bytes()
            .all(|b| b.is_ascii_digit())
            && !t.strip_prefix('-').unwrap_or(t).is_empty()
    };
    if fields[0].len() != 1 || !fields[1..].iter().all(|t| integer(t)) {
        return syntax;
    }
    let field = |n: usize| fields[n - 3];
    let parsed = (|| {
        Some((
            (
                pid,
                i32::from(field(3).as_bytes()[0]),
                field(4).parse().ok()?,
                field(20).parse().ok()?,
            ),
            (
                field(14).parse().ok()?,
                field(15).parse().ok()?,
                field(22).parse().ok()?,
                field(23).parse().ok()?,
                field(24).parse().ok()?,
            ),
        ))
    })();
    parsed.ok_or(rc::ERR_SYNTAX)
}

/// Status text: lines of `<key>:<blank><value><unit>` with near misses.
fn status_text() -> impl Strategy<Value = Vec<u8>> {
    let key = prop::sample::select(
        &[
            "VmRSS", "VmSize", "VmRSS", "VmSize", "VmPeak", "Name", "VmRSSx", "vmrss", "Vm", "",
        ][..],
    );
    let blank = prop::sample::select(&["\t", " ", "    ", "", "\t  "][..]);
    let value = prop_oneof![
        4 => (0u32..10_000_000).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => "[0-9]{15,22}",
        1 => Just("-1".to_string()),
        1 => Just(String::new()),
        1 => Just("cat".to_string()),
    ];
    let unit = prop_oneof![
        8 => Just(" kB"),
        1 => prop::sample::select(&[" kB ", "kB", " KB", " MB", "", " kB\r"][..]),
    ];
    let line = (key, blank, value, unit).prop_map(|(k, b, v, u)| format!("{k}:{b}{v}{u}"));
    (prop::collection::vec(line, 0..8), any::<bool>()).prop_map(|(lines, newline_at_end)| {
        let mut text = lines.join("\n");
        if newline_at_end {
            text.push('\n');
        }
        text.into_bytes()
    })
}

fn status_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(&["VmRSS", "VmSize"][..]),
        1 => prop::sample::select(&["VmPeak", "Name", "Vm", "", "VmRSS:", "a\nVmRSS"][..]),
    ]
    .prop_map(|k| k.as_bytes().to_vec())
}

/// The status rule written out with std's number parsing.
fn status_model(text: &[u8], key: &[u8]) -> Result<i64, i32> {
    let Some(line) = text
        .split(|&b| b == b'\n')
        .find(|line| line.starts_with(key) && line.get(key.len()) == Some(&b':'))
    else {
        return Err(rc::ERR_NOT_FOUND);
    };
    let value = std::str::from_utf8(&line[key.len() + 1..]).map_err(|_| rc::ERR_SYNTAX)?;
    let digits = value
        .trim_start_matches([' ', '\t'])
        .strip_suffix(" kB")
        .ok_or(rc::ERR_SYNTAX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(rc::ERR_SYNTAX);
    }
    digits
        .parse::<i64>()
        .ok()
        .and_then(|kib| kib.checked_mul(1024))
        .ok_or(rc::ERR_SYNTAX)
}

/// Bytes that are stat-line-like garbage.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => b'0'..=b'9',
        3 => Just(b' '),
        1 => prop::sample::select(&b"()-\n\tRSkB:\0\xff"[..]),
    ];
    prop::collection::vec(byte, 0..=160)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn stat_lines_match_each_other_and_the_model(line in stat_line()) {
        let c_out = c_parse(&line);
        prop_assert_eq!(c_out, r_parse(&line));
        prop_assert_eq!(c_out, stat_model(&line), "{}", String::from_utf8_lossy(&line));
    }

    #[test]
    fn truncated_stat_lines_match(line in stat_line(), cut in any::<prop::sample::Index>()) {
        let cut = &line[..cut.index(line.len() + 1)];
        prop_assert_eq!(c_parse(cut), r_parse(cut));
    }

    #[test]
    fn mutated_stat_lines_match(line in stat_line(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut line = line;
        if !line.is_empty() {
            let i = at.index(line.len());
            line[i] = byte;
        }
        prop_assert_eq!(c_parse(&line), r_parse(&line));
    }

    #[test]
    fn garbage_matches(text in garbage()) {
        prop_assert_eq!(c_parse(&text), r_parse(&text));
    }

    #[test]
    fn status_matches_each_other_and_the_model(text in status_text(), key in status_key()) {
        let c_out = cc::parse_status_kb(&text, &key);
        prop_assert_eq!(c_out, rc::parse_status_kb(&text, &key));
        prop_assert_eq!(c_out, status_model(&text, &key), "{:?}", String::from_utf8_lossy(&text));
    }

    #[test]
    fn status_garbage_matches(text in garbage(), key in parity_tests::bytes(4)) {
        prop_assert_eq!(cc::parse_status_kb(&text, &key), rc::parse_status_kb(&text, &key));
    }
}
