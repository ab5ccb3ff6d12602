//! Differential: the same payload bytes to the C and the Rust parsers, and
//! the same payloads driving both state machines; every result and state
//! must agree (both sides return the core's records, compared whole).
//! Input: byte 0 = options (bit 0 server role, bit 1 CRC-32C wanted, bits
//! 2-7 clock offset), then payloads separated by 0xff.
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
    // The core's own config record serves both sides.
    let config = rh::HandshakeConfig {
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
    let mut c = ch::Handshake::new(&config, 1_700_000_000, &[1; 16]);
    let mut r = rh::Handshake::new(&config, 1_700_000_000, &[1; 16]);
    for payload in rest.split(|&b| b == 0xff) {
        assert_eq!(
            ch::parse_nonce(payload, KEY, now),
            rh::parse_nonce(payload, KEY, now)
        );
        for allowed in [false, true] {
            assert_eq!(
                ch::parse_handshake(payload, &own, allowed),
                rh::parse_handshake(payload, &own, allowed)
            );
        }
        assert_eq!(
            ch::parse_handshake_error(payload),
            rh::parse_handshake_error(payload)
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
