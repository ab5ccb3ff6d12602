//! The Rust core's decoders on untrusted bytes (what a middle-end, or a
//! client through the proxy, can put in a message): must not panic, and a
//! decoded PROXY_REQ must re-encode to the same header and packet.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mtproxy_core::mtproto::rpc_proxy_msg as m;

fuzz_target!(|data: &[u8]| {
    let _ = m::message_kind(data);
    if let Ok(ans) = m::decode_proxy_ans(data) {
        assert_eq!(ans.data_offset + ans.data_len, data.len());
    }
    let _ = m::decode_simple_ack(data);
    let _ = m::decode_close_ext(data);
    let _ = m::decode_close_conn(data);
    if let Ok((req, offset)) = m::decode_proxy_req(data) {
        let mut out = vec![0u8; data.len()];
        let n = m::encode_proxy_req(&req, &data[offset..], &mut out).expect("re-encode");
        // The tag's TL string may come in the long form or with nonzero
        // padding; everything else is canonical.
        assert_eq!(n, data.len());
        assert_eq!(out[..56], data[..56]);
        assert_eq!(out[offset..], data[offset..]);
    }
});
