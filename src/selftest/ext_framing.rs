use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::ext_framing as framing;
use std::ptr::{null, null_mut};

pub const CHECKS: &[Check] = &[
    ("client frame round trip", || {
        let mut frame = [0u8; 32];
        let n = framing::encode_packet(framing::FROM_CLIENT, 3, true, &[7; 8], &[1; 5], &mut frame)
            .map_err(|e| format!("encode: {e}"))?;
        expect_eq("padded header", frame[..4].to_vec(), vec![13, 0, 0, 0x80])?;
        let mut dec =
            framing::FrameDecoder::new(3, framing::FROM_CLIENT).map_err(|e| format!("new: {e}"))?;
        let mut out = [0u8; 16];
        expect_eq("feed", dec.feed(&frame[..n]), Ok(n))?;
        let got = dec
            .next_packet(&mut out)
            .map(|p| p.map(|p| (p.quick_ack, p.length)));
        expect_eq("packet", got, Ok(Some((true, 12))))?;
        expect_eq(
            "payload + 4 padding bytes",
            &out[..12],
            &[7, 7, 7, 7, 7, 7, 7, 7, 1, 1, 1, 1],
        )
    }),
    ("sticky errors", || {
        let mut dec =
            framing::FrameDecoder::new(1, framing::FROM_CLIENT).map_err(|e| format!("new: {e}"))?;
        dec.feed(&[0x7f, 0x10, 0, 0])
            .map_err(|e| format!("feed: {e}"))?;
        let first = dec.next_packet(&mut []).map(|_| ());
        expect_eq("overlong", first, Err(framing::ERR_OVERLONG))?;
        expect_eq("feed after", dec.feed(&[4]), Err(framing::ERR_OVERLONG))
    }),
    ("modes from tags", || {
        let tags = [0xefef_efef, 0xeeee_eeee, 0xdddd_dddd, 0xdddd_ddde];
        let modes = tags.map(framing::mode_from_tag);
        expect_eq("modes", modes, [Ok(1), Ok(2), Ok(3), Err(framing::ERR_ARG)])
    }),
    ("quick ack and filter", || {
        let mut out = [0u8; 8];
        let n = framing::encode_quick_ack(1, 0x8000_0102, &[], &mut out)
            .map_err(|e| format!("ack: {e}"))?;
        expect_eq("abridged ack", &out[..n], &[0x80, 0, 1, 2])?;
        let ping = [0xdf, 0xa2, 0x30, 0x57, 1, 2, 3, 4, 5, 6, 7, 8];
        let v = framing::classify_packet(&ping);
        expect_eq(
            "pong",
            (v.action, v.pong[..4].to_vec()),
            (framing::PING, vec![0xa7, 0xea, 0x30, 0x84]),
        )
    }),
    ("null pointers", || {
        let mut len = 0usize;
        // SAFETY: null pointers where the contract allows them; every call
        // must fail (or do nothing) without writing.
        let codes = unsafe {
            raw::mtp_ext_framing_decoder_free(null_mut());
            [
                raw::mtp_ext_framing_decoder_new(1, 0, null_mut()),
                raw::mtp_ext_framing_decoder_feed(null_mut(), null(), 0, &mut len),
                raw::mtp_ext_framing_decoder_next(null_mut(), null_mut(), 0, null_mut()),
                raw::mtp_ext_framing_decoder_error(null()),
                raw::mtp_ext_framing_classify(null(), 0, null_mut()),
                raw::mtp_ext_framing_encode(
                    0,
                    2,
                    0,
                    null(),
                    0,
                    null(),
                    0,
                    null_mut(),
                    0,
                    null_mut(),
                ),
            ]
        };
        expect_eq("codes", codes, [framing::ERR_ARG; 6])?;
        // SAFETY: as above.
        expect_eq(
            "buffered(NULL)",
            unsafe { raw::mtp_ext_framing_decoder_buffered(null()) },
            0,
        )
    }),
];
