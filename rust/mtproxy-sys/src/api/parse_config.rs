// Safe wrappers for the parse-config contract; same API as
// mtproxy_core::common::parse_config.

pub const MAX_CONFIG_LEN: usize = 16 << 20;

/// An error code of this module, as in the core module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfgError(i32);

impl CfgError {
    pub const NOT_A_NUMBER: CfgError = CfgError(ffi::MTP_CFG_ERR_NOT_A_NUMBER);
    pub const RANGE: CfgError = CfgError(ffi::MTP_CFG_ERR_RANGE);
    pub const TOO_BIG: CfgError = CfgError(ffi::MTP_CFG_ERR_TOO_BIG);

    pub const fn code(self) -> i32 {
        self.0
    }
}

/// What a token is, as in the core module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CfgTokenKind {
    End,
    Word,
    Bracketed,
    Punct,
    Error,
}

const TOK_END: i32 = ffi::MTP_CFG_TOK_END;
const TOK_WORD: i32 = ffi::MTP_CFG_TOK_WORD;
const TOK_BRACKETED: i32 = ffi::MTP_CFG_TOK_BRACKETED;
const TOK_PUNCT: i32 = ffi::MTP_CFG_TOK_PUNCT;

impl CfgTokenKind {
    pub const fn code(self) -> i32 {
        match self {
            CfgTokenKind::End => TOK_END,
            CfgTokenKind::Word => TOK_WORD,
            CfgTokenKind::Bracketed => TOK_BRACKETED,
            CfgTokenKind::Punct => TOK_PUNCT,
            CfgTokenKind::Error => ffi::MTP_CFG_TOK_ERROR,
        }
    }

    const fn from_code(code: i32) -> CfgTokenKind {
        match code {
            TOK_END => CfgTokenKind::End,
            TOK_WORD => CfgTokenKind::Word,
            TOK_BRACKETED => CfgTokenKind::Bracketed,
            TOK_PUNCT => CfgTokenKind::Punct,
            _ => CfgTokenKind::Error,
        }
    }
}

/// One token, as in the core module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfgToken {
    pub kind: CfgTokenKind,
    pub line: i32,
    pub start: usize,
    pub len: usize,
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
        match unsafe { ffi::mtp_cfg_lexer_init(&mut state, data.as_ptr(), data.len()) } {
            0 => Ok(CfgLexer {
                state,
                _data: core::marker::PhantomData,
            _input: data,
            }),
            code => Err(CfgError(code)),
        }
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
            line: tok.line,
            start: tok.start,
            len: tok.len,
        }
    }
}

#[inline]
pub fn parse_int(s: &[u8], min: i64, max: i64) -> Result<i64, CfgError> {
    let s = input(s);
    let mut value = 0;
    // SAFETY: a live slice and a live output.
    match unsafe { ffi::mtp_cfg_parse_int(s.as_ptr(), s.len(), min, max, &mut value) } {
        0 => Ok(value),
        code => Err(CfgError(code)),
    }
}
