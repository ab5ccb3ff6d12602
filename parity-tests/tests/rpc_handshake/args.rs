//! Argument checks of every exported rpc-handshake function, called through
//! both raw bindings (C: `bindings_cref`, Rust: `bindings`): each required
//! pointer NULL alone, (NULL, 0) payloads as empty ones, (NULL, 1) refused,
//! and state machines that break the contract's invariants.
use mtproxy_sys::bindings as rust_raw;
use mtproxy_sys::bindings::{
    mtp_rpc_handshake_error_info, mtp_rpc_handshake_info, mtp_rpc_hs, mtp_rpc_hs_config,
    mtp_rpc_key_inputs, mtp_rpc_nonce_info, MTP_RPC_HS_CLIENT, MTP_RPC_HS_ERR_ARG,
    MTP_RPC_HS_ERR_BAD_FLAGS, MTP_RPC_HS_ERR_BAD_LENGTH, MTP_RPC_HS_ERR_BAD_OP,
    MTP_RPC_HS_ERR_BAD_SCHEMA, MTP_RPC_HS_ERR_CLOCK_SKEW, MTP_RPC_HS_ERR_KEY_MISMATCH,
    MTP_RPC_HS_ERR_NO_CRC32C, MTP_RPC_HS_ERR_PID_MISMATCH, MTP_RPC_HS_ERR_STATE,
    MTP_RPC_HS_ERR_TOO_MANY_KEYS, MTP_RPC_HS_FAILED, MTP_RPC_HS_READY, MTP_RPC_HS_SEND_HANDSHAKE,
    MTP_RPC_HS_SEND_NONCE, MTP_RPC_HS_SERVER, MTP_RPC_HS_WAIT_HANDSHAKE, MTP_RPC_HS_WAIT_NONCE,
    MTP_RPC_SCHEMA_AES,
};
use mtproxy_sys::bindings_cref as raw;
use std::ptr::{null, null_mut};

const ARG: i32 = MTP_RPC_HS_ERR_ARG;
const LEN: i32 = MTP_RPC_HS_ERR_BAD_LENGTH;

/// The stateless builders and parsers with one pointer NULL at a time; each
/// entry is the result code plus a summary of what was written.
macro_rules! codec_calls {
    ($b:ident) => {{
        let nonce = [5u8; 16];
        let pid = [7u8; 12];
        let mut out = [0u8; 64];
        let mut out_len = 0usize;
        let mut got: Vec<i32> = Vec::new();
        let ping = [0xdf, 0xa2, 0x30, 0x57, 1, 2, 3, 4, 5, 6, 7, 8];
        // SAFETY: every non-NULL pointer is a live buffer at least as large
        // as the contract requires; NULL only where the call must refuse
        // it, or with length 0 where the contract reads nothing.
        unsafe {
            got.push($b::mtp_rpc_nonce_build(
                1,
                1,
                0,
                null(),
                out.as_mut_ptr(),
                &mut out_len,
            ));
            got.push($b::mtp_rpc_nonce_build(
                1,
                1,
                0,
                nonce.as_ptr(),
                null_mut(),
                &mut out_len,
            ));
            got.push($b::mtp_rpc_nonce_build(
                1,
                1,
                0,
                nonce.as_ptr(),
                out.as_mut_ptr(),
                null_mut(),
            ));
            got.push(out_len as i32);

            let mut ni = mtp_rpc_nonce_info::default();
            let good_nonce = {
                let mut p = [0u8; 32];
                $b::mtp_rpc_nonce_build(
                    9,
                    MTP_RPC_SCHEMA_AES,
                    100,
                    nonce.as_ptr(),
                    p.as_mut_ptr(),
                    &mut out_len,
                );
                p
            };
            got.push($b::mtp_rpc_nonce_parse(
                good_nonce.as_ptr(),
                32,
                9,
                100,
                null_mut(),
            ));
            got.push($b::mtp_rpc_nonce_parse(null(), 1, 9, 100, &mut ni));
            got.push($b::mtp_rpc_nonce_parse(null(), 0, 9, 100, &mut ni));
            got.push($b::mtp_rpc_nonce_parse(
                good_nonce.as_ptr(),
                0,
                9,
                100,
                &mut ni,
            ));
            got.push(ni.key_select as i32);

            got.push($b::mtp_rpc_handshake_build(
                0,
                null(),
                pid.as_ptr(),
                out.as_mut_ptr(),
            ));
            got.push($b::mtp_rpc_handshake_build(
                0,
                pid.as_ptr(),
                null(),
                out.as_mut_ptr(),
            ));
            got.push($b::mtp_rpc_handshake_build(
                0,
                pid.as_ptr(),
                pid.as_ptr(),
                null_mut(),
            ));
            got.push(i32::from(out[..32] == [0; 32]));

            let mut hi = mtp_rpc_handshake_info::default();
            let good_hs = {
                let mut p = [0u8; 32];
                $b::mtp_rpc_handshake_build(0, pid.as_ptr(), pid.as_ptr(), p.as_mut_ptr());
                p
            };
            got.push($b::mtp_rpc_handshake_parse(
                good_hs.as_ptr(),
                32,
                null(),
                0,
                &mut hi,
            ));
            got.push($b::mtp_rpc_handshake_parse(
                good_hs.as_ptr(),
                32,
                pid.as_ptr(),
                0,
                null_mut(),
            ));
            got.push($b::mtp_rpc_handshake_parse(
                null(),
                1,
                pid.as_ptr(),
                0,
                &mut hi,
            ));
            got.push($b::mtp_rpc_handshake_parse(
                null(),
                0,
                pid.as_ptr(),
                0,
                &mut hi,
            ));
            got.push($b::mtp_rpc_handshake_parse(
                good_hs.as_ptr(),
                3,
                pid.as_ptr(),
                0,
                &mut hi,
            ));
            got.push($b::mtp_rpc_handshake_parse(
                good_hs.as_ptr(),
                32,
                pid.as_ptr(),
                0,
                &mut hi,
            ));
            got.push(i32::from(hi.sender_pid == pid));

            let mut ei = mtp_rpc_handshake_error_info::default();
            let good_err = {
                let mut p = [0u8; 20];
                $b::mtp_rpc_handshake_error_build(-4, pid.as_ptr(), p.as_mut_ptr());
                p
            };
            got.push($b::mtp_rpc_handshake_error_parse(
                good_err.as_ptr(),
                20,
                null_mut(),
            ));
            got.push($b::mtp_rpc_handshake_error_parse(null(), 1, &mut ei));
            got.push($b::mtp_rpc_handshake_error_parse(null(), 0, &mut ei));
            got.push($b::mtp_rpc_handshake_error_parse(
                good_err.as_ptr(),
                20,
                &mut ei,
            ));
            got.push(ei.code);

            got.push($b::mtp_rpc_ping_build(1, null_mut()));
            got.push($b::mtp_rpc_pong_for_ping(ping.as_ptr(), 12, null_mut()));
            got.push($b::mtp_rpc_pong_for_ping(null(), 1, out.as_mut_ptr()));
            got.push($b::mtp_rpc_pong_for_ping(null(), 0, out.as_mut_ptr()));
            got.push($b::mtp_rpc_pong_for_ping(
                ping.as_ptr(),
                11,
                out.as_mut_ptr(),
            ));
            got.push($b::mtp_rpc_pong_for_ping(
                ping.as_ptr(),
                12,
                out.as_mut_ptr(),
            ));
            got.push(i32::from(out[4..12] == ping[4..]));
        }
        got
    }};
}

/// Each builder and parser refuses each required pointer alone, refuses a
/// NULL payload with a length, and parses (NULL, 0) as an empty payload.
#[test]
fn null_and_empty_arguments_agree() {
    let c = codec_calls!(raw);
    let r = codec_calls!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    #[rustfmt::skip]
    let want = vec![
        ARG, ARG, ARG, 0,                 // nonce_build: nothing written
        ARG, ARG, LEN, LEN, 0,            // nonce_parse
        ARG, ARG, ARG, 1,                 // handshake_build: nothing written
        ARG, ARG, ARG, LEN, LEN, 0, 1,    // handshake_parse
        ARG, ARG, LEN, 0, -4,             // handshake_error_parse
        ARG, ARG, ARG, LEN, LEN, 0, 1,    // ping_build, pong_for_ping
    ];
    assert_eq!(c, want);
}

fn config(role: i32) -> mtp_rpc_hs_config {
    mtp_rpc_hs_config {
        role,
        key_select: 9,
        want_crc32c: 1,
        our_pid: [7; 12],
        peer_pid: [0; 12],
    }
}

fn hs(role: i32, state: i32, error: i32) -> mtp_rpc_hs {
    mtp_rpc_hs {
        role,
        state,
        error,
        ..mtp_rpc_hs::default()
    }
}

/// The state machine entry points with NULL pointers, and every stateful
/// call on a state that breaks the invariants; each entry is a result code
/// or a summary of the state left behind.
macro_rules! machine_calls {
    ($b:ident) => {{
        let nonce = [5u8; 16];
        let mut out = [0u8; 64];
        let mut ki = mtp_rpc_key_inputs::default();
        let mut got: Vec<i32> = Vec::new();
        // SAFETY: every non-NULL pointer is a live value or buffer at least
        // as large as the contract requires; NULL only where the call must
        // refuse it, or with length 0 where the contract reads nothing.
        unsafe {
            let mut h = mtp_rpc_hs::default();
            let client = config(MTP_RPC_HS_CLIENT);
            got.push($b::mtp_rpc_hs_init(
                null_mut(),
                &client,
                100,
                nonce.as_ptr(),
            ));
            got.push($b::mtp_rpc_hs_init(&mut h, null(), 100, nonce.as_ptr()));
            got.push($b::mtp_rpc_hs_init(&mut h, &client, 100, null()));
            got.push($b::mtp_rpc_hs_init(&mut h, &config(2), 100, nonce.as_ptr()));
            got.push($b::mtp_rpc_hs_init(
                &mut h,
                &config(-1),
                100,
                nonce.as_ptr(),
            ));
            got.push(i32::from(h == mtp_rpc_hs::default()));

            got.push($b::mtp_rpc_hs_send_nonce(null_mut(), out.as_mut_ptr()));
            got.push($b::mtp_rpc_hs_send_handshake(null_mut(), out.as_mut_ptr()));
            got.push($b::mtp_rpc_hs_receive_nonce(
                null_mut(),
                out.as_ptr(),
                0,
                100,
            ));
            got.push($b::mtp_rpc_hs_receive_handshake(
                null_mut(),
                out.as_ptr(),
                0,
            ));
            got.push($b::mtp_rpc_hs_error_reply(null(), out.as_mut_ptr()));
            got.push($b::mtp_rpc_hs_key_inputs(null(), &mut ki));

            // A fresh client: NULL outputs are refused and change nothing.
            got.push($b::mtp_rpc_hs_init(&mut h, &client, 100, nonce.as_ptr()));
            let fresh = h;
            got.push($b::mtp_rpc_hs_send_nonce(&mut h, null_mut()));
            got.push($b::mtp_rpc_hs_send_handshake(&mut h, null_mut()));
            got.push($b::mtp_rpc_hs_error_reply(&h, null_mut()));
            got.push($b::mtp_rpc_hs_key_inputs(&h, null_mut()));
            got.push(i32::from(h == fresh));
            got.push($b::mtp_rpc_hs_send_nonce(&mut h, out.as_mut_ptr()));
            got.push(h.state);
            // (NULL, 1) is refused without failing; (NULL, 0) is an empty,
            // too short nonce that fails the machine.
            got.push($b::mtp_rpc_hs_receive_nonce(&mut h, null(), 1, 100));
            got.push(h.state);
            got.push($b::mtp_rpc_hs_receive_nonce(&mut h, null(), 0, 100));
            got.push(h.state);
            got.push(h.error);

            // A client waiting for the handshake: the same for its payload.
            let mut w = hs(MTP_RPC_HS_CLIENT, MTP_RPC_HS_WAIT_HANDSHAKE, 0);
            got.push($b::mtp_rpc_hs_receive_handshake(&mut w, null(), 1));
            got.push(w.state);
            got.push($b::mtp_rpc_hs_receive_handshake(&mut w, null(), 0));
            got.push(w.state);
            got.push(w.error);

            // States that break the invariants are refused by every call.
            for bad in [
                hs(2, MTP_RPC_HS_SEND_NONCE, 0),
                hs(-1, MTP_RPC_HS_SEND_NONCE, 0),
                hs(MTP_RPC_HS_CLIENT, -1, 0),
                hs(MTP_RPC_HS_SERVER, MTP_RPC_HS_FAILED + 1, 0),
                hs(MTP_RPC_HS_CLIENT, MTP_RPC_HS_FAILED, 0),
                hs(MTP_RPC_HS_SERVER, MTP_RPC_HS_READY, LEN),
                hs(MTP_RPC_HS_CLIENT, MTP_RPC_HS_SEND_NONCE, LEN),
            ] {
                let mut x = bad;
                got.push($b::mtp_rpc_hs_send_nonce(&mut x, out.as_mut_ptr()));
                got.push($b::mtp_rpc_hs_send_handshake(&mut x, out.as_mut_ptr()));
                got.push($b::mtp_rpc_hs_receive_nonce(&mut x, null(), 0, 100));
                got.push($b::mtp_rpc_hs_receive_handshake(&mut x, null(), 0));
                got.push($b::mtp_rpc_hs_error_reply(&x, out.as_mut_ptr()));
                got.push($b::mtp_rpc_hs_key_inputs(&x, &mut ki));
                got.push(i32::from(x == bad));
            }

            // The edges of the valid codes are accepted.
            for (role, state) in [
                (MTP_RPC_HS_CLIENT, MTP_RPC_HS_SEND_NONCE),
                (MTP_RPC_HS_SERVER, MTP_RPC_HS_READY),
                (MTP_RPC_HS_SERVER, MTP_RPC_HS_WAIT_NONCE),
            ] {
                got.push($b::mtp_rpc_hs_key_inputs(&hs(role, state, 0), &mut ki));
            }
        }
        got
    }};
}

/// The state machine refuses NULL pointers and broken states alike, and
/// takes (NULL, 0) payloads as empty ones that fail the exchange.
#[test]
fn machine_null_and_invalid_states_agree() {
    let c = machine_calls!(raw);
    let r = machine_calls!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    let mut want = vec![ARG, ARG, ARG, ARG, ARG, 1];
    want.extend([ARG; 6]);
    want.extend([0, ARG, ARG, ARG, ARG, 1, 0, MTP_RPC_HS_WAIT_NONCE]);
    want.extend([ARG, MTP_RPC_HS_WAIT_NONCE, LEN, MTP_RPC_HS_FAILED, LEN]);
    want.extend([ARG, MTP_RPC_HS_WAIT_HANDSHAKE, LEN, MTP_RPC_HS_FAILED, LEN]);
    for _ in 0..7 {
        want.extend([ARG, ARG, ARG, ARG, ARG, ARG, 1]);
    }
    want.extend([MTP_RPC_HS_ERR_STATE, 0, MTP_RPC_HS_ERR_STATE]);
    assert_eq!(c, want);
}

/// The error reply exists only for a failed machine whose error has a wire
/// form, and the key inputs only once both nonces are known, per role.
macro_rules! reply_and_keys {
    ($b:ident) => {{
        let mut got: Vec<i32> = Vec::new();
        let mut out = [0u8; 20];
        let mut ki;
        let errors = [
            LEN,
            MTP_RPC_HS_ERR_PID_MISMATCH,
            MTP_RPC_HS_ERR_BAD_FLAGS,
            MTP_RPC_HS_ERR_NO_CRC32C,
            MTP_RPC_HS_ERR_BAD_OP,
            MTP_RPC_HS_ERR_KEY_MISMATCH,
            MTP_RPC_HS_ERR_BAD_SCHEMA,
            MTP_RPC_HS_ERR_STATE,
        ];
        // SAFETY: live values and buffers of the sizes the contract requires.
        unsafe {
            for role in [MTP_RPC_HS_CLIENT, MTP_RPC_HS_SERVER] {
                for e in errors {
                    let mut x = hs(role, MTP_RPC_HS_FAILED, e);
                    x.our_pid = [3; 12];
                    got.push($b::mtp_rpc_hs_error_reply(&x, out.as_mut_ptr()));
                    got.push(out[4] as i8 as i32);
                    out = [0; 20];
                }
                for state in MTP_RPC_HS_SEND_NONCE..MTP_RPC_HS_FAILED {
                    got.push($b::mtp_rpc_hs_error_reply(
                        &hs(role, state, 0),
                        out.as_mut_ptr(),
                    ));
                    let mut x = hs(role, state, 0);
                    x.our_nonce = [1; 16];
                    x.peer_nonce = [2; 16];
                    x.our_ts = 10;
                    x.peer_ts = 20;
                    ki = mtp_rpc_key_inputs::default();
                    got.push($b::mtp_rpc_hs_key_inputs(&x, &mut ki));
                    got.push(
                        i32::from(ki.server_nonce[0]) * 100 + i32::from(ki.client_nonce[0]) * 10,
                    );
                    got.push(ki.client_ts);
                }
            }
        }
        got
    }};
}

/// Which failed states have a wire error reply, and which states give key
/// inputs with which nonce and timestamp in which slot, for both roles.
#[test]
fn error_reply_and_key_inputs_by_state_agree() {
    let c = reply_and_keys!(raw);
    let r = reply_and_keys!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    let st = MTP_RPC_HS_ERR_STATE;
    let mut want = Vec::new();
    for role in [MTP_RPC_HS_CLIENT, MTP_RPC_HS_SERVER] {
        want.extend([0, LEN, 0, MTP_RPC_HS_ERR_PID_MISMATCH]);
        want.extend([0, MTP_RPC_HS_ERR_BAD_FLAGS, 0, MTP_RPC_HS_ERR_NO_CRC32C]);
        want.extend([st, 0, st, 0, st, 0, st, 0]);
        // Per state: error reply, key inputs, 100 * server nonce + 10 *
        // client nonce (ours 1, the peer's 2), client timestamp (ours 10,
        // the peer's 20).
        let (nonces, ts) = if role == MTP_RPC_HS_CLIENT {
            (210, 10)
        } else {
            (120, 20)
        };
        for state in MTP_RPC_HS_SEND_NONCE..MTP_RPC_HS_FAILED {
            if state >= MTP_RPC_HS_SEND_HANDSHAKE {
                want.extend([st, 0, nonces, ts]);
            } else {
                want.extend([st, st, 0, 0]);
            }
        }
    }
    assert_eq!(c, want);
}

/// Nonce parse results over the clock-skew window edges, the extra key
/// count edges and the position of the matching key; each entry a code.
macro_rules! nonce_edges {
    ($b:ident) => {{
        let mut got: Vec<i32> = Vec::new();
        let nonce = [5u8; 16];
        // SAFETY: live buffers of the sizes the contract requires; each
        // payload is passed with its own length.
        unsafe {
            for ts in [0i32, 1_700_000_000, i32::MAX, i32::MIN] {
                let mut p = [0u8; 32];
                let mut n = 0usize;
                $b::mtp_rpc_nonce_build(
                    9,
                    MTP_RPC_SCHEMA_AES,
                    ts,
                    nonce.as_ptr(),
                    p.as_mut_ptr(),
                    &mut n,
                );
                for skew in [-31i64, -30, 0, 30, 31] {
                    let mut ni = mtp_rpc_nonce_info::default();
                    got.push($b::mtp_rpc_nonce_parse(
                        p.as_ptr(),
                        32,
                        9,
                        i64::from(ts) + skew,
                        &mut ni,
                    ));
                }
            }
            // AES_EXT: count, then the keys; the match at each position.
            for count in [-1i32, 0, 1, 8, 9] {
                for at in [None, Some(0usize), Some(7)] {
                    let mut p = [0u8; 36].to_vec();
                    let mut n = 0usize;
                    $b::mtp_rpc_nonce_build(1, 2, 100, nonce.as_ptr(), p.as_mut_ptr(), &mut n);
                    p[32..36].copy_from_slice(&count.to_le_bytes());
                    let keys = count.clamp(0, 9) as usize;
                    for i in 0..keys {
                        let key: u32 = if Some(i) == at.map(|a| a.min(keys - 1)) {
                            9
                        } else {
                            2
                        };
                        p.extend_from_slice(&key.to_le_bytes());
                    }
                    let mut ni = mtp_rpc_nonce_info::default();
                    got.push($b::mtp_rpc_nonce_parse(
                        p.as_ptr(),
                        p.len(),
                        9,
                        100,
                        &mut ni,
                    ));
                    // One byte word more or less than the count says.
                    p.extend_from_slice(&[0; 4]);
                    got.push($b::mtp_rpc_nonce_parse(
                        p.as_ptr(),
                        p.len(),
                        9,
                        100,
                        &mut ni,
                    ));
                    got.push($b::mtp_rpc_nonce_parse(
                        p.as_ptr(),
                        p.len() - 8,
                        9,
                        100,
                        &mut ni,
                    ));
                }
            }
        }
        got
    }};
}

/// The clock-skew window is +-30 s inclusive whatever the timestamp, an
/// AES_EXT nonce carries 0..=8 extra keys at its exact length, and the key
/// matches at any position of the list.
#[test]
fn nonce_window_and_extra_key_edges_agree() {
    let c = nonce_edges!(raw);
    let r = nonce_edges!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    let skew = MTP_RPC_HS_ERR_CLOCK_SKEW;
    let mut want = Vec::new();
    for _ in 0..4 {
        want.extend([skew, 0, 0, 0, skew]);
    }
    let many = MTP_RPC_HS_ERR_TOO_MANY_KEYS;
    let miss = MTP_RPC_HS_ERR_KEY_MISMATCH;
    for count in [-1, 0, 1, 8, 9] {
        for at in [false, true, true] {
            match count {
                // -1 is checked after the 36-byte minimum, 9 is not short.
                -1 => want.extend([many, many, LEN]),
                9 => want.extend([many, many, many]),
                // Without keys the shortened payload is below 36 bytes.
                0 => want.extend([miss, LEN, LEN]),
                _ => want.extend([if at { 0 } else { miss }, LEN, LEN]),
            }
        }
    }
    assert_eq!(c, want);
}

/// Builders write exactly their message: bytes past it keep their value.
macro_rules! builder_extents {
    ($b:ident) => {{
        let mut got: Vec<Vec<u8>> = Vec::new();
        let pid = [7u8; 12];
        let nonce = [5u8; 16];
        // SAFETY: 64-byte buffers, more than any message; NULL nowhere.
        unsafe {
            let mut n = 0usize;
            for schema in [1, 2] {
                let mut out = [0xeeu8; 64];
                $b::mtp_rpc_nonce_build(1, schema, 2, nonce.as_ptr(), out.as_mut_ptr(), &mut n);
                got.push(out[n..].to_vec());
            }
            let mut out = [0xeeu8; 64];
            $b::mtp_rpc_handshake_build(0x800, pid.as_ptr(), pid.as_ptr(), out.as_mut_ptr());
            got.push(out[32..].to_vec());
            let mut out = [0xeeu8; 64];
            $b::mtp_rpc_handshake_error_build(-3, pid.as_ptr(), out.as_mut_ptr());
            got.push(out[20..].to_vec());
            let mut out = [0xeeu8; 64];
            $b::mtp_rpc_ping_build(-2, out.as_mut_ptr());
            got.push(out[12..].to_vec());
            let ping = out;
            let mut out = [0xeeu8; 64];
            $b::mtp_rpc_pong_for_ping(ping.as_ptr(), 12, out.as_mut_ptr());
            got.push(out[12..].to_vec());
        }
        got
    }};
}

/// Every builder leaves the bytes after its message untouched.
#[test]
fn builders_write_nothing_past_the_message() {
    let c = builder_extents!(raw);
    let r = builder_extents!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    for (i, tail) in c.iter().enumerate() {
        assert!(
            tail.iter().all(|&b| b == 0xee),
            "builder {i} wrote past its message"
        );
    }
    assert_eq!(
        c.iter().map(Vec::len).collect::<Vec<_>>(),
        [32, 28, 32, 44, 52, 52]
    );
}
