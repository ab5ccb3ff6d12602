use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::rpc_handshake::{self as hs, Handshake, HandshakeConfig, Role, State};

const KEY: u32 = 0xefbe_adde;
const NOW: i64 = 1_700_000_000;

fn config(role: Role, our_pid: [u8; 12]) -> HandshakeConfig {
    HandshakeConfig {
        role,
        key_select: KEY,
        want_crc32c: true,
        our_pid,
        peer_pid: [0; 12],
    }
}

/// A contract error as a check failure.
fn step<T>(what: &str, result: Result<T, i32>) -> Result<T, String> {
    result.map_err(|code| format!("{what}: error {code}"))
}

pub const CHECKS: &[Check] = &[
    ("nonce layout", || {
        let nonce = step(
            "build",
            hs::build_nonce(KEY, hs::SCHEMA_AES, 0x6553_f100, &[7; 16]),
        )?;
        expect_eq(
            "head",
            &nonce[..16],
            &[
                0xaa, 0x87, 0xcb, 0x7a, 0xde, 0xad, 0xbe, 0xef, 1, 0, 0, 0, 0, 0xf1, 0x53, 0x65,
            ],
        )?;
        expect_eq(
            "parse",
            hs::parse_nonce(&nonce, KEY, NOW + 30).map(|i| i.nonce),
            Ok([7; 16]),
        )?;
        expect_eq(
            "skew",
            hs::parse_nonce(&nonce, KEY, NOW + 31).map(|_| ()),
            Err(hs::ERR_CLOCK_SKEW),
        )?;
        expect_eq(
            "key",
            hs::parse_nonce(&nonce, 1, NOW).map(|_| ()),
            Err(hs::ERR_KEY_MISMATCH),
        )
    }),
    ("handshake checks", || {
        let own = [1u8; 12];
        let payload = hs::build_handshake(0x800, &[2; 12], &[0; 12]);
        expect_eq("head", &payload[..8], &[0xf5, 0xee, 0x82, 0x76, 0, 8, 0, 0])?;
        expect_eq(
            "crc32c",
            hs::parse_handshake(&payload, &own, true).map(|i| i.use_crc32c),
            Ok(true),
        )?;
        expect_eq(
            "not offered",
            hs::parse_handshake(&payload, &own, false).map(|_| ()),
            Err(hs::ERR_NO_CRC32C),
        )?;
        let mut bad = payload;
        bad[4] = 1;
        expect_eq(
            "low flags",
            hs::parse_handshake(&bad, &own, true).map(|_| ()),
            Err(hs::ERR_BAD_FLAGS),
        )?;
        let wrong = hs::build_handshake(0, &[2; 12], &[3; 12]);
        expect_eq(
            "peer pid",
            hs::parse_handshake(&wrong, &own, true).map(|_| ()),
            Err(hs::ERR_PID_MISMATCH),
        )?;
        let err = hs::build_handshake_error(-4, &own);
        expect_eq(
            "error head",
            &err[..8],
            &[0xda, 0xbe, 0x27, 0x6a, 0xfc, 0xff, 0xff, 0xff],
        )?;
        expect_eq(
            "error parse",
            hs::parse_handshake_error(&err).map(|e| e.code),
            Ok(-4),
        )
    }),
    ("ping pong", || {
        let ping = hs::build_ping(0x0102_0304_0506_0708);
        let pong = step("pong", hs::pong_for_ping(&ping))?;
        expect_eq(
            "pong",
            pong,
            [0xa7, 0xea, 0x30, 0x84, 8, 7, 6, 5, 4, 3, 2, 1],
        )?;
        expect_eq(
            "short",
            hs::pong_for_ping(&ping[..11]),
            Err(hs::ERR_BAD_LENGTH),
        )
    }),
    ("both ends reach ready", || {
        let mut client = Handshake::new(&config(Role::Client, [1; 12]), NOW, &[1; 16]);
        let mut server = Handshake::new(&config(Role::Server, [2; 12]), NOW + 3, &[2; 16]);
        let nonce = step("client nonce", client.send_nonce())?;
        step("server receives", server.receive_nonce(&nonce, NOW + 3))?;
        let nonce = step("server nonce", server.send_nonce())?;
        step("client receives", client.receive_nonce(&nonce, NOW))?;
        expect_eq("keys", client.key_inputs(), server.key_inputs())?;
        let handshake = step("client handshake", client.send_handshake())?;
        step("server checks", server.receive_handshake(&handshake))?;
        let handshake = step("server handshake", server.send_handshake())?;
        step("client checks", client.receive_handshake(&handshake))?;
        expect_eq(
            "states",
            (client.state, server.state),
            (State::Ready, State::Ready),
        )?;
        expect_eq(
            "crc32c",
            (client.use_crc32c, server.use_crc32c),
            (true, true),
        )?;
        expect_eq(
            "out of order",
            client.send_nonce().map(|_| ()),
            Err(hs::ERR_STATE),
        )
    }),
    ("failed handshake gets an error reply", || {
        let mut client = Handshake::new(&config(Role::Client, [1; 12]), NOW, &[1; 16]);
        step("client nonce", client.send_nonce())?;
        let nonce = step(
            "peer nonce",
            hs::build_nonce(KEY, hs::SCHEMA_AES, NOW as i32, &[2; 16]),
        )?;
        step("client receives", client.receive_nonce(&nonce, NOW))?;
        expect_eq(
            "no reply yet",
            client.error_reply().map(|_| ()),
            Err(hs::ERR_STATE),
        )?;
        step("client handshake", client.send_handshake())?;
        let mut reply = hs::build_handshake(0, &[2; 12], &[0; 12]);
        reply[4] = 0x01;
        expect_eq(
            "low flags",
            client.receive_handshake(&reply),
            Err(hs::ERR_BAD_FLAGS),
        )?;
        let error = step("error reply", client.error_reply())?;
        expect_eq(
            "error payload",
            error,
            hs::build_handshake_error(hs::ERR_BAD_FLAGS, &[1; 12]),
        )
    }),
    ("null arguments", || {
        let mut out = [0u8; 32];
        // SAFETY: the contract allows NULL for these pointers; `out` is live.
        unsafe {
            let got = raw::mtp_rpc_hs_send_nonce(std::ptr::null_mut(), out.as_mut_ptr());
            expect_eq("send_nonce NULL", got, raw::MTP_RPC_HS_ERR_ARG)?;
            let got =
                raw::mtp_rpc_hs_init(std::ptr::null_mut(), std::ptr::null(), 0, std::ptr::null());
            expect_eq("init NULL", got, raw::MTP_RPC_HS_ERR_ARG)?;
            let got = raw::mtp_rpc_nonce_parse(std::ptr::null(), 4, 0, 0, std::ptr::null_mut());
            expect_eq("nonce_parse NULL", got, raw::MTP_RPC_HS_ERR_ARG)?;
            let got = raw::mtp_rpc_pong_for_ping(std::ptr::null(), 0, std::ptr::null_mut());
            expect_eq("pong NULL", got, raw::MTP_RPC_HS_ERR_ARG)
        }
    }),
];
