use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::parse_config::{parse_int, CfgError, CfgLexer, CfgTokenKind};

const CONF: &[u8] = b"# c\ndefault 2;\nproxy_for -1 [2001:b28::a]:8888;\n";

pub const CHECKS: &[Check] = &[
    ("proxy-multi.conf tokens", || {
        use CfgTokenKind::*;
        let mut lexer = CfgLexer::new(CONF).map_err(|e| format!("init: {e:?}"))?;
        let mut got = Vec::new();
        loop {
            let t = lexer.next_token();
            got.push((
                t.kind,
                t.line,
                CONF.get(t.start..t.start + t.len).unwrap_or(b"?"),
            ));
            if matches!(t.kind, End | Error) {
                break;
            }
        }
        let want: Vec<(CfgTokenKind, i32, &[u8])> = vec![
            (Word, 2, b"default"),
            (Word, 2, b"2"),
            (Punct, 2, b";"),
            (Word, 3, b"proxy_for"),
            (Word, 3, b"-1"),
            (Bracketed, 3, b"2001:b28::a"),
            (Punct, 3, b":"),
            (Word, 3, b"8888"),
            (Punct, 3, b";"),
            (End, 4, b""),
        ];
        expect_eq("tokens", got, want)
    }),
    ("errors stay put", || {
        let mut lexer = CfgLexer::new(b"ok [ab\n").map_err(|e| format!("init: {e:?}"))?;
        lexer.next_token();
        let first = lexer.next_token();
        expect_eq(
            "error",
            (first.kind, first.start, first.len),
            (CfgTokenKind::Error, 6, 1),
        )?;
        expect_eq("repeat", lexer.next_token(), first)?;
        expect_eq("position", lexer.position(), 3)
    }),
    ("integers", || {
        expect_eq(
            "min",
            parse_int(b"-9223372036854775808", i64::MIN, i64::MAX),
            Ok(i64::MIN),
        )?;
        expect_eq(
            "overflow",
            parse_int(b"9223372036854775808", i64::MIN, i64::MAX),
            Err(CfgError::RANGE),
        )?;
        expect_eq("plus", parse_int(b"+1", 0, 9), Err(CfgError::NOT_A_NUMBER))?;
        expect_eq("range", parse_int(b"65536", 1, 65535), Err(CfgError::RANGE))
    }),
    ("limits and null arguments", || {
        let big = vec![b' '; (16 << 20) + 1];
        expect_eq(
            "too big",
            CfgLexer::new(&big).err(),
            Some(CfgError::TOO_BIG),
        )?;
        let mut lexer = raw::mtp_cfg_lexer {
            data: std::ptr::null(),
            len: 2,
            pos: 0,
            line: 1,
        };
        let mut tok = raw::mtp_cfg_token::default();
        // SAFETY: null pointers are refused by contract, never read.
        let codes = unsafe {
            [
                raw::mtp_cfg_next_token(&mut lexer, &mut tok),
                raw::mtp_cfg_lexer_init(std::ptr::null_mut(), std::ptr::null(), 0),
                raw::mtp_cfg_parse_int(b"1".as_ptr(), 1, 0, 1, std::ptr::null_mut()),
            ]
        };
        expect_eq("codes", codes, [-1, -4, -4])
    }),
];
