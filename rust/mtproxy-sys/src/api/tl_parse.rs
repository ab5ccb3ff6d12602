// Safe wrappers for the tl-parse contract; same API as
// mtproxy_core::common::tl_parse (minus the helpers only the FFI shim uses).

pub use mtproxy_core::common::tl_parse::TlError;

fn tl_result(code: i32) -> Result<(), TlError> {
    TlError::from_code(code).map_or(Ok(()), Err)
}

/// The C reader over a borrowed buffer.
pub struct TlReader<'a> {
    state: ffi::mtp_tl_in,
    _data: core::marker::PhantomData<&'a [u8]>,
    /// What `state` points into (for the C reference copy, its own copy).
    _input: Input<'a, u8>,
}

impl<'a> TlReader<'a> {
    #[inline]
    pub fn new(data: &'a [u8]) -> Self {
        let data = input(data);
        let mut state = ffi::mtp_tl_in::default();
        // SAFETY: `state` is a live struct; `data` outlives the reader.
        unsafe { ffi::mtp_tl_in_init(&mut state, data.as_ptr(), data.len()) };
        TlReader {
            state,
            _data: core::marker::PhantomData,
            _input: data,
        }
    }

    #[inline]
    pub fn from_parts(data: &'a [u8], pos: usize, error: i32) -> Self {
        let data = input(data);
        let state = ffi::mtp_tl_in {
            data: data.as_ptr(),
            len: data.len(),
            pos,
            error,
        };
        TlReader {
            state,
            _data: core::marker::PhantomData,
            _input: data,
        }
    }

    #[inline]
    pub fn position(&self) -> usize {
        self.state.pos
    }

    #[inline]
    pub fn error_code(&self) -> i32 {
        self.state.error
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        // SAFETY: the state points into a buffer borrowed for 'a.
        unsafe { ffi::mtp_tl_remaining(&self.state) }
    }

    #[inline]
    pub fn fetch_int(&mut self) -> Result<i32, TlError> {
        let mut value = 0;
        // SAFETY: live state and output.
        tl_result(unsafe { ffi::mtp_tl_fetch_int(&mut self.state, &mut value) }).map(|()| value)
    }

    #[inline]
    pub fn fetch_long(&mut self) -> Result<i64, TlError> {
        let mut value = 0;
        // SAFETY: live state and output.
        tl_result(unsafe { ffi::mtp_tl_fetch_long(&mut self.state, &mut value) }).map(|()| value)
    }

    #[inline]
    pub fn fetch_raw(&mut self, out: &mut [u8]) -> Result<(), TlError> {
        // SAFETY: `out` is a live slice distinct from the borrowed input.
        tl_result(unsafe { ffi::mtp_tl_fetch_raw(&mut self.state, out.as_mut_ptr(), out.len()) })
    }

    #[inline]
    pub fn fetch_string(&mut self) -> Result<core::ops::Range<usize>, TlError> {
        let (mut offset, mut len) = (0, 0);
        // SAFETY: live state and outputs.
        let code = unsafe { ffi::mtp_tl_fetch_string(&mut self.state, &mut offset, &mut len) };
        tl_result(code).map(|()| offset..offset + len)
    }

    #[inline]
    pub fn skip(&mut self, n: usize) -> Result<(), TlError> {
        // SAFETY: live state.
        tl_result(unsafe { ffi::mtp_tl_skip(&mut self.state, n) })
    }

    #[inline]
    pub fn fetch_end(&mut self) -> Result<(), TlError> {
        // SAFETY: live state.
        tl_result(unsafe { ffi::mtp_tl_fetch_end(&mut self.state) })
    }
}

/// The C writer over a borrowed buffer.
pub struct TlWriter<'a> {
    state: ffi::mtp_tl_out,
    _buf: core::marker::PhantomData<&'a mut [u8]>,
}

impl<'a> TlWriter<'a> {
    #[inline]
    pub fn new(buf: &'a mut [u8]) -> Self {
        let mut state = ffi::mtp_tl_out::default();
        // SAFETY: `state` is a live struct; `buf` is borrowed mutably for 'a.
        unsafe { ffi::mtp_tl_out_init(&mut state, buf.as_mut_ptr(), buf.len()) };
        TlWriter {
            state,
            _buf: core::marker::PhantomData,
        }
    }

    #[inline]
    pub fn from_parts(buf: &'a mut [u8], pos: usize, error: i32) -> Self {
        let state = ffi::mtp_tl_out {
            data: buf.as_mut_ptr(),
            cap: buf.len(),
            pos,
            error,
        };
        TlWriter {
            state,
            _buf: core::marker::PhantomData,
        }
    }

    #[inline]
    pub fn position(&self) -> usize {
        self.state.pos
    }

    #[inline]
    pub fn error_code(&self) -> i32 {
        self.state.error
    }

    #[inline]
    pub fn written(&self) -> &[u8] {
        let len = self.state.pos.min(self.state.cap);
        if len == 0 {
            return &[];
        }
        // SAFETY: the first `len <= cap` bytes of the borrowed buffer.
        unsafe { core::slice::from_raw_parts(self.state.data, len) }
    }

    #[inline]
    pub fn store_int(&mut self, value: i32) -> Result<(), TlError> {
        // SAFETY: live state over the borrowed buffer.
        tl_result(unsafe { ffi::mtp_tl_store_int(&mut self.state, value) })
    }

    #[inline]
    pub fn store_long(&mut self, value: i64) -> Result<(), TlError> {
        // SAFETY: live state over the borrowed buffer.
        tl_result(unsafe { ffi::mtp_tl_store_long(&mut self.state, value) })
    }

    #[inline]
    pub fn store_raw(&mut self, bytes: &[u8]) -> Result<(), TlError> {
        let bytes = input(bytes);
        // SAFETY: live state; `bytes` cannot alias the mutably borrowed buffer.
        tl_result(unsafe { ffi::mtp_tl_store_raw(&mut self.state, bytes.as_ptr(), bytes.len()) })
    }

    #[inline]
    pub fn store_string(&mut self, bytes: &[u8]) -> Result<(), TlError> {
        let bytes = input(bytes);
        // SAFETY: live state; `bytes` cannot alias the mutably borrowed buffer.
        let code =
            unsafe { ffi::mtp_tl_store_string(&mut self.state, bytes.as_ptr(), bytes.len()) };
        tl_result(code)
    }
}
