//! Contract of the aesni256 module: streaming AES-256 contexts, CTR (with
//! 128-bit big-endian counter) and CBC without padding.
use crate::raw;
use mtproxy_core::crypto::aesni256::{AesContext, AesError, AesMode};

/// The items of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::aesni256::*;

/// One direction of an AES-256 stream (opaque; from `mtp_aes_new`).
#[allow(non_camel_case_types)]
pub struct mtp_aes_ctx(AesContext);

/// A new context for `mode` (`MTP_AES_*`) with a 32-byte `key` and a 16-byte
/// `iv`; NULL for an unknown mode, a null `key`/`iv`, or if allocation or the
/// crypto library fails. Free it with `mtp_aes_free`.
///
/// # Safety
/// `key` must be null or point to 32 readable bytes, `iv` null or 16 bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_aes_new(mode: i32, key: *const u8, iv: *const u8) -> *mut mtp_aes_ctx {
    let mode = match mode {
        MTP_AES_CTR => AesMode::Ctr,
        MTP_AES_CBC_ENCRYPT => AesMode::CbcEncrypt,
        MTP_AES_CBC_DECRYPT => AesMode::CbcDecrypt,
        _ => return std::ptr::null_mut(),
    };
    // SAFETY: null or 32 / 16 readable bytes by the caller's contract.
    let (Some(key), Some(iv)) = (unsafe { raw::array(key) }, unsafe { raw::array(iv) }) else {
        return std::ptr::null_mut();
    };
    match AesContext::new(mode, key, iv) {
        Ok(ctx) => Box::into_raw(Box::new(mtp_aes_ctx(ctx))),
        Err(_) => std::ptr::null_mut(),
    }
}

/// Encrypts or decrypts `len` bytes from `input` to `output`, continuing the
/// stream: CTR takes any length and any split of a stream gives the same
/// bytes; CBC takes multiples of 16 and carries the chaining block over.
/// Returns 0 or a negative `MTP_AES_ERR_*`. `input == output` (in place) is
/// allowed; partially overlapping buffers are not (a contract violation).
///
/// # Safety
/// `ctx` must be null or a live context from `mtp_aes_new`, not used by
/// another thread during the call; `input` must point to `len` readable
/// bytes and `output` to `len` writable bytes (either may be null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn mtp_aes_crypt(
    ctx: *mut mtp_aes_ctx,
    input: *const u8,
    output: *mut u8,
    len: usize,
) -> i32 {
    // SAFETY: null or a live, unshared context by the caller's contract.
    let Some(ctx) = (unsafe { ctx.as_mut() }) else {
        return MTP_AES_ERR_NULL;
    };
    if len == 0 {
        return 0;
    }
    if input.is_null() || output.is_null() {
        return MTP_AES_ERR_NULL;
    }
    if let Err(e) = ctx.0.check_len(len) {
        return error_code(e);
    }
    // Copy first, then work in place: no `&` and `&mut` to the same bytes
    // ever coexist. `copy` (memmove) is defined even for overlapping input.
    // SAFETY: both are non-null and point to `len` valid bytes by the
    // caller's contract.
    unsafe { std::ptr::copy(input, output, len) };
    // SAFETY: `out` is `len` writable bytes that nothing else references now.
    let data = unsafe { raw::bytes_mut(output, len) };
    ctx.0.crypt_in_place(data).map_or_else(error_code, |()| 0)
}

/// Frees a context from `mtp_aes_new`; NULL does nothing.
///
/// # Safety
/// `ctx` must be null or a live context from `mtp_aes_new`, not used again.
#[no_mangle]
pub unsafe extern "C" fn mtp_aes_free(ctx: *mut mtp_aes_ctx) {
    if !ctx.is_null() {
        // SAFETY: a live context from `Box::into_raw` in `mtp_aes_new`.
        drop(unsafe { Box::from_raw(ctx) });
    }
}

fn error_code(e: AesError) -> i32 {
    match e {
        AesError::PartialBlock | AesError::LengthMismatch => MTP_AES_ERR_BAD_LENGTH,
        AesError::Crypto => MTP_AES_ERR_CRYPTO,
    }
}
