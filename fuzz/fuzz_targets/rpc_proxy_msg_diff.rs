//! Differential: the same untrusted message to every C and Rust decoder;
//! results and errors must agree. Byte 0 picks an op code to prepend (so
//! the fuzzer reaches each decoder's body quickly), the rest is the message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::rpc_proxy_msg as cm, rust::mtproto::rpc_proxy_msg as rm};

const OPS: [u32; 5] = [
    0x36ce_f1ee,
    0x4403_da0d,
    0x3bac_409b,
    0x5eb6_34a2,
    0x1fcf_425d,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut msg = OPS
        .get(usize::from(pick))
        .map_or(Vec::new(), |op| op.to_le_bytes().to_vec());
    msg.extend_from_slice(rest);
    let msg = &msg[..];
    assert_eq!(
        cm::decode_proxy_req(msg).map_err(|e| e.code()),
        rm::decode_proxy_req(msg).map_err(|e| e.code())
    );
    assert_eq!(
        cm::decode_proxy_ans(msg).map_err(|e| e.code()),
        rm::decode_proxy_ans(msg).map_err(|e| e.code())
    );
    assert_eq!(
        cm::decode_simple_ack(msg).map_err(|e| e.code()),
        rm::decode_simple_ack(msg).map_err(|e| e.code())
    );
    assert_eq!(
        cm::decode_close_ext(msg).map_err(|e| e.code()),
        rm::decode_close_ext(msg).map_err(|e| e.code())
    );
    assert_eq!(
        cm::decode_close_conn(msg).map_err(|e| e.code()),
        rm::decode_close_conn(msg).map_err(|e| e.code())
    );
    assert_eq!(
        cm::message_kind(msg).map_err(|e| e.code()),
        rm::message_kind(msg).map_err(|e| e.code())
    );
});
