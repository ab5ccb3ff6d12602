//! Contract of the ext-framing module: client transport framing inside
//! obfuscation (docs/PROTOCOL.md §3): abridged, intermediate and padded
//! intermediate in both directions, quick acks (§3.2) and the proxy's
//! forward filter (§3.1).
//!
//! Client → proxy: abridged = 1 byte `L` (bit 7: quick ack requested), length
//! `(L & 0x7f) * 4`, or `0x7f` (| 0x80) + 3-byte LE length/4; intermediate and
//! padded = 4-byte LE length, bit 31 quick ack. Proxy → client: the same
//! without the quick-ack bit; a set top bit marks a raw 4-byte quick-ack
//! answer instead. Packet lengths are 1..=1044480 from a client and
//! 1..=16777216 from the proxy (any middle-end answer).
use crate::raw;
use mtproxy_core::net::ext_framing::{self as framing, FrameDecoder};

/// The codes and structs of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::ext_framing::*;

/// Stream decoder handle (opaque): buffers at most one maximal frame.
#[allow(non_camel_case_types)]
pub struct mtp_ext_framing_decoder(FrameDecoder);

/// The transport mode of an obfuscated2 tag, or `MTP_EXT_FRAMING_ERR_ARG`.
#[no_mangle]
pub extern "C" fn mtp_ext_framing_mode_from_tag(tag: u32) -> i32 {
    framing::mode_from_tag(tag).unwrap_or_else(|code| code)
}

/// Creates a decoder for the stream `sender` sends in `mode` and stores it in
/// `*out`. Returns 0 or `MTP_EXT_FRAMING_ERR_ARG`.
///
/// # Safety
/// `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_decoder_new(
    mode: i32,
    sender: i32,
    out: *mut *mut mtp_ext_framing_decoder,
) -> i32 {
    // SAFETY: NULL or writable by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return MTP_EXT_FRAMING_ERR_ARG;
    };
    match FrameDecoder::new(mode, sender) {
        Ok(dec) => {
            *out = Box::into_raw(Box::new(mtp_ext_framing_decoder(dec)));
            0
        }
        Err(code) => code,
    }
}

/// Frees a decoder; NULL is ignored.
///
/// # Safety
/// `dec` must be NULL or a live handle from `mtp_ext_framing_decoder_new`,
/// not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_decoder_free(dec: *mut mtp_ext_framing_decoder) {
    if !dec.is_null() {
        // SAFETY: a live handle from Box::into_raw, given up by the caller.
        drop(unsafe { Box::from_raw(dec) });
    }
}

/// Buffers a prefix of the `len` bytes at `data` and stores its length in
/// `*consumed`: everything unless the decoder would hold more than one
/// maximal frame (take packets out, then feed the rest). Returns 0 or the
/// decoder's sticky error (`MTP_EXT_FRAMING_ERR_ARG` for NULL pointers).
///
/// # Safety
/// `dec` NULL or live; `data` points to `len` readable bytes (NULL if `len`
/// is 0); `consumed` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_decoder_feed(
    dec: *mut mtp_ext_framing_decoder,
    data: *const u8,
    len: usize,
    consumed: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (dec, data, consumed) = unsafe { (dec.as_mut(), raw::bytes(data, len), consumed.as_mut()) };
    let (Some(dec), Some(consumed)) = (dec, consumed) else {
        return MTP_EXT_FRAMING_ERR_ARG;
    };
    match dec.0.feed(data) {
        Ok(n) => {
            *consumed = n;
            0
        }
        Err(code) => code,
    }
}

/// Takes the next whole packet out: copies its (cut) payload to `out` and
/// describes it in `*info` (`ready` 0 when no frame is complete yet).
/// Returns 0, `MTP_EXT_FRAMING_ERR_OUT_SPACE` if `cap` is below the payload
/// (the packet stays; 1044480 always suffices), or a framing error, which is
/// sticky (the connection must be closed).
///
/// # Safety
/// `dec` NULL or live; `out` points to `cap` writable bytes (NULL if `cap`
/// is 0); `info` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_decoder_next(
    dec: *mut mtp_ext_framing_decoder,
    out: *mut u8,
    cap: usize,
    info: *mut mtp_ext_framing_packet,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (dec, out, info) = unsafe { (dec.as_mut(), raw::bytes_mut(out, cap), info.as_mut()) };
    let (Some(dec), Some(info)) = (dec, info) else {
        return MTP_EXT_FRAMING_ERR_ARG;
    };
    match dec.0.next_packet(out) {
        Ok(packet) => {
            *info = packet.into();
            0
        }
        Err(code) => code,
    }
}

/// Bytes the decoder holds (0 for NULL).
///
/// # Safety
/// `dec` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_decoder_buffered(
    dec: *const mtp_ext_framing_decoder,
) -> usize {
    // SAFETY: NULL or live by the caller's contract.
    unsafe { dec.as_ref() }.map_or(0, |d| d.0.buffered())
}

/// The decoder's sticky error, 0 if none (`MTP_EXT_FRAMING_ERR_ARG` for NULL).
///
/// # Safety
/// `dec` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_decoder_error(dec: *const mtp_ext_framing_decoder) -> i32 {
    // SAFETY: NULL or live by the caller's contract.
    unsafe { dec.as_ref() }.map_or(MTP_EXT_FRAMING_ERR_ARG, |d| d.0.error_code())
}

/// Frames `payload` plus `padding` (padded mode only: ≤ 15 bytes from a
/// client, ≤ 3 from the proxy) as `sender` sends it in `mode`, with the
/// quick-ack bit if `quick_ack` is nonzero (clients only), into `out`;
/// stores the frame length in `*out_len`. Abridged and intermediate payloads
/// must be a multiple of 4. Returns 0 or an `MTP_EXT_FRAMING_ERR_*` code.
///
/// # Safety
/// `payload` / `padding` point to `payload_len` / `padding_len` readable
/// bytes (NULL if 0), not overlapping `out`, which points to `cap` writable
/// bytes; `out_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_encode(
    sender: i32,
    mode: i32,
    quick_ack: i32,
    payload: *const u8,
    payload_len: usize,
    padding: *const u8,
    padding_len: usize,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (payload, padding) = unsafe {
        (
            raw::bytes(payload, payload_len),
            raw::bytes(padding, padding_len),
        )
    };
    // SAFETY: forwarded caller contract.
    let (out, out_len) = unsafe { (raw::bytes_mut(out, cap), out_len.as_mut()) };
    let Some(out_len) = out_len else {
        return MTP_EXT_FRAMING_ERR_ARG;
    };
    match framing::encode_packet(sender, mode, quick_ack != 0, payload, padding, out) {
        Ok(n) => {
            *out_len = n;
            0
        }
        Err(code) => code,
    }
}

/// The proxy's quick-ack answer for `confirm` in `mode` into `out`, length in
/// `*out_len`: abridged = `confirm` big-endian, intermediate = little-endian,
/// padded = chosen by `random` (≥ 17 bytes, unused otherwise): bit 0 of
/// `random[0]` clear: the raw 4 bytes LE; set: two framed packets
/// `ffffffff ‖ confirm ‖ extra1` + pad1 and `00000000 ‖ extra2` + pad2; bit 0
/// of `random[1]` / `random[2]` includes extra1 = `random[3..7)` / extra2 =
/// `random[10..14)`, their bits 1-2 give the length of pad1 = `random[7..)` /
/// pad2 = `random[14..)`. Returns 0 or an `MTP_EXT_FRAMING_ERR_*` code.
///
/// # Safety
/// `random` points to `random_len` readable bytes (NULL if 0); `out` to `cap`
/// writable bytes; `out_len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_quick_ack(
    mode: i32,
    confirm: u32,
    random: *const u8,
    random_len: usize,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (random, out) = unsafe { (raw::bytes(random, random_len), raw::bytes_mut(out, cap)) };
    // SAFETY: forwarded caller contract.
    let Some(out_len) = (unsafe { out_len.as_mut() }) else {
        return MTP_EXT_FRAMING_ERR_ARG;
    };
    match framing::encode_quick_ack(mode, confirm, random, out) {
        Ok(n) => {
            *out_len = n;
            0
        }
        Err(code) => code,
    }
}

/// Classifies a decoded client packet as the proxy's forward filter does
/// (§3.1) into `*out`. Returns 0 or `MTP_EXT_FRAMING_ERR_ARG` for NULL `out`.
///
/// # Safety
/// `packet` points to `len` readable bytes (NULL if 0); `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_ext_framing_classify(
    packet: *const u8,
    len: usize,
    out: *mut mtp_ext_framing_verdict,
) -> i32 {
    // SAFETY: forwarded caller contract.
    let (packet, out) = unsafe { (raw::bytes(packet, len), out.as_mut()) };
    let Some(out) = out else {
        return MTP_EXT_FRAMING_ERR_ARG;
    };
    *out = framing::classify_packet(packet).into();
    0
}
