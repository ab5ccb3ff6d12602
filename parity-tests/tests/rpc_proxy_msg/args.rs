//! Argument checks of every exported rpc-proxy-msg function, called through
//! both raw bindings (C: `bindings_cref`, Rust: `bindings`): each required
//! pointer NULL alone, (NULL, 0) inputs as empty ones, (NULL, 1) refused, an
//! output NULL with capacity 0 (too small) and 1 (refused).
use mtproxy_sys::bindings as rust_raw;
use mtproxy_sys::bindings::{
    mtp_rpc_msg_proxy_ans, mtp_rpc_msg_proxy_req, mtp_rpc_msg_simple_ack, MTP_RPC_MSG_ERR_ARG,
    MTP_RPC_MSG_ERR_OVERFLOW, MTP_RPC_MSG_ERR_SHORT,
};
use mtproxy_sys::bindings_cref as raw;
use std::ptr::{null, null_mut};

const ARG: i64 = MTP_RPC_MSG_ERR_ARG as i64;
const SHORT: i64 = MTP_RPC_MSG_ERR_SHORT as i64;
const OVER: i64 = MTP_RPC_MSG_ERR_OVERFLOW as i64;

/// Every call with one argument off the contract at a time; each entry is a
/// result code or a summary of what was written.
macro_rules! calls {
    ($b:ident) => {{
        let mut got: Vec<i64> = Vec::new();
        let mut out = [0u8; 128];
        let mut n = 99usize;
        let mut flags = 0u32;
        let mut id = 5i64;
        // SAFETY: every non-NULL pointer is a live value or a buffer of at
        // least the length or capacity passed with it (fixed-size outputs
        // get their contract size or more); NULL only where the call must
        // refuse it, or with length or capacity 0 where it reads nothing.
        unsafe {
            got.push(i64::from($b::mtp_rpc_msg_proxy_req_flags(
                1,
                0,
                0,
                0,
                0,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_rpc_msg_proxy_req_flags(
                1, 0, 0, 0, 0, &mut flags,
            )));
            got.push(i64::from(flags));
            got.push(i64::from($b::mtp_rpc_msg_ipv4_mapped(1, null_mut())));

            got.push(i64::from($b::mtp_rpc_msg_ext_conn_id_next(
                0,
                0,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_rpc_msg_ext_conn_id_next(
                0,
                1 << 22,
                &mut id,
            )));
            got.push(id);
            got.push(i64::from($b::mtp_rpc_msg_ext_conn_id_next(
                0,
                (1 << 22) - 1,
                &mut id,
            )));
            got.push(id);

            got.push(i64::from($b::mtp_rpc_msg_kind(null(), 1)));
            got.push(i64::from($b::mtp_rpc_msg_kind(null(), 0)));

            let req = mtp_rpc_msg_proxy_req {
                flags: 0x1000,
                ext_conn_id: 3,
                ..mtp_rpc_msg_proxy_req::default()
            };
            let pkt = [7u8; 4];
            let re = |r: *const mtp_rpc_msg_proxy_req,
                      p: *const u8,
                      pl: usize,
                      o: *mut u8,
                      cap: usize,
                      w: *mut usize| {
                i64::from($b::mtp_rpc_msg_proxy_req_encode(r, p, pl, o, cap, w))
            };
            got.push(re(null(), pkt.as_ptr(), 4, out.as_mut_ptr(), 128, &mut n));
            got.push(re(&req, null(), 1, out.as_mut_ptr(), 128, &mut n));
            got.push(re(&req, pkt.as_ptr(), 4, null_mut(), 1, &mut n));
            got.push(re(&req, pkt.as_ptr(), 4, null_mut(), 128, &mut n));
            got.push(re(&req, pkt.as_ptr(), 4, out.as_mut_ptr(), 128, null_mut()));
            got.push(re(&req, pkt.as_ptr(), 4, null_mut(), 0, &mut n));
            got.push(n as i64);
            got.push(i64::from(out == [0; 128]));
            got.push(re(&req, null(), 0, out.as_mut_ptr(), 56, &mut n));
            got.push(n as i64);
            let encoded = out;

            let mut dreq = mtp_rpc_msg_proxy_req::default();
            let mut off = 99usize;
            let rd = |d: *const u8, l: usize, o: *mut mtp_rpc_msg_proxy_req, po: *mut usize| {
                i64::from($b::mtp_rpc_msg_proxy_req_decode(d, l, o, po))
            };
            got.push(rd(null(), 1, &mut dreq, &mut off));
            got.push(rd(null(), 0, &mut dreq, &mut off));
            got.push(rd(encoded.as_ptr(), 56, null_mut(), &mut off));
            got.push(rd(encoded.as_ptr(), 56, &mut dreq, null_mut()));
            got.push(off as i64);
            got.push(rd(encoded.as_ptr(), 56, &mut dreq, &mut off));
            got.push(off as i64);
            got.push(dreq.ext_conn_id);

            let ae = |d: *const u8, dl: usize, o: *mut u8, cap: usize, w: *mut usize| {
                i64::from($b::mtp_rpc_msg_proxy_ans_encode(1, 2, d, dl, o, cap, w))
            };
            n = 99;
            got.push(ae(null(), 1, out.as_mut_ptr(), 128, &mut n));
            got.push(ae(null(), 0, null_mut(), 1, &mut n));
            got.push(ae(null(), 0, null_mut(), 128, &mut n));
            got.push(ae(pkt.as_ptr(), 4, out.as_mut_ptr(), 128, null_mut()));
            got.push(ae(null(), 0, null_mut(), 0, &mut n));
            got.push(n as i64);
            got.push(ae(null(), 0, out.as_mut_ptr(), 16, &mut n));
            got.push(n as i64);
            got.push(ae(pkt.as_ptr(), 4, out.as_mut_ptr(), 19, &mut n));
            got.push(ae(pkt.as_ptr(), 4, out.as_mut_ptr(), 20, &mut n));
            got.push(n as i64);
            let ans = out;

            let mut a = mtp_rpc_msg_proxy_ans::default();
            got.push(i64::from($b::mtp_rpc_msg_proxy_ans_decode(
                null(),
                1,
                &mut a,
            )));
            got.push(i64::from($b::mtp_rpc_msg_proxy_ans_decode(
                null(),
                0,
                &mut a,
            )));
            got.push(i64::from($b::mtp_rpc_msg_proxy_ans_decode(
                ans.as_ptr(),
                20,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_rpc_msg_proxy_ans_decode(
                ans.as_ptr(),
                20,
                &mut a,
            )));
            got.push(a.data_len as i64);

            got.push(i64::from($b::mtp_rpc_msg_simple_ack_encode(
                1,
                2,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_rpc_msg_simple_ack_encode(
                1,
                2,
                out.as_mut_ptr(),
            )));
            let ack = out;
            let mut s = mtp_rpc_msg_simple_ack::default();
            got.push(i64::from($b::mtp_rpc_msg_simple_ack_decode(
                null(),
                1,
                &mut s,
            )));
            got.push(i64::from($b::mtp_rpc_msg_simple_ack_decode(
                null(),
                0,
                &mut s,
            )));
            got.push(i64::from($b::mtp_rpc_msg_simple_ack_decode(
                ack.as_ptr(),
                16,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_rpc_msg_simple_ack_decode(
                ack.as_ptr(),
                16,
                &mut s,
            )));
            got.push(i64::from(s.confirm));

            got.push(i64::from($b::mtp_rpc_msg_close_ext_encode(1, null_mut())));
            got.push(i64::from($b::mtp_rpc_msg_close_conn_encode(1, null_mut())));
            got.push(i64::from($b::mtp_rpc_msg_close_ext_encode(
                8,
                out.as_mut_ptr(),
            )));
            let ext = out;
            got.push(i64::from($b::mtp_rpc_msg_close_conn_encode(
                9,
                out.as_mut_ptr(),
            )));
            let conn = out;
            id = 0;
            for (close, msg) in [(0, ext), (1, conn)] {
                let dec = |d: *const u8, l: usize, o: *mut i64| {
                    i64::from(if close == 0 {
                        $b::mtp_rpc_msg_close_ext_decode(d, l, o)
                    } else {
                        $b::mtp_rpc_msg_close_conn_decode(d, l, o)
                    })
                };
                got.push(dec(null(), 1, &mut id));
                got.push(dec(null(), 0, &mut id));
                got.push(dec(msg.as_ptr(), 12, null_mut()));
                got.push(id);
                got.push(dec(msg.as_ptr(), 12, &mut id));
                got.push(id);
            }
        }
        got
    }};
}

/// Each function refuses each required pointer alone and an input NULL with
/// a length; (NULL, 0) inputs are empty (too short to decode), a NULL
/// output with capacity 0 is too small, with capacity 1 refused.
#[test]
fn null_and_empty_arguments_agree() {
    let c = calls!(raw);
    let r = calls!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    #[rustfmt::skip]
    let want: Vec<i64> = vec![
        // proxy_req_flags, ipv4_mapped
        ARG, 0, 0x4002_1000, ARG,
        // ext_conn_id_next: NULL out, the first slot past 22 bits, the last
        ARG, ARG, 5, 0, (1 << 22) | ((1 << 22) - 1),
        // kind
        ARG, SHORT,
        // proxy_req_encode: nothing written until the last
        ARG, ARG, ARG, ARG, ARG, OVER, 99, 1, 0, 56,
        // proxy_req_decode
        ARG, SHORT, ARG, ARG, 99, 0, 56, 3,
        // proxy_ans_encode
        ARG, ARG, ARG, ARG, OVER, 99, 0, 16, OVER, 0, 20,
        // proxy_ans_decode
        ARG, SHORT, ARG, 0, 4,
        // simple_ack
        ARG, 0, ARG, SHORT, ARG, 0, 2,
        // close_ext / close_conn
        ARG, ARG, 0, 0,
        ARG, SHORT, ARG, 0, 0, 8,
        ARG, SHORT, ARG, 8, 0, 9,
    ];
    assert_eq!(c, want);
}
