//! Contract of the parse-config module: the `proxy-multi.conf` tokenizer and
//! its integer parser.
use crate::raw;
use mtproxy_core::common::parse_config::{self, CfgLexer, CfgToken};

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
pub struct mtp_cfg_lexer {
    pub data: *const u8,
    pub len: usize,
    pub pos: usize,
    pub line: i32,
}

/// A token: one of `MTP_CFG_TOK_*`, the line of its first byte and its
/// bytes `data[start .. start + len)`.
#[repr(C)]
pub struct mtp_cfg_token {
    pub kind: i32,
    pub line: i32,
    pub start: usize,
    pub len: usize,
}

/// Starts tokenizing `len` bytes at `data`. Returns 0, `MTP_CFG_ERR_TOO_BIG`
/// above 16 MiB, or `MTP_CFG_ERR_ARG` for a null `lexer` (or null `data`
/// with `len > 0`); on error `*lexer` is unchanged.
///
/// # Safety
/// `lexer` is null or writable; `data` points to `len` bytes that stay valid
/// and unchanged while the lexer is used.
#[no_mangle]
pub unsafe extern "C" fn mtp_cfg_lexer_init(
    lexer: *mut mtp_cfg_lexer,
    data: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: null or writable by the caller's contract.
    let Some(state) = (unsafe { lexer.as_mut() }) else {
        return MTP_CFG_ERR_ARG;
    };
    if data.is_null() && len > 0 {
        return MTP_CFG_ERR_ARG;
    }
    // SAFETY: `data` points to `len` bytes by the caller's contract.
    match CfgLexer::new(unsafe { raw::bytes(data, len) }) {
        Ok(l) => {
            *state = mtp_cfg_lexer {
                data,
                len,
                pos: l.position(),
                line: l.line(),
            }
        }
        Err(e) => return e.code(),
    }
    0
}

/// Reads the next token into `*tok` and returns its kind. A null `lexer` or
/// `tok`, or a lexer with null `data` and `len > 0`, gives
/// `MTP_CFG_TOK_ERROR` and writes nothing.
///
/// # Safety
/// `lexer` as initialized by `mtp_cfg_lexer_init` (or null); `tok` null or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_cfg_next_token(
    lexer: *mut mtp_cfg_lexer,
    tok: *mut mtp_cfg_token,
) -> i32 {
    // SAFETY: both null or valid and distinct by the caller's contract.
    let (Some(state), Some(tok)) = (unsafe { lexer.as_mut() }, unsafe { tok.as_mut() }) else {
        return MTP_CFG_TOK_ERROR;
    };
    if state.data.is_null() && state.len > 0 {
        return MTP_CFG_TOK_ERROR;
    }
    // SAFETY: `data` points to `len` bytes by the caller's contract.
    let mut l = CfgLexer::from_parts(
        unsafe { raw::bytes(state.data, state.len) },
        state.pos,
        state.line,
    );
    let CfgToken {
        kind,
        line,
        start,
        len,
    } = l.next_token();
    *tok = mtp_cfg_token {
        kind: kind.code(),
        line,
        start,
        len,
    };
    (state.pos, state.line) = (l.position(), l.line());
    tok.kind
}

/// Parses `len` bytes at `s` as `-?[0-9]{1,19}` within `[min, max]` into
/// `*out`. Returns 0, `MTP_CFG_ERR_NOT_A_NUMBER`, `MTP_CFG_ERR_RANGE` or
/// `MTP_CFG_ERR_ARG` (null `out`, or null `s` with `len > 0`).
///
/// # Safety
/// `s` points to `len` readable bytes (null if `len` is 0); `out` is null or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_cfg_parse_int(
    s: *const u8,
    len: usize,
    min: i64,
    max: i64,
    out: *mut i64,
) -> i32 {
    // SAFETY: null or writable by the caller's contract.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return MTP_CFG_ERR_ARG;
    };
    if s.is_null() && len > 0 {
        return MTP_CFG_ERR_ARG;
    }
    // SAFETY: `s` points to `len` bytes by the caller's contract.
    match parse_config::parse_int(unsafe { raw::bytes(s, len) }, min, max) {
        Ok(v) => *out = v,
        Err(e) => return e.code(),
    }
    0
}
