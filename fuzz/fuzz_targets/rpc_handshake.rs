//! The Rust nonce/handshake parsers and both state machines on arbitrary
//! payloads must never panic. Input: byte 0 = options (bit 0 server role,
//! bit 1 CRC-32C wanted), then payloads separated by 0xff 0xff.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtproxy_core::net::rpc_handshake as hs;

fuzz_target!(|data: &[u8]| {
    let [options, rest @ ..] = data else { return };
    let now = 1_700_000_000;
    let own = [0u8; 12];
    let role = if options & 1 == 0 {
        hs::Role::Client
    } else {
        hs::Role::Server
    };
    let config = hs::HandshakeConfig {
        role,
        key_select: 0xefbe_adde,
        want_crc32c: options & 2 != 0,
        our_pid: own,
        peer_pid: own,
    };
    let mut machine = hs::Handshake::new(&config, now, &[1; 16]);
    for payload in rest.split(|&b| b == 0xff).filter(|p| !p.is_empty()) {
        let _ = hs::parse_nonce(payload, config.key_select, now);
        let _ = hs::parse_handshake(payload, &own, true);
        let _ = hs::parse_handshake_error(payload);
        let _ = hs::pong_for_ping(payload);
        let _ = machine.send_nonce();
        let _ = machine.receive_nonce(payload, now);
        let _ = machine.send_handshake();
        let _ = machine.receive_handshake(payload);
        let _ = machine.error_reply();
        let _ = machine.key_inputs();
    }
});
