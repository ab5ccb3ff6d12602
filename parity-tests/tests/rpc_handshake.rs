//! rpc-handshake: C vs Rust parsers and builders on random and hostile
//! payloads, both state machines over random step sequences, and full
//! exchanges between a client in one language and a server in the other
//! (framed with rpc-frame, also across languages).
use mtproxy_sys::bindings_cref as raw;
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::rpc_frame as cf;
use c::rpc_handshake as ch;
use rust::net::rpc_frame as rf;
use rust::net::rpc_handshake as rh;

const KEY: u32 = 0xefbe_adde; // secret bytes de ad be ef
const NOW: i64 = 1_700_000_000;

fn pid_bytes(ip: u32, port: i16, pid: u16, utime: i32) -> [u8; 12] {
    let id = rust::common::pid::ProcessId {
        ip,
        port,
        pid,
        utime,
    };
    rust::common::pid::process_id_encode(&id)
}

/// Both sides take the core's own config record.
fn hs_config(role: rh::Role, want: bool, our: [u8; 12], peer: [u8; 12]) -> rh::HandshakeConfig {
    rh::HandshakeConfig {
        role,
        key_select: KEY,
        want_crc32c: want,
        our_pid: our,
        peer_pid: peer,
    }
}

#[test]
fn known_answers_both_sides() {
    let nonce: [u8; 16] = core::array::from_fn(|i| i as u8);
    let c_nonce = ch::build_nonce(KEY, ch::SCHEMA_AES, 1_700_000_000, &nonce).unwrap();
    let r_nonce = rh::build_nonce(KEY, rh::SCHEMA_AES, 1_700_000_000, &nonce).unwrap();
    let mut want = vec![0xaa, 0x87, 0xcb, 0x7a, 0xde, 0xad, 0xbe, 0xef, 1, 0, 0, 0];
    want.extend_from_slice(&[0x00, 0xf1, 0x53, 0x65]);
    want.extend_from_slice(&nonce);
    assert_eq!(c_nonce, want);
    assert_eq!(r_nonce, want);
    // docs/PROTOCOL.md §4.3: the nonce goes out as a 44-byte frame with seq -2.
    let prefix = [
        0x2c, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xaa, 0x87, 0xcb, 0x7a,
    ];
    let c_frame = cf::encode_frame(-2, &c_nonce, cf::CrcKind::Crc32).unwrap();
    let r_frame = rf::encode_frame(-2, &r_nonce, rf::CrcKind::Crc32).unwrap();
    assert_eq!((c_frame.len(), &c_frame[..12]), (44, &prefix[..]));
    assert_eq!(r_frame, c_frame);
    let mut ext = want.clone();
    ext.extend_from_slice(&[0, 0, 0, 0]); // no extra key ids
    ext[8] = 2;
    assert_eq!(
        ch::build_nonce(KEY, 2, 1_700_000_000, &nonce),
        Ok(ext.clone())
    );
    assert_eq!(
        rh::build_nonce(KEY, 2, 1_700_000_000, &nonce).map(|v| v.len()),
        Ok(36)
    );

    // §4.6: handshake = op, flags 0x800, sender pid, peer pid.
    let sender = pid_bytes(0x0a00_0001, -1, 0x1234, 0x6000_0000);
    let peer = pid_bytes(0x0a00_0002, 8888, 0, 0);
    let mut want = vec![0xf5, 0xee, 0x82, 0x76, 0x00, 0x08, 0x00, 0x00];
    want.extend_from_slice(&[0x01, 0, 0, 0x0a, 0xff, 0xff, 0x34, 0x12, 0, 0, 0, 0x60]);
    want.extend_from_slice(&[0x02, 0, 0, 0x0a, 0xb8, 0x22, 0, 0, 0, 0, 0, 0]);
    assert_eq!(ch::build_handshake(0x800, &sender, &peer)[..], want[..]);
    assert_eq!(rh::build_handshake(0x800, &sender, &peer)[..], want[..]);
    // Framed and padded: 44 + one padding word = 48 (§4.2).
    let framed = cf::encode_frame(-1, &want, cf::CrcKind::Crc32).unwrap();
    assert_eq!(framed[..8], [0x2c, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(rf::write_padding(framed.len() as u64, &mut [0; 12]), Ok(4));

    // HANDSHAKE_ERROR: op, code, sender pid (20 bytes).
    let mut want = vec![0xda, 0xbe, 0x27, 0x6a, 0xfc, 0xff, 0xff, 0xff];
    want.extend_from_slice(&sender);
    assert_eq!(ch::build_handshake_error(-4, &sender)[..], want[..]);
    assert_eq!(rh::build_handshake_error(-4, &sender)[..], want[..]);
    let parsed = (
        ch::parse_handshake_error(&want).unwrap().code,
        rh::parse_handshake_error(&want).unwrap().code,
    );
    assert_eq!(parsed, (-4, -4));

    // §4.7: PING id -> PONG id.
    let ping = [0xdf, 0xa2, 0x30, 0x57, 8, 7, 6, 5, 4, 3, 2, 1];
    let pong = [0xa7, 0xea, 0x30, 0x84, 8, 7, 6, 5, 4, 3, 2, 1];
    assert_eq!(ch::build_ping(0x0102_0304_0506_0708), ping);
    assert_eq!(rh::build_ping(0x0102_0304_0506_0708), ping);
    assert_eq!(ch::pong_for_ping(&ping), Ok(pong));
    assert_eq!(rh::pong_for_ping(&ping), Ok(pong));
}

#[test]
fn constants_agree() {
    let c_codes = [
        ch::ERR_BAD_OP,
        ch::ERR_BAD_LENGTH,
        ch::ERR_PID_MISMATCH,
        ch::ERR_KEY_MISMATCH,
        ch::ERR_BAD_SCHEMA,
        ch::ERR_BAD_FLAGS,
        ch::ERR_NO_CRC32C,
        ch::ERR_CLOCK_SKEW,
        ch::ERR_TOO_MANY_KEYS,
        ch::ERR_STATE,
    ];
    let r_codes = [
        rh::ERR_BAD_OP,
        rh::ERR_BAD_LENGTH,
        rh::ERR_PID_MISMATCH,
        rh::ERR_KEY_MISMATCH,
        rh::ERR_BAD_SCHEMA,
        rh::ERR_BAD_FLAGS,
        rh::ERR_NO_CRC32C,
        rh::ERR_CLOCK_SKEW,
        rh::ERR_TOO_MANY_KEYS,
        rh::ERR_STATE,
    ];
    assert_eq!(c_codes, r_codes);
    // The codes a HANDSHAKE_ERROR carries (docs/PROTOCOL.md §4.6).
    assert_eq!(
        [
            rh::ERR_BAD_LENGTH,
            rh::ERR_PID_MISMATCH,
            rh::ERR_BAD_FLAGS,
            rh::ERR_NO_CRC32C
        ],
        [-3, -4, -7, -8]
    );
    let ops = [
        ch::RPC_NONCE,
        ch::RPC_HANDSHAKE,
        ch::RPC_HANDSHAKE_ERROR,
        ch::RPC_PING,
        ch::RPC_PONG,
    ];
    let r_ops = [
        rh::RPC_NONCE,
        rh::RPC_HANDSHAKE,
        rh::RPC_HANDSHAKE_ERROR,
        rh::RPC_PING,
        rh::RPC_PONG,
    ];
    assert_eq!(ops, r_ops);
    assert_eq!(
        r_ops,
        [
            0x7acb_87aa,
            0x7682_eef5,
            0x6a27_beda,
            0x5730_a2df,
            0x8430_eaa7
        ]
    );
    for code in -1..7 {
        assert_eq!(
            ch::State::from_code(code).map(ch::State::code),
            rh::State::from_code(code).map(rh::State::code)
        );
        assert_eq!(
            ch::Role::from_code(code).map(ch::Role::code),
            rh::Role::from_code(code).map(rh::Role::code)
        );
    }
}

/// Runs a full exchange: client and server each from `c` (true) or Rust,
/// payloads framed by the sender's language and decoded by the receiver's.
/// `tamper` may change the server's handshake payload. Returns (client,
/// server) state fields and the client's error reply, if any.
fn exchange(
    client_in_c: bool,
    server_in_c: bool,
    want: (bool, bool),
    pids: ([u8; 12], [u8; 12], [u8; 12]),
    clocks: (i64, i64),
    server_key: u32,
    tamper: impl Fn(&mut [u8; 32]),
) -> (ExchangeEnd, ExchangeEnd) {
    let (proxy_pid, proxy_view_of_me, me_pid) = pids;
    let mut client = End::new(
        client_in_c,
        true,
        want.0,
        proxy_pid,
        proxy_view_of_me,
        clocks.0,
        KEY,
        [1; 16],
    );
    let mut server = End::new(
        server_in_c,
        false,
        want.1,
        me_pid,
        [0; 12],
        clocks.1,
        server_key,
        [2; 16],
    );
    // The first failure ends the exchange; the summaries tell who failed.
    let _ = (|| -> Result<(), i32> {
        let nonce = client.send_nonce()?;
        let nonce = carry(client_in_c, server_in_c, -2, &nonce);
        server.receive_nonce(&nonce, clocks.1)?;
        let reply = carry(server_in_c, client_in_c, -2, &server.send_nonce()?);
        client.receive_nonce(&reply, clocks.0)?;
        let hs = carry(client_in_c, server_in_c, -1, &client.send_handshake()?);
        server.receive_handshake(&hs)?;
        let mut hs: [u8; 32] = server.send_handshake()?;
        tamper(&mut hs);
        client.receive_handshake(&carry(server_in_c, client_in_c, -1, &hs))
    })();
    (client.summary(), server.summary())
}

/// Frames `payload` with the sender's language and decodes it with the
/// receiver's (random chunking is covered by rpc-frame's own tests).
fn carry(from_c: bool, to_c: bool, seq: i32, payload: &[u8]) -> Vec<u8> {
    let wire = if from_c {
        cf::encode_frame(seq, payload, cf::CrcKind::Crc32).unwrap()
    } else {
        rf::encode_frame(seq, payload, rf::CrcKind::Crc32).unwrap()
    };
    let got = if to_c {
        let mut dec = cf::FrameDecoder::new(seq, cf::CrcKind::Crc32);
        dec.push(&wire).map(|p| p.frame.map(|f| f.payload.to_vec()))
    } else {
        let mut dec = rf::FrameDecoder::new(seq, rf::CrcKind::Crc32);
        dec.push(&wire).map(|p| p.frame.map(|f| f.payload.to_vec()))
    };
    got.unwrap().unwrap()
}

/// Outcome of one end: state, error, CRC-32C use, key inputs, error reply.
type ExchangeEnd = (
    i32,
    i32,
    bool,
    Result<([u8; 16], [u8; 16], i32), i32>,
    Result<[u8; 20], i32>,
);

/// One end of an exchange in either language.
enum End {
    C(ch::Handshake),
    Rust(rh::Handshake),
}

impl End {
    #[allow(clippy::too_many_arguments)]
    fn new(
        in_c: bool,
        client: bool,
        want: bool,
        our: [u8; 12],
        peer: [u8; 12],
        now: i64,
        key: u32,
        nonce: [u8; 16],
    ) -> End {
        // One config record type serves both sides.
        let role = if client {
            rh::Role::Client
        } else {
            rh::Role::Server
        };
        let config = rh::HandshakeConfig {
            key_select: key,
            ..hs_config(role, want, our, peer)
        };
        if in_c {
            End::C(ch::Handshake::new(&config, now, &nonce))
        } else {
            End::Rust(rh::Handshake::new(&config, now, &nonce))
        }
    }

    fn send_nonce(&mut self) -> Result<[u8; 32], i32> {
        match self {
            End::C(h) => h.send_nonce(),
            End::Rust(h) => h.send_nonce(),
        }
    }

    fn receive_nonce(&mut self, p: &[u8], now: i64) -> Result<(), i32> {
        match self {
            End::C(h) => h.receive_nonce(p, now),
            End::Rust(h) => h.receive_nonce(p, now),
        }
    }

    fn send_handshake(&mut self) -> Result<[u8; 32], i32> {
        match self {
            End::C(h) => h.send_handshake(),
            End::Rust(h) => h.send_handshake(),
        }
    }

    fn receive_handshake(&mut self, p: &[u8]) -> Result<(), i32> {
        match self {
            End::C(h) => h.receive_handshake(p),
            End::Rust(h) => h.receive_handshake(p),
        }
    }

    fn summary(&self) -> ExchangeEnd {
        match self {
            End::C(h) => (
                h.state.code(),
                h.error,
                h.use_crc32c,
                h.key_inputs()
                    .map(|k| (k.server_nonce, k.client_nonce, k.client_ts)),
                h.error_reply(),
            ),
            End::Rust(h) => (
                h.state.code(),
                h.error,
                h.use_crc32c,
                h.key_inputs()
                    .map(|k| (k.server_nonce, k.client_nonce, k.client_ts)),
                h.error_reply(),
            ),
        }
    }
}

const READY: i32 = 4;
const FAILED: i32 = 5;

fn standard_pids() -> ([u8; 12], [u8; 12], [u8; 12]) {
    (
        pid_bytes(0x0a00_0001, -1, 4321, 1_690_000_000),
        pid_bytes(0x0a00_0002, 8888, 0, 0),
        pid_bytes(0x0a00_0002, 8888, 77, 1_680_000_000),
    )
}

/// Runs `exchange` for all four language pairings and checks they agree.
fn all_pairings(
    want: (bool, bool),
    pids: ([u8; 12], [u8; 12], [u8; 12]),
    clocks: (i64, i64),
    server_key: u32,
    tamper: impl Fn(&mut [u8; 32]) + Copy,
) -> (ExchangeEnd, ExchangeEnd) {
    let first = exchange(true, true, want, pids, clocks, server_key, tamper);
    for (cc, sc) in [(true, false), (false, true), (false, false)] {
        assert_eq!(
            exchange(cc, sc, want, pids, clocks, server_key, tamper),
            first,
            "client C {cc}, server C {sc}"
        );
    }
    first
}

#[test]
fn both_ends_reach_ready_across_languages() {
    for want in [(true, true), (true, false), (false, true), (false, false)] {
        let (client, server) = all_pairings(want, standard_pids(), (NOW, NOW + 3), KEY, |_| {});
        assert_eq!((client.0, server.0), (READY, READY), "{want:?}");
        let both = want.0 && want.1;
        assert_eq!((client.2, server.2), (both, both), "{want:?}");
        // Both ends feed the same inputs into key derivation.
        assert_eq!(client.3, server.3);
        assert_eq!(client.3, Ok(([2; 16], [1; 16], NOW as i32)));
    }
    // An all-zero peer pid (the fake ME's) always passes.
    let (p, _, m) = standard_pids();
    let (client, server) = all_pairings((true, true), (p, [0; 12], m), (NOW, NOW), KEY, |_| {});
    assert_eq!((client.0, server.0), (READY, READY));
}

#[test]
fn mismatches_fail_alike_across_languages() {
    // Wrong key_select: the server refuses the client's nonce.
    let (client, server) = all_pairings((true, true), standard_pids(), (NOW, NOW), KEY ^ 1, |_| {});
    assert_eq!((server.0, server.1), (FAILED, rh::ERR_KEY_MISMATCH));
    assert_eq!(client.0, 1); // still waiting for a nonce
                             // Clock skew of 31 s (and exactly 30 s passes).
    let (_, server) = all_pairings((true, true), standard_pids(), (NOW, NOW + 31), KEY, |_| {});
    assert_eq!((server.0, server.1), (FAILED, rh::ERR_CLOCK_SKEW));
    let (client, server) =
        all_pairings((true, true), standard_pids(), (NOW, NOW - 30), KEY, |_| {});
    assert_eq!((client.0, server.0), (READY, READY));
    // The proxy names a different ME port: the server refuses its handshake.
    let (p, _, m) = standard_pids();
    let wrong = pid_bytes(0x0a00_0002, 443, 0, 0);
    let (_, server) = all_pairings((true, true), (p, wrong, m), (NOW, NOW), KEY, |_| {});
    assert_eq!((server.0, server.1), (FAILED, rh::ERR_PID_MISMATCH));
    assert_eq!(
        server.4.map(|r| r[4..8].to_vec()),
        Ok((-4i32).to_le_bytes().to_vec())
    );
    // The ME sets low flag bits, names the proxy wrongly, or forces CRC-32C.
    for (tamper, want_code) in [
        (
            (|h: &mut [u8; 32]| h[4] = 1) as fn(&mut [u8; 32]),
            rh::ERR_BAD_FLAGS,
        ),
        (
            |h: &mut [u8; 32]| h[20..24].copy_from_slice(&[9, 9, 9, 9]),
            rh::ERR_PID_MISMATCH,
        ),
        (|h: &mut [u8; 32]| h[5] = 0x08, rh::ERR_NO_CRC32C),
    ] {
        let want = (want_code != rh::ERR_NO_CRC32C, true);
        let (client, server) = all_pairings(want, standard_pids(), (NOW, NOW), KEY, tamper);
        assert_eq!((client.0, client.1), (FAILED, want_code));
        assert_eq!(server.0, READY);
        // The client's HANDSHAKE_ERROR reads back the same on both sides.
        let reply = client.4.unwrap();
        let c_read = ch::parse_handshake_error(&reply).map(|e| (e.code, e.sender_pid));
        let r_read = rh::parse_handshake_error(&reply).map(|e| (e.code, e.sender_pid));
        assert_eq!(c_read, r_read);
        assert_eq!(r_read, Ok((want_code, standard_pids().0)));
    }
}

#[test]
fn hostile_payloads_on_both_sides() {
    let own = standard_pids().0;
    let nonce = rh::build_nonce(KEY, 1, NOW as i32, &[5; 16]).unwrap();
    let hs = rh::build_handshake(0, &[0; 12], &[0; 12]);
    let err = rh::build_handshake_error(-3, &own);
    let ping = rh::build_ping(-1);
    // Every truncation and a few extensions.
    for len in 0..40 {
        let mut n = nonce.clone();
        n.resize(len, 0);
        assert_eq!(
            ch::parse_nonce(&n, KEY, NOW),
            rh::parse_nonce(&n, KEY, NOW),
            "{len}"
        );
        let want = if len == 32 {
            Ok(())
        } else {
            Err(rh::ERR_BAD_LENGTH)
        };
        assert_eq!(rh::parse_nonce(&n, KEY, NOW).map(|_| ()), want, "{len}");
        let mut h = hs.to_vec();
        h.resize(len, 0);
        let c_out = ch::parse_handshake(&h, &own, true);
        assert_eq!(c_out, rh::parse_handshake(&h, &own, true), "{len}");
        let want = if len == 32 {
            Ok(())
        } else {
            Err(rh::ERR_BAD_LENGTH)
        };
        assert_eq!(c_out.map(|_| ()), want, "{len}");
        let mut e = err.to_vec();
        e.resize(len, 0);
        let c_out = ch::parse_handshake_error(&e).map(|i| (i.code, i.sender_pid));
        assert_eq!(
            c_out,
            rh::parse_handshake_error(&e).map(|i| (i.code, i.sender_pid))
        );
        let mut p = ping.to_vec();
        p.resize(len, 0);
        assert_eq!(ch::pong_for_ping(&p), rh::pong_for_ping(&p));
    }
    // Schemas NONE, DH and garbage; extra key counts near 2^31.
    for (schema, count, want) in [
        (0u32, None, rh::ERR_BAD_SCHEMA),
        (3, None, rh::ERR_BAD_SCHEMA),
        (0xffff_ffff, None, rh::ERR_BAD_SCHEMA),
        (2, Some(9u32), rh::ERR_TOO_MANY_KEYS),
        (2, Some(0x7fff_ffff), rh::ERR_TOO_MANY_KEYS),
        (2, Some(0x8000_0000), rh::ERR_TOO_MANY_KEYS),
        (2, Some(0xffff_ffff), rh::ERR_TOO_MANY_KEYS),
        (2, Some(0x4000_0001), rh::ERR_TOO_MANY_KEYS),
        (2, Some(1), rh::ERR_BAD_LENGTH),
    ] {
        let mut n = nonce.clone();
        n[8..12].copy_from_slice(&schema.to_le_bytes());
        if let Some(count) = count {
            n.extend_from_slice(&count.to_le_bytes());
        }
        assert_eq!(
            ch::parse_nonce(&n, KEY, NOW).map(|_| ()),
            Err(want),
            "C {schema} {count:?}"
        );
        assert_eq!(
            rh::parse_nonce(&n, KEY, NOW).map(|_| ()),
            Err(want),
            "Rust {schema} {count:?}"
        );
    }
    // Stale and future timestamps, clocks at the ends of i64.
    for now in [i64::MIN, i64::MAX, NOW - 31, NOW + 31, -NOW, 0] {
        assert_eq!(
            ch::parse_nonce(&nonce, KEY, now).map(|_| ()),
            Err(rh::ERR_CLOCK_SKEW),
            "C {now}"
        );
        assert_eq!(
            rh::parse_nonce(&nonce, KEY, now).map(|_| ()),
            Err(rh::ERR_CLOCK_SKEW),
            "Rust {now}"
        );
    }
    // A replayed nonce in the handshake slot, a handshake error, a ping.
    for wrong in [&nonce[..], &err[..], &ping[..]] {
        assert_eq!(
            ch::parse_handshake(wrong, &own, true).map(|_| ()),
            Err(rh::ERR_BAD_OP)
        );
        assert_eq!(
            rh::parse_handshake(wrong, &own, true).map(|_| ()),
            Err(rh::ERR_BAD_OP)
        );
    }
}

#[test]
fn invalid_states_and_null_pointers_are_refused() {
    let mut state = raw::mtp_rpc_hs {
        role: 2,
        ..Default::default()
    };
    let mut out = [0u8; 32];
    // SAFETY: live structs and buffers of the sizes the contract requires;
    // NULL where the contract allows it.
    unsafe {
        assert_eq!(
            raw::mtp_rpc_hs_send_nonce(&mut state, out.as_mut_ptr()),
            ch::ERR_ARG
        );
        state.role = 0;
        state.state = 5; // failed without an error
        assert_eq!(
            raw::mtp_rpc_hs_send_nonce(&mut state, out.as_mut_ptr()),
            ch::ERR_ARG
        );
        state.state = 0;
        state.error = -3; // an error without having failed
        assert_eq!(
            raw::mtp_rpc_hs_send_nonce(&mut state, out.as_mut_ptr()),
            ch::ERR_ARG
        );
        assert_eq!(
            raw::mtp_rpc_hs_send_nonce(std::ptr::null_mut(), out.as_mut_ptr()),
            ch::ERR_ARG
        );
        state.error = 0;
        assert_eq!(
            raw::mtp_rpc_hs_send_nonce(&mut state, std::ptr::null_mut()),
            ch::ERR_ARG
        );
        assert_eq!(
            raw::mtp_rpc_hs_receive_nonce(&mut state, std::ptr::null(), 4, 0),
            ch::ERR_ARG
        );
        let got = raw::mtp_rpc_nonce_parse(std::ptr::null(), 0, 0, 0, std::ptr::null_mut());
        assert_eq!(got, ch::ERR_ARG);
        let got =
            raw::mtp_rpc_handshake_build(0, std::ptr::null(), std::ptr::null(), out.as_mut_ptr());
        assert_eq!(got, ch::ERR_ARG);
    }
}

/// The error builder with each of its pointers alone NULL: refused on both
/// sides (one NULL is enough).
#[test]
fn error_builder_refuses_each_null_pointer_on_both_sides() {
    use mtproxy_sys::bindings as rust_raw;
    let pid = [7u8; rh::PID_LEN];
    let mut out = [0u8; rh::HANDSHAKE_ERROR_LEN];
    // SAFETY: live buffers of the sizes the contract requires; NULL where
    // the contract says the call is refused.
    let got = unsafe {
        [
            raw::mtp_rpc_handshake_error_build(1, std::ptr::null(), out.as_mut_ptr()),
            raw::mtp_rpc_handshake_error_build(1, pid.as_ptr(), std::ptr::null_mut()),
            rust_raw::mtp_rpc_handshake_error_build(1, std::ptr::null(), out.as_mut_ptr()),
            rust_raw::mtp_rpc_handshake_error_build(1, pid.as_ptr(), std::ptr::null_mut()),
        ]
    };
    assert_eq!(got, [ch::ERR_ARG; 4]);
    assert_eq!(out, [0; rh::HANDSHAKE_ERROR_LEN], "nothing written");
}

/// A random step on a state machine.
#[derive(Clone, Debug)]
enum Step {
    SendNonce,
    ReceiveNonce(Vec<u8>, i64),
    SendHandshake,
    ReceiveHandshake(Vec<u8>),
}

/// Payloads that are usually almost valid: a real message with a few
/// random byte changes and a random length.
fn near_valid(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        0usize..48,
        any::<bool>(),
    )
        .prop_map(move |(edits, len, resize)| {
            let mut p = base.clone();
            for (at, byte) in edits {
                if let Some(slot) = p.get_mut(at % 48) {
                    *slot = byte;
                }
            }
            if resize {
                p.resize(len, 0);
            }
            p
        })
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let nonce = rh::build_nonce(KEY, 1, NOW as i32, &[3; 16]).unwrap();
    let hs = rh::build_handshake(0x800, &[7; 12], &[0; 12]);
    let step = prop_oneof![
        Just(Step::SendNonce),
        (near_valid(nonce), NOW - 40..NOW + 40).prop_map(|(p, now)| Step::ReceiveNonce(p, now)),
        Just(Step::SendHandshake),
        near_valid(hs.to_vec()).prop_map(Step::ReceiveHandshake),
    ];
    proptest::collection::vec(step, 0..8)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_nonce_matches(
        payload in prop_oneof![parity_tests::bytes(80), near_valid(rh::build_nonce(KEY, 2, NOW as i32, &[9; 16]).unwrap())],
        key in prop_oneof![Just(KEY), any::<u32>()],
        now in prop_oneof![NOW - 40..NOW + 40, any::<i64>()],
    ) {
        prop_assert_eq!(ch::parse_nonce(&payload, key, now), rh::parse_nonce(&payload, key, now));
    }

    #[test]
    fn parse_handshake_matches(
        payload in prop_oneof![parity_tests::bytes(40), near_valid(rh::build_handshake(0x800, &[1; 12], &[0; 12]).to_vec())],
        own in any::<[u8; 12]>(),
        allowed in any::<bool>(),
    ) {
        let c_out = ch::parse_handshake(&payload, &own, allowed);
        prop_assert_eq!(c_out, rh::parse_handshake(&payload, &own, allowed));
    }

    #[test]
    fn small_messages_match(payload in parity_tests::bytes(24), ping_id in any::<i64>(), code in any::<i32>(), pid in any::<[u8; 12]>()) {
        prop_assert_eq!(ch::pong_for_ping(&payload), rh::pong_for_ping(&payload));
        let c_err = ch::parse_handshake_error(&payload).map(|e| (e.code, e.sender_pid));
        prop_assert_eq!(c_err, rh::parse_handshake_error(&payload).map(|e| (e.code, e.sender_pid)));
        let ping = ch::build_ping(ping_id);
        prop_assert_eq!(ping, rh::build_ping(ping_id));
        let pong = rh::pong_for_ping(&ping).unwrap();
        prop_assert_eq!(&pong[4..], &ping_id.to_le_bytes()[..]);
        let err = ch::build_handshake_error(code, &pid);
        prop_assert_eq!(err, rh::build_handshake_error(code, &pid));
        prop_assert_eq!(rh::parse_handshake_error(&err).map(|e| (e.code, e.sender_pid)), Ok((code, pid)));
    }

    #[test]
    fn builders_match_and_parse_back(key in any::<u32>(), schema in -1i32..5, ts in any::<i32>(), nonce in any::<[u8; 16]>(), flags in any::<u32>(), pids in any::<([u8; 12], [u8; 12])>()) {
        let c_nonce = ch::build_nonce(key, schema, ts, &nonce);
        prop_assert_eq!(&c_nonce, &rh::build_nonce(key, schema, ts, &nonce));
        if let Ok(n) = c_nonce {
            let back = rh::parse_nonce(&n, key, i64::from(ts)).map(|i| (i.schema, i.timestamp, i.nonce));
            prop_assert_eq!(back, Ok((schema, ts, nonce)));
        }
        let hs = ch::build_handshake(flags, &pids.0, &pids.1);
        prop_assert_eq!(hs, rh::build_handshake(flags, &pids.0, &pids.1));
        // Our own pid always matches itself; the flags decide the rest.
        let back = ch::parse_handshake(&hs, &pids.1, true);
        prop_assert_eq!(back, rh::parse_handshake(&hs, &pids.1, true));
    }

    /// Both state machines through the same random steps: same results,
    /// same replies and the same state after every step.
    #[test]
    fn state_machines_agree_on_random_steps(
        server in any::<bool>(), want in any::<bool>(), steps in steps(), nonce in any::<[u8; 16]>()
    ) {
        let (our, peer) = if server { (standard_pids().2, [0; 12]) } else { (standard_pids().0, standard_pids().1) };
        let role = (if server { ch::Role::Server } else { ch::Role::Client }, if server { rh::Role::Server } else { rh::Role::Client });
        let mut c_hs = ch::Handshake::new(&hs_config(role.0, want, our, peer), NOW, &nonce);
        let mut r_hs = rh::Handshake::new(&hs_config(role.1, want, our, peer), NOW, &nonce);
        // One record type on both sides: every field compared.
        prop_assert_eq!(*c_hs, r_hs);
        for step in &steps {
            match step {
                Step::SendNonce => prop_assert_eq!(c_hs.send_nonce(), r_hs.send_nonce()),
                Step::ReceiveNonce(p, now) => prop_assert_eq!(c_hs.receive_nonce(p, *now), r_hs.receive_nonce(p, *now)),
                Step::SendHandshake => prop_assert_eq!(c_hs.send_handshake(), r_hs.send_handshake()),
                Step::ReceiveHandshake(p) => prop_assert_eq!(c_hs.receive_handshake(p), r_hs.receive_handshake(p)),
            }
            prop_assert_eq!(*c_hs, r_hs);
            prop_assert_eq!(c_hs.error_reply(), r_hs.error_reply());
            prop_assert_eq!(c_hs.key_inputs(), r_hs.key_inputs());
        }
    }

    /// Random pids, clocks and wishes: every language pairing ends alike,
    /// and READY on both ends exactly when the model says so.
    #[test]
    fn exchanges_agree_with_the_model(
        want in any::<(bool, bool)>(),
        skew in -35i64..35,
        peer_ip in prop_oneof![Just(0u32), Just(0x0a00_0002), any::<u32>()],
        peer_port in prop_oneof![Just(0i16), Just(8888), any::<i16>()],
    ) {
        let (p, _, m) = standard_pids();
        let view = pid_bytes(peer_ip, peer_port, 0, 0);
        let (client, server) = all_pairings(want, (p, view, m), (NOW, NOW + skew), KEY, |_| {});
        let pid_ok = (peer_ip == 0 || peer_ip == 0x0a00_0002) && (peer_port == 0 || peer_port == 8888);
        let ready = skew.abs() <= 30 && pid_ok;
        prop_assert_eq!(client.0 == READY && server.0 == READY, ready);
        if ready {
            prop_assert_eq!(client.2, want.0 && want.1);
            prop_assert_eq!(server.2, want.0 && want.1);
        }
    }
}

mod args;
