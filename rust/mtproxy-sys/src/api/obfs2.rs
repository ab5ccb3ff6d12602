// Safe wrappers for the obfs2 contract; same API as mtproxy_core::net::obfs2.

pub use mtproxy_core::net::obfs2::{
    ClientHeader, CtrKey, Secret, ServerHeader, ERR_ARG, ERR_BAD_SECRET, ERR_FORBIDDEN,
    ERR_NO_MATCH, ERR_SHORT, HEADER_LEN, MAX_DOMAIN_LEN, MAX_SECRET_TEXT_LEN, SECRET_FAKE_TLS,
    SECRET_LEN, SECRET_PADDED, SECRET_PLAIN, TAG_ABRIDGED, TAG_INTERMEDIATE, TAG_PADDED,
};

#[inline]
pub fn parse_secret(text: &[u8]) -> Result<Secret, i32> {
    let text = input(text);
    let mut out = ffi::mtp_obfs2_secret::default();
    // SAFETY: pointer and length of one live slice; `out` is writable.
    match unsafe { ffi::mtp_obfs2_parse_secret(text.as_ptr(), text.len(), &mut out) } {
        0 => Ok((&out).into()),
        code => Err(code),
    }
}

#[inline]
pub fn format_secret(secret: &Secret) -> Result<String, i32> {
    let mut buf = [0u8; MAX_SECRET_TEXT_LEN + 1];
    let mut len = 0usize;
    let secret = ffi::mtp_obfs2_secret::from(*secret);
    // SAFETY: `secret` is live, `buf` has the capacity passed, `len` writable.
    let code =
        unsafe { ffi::mtp_obfs2_format_secret(&secret, buf.as_mut_ptr(), buf.len(), &mut len) };
    match code {
        0 => Ok(String::from_utf8_lossy(&buf[..len]).into_owned()),
        code => Err(code),
    }
}

#[inline]
pub fn parse_header(header: &[u8], secrets: &[u8], padded_only: bool) -> Result<ServerHeader, i32> {
    let header = input(header);
    let secrets = input(secrets);
    if secrets.len() % SECRET_LEN != 0 {
        return Err(ERR_ARG);
    }
    let mut out = ServerHeader::default();
    // SAFETY: pointers and lengths of live slices (secrets holds n * 16
    // bytes); `out` is writable.
    let code = unsafe {
        ffi::mtp_obfs2_parse_header(
            header.as_ptr(),
            header.len(),
            secrets.as_ptr(),
            secrets.len() / SECRET_LEN,
            i32::from(padded_only),
            &mut out,
        )
    };
    match code {
        0 => Ok(out),
        code => Err(code),
    }
}

#[inline]
pub fn build_client_header(
    random: &[u8; HEADER_LEN],
    secret: Option<&[u8; SECRET_LEN]>,
    tag: u32,
    dc: i16,
) -> Result<ClientHeader, i32> {
    let random = input(random);
    let mut out = ClientHeader::default();
    let secret = secret.map(|s| input(s));
    let secret = secret.as_ref().map_or(core::ptr::null(), |s| s.as_ptr());
    // SAFETY: 64 random bytes, a 16-byte secret or null, a writable `out`.
    match unsafe { ffi::mtp_obfs2_build_client_header(random.as_ptr(), secret, tag, dc, &mut out) }
    {
        0 => Ok(out),
        code => Err(code),
    }
}
