//! Argument checks of every exported rpc-frame function, called through both
//! raw bindings (C: `bindings_cref`, Rust: `bindings`): each required pointer
//! NULL alone, (NULL, 0) inputs and outputs as empty ones, (NULL, n) refused,
//! and output capacities one short of and exactly the size needed.
use mtproxy_sys::bindings as rust_raw;
use mtproxy_sys::bindings::{
    mtp_rpc_frame, mtp_rpc_frame_decoder_info, MTP_RPC_FRAME_CRC32, MTP_RPC_FRAME_CRC32C,
    MTP_RPC_FRAME_ERR_ARG, MTP_RPC_FRAME_ERR_BAD_LENGTH, MTP_RPC_FRAME_ERR_OUT_SMALL,
    MTP_RPC_FRAME_ERR_TOO_BIG, MTP_RPC_FRAME_MAX_LEN,
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

/// Decoder answers to a bare 4-byte length field of each edge value: the
/// push result, the bytes consumed and the decoder's buffered count and
/// error; then encoder answers at the payload size limit.
macro_rules! length_edges {
    ($b:ident) => {{
        let max = MTP_RPC_FRAME_MAX_LEN;
        let mut got: Vec<[i64; 4]> = Vec::new();
        // SAFETY: each decoder is made, used and freed here; every buffer
        // is live and passed with its own length.
        unsafe {
            for len in [
                i32::MIN,
                -4,
                0,
                1,
                2,
                3,
                4,
                5,
                8,
                12,
                15,
                16,
                17,
                20,
                max,
                max + 1,
                max + 4,
            ] {
                let dec = $b::mtp_rpc_frame_decoder_new(0, MTP_RPC_FRAME_CRC32);
                let mut frame = mtp_rpc_frame::default();
                let mut info = mtp_rpc_frame_decoder_info::default();
                let mut n = 99usize;
                let head = len.to_le_bytes();
                let rc = $b::mtp_rpc_frame_decoder_push(dec, head.as_ptr(), 4, &mut n, &mut frame);
                $b::mtp_rpc_frame_decoder_get_info(dec, &mut info);
                got.push([
                    i64::from(rc),
                    n as i64,
                    info.buffered as i64,
                    i64::from(info.error),
                ]);
                $b::mtp_rpc_frame_decoder_free(dec);
            }
            let big = vec![0u8; max as usize];
            let mut out = [0u8; 16];
            for payload_len in [max as usize - 16, max as usize - 12, max as usize - 8] {
                let mut n = 0usize;
                let rc = $b::mtp_rpc_frame_encode(
                    0,
                    big.as_ptr(),
                    payload_len,
                    0,
                    out.as_mut_ptr(),
                    16,
                    &mut n,
                );
                got.push([i64::from(rc), 0, 0, 0]);
            }
            for total in (0..=36u64).step_by(2) {
                let mut pad = [0xeeu8; 16];
                let mut n = 99usize;
                let rc = $b::mtp_rpc_frame_padding(total, pad.as_mut_ptr(), 16, &mut n);
                let ours = pad.iter().filter(|&&b| b != 0xee).count();
                got.push([i64::from(rc), n as i64, ours as i64, i64::from(pad[0])]);
            }
        }
        got
    }};
}

/// Which frame lengths the decoder refuses, skips (the padding word) or
/// waits on; the encoder's size limit; the padding for every total.
#[test]
fn length_edges_agree() {
    let c = length_edges!(raw);
    let r = length_edges!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    let bad = i64::from(MTP_RPC_FRAME_ERR_BAD_LENGTH);
    let big = i64::from(MTP_RPC_FRAME_ERR_TOO_BIG);
    let refused = |e: i64| [e, 99, 4, e];
    let waits = [0, 4, 4, 0];
    let mut want = vec![refused(bad); 6];
    want.extend([
        [0, 4, 0, 0],
        refused(bad),
        refused(bad),
        refused(bad),
        refused(bad),
    ]);
    want.extend([
        waits,
        refused(bad),
        waits,
        waits,
        refused(bad),
        refused(big),
    ]);
    let small = i64::from(MTP_RPC_FRAME_ERR_OUT_SMALL);
    want.extend([[small, 0, 0, 0], [small, 0, 0, 0], [big, 0, 0, 0]]);
    for total in (0..=36i64).step_by(2) {
        if total % 4 != 0 {
            want.push([bad, 99, 0, 0xee]);
        } else {
            let len = (16 - total % 16) % 16;
            want.push([0, len, len, if len > 0 { 4 } else { 0xee }]);
        }
    }
    assert_eq!(c, want);
}
