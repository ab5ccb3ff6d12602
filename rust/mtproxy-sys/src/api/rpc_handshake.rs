// Safe wrappers for the rpc-handshake contract; same API as
// mtproxy_core::net::rpc_handshake (plus the contract-only ERR_ARG).

pub use mtproxy_core::net::rpc_handshake::{
    HandshakeConfig, HandshakeErrorInfo, HandshakeInfo, KeyInputs, NonceInfo, Role, State,
    ERR_BAD_FLAGS, ERR_BAD_LENGTH, ERR_BAD_OP, ERR_BAD_SCHEMA, ERR_CLOCK_SKEW, ERR_KEY_MISMATCH,
    ERR_NO_CRC32C, ERR_PID_MISMATCH, ERR_STATE, ERR_TOO_MANY_KEYS, FLAG_CRC32C,
    HANDSHAKE_ERROR_LEN, HANDSHAKE_LEN, NONCE_BYTES, NONCE_EXT_LEN, NONCE_LEN, PID_LEN, PING_LEN,
    RPC_HANDSHAKE, RPC_HANDSHAKE_ERROR, RPC_NONCE, RPC_PING, SCHEMA_AES, SCHEMA_AES_DH,
    SCHEMA_AES_EXT, SCHEMA_NONE,
};
pub const RPC_PONG: u32 = ffi::MTP_RPC_OP_PONG as u32;

// The plain data types are the core's own: one definition for both sides.

pub const ERR_ARG: i32 = ffi::MTP_RPC_HS_ERR_ARG;

fn status(code: i32) -> Result<(), i32> {
    if code == 0 {
        Ok(())
    } else {
        Err(code)
    }
}

#[inline]
pub fn build_nonce(
    key_select: u32,
    schema: i32,
    timestamp: i32,
    nonce: &[u8; NONCE_BYTES],
) -> Result<Vec<u8>, i32> {
    let nonce = input(nonce);
    let mut out = [0u8; NONCE_EXT_LEN];
    let mut len = 0usize;
    // SAFETY: `nonce` has 16 bytes, `out` the 36 the contract may write,
    // `len` is a live local.
    let code = unsafe {
        ffi::mtp_rpc_nonce_build(
            key_select,
            schema,
            timestamp,
            nonce.as_ptr(),
            out.as_mut_ptr(),
            &mut len,
        )
    };
    status(code).map(|()| out[..len].to_vec())
}

#[inline]
pub fn parse_nonce(payload: &[u8], key_select: u32, now: i64) -> Result<NonceInfo, i32> {
    let payload = input(payload);
    let mut out = NonceInfo::default();
    // SAFETY: the pointer and length come from one live slice; `out` is a
    // live local.
    let code = unsafe {
        ffi::mtp_rpc_nonce_parse(payload.as_ptr(), payload.len(), key_select, now, &mut out)
    };
    status(code).map(|()| out)
}

#[inline]
pub fn build_handshake(
    flags: u32,
    sender_pid: &[u8; PID_LEN],
    peer_pid: &[u8; PID_LEN],
) -> [u8; HANDSHAKE_LEN] {
    let sender_pid = input(sender_pid);
    let peer_pid = input(peer_pid);
    let mut out = [0u8; HANDSHAKE_LEN];
    // SAFETY: 12-byte pids and a 32-byte output, as the contract requires.
    unsafe {
        ffi::mtp_rpc_handshake_build(
            flags,
            sender_pid.as_ptr(),
            peer_pid.as_ptr(),
            out.as_mut_ptr(),
        )
    };
    out
}

#[inline]
pub fn parse_handshake(
    payload: &[u8],
    own_pid: &[u8; PID_LEN],
    crc32c_allowed: bool,
) -> Result<HandshakeInfo, i32> {
    let payload = input(payload);
    let own_pid = input(own_pid);
    let mut out = ffi::mtp_rpc_handshake_info::default();
    // SAFETY: the pointer and length come from one live slice; `own_pid` has
    // 12 bytes; `out` is a live local.
    let code = unsafe {
        ffi::mtp_rpc_handshake_parse(
            payload.as_ptr(),
            payload.len(),
            own_pid.as_ptr(),
            crc32c_allowed.into(),
            &mut out,
        )
    };
    status(code).map(|()| out.into())
}

#[inline]
pub fn build_handshake_error(code: i32, sender_pid: &[u8; PID_LEN]) -> [u8; HANDSHAKE_ERROR_LEN] {
    let sender_pid = input(sender_pid);
    let mut out = [0u8; HANDSHAKE_ERROR_LEN];
    // SAFETY: a 12-byte pid and a 20-byte output, as the contract requires.
    unsafe { ffi::mtp_rpc_handshake_error_build(code, sender_pid.as_ptr(), out.as_mut_ptr()) };
    out
}

#[inline]
pub fn parse_handshake_error(payload: &[u8]) -> Result<HandshakeErrorInfo, i32> {
    let payload = input(payload);
    let mut out = ffi::mtp_rpc_handshake_error_info::default();
    // SAFETY: the pointer and length come from one live slice; `out` is a
    // live local.
    let code =
        unsafe { ffi::mtp_rpc_handshake_error_parse(payload.as_ptr(), payload.len(), &mut out) };
    status(code).map(|()| out.into())
}

#[inline]
pub fn build_ping(ping_id: i64) -> [u8; PING_LEN] {
    let mut out = [0u8; PING_LEN];
    // SAFETY: a 12-byte output, as the contract requires.
    unsafe { ffi::mtp_rpc_ping_build(ping_id, out.as_mut_ptr()) };
    out
}

#[inline]
pub fn pong_for_ping(payload: &[u8]) -> Result<[u8; PING_LEN], i32> {
    let payload = input(payload);
    let mut out = [0u8; PING_LEN];
    // SAFETY: the pointer and length come from one live slice; `out` has the
    // 12 bytes the contract writes.
    let code =
        unsafe { ffi::mtp_rpc_pong_for_ping(payload.as_ptr(), payload.len(), out.as_mut_ptr()) };
    status(code).map(|()| out)
}

/// The exchange: the core's own record (one definition of its fields);
/// each step goes through the contract's struct and comes back. Reads see
/// the record's fields (`Deref`); only the contract changes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake(mtproxy_core::net::rpc_handshake::Handshake);

impl core::ops::Deref for Handshake {
    type Target = mtproxy_core::net::rpc_handshake::Handshake;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Handshake {
    #[inline]
    fn from_raw(c: &ffi::mtp_rpc_hs) -> Self {
        let record = c.try_into();
        Handshake(record.expect("the contract keeps valid roles and states"))
    }

    #[inline]
    fn to_raw(self) -> ffi::mtp_rpc_hs {
        ffi::mtp_rpc_hs::from(&self.0)
    }

    /// Runs `call` on the contract struct and takes the state back.
    #[inline]
    fn step(&mut self, call: impl FnOnce(&mut ffi::mtp_rpc_hs) -> i32) -> Result<(), i32> {
        let mut raw = self.to_raw();
        let code = call(&mut raw);
        *self = Handshake::from_raw(&raw);
        status(code)
    }

    #[inline]
    pub fn new(config: &HandshakeConfig, now: i64, nonce: &[u8; NONCE_BYTES]) -> Self {
        let nonce = input(nonce);
        let raw_config = ffi::mtp_rpc_hs_config::from(config);
        let mut raw = ffi::mtp_rpc_hs::default();
        // SAFETY: live structs and a 16-byte nonce, as the contract requires.
        let code = unsafe { ffi::mtp_rpc_hs_init(&mut raw, &raw_config, now, nonce.as_ptr()) };
        assert_eq!(code, 0, "init with a valid role");
        Handshake::from_raw(&raw)
    }

    #[inline]
    pub fn send_nonce(&mut self) -> Result<[u8; NONCE_LEN], i32> {
        let mut out = [0u8; NONCE_LEN];
        // SAFETY: a live struct and a 32-byte output.
        self.step(|raw| unsafe { ffi::mtp_rpc_hs_send_nonce(raw, out.as_mut_ptr()) })?;
        Ok(out)
    }

    #[inline]
    pub fn receive_nonce(&mut self, payload: &[u8], now: i64) -> Result<(), i32> {
        let payload = input(payload);
        // SAFETY: a live struct; the pointer and length come from one slice.
        self.step(|raw| unsafe {
            ffi::mtp_rpc_hs_receive_nonce(raw, payload.as_ptr(), payload.len(), now)
        })
    }

    #[inline]
    pub fn send_handshake(&mut self) -> Result<[u8; HANDSHAKE_LEN], i32> {
        let mut out = [0u8; HANDSHAKE_LEN];
        // SAFETY: a live struct and a 32-byte output.
        self.step(|raw| unsafe { ffi::mtp_rpc_hs_send_handshake(raw, out.as_mut_ptr()) })?;
        Ok(out)
    }

    #[inline]
    pub fn receive_handshake(&mut self, payload: &[u8]) -> Result<(), i32> {
        let payload = input(payload);
        // SAFETY: a live struct; the pointer and length come from one slice.
        self.step(|raw| unsafe {
            ffi::mtp_rpc_hs_receive_handshake(raw, payload.as_ptr(), payload.len())
        })
    }

    #[inline]
    pub fn error_reply(&self) -> Result<[u8; HANDSHAKE_ERROR_LEN], i32> {
        let mut out = [0u8; HANDSHAKE_ERROR_LEN];
        let raw = self.to_raw();
        // SAFETY: a live struct and a 20-byte output.
        status(unsafe { ffi::mtp_rpc_hs_error_reply(&raw, out.as_mut_ptr()) }).map(|()| out)
    }

    #[inline]
    pub fn key_inputs(&self) -> Result<KeyInputs, i32> {
        let mut out = KeyInputs::default();
        let raw = self.to_raw();
        // SAFETY: live structs.
        status(unsafe { ffi::mtp_rpc_hs_key_inputs(&raw, &mut out) }).map(|()| out)
    }
}
