//! Plain data of the parse-config contract (see the shim in mtproxy-ffi for
//! the functions): token kinds, error codes, the lexer state and the token
//! struct, with the token's conversion from the core type.
use mtproxy_core::common::parse_config::{CfgToken, CfgTokenKind};

/// End of input (`len` 0, `start` at the end).
pub const MTP_CFG_TOK_END: i32 = 0;
/// A maximal run of `[A-Za-z0-9._-]`.
pub const MTP_CFG_TOK_WORD: i32 = 1;
/// `[` `[A-Za-z0-9._:-]*` `]`; the token is the content between the brackets.
pub const MTP_CFG_TOK_BRACKETED: i32 = 2;
/// A single `:` or `;`.
pub const MTP_CFG_TOK_PUNCT: i32 = 3;
/// A byte that is not allowed there (`start` is its offset, `len` 1; an
/// unterminated `[` is reported at the bracket). The lexer does not move, so
/// the next call reports the same error.
pub const MTP_CFG_TOK_ERROR: i32 = -1;

/// Not `-?[0-9]{1,19}`.
pub const MTP_CFG_ERR_NOT_A_NUMBER: i32 = -1;
/// Outside `[min, max]` or outside int64.
pub const MTP_CFG_ERR_RANGE: i32 = -2;
/// Config larger than 16 MiB.
pub const MTP_CFG_ERR_TOO_BIG: i32 = -3;
/// A null pointer where data was required.
pub const MTP_CFG_ERR_ARG: i32 = -4;

/// Lexer state: the input, the next offset to read and the current line
/// (1-based).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mtp_cfg_lexer {
    pub data: *const u8,
    pub len: usize,
    pub pos: usize,
    pub line: i32,
}

/// A token: one of `MTP_CFG_TOK_*`, the line of its first byte and its
/// bytes `data[start .. start + len)`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct mtp_cfg_token {
    pub kind: i32,
    pub line: i32,
    pub start: usize,
    pub len: usize,
}

impl Default for mtp_cfg_lexer {
    /// No input: a null `data`, everything else zero.
    fn default() -> Self {
        mtp_cfg_lexer {
            data: core::ptr::null(),
            len: 0,
            pos: 0,
            line: 0,
        }
    }
}

impl From<&mtp_cfg_token> for CfgToken {
    fn from(t: &mtp_cfg_token) -> Self {
        CfgToken {
            kind: CfgTokenKind::from_code(t.kind),
            line: t.line,
            start: t.start,
            len: t.len,
        }
    }
}

impl From<CfgToken> for mtp_cfg_token {
    fn from(t: CfgToken) -> Self {
        mtp_cfg_token {
            kind: t.kind.code(),
            line: t.line,
            start: t.start,
            len: t.len,
        }
    }
}
