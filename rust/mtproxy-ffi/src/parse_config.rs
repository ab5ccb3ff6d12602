//! Contract of the parse-config module: the `proxy-multi.conf` tokenizer and
//! its integer parser.
use crate::raw;
use mtproxy_core::common::parse_config::{self, CfgLexer};

/// The items of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::parse_config::*;

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
    *tok = l.next_token().into();
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
