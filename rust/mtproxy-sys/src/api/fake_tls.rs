// Safe wrappers for the fake-tls contract; same API as
// mtproxy_core::net::fake_tls.

pub use mtproxy_core::net::fake_tls::{
    HelloCheck, ProbeReply, ServerHelloInfo, TlsProfile, ERR_ARG, ERR_BAD_CCS, ERR_BAD_HMAC,
    ERR_BAD_RECORD, ERR_BAD_SERVER_HELLO, ERR_EMPTY, ERR_FIRST_RECORD_SHORT, ERR_NEED_MORE,
    ERR_NOT_TLS, ERR_SPACE, FALLBACK_APP_DATA_BASE, FALLBACK_APP_DATA_SPREAD, MAX_FAKE_APP_DATA,
    MAX_HELLO_RECORD, MAX_RECORD_PAYLOAD, MAX_REPLAY_ENTRIES, MIN_CLIENT_HELLO, PROBE_HELLO_LEN,
    PROBE_MAX_RECORDS, PROBE_RANDOM_LEN, REJECT_BAD_CIPHER, REJECT_BAD_HMAC, REJECT_BAD_TIME,
    REJECT_NONE, REJECT_NO_SNI, REJECT_REPLAY, REJECT_TOO_LONG, REJECT_TRAILING_DATA,
    REJECT_UNKNOWN_SNI, REPLAY_EXPIRY, SECRET_LEN, SERVER_HELLO_FIXED_LEN, VERDICT_ACCEPT,
    VERDICT_RELAY_DEFAULT, VERDICT_RELAY_SNI,
};

fn status(code: i32) -> Result<(), i32> {
    if code == 0 {
        Ok(())
    } else {
        Err(code)
    }
}

#[inline]
pub fn detect_client_hello(prefix: &[u8]) -> Result<usize, i32> {
    let prefix = input(prefix);
    let mut len = 0;
    // SAFETY: pointer and length from one live slice; `len` is writable.
    status(unsafe { ffi::mtp_tls_detect_client_hello(prefix.as_ptr(), prefix.len(), &mut len) })?;
    Ok(len)
}

/// The C replay cache, freed on drop.
pub struct ReplayCache(*mut ffi::mtp_tls_replay_cache);

impl ReplayCache {
    #[inline]
    pub fn new(max_entries: usize) -> Result<Self, i32> {
        // SAFETY: no pointer arguments.
        let handle = unsafe { ffi::mtp_tls_replay_cache_new(max_entries) };
        if handle.is_null() {
            Err(ERR_ARG)
        } else {
            Ok(ReplayCache(handle))
        }
    }

    #[inline]
    pub fn lookup(&mut self, key: &[u8; 16], now: i64) -> bool {
        let key = input(key);
        // SAFETY: a live handle and a 16-byte key.
        unsafe { ffi::mtp_tls_replay_cache_lookup(self.0, key.as_ptr(), now) == 1 }
    }

    #[inline]
    pub fn insert(&mut self, key: &[u8; 16], now: i64) {
        let key = input(key);
        // SAFETY: a live handle and a 16-byte key; cannot fail with those.
        unsafe { ffi::mtp_tls_replay_cache_insert(self.0, key.as_ptr(), now) };
    }

    #[inline]
    pub fn len(&self) -> usize {
        // SAFETY: a live handle.
        unsafe { ffi::mtp_tls_replay_cache_len(self.0) }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn oldest_time(&self) -> Option<i64> {
        let mut time = 0;
        // SAFETY: a live handle; `time` is writable.
        (unsafe { ffi::mtp_tls_replay_cache_oldest(self.0, &mut time) } == 0).then_some(time)
    }
}

impl Drop for ReplayCache {
    fn drop(&mut self) {
        // SAFETY: the handle came from `_new` and is freed once.
        unsafe { ffi::mtp_tls_replay_cache_free(self.0) }
    }
}

#[inline]
pub fn check_client_hello<D: AsRef<[u8]>>(
    record: &[u8],
    buffered: usize,
    secrets: &[[u8; 16]],
    domains: &[D],
    cache: &mut ReplayCache,
    now: i64,
) -> Result<HelloCheck, i32> {
    let record = input(record);
    let secrets = input(secrets);
    let domains: Vec<Input<'_, u8>> = domains.iter().map(|d| input(d.as_ref())).collect();
    let domains: Vec<ffi::mtp_tls_domain> = domains.iter().map(|d| (&**d).into()).collect();
    let mut out = HelloCheck::default();
    // SAFETY: every pointer/length pair comes from a live slice (the secrets
    // are contiguous 16-byte arrays); `out` is writable.
    status(unsafe {
        ffi::mtp_tls_check_client_hello(
            record.as_ptr(),
            record.len(),
            buffered,
            secrets.as_ptr().cast(),
            secrets.len(),
            domains.as_ptr(),
            domains.len(),
            cache.0,
            now,
            &mut out,
        )
    })?;
    Ok(out)
}

#[inline]
#[allow(clippy::too_many_arguments)]
pub fn build_server_hello(
    client_random: &[u8; 32],
    session_id: &[u8; 32],
    cipher_suite: u8,
    secret: &[u8; 16],
    app_data_len: usize,
    swap_extensions: bool,
    random: &[u8],
    out: &mut [u8],
) -> Result<usize, i32> {
    let client_random = input(client_random);
    let session_id = input(session_id);
    let secret = input(secret);
    let random = input(random);
    let mut written = 0;
    // SAFETY: arrays and slices are live and sized as the contract says.
    status(unsafe {
        ffi::mtp_tls_build_server_hello(
            client_random.as_ptr(),
            session_id.as_ptr(),
            cipher_suite,
            secret.as_ptr(),
            app_data_len,
            i32::from(swap_extensions),
            random.as_ptr(),
            random.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        )
    })?;
    Ok(written)
}

#[inline]
pub fn parse_server_hello(
    data: &[u8],
    client_random: &[u8; 32],
    session_id: &[u8; 32],
    secret: &[u8; 16],
) -> Result<ServerHelloInfo, i32> {
    let data = input(data);
    let client_random = input(client_random);
    let session_id = input(session_id);
    let secret = input(secret);
    let mut out = ServerHelloInfo::default();
    // SAFETY: arrays and slices are live and sized as the contract says.
    status(unsafe {
        ffi::mtp_tls_parse_server_hello(
            data.as_ptr(),
            data.len(),
            client_random.as_ptr(),
            session_id.as_ptr(),
            secret.as_ptr(),
            &mut out,
        )
    })?;
    Ok(out)
}

#[inline]
pub fn build_client_hello(
    secret: &[u8; 16],
    domain: &[u8],
    unix_time: u32,
    random: &[u8; 64],
    total_len: usize,
    out: &mut [u8],
) -> Result<usize, i32> {
    let secret = input(secret);
    let domain = input(domain);
    let random = input(random);
    let mut written = 0;
    // SAFETY: arrays and slices are live and sized as the contract says.
    status(unsafe {
        ffi::mtp_tls_build_client_hello(
            secret.as_ptr(),
            domain.as_ptr(),
            domain.len(),
            unix_time,
            random.as_ptr(),
            total_len,
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        )
    })?;
    Ok(written)
}

/// The C record decoder, freed on drop.
pub struct RecordReader(*mut ffi::mtp_tls_reader);

impl RecordReader {
    #[inline]
    pub fn new(expect_ccs: bool) -> Self {
        // SAFETY: no pointer arguments.
        let handle = unsafe { ffi::mtp_tls_reader_new(i32::from(expect_ccs)) };
        assert!(!handle.is_null(), "mtp_tls_reader_new: out of memory");
        RecordReader(handle)
    }

    #[inline]
    pub fn feed(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), i32> {
        let input = super::input(input);
        let (mut consumed, mut produced) = (0, 0);
        // SAFETY: a live handle; both slices are live and do not overlap.
        status(unsafe {
            ffi::mtp_tls_reader_feed(
                self.0,
                input.as_ptr(),
                input.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut consumed,
                &mut produced,
            )
        })?;
        Ok((consumed, produced))
    }
}

impl Drop for RecordReader {
    fn drop(&mut self) {
        // SAFETY: the handle came from `_new` and is freed once.
        unsafe { ffi::mtp_tls_reader_free(self.0) }
    }
}

#[inline]
pub fn wrapped_len(payload_len: usize) -> usize {
    // SAFETY: no pointer arguments.
    unsafe { ffi::mtp_tls_wrapped_len(payload_len) }
}

#[inline]
pub fn wrap_records(payload: &[u8], out: &mut [u8]) -> Result<usize, i32> {
    let payload = input(payload);
    let mut written = 0;
    // SAFETY: both slices are live and do not overlap.
    status(unsafe {
        ffi::mtp_tls_wrap_records(
            payload.as_ptr(),
            payload.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        )
    })?;
    Ok(written)
}

#[inline]
pub fn x25519_public_key(private: &[u8; 32]) -> Result<[u8; 32], i32> {
    let private = input(private);
    let mut public = [0u8; 32];
    // SAFETY: both arrays are 32 live bytes.
    status(unsafe { ffi::mtp_tls_x25519_public_key(private.as_ptr(), public.as_mut_ptr()) })?;
    Ok(public)
}

#[inline]
pub fn build_probe_hello(
    domain: &[u8],
    random: &[u8; PROBE_RANDOM_LEN],
    out: &mut [u8],
) -> Result<usize, i32> {
    let domain = input(domain);
    let random = input(random);
    let mut written = 0;
    // SAFETY: slices and the array are live and sized as the contract says.
    status(unsafe {
        ffi::mtp_tls_build_probe_hello(
            domain.as_ptr(),
            domain.len(),
            random.as_ptr(),
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        )
    })?;
    Ok(written)
}

#[inline]
pub fn parse_probe_reply(data: &[u8], session_id: &[u8; 32]) -> Result<ProbeReply, i32> {
    let data = input(data);
    let session_id = input(session_id);
    let mut out = ProbeReply::default();
    // SAFETY: the slice and array are live; `out` is writable.
    status(unsafe {
        ffi::mtp_tls_parse_probe_reply(data.as_ptr(), data.len(), session_id.as_ptr(), &mut out)
    })?;
    Ok(out)
}

#[inline]
pub fn profile_from_replies(replies: &[ProbeReply], now: i64) -> Result<TlsProfile, i32> {
    let replies = input(replies);
    let mut out = TlsProfile::default();
    // SAFETY: `replies` is a live array of its length (a dangling non-null
    // pointer when empty, which the contract rejects by count); `out` is writable.
    status(unsafe {
        ffi::mtp_tls_profile_from_replies(replies.as_ptr(), replies.len(), now, &mut out)
    })?;
    Ok(out)
}

#[inline]
pub fn profile_app_data_len(profile: &TlsProfile, r: u32) -> usize {
    // SAFETY: `profile` is a live, readable struct.
    unsafe { ffi::mtp_tls_profile_app_data_len(profile, r) }
}

#[inline]
pub fn render_profile_stats(
    domain: &[u8],
    profile: &TlsProfile,
    now: i64,
    prometheus: bool,
    out: &mut [u8],
) -> usize {
    let domain = input(domain);
    // SAFETY: the slices and struct are live and sized as the contract says.
    unsafe {
        ffi::mtp_tls_render_profile_stats(
            domain.as_ptr(),
            domain.len(),
            profile,
            now,
            i32::from(prometheus),
            out.as_mut_ptr(),
            out.len(),
        )
    }
}
