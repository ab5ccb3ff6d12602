//! Process setup for a server: memory sizes on the command line
//! (`--msg-buffers-size 256m`), dropping root privileges (`-u`), and the
//! open-file limit (`-c`), docs/PROTOCOL.md §7 and §8.
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::unistd::{geteuid, setgid, setgroups, setuid, User};

/// Error: not a memory size.
pub const ERR_SYNTAX: i32 = -1;
/// Error: the size does not fit in an `i64`.
pub const ERR_RANGE: i32 = -2;
/// Error: no such user.
pub const ERR_NO_USER: i32 = -3;
/// Error: the system refused to change the user or groups.
pub const ERR_PERMISSION: i32 = -4;
/// Error: the file limit could not be read.
pub const ERR_SYSCALL: i32 = -5;

/// The user a root process switches to when none is named.
pub const DEFAULT_USER: &str = "mtproxy";

/// Most digits a memory size may have (enough for any `i64`).
const MAX_DIGITS: usize = 19;

/// Parses `<1..19 digits>[kKmMgGtT]` into bytes: the suffixes multiply by
/// 1024, 1024², 1024³, 1024⁴. No signs, spaces or other suffixes.
pub fn parse_memory_size(text: &[u8]) -> Result<i64, i32> {
    let digit_count = text.iter().take_while(|b| b.is_ascii_digit()).count();
    let (digits, suffix) = text.split_at(digit_count);
    if !(1..=MAX_DIGITS).contains(&digit_count) {
        return Err(ERR_SYNTAX);
    }
    let shift = match suffix {
        [] => 0,
        [b'k' | b'K'] => 10,
        [b'm' | b'M'] => 20,
        [b'g' | b'G'] => 30,
        [b't' | b'T'] => 40,
        _ => return Err(ERR_SYNTAX),
    };
    let number = digits.iter().try_fold(0i64, |acc, d| {
        acc.checked_mul(10)?.checked_add(i64::from(d - b'0'))
    });
    number
        .and_then(|n| n.checked_mul(1i64 << shift))
        .ok_or(ERR_RANGE)
}

/// The uid and gid of user `name` (from the passwd database).
pub fn lookup_user(name: &str) -> Result<(u32, u32), i32> {
    match User::from_name(name) {
        Ok(Some(user)) => Ok((user.uid.as_raw(), user.gid.as_raw())),
        _ => Err(ERR_NO_USER),
    }
}

/// Drops privileges to user `name`: supplementary groups become just its
/// group, then the gid and uid change. An empty `name` means
/// [`DEFAULT_USER`] when running as root and "nothing to do" otherwise.
pub fn change_user(name: &str) -> Result<(), i32> {
    let name = match name {
        "" if geteuid().is_root() => DEFAULT_USER,
        "" => return Ok(()),
        named => named,
    };
    let user = match User::from_name(name) {
        Ok(Some(user)) => user,
        _ => return Err(ERR_NO_USER),
    };
    // Groups before ids: once the uid changes the others are out of reach.
    setgroups(&[user.gid])
        .and_then(|()| setgid(user.gid))
        .and_then(|()| setuid(user.uid))
        .map_err(|_| ERR_PERMISSION)
}

/// `RLIMIT_NOFILE` limits (`UINT64_MAX` is unlimited).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileLimit {
    pub soft: u64,
    pub hard: u64,
}

fn read_file_limit() -> Result<FileLimit, i32> {
    getrlimit(Resource::RLIMIT_NOFILE)
        .map(|(soft, hard)| FileLimit { soft, hard })
        .map_err(|_| ERR_SYSCALL)
}

/// Makes at least `wanted` file descriptors available if the system lets us.
///
/// Nothing changes if the soft limit already reaches `wanted`. Otherwise the
/// soft limit (and the hard one, if `wanted` is above it, which needs
/// privilege) is set to `wanted`; if that is refused, the soft limit is
/// raised to the hard one. Returns the limits now in effect and whether they
/// stay below `wanted` ("clamped": the caller warns and uses fewer
/// connections, it does not die).
pub fn raise_file_limit(wanted: u64) -> Result<(FileLimit, bool), i32> {
    let current = read_file_limit()?;
    if current.soft >= wanted {
        return Ok((current, false));
    }
    let new_hard = current.hard.max(wanted);
    if setrlimit(Resource::RLIMIT_NOFILE, wanted, new_hard).is_err() {
        // Best effort: if even this fails, the limits read back below say
        // what we got.
        let _ = setrlimit(Resource::RLIMIT_NOFILE, current.hard, current.hard);
    }
    let now = read_file_limit()?;
    Ok((now, now.soft < wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory_size(b"0"), Ok(0));
        assert_eq!(parse_memory_size(b"268435456"), Ok(268_435_456));
        assert_eq!(parse_memory_size(b"256m"), Ok(256 << 20));
        assert_eq!(parse_memory_size(b"1K"), Ok(1024));
        assert_eq!(parse_memory_size(b"3g"), Ok(3 << 30));
        assert_eq!(parse_memory_size(b"2T"), Ok(2 << 40));
        assert_eq!(parse_memory_size(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_memory_size(b"9223372036854775808"), Err(ERR_RANGE));
        assert_eq!(parse_memory_size(b"8388608t"), Err(ERR_RANGE));
        assert_eq!(parse_memory_size(b"8388607t"), Ok(8_388_607 << 40));
        assert_eq!(parse_memory_size(b"00000000000000000001"), Err(ERR_SYNTAX));
        for bad in [
            &b""[..],
            b"k",
            b"-1",
            b"+1",
            b" 1",
            b"1 ",
            b"1kb",
            b"1b",
            b"1.5m",
            b"1kk",
        ] {
            assert_eq!(parse_memory_size(bad), Err(ERR_SYNTAX), "{bad:?}");
        }
    }

    #[test]
    fn users() {
        assert_eq!(lookup_user("root"), Ok((0, 0)));
        assert_eq!(lookup_user("no-such-user-mtproxy-test"), Err(ERR_NO_USER));
        assert_eq!(lookup_user("ro\0ot"), Err(ERR_NO_USER));
        assert_eq!(change_user("no-such-user-mtproxy-test"), Err(ERR_NO_USER));
    }

    #[test]
    fn file_limit_already_enough_changes_nothing() {
        let before = read_file_limit().unwrap();
        assert_eq!(raise_file_limit(before.soft), Ok((before, false)));
        assert_eq!(raise_file_limit(0), Ok((before, false)));
    }
}
