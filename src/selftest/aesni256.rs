use super::{expect_eq, Check};
use mtproxy_sys::bindings as ffi;
use mtproxy_sys::c::aesni256::{AesContext, AesMode};

/// NIST SP 800-38A F.2.5 / F.5.5 (AES-256), first two blocks.
const KEY: [u8; 32] = *b"\x60\x3d\xeb\x10\x15\xca\x71\xbe\x2b\x73\xae\xf0\x85\x7d\x77\x81\
                         \x1f\x35\x2c\x07\x3b\x61\x08\xd7\x2d\x98\x10\xa3\x09\x14\xdf\xf4";
const PLAIN: [u8; 32] = *b"\x6b\xc1\xbe\xe2\x2e\x40\x9f\x96\xe9\x3d\x7e\x11\x73\x93\x17\x2a\
                           \xae\x2d\x8a\x57\x1e\x03\xac\x9c\x9e\xb7\x6f\xac\x45\xaf\x8e\x51";
const CBC_IV: [u8; 16] = *b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f";
const CBC_CIPHER: [u8; 32] = *b"\xf5\x8c\x4c\x04\xd6\xe5\xf1\xba\x77\x9e\xab\xfb\x5f\x7b\xfb\xd6\
                                \x9c\xfc\x4e\x96\x7e\xdb\x80\x8d\x67\x9f\x77\x7b\xc6\x70\x2c\x7d";
const CTR_IV: [u8; 16] = *b"\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff";
const CTR_CIPHER: [u8; 32] = *b"\x60\x1e\xc3\x13\x77\x57\x89\xa5\xb7\xa7\xf5\x04\xbb\xf3\xd2\x28\
                                \xf4\x43\xe3\xca\x4d\x62\xb5\x9a\xca\x84\xe9\x90\xca\xca\xf5\xc5";

/// Runs `input` through a fresh context in chunks of `step` bytes.
fn run(mode: AesMode, iv: &[u8; 16], input: &[u8; 32], step: usize) -> Result<[u8; 32], String> {
    let mut ctx = AesContext::new(mode, &KEY, iv).map_err(|e| format!("new: {e:?}"))?;
    let mut data = *input;
    for chunk in data.chunks_mut(step) {
        ctx.crypt_in_place(chunk)
            .map_err(|e| format!("crypt: {e:?}"))?;
    }
    Ok(data)
}

pub const CHECKS: &[Check] = &[
    ("CTR F.5.5, split mid-block", || {
        expect_eq("ctr", run(AesMode::Ctr, &CTR_IV, &PLAIN, 7)?, CTR_CIPHER)
    }),
    ("CBC F.2.5 / F.2.6, block by block", || {
        expect_eq(
            "encrypt",
            run(AesMode::CbcEncrypt, &CBC_IV, &PLAIN, 16)?,
            CBC_CIPHER,
        )?;
        expect_eq(
            "decrypt",
            run(AesMode::CbcDecrypt, &CBC_IV, &CBC_CIPHER, 16)?,
            PLAIN,
        )
    }),
    ("separate buffers and bad lengths", || {
        let mut ctx =
            AesContext::new(AesMode::CbcEncrypt, &KEY, &CBC_IV).map_err(|e| format!("{e:?}"))?;
        let mut out = [0u8; 32];
        expect_eq(
            "partial block",
            ctx.crypt(&PLAIN[..17], &mut out[..17]).is_err(),
            true,
        )?;
        ctx.crypt(&PLAIN, &mut out).map_err(|e| format!("{e:?}"))?;
        expect_eq("after refused call", out, CBC_CIPHER)
    }),
    ("argument checks", || {
        // SAFETY: null and valid pointers exactly as the contract allows.
        unsafe {
            expect_eq(
                "bad mode",
                ffi::mtp_aes_new(9, KEY.as_ptr(), CBC_IV.as_ptr()).is_null(),
                true,
            )?;
            expect_eq(
                "null key",
                ffi::mtp_aes_new(1, std::ptr::null(), CBC_IV.as_ptr()).is_null(),
                true,
            )?;
            let mut byte = [0u8; 1];
            let null_ctx =
                ffi::mtp_aes_crypt(std::ptr::null_mut(), byte.as_ptr(), byte.as_mut_ptr(), 1);
            expect_eq("null ctx", null_ctx, ffi::MTP_AES_ERR_NULL)?;
            let ctx = ffi::mtp_aes_new(1, KEY.as_ptr(), CTR_IV.as_ptr());
            let null_in = ffi::mtp_aes_crypt(ctx, std::ptr::null(), byte.as_mut_ptr(), 1);
            let empty = ffi::mtp_aes_crypt(ctx, std::ptr::null(), std::ptr::null_mut(), 0);
            ffi::mtp_aes_free(ctx);
            ffi::mtp_aes_free(std::ptr::null_mut());
            expect_eq("null input", null_in, ffi::MTP_AES_ERR_NULL)?;
            expect_eq("empty call", empty, 0)
        }
    }),
];
