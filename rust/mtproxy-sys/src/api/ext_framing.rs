// Safe wrappers for the ext-framing contract; same API as
// mtproxy_core::net::ext_framing.

pub const MODE_ABRIDGED: i32 = ffi::MTP_EXT_FRAMING_ABRIDGED;
pub const MODE_INTERMEDIATE: i32 = ffi::MTP_EXT_FRAMING_INTERMEDIATE;
pub const MODE_PADDED: i32 = ffi::MTP_EXT_FRAMING_PADDED;
pub const FROM_CLIENT: i32 = ffi::MTP_EXT_FRAMING_FROM_CLIENT;
pub const FROM_PROXY: i32 = ffi::MTP_EXT_FRAMING_FROM_PROXY;
pub const MAX_PACKET_LEN: usize = ffi::MTP_EXT_FRAMING_MAX_PACKET_LEN as usize;
pub const MAX_ANSWER_LEN: usize = ffi::MTP_EXT_FRAMING_MAX_ANSWER_LEN as usize;
pub const MAX_HEADER_LEN: usize = ffi::MTP_EXT_FRAMING_MAX_HEADER_LEN as usize;
pub const MAX_CLIENT_PADDING: usize = ffi::MTP_EXT_FRAMING_MAX_CLIENT_PADDING as usize;
pub const MAX_PROXY_PADDING: usize = ffi::MTP_EXT_FRAMING_MAX_PROXY_PADDING as usize;
pub const QUICK_ACK_RANDOM_LEN: usize = ffi::MTP_EXT_FRAMING_QUICK_ACK_RANDOM_LEN as usize;
pub const MAX_QUICK_ACK_LEN: usize = ffi::MTP_EXT_FRAMING_MAX_QUICK_ACK_LEN as usize;
pub const FORWARD: i32 = ffi::MTP_EXT_FRAMING_FORWARD;
pub const PING: i32 = ffi::MTP_EXT_FRAMING_PING;
pub const DROP: i32 = ffi::MTP_EXT_FRAMING_DROP;
pub const DROP_SHORT: i32 = ffi::MTP_EXT_FRAMING_DROP_SHORT;
pub const DROP_UNALIGNED: i32 = ffi::MTP_EXT_FRAMING_DROP_UNALIGNED;
pub const DROP_ENCRYPTED_SHORT: i32 = ffi::MTP_EXT_FRAMING_DROP_ENCRYPTED_SHORT;
pub const DROP_BAD_MESSAGE_LENGTH: i32 = ffi::MTP_EXT_FRAMING_DROP_BAD_MESSAGE_LENGTH;
pub const DROP_BAD_FUNCTION: i32 = ffi::MTP_EXT_FRAMING_DROP_BAD_FUNCTION;
pub const ERR_ARG: i32 = ffi::MTP_EXT_FRAMING_ERR_ARG;
pub const ERR_ZERO_LENGTH: i32 = ffi::MTP_EXT_FRAMING_ERR_ZERO_LENGTH;
pub const ERR_TOO_LONG: i32 = ffi::MTP_EXT_FRAMING_ERR_TOO_LONG;
pub const ERR_OVERLONG: i32 = ffi::MTP_EXT_FRAMING_ERR_OVERLONG;
pub const ERR_UNALIGNED: i32 = ffi::MTP_EXT_FRAMING_ERR_UNALIGNED;
pub const ERR_OUT_SPACE: i32 = ffi::MTP_EXT_FRAMING_ERR_OUT_SPACE;

pub use mtproxy_core::net::ext_framing::{PacketInfo, Verdict};

fn result(code: i32) -> Result<(), i32> {
    match code {
        0 => Ok(()),
        code => Err(code),
    }
}

#[inline]
pub fn mode_from_tag(tag: u32) -> Result<i32, i32> {
    // SAFETY: no pointers.
    match unsafe { ffi::mtp_ext_framing_mode_from_tag(tag) } {
        code if code < 0 => Err(code),
        mode => Ok(mode),
    }
}

/// The C decoder handle, freed on drop.
#[derive(Debug)]
pub struct FrameDecoder(*mut ffi::mtp_ext_framing_decoder);

impl FrameDecoder {
    #[inline]
    pub fn new(mode: i32, sender: i32) -> Result<FrameDecoder, i32> {
        let mut handle = core::ptr::null_mut();
        // SAFETY: `handle` is writable.
        result(unsafe { ffi::mtp_ext_framing_decoder_new(mode, sender, &mut handle) })?;
        Ok(FrameDecoder(handle))
    }

    #[inline]
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, i32> {
        let data = input(data);
        let mut consumed = 0usize;
        // SAFETY: a live handle, one live slice, a writable count.
        let code = unsafe {
            ffi::mtp_ext_framing_decoder_feed(self.0, data.as_ptr(), data.len(), &mut consumed)
        };
        result(code).map(|()| consumed)
    }

    #[inline]
    pub fn next_packet(&mut self, out: &mut [u8]) -> Result<Option<PacketInfo>, i32> {
        let mut info = ffi::mtp_ext_framing_packet::default();
        // SAFETY: a live handle, a writable slice of `out.len()` bytes, a
        // writable info struct.
        let code = unsafe {
            ffi::mtp_ext_framing_decoder_next(self.0, out.as_mut_ptr(), out.len(), &mut info)
        };
        result(code)?;
        Ok(info.into())
    }

    #[inline]
    pub fn buffered(&self) -> usize {
        // SAFETY: a live handle.
        unsafe { ffi::mtp_ext_framing_decoder_buffered(self.0) }
    }

    #[inline]
    pub fn error_code(&self) -> i32 {
        // SAFETY: a live handle.
        unsafe { ffi::mtp_ext_framing_decoder_error(self.0) }
    }
}

impl Drop for FrameDecoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from `_new` and is not used again.
        unsafe { ffi::mtp_ext_framing_decoder_free(self.0) }
    }
}

#[inline]
pub fn encode_packet(
    sender: i32,
    mode: i32,
    quick_ack: bool,
    payload: &[u8],
    padding: &[u8],
    out: &mut [u8],
) -> Result<usize, i32> {
    let payload = input(payload);
    let padding = input(padding);
    let mut len = 0usize;
    // SAFETY: live slices with their lengths, `out` writable and disjoint.
    let code = unsafe {
        ffi::mtp_ext_framing_encode(
            sender,
            mode,
            i32::from(quick_ack),
            payload.as_ptr(),
            payload.len(),
            padding.as_ptr(),
            padding.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut len,
        )
    };
    result(code).map(|()| len)
}

#[inline]
pub fn encode_quick_ack(
    mode: i32,
    confirm: u32,
    random: &[u8],
    out: &mut [u8],
) -> Result<usize, i32> {
    let random = input(random);
    let mut len = 0usize;
    // SAFETY: live slices with their lengths, a writable length.
    let code = unsafe {
        ffi::mtp_ext_framing_quick_ack(
            mode,
            confirm,
            random.as_ptr(),
            random.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut len,
        )
    };
    result(code).map(|()| len)
}

#[inline]
pub fn classify_packet(packet: &[u8]) -> Verdict {
    let packet = input(packet);
    let mut v = ffi::mtp_ext_framing_verdict::default();
    // SAFETY: one live slice, a writable verdict (never fails with one).
    unsafe { ffi::mtp_ext_framing_classify(packet.as_ptr(), packet.len(), &mut v) };
    v.into()
}
