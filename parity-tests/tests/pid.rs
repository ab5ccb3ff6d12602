//! pid: C vs Rust on random process ids, wire bytes and wildcard matches.
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::pid as cc;
use rust::common::pid as rc;

/// The fields of either side's struct (same names on both), for comparing.
macro_rules! fields {
    ($id:expr) => {{
        let id = &$id;
        (id.ip, id.port, id.pid, id.utime)
    }};
}

type Fields = (u32, i16, u16, i32);

fn c_id((ip, port, pid, utime): Fields) -> cc::ProcessId {
    cc::ProcessId {
        ip,
        port,
        pid,
        utime,
    }
}

fn r_id((ip, port, pid, utime): Fields) -> rc::ProcessId {
    rc::ProcessId {
        ip,
        port,
        pid,
        utime,
    }
}

fn any_fields() -> impl Strategy<Value = Fields> {
    (any::<u32>(), any::<i16>(), any::<u16>(), any::<i32>())
}

#[test]
fn known_answers_both_sides() {
    // docs/PROTOCOL.md §4.6: 127.0.0.1 is written as the LE host-order value.
    let c_id = cc::process_id_init(0x7f00_0001, 8888, 70_000, 0x6000_0001);
    let r_id = rc::process_id_init(0x7f00_0001, 8888, 70_000, 0x6000_0001);
    assert_eq!(fields!(c_id), (0x7f00_0001, 8888, 4464, 0x6000_0001));
    assert_eq!(fields!(r_id), fields!(c_id));
    let want = [
        0x01, 0x00, 0x00, 0x7f, 0xb8, 0x22, 0x70, 0x11, 0x01, 0x00, 0x00, 0x60,
    ];
    assert_eq!(cc::process_id_encode(&c_id), want);
    assert_eq!(rc::process_id_encode(&r_id), want);
    // The proxy's PID without -p has port -1 (docs/PROTOCOL.md §4.6).
    let no_port = rc::process_id_init(0x0a00_0001, -1, 1, 0);
    assert_eq!(rc::process_id_encode(&no_port)[4..8], [0xff, 0xff, 1, 0]);
    let no_port = cc::process_id_init(0x0a00_0001, -1, 1, 0);
    assert_eq!(cc::process_id_encode(&no_port)[4..8], [0xff, 0xff, 1, 0]);
}

#[test]
fn large_and_negative_os_pids_wrap_on_both_sides() {
    for (os_pid, want) in [
        (70_000i64, 4464u16),
        (65_535, 65_535),
        (65_536, 0),
        (4_194_304, 0),
        (4_194_303, 65_535),
        (-1, 65_535),
        (i64::MIN, 0),
        (i64::MAX, 65_535),
    ] {
        assert_eq!(cc::process_id_init(0, 0, os_pid, 0).pid, want, "C {os_pid}");
        assert_eq!(
            rc::process_id_init(0, 0, os_pid, 0).pid,
            want,
            "Rust {os_pid}"
        );
    }
}

#[test]
fn error_codes_agree() {
    assert_eq!(cc::ERR_SHORT, rc::ERR_SHORT);
    assert_eq!(cc::ENCODED_LEN, rc::ENCODED_LEN);
}

#[test]
fn short_input_is_an_error_on_both_sides() {
    let wire = [0xabu8; 12];
    for len in 0..12 {
        assert_eq!(
            cc::process_id_decode(&wire[..len]).map(|id| fields!(id)),
            Err(cc::ERR_SHORT)
        );
        assert_eq!(rc::process_id_decode(&wire[..len]), Err(rc::ERR_SHORT));
    }
}

#[test]
fn all_zero_peer_always_matches() {
    let own = (0x0a00_0001, 443, 77, 1_700_000_000);
    assert!(cc::process_id_matches(
        &c_id(own),
        &cc::ProcessId::default()
    ));
    assert!(rc::process_id_matches(
        &r_id(own),
        &rc::ProcessId::default()
    ));
    assert!(cc::process_id_matches(
        &cc::ProcessId::default(),
        &cc::ProcessId::default()
    ));
    assert!(rc::process_id_matches(
        &rc::ProcessId::default(),
        &rc::ProcessId::default()
    ));
}

/// A peer built from `own`: each field kept, zeroed (wildcard) or replaced.
fn peer_of(own: Fields, choice: [u8; 4], other: Fields) -> Fields {
    fn pick<T: Default>(choice: u8, own: T, other: T) -> T {
        match choice % 3 {
            0 => own,
            1 => T::default(),
            _ => other,
        }
    }
    (
        pick(choice[0], own.0, other.0),
        pick(choice[1], own.1, other.1),
        pick(choice[2], own.2, other.2),
        pick(choice[3], own.3, other.3),
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn init_matches(ip in any::<u32>(), port in any::<i16>(), os_pid in any::<i64>(), utime in any::<i32>()) {
        let c_out = cc::process_id_init(ip, port, os_pid, utime);
        let r_out = rc::process_id_init(ip, port, os_pid, utime);
        prop_assert_eq!(fields!(c_out), fields!(r_out));
        prop_assert_eq!(i64::from(r_out.pid), os_pid.rem_euclid(65_536));
    }

    #[test]
    fn encode_matches(f in any_fields()) {
        prop_assert_eq!(cc::process_id_encode(&c_id(f)), rc::process_id_encode(&r_id(f)));
    }

    #[test]
    fn decode_matches_on_random_bytes(input in parity_tests::bytes(32)) {
        let c_out = cc::process_id_decode(&input).map(|id| fields!(id));
        let r_out = rc::process_id_decode(&input).map(|id| fields!(id));
        prop_assert_eq!(c_out, r_out);
    }

    #[test]
    fn roundtrip_across_sides(f in any_fields(), tail in parity_tests::bytes(8)) {
        let mut from_c = cc::process_id_encode(&c_id(f)).to_vec();
        from_c.extend_from_slice(&tail);
        prop_assert_eq!(rc::process_id_decode(&from_c).map(|id| fields!(id)), Ok(f));
        let mut from_rust = rc::process_id_encode(&r_id(f)).to_vec();
        from_rust.extend_from_slice(&tail);
        prop_assert_eq!(cc::process_id_decode(&from_rust).map(|id| fields!(id)), Ok(f));
    }

    #[test]
    fn matches_agrees_with_the_wildcard_rule(own in any_fields(), choice in any::<[u8; 4]>(), other in any_fields()) {
        let peer = peer_of(own, choice, other);
        let c_says = cc::process_id_matches(&c_id(own), &c_id(peer));
        let r_says = rc::process_id_matches(&r_id(own), &r_id(peer));
        prop_assert_eq!(c_says, r_says);
        let model = (peer.0 == 0 || peer.0 == own.0)
            && (peer.1 == 0 || peer.1 == own.1)
            && (peer.2 == 0 || peer.2 == own.2)
            && (peer.3 == 0 || peer.3 == own.3);
        prop_assert_eq!(r_says, model);
    }
}
