//! The users file (`--users FILE`): named users, each with its secrets and
//! optional limits, in TOML. The whole file is checked before it is used;
//! the first error is reported with its line, and nothing of a file with an
//! error takes effect.
//!
//! ```toml
//! [users.alice]
//! secrets = ["dd0123456789abcdef0123456789abcdef"]
//! max_connections = 8
//! max_ips = 3              # distinct client addresses within ip_window
//! ip_window = 300          # seconds (default 300)
//! quota = "50GiB"          # bytes up + down per period: integer or "N[KMGT][i]B"
//! quota_reset = "monthly"  # never (default) | daily | weekly | monthly
//! reset_day = 1            # monthly: 1..=31 (clamped to short months); weekly: 1 = Monday ..= 7
//! reset_hour = 0           # UTC, 0..=23
//! expires = 2027-01-01T00:00:00Z
//! ad_tag = "0123456789abcdef0123456789abcdef"
//! disabled = false
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use toml::value::{Datetime, Offset};
use toml::{Spanned, Value};

use super::schedule::{days_from_civil, Reset};
use crate::net::obfs2::{parse_secret, Secret};

/// At most this many secrets over all users: the handshake tries each.
pub const MAX_SECRETS: usize = 100_000;
/// The distinct-address window when `max_ips` is set without `ip_window`.
pub const DEFAULT_IP_WINDOW_SECS: u32 = 300;
const MAX_NAME_LEN: usize = 64;

/// A user's limits; `None` means unlimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: Option<u32>,
    pub max_ips: Option<u32>,
    pub ip_window_secs: u32,
    pub quota_bytes: Option<u64>,
    pub reset: Reset,
    /// Unix seconds after which the user is refused.
    pub expires: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub secrets: Vec<Secret>,
    pub limits: Limits,
    pub ad_tag: Option<[u8; 16]>,
    pub disabled: bool,
    /// Where the user's table starts in the file (1-based).
    pub line: usize,
}

/// A users file with an error: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsersError {
    /// 1-based; 0 when the error has no place (an empty path, say).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for UsersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for UsersError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    users: BTreeMap<String, Spanned<RawUser>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    #[serde(default)]
    secrets: Vec<Spanned<String>>,
    max_connections: Option<Spanned<i64>>,
    max_ips: Option<Spanned<i64>>,
    ip_window: Option<Spanned<i64>>,
    quota: Option<Spanned<Value>>,
    quota_reset: Option<Spanned<String>>,
    reset_day: Option<Spanned<i64>>,
    reset_hour: Option<Spanned<i64>>,
    expires: Option<Spanned<Datetime>>,
    ad_tag: Option<Spanned<String>>,
    #[serde(default)]
    disabled: bool,
}

/// Line numbers of byte offsets in one text.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn of(&self, offset: usize) -> usize {
        let end = offset.min(self.0.len());
        self.0.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn error<T>(&self, spanned: &Spanned<T>, message: String) -> UsersError {
        UsersError {
            line: self.of(spanned.span().start),
            message,
        }
    }
}

/// Parses and checks a users file.
pub fn parse_users(text: &str) -> Result<Vec<User>, UsersError> {
    let lines = Lines(text);
    let raw: RawFile = toml::from_str(text).map_err(|e| UsersError {
        line: e.span().map_or(0, |s| lines.of(s.start)),
        message: e.message().trim_end().to_string(),
    })?;
    let mut entries: Vec<(String, Spanned<RawUser>)> = raw.users.into_iter().collect();
    entries.sort_by_key(|(_, u)| u.span().start);
    let mut users = Vec::with_capacity(entries.len());
    let mut owners: BTreeMap<[u8; 16], (String, usize)> = BTreeMap::new();
    for (name, raw_user) in entries {
        let user = check_user(&lines, name, &raw_user)?;
        for (secret, text) in user.secrets.iter().zip(&raw_user.get_ref().secrets) {
            match owners.get(&secret.key) {
                Some((owner, line)) if *owner != user.name => {
                    return Err(lines.error(
                        text,
                        format!(
                        "user `{}`: this secret already belongs to user `{owner}` (line {line})",
                        user.name
                    ),
                    ))
                }
                _ => {
                    owners.insert(secret.key, (user.name.clone(), lines.of(text.span().start)));
                }
            }
        }
        if owners.len() > MAX_SECRETS {
            return Err(lines.error(
                &raw_user,
                format!("more than {MAX_SECRETS} secrets in the file"),
            ));
        }
        users.push(user);
    }
    Ok(users)
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// An integer field within `range`, with the field's name in the error.
fn bounded<T: TryFrom<i64>>(
    lines: &Lines<'_>,
    user: &str,
    field: &str,
    value: &Option<Spanned<i64>>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<T>, UsersError> {
    let Some(v) = value else { return Ok(None) };
    let n = *v.get_ref();
    if !range.contains(&n) {
        return Err(lines.error(
            v,
            format!(
                "user `{user}`: {field} must be {}..={}, not {n}",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(T::try_from(n).ok())
}

fn check_user(lines: &Lines<'_>, name: String, raw: &Spanned<RawUser>) -> Result<User, UsersError> {
    if !valid_name(&name) {
        return Err(lines.error(
            raw,
            format!("user name `{name}`: 1..={MAX_NAME_LEN} of A-Z a-z 0-9 _ . -"),
        ));
    }
    let r = raw.get_ref();
    if r.secrets.is_empty() {
        return Err(lines.error(raw, format!("user `{name}` has no secrets")));
    }
    let secrets = r
        .secrets
        .iter()
        .map(|s| {
            parse_secret(s.get_ref().as_bytes()).map_err(|_| {
                lines.error(
                    s,
                    format!(
                        "user `{name}`: not a secret (32 hex digits; or dd + 32 hex; \
                         or ee + 32 hex + the domain in hex)"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_connections = bounded(
        lines,
        &name,
        "max_connections",
        &r.max_connections,
        1..=1_000_000,
    )?;
    let max_ips = bounded(lines, &name, "max_ips", &r.max_ips, 1..=65_536)?;
    let ip_window_secs = bounded(lines, &name, "ip_window", &r.ip_window, 1..=30 * 86_400)?
        .unwrap_or(DEFAULT_IP_WINDOW_SECS);
    let quota_bytes = r
        .quota
        .as_ref()
        .map(|q| quota(lines, &name, q))
        .transpose()?;
    let reset = reset(lines, &name, r)?;
    if quota_bytes.is_none() && reset != Reset::Never {
        let at = r.quota_reset.as_ref().expect("a reset needs quota_reset");
        return Err(lines.error(at, format!("user `{name}`: quota_reset without a quota")));
    }
    let expires = r
        .expires
        .as_ref()
        .map(|e| {
            unix_time(e.get_ref()).ok_or_else(|| {
                lines.error(
                    e,
                    format!(
                        "user `{name}`: expires needs a date, and a UTC offset with a time \
             (2027-01-01 or 2027-01-01T00:00:00Z)"
                    ),
                )
            })
        })
        .transpose()?;
    let ad_tag = r
        .ad_tag
        .as_ref()
        .map(|t| {
            hex16(t.get_ref()).ok_or_else(|| {
                lines.error(t, format!("user `{name}`: ad_tag must be 32 hex digits"))
            })
        })
        .transpose()?;
    Ok(User {
        line: lines.of(raw.span().start),
        name,
        secrets,
        limits: Limits {
            max_connections,
            max_ips,
            ip_window_secs,
            quota_bytes,
            reset,
            expires,
        },
        ad_tag,
        disabled: r.disabled,
    })
}

/// A quota: a positive integer of bytes, or a whole number with a unit as
/// a string ("50GiB", "500MB").
fn quota(lines: &Lines<'_>, user: &str, q: &Spanned<Value>) -> Result<u64, UsersError> {
    let bad = || {
        lines.error(
            q,
            format!("user `{user}`: quota must be a positive number of bytes, or N with KB MB GB TB (powers of 1000) or KiB MiB GiB TiB (powers of 1024)"),
        )
    };
    match q.get_ref() {
        Value::Integer(n) if *n > 0 => Ok(*n as u64),
        Value::String(s) => {
            let s = s.trim();
            let digits = s.bytes().take_while(u8::is_ascii_digit).count();
            let (number, unit) = s.split_at(digits);
            let scale: u64 = match unit.trim() {
                "" | "B" => 1,
                "KB" => 1_000,
                "MB" => 1_000_000,
                "GB" => 1_000_000_000,
                "TB" => 1_000_000_000_000,
                "KiB" => 1 << 10,
                "MiB" => 1 << 20,
                "GiB" => 1 << 30,
                "TiB" => 1 << 40,
                _ => return Err(bad()),
            };
            number
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(scale))
                .filter(|&n| n > 0)
                .ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

fn reset(lines: &Lines<'_>, user: &str, r: &RawUser) -> Result<Reset, UsersError> {
    let hour = bounded::<u8>(lines, user, "reset_hour", &r.reset_hour, 0..=23)?.unwrap_or(0);
    let kind = r.quota_reset.as_ref().map(|k| (k.get_ref().as_str(), k));
    let no_day = |what: &str| match &r.reset_day {
        Some(d) => Err(lines.error(
            d,
            format!("user `{user}`: reset_day does not apply to {what}"),
        )),
        None => Ok(()),
    };
    match kind {
        None | Some(("never", _)) => {
            no_day("quota_reset = \"never\"")?;
            if let Some(h) = &r.reset_hour {
                return Err(
                    lines.error(h, format!("user `{user}`: reset_hour needs a quota_reset"))
                );
            }
            Ok(Reset::Never)
        }
        Some(("daily", _)) => {
            no_day("daily resets")?;
            Ok(Reset::Daily { hour })
        }
        Some(("weekly", _)) => {
            let weekday = bounded::<u8>(
                lines,
                user,
                "reset_day (weekly: 1 = Monday)",
                &r.reset_day,
                1..=7,
            )?
            .unwrap_or(1);
            Ok(Reset::Weekly { weekday, hour })
        }
        Some(("monthly", _)) => {
            let day = bounded::<u8>(lines, user, "reset_day (monthly)", &r.reset_day, 1..=31)?
                .unwrap_or(1);
            Ok(Reset::Monthly { day, hour })
        }
        Some((other, at)) => Err(lines.error(
            at,
            format!("user `{user}`: quota_reset `{other}`: never, daily, weekly or monthly"),
        )),
    }
}

/// Unix seconds of a TOML date (midnight UTC) or offset date-time;
/// `None` for local times, which name no instant.
fn unix_time(dt: &Datetime) -> Option<i64> {
    let date = dt.date?;
    if !(1..=12).contains(&date.month) || date.day == 0 {
        return None;
    }
    let days = days_from_civil(
        i64::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    );
    let (seconds, offset_minutes) = match (dt.time, dt.offset) {
        (None, None) => (0, 0),
        (Some(t), Some(offset)) => {
            let minutes = match offset {
                Offset::Z => 0,
                Offset::Custom { minutes } => i64::from(minutes),
            };
            let secs = i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second);
            (secs, minutes)
        }
        _ => return None,
    };
    Some(days * 86_400 + seconds - offset_minutes * 60)
}

fn hex16(text: &str) -> Option<[u8; 16]> {
    let bytes = text.trim().as_bytes();
    if bytes.len() != 32 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(bytes.chunks(2)) {
        let s = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::obfs2::{SECRET_FAKE_TLS, SECRET_PADDED, SECRET_PLAIN};

    const KEY_A: &str = "0123456789abcdef0123456789abcdef";
    const KEY_B: &str = "fedcba9876543210fedcba9876543210";

    fn err(text: &str) -> UsersError {
        parse_users(text).expect_err("the file must be refused")
    }

    #[test]
    fn a_full_user_parses_with_every_field() {
        let text = format!(
            "# two users\n\
             [users.bob]\n\
             secrets = [\"{KEY_B}\"]\n\
             \n\
             [users.alice]\n\
             secrets = [\"{KEY_A}\", \"dd{KEY_A}\", \"ee{KEY_A}6578616d706c652e636f6d\"]\n\
             max_connections = 8\n\
             max_ips = 3\n\
             ip_window = 60\n\
             quota = \"50GiB\"\n\
             quota_reset = \"monthly\"\n\
             reset_day = 31\n\
             reset_hour = 4\n\
             expires = 2027-01-01T01:00:00+01:00\n\
             ad_tag = \"{KEY_B}\"\n"
        );
        let users = parse_users(&text).unwrap();
        assert_eq!(users.len(), 2);
        let bob = &users[0];
        assert_eq!((bob.name.as_str(), bob.line), ("bob", 2));
        assert_eq!(bob.limits.quota_bytes, None);
        assert_eq!(bob.limits.reset, Reset::Never);
        let alice = &users[1];
        assert_eq!((alice.name.as_str(), alice.line), ("alice", 5));
        let kinds: Vec<i32> = alice.secrets.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [SECRET_PLAIN, SECRET_PADDED, SECRET_FAKE_TLS]);
        assert_eq!(
            &alice.secrets[2].domain[..alice.secrets[2].domain_len],
            b"example.com"
        );
        assert_eq!(
            alice.limits,
            Limits {
                max_connections: Some(8),
                max_ips: Some(3),
                ip_window_secs: 60,
                quota_bytes: Some(50 << 30),
                reset: Reset::Monthly { day: 31, hour: 4 },
                expires: Some(1_798_761_600),
            }
        );
        assert_eq!(alice.ad_tag.map(|t| t[0]), Some(0xfe));
        assert!(!alice.disabled);
    }

    #[test]
    fn every_bad_line_is_named_with_its_reason() {
        let cases: &[(&str, usize, &str)] = &[
            ("[users.a]\nsecrets = [\"00\"]\n", 2, "not a secret"),
            ("[users.a]\nsecrets = []\n", 1, "has no secrets"),
            ("[users.\"a b\"]\nsecrets = [\"KEY\"]\n", 1, "user name"),
            ("[users.a]\nsecrets = [\"KEY\"]\nmax_connections = 0\n", 3, "max_connections must be 1..="),
            ("[users.a]\nsecrets = [\"KEY\"]\nmax_ips = -1\n", 3, "max_ips"),
            ("[users.a]\nsecrets = [\"KEY\"]\nquota = \"5 parsecs\"\n", 3, "quota must be"),
            ("[users.a]\nsecrets = [\"KEY\"]\nquota = 0\n", 3, "quota must be"),
            ("[users.a]\nsecrets = [\"KEY\"]\nquota_reset = \"daily\"\n", 3, "without a quota"),
            ("[users.a]\nsecrets = [\"KEY\"]\nquota = 1\nquota_reset = \"hourly\"\n", 4, "never, daily"),
            ("[users.a]\nsecrets = [\"KEY\"]\nquota = 1\nquota_reset = \"daily\"\nreset_day = 2\n", 5, "does not apply"),
            ("[users.a]\nsecrets = [\"KEY\"]\nquota = 1\nquota_reset = \"weekly\"\nreset_day = 8\n", 5, "1..=7"),
            ("[users.a]\nsecrets = [\"KEY\"]\nreset_hour = 24\n", 3, "reset_hour"),
            ("[users.a]\nsecrets = [\"KEY\"]\nexpires = 2027-01-01T00:00:00\n", 3, "UTC offset"),
            ("[users.a]\nsecrets = [\"KEY\"]\nad_tag = \"+123456789abcdef0123456789abcdef\"\n", 3, "ad_tag"),
            ("[users.a]\nsecrets = [\"KEY\"]\ncolour = \"red\"\n", 3, "unknown field"),
            ("[users.a]\nsecrets = [\"KEY\"\n", 2, ""),
            ("[users.a]\nsecrets = [\"KEY\"]\n[users.b]\nsecrets = [\"dd KEY\"]\n", 4, "already belongs to user `a` (line 2)"),
        ];
        for &(text, line, reason) in cases {
            let text = text
                .replace("dd KEY", &format!("dd{KEY_A}"))
                .replace("KEY", KEY_A);
            let e = err(&text);
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.message.contains(reason), "{text}: {e}");
        }
    }

    #[test]
    fn quotas_take_decimal_and_binary_units() {
        for (quota, bytes) in [
            ("1", 1u64),
            ("\"2KB\"", 2000),
            ("\"3MiB\"", 3 << 20),
            ("\"1TB\"", 1_000_000_000_000),
        ] {
            let text = format!("[users.a]\nsecrets = [\"{KEY_A}\"]\nquota = {quota}\n");
            assert_eq!(
                parse_users(&text).unwrap()[0].limits.quota_bytes,
                Some(bytes),
                "{quota}"
            );
        }
        let overflow = format!("[users.a]\nsecrets = [\"{KEY_A}\"]\nquota = \"99999999999TiB\"\n");
        assert_eq!(err(&overflow).line, 3);
    }

    #[test]
    fn an_empty_file_has_no_users_and_dates_alone_mean_utc_midnight() {
        assert_eq!(parse_users("").unwrap(), Vec::new());
        let text = format!("[users.a]\nsecrets = [\"{KEY_A}\"]\nexpires = 1970-01-02\n");
        assert_eq!(parse_users(&text).unwrap()[0].limits.expires, Some(86_400));
    }
}
