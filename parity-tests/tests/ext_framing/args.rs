//! Argument checks of every exported ext-framing function, called through
//! both raw bindings (C: `bindings_cref`, Rust: `bindings`): each required
//! pointer NULL alone, NULL inputs read as empty (this contract clamps their
//! lengths to 0), NULL outputs as capacity 0, and the edges of the valid
//! mode and sender codes.
use mtproxy_sys::bindings as rust_raw;
use mtproxy_sys::bindings::{
    mtp_ext_framing_decoder, mtp_ext_framing_packet, mtp_ext_framing_verdict,
    MTP_EXT_FRAMING_ABRIDGED, MTP_EXT_FRAMING_DROP, MTP_EXT_FRAMING_DROP_BAD_MESSAGE_LENGTH,
    MTP_EXT_FRAMING_DROP_ENCRYPTED_SHORT, MTP_EXT_FRAMING_DROP_SHORT,
    MTP_EXT_FRAMING_DROP_UNALIGNED, MTP_EXT_FRAMING_ERR_ARG, MTP_EXT_FRAMING_ERR_OUT_SPACE,
    MTP_EXT_FRAMING_ERR_ZERO_LENGTH, MTP_EXT_FRAMING_FROM_CLIENT, MTP_EXT_FRAMING_FROM_PROXY,
    MTP_EXT_FRAMING_INTERMEDIATE, MTP_EXT_FRAMING_PADDED,
};
use mtproxy_sys::bindings_cref as raw;
use std::ptr::{null, null_mut};

const ARG: i64 = MTP_EXT_FRAMING_ERR_ARG as i64;
const SPACE: i64 = MTP_EXT_FRAMING_ERR_OUT_SPACE as i64;

/// Every call with one argument off the contract at a time; each entry is a
/// result code or a summary of what was written.
macro_rules! calls {
    ($b:ident) => {{
        let mut got: Vec<i64> = Vec::new();
        let mut out = [0u8; 64];
        let mut n = 99usize;
        // SAFETY: every non-NULL pointer is a live buffer of at least the
        // length or capacity passed with it, and each decoder made here is
        // freed once; NULL only where the call must refuse it or the
        // contract reads it as empty.
        unsafe {
            let mut dec: *mut mtp_ext_framing_decoder = null_mut();
            got.push(i64::from($b::mtp_ext_framing_decoder_new(1, 0, null_mut())));
            for (mode, sender) in [(0, 0), (4, 0), (1, -1), (1, 2), (3, 2)] {
                got.push(i64::from($b::mtp_ext_framing_decoder_new(
                    mode, sender, &mut dec,
                )));
            }
            got.push(i64::from(dec.is_null()));
            for (mode, sender) in [(1, 0), (3, 1)] {
                got.push(i64::from($b::mtp_ext_framing_decoder_new(
                    mode, sender, &mut dec,
                )));
                $b::mtp_ext_framing_decoder_free(dec);
            }
            $b::mtp_ext_framing_decoder_free(null_mut());
            got.push($b::mtp_ext_framing_decoder_buffered(null()) as i64);
            got.push(i64::from($b::mtp_ext_framing_decoder_error(null())));

            $b::mtp_ext_framing_decoder_new(MTP_EXT_FRAMING_INTERMEDIATE, 0, &mut dec);
            let packet = [4u8, 0, 0, 0, 9, 8, 7, 6];
            let mut info = mtp_ext_framing_packet::default();
            got.push(i64::from($b::mtp_ext_framing_decoder_feed(
                null_mut(),
                packet.as_ptr(),
                8,
                &mut n,
            )));
            got.push(i64::from($b::mtp_ext_framing_decoder_feed(
                dec,
                packet.as_ptr(),
                8,
                null_mut(),
            )));
            got.push(n as i64);
            got.push(i64::from($b::mtp_ext_framing_decoder_feed(
                dec,
                null(),
                8,
                &mut n,
            )));
            got.push(n as i64);
            got.push($b::mtp_ext_framing_decoder_buffered(dec) as i64);
            got.push(i64::from($b::mtp_ext_framing_decoder_feed(
                dec,
                packet.as_ptr(),
                8,
                &mut n,
            )));
            got.push(n as i64);
            got.push(i64::from($b::mtp_ext_framing_decoder_next(
                null_mut(),
                out.as_mut_ptr(),
                64,
                &mut info,
            )));
            got.push(i64::from($b::mtp_ext_framing_decoder_next(
                dec,
                out.as_mut_ptr(),
                64,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_ext_framing_decoder_next(
                dec,
                null_mut(),
                64,
                &mut info,
            )));
            got.push(i64::from($b::mtp_ext_framing_decoder_next(
                dec,
                out.as_mut_ptr(),
                3,
                &mut info,
            )));
            got.push($b::mtp_ext_framing_decoder_buffered(dec) as i64);
            got.push(i64::from($b::mtp_ext_framing_decoder_next(
                dec,
                out.as_mut_ptr(),
                4,
                &mut info,
            )));
            got.extend([info.ready, info.quick_ack].map(i64::from));
            got.push(info.length as i64);
            got.push(i64::from(out[..4] == [9, 8, 7, 6]));
            got.push(i64::from($b::mtp_ext_framing_decoder_error(dec)));
            $b::mtp_ext_framing_decoder_free(dec);

            let payload = [1u8, 2, 3, 4];
            let padding = [0xaau8; 3];
            let enc = |mode: i32,
                       p: *const u8,
                       pl: usize,
                       pad: *const u8,
                       padl: usize,
                       o: *mut u8,
                       cap: usize,
                       n: *mut usize| {
                i64::from($b::mtp_ext_framing_encode(
                    0, mode, 0, p, pl, pad, padl, o, cap, n,
                ))
            };
            n = 99;
            got.push(enc(
                1,
                payload.as_ptr(),
                4,
                null(),
                0,
                out.as_mut_ptr(),
                64,
                null_mut(),
            ));
            got.push(enc(1, null(), 4, null(), 0, out.as_mut_ptr(), 64, &mut n));
            got.push(enc(
                3,
                payload.as_ptr(),
                4,
                null(),
                3,
                out.as_mut_ptr(),
                64,
                &mut n,
            ));
            got.push(n as i64);
            got.push(enc(
                3,
                payload.as_ptr(),
                4,
                padding.as_ptr(),
                3,
                null_mut(),
                64,
                &mut n,
            ));
            got.push(enc(
                3,
                payload.as_ptr(),
                4,
                padding.as_ptr(),
                3,
                out.as_mut_ptr(),
                10,
                &mut n,
            ));
            got.push(enc(
                3,
                payload.as_ptr(),
                4,
                padding.as_ptr(),
                3,
                out.as_mut_ptr(),
                11,
                &mut n,
            ));
            got.push(n as i64);
            got.push(i64::from($b::mtp_ext_framing_encode(
                2,
                1,
                0,
                payload.as_ptr(),
                4,
                null(),
                0,
                out.as_mut_ptr(),
                64,
                &mut n,
            )));

            let random = [1u8; 17];
            let qa = |mode: i32, r: *const u8, rl: usize, o: *mut u8, cap: usize, n: *mut usize| {
                i64::from($b::mtp_ext_framing_quick_ack(
                    mode,
                    0x8000_0001,
                    r,
                    rl,
                    o,
                    cap,
                    n,
                ))
            };
            got.push(qa(3, null(), 17, out.as_mut_ptr(), 64, &mut n));
            got.push(qa(3, random.as_ptr(), 16, out.as_mut_ptr(), 64, &mut n));
            got.push(qa(1, null(), 0, out.as_mut_ptr(), 64, null_mut()));
            got.push(qa(1, null(), 0, null_mut(), 64, &mut n));
            got.push(qa(2, null(), 0, out.as_mut_ptr(), 3, &mut n));
            got.push(qa(4, null(), 0, out.as_mut_ptr(), 64, &mut n));
            got.push(qa(2, null(), 0, out.as_mut_ptr(), 4, &mut n));
            got.push(n as i64);

            let mut v = mtp_ext_framing_verdict::default();
            let ping = [0xdfu8, 0xa2, 0x30, 0x57, 1, 2, 3, 4, 5, 6, 7, 8];
            got.push(i64::from($b::mtp_ext_framing_classify(
                ping.as_ptr(),
                12,
                null_mut(),
            )));
            got.push(i64::from($b::mtp_ext_framing_classify(null(), 12, &mut v)));
            got.extend([v.action, v.reason].map(i64::from));
            got.push(i64::from($b::mtp_ext_framing_classify(
                ping.as_ptr(),
                12,
                &mut v,
            )));
            got.extend([v.action, v.reason].map(i64::from));
        }
        got
    }};
}

/// Each function refuses each required pointer alone; a NULL input is read
/// as empty and a NULL output as capacity 0, as the contract says.
#[test]
fn null_and_empty_arguments_agree() {
    let c = calls!(raw);
    let r = calls!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    let zero = i64::from(MTP_EXT_FRAMING_ERR_ZERO_LENGTH);
    let _ = (MTP_EXT_FRAMING_ABRIDGED, MTP_EXT_FRAMING_PADDED);
    let _ = (MTP_EXT_FRAMING_FROM_CLIENT, MTP_EXT_FRAMING_FROM_PROXY);
    #[rustfmt::skip]
    let want: Vec<i64> = vec![
        // decoder_new: NULL out, bad modes and senders, then the edges
        ARG, ARG, ARG, ARG, ARG, ARG, 1, 0, 0,
        // buffered(NULL), error(NULL)
        0, ARG,
        // feed: NULLs refused; NULL data is empty
        ARG, ARG, 99, 0, 0, 0, 0, 8,
        // next: NULLs refused; NULL out is capacity 0; short out
        ARG, ARG, SPACE, SPACE, 8, 0, 1, 0, 4, 1, 0,
        // encode: NULL out_len; NULL payload or padding are empty
        ARG, zero, 0, 8, SPACE, SPACE, 0, 11, ARG,
        // quick_ack
        ARG, ARG, ARG, SPACE, SPACE, ARG, 0, 4,
        // classify: NULL out; NULL packet is empty (short)
        ARG, 0, i64::from(MTP_EXT_FRAMING_DROP), i64::from(MTP_EXT_FRAMING_DROP_SHORT), 0, 1, 0,
    ];
    assert_eq!(c, want);
}

/// Classify verdicts (action, reason, unencrypted) for packets of every
/// length around the contract's edges: zero or random auth key id, message
/// lengths at and past the bounds, a ping of 12 bytes and of 16.
macro_rules! classify_edges {
    ($b:ident) => {{
        let mut got: Vec<(usize, i64, [i32; 3])> = Vec::new();
        let mut classify = |p: &[u8], tag: i64| {
            let mut v = mtp_ext_framing_verdict::default();
            // SAFETY: `p` is a live slice passed with its length; `v` a
            // live verdict.
            let rc = unsafe { $b::mtp_ext_framing_classify(p.as_ptr(), p.len(), &mut v) };
            assert_eq!(rc, 0);
            got.push((p.len(), tag, [v.action, v.reason, v.unencrypted]));
        };
        for len in 0..=64usize {
            let mut p = vec![0u8; len];
            classify(&p, 0);
            if len >= 8 {
                p[7] = 1;
                classify(&p, 1);
            }
        }
        // Zero key id, function req_pq at offset 20, message length m.
        for len in [40usize, 44, 60] {
            for m in [19i32, 20, len as i32 - 20, len as i32 - 19, -1] {
                let mut p = vec![0u8; len];
                p[16..20].copy_from_slice(&m.to_le_bytes());
                p[20..24].copy_from_slice(&0x6046_9778u32.to_le_bytes());
                classify(&p, 100 + i64::from(m));
            }
        }
        let mut ping = vec![0xdf, 0xa2, 0x30, 0x57];
        ping.extend(1..=12u8);
        classify(&ping[..12], 9);
        classify(&ping, 9);
        got
    }};
}

/// Which length, key id and message length gets which verdict and reason.
#[test]
fn classify_length_edges_agree() {
    let c = classify_edges!(raw);
    let r = classify_edges!(rust_raw);
    assert_eq!(c, r, "C vs Rust");
    let drop = MTP_EXT_FRAMING_DROP;
    for &(len, tag, [action, reason, unenc]) in &c {
        let want = match tag {
            _ if len < 28 && !(tag == 9 && len == 12) => [drop, MTP_EXT_FRAMING_DROP_SHORT, 0],
            _ if len % 4 != 0 => [drop, MTP_EXT_FRAMING_DROP_UNALIGNED, 0],
            0 => [drop, MTP_EXT_FRAMING_DROP_BAD_MESSAGE_LENGTH, 0],
            1 if len < 56 => [drop, MTP_EXT_FRAMING_DROP_ENCRYPTED_SHORT, 0],
            1 => [0, 0, 0],
            9 => [1, 0, 0],
            m => {
                let m = m - 100;
                if (20..=len as i64 - 20).contains(&m) {
                    [0, 0, 1]
                } else {
                    [drop, MTP_EXT_FRAMING_DROP_BAD_MESSAGE_LENGTH, 0]
                }
            }
        };
        assert_eq!([action, reason, unenc], want, "len {len} tag {tag}");
    }
}
