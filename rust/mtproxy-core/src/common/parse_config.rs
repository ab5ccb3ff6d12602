//! Tokenizer for `proxy-multi.conf` and the integer parser its grammar uses.
//!
//! Tokens: words (`[A-Za-z0-9._-]+`), bracketed IPv6 addresses (`[` then
//! `[A-Za-z0-9._:-]*` then `]`, the token being the content), and the single
//! punctuation bytes `:` and `;`. Space, tab, CR and LF separate tokens; `#`
//! starts a comment that runs to the end of the line. Any other byte is an
//! error, and the lexer stays in front of it, so asking again gives the same
//! error (the caller reports it with its line number and stops).

/// Largest input the lexer accepts: far above any real config, small enough
/// that offsets and line numbers never come near overflowing.
pub const MAX_CONFIG_LEN: usize = 16 << 20;

/// An error code of this module (negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfgError(i32);

impl CfgError {
    /// Not `-?[0-9]{1,19}`.
    pub const NOT_A_NUMBER: CfgError = CfgError(-1);
    /// Outside the requested range, or outside `i64`.
    pub const RANGE: CfgError = CfgError(-2);
    /// Input longer than [`MAX_CONFIG_LEN`].
    pub const TOO_BIG: CfgError = CfgError(-3);

    /// The C error code.
    pub const fn code(self) -> i32 {
        self.0
    }

    /// The error a C result code stands for; `None` for 0 (success).
    pub const fn from_code(code: i32) -> Option<CfgError> {
        if code == 0 {
            None
        } else {
            Some(CfgError(code))
        }
    }
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CfgTokenKind {
    /// End of input.
    End,
    /// A run of `[A-Za-z0-9._-]`.
    Word,
    /// The content of `[...]`.
    Bracketed,
    /// `:` or `;`.
    Punct,
    /// A byte that cannot start or continue a token here.
    Error,
}

impl CfgTokenKind {
    /// The C code of the kind (`MTP_CFG_TOK_*`).
    pub const fn code(self) -> i32 {
        match self {
            CfgTokenKind::End => 0,
            CfgTokenKind::Word => 1,
            CfgTokenKind::Bracketed => 2,
            CfgTokenKind::Punct => 3,
            CfgTokenKind::Error => -1,
        }
    }

    /// The kind of a C code; an unknown code is `Error`.
    pub const fn from_code(code: i32) -> CfgTokenKind {
        match code {
            0 => CfgTokenKind::End,
            1 => CfgTokenKind::Word,
            2 => CfgTokenKind::Bracketed,
            3 => CfgTokenKind::Punct,
            _ => CfgTokenKind::Error,
        }
    }
}

/// One token: `kind`, the line of its first byte, and its bytes
/// `data[start..start + len]` (for an error, the offending byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CfgToken {
    pub kind: CfgTokenKind,
    pub line: i32,
    pub start: usize,
    pub len: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

fn is_bracketed_byte(b: u8) -> bool {
    is_word_byte(b) || b == b':'
}

/// Splits a config text into tokens.
#[derive(Clone, Debug)]
pub struct CfgLexer<'a> {
    data: &'a [u8],
    pos: usize,
    line: i32,
}

impl<'a> CfgLexer<'a> {
    /// A lexer at the start of `data` (line 1); [`CfgError::TOO_BIG`] above
    /// [`MAX_CONFIG_LEN`].
    pub fn new(data: &'a [u8]) -> Result<Self, CfgError> {
        if data.len() > MAX_CONFIG_LEN {
            return Err(CfgError::TOO_BIG);
        }
        Ok(Self::from_parts(data, 0, 1))
    }

    /// A lexer resumed from a saved state (no size limit: the state came
    /// from a lexer that was checked).
    pub fn from_parts(data: &'a [u8], pos: usize, line: i32) -> Self {
        CfgLexer { data, pos, line }
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Current line number (1-based).
    pub fn line(&self) -> i32 {
        self.line
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Moves past whitespace and comments, counting lines.
    fn skip_blanks(&mut self) {
        let mut in_comment = false;
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    in_comment = false;
                    self.line = self.line.saturating_add(1);
                }
                _ if in_comment => {}
                b'#' => in_comment = true,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    /// Offset of the first byte at or after `from` not matching `accept`.
    fn run_end(&self, from: usize, accept: fn(u8) -> bool) -> usize {
        let rest = self.data.get(from..).unwrap_or(&[]);
        from + rest.iter().take_while(|&&b| accept(b)).count()
    }

    /// The next token. After an error the lexer stays where the failing
    /// token began.
    pub fn next_token(&mut self) -> CfgToken {
        self.skip_blanks();
        let start = self.pos;
        let token = |kind, start, len| CfgToken {
            kind,
            line: self.line,
            start,
            len,
        };
        let Some(first) = self.peek() else {
            return token(CfgTokenKind::End, start, 0);
        };
        let (kind, token_start, len, end) = match first {
            b':' | b';' => (CfgTokenKind::Punct, start, 1, start + 1),
            b'[' => {
                let content_end = self.run_end(start + 1, is_bracketed_byte);
                match self.data.get(content_end) {
                    Some(b']') => (
                        CfgTokenKind::Bracketed,
                        start + 1,
                        content_end - start - 1,
                        content_end + 1,
                    ),
                    // A stray byte inside is the error; running out of input
                    // blames the opening bracket.
                    Some(_) => (CfgTokenKind::Error, content_end, 1, start),
                    None => (CfgTokenKind::Error, start, 1, start),
                }
            }
            b if is_word_byte(b) => {
                let end = self.run_end(start, is_word_byte);
                (CfgTokenKind::Word, start, end - start, end)
            }
            _ => (CfgTokenKind::Error, start, 1, start),
        };
        let result = token(kind, token_start, len);
        self.pos = end;
        result
    }
}

/// Parses `-?[0-9]{1,19}` into a value within `[min, max]`.
pub fn parse_int(s: &[u8], min: i64, max: i64) -> Result<i64, CfgError> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(CfgError::NOT_A_NUMBER);
    }
    // Accumulate toward the sign so i64::MIN is reachable.
    let mut value: i64 = 0;
    for &d in digits {
        let digit = i64::from(d - b'0');
        value = value
            .checked_mul(10)
            .and_then(|v| {
                if negative {
                    v.checked_sub(digit)
                } else {
                    v.checked_add(digit)
                }
            })
            .ok_or(CfgError::RANGE)?;
    }
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(CfgError::RANGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &[u8]) -> Vec<(CfgTokenKind, i32, &[u8])> {
        let mut lexer = CfgLexer::new(text).unwrap();
        let mut out = Vec::new();
        loop {
            let t = lexer.next_token();
            out.push((t.kind, t.line, &text[t.start..t.start + t.len]));
            if matches!(t.kind, CfgTokenKind::End | CfgTokenKind::Error) {
                return out;
            }
        }
    }

    #[test]
    fn proxy_multi_conf() {
        use CfgTokenKind::*;
        let text = b"# c\ndefault 2;\nproxy_for -1 [2001:b28::a]:8888; # x\n";
        assert_eq!(
            tokens(text),
            vec![
                (Word, 2, &b"default"[..]),
                (Word, 2, b"2"),
                (Punct, 2, b";"),
                (Word, 3, b"proxy_for"),
                (Word, 3, b"-1"),
                (Bracketed, 3, b"2001:b28::a"),
                (Punct, 3, b":"),
                (Word, 3, b"8888"),
                (Punct, 3, b";"),
                (End, 4, b""),
            ]
        );
    }

    #[test]
    fn errors_do_not_advance() {
        let mut lexer = CfgLexer::new(b" a\n [ab\n").unwrap();
        lexer.next_token();
        let err = lexer.next_token();
        assert_eq!(
            (err.kind, err.line, err.start, err.len),
            (CfgTokenKind::Error, 2, 7, 1)
        );
        assert_eq!(lexer.next_token(), err);
        assert_eq!(lexer.position(), 4);
        let mut lexer = CfgLexer::new(b"[ab").unwrap();
        assert_eq!(lexer.next_token().start, 0);
        let mut lexer = CfgLexer::new(b"x\0").unwrap();
        lexer.next_token();
        assert_eq!(lexer.next_token().start, 1);
        let mut lexer = CfgLexer::from_parts(b"ab", 9, 1);
        assert_eq!(lexer.next_token().kind, CfgTokenKind::End);
    }

    #[test]
    fn integers() {
        let all = (i64::MIN, i64::MAX);
        assert_eq!(
            parse_int(b"-9223372036854775808", all.0, all.1),
            Ok(i64::MIN)
        );
        assert_eq!(
            parse_int(b"9223372036854775807", all.0, all.1),
            Ok(i64::MAX)
        );
        assert_eq!(
            parse_int(b"9223372036854775808", all.0, all.1),
            Err(CfgError::RANGE)
        );
        assert_eq!(
            parse_int(b"-9223372036854775809", all.0, all.1),
            Err(CfgError::RANGE)
        );
        assert_eq!(parse_int(b"01", 0, 1), Ok(1));
        assert_eq!(parse_int(b"2", 0, 1), Err(CfgError::RANGE));
        for bad in [&b""[..], b"-", b"+1", b"1 ", b"00000000000000000001"] {
            assert_eq!(parse_int(bad, all.0, all.1), Err(CfgError::NOT_A_NUMBER));
        }
    }

    #[test]
    fn size_limit() {
        let big = vec![b' '; MAX_CONFIG_LEN + 1];
        assert!(CfgLexer::new(&big[..MAX_CONFIG_LEN]).is_ok());
        assert_eq!(CfgLexer::new(&big).err(), Some(CfgError::TOO_BIG));
    }
}
