//! parse-config: C vs Rust tokenizing random config-like text, a real
//! proxy-multi.conf, and strict integer parsing at the edges.
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::parse_config as cp;
use rust::common::parse_config as rp;

/// One token with the lexer state after it, comparable across sides.
type Step = (i32, i32, usize, usize, usize, i32);

/// Tokenizes to the end (or to an error, asked twice to see it repeat) and
/// records every token and the lexer's position and line after it.
macro_rules! tokenize {
    ($lexer:expr) => {{
        let lexer = &mut $lexer;
        let mut steps: Vec<Step> = Vec::new();
        loop {
            let t = lexer.next_token();
            steps.push((
                t.kind.code(),
                t.line,
                t.start,
                t.len,
                lexer.position(),
                lexer.line(),
            ));
            let kind = t.kind.code();
            if kind == 0
                || (kind == -1
                    && steps.len() >= 2
                    && steps[steps.len() - 2] == steps[steps.len() - 1])
            {
                break steps;
            }
            assert!(steps.len() < 1_000_000, "lexer does not terminate");
        }
    }};
}

const CONF: &[u8] = b"# comment\ndefault 2;\nproxy_for 1 149.154.175.50:8888;\n\
proxy_for -1 [2001:b28:f23d:f001::a]:8888;\n";

#[test]
fn known_answers_both_sides() {
    // (kind, line, text)
    let want: &[(i32, i32, &[u8])] = &[
        (1, 2, b"default"),
        (1, 2, b"2"),
        (3, 2, b";"),
        (1, 3, b"proxy_for"),
        (1, 3, b"1"),
        (1, 3, b"149.154.175.50"),
        (3, 3, b":"),
        (1, 3, b"8888"),
        (3, 3, b";"),
        (1, 4, b"proxy_for"),
        (1, 4, b"-1"),
        (2, 4, b"2001:b28:f23d:f001::a"),
        (3, 4, b":"),
        (1, 4, b"8888"),
        (3, 4, b";"),
        (0, 5, b""),
    ];
    macro_rules! check {
        ($m:ident) => {{
            let mut lexer = $m::CfgLexer::new(CONF).unwrap();
            let got: Vec<(i32, i32, &[u8])> = tokenize!(lexer)
                .iter()
                .map(|&(kind, line, start, len, _, _)| (kind, line, &CONF[start..start + len]))
                .collect();
            assert_eq!(got, want);
            assert_eq!(lexer.position(), CONF.len());
        }};
    }
    check!(cp);
    check!(rp);
    // Errors: a bad byte, a bad byte inside brackets, an unterminated bracket.
    for (text, start, pos) in [
        (&b"a\n  $x"[..], 4usize, 4usize),
        (b"x [ab/]", 5, 2),
        (b"x [ab", 2, 2),
        (b"[]\0", 2, 2),
    ] {
        let c_steps = tokenize!(cp::CfgLexer::new(text).unwrap());
        let r_steps = tokenize!(rp::CfgLexer::new(text).unwrap());
        assert_eq!(c_steps, r_steps, "{text:?}");
        let last = c_steps.last().unwrap();
        assert_eq!(
            (last.0, last.2, last.3, last.4),
            (-1, start, 1, pos),
            "{text:?}"
        );
    }
}

#[test]
fn parse_int_edges_both_sides() {
    let (lo, hi) = (i64::MIN, i64::MAX);
    type Case = (&'static [u8], i64, i64, Result<i64, i32>);
    let cases: &[Case] = &[
        (b"-9223372036854775808", lo, hi, Ok(i64::MIN)),
        (b"9223372036854775807", lo, hi, Ok(i64::MAX)),
        (b"9223372036854775808", lo, hi, Err(-2)),
        (b"-9223372036854775809", lo, hi, Err(-2)),
        (b"9999999999999999999", lo, hi, Err(-2)),
        (b"-9999999999999999999", lo, hi, Err(-2)),
        (b"10000000000000000000", lo, hi, Err(-1)),
        (b"-", lo, hi, Err(-1)),
        (b"", lo, hi, Err(-1)),
        (b"+1", lo, hi, Err(-1)),
        (b"--1", lo, hi, Err(-1)),
        (b" 1", lo, hi, Err(-1)),
        (b"1\0", lo, hi, Err(-1)),
        (b"01", lo, hi, Ok(1)),
        (b"-0", lo, hi, Ok(0)),
        (b"8888", 1, 65535, Ok(8888)),
        (b"65536", 1, 65535, Err(-2)),
        (b"0", 1, 65535, Err(-2)),
        (b"5", 6, 4, Err(-2)),
    ];
    for &(s, min, max, want) in cases {
        assert_eq!(
            cp::parse_int(s, min, max).map_err(|e| e.code()),
            want,
            "C {s:?}"
        );
        assert_eq!(
            rp::parse_int(s, min, max).map_err(|e| e.code()),
            want,
            "Rust {s:?}"
        );
    }
}

#[test]
fn oversized_input_is_refused() {
    let big = vec![b' '; rp::MAX_CONFIG_LEN + 1];
    assert_eq!(cp::CfgLexer::new(&big).err(), Some(cp::CfgError::TOO_BIG));
    assert_eq!(rp::CfgLexer::new(&big).err(), Some(rp::CfgError::TOO_BIG));
    let limit = &big[..rp::MAX_CONFIG_LEN];
    let c_steps = tokenize!(cp::CfgLexer::new(limit).unwrap());
    let r_steps = tokenize!(rp::CfgLexer::new(limit).unwrap());
    assert_eq!(c_steps, r_steps);
    assert_eq!(c_steps, vec![(0, 1, limit.len(), 0, limit.len(), 1)]);
}

#[test]
fn null_arguments_on_the_c_side() {
    use mtproxy_sys::bindings_cref as raw;
    use std::ptr::{null, null_mut};
    let mut lexer = raw::mtp_cfg_lexer {
        data: null(),
        len: 3,
        pos: 0,
        line: 1,
    };
    let mut tok = raw::mtp_cfg_token {
        kind: 7,
        line: 7,
        start: 7,
        len: 7,
    };
    let mut value = 7;
    // SAFETY: null pointers are part of the contract: refused, never read.
    let codes = unsafe {
        [
            raw::mtp_cfg_lexer_init(null_mut(), b"x".as_ptr(), 1),
            raw::mtp_cfg_lexer_init(&mut lexer, null(), 1),
            raw::mtp_cfg_next_token(&mut lexer, &mut tok),
            raw::mtp_cfg_next_token(null_mut(), &mut tok),
            raw::mtp_cfg_parse_int(null(), 1, 0, 1, &mut value),
            raw::mtp_cfg_parse_int(b"1".as_ptr(), 1, 0, 1, null_mut()),
            raw::mtp_cfg_parse_int(null(), 0, 0, 1, &mut value),
        ]
    };
    assert_eq!(codes, [-4, -4, -1, -1, -4, -4, -1]);
    assert_eq!(
        (tok.kind, tok.line, tok.start, tok.len, value),
        (7, 7, 7, 7, 7)
    );
    assert_eq!((lexer.len, lexer.pos, lexer.line), (3, 0, 1));
}

/// Bytes mostly from the config alphabet, sometimes anything.
fn config_text() -> impl Strategy<Value = Vec<u8>> {
    const ALPHABET: &[u8] = b"aZ09._-:;[]# \t\r\n";
    let byte = prop_oneof![
        12 => proptest::sample::select(ALPHABET),
        4 => proptest::sample::select(b"abcxyz0123456789".as_slice()),
        1 => any::<u8>(),
    ];
    proptest::collection::vec(byte, 0..200)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn token_streams_match(text in config_text()) {
        let c_steps = tokenize!(cp::CfgLexer::new(&text).unwrap());
        let r_steps = tokenize!(rp::CfgLexer::new(&text).unwrap());
        prop_assert_eq!(c_steps, r_steps);
    }

    #[test]
    fn resumed_lexers_match(
        text in config_text(),
        pos in 0usize..220,
        line in prop_oneof![Just(1), any::<i32>(), Just(i32::MAX - 1)],
    ) {
        let c_steps = tokenize!(cp::CfgLexer::from_parts(&text, pos, line));
        let r_steps = tokenize!(rp::CfgLexer::from_parts(&text, pos, line));
        prop_assert_eq!(c_steps, r_steps);
    }

    #[test]
    fn parse_int_matches_on_text(
        s in proptest::collection::vec(proptest::sample::select(b"-+0123456789 a".as_slice()), 0..24),
        min in any::<i64>(),
        max in any::<i64>(),
    ) {
        let c_out = cp::parse_int(&s, min, max).map_err(|e| e.code());
        prop_assert_eq!(c_out, rp::parse_int(&s, min, max).map_err(|e| e.code()));
        let full = rp::parse_int(&s, i64::MIN, i64::MAX);
        if let Ok(v) = full {
            prop_assert_eq!(c_out.is_ok(), (min..=max).contains(&v));
        }
    }

    #[test]
    fn parse_int_round_trips(v in any::<i64>(), a in any::<i64>(), b in any::<i64>()) {
        let (min, max) = (a.min(b), a.max(b));
        let text = v.to_string();
        let want = if (min..=max).contains(&v) { Ok(v) } else { Err(-2) };
        prop_assert_eq!(cp::parse_int(text.as_bytes(), min, max).map_err(|e| e.code()), want);
        prop_assert_eq!(rp::parse_int(text.as_bytes(), min, max).map_err(|e| e.code()), want);
        prop_assert_eq!(cp::parse_int(text.as_bytes(), i64::MIN, i64::MAX).map_err(|e| e.code()), Ok(v));
    }
}
