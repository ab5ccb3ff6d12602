//! Differential: the same payload bytes to the C and the Rust parsers, and
//! the same payloads driving both state machines; every result and state
//! must agree. Input: byte 0 = options (bit 0 server role, bit 1 CRC-32C
//! wanted, bits 2-7 clock offset), then payloads separated by 0xff.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::rpc_handshake as ch, rust::net::rpc_handshake as rh};

const KEY: u32 = 0xefbe_adde;

fuzz_target!(|data: &[u8]| {
    let [options, rest @ ..] = data else { return };
    let now = 1_700_000_000 + i64::from(options >> 2) - 32;
    let own = [0x0a, 0, 0, 0x0a, 0xb8, 0x22, 1, 0, 0, 0, 0, 0];
    let server = options & 1 != 0;
    let want = options & 2 != 0;
    let c_config = ch::HandshakeConfig {
        role: if server {
            ch::Role::Server
        } else {
            ch::Role::Client
        },
        key_select: KEY,
        want_crc32c: want,
        our_pid: own,
        peer_pid: [0; 12],
    };
    let r_config = rh::HandshakeConfig {
        role: if server {
            rh::Role::Server
        } else {
            rh::Role::Client
        },
        key_select: KEY,
        want_crc32c: want,
        our_pid: own,
        peer_pid: [0; 12],
    };
    let mut c = ch::Handshake::new(&c_config, 1_700_000_000, &[1; 16]);
    let mut r = rh::Handshake::new(&r_config, 1_700_000_000, &[1; 16]);
    for payload in rest.split(|&b| b == 0xff) {
        let c_nonce = ch::parse_nonce(payload, KEY, now)
            .map(|i| (i.key_select, i.schema, i.timestamp, i.nonce));
        let r_nonce = rh::parse_nonce(payload, KEY, now)
            .map(|i| (i.key_select, i.schema, i.timestamp, i.nonce));
        assert_eq!(c_nonce, r_nonce);
        for allowed in [false, true] {
            let c_hs = ch::parse_handshake(payload, &own, allowed)
                .map(|i| (i.flags, i.use_crc32c, i.sender_pid, i.peer_pid));
            let r_hs = rh::parse_handshake(payload, &own, allowed)
                .map(|i| (i.flags, i.use_crc32c, i.sender_pid, i.peer_pid));
            assert_eq!(c_hs, r_hs);
        }
        let c_err = ch::parse_handshake_error(payload).map(|e| (e.code, e.sender_pid));
        assert_eq!(
            c_err,
            rh::parse_handshake_error(payload).map(|e| (e.code, e.sender_pid))
        );
        assert_eq!(ch::pong_for_ping(payload), rh::pong_for_ping(payload));
        assert_eq!(c.send_nonce(), r.send_nonce());
        assert_eq!(c.receive_nonce(payload, now), r.receive_nonce(payload, now));
        assert_eq!(c.send_handshake(), r.send_handshake());
        assert_eq!(c.receive_handshake(payload), r.receive_handshake(payload));
        // The C side keeps the core's record: every field compared.
        assert_eq!(*c, r);
        assert_eq!(c.error_reply(), r.error_reply());
        assert_eq!(c.key_inputs(), r.key_inputs());
    }
});
