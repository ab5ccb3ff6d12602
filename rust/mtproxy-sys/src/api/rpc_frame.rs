// Safe wrappers for the rpc-frame contract; same API as
// mtproxy_core::net::rpc_frame (plus the contract-only error codes).

// The plain data types and the constants are the core's own: one
// definition for both sides.
pub use mtproxy_core::net::rpc_frame::{
    CrcKind, Frame, Pushed, ERR_BAD_CRC, ERR_BAD_LENGTH, ERR_BAD_SEQ, ERR_OUT_SMALL, ERR_TOO_BIG,
    FRAME_OVERHEAD, MAX_FRAME_LEN, PADDING_WORD, PAD_BLOCK,
};
/// Contract-only errors (the Rust API cannot express them).
pub const ERR_ARG: i32 = ffi::MTP_RPC_FRAME_ERR_ARG;
pub const ERR_NO_MEMORY: i32 = ffi::MTP_RPC_FRAME_ERR_NO_MEMORY;

#[inline]
pub fn encode_frame_into(
    seq: i32,
    payload: &[u8],
    crc: CrcKind,
    out: &mut [u8],
) -> Result<usize, i32> {
    let payload = input(payload);
    let mut out_len = 0usize;
    // SAFETY: each pointer and length come from one live slice; `out_len` is
    // a live local.
    let code = unsafe {
        ffi::mtp_rpc_frame_encode(
            seq,
            payload.as_ptr(),
            payload.len(),
            crc.code(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        )
    };
    if code == 0 {
        Ok(out_len)
    } else {
        Err(code)
    }
}

#[inline]
pub fn encode_frame(seq: i32, payload: &[u8], crc: CrcKind) -> Result<Vec<u8>, i32> {
    // Room for any frame the contract accepts; it reports bad lengths itself.
    let mut out = vec![
        0u8;
        payload
            .len()
            .saturating_add(FRAME_OVERHEAD)
            .min(MAX_FRAME_LEN)
    ];
    let len = encode_frame_into(seq, payload, crc, &mut out)?;
    out.truncate(len);
    Ok(out)
}

#[inline]
pub fn write_padding(total: u64, out: &mut [u8]) -> Result<usize, i32> {
    let mut out_len = 0usize;
    // SAFETY: the pointer and length come from one live slice; `out_len` is
    // a live local.
    match unsafe { ffi::mtp_rpc_frame_padding(total, out.as_mut_ptr(), out.len(), &mut out_len) } {
        0 => Ok(out_len),
        code => Err(code),
    }
}

/// The contract's decoder handle, freed on drop.
pub struct FrameDecoder(core::ptr::NonNull<ffi::mtp_rpc_frame_decoder>);

impl FrameDecoder {
    #[inline]
    pub fn new(first_seq: i32, crc: CrcKind) -> Self {
        // SAFETY: no pointer arguments.
        let dec = unsafe { ffi::mtp_rpc_frame_decoder_new(first_seq, crc.code()) };
        FrameDecoder(core::ptr::NonNull::new(dec).expect("decoder allocation"))
    }

    #[inline]
    fn info(&self) -> ffi::mtp_rpc_frame_decoder_info {
        let mut info = ffi::mtp_rpc_frame_decoder_info::default();
        // SAFETY: a live handle and a live local.
        unsafe { ffi::mtp_rpc_frame_decoder_get_info(self.0.as_ptr(), &mut info) };
        info
    }

    #[inline]
    pub fn expected_seq(&self) -> i32 {
        self.info().expected_seq
    }

    #[inline]
    pub fn crc(&self) -> CrcKind {
        CrcKind::from_code(self.info().crc_kind).expect("a kind this wrapper set")
    }

    #[inline]
    pub fn buffered(&self) -> usize {
        self.info().buffered
    }

    #[inline]
    pub fn error_code(&self) -> i32 {
        self.info().error
    }

    #[inline]
    pub fn set_crc(&mut self, crc: CrcKind) {
        // SAFETY: a live handle.
        unsafe { ffi::mtp_rpc_frame_decoder_set_crc(self.0.as_ptr(), crc.code()) };
    }

    #[inline]
    pub fn set_seq(&mut self, seq: i32) {
        // SAFETY: a live handle.
        unsafe { ffi::mtp_rpc_frame_decoder_set_seq(self.0.as_ptr(), seq) };
    }

    #[inline]
    pub fn push(&mut self, input: &[u8]) -> Result<Pushed<'_>, i32> {
        let input = super::input(input);
        let mut consumed = 0usize;
        let mut frame = ffi::mtp_rpc_frame::default();
        // SAFETY: a live handle; the input pointer and length come from one
        // live slice; both outputs are live locals.
        let code = unsafe {
            ffi::mtp_rpc_frame_decoder_push(
                self.0.as_ptr(),
                input.as_ptr(),
                input.len(),
                &mut consumed,
                &mut frame,
            )
        };
        match code {
            0 => Ok(Pushed {
                consumed,
                frame: None,
            }),
            1 => Ok(Pushed {
                consumed,
                frame: Some(Frame {
                    seq: frame.seq,
                    // SAFETY: the contract keeps the payload valid until the
                    // next push or free, which the `&mut self` borrow excludes.
                    payload: unsafe {
                        core::slice::from_raw_parts(frame.payload, frame.payload_len)
                    },
                }),
            }),
            code => Err(code),
        }
    }
}

impl Drop for FrameDecoder {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the handle came from `_new` and is freed once.
        unsafe { ffi::mtp_rpc_frame_decoder_free(self.0.as_ptr()) };
    }
}
