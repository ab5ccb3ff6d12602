//! The 12-byte process id of the RPC protocol (docs/PROTOCOL.md §4.6): who sent a
//! handshake, and whom the sender believes it is talking to.
//!
//! Wire layout, little-endian: `ip` u32 (host-order IPv4), `port` i16, `pid`
//! u16, `utime` i32 (process start time).

/// Bytes of an encoded process id.
pub const ENCODED_LEN: usize = 12;

/// Error: fewer than [`ENCODED_LEN`] bytes to decode.
pub const ERR_SHORT: i32 = -1;

/// A process id: `ip` is the host-order IPv4 address, `pid` the OS pid
/// modulo 2^16, `utime` the process start time (unix seconds).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcessId {
    pub ip: u32,
    pub port: i16,
    pub pid: u16,
    pub utime: i32,
}

/// A process id for `os_pid`, keeping its low 16 bits (pid modulo 2^16, also
/// for negative input): the field is 16 bits wide and hosts with a large
/// `pid_max` must still start (upstream aborted here before 2025).
pub fn process_id_init(ip: u32, port: i16, os_pid: i64, utime: i32) -> ProcessId {
    ProcessId {
        ip,
        port,
        pid: (os_pid & 0xffff) as u16,
        utime,
    }
}

/// The wire form of `id`.
pub fn process_id_encode(id: &ProcessId) -> [u8; ENCODED_LEN] {
    let mut out = [0u8; ENCODED_LEN];
    out[0..4].copy_from_slice(&id.ip.to_le_bytes());
    out[4..6].copy_from_slice(&id.port.to_le_bytes());
    out[6..8].copy_from_slice(&id.pid.to_le_bytes());
    out[8..12].copy_from_slice(&id.utime.to_le_bytes());
    out
}

/// Decodes the first [`ENCODED_LEN`] bytes of `input` (the rest is ignored);
/// [`ERR_SHORT`] if there are fewer.
pub fn process_id_decode(input: &[u8]) -> Result<ProcessId, i32> {
    let Some(wire) = input.first_chunk::<ENCODED_LEN>() else {
        return Err(ERR_SHORT);
    };
    let [a, b, c, d, e, f, g, h, i, j, k, l] = *wire;
    Ok(ProcessId {
        ip: u32::from_le_bytes([a, b, c, d]),
        port: i16::from_le_bytes([e, f]),
        pid: u16::from_le_bytes([g, h]),
        utime: i32::from_le_bytes([i, j, k, l]),
    })
}

/// Whether a peer's idea of us (`peer`) fits our own id: every non-zero field
/// of `peer` must equal ours, a zero field is a wildcard (so an all-zero
/// `peer` always matches).
pub fn process_id_matches(own: &ProcessId, peer: &ProcessId) -> bool {
    (peer.ip == 0 || peer.ip == own.ip)
        && (peer.port == 0 || peer.port == own.port)
        && (peer.pid == 0 || peer.pid == own.pid)
        && (peer.utime == 0 || peer.utime == own.utime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_keeps_low_16_bits() {
        assert_eq!(process_id_init(0, 0, 70_000, 0).pid, 4464);
        assert_eq!(process_id_init(0, 0, 65_535, 0).pid, 65_535);
        assert_eq!(process_id_init(0, 0, -1, 0).pid, 65_535);
        assert_eq!(process_id_init(0, 0, i64::MIN, 0).pid, 0);
    }

    #[test]
    fn encodes_little_endian_and_roundtrips() {
        let id = process_id_init(0x7f00_0001, -1, 0x1234, 0x0102_0304);
        let wire = process_id_encode(&id);
        assert_eq!(wire, [1, 0, 0, 0x7f, 0xff, 0xff, 0x34, 0x12, 4, 3, 2, 1]);
        assert_eq!(process_id_decode(&wire), Ok(id));
        let mut longer = wire.to_vec();
        longer.push(0xaa);
        assert_eq!(process_id_decode(&longer), Ok(id));
        assert_eq!(process_id_decode(&wire[..11]), Err(ERR_SHORT));
        assert_eq!(process_id_decode(&[]), Err(ERR_SHORT));
    }

    #[test]
    fn zero_fields_are_wildcards() {
        let own = process_id_init(0x0a00_0001, 8888, 1234, 1_700_000_000);
        assert!(process_id_matches(&own, &ProcessId::default()));
        assert!(process_id_matches(&own, &own));
        let peer = ProcessId {
            ip: own.ip,
            port: own.port,
            ..ProcessId::default()
        };
        assert!(process_id_matches(&own, &peer));
        let wrong_port = ProcessId { port: 443, ..peer };
        assert!(!process_id_matches(&own, &wrong_port));
        let wrong_time = ProcessId {
            utime: 1,
            ..ProcessId::default()
        };
        assert!(!process_id_matches(&own, &wrong_time));
    }
}
