//! Contract of the rpc-frame module: the proxy ↔ middle-end "full" RPC
//! framing (docs/PROTOCOL.md §4.2): `LE32 L | LE32 seq | payload | LE32 CRC`,
//! `L = payload + 12`, CRC-32 or CRC-32C over bytes `0..L-4`, and the padding
//! word `04 00 00 00` (a no-op frame of length 4).
use crate::raw;
use mtproxy_core::net::rpc_frame::{self, CrcKind, FrameDecoder};

/// The codes and structs of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::rpc_frame::*;

/// A `(ptr, len)` pair that promises bytes but has no pointer.
fn missing(ptr: *const u8, len: usize) -> bool {
    ptr.is_null() && len != 0
}

/// Stores a successful call's output length; returns the success code.
fn stored(out_len: &mut usize, len: usize) -> i32 {
    *out_len = len;
    0
}

/// Stream decoder for one direction of a connection (opaque).
#[allow(non_camel_case_types)]
pub struct mtp_rpc_frame_decoder(FrameDecoder);

/// Writes to `out` the frame carrying `payload` with sequence number `seq`
/// and a CRC of kind `crc_kind`; stores its length in `*out_len`. Errors:
/// `_ARG` (NULL pointer, unknown kind), `_BAD_LENGTH` (payload empty or not
/// a multiple of 4), `_TOO_BIG`, `_OUT_SMALL` (`out_cap` < payload + 12).
///
/// # Safety
/// `payload` points to `payload_len` readable bytes (NULL if 0), `out` to
/// `out_cap` writable bytes (NULL if 0), `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_frame_encode(
    seq: i32,
    payload: *const u8,
    payload_len: usize,
    crc_kind: i32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    let crc = CrcKind::from_code(crc_kind);
    // SAFETY: `out_len` is NULL or writable by the caller's contract.
    let out_len = unsafe { out_len.as_mut() };
    let (Some(crc), Some(out_len), false) = (crc, out_len, missing(payload, payload_len)) else {
        return MTP_RPC_FRAME_ERR_ARG;
    };
    // SAFETY: both regions are valid by the caller's contract.
    let (payload, out) = unsafe {
        (
            raw::bytes(payload, payload_len),
            raw::bytes_mut(out, out_cap),
        )
    };
    rpc_frame::encode_frame_into(seq, payload, crc, out).map_or_else(|e| e, |n| stored(out_len, n))
}

/// Writes to `out` the padding words (0 to 3, `04 00 00 00` each) that bring
/// a running byte count `total` to a multiple of 16; stores their byte count
/// in `*out_len`. Errors: `_BAD_LENGTH` (`total` not a multiple of 4),
/// `_OUT_SMALL`, `_ARG` (NULL `out_len`).
///
/// # Safety
/// `out` points to `out_cap` writable bytes (NULL if 0); `out_len` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_frame_padding(
    total: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: `out_len` is NULL or writable, `out` valid for `out_cap` bytes.
    let (Some(out_len), out) = (unsafe { (out_len.as_mut(), raw::bytes_mut(out, out_cap)) }) else {
        return MTP_RPC_FRAME_ERR_ARG;
    };
    rpc_frame::write_padding(total, out).map_or_else(|e| e, |n| stored(out_len, n))
}

/// A decoder expecting sequence number `first_seq` next (−2 on a connection
/// that starts with the nonce) and checking CRCs of kind `crc_kind`; NULL if
/// the kind is unknown.
#[no_mangle]
pub extern "C" fn mtp_rpc_frame_decoder_new(
    first_seq: i32,
    crc_kind: i32,
) -> *mut mtp_rpc_frame_decoder {
    CrcKind::from_code(crc_kind).map_or(std::ptr::null_mut(), |crc| {
        Box::into_raw(Box::new(mtp_rpc_frame_decoder(FrameDecoder::new(
            first_seq, crc,
        ))))
    })
}

/// Frees a decoder; NULL is a no-op.
///
/// # Safety
/// `dec` is NULL or came from `mtp_rpc_frame_decoder_new` and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_frame_decoder_free(dec: *mut mtp_rpc_frame_decoder) {
    if !dec.is_null() {
        // SAFETY: a pointer from `Box::into_raw`, given back once.
        drop(unsafe { Box::from_raw(dec) });
    }
}

/// Consumes bytes of `data` up to the end of the next frame. Returns 1 with
/// `*frame` filled when a frame completed, 0 when all `len` bytes were taken
/// without completing one, or a negative error; `*consumed` gets the bytes
/// taken (on success). Padding words are skipped; each accepted frame
/// advances the expected sequence number by one. Errors are sticky:
/// `_BAD_LENGTH`, `_TOO_BIG`, `_BAD_CRC`, `_BAD_SEQ`, `_NO_MEMORY`; `_ARG`
/// (a NULL pointer) changes nothing.
///
/// # Safety
/// `dec` is NULL or a live decoder; `data` points to `len` readable bytes
/// (NULL if 0); `consumed` and `frame` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_frame_decoder_push(
    dec: *mut mtp_rpc_frame_decoder,
    data: *const u8,
    len: usize,
    consumed: *mut usize,
    frame: *mut mtp_rpc_frame,
) -> i32 {
    // SAFETY: each pointer is NULL or valid and exclusive by the contract.
    let (dec, out_consumed, out_frame) =
        unsafe { (dec.as_mut(), consumed.as_mut(), frame.as_mut()) };
    let (Some(dec), Some(out_consumed), Some(out_frame), false) =
        (dec, out_consumed, out_frame, missing(data, len))
    else {
        return MTP_RPC_FRAME_ERR_ARG;
    };
    // SAFETY: `data` points to `len` bytes by the caller's contract.
    match dec.0.push(unsafe { raw::bytes(data, len) }) {
        Err(e) => e,
        Ok(pushed) => {
            *out_consumed = pushed.consumed;
            pushed.frame.map_or(0, |f| {
                *out_frame = (&f).into();
                1
            })
        }
    }
}

/// Checks the frames completed from now on with `crc_kind` (call between
/// frames: the handshake switches to CRC-32C for all later packets).
/// Returns 0, or `_ARG` for a NULL decoder or unknown kind.
///
/// # Safety
/// `dec` is NULL or a live decoder.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_frame_decoder_set_crc(
    dec: *mut mtp_rpc_frame_decoder,
    crc_kind: i32,
) -> i32 {
    // SAFETY: NULL or a live decoder by the caller's contract.
    match (unsafe { dec.as_mut() }, CrcKind::from_code(crc_kind)) {
        (Some(dec), Some(crc)) => {
            dec.0.set_crc(crc);
            0
        }
        _ => MTP_RPC_FRAME_ERR_ARG,
    }
}

/// Requires sequence number `seq` on the next frame. Returns 0, or `_ARG`
/// for a NULL decoder.
///
/// # Safety
/// `dec` is NULL or a live decoder.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_frame_decoder_set_seq(
    dec: *mut mtp_rpc_frame_decoder,
    seq: i32,
) -> i32 {
    // SAFETY: NULL or a live decoder by the caller's contract.
    unsafe { dec.as_mut() }.map_or(MTP_RPC_FRAME_ERR_ARG, |dec| {
        dec.0.set_seq(seq);
        0
    })
}

/// Fills `*info` with the decoder's state. Returns 0, or `_ARG` for a NULL
/// pointer.
///
/// # Safety
/// `dec` is NULL or a live decoder; `info` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_rpc_frame_decoder_get_info(
    dec: *const mtp_rpc_frame_decoder,
    info: *mut mtp_rpc_frame_decoder_info,
) -> i32 {
    // SAFETY: NULL or valid pointers by the caller's contract.
    let (Some(dec), Some(info)) = (unsafe { (dec.as_ref(), info.as_mut()) }) else {
        return MTP_RPC_FRAME_ERR_ARG;
    };
    *info = (&dec.0).into();
    0
}
