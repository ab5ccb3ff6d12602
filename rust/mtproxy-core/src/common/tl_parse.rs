//! TL (Telegram's binary serialization) reader and writer over a byte buffer.
//!
//! Integers are little-endian. A TL string is a length prefix and the bytes,
//! zero-padded to a multiple of 4 counted from the start of the prefix:
//! - first byte `L < 254`: length `L`, one prefix byte;
//! - first byte `254`: the next 3 bytes are the length (LE), four prefix bytes
//!   (accepted for any length, also below 254);
//! - first byte `255`: invalid.
//!
//! Both sides keep a sticky error: after the first failure every call returns
//! that error and changes nothing, so a caller can run a whole sequence of
//! fetches and look at the error once. A failed call never moves the position
//! and never writes an output. The state is `(buffer, position, error)` and
//! can be rebuilt from those three values (the C contract keeps them in a
//! plain struct between calls).
use std::ops::Range;

/// A TL error code (negative; any nonzero code read back from a saved state
/// is kept and returned as is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlError(i32);

impl TlError {
    /// Not enough bytes left in the input.
    pub const SHORT: TlError = TlError(-1);
    /// A string prefix byte of 255.
    pub const BAD_STRING: TlError = TlError(-2);
    /// A string longer than the 24-bit length field can say.
    pub const TOO_LONG: TlError = TlError(-3);
    /// Bytes left over where the input should have ended.
    pub const TRAILING: TlError = TlError(-4);
    /// Not enough room left in the output.
    pub const OVERFLOW: TlError = TlError(-5);
    /// A missing (null) argument at the C boundary.
    pub const ARG: TlError = TlError(-6);

    /// The C error code.
    pub const fn code(self) -> i32 {
        self.0
    }

    /// The error a saved state's error field stands for; `None` for 0.
    pub const fn from_code(code: i32) -> Option<TlError> {
        if code == 0 {
            None
        } else {
            Some(TlError(code))
        }
    }
}

/// The largest string length the long prefix can encode.
pub const MAX_STRING_LEN: usize = 0x00ff_ffff;

/// Prefix byte that introduces a 3-byte length.
const LONG_STRING_MARK: u8 = 254;
/// Prefix byte that no valid string starts with.
const INVALID_STRING_MARK: u8 = 255;

/// `n` rounded up to a multiple of 4; only used on string sizes, which are
/// at most `4 + MAX_STRING_LEN`, so it cannot overflow.
fn padded(n: usize) -> usize {
    (n + 3) & !3
}

fn code_of(error: Option<TlError>) -> i32 {
    error.map_or(0, TlError::code)
}

/// Reads TL values from a byte slice.
#[derive(Clone, Debug)]
pub struct TlReader<'a> {
    data: &'a [u8],
    pos: usize,
    error: Option<TlError>,
}

impl<'a> TlReader<'a> {
    /// A reader at the start of `data`, without error.
    pub fn new(data: &'a [u8]) -> Self {
        Self::from_parts(data, 0, 0)
    }

    /// A reader resumed from a saved state. A position past the end is kept
    /// as is: nothing can be read from there.
    pub fn from_parts(data: &'a [u8], pos: usize, error: i32) -> Self {
        TlReader {
            data,
            pos,
            error: TlError::from_code(error),
        }
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The sticky error code, 0 if none.
    pub fn error_code(&self) -> i32 {
        code_of(self.error)
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Records `error` unless an earlier one is already recorded; returns the
    /// error now in effect.
    fn fail(&mut self, error: TlError) -> TlError {
        *self.error.get_or_insert(error)
    }

    /// The sticky error if there is one, else [`TlError::ARG`] (recorded)
    /// when `present` is false. Lets a caller check its arguments with the
    /// same precedence as every fetch.
    pub fn require(&mut self, present: bool) -> Result<(), TlError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if present {
            Ok(())
        } else {
            Err(self.fail(TlError::ARG))
        }
    }

    /// The `n` bytes at offset `at`, without consuming them.
    fn peek_at(&mut self, at: usize, n: usize) -> Result<&'a [u8], TlError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let slice = at.checked_add(n).and_then(|end| self.data.get(at..end));
        slice.ok_or_else(|| self.fail(TlError::SHORT))
    }

    /// The next `n` bytes, borrowed from the input.
    pub fn fetch_bytes(&mut self, n: usize) -> Result<&'a [u8], TlError> {
        let bytes = self.peek_at(self.pos, n)?;
        self.pos += n;
        Ok(bytes)
    }

    fn fetch_array<const N: usize>(&mut self) -> Result<[u8; N], TlError> {
        let mut out = [0u8; N];
        self.fetch_raw(&mut out)?;
        Ok(out)
    }

    /// A 32-bit integer.
    pub fn fetch_int(&mut self) -> Result<i32, TlError> {
        self.fetch_array().map(i32::from_le_bytes)
    }

    /// A 64-bit integer.
    pub fn fetch_long(&mut self) -> Result<i64, TlError> {
        self.fetch_array().map(i64::from_le_bytes)
    }

    /// Fills `out` with the next `out.len()` bytes.
    pub fn fetch_raw(&mut self, out: &mut [u8]) -> Result<(), TlError> {
        let bytes = self.fetch_bytes(out.len())?;
        out.copy_from_slice(bytes);
        Ok(())
    }

    /// A TL string: the range of its bytes within the input (padding is
    /// consumed but not checked).
    pub fn fetch_string(&mut self) -> Result<Range<usize>, TlError> {
        let start = self.pos;
        let first = self.peek_at(start, 1)?[0];
        let (header, len) = match first {
            INVALID_STRING_MARK => return Err(self.fail(TlError::BAD_STRING)),
            LONG_STRING_MARK => {
                let b = self.peek_at(start, 4)?;
                (
                    4,
                    usize::from(b[1]) | usize::from(b[2]) << 8 | usize::from(b[3]) << 16,
                )
            }
            short => (1, usize::from(short)),
        };
        let total = padded(header + len);
        self.peek_at(start, total)?;
        self.pos = start + total;
        let body = start + header;
        Ok(body..body + len)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), TlError> {
        self.fetch_bytes(n).map(|_| ())
    }

    /// Succeeds only if the whole input has been read.
    pub fn fetch_end(&mut self) -> Result<(), TlError> {
        self.require(true)?;
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(self.fail(TlError::TRAILING))
        }
    }
}

/// Writes TL values into a fixed-size buffer.
#[derive(Debug)]
pub struct TlWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
    error: Option<TlError>,
}

impl<'a> TlWriter<'a> {
    /// A writer at the start of `buf`, without error.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self::from_parts(buf, 0, 0)
    }

    /// A writer resumed from a saved state.
    pub fn from_parts(buf: &'a mut [u8], pos: usize, error: i32) -> Self {
        TlWriter {
            buf,
            pos,
            error: TlError::from_code(error),
        }
    }

    /// Number of bytes written (offset of the next write).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The sticky error code, 0 if none.
    pub fn error_code(&self) -> i32 {
        code_of(self.error)
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos.min(self.buf.len())]
    }

    /// Records `error` unless an earlier one is already recorded; returns the
    /// error now in effect.
    fn fail(&mut self, error: TlError) -> TlError {
        *self.error.get_or_insert(error)
    }

    /// As [`TlReader::require`].
    pub fn require(&mut self, present: bool) -> Result<(), TlError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if present {
            Ok(())
        } else {
            Err(self.fail(TlError::ARG))
        }
    }

    /// The next `n` bytes of the buffer, consumed; the caller fills them.
    fn reserve(&mut self, n: usize) -> Result<&mut [u8], TlError> {
        self.require(true)?;
        let start = self.pos;
        let Some(end) = start.checked_add(n).filter(|&end| end <= self.buf.len()) else {
            return Err(self.fail(TlError::OVERFLOW));
        };
        self.pos = end;
        Ok(&mut self.buf[start..end])
    }

    /// A 32-bit integer.
    pub fn store_int(&mut self, value: i32) -> Result<(), TlError> {
        self.store_raw(&value.to_le_bytes())
    }

    /// A 64-bit integer.
    pub fn store_long(&mut self, value: i64) -> Result<(), TlError> {
        self.store_raw(&value.to_le_bytes())
    }

    /// Bytes as they are.
    pub fn store_raw(&mut self, bytes: &[u8]) -> Result<(), TlError> {
        self.reserve(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// A TL string: the short prefix below 254 bytes, the long one from
    /// there, then zero padding.
    pub fn store_string(&mut self, bytes: &[u8]) -> Result<(), TlError> {
        self.require(true)?;
        let len = bytes.len();
        if len > MAX_STRING_LEN {
            return Err(self.fail(TlError::TOO_LONG));
        }
        let mut prefix = [0u8; 4];
        let header = if len < usize::from(LONG_STRING_MARK) {
            prefix[0] = len as u8;
            1
        } else {
            prefix = ((len as u32) << 8 | u32::from(LONG_STRING_MARK)).to_le_bytes();
            4
        };
        let out = self.reserve(padded(header + len))?;
        let (head, rest) = out.split_at_mut(header);
        head.copy_from_slice(&prefix[..header]);
        let (body, padding) = rest.split_at_mut(len);
        body.copy_from_slice(bytes);
        padding.fill(0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_little_endian() {
        let data = [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        let mut r = TlReader::new(&data);
        assert_eq!(r.fetch_int(), Ok(1));
        assert_eq!(r.fetch_long(), Ok(0x7fff_ffff_ffff_fffe));
        assert_eq!(r.fetch_end(), Ok(()));
    }

    #[test]
    fn short_and_long_strings() {
        let data = [3, b'a', b'b', b'c', 254, 2, 0, 0, b'x', b'y', 0, 0];
        let mut r = TlReader::new(&data);
        assert_eq!(r.fetch_string(), Ok(1..4));
        assert_eq!(r.fetch_string(), Ok(8..10));
        assert_eq!(r.position(), 12);
        let mut empty = TlReader::new(&[0, 9, 9, 9]);
        assert_eq!(empty.fetch_string(), Ok(1..1));
        assert_eq!(empty.position(), 4);
    }

    #[test]
    fn errors_are_sticky_and_leave_the_state() {
        let data = [0xff, 0, 0, 0, 5, 0, 0, 0];
        let mut r = TlReader::new(&data);
        assert_eq!(r.fetch_string(), Err(TlError::BAD_STRING));
        assert_eq!(r.position(), 0);
        assert_eq!(r.fetch_int(), Err(TlError::BAD_STRING));
        assert_eq!(r.error_code(), -2);
        let mut r = TlReader::new(&data[..3]);
        assert_eq!(r.fetch_int(), Err(TlError::SHORT));
        assert_eq!(r.remaining(), 3);
        let mut r = TlReader::from_parts(&data, 0, 42);
        assert_eq!(r.skip(1), Err(TlError::from_code(42).unwrap()));
    }

    #[test]
    fn truncated_strings_and_huge_lengths() {
        assert_eq!(TlReader::new(&[]).fetch_string(), Err(TlError::SHORT));
        assert_eq!(
            TlReader::new(&[4, 1, 2, 3, 4]).fetch_string(),
            Err(TlError::SHORT)
        );
        assert_eq!(
            TlReader::new(&[254, 1, 0]).fetch_string(),
            Err(TlError::SHORT)
        );
        assert_eq!(
            TlReader::new(&[254, 0xff, 0xff, 0xff]).fetch_string(),
            Err(TlError::SHORT)
        );
        let mut r = TlReader::new(&[1, 2, 3, 4]);
        r.skip(1).unwrap();
        assert_eq!(r.skip(usize::MAX), Err(TlError::SHORT));
        assert_eq!(r.position(), 1);
        let mut r = TlReader::from_parts(&[1, 2], 5, 0);
        assert_eq!(r.remaining(), 0);
        assert_eq!(r.skip(0), Err(TlError::SHORT));
    }

    #[test]
    fn writer_round_trips_and_pads() {
        let mut buf = [0xaau8; 1100];
        let long = [7u8; 300];
        let mut w = TlWriter::new(&mut buf);
        w.store_int(-2).unwrap();
        w.store_string(b"hello").unwrap();
        w.store_string(&long).unwrap();
        w.store_long(i64::MIN).unwrap();
        assert_eq!(
            &w.written()[4..12],
            &[5, b'h', b'e', b'l', b'l', b'o', 0, 0]
        );
        assert_eq!(&w.written()[12..16], &[254, 0x2c, 1, 0]);
        let n = w.position();
        assert_eq!(n, 4 + 8 + 304 + 8);
        let mut r = TlReader::new(&buf[..n]);
        assert_eq!(r.fetch_int(), Ok(-2));
        assert_eq!(r.fetch_string(), Ok(5..10));
        assert_eq!(r.fetch_string(), Ok(16..316));
        assert_eq!(r.fetch_long(), Ok(i64::MIN));
        assert_eq!(r.fetch_end(), Ok(()));
    }

    #[test]
    fn writer_overflow_writes_nothing() {
        let mut buf = [0u8; 6];
        let mut w = TlWriter::new(&mut buf);
        w.store_int(1).unwrap();
        assert_eq!(w.store_int(2), Err(TlError::OVERFLOW));
        assert_eq!(w.position(), 4);
        assert_eq!(w.store_raw(&[]), Err(TlError::OVERFLOW));
        assert_eq!(buf, [1, 0, 0, 0, 0, 0]);
        let mut big = vec![0u8; MAX_STRING_LEN + 1];
        let mut w = TlWriter::new(&mut buf);
        assert_eq!(w.store_string(&big), Err(TlError::TOO_LONG));
        let mut w = TlWriter::new(&mut big);
        assert_eq!(w.store_string(&vec![1; MAX_STRING_LEN - 3]), Ok(()));
        assert_eq!(w.position(), MAX_STRING_LEN + 1);
    }
}
