//! Pointer-to-slice conversions shared by the shims.
#![allow(dead_code)] // which helpers are used depends on the enabled modules

/// A read-only byte slice from a C `(ptr, len)` pair.
///
/// # Safety
/// If `len > 0`, `ptr` must point to `len` initialized bytes that stay valid
/// and unmodified for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: non-null and valid for `len` bytes by the caller's contract.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// A writable byte slice from a C `(ptr, len)` pair.
///
/// # Safety
/// If `len > 0`, `ptr` must point to `len` writable bytes, not aliased by any
/// other live reference, valid for `'a`.
pub(crate) unsafe fn bytes_mut<'a>(ptr: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 || ptr.is_null() {
        &mut []
    } else {
        // SAFETY: non-null, writable and unaliased for `len` bytes by the
        // caller's contract.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }
}

/// A fixed-size array reference from a C pointer; `None` for null.
///
/// # Safety
/// If non-null, `ptr` must point to `N` initialized bytes valid for `'a`.
pub(crate) unsafe fn array<'a, const N: usize>(ptr: *const u8) -> Option<&'a [u8; N]> {
    // SAFETY: a non-null `ptr` points to N bytes by the caller's contract;
    // `[u8; N]` has alignment 1.
    unsafe { ptr.cast::<[u8; N]>().as_ref() }
}

/// A writable fixed-size array from a C pointer; `None` for null.
///
/// # Safety
/// If non-null, `ptr` must point to `N` writable, unaliased bytes valid for `'a`.
pub(crate) unsafe fn array_mut<'a, const N: usize>(ptr: *mut u8) -> Option<&'a mut [u8; N]> {
    // SAFETY: as for `array`, plus exclusivity from the caller's contract.
    unsafe { ptr.cast::<[u8; N]>().as_mut() }
}
