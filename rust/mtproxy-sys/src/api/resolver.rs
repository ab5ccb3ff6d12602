// Safe wrappers for the resolver contract; same API as
// mtproxy_core::common::resolver.

/// The contract's struct is the core's `repr(C)` type itself.
pub use mtproxy_core::common::resolver::ResolvedAddr;
pub use mtproxy_core::common::resolver::{
    ERR_ARG, ERR_BAD_NAME, ERR_NOT_FOUND, ERR_SYNTAX, FAMILY_ANY, FAMILY_V4, FAMILY_V6,
};

#[inline]
pub fn parse_ipv4(text: &[u8]) -> Result<u32, i32> {
    let text = input(text);
    let mut out = 0;
    // SAFETY: the pointer and length come from one live slice; `out` is writable.
    match unsafe { ffi::mtp_parse_ipv4(text.as_ptr(), text.len(), &mut out) } {
        0 => Ok(out),
        code => Err(code),
    }
}

#[inline]
pub fn parse_ipv6(text: &[u8]) -> Result<[u8; 16], i32> {
    let text = input(text);
    let mut out = [0u8; 16];
    // SAFETY: the pointer and length come from one live slice; `out` has 16 bytes.
    match unsafe { ffi::mtp_parse_ipv6(text.as_ptr(), text.len(), out.as_mut_ptr()) } {
        0 => Ok(out),
        code => Err(code),
    }
}

#[inline]
pub fn resolve_host(name: &[u8], family: i32) -> Result<ResolvedAddr, i32> {
    let name = input(name);
    let mut out = ResolvedAddr::default();
    // SAFETY: the pointer and length come from one live slice; `out` is writable.
    match unsafe { ffi::mtp_resolve_host(name.as_ptr(), name.len(), family, &mut out) } {
        0 => Ok(out),
        code => Err(code),
    }
}
