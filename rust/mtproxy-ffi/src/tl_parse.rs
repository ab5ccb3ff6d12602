//! Contract of the tl-parse module: TL reader and writer over a caller's
//! buffer. Integers are little-endian; strings use TL's 1- or 4-byte length
//! prefix and zero padding to a multiple of 4.
//!
//! Errors are sticky: once `error` is nonzero, every call returns it and does
//! nothing. A failed call leaves `pos` and all outputs unchanged and records
//! its error in the struct.
use crate::raw;
use mtproxy_core::common::tl_parse::{TlError, TlReader, TlWriter};

/// The items of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::tl_parse::*;

/// Runs `op` on the reader `*state` describes and saves its position and
/// error back. A null `state` gives `MTP_TL_ERR_ARG`.
///
/// # Safety
/// `state` is null or valid, and its `data` points to `len` readable bytes
/// (or is null).
unsafe fn with_reader(
    state: *mut mtp_tl_in,
    op: impl FnOnce(&mut TlReader<'_>) -> Result<(), TlError>,
) -> i32 {
    // SAFETY: null or a valid, exclusive pointer by the caller's contract.
    let Some(state) = (unsafe { state.as_mut() }) else {
        return MTP_TL_ERR_ARG;
    };
    let has_data = !state.data.is_null() || state.len == 0;
    // SAFETY: `data` points to `len` bytes by the caller's contract.
    let data = unsafe { raw::bytes(state.data, state.len) };
    let mut reader = TlReader::from_parts(data, state.pos, state.error);
    let result = reader.require(has_data).and_then(|()| op(&mut reader));
    state.pos = reader.position();
    state.error = reader.error_code();
    result.map_or_else(TlError::code, |()| 0)
}

/// As `with_reader`, for a writer.
///
/// # Safety
/// `state` is null or valid, and its `data` points to `cap` writable bytes
/// (or is null) that nothing else references during the call.
unsafe fn with_writer(
    state: *mut mtp_tl_out,
    op: impl FnOnce(&mut TlWriter<'_>) -> Result<(), TlError>,
) -> i32 {
    // SAFETY: null or a valid, exclusive pointer by the caller's contract.
    let Some(state) = (unsafe { state.as_mut() }) else {
        return MTP_TL_ERR_ARG;
    };
    let has_data = !state.data.is_null() || state.cap == 0;
    // SAFETY: `data` points to `cap` writable bytes by the caller's contract.
    let buf = unsafe { raw::bytes_mut(state.data, state.cap) };
    let mut writer = TlWriter::from_parts(buf, state.pos, state.error);
    let result = writer.require(has_data).and_then(|()| op(&mut writer));
    state.pos = writer.position();
    state.error = writer.error_code();
    result.map_or_else(TlError::code, |()| 0)
}

/// Starts reading `len` bytes at `data` (pos 0, no error). Does nothing if
/// `in` is null.
///
/// # Safety
/// `in` is null or valid for writes. `data` must point to `len` bytes that
/// stay valid and unchanged while the reader is used (null if `len` is 0; a
/// null `data` with `len > 0` makes every fetch fail with `MTP_TL_ERR_ARG`).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_in_init(r#in: *mut mtp_tl_in, data: *const u8, len: usize) {
    // SAFETY: null or valid by the caller's contract.
    if let Some(state) = unsafe { r#in.as_mut() } {
        *state = mtp_tl_in {
            data,
            len,
            pos: 0,
            error: 0,
        };
    }
}

/// Reads a 32-bit integer into `*out`.
///
/// # Safety
/// `in` as initialized by `mtp_tl_in_init` (or null); `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_fetch_int(r#in: *mut mtp_tl_in, out: *mut i32) -> i32 {
    let op = |r: &mut TlReader<'_>| {
        r.require(!out.is_null())?;
        let value = r.fetch_int()?;
        // SAFETY: non-null, so writable by the caller's contract.
        unsafe { *out = value };
        Ok(())
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_reader(r#in, op) }
}

/// Reads a 64-bit integer into `*out`.
///
/// # Safety
/// `in` as initialized by `mtp_tl_in_init` (or null); `out` null or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_fetch_long(r#in: *mut mtp_tl_in, out: *mut i64) -> i32 {
    let op = |r: &mut TlReader<'_>| {
        r.require(!out.is_null())?;
        let value = r.fetch_long()?;
        // SAFETY: non-null, so writable by the caller's contract.
        unsafe { *out = value };
        Ok(())
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_reader(r#in, op) }
}

/// Copies the next `n` bytes to `out`. Bounds are checked before `out` is
/// touched, so an oversized `n` just fails with `MTP_TL_ERR_SHORT`.
///
/// # Safety
/// `in` as initialized by `mtp_tl_in_init` (or null); `out` must have `n`
/// writable bytes not overlapping the input (null allowed if `n` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_fetch_raw(r#in: *mut mtp_tl_in, out: *mut u8, n: usize) -> i32 {
    let op = |r: &mut TlReader<'_>| {
        r.require(n == 0 || !out.is_null())?;
        let bytes = r.fetch_bytes(n)?;
        // SAFETY: `out` has `n` writable bytes; only made a slice once the
        // input is known to hold them.
        unsafe { raw::bytes_mut(out, n) }.copy_from_slice(bytes);
        Ok(())
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_reader(r#in, op) }
}

/// Reads a TL string: its bytes are `data[*offset_out .. *offset_out + *len_out)`
/// of the reader's buffer (the padding is skipped, not checked).
///
/// # Safety
/// `in` as initialized by `mtp_tl_in_init` (or null); the outputs null or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_fetch_string(
    r#in: *mut mtp_tl_in,
    offset_out: *mut usize,
    len_out: *mut usize,
) -> i32 {
    let op = |r: &mut TlReader<'_>| {
        r.require(!offset_out.is_null() && !len_out.is_null())?;
        let range = r.fetch_string()?;
        // SAFETY: both non-null, so writable by the caller's contract.
        unsafe { (*offset_out, *len_out) = (range.start, range.len()) };
        Ok(())
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_reader(r#in, op) }
}

/// Skips `n` bytes.
///
/// # Safety
/// `in` as initialized by `mtp_tl_in_init` (or null).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_skip(r#in: *mut mtp_tl_in, n: usize) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { with_reader(r#in, |r| r.skip(n)) }
}

/// Bytes left to read (0 for a null reader or a null buffer).
///
/// # Safety
/// `in` as initialized by `mtp_tl_in_init` (or null).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_remaining(r#in: *const mtp_tl_in) -> usize {
    // SAFETY: null or valid by the caller's contract.
    let Some(state) = (unsafe { r#in.as_ref() }) else {
        return 0;
    };
    // SAFETY: `data` points to `len` bytes by the caller's contract.
    let data = unsafe { raw::bytes(state.data, state.len) };
    TlReader::from_parts(data, state.pos, state.error).remaining()
}

/// Fails with `MTP_TL_ERR_TRAILING` if any bytes are left.
///
/// # Safety
/// `in` as initialized by `mtp_tl_in_init` (or null).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_fetch_end(r#in: *mut mtp_tl_in) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { with_reader(r#in, |r| r.fetch_end()) }
}

/// Starts writing into `cap` bytes at `data` (pos 0). Returns 0, or
/// `MTP_TL_ERR_ARG` if `out` is null, or if `data` is null while `cap > 0`
/// (then the writer is set up with that error).
///
/// # Safety
/// `out` is null or valid for writes. `data` must have `cap` writable bytes
/// that stay valid while the writer is used (null if `cap` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_out_init(out: *mut mtp_tl_out, data: *mut u8, cap: usize) -> i32 {
    // SAFETY: null or valid by the caller's contract.
    let Some(state) = (unsafe { out.as_mut() }) else {
        return MTP_TL_ERR_ARG;
    };
    let error = if data.is_null() && cap > 0 {
        MTP_TL_ERR_ARG
    } else {
        0
    };
    *state = mtp_tl_out {
        data,
        cap,
        pos: 0,
        error,
    };
    error
}

/// Writes a 32-bit integer.
///
/// # Safety
/// `out` as initialized by `mtp_tl_out_init` (or null).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_store_int(out: *mut mtp_tl_out, value: i32) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { with_writer(out, |w| w.store_int(value)) }
}

/// Writes a 64-bit integer.
///
/// # Safety
/// `out` as initialized by `mtp_tl_out_init` (or null).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_store_long(out: *mut mtp_tl_out, value: i64) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { with_writer(out, |w| w.store_long(value)) }
}

/// Writes `len` bytes as they are.
///
/// # Safety
/// `out` as initialized by `mtp_tl_out_init` (or null); `data` must have `len`
/// readable bytes not overlapping the writer's buffer (null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_store_raw(
    out: *mut mtp_tl_out,
    data: *const u8,
    len: usize,
) -> i32 {
    let op = |w: &mut TlWriter<'_>| {
        w.require(len == 0 || !data.is_null())?;
        // SAFETY: `data` has `len` readable bytes by the caller's contract.
        w.store_raw(unsafe { raw::bytes(data, len) })
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_writer(out, op) }
}

/// Writes a TL string (`MTP_TL_ERR_TOO_LONG` above 0xffffff bytes), with
/// zero padding.
///
/// # Safety
/// As `mtp_tl_store_raw`.
#[no_mangle]
pub unsafe extern "C" fn mtp_tl_store_string(
    out: *mut mtp_tl_out,
    data: *const u8,
    len: usize,
) -> i32 {
    let op = |w: &mut TlWriter<'_>| {
        w.require(len == 0 || !data.is_null())?;
        // SAFETY: `data` has `len` readable bytes by the caller's contract.
        w.store_string(unsafe { raw::bytes(data, len) })
    };
    // SAFETY: forwarded caller contract.
    unsafe { with_writer(out, op) }
}
