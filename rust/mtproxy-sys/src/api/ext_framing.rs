// Safe wrappers for the ext-framing contract; same API as
// mtproxy_core::net::ext_framing.

pub use mtproxy_core::net::ext_framing::{
    PacketInfo, Verdict, DROP, DROP_BAD_FUNCTION, DROP_BAD_MESSAGE_LENGTH, DROP_ENCRYPTED_SHORT,
    DROP_SHORT, DROP_UNALIGNED, ERR_ARG, ERR_OUT_SPACE, ERR_OVERLONG, ERR_TOO_LONG, ERR_UNALIGNED,
    ERR_ZERO_LENGTH, FORWARD, FROM_CLIENT, FROM_PROXY, MAX_ANSWER_LEN, MAX_CLIENT_PADDING,
    MAX_HEADER_LEN, MAX_PACKET_LEN, MAX_PROXY_PADDING, MAX_QUICK_ACK_LEN, MODE_ABRIDGED,
    MODE_INTERMEDIATE, MODE_PADDED, PING, QUICK_ACK_RANDOM_LEN,
};

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
