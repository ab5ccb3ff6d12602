// Safe wrappers for the parse-config contract; same API as
// mtproxy_core::common::parse_config.

// The plain types are the core's own: one definition for both sides.
pub use mtproxy_core::common::parse_config::{CfgError, CfgToken, CfgTokenKind, MAX_CONFIG_LEN};

/// Ok for 0, else the error the code stands for.
fn cfg_result<T>(code: i32, value: T) -> Result<T, CfgError> {
    CfgError::from_code(code).map_or(Ok(value), Err)
}

/// The C lexer over a borrowed input.
pub struct CfgLexer<'a> {
    state: ffi::mtp_cfg_lexer,
    _data: core::marker::PhantomData<&'a [u8]>,
    /// What `state` points into (for the C reference copy, its own copy).
    _input: Input<'a, u8>,
}

impl<'a> CfgLexer<'a> {
    #[inline]
    pub fn new(data: &'a [u8]) -> Result<Self, CfgError> {
        let data = input(data);
        let mut state = ffi::mtp_cfg_lexer::default();
        // SAFETY: a live struct; `data` outlives the lexer.
        let code = unsafe { ffi::mtp_cfg_lexer_init(&mut state, data.as_ptr(), data.len()) };
        cfg_result(code, ()).map(|()| CfgLexer {
            state,
            _data: core::marker::PhantomData,
            _input: data,
        })
    }

    #[inline]
    pub fn from_parts(data: &'a [u8], pos: usize, line: i32) -> Self {
        let data = input(data);
        let state = ffi::mtp_cfg_lexer {
            data: data.as_ptr(),
            len: data.len(),
            pos,
            line,
        };
        CfgLexer {
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
    pub fn line(&self) -> i32 {
        self.state.line
    }

    #[inline]
    pub fn next_token(&mut self) -> CfgToken {
        let mut tok = ffi::mtp_cfg_token::default();
        // SAFETY: live state over the borrowed input, live output.
        let kind = unsafe { ffi::mtp_cfg_next_token(&mut self.state, &mut tok) };
        CfgToken {
            kind: CfgTokenKind::from_code(kind),
            ..CfgToken::from(&tok)
        }
    }
}

#[inline]
pub fn parse_int(s: &[u8], min: i64, max: i64) -> Result<i64, CfgError> {
    let s = input(s);
    let mut value = 0;
    // SAFETY: a live slice and a live output.
    let code = unsafe { ffi::mtp_cfg_parse_int(s.as_ptr(), s.len(), min, max, &mut value) };
    cfg_result(code, value)
}
