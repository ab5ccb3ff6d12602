//! Log lines and verbosity levels.
//!
//! A log line is `[<pid>][YYYY-MM-DD HH:MM:SS.uuuuuu UTC] <msg>\n`. The time
//! is computed from the Unix time arithmetically (no time zone database, no
//! libc state), clamped to years 1970..=9999. Control bytes in the message
//! are written as `\xNN`, so a message can never start a line of its own.

/// Last microsecond of 9999-12-31.
pub const MAX_UNIX_USEC: i64 = 253_402_300_799_999_999;

/// An error code of this module (negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogError(i32);

impl LogError {
    /// Not a single decimal digit.
    pub const BAD_LEVEL: LogError = LogError(-1);

    /// The C error code.
    pub const fn code(self) -> i32 {
        self.0
    }

    /// The error a C result code stands for; `None` for 0 (success).
    pub const fn from_code(code: i32) -> Option<LogError> {
        if code == 0 {
            None
        } else {
            Some(LogError(code))
        }
    }
}

/// Writes what fits of a byte stream into a C-style buffer (keeping room
/// for the NUL) and counts the full length, like `snprintf`.
struct TruncatingSink<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl TruncatingSink<'_> {
    fn push(&mut self, bytes: &[u8]) {
        let room = self.out.len().saturating_sub(1);
        if self.len < room {
            let n = bytes.len().min(room - self.len);
            self.out[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        }
        self.len += bytes.len();
    }

    /// Zero-padded decimal of `value`, at least `width` digits.
    fn push_decimal(&mut self, value: u64, width: usize) {
        let mut digits = [b'0'; 20];
        let mut v = value;
        let mut start = digits.len();
        while v > 0 || digits.len() - start < width.max(1) {
            start -= 1;
            digits[start] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.push(&digits[start..]);
    }

    fn finish(self) -> usize {
        if let Some(last) = self.out.len().checked_sub(1) {
            self.out[self.len.min(last)] = 0;
        }
        self.len
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (`days >= 0`).
fn civil_date(days: i64) -> (i64, i64, i64) {
    // Count from 0000-03-01, so each 400-year era starts just after a leap
    // day and February is the last month of the year.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month, day)
}

/// Formats one log line into `out` like `snprintf`: writes at most
/// `out.len() - 1` bytes and a NUL (nothing if `out` is empty) and returns the
/// full length of the line without the NUL.
///
/// Message bytes below 0x20 (except TAB) and 0x7f become `\xNN`; one trailing
/// `\n` of the message is dropped, since the line always ends with one.
pub fn format_log_line(out: &mut [u8], pid: i32, unix_usec: i64, msg: &[u8]) -> usize {
    let usec = unix_usec.clamp(0, MAX_UNIX_USEC);
    let (secs, micros) = (usec / 1_000_000, usec % 1_000_000);
    let (days, sec_of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_date(days);
    let mut sink = TruncatingSink { out, len: 0 };
    sink.push(b"[");
    if pid < 0 {
        sink.push(b"-");
    }
    sink.push_decimal(u64::from(pid.unsigned_abs()), 1);
    sink.push(b"][");
    // All fields are non-negative after the clamp.
    let fields = [
        (year, 4, b'-'),
        (month, 2, b'-'),
        (day, 2, b' '),
        (sec_of_day / 3600, 2, b':'),
        (sec_of_day / 60 % 60, 2, b':'),
        (sec_of_day % 60, 2, b'.'),
    ];
    for (value, width, separator) in fields {
        sink.push_decimal(value.unsigned_abs(), width);
        sink.push(&[separator]);
    }
    sink.push_decimal(micros.unsigned_abs(), 6);
    sink.push(b" UTC] ");
    let body = msg.strip_suffix(b"\n").unwrap_or(msg);
    for &b in body {
        if (b < 0x20 && b != b'\t') || b == 0x7f {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            sink.push(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        } else {
            sink.push(&[b]);
        }
    }
    sink.push(b"\n");
    sink.finish()
}

/// Whether a message of `level` is logged at `verbosity`.
pub fn log_level_enabled(verbosity: i32, level: i32) -> bool {
    level <= verbosity
}

/// Parses a verbosity: a single decimal digit, 0 to 9.
pub fn parse_verbosity(s: &[u8]) -> Result<i32, LogError> {
    match s {
        [d @ b'0'..=b'9'] => Ok(i32::from(d - b'0')),
        _ => Err(LogError::BAD_LEVEL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pid: i32, usec: i64, msg: &[u8]) -> String {
        let mut buf = [0u8; 256];
        let n = format_log_line(&mut buf, pid, usec, msg);
        assert_eq!(buf[n], 0);
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            line(1, 0, b"hi"),
            "[1][1970-01-01 00:00:00.000000 UTC] hi\n"
        );
        assert_eq!(line(-7, -5, b""), "[-7][1970-01-01 00:00:00.000000 UTC] \n");
        assert!(line(0, 951_782_400_000_000, b"").contains("[2000-02-29 00:00:00.000000 UTC]"));
        assert!(line(0, 951_868_799_000_001, b"").contains("[2000-02-29 23:59:59.000001 UTC]"));
        assert!(line(0, 1_709_251_199_123_456, b"").contains("[2024-02-29 23:59:59.123456 UTC]"));
        assert!(line(0, i64::MAX, b"").contains("[9999-12-31 23:59:59.999999 UTC]"));
        assert_eq!(
            line(i32::MIN, 0, b"").len(),
            "[-2147483648][1970-01-01 00:00:00.000000 UTC] \n".len()
        );
    }

    #[test]
    fn messages_cannot_forge_lines() {
        let mut buf = [0u8; 128];
        let n = format_log_line(&mut buf, 1, 0, b"a\nb\r\x7f\x00\t\xff\n");
        assert!(buf[..n].ends_with(b"] a\\x0ab\\x0d\\x7f\\x00\t\xff\n"));
        assert!(line(1, 0, b"x\n\n").ends_with("] x\\x0a\n"));
    }

    #[test]
    fn truncates_like_snprintf() {
        let full = line(42, 0, b"message");
        for cap in 0..full.len() + 3 {
            let mut buf = vec![0xaau8; cap];
            assert_eq!(format_log_line(&mut buf, 42, 0, b"message"), full.len());
            if cap > 0 {
                let kept = (cap - 1).min(full.len());
                assert_eq!(&buf[..kept], &full.as_bytes()[..kept]);
                assert_eq!(buf[kept], 0);
            }
        }
    }

    #[test]
    fn levels() {
        assert!(log_level_enabled(3, 3));
        assert!(!log_level_enabled(3, 4));
        assert_eq!(parse_verbosity(b"0"), Ok(0));
        assert_eq!(parse_verbosity(b"9"), Ok(9));
        for bad in [&b""[..], b"10", b"-1", b"a", b" 1", b"01"] {
            assert_eq!(parse_verbosity(bad), Err(LogError::BAD_LEVEL));
        }
    }
}
