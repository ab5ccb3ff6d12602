//! The process's own resource usage from `/proc/self/stat` and
//! `/proc/self/status` (for the stats page: CPU ticks, threads, memory).
//!
//! Parsing rules, shared with the C twin:
//! - stat: `pid (comm) state f4 f5 ... f24 [more]`. `pid` is decimal digits
//!   followed by exactly ` (`; `comm` runs to the LAST `)` of the text (it may
//!   itself contain spaces and parentheses); then fields follow, separated by
//!   runs of spaces, tabs or newlines. Field 3 (state) is a single byte; fields
//!   4 to 24 must be decimal integers (`-` allowed only for signed fields),
//!   the ones kept must fit their type; fields after 24 are ignored.
//! - status: the first line starting with `<key>:` holds
//!   `<spaces/tabs><digits> kB`.
use std::fs::File;
use std::io::Read;

/// Error: malformed, truncated or out-of-range text.
pub const ERR_SYNTAX: i32 = -1;
/// Error: the status key is absent.
pub const ERR_NOT_FOUND: i32 = -2;
/// Error: a /proc file could not be read.
pub const ERR_IO: i32 = -3;

/// Most bytes read from each /proc file.
pub const MAX_FILE_LEN: usize = 64 * 1024;

/// Fields of `/proc/<pid>/stat` (proc(5) numbers: pid 1, state 3, ppid 4,
/// utime 14, stime 15, num_threads 20, starttime 22, vsize 23, rss 24).
/// `state` is the state letter's byte value; times are in clock ticks; `rss`
/// is in pages.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcStat {
    /// [1]
    pub pid: i32,
    /// [3] The state letter's byte value (`b'R'`, `b'S'`, ...).
    pub state: i32,
    /// [4]
    pub ppid: i32,
    /// [20]
    pub num_threads: i32,
    /// [14] User CPU time in clock ticks.
    pub utime_ticks: u64,
    /// [15] System CPU time in clock ticks.
    pub stime_ticks: u64,
    /// [22] Start time in clock ticks after boot.
    pub start_ticks: u64,
    /// [23] Virtual memory size.
    pub vsize_bytes: u64,
    /// [24] Resident set size in pages.
    pub rss_pages: i64,
}

/// `/proc/self` in one reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcSelf {
    pub stat: ProcStat,
    /// `VmRSS` from status.
    pub vm_rss_bytes: i64,
    /// `VmSize` from status.
    pub vm_size_bytes: i64,
}

/// Proc(5) field number of the first field after `comm`, and of the last
/// field read.
const FIRST_FIELD_AFTER_COMM: usize = 3;
const LAST_FIELD: usize = 24;

fn is_separator(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n')
}

/// Digits only, with an optional leading `-` if `signed`: the sign and the
/// magnitude (which may not fit any type: the caller checks the range).
fn split_integer(token: &[u8], signed: bool) -> Option<(bool, &[u8])> {
    let (negative, digits) = match token.split_first() {
        Some((b'-', rest)) if signed => (true, rest),
        _ => (false, token),
    };
    let valid = !digits.is_empty() && digits.iter().all(u8::is_ascii_digit);
    valid.then_some((negative, digits))
}

/// Decimal digits as a `u64`; `None` for a non-digit or overflow (an empty
/// input is 0: callers check for that).
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        let digit = char::from(d).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

fn parse_unsigned(token: &[u8]) -> Option<u64> {
    split_integer(token, false).and_then(|(_, digits)| parse_decimal(digits))
}

fn parse_signed<T: TryFrom<i128>>(token: &[u8]) -> Option<T> {
    let (negative, digits) = split_integer(token, true)?;
    let magnitude = i128::from(parse_decimal(digits)?);
    T::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// Parses one `/proc/<pid>/stat` text (see the module docs for the rules).
pub fn parse_proc_stat(text: &[u8]) -> Result<ProcStat, i32> {
    parse_stat_fields(text).ok_or(ERR_SYNTAX)
}

fn parse_stat_fields(text: &[u8]) -> Option<ProcStat> {
    let pid_len = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let (pid_digits, rest) = text.split_at(pid_len);
    let pid = parse_signed::<i32>(pid_digits)?;
    let after_open = rest.strip_prefix(b" (")?;
    let close = after_open.iter().rposition(|&b| b == b')')?;
    let after_comm = after_open.get(close + 1..)?;
    if !after_comm.first().is_some_and(is_separator) {
        return None;
    }
    let mut fields = after_comm
        .split(is_separator)
        .filter(|token| !token.is_empty());
    let mut stat = ProcStat::default();
    for number in FIRST_FIELD_AFTER_COMM..=LAST_FIELD {
        let token = fields.next()?;
        match number {
            3 => match token {
                [state] => stat.state = i32::from(*state),
                _ => return None,
            },
            4 => stat.ppid = parse_signed(token)?,
            14 => stat.utime_ticks = parse_unsigned(token)?,
            15 => stat.stime_ticks = parse_unsigned(token)?,
            20 => stat.num_threads = parse_signed(token)?,
            22 => stat.start_ticks = parse_unsigned(token)?,
            23 => stat.vsize_bytes = parse_unsigned(token)?,
            24 => stat.rss_pages = parse_signed(token)?,
            _ => {
                split_integer(token, true)?;
            }
        }
    }
    stat.pid = pid;
    Some(stat)
}

/// The value of `<key>:` in `/proc/<pid>/status` text, in bytes (the file
/// says kB, meaning KiB). The first line starting with `<key>:` decides.
pub fn parse_status_kb(text: &[u8], key: &[u8]) -> Result<i64, i32> {
    let value = text
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(b":"))
        .ok_or(ERR_NOT_FOUND)?;
    let blank = value
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let number = value.get(blank..).unwrap_or_default();
    let digit_count = number.iter().take_while(|b| b.is_ascii_digit()).count();
    let (digits, unit) = number.split_at(digit_count);
    if digits.is_empty() || unit != b" kB" {
        return Err(ERR_SYNTAX);
    }
    parse_decimal(digits)
        .and_then(|kib| i64::try_from(kib).ok())
        .and_then(|kib| kib.checked_mul(1024))
        .ok_or(ERR_SYNTAX)
}

fn read_proc_file(path: &str) -> Result<Vec<u8>, i32> {
    let mut text = Vec::new();
    File::open(path)
        .and_then(|file| file.take(MAX_FILE_LEN as u64).read_to_end(&mut text))
        .map_err(|_| ERR_IO)?;
    Ok(text)
}

/// Reads `/proc/self/stat` and `/proc/self/status` (at most
/// [`MAX_FILE_LEN`] bytes each).
pub fn read_proc_self() -> Result<ProcSelf, i32> {
    let stat = parse_proc_stat(&read_proc_file("/proc/self/stat")?)?;
    let status = read_proc_file("/proc/self/status")?;
    Ok(ProcSelf {
        stat,
        vm_rss_bytes: parse_status_kb(&status, b"VmRSS")?,
        vm_size_bytes: parse_status_kb(&status, b"VmSize")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &[u8] = b"22919 (cat) R 22917 22917 7950 0 -1 4194304 98 0 0 0 7 3 0 0 20 0 1 0 \
        123187 3133440 390 18446744073709551615 93876569051136 0\n";

    #[test]
    fn parses_a_real_line() {
        let stat = parse_proc_stat(LINE).unwrap();
        assert_eq!(
            stat,
            ProcStat {
                pid: 22919,
                state: i32::from(b'R'),
                ppid: 22917,
                num_threads: 1,
                utime_ticks: 7,
                stime_ticks: 3,
                start_ticks: 123_187,
                vsize_bytes: 3_133_440,
                rss_pages: 390,
            }
        );
    }

    #[test]
    fn comm_runs_to_the_last_parenthesis() {
        let line = b"7 (a) b (c)) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 4 0 5 6 7";
        let stat = parse_proc_stat(line).unwrap();
        assert_eq!(
            (stat.pid, stat.state, stat.num_threads),
            (7, i32::from(b'S'), 4)
        );
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            &b""[..],
            b"1",
            b"1 (x",
            b"(x) R 1",
            b"1 (x)R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
            b"1 (x) RR 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
            b"1 (x) R 1 1 1 0 -1 0 0 0 0 0 -5 0 0 0 20 0 1 0 1 1 1",
            b"1 (x) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1",
            b"1 (x) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 2147483648 0 1 1 1",
            b"1 (x) R 1 1 1 0 - 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
            b"99999999999 (x) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1",
            &LINE[..LINE.len() / 2],
        ] {
            assert_eq!(
                parse_proc_stat(bad),
                Err(ERR_SYNTAX),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn status_values_in_bytes() {
        let status =
            b"Name:\tcat\nVmSize:\t    3892 kB\nVmRSS:\t1952 kB\nVmRSSx: 1 kB\nBad:\t12 MB";
        assert_eq!(parse_status_kb(status, b"VmSize"), Ok(3892 * 1024));
        assert_eq!(parse_status_kb(status, b"VmRSS"), Ok(1952 * 1024));
        assert_eq!(parse_status_kb(status, b"VmRSSx"), Ok(1024));
        assert_eq!(parse_status_kb(status, b"VmHWM"), Err(ERR_NOT_FOUND));
        assert_eq!(parse_status_kb(status, b"Name"), Err(ERR_SYNTAX));
        assert_eq!(parse_status_kb(status, b"Bad"), Err(ERR_SYNTAX));
        assert_eq!(
            parse_status_kb(b"X: 9007199254740992 kB", b"X"),
            Err(ERR_SYNTAX)
        );
    }

    #[test]
    fn reads_its_own_process() {
        let me = read_proc_self().unwrap();
        assert_eq!(me.stat.pid, std::process::id() as i32);
        assert!(me.stat.vsize_bytes > 0 && me.stat.rss_pages > 0);
        assert!(me.vm_rss_bytes > 0 && me.vm_size_bytes > 0);
    }
}
