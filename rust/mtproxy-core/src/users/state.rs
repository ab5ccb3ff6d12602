//! The quota state file: each user's usage in its current period, so a
//! restart does not hand out a fresh quota. Text, one user per line, with a
//! count and a CRC32 at the end, so a truncated or edited file is caught:
//!
//! ```text
//! mtproxy-users-state 1
//! alice 1764547200 1048576 52428800
//! end 1 3e5d2f8a
//! ```
//!
//! Fields: name, period start (Unix seconds), bytes up, bytes down. The
//! runtime writes it atomically (temporary file + rename).

use std::collections::BTreeMap;

use super::limits::Usage;
use crate::common::crc32::compute_crc32;

const MAGIC: &str = "mtproxy-users-state 1";

/// Renders `usage` (name → usage) as a state file.
pub fn encode_state(usage: &BTreeMap<String, Usage>) -> String {
    let mut out = format!("{MAGIC}\n");
    for (name, u) in usage {
        out.push_str(&format!(
            "{name} {} {} {}\n",
            u.period_start, u.bytes_up, u.bytes_down
        ));
    }
    let crc = compute_crc32(out.as_bytes());
    out.push_str(&format!("end {} {crc:08x}\n", usage.len()));
    out
}

/// Reads a state file; any defect (wrong magic, a bad line, a count or CRC
/// that does not match, text after the end) rejects the whole file with the
/// reason, so half a file is never trusted.
pub fn decode_state(text: &str) -> Result<BTreeMap<String, Usage>, String> {
    let body_end = text
        .trim_end_matches('\n')
        .rfind('\n')
        .map(|i| i + 1)
        .ok_or("no end line (truncated?)")?;
    let (body, end) = text.split_at(body_end);
    let mut end_fields = end.trim_end_matches('\n').split(' ');
    let (Some("end"), Some(count), Some(crc), None) = (
        end_fields.next(),
        end_fields.next(),
        end_fields.next(),
        end_fields.next(),
    ) else {
        return Err("no end line (truncated?)".into());
    };
    if !text.ends_with('\n') || end.matches('\n').count() != 1 {
        return Err("text after the end line".into());
    }
    // Compared as text, so the field has exactly one spelling.
    if crc != format!("{:08x}", compute_crc32(body.as_bytes())) {
        return Err("checksum mismatch".into());
    }
    let mut lines = body.lines();
    if lines.next() != Some(MAGIC) {
        return Err(format!("not a state file (first line is not `{MAGIC}`)"));
    }
    let mut usage = BTreeMap::new();
    for (i, line) in lines.enumerate() {
        let bad = || format!("line {}: expected `name period_start up down`", i + 2);
        let fields: Vec<&str> = line.split(' ').collect();
        let [name, start, up, down] = fields[..] else {
            return Err(bad());
        };
        let u = Usage {
            period_start: start.parse().map_err(|_| bad())?,
            bytes_up: up.parse().map_err(|_| bad())?,
            bytes_down: down.parse().map_err(|_| bad())?,
        };
        if name.is_empty() || usage.insert(name.to_string(), u).is_some() {
            return Err(bad());
        }
    }
    if count != usage.len().to_string() {
        return Err("user count does not match".into());
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_.-]{1,64}"
    }

    fn usages() -> impl Strategy<Value = BTreeMap<String, Usage>> {
        proptest::collection::btree_map(
            names(),
            (any::<i64>(), any::<u64>(), any::<u64>()).prop_map(
                |(period_start, bytes_up, bytes_down)| Usage {
                    period_start,
                    bytes_up,
                    bytes_down,
                },
            ),
            0..20,
        )
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let mut one = BTreeMap::new();
        one.insert(
            "alice".to_string(),
            Usage {
                period_start: 5,
                bytes_up: 6,
                bytes_down: 7,
            },
        );
        let good = encode_state(&one);
        assert_eq!(decode_state(&good), Ok(one));
        assert_eq!(decode_state(""), Err("no end line (truncated?)".into()));
        assert!(decode_state(&good.replace("alice 5", "alice 6"))
            .unwrap_err()
            .contains("checksum"));
        assert!(decode_state(&format!("{good}x\n")).is_err());
        assert!(decode_state(&good.replace(MAGIC, "other 1")).is_err());
    }

    proptest! {
        #[test]
        fn state_round_trips(usage in usages()) {
            prop_assert_eq!(decode_state(&encode_state(&usage)), Ok(usage));
        }

        /// Any cut of a state file short of its whole length is refused:
        /// a crash mid-write never yields a shorter, trusted file.
        #[test]
        fn truncated_files_are_refused(usage in usages(), cut in any::<prop::sample::Index>()) {
            let text = encode_state(&usage);
            let at = cut.index(text.len());
            prop_assert!(decode_state(&text[..at]).is_err());
        }

        #[test]
        fn one_flipped_byte_is_refused(usage in usages(), at in any::<prop::sample::Index>(), bit in 0u8..7) {
            let mut bytes = encode_state(&usage).into_bytes();
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            if let Ok(text) = String::from_utf8(bytes) {
                prop_assert!(decode_state(&text).is_err());
            }
        }
    }
}
