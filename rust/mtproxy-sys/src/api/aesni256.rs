// Safe wrappers for the aesni256 contract; same API as
// mtproxy_core::crypto::aesni256.

// The plain data types are the core's own: one definition for both sides.
pub use mtproxy_core::crypto::aesni256::{AesError, AesMode, BLOCK_LEN, IV_LEN, KEY_LEN};

/// Owns one `mtp_aes_ctx`.
pub struct AesContext {
    raw: core::ptr::NonNull<ffi::mtp_aes_ctx>,
    mode: AesMode,
}

impl AesContext {
    #[inline]
    pub fn new(mode: AesMode, key: &[u8; KEY_LEN], iv: &[u8; IV_LEN]) -> Result<Self, AesError> {
        let key = input(key);
        let iv = input(iv);
        let raw_mode = match mode {
            AesMode::Ctr => ffi::MTP_AES_CTR,
            AesMode::CbcEncrypt => ffi::MTP_AES_CBC_ENCRYPT,
            AesMode::CbcDecrypt => ffi::MTP_AES_CBC_DECRYPT,
        };
        // SAFETY: key and iv are arrays of the sizes the contract reads.
        let raw = unsafe { ffi::mtp_aes_new(raw_mode, key.as_ptr(), iv.as_ptr()) };
        let raw = core::ptr::NonNull::new(raw).ok_or(AesError::Crypto)?;
        Ok(AesContext { raw, mode })
    }

    #[inline]
    pub fn mode(&self) -> AesMode {
        self.mode
    }

    #[inline]
    pub fn check_len(&self, len: usize) -> Result<(), AesError> {
        match self.mode {
            AesMode::CbcEncrypt | AesMode::CbcDecrypt if len % BLOCK_LEN != 0 => {
                Err(AesError::PartialBlock)
            }
            _ => Ok(()),
        }
    }

    /// The contract with `input == output`.
    #[inline]
    pub fn crypt_in_place(&mut self, data: &mut [u8]) -> Result<(), AesError> {
        let ptr = data.as_mut_ptr();
        // SAFETY: a live context owned by self; one buffer of data.len()
        // bytes used as both input and output, as the contract allows.
        result(unsafe { ffi::mtp_aes_crypt(self.raw.as_ptr(), ptr, ptr, data.len()) })
    }

    /// The contract with separate buffers.
    #[inline]
    pub fn crypt(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), AesError> {
        let input = super::input(input);
        if input.len() != output.len() {
            return Err(AesError::LengthMismatch);
        }
        // SAFETY: a live context owned by self; two disjoint slices of
        // input.len() bytes.
        result(unsafe {
            ffi::mtp_aes_crypt(
                self.raw.as_ptr(),
                input.as_ptr(),
                output.as_mut_ptr(),
                input.len(),
            )
        })
    }
}

impl Drop for AesContext {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the context came from mtp_aes_new and is freed once.
        unsafe { ffi::mtp_aes_free(self.raw.as_ptr()) }
    }
}

#[inline]
fn result(code: i32) -> Result<(), AesError> {
    match code {
        0 => Ok(()),
        ffi::MTP_AES_ERR_BAD_LENGTH => Err(AesError::PartialBlock),
        // MTP_AES_ERR_NULL cannot happen through these wrappers.
        _ => Err(AesError::Crypto),
    }
}
