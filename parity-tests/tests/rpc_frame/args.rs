//! Argument checks of every exported rpc-frame function, called through both
//! raw bindings (C: `bindings_cref`, Rust: `bindings`): each required pointer
//! NULL alone, (NULL, 0) inputs and outputs as empty ones, (NULL, n) refused,
//! and output capacities one short of and exactly the size needed.
use mtproxy_sys::bindings as rust_raw;
use mtproxy_sys::bindings::{
    mtp_rpc_frame, mtp_rpc_frame_decoder_info, MTP_RPC_FRAME_CRC32, MTP_RPC_FRAME_CRC32C,
    MTP_RPC_FRAME_ERR_ARG, MTP_RPC_FRAME_ERR_BAD_LENGTH, MTP_RPC_FRAME_ERR_OUT_SMALL,
};
use mtproxy_sys::bindings_cref as raw;
use std::ptr::{null, null_mut};

const ARG: i32 = MTP_RPC_FRAME_ERR_ARG;
const LEN: i32 = MTP_RPC_FRAME_ERR_BAD_LENGTH;
const SMALL: i32 = MTP_RPC_FRAME_ERR_OUT_SMALL;

/// Every call with one argument off the contract at a time; each entry is a
/// result code or a summary of what was written.
macro_rules! calls {
    ($b:ident) => {{
        let payload = [1u8, 2, 3, 4];
        let mut out = [0u8; 32];
        let mut n = 99usize;
        let mut got: Vec<i64> = Vec::new();
        // SAFETY: every non-NULL pointer is a live buffer of at least the
        // capacity passed with it; NULL only where the call must refuse it,
        // or with length or capacity 0 where the contract reads nothing.
        unsafe {
            let enc =
                |p: *const u8, pl: usize, kind: i32, o: *mut u8, cap: usize, n: *mut usize| {
                    i64::from($b::mtp_rpc_frame_encode(5, p, pl, kind, o, cap, n))
                };
            got.push(enc(payload.as_ptr(), 4, 2, out.as_mut_ptr(), 32, &mut n));
            got.push(enc(payload.as_ptr(), 4, -1, out.as_mut_ptr(), 32, &mut n));
            got.push(enc(
                payload.as_ptr(),
                4,
                0,
                out.as_mut_ptr(),
                32,
                null_mut(),
            ));
            got.push(enc(null(), 4, 0, out.as_mut_ptr(), 32, &mut n));
            got.push(enc(null(), 0, 0, out.as_mut_ptr(), 32, &mut n));
            got.push(enc(payload.as_ptr(), 4, 0, null_mut(), 0, &mut n));
            got.push(enc(payload.as_ptr(), 4, 0, null_mut(), 32, &mut n));
            got.push(enc(payload.as_ptr(), 4, 0, out.as_mut_ptr(), 15, &mut n));
            got.push(n as i64);
            got.push(i64::from(out == [0; 32]));
            got.push(enc(payload.as_ptr(), 4, 1, out.as_mut_ptr(), 16, &mut n));
            got.push(n as i64);

            let pad = |total: u64, o: *mut u8, cap: usize, n: *mut usize| {
                i64::from($b::mtp_rpc_frame_padding(total, o, cap, n))
            };
            n = 99;
            got.push(pad(4, out.as_mut_ptr(), 32, null_mut()));
            got.push(pad(2, out.as_mut_ptr(), 32, &mut n));
            got.push(pad(4, null_mut(), 12, &mut n));
            got.push(pad(4, null_mut(), 0, &mut n));
            out = [0; 32];
            got.push(pad(4, out.as_mut_ptr(), 11, &mut n));
            got.push(n as i64);
            got.push(pad(16, null_mut(), 0, &mut n));
            got.push(n as i64);
            got.push(pad(4, out.as_mut_ptr(), 12, &mut n));
            got.push(n as i64);
            got.push(i64::from(
                out[..12] == [4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0] && out[12] == 0,
            ));

            got.push(i64::from($b::mtp_rpc_frame_decoder_new(0, 2).is_null()));
            got.push(i64::from($b::mtp_rpc_frame_decoder_new(0, -1).is_null()));
            $b::mtp_rpc_frame_decoder_free(null_mut());

            let dec = $b::mtp_rpc_frame_decoder_new(0, MTP_RPC_FRAME_CRC32);
            assert!(!dec.is_null());
            let mut frame = mtp_rpc_frame::default();
            let mut info = mtp_rpc_frame_decoder_info::default();
            let stream = [16u8, 0, 0, 0];
            n = 99;
            got.push(i64::from($b::mtp_rpc_frame_decoder_push(
                null_mut(),
                stream.as_ptr(),
                4,
                &mut n,
                &mut frame,
            )));
            got.push(i64::from($b::mtp_rpc_frame_decoder_push(
                dec,
                stream.as_ptr(),
                4,
                null_mut(),
                &mut frame,
            )));
            got.push(i64::from($b::mtp_rpc_frame_decoder_push(
                dec,
                stream.as_ptr(),
                4,
                &mut n,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_rpc_frame_decoder_push(
                dec,
                null(),
                1,
                &mut n,
                &mut frame,
            )));
            got.push(n as i64);
            got.push(i64::from($b::mtp_rpc_frame_decoder_push(
                dec,
                null(),
                0,
                &mut n,
                &mut frame,
            )));
            got.push(n as i64);

            got.push(i64::from($b::mtp_rpc_frame_decoder_set_crc(
                null_mut(),
                MTP_RPC_FRAME_CRC32C,
            )));
            got.push(i64::from($b::mtp_rpc_frame_decoder_set_crc(dec, 2)));
            got.push(i64::from($b::mtp_rpc_frame_decoder_set_crc(dec, -1)));
            got.push(i64::from($b::mtp_rpc_frame_decoder_set_seq(null_mut(), 3)));
            got.push(i64::from($b::mtp_rpc_frame_decoder_get_info(
                null(),
                &mut info,
            )));
            got.push(i64::from($b::mtp_rpc_frame_decoder_get_info(
                dec,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_rpc_frame_decoder_get_info(
                dec, &mut info,
            )));
            got.extend([info.expected_seq, info.crc_kind, info.error].map(i64::from));
            got.push(info.buffered as i64);
            got.push(i64::from($b::mtp_rpc_frame_decoder_set_crc(
                dec,
                MTP_RPC_FRAME_CRC32C,
            )));
            got.push(i64::from($b::mtp_rpc_frame_decoder_set_seq(dec, -7)));
            got.push(i64::from($b::mtp_rpc_frame_decoder_get_info(
                dec, &mut info,
            )));
            got.extend([info.expected_seq, info.crc_kind, info.error].map(i64::from));
            $b::mtp_rpc_frame_decoder_free(dec);
        }
        got
    }};
}

/// Each function refuses each required pointer alone and an input pointer
/// NULL with a length; (NULL, 0) inputs are empty, an output NULL or short
/// is "output too small" unless nothing is to be written.
#[test]
fn null_and_empty_arguments_agree() {
    let c = calls!(raw);
    let r = calls!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    let arg = i64::from(ARG);
    let len = i64::from(LEN);
    let small = i64::from(SMALL);
    #[rustfmt::skip]
    let want: Vec<i64> = vec![
        // encode
        arg, arg, arg, arg, len, small, small, small, 99, 1, 0, 16,
        // padding
        arg, len, small, small, small, 99, 0, 0, 0, 12, 1,
        // decoder_new
        1, 1,
        // push: NULLs refused, nothing consumed; (NULL, 0) consumes 0
        arg, arg, arg, arg, 99, 0, 0,
        // set_crc, set_seq, get_info
        arg, arg, arg, arg, arg, arg, 0, 0, 0, 0, 0, 0, 0, 0, -7, 1, 0,
    ];
    assert_eq!(c, want);
}
