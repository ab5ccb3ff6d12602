//! server-functions: C vs Rust on memory sizes (random text and a model),
//! user lookups, the safe paths of change_user and the file limit.
//!
//! change_user is only called where it cannot succeed (a user that does not
//! exist), and the file limit only with values it already satisfies, so the
//! test process keeps its privileges and limits.
use parity_tests::{c, config, rust};
use proptest::prelude::*;
use std::os::unix::fs::MetadataExt;

use c::server_functions as cc;
use rust::common::server_functions as rc;

const NO_SUCH_USER: &str = "mtproxy-parity-no-such-user";

#[test]
fn known_answers_both_sides() {
    for (text, want) in [
        (&b"0"[..], Ok(0i64)),
        (b"268435456", Ok(268_435_456)),
        (b"1k", Ok(1024)),
        (b"1K", Ok(1024)),
        (b"256m", Ok(256 << 20)),
        (b"256M", Ok(256 << 20)),
        (b"4g", Ok(4 << 30)),
        (b"3T", Ok(3 << 40)),
        (b"0000000000000000001", Ok(1)),
        (b"9223372036854775807", Ok(i64::MAX)),
        (b"9007199254740991k", Ok(9_007_199_254_740_991 * 1024)),
        (b"9223372036854775808", Err(rc::ERR_RANGE)),
        (b"9999999999999999999", Err(rc::ERR_RANGE)),
        (b"9007199254740992k", Err(rc::ERR_RANGE)),
        (b"8388608t", Err(rc::ERR_RANGE)),
        (b"00000000000000000001", Err(rc::ERR_SYNTAX)),
        (b"", Err(rc::ERR_SYNTAX)),
        (b"k", Err(rc::ERR_SYNTAX)),
        (b"-1", Err(rc::ERR_SYNTAX)),
        (b"+1", Err(rc::ERR_SYNTAX)),
        (b" 1", Err(rc::ERR_SYNTAX)),
        (b"1 ", Err(rc::ERR_SYNTAX)),
        (b"1kb", Err(rc::ERR_SYNTAX)),
        (b"1p", Err(rc::ERR_SYNTAX)),
        (b"1\0", Err(rc::ERR_SYNTAX)),
        (b"1.5g", Err(rc::ERR_SYNTAX)),
    ] {
        assert_eq!(cc::parse_memory_size(text), want, "C {text:?}");
        assert_eq!(rc::parse_memory_size(text), want, "Rust {text:?}");
    }
}

#[test]
fn error_codes_agree() {
    assert_eq!(
        [
            cc::ERR_SYNTAX,
            cc::ERR_RANGE,
            cc::ERR_NO_USER,
            cc::ERR_PERMISSION,
            cc::ERR_SYSCALL
        ],
        [
            rc::ERR_SYNTAX,
            rc::ERR_RANGE,
            rc::ERR_NO_USER,
            rc::ERR_PERMISSION,
            rc::ERR_SYSCALL
        ]
    );
}

#[test]
fn user_lookups_agree() {
    assert_eq!(cc::lookup_user("root"), Ok((0, 0)));
    assert_eq!(rc::lookup_user("root"), Ok((0, 0)));
    for name in [NO_SUCH_USER, "", "ro\0ot", "root "] {
        assert_eq!(cc::lookup_user(name), Err(cc::ERR_NO_USER), "C {name:?}");
        assert_eq!(rc::lookup_user(name), Err(rc::ERR_NO_USER), "Rust {name:?}");
    }
    // Whatever the passwd database holds, both sides read it alike.
    for name in ["nobody", "daemon", "bin", "mtproxy"] {
        assert_eq!(cc::lookup_user(name), rc::lookup_user(name), "{name}");
    }
}

#[test]
fn change_user_fails_alike_for_a_missing_user() {
    assert_eq!(cc::change_user(NO_SUCH_USER), Err(cc::ERR_NO_USER));
    assert_eq!(rc::change_user(NO_SUCH_USER), Err(rc::ERR_NO_USER));
}

#[test]
fn change_user_default_is_safe_here() {
    // /proc/self belongs to the process's effective user.
    let is_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !is_root {
        // Not root: the default is "nothing to do".
        assert_eq!(cc::change_user(""), Ok(()));
        assert_eq!(rc::change_user(""), Ok(()));
    } else if rc::lookup_user(rc::DEFAULT_USER) == Err(rc::ERR_NO_USER) {
        // Root: the default user "mtproxy", which does not exist here.
        assert_eq!(cc::change_user(""), Err(cc::ERR_NO_USER));
        assert_eq!(rc::change_user(""), Err(rc::ERR_NO_USER));
    }
    // Root with an existing "mtproxy" user: calling it would drop this
    // process's privileges, so nothing is checked.
}

#[test]
fn file_limit_already_reached_changes_nothing_on_either_side() {
    let (c_now, c_clamped) = cc::raise_file_limit(0).expect("C getrlimit");
    let (r_now, r_clamped) = rc::raise_file_limit(0).expect("Rust getrlimit");
    assert_eq!(
        (c_now.soft, c_now.hard, c_clamped),
        (r_now.soft, r_now.hard, r_clamped)
    );
    assert!(!c_clamped);
    for wanted in [r_now.soft, r_now.soft / 2, 1] {
        let (c_out, c_clamped) = cc::raise_file_limit(wanted).expect("C");
        let (r_out, r_clamped) = rc::raise_file_limit(wanted).expect("Rust");
        assert_eq!(
            (c_out.soft, c_out.hard, c_clamped),
            (r_now.soft, r_now.hard, false),
            "C {wanted}"
        );
        assert_eq!(
            (r_out.soft, r_out.hard, r_clamped),
            (r_now.soft, r_now.hard, false),
            "Rust {wanted}"
        );
    }
}

/// Text that is usually a memory size or close to one.
fn size_like() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        12 => b'0'..=b'9',
        2 => prop::sample::select(&b"kKmMgGtT"[..]),
        1 => prop::sample::select(&b" +-.bpx\0\xff"[..]),
    ];
    prop::collection::vec(byte, 0..=24)
}

/// The parse in exact arithmetic.
fn model(digits: &str, shift: u32) -> Result<i64, i32> {
    if digits.is_empty() || digits.len() > 19 {
        return Err(rc::ERR_SYNTAX);
    }
    let value: u128 = digits.parse::<u128>().map_err(|_| rc::ERR_SYNTAX)? << shift;
    i64::try_from(value).map_err(|_| rc::ERR_RANGE)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn memory_size_matches_on_random_text(text in size_like()) {
        prop_assert_eq!(cc::parse_memory_size(&text), rc::parse_memory_size(&text));
    }

    #[test]
    fn memory_size_matches_the_model(
        number in prop_oneof![any::<u64>(), 0u64..100_000, Just(u64::MAX)],
        zeros in 0usize..4,
        suffix in prop::sample::select(&["", "k", "K", "m", "M", "g", "G", "t", "T"][..]),
    ) {
        let digits = format!("{}{number}", "0".repeat(zeros));
        let text = format!("{digits}{suffix}");
        let shift = match suffix.to_ascii_lowercase().as_str() {
            "k" => 10, "m" => 20, "g" => 30, "t" => 40, _ => 0,
        };
        let c_out = cc::parse_memory_size(text.as_bytes());
        prop_assert_eq!(c_out, rc::parse_memory_size(text.as_bytes()));
        prop_assert_eq!(c_out, model(&digits, shift), "{}", text);
    }

    #[test]
    fn lookups_of_random_names_agree(name in "[a-z_][a-z0-9_-]{0,12}") {
        prop_assert_eq!(cc::lookup_user(&name), rc::lookup_user(&name));
    }
}

#[test]
fn tcp_window_clamp_results_agree() {
    use mtproxy_sys::c::server_functions as rust_linked;
    use std::os::fd::AsRawFd;
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let file = std::fs::File::open("/dev/null").unwrap();
    for (fd, clamp) in [
        (socket.as_raw_fd(), 131_072),
        (socket.as_raw_fd(), 1),
        (socket.as_raw_fd(), u32::MAX),
        (file.as_raw_fd(), 65_536),
        (-1, 65_536),
    ] {
        assert_eq!(
            cc::set_tcp_window_clamp(fd, clamp),
            rust_linked::set_tcp_window_clamp(fd, clamp),
            "fd {fd} clamp {clamp}"
        );
    }
    assert_eq!(
        cc::set_tcp_window_clamp(socket.as_raw_fd(), 131_072),
        Ok(())
    );
    assert!(cc::set_tcp_window_clamp(file.as_raw_fd(), 1).is_err());
}
