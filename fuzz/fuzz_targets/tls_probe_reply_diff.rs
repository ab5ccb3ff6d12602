//! Differential: a fronting domain's answer to the probe (untrusted bytes
//! from the network) through the C and the Rust parser, then the profile
//! rule over what parsed; results must agree. Input: 32 bytes of session
//! id, then the answer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::fake_tls as ct, rust::net::fake_tls as rt};

fuzz_target!(|data: &[u8]| {
    let Some((session, answer)) = data.split_first_chunk::<32>() else {
        return;
    };
    let c_got = ct::parse_probe_reply(answer, session);
    let r_got = rt::parse_probe_reply(answer, session);
    assert_eq!(c_got, r_got);
    if let Ok(reply) = r_got {
        let replies = [reply, reply];
        assert_eq!(
            ct::profile_from_replies(&replies, 1_700_000_000),
            rt::profile_from_replies(&replies, 1_700_000_000)
        );
    }
});
