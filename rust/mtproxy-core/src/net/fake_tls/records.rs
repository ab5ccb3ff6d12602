//! The record layer after the ServerHello (docs/PROTOCOL.md §2.5).
//!
//! Inbound, the payloads of `17 03 03` records form one byte stream whose
//! record boundaries mean nothing, so [`RecordReader`] passes payload bytes
//! through as soon as they arrive and buffers only record headers (at most
//! 11 bytes): its memory is constant whatever the record lengths.
//! Outbound, [`wrap_records`] cuts a byte stream into records of at most
//! [`MAX_RECORD_PAYLOAD`] bytes.
use super::{ERR_BAD_CCS, ERR_BAD_RECORD, ERR_FIRST_RECORD_SHORT, ERR_SPACE};

/// Largest payload per outbound record (what upstream sends).
pub const MAX_RECORD_PAYLOAD: usize = 1425;
/// Smallest first application-data record from the client (it carries the
/// 64-byte obfuscated2 header).
pub const MIN_FIRST_RECORD: usize = 64;

/// The client's dummy ChangeCipherSpec record, then the first data record's
/// type and version.
const CCS_THEN_DATA: [u8; 9] = [0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03];
const DATA_RECORD: [u8; 3] = [0x17, 0x03, 0x03];

/// Decodes an inbound record stream in chunks of any size.
#[derive(Clone, Debug)]
pub struct RecordReader {
    /// Bytes the current header must start with (before its 2 length bytes).
    expected: &'static [u8],
    /// Header bytes received so far (the literal part is checked on arrival).
    header: [u8; CCS_THEN_DATA.len() + 2],
    header_len: usize,
    /// Payload bytes of the current record still to come.
    payload_left: usize,
    /// Whether the next length read is the first data record's (server side).
    check_first_len: bool,
    /// Sticky error, returned by every later call.
    error: Option<i32>,
}

impl RecordReader {
    /// A reader for the proxy side (`expect_ccs`: the stream starts with the
    /// client's `14 03 03 00 01 01`, and the first data record holds at least
    /// 64 bytes) or for the client side (records only).
    pub fn new(expect_ccs: bool) -> Self {
        RecordReader {
            expected: if expect_ccs {
                &CCS_THEN_DATA
            } else {
                &DATA_RECORD
            },
            header: [0; CCS_THEN_DATA.len() + 2],
            header_len: 0,
            payload_left: 0,
            check_first_len: expect_ccs,
            error: None,
        }
    }

    /// Takes one header byte; `Err` if it breaks the expected literal or
    /// completes a too-short first record header.
    fn header_byte(&mut self, byte: u8) -> Result<(), i32> {
        let at = self.header_len;
        if let Some(&want) = self.expected.get(at) {
            if byte != want {
                let in_ccs = self.expected.len() == CCS_THEN_DATA.len() && at < 6;
                return Err(if in_ccs { ERR_BAD_CCS } else { ERR_BAD_RECORD });
            }
        }
        if let Some(slot) = self.header.get_mut(at) {
            *slot = byte;
        }
        self.header_len += 1;
        if self.header_len < self.expected.len() + 2 {
            return Ok(());
        }
        let len_at = self.expected.len();
        let high = self.header.get(len_at).copied().unwrap_or(0);
        let low = self.header.get(len_at + 1).copied().unwrap_or(0);
        let len = usize::from(u16::from_be_bytes([high, low]));
        if self.check_first_len && len < MIN_FIRST_RECORD {
            return Err(ERR_FIRST_RECORD_SHORT);
        }
        self.check_first_len = false;
        self.expected = &DATA_RECORD;
        self.header_len = 0;
        self.payload_left = len;
        Ok(())
    }

    /// Consumes bytes of `input` and copies payload bytes to `out`, until the
    /// input is used up or `out` is full (header bytes are consumed even when
    /// `out` is full). Returns `(consumed, produced)`. A malformed byte makes
    /// the stream fail for good: if this call already made progress it returns
    /// that progress (stopping before the bad byte) and the error comes from
    /// the next call; otherwise it returns the error (`ERR_BAD_CCS`,
    /// `ERR_BAD_RECORD`, `ERR_FIRST_RECORD_SHORT`).
    pub fn feed(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), i32> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let (mut consumed, mut produced) = (0, 0);
        loop {
            let rest = input.get(consumed..).unwrap_or_default();
            if self.payload_left > 0 {
                let space = out.len() - produced;
                let n = self.payload_left.min(rest.len()).min(space);
                if n == 0 {
                    break;
                }
                out[produced..produced + n].copy_from_slice(&rest[..n]);
                (consumed, produced) = (consumed + n, produced + n);
                self.payload_left -= n;
                continue;
            }
            let Some(&byte) = rest.first() else {
                break;
            };
            if let Err(error) = self.header_byte(byte) {
                self.error = Some(error);
                if consumed == 0 && produced == 0 {
                    return Err(error);
                }
                break;
            }
            consumed += 1;
        }
        Ok((consumed, produced))
    }

    /// Feeds the whole of `input`, its payload into `out`, which must hold
    /// `input.len()` bytes (payload never outnumbers record bytes).
    /// `Ok(produced)`; or `Err((produced, error))` when a malformed byte ends
    /// the stream (the payload before it is in `out[..produced]`) or `out` is
    /// too small (`ERR_SPACE`).
    pub fn feed_all(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize, (usize, i32)> {
        let (mut consumed, mut produced) = (0, 0);
        while consumed < input.len() {
            let rest = &mut out[produced..];
            match self.feed(&input[consumed..], rest) {
                Ok((0, _)) => return Err((produced, ERR_SPACE)),
                Ok((used, made)) => (consumed, produced) = (consumed + used, produced + made),
                Err(error) => return Err((produced, error)),
            }
        }
        Ok(produced)
    }
}

/// Bytes [`wrap_records`] writes for `payload_len` payload bytes
/// (`usize::MAX` if that does not fit a usize).
pub fn wrapped_len(payload_len: usize) -> usize {
    let records = payload_len.div_ceil(MAX_RECORD_PAYLOAD);
    records
        .checked_mul(5)
        .and_then(|headers| headers.checked_add(payload_len))
        .unwrap_or(usize::MAX)
}

/// Writes `payload` as `17 03 03 <BE16 len>` records of at most 1425 bytes
/// (none for an empty payload); returns the bytes written. `ERR_SPACE` if
/// `out` is shorter than [`wrapped_len`].
pub fn wrap_records(payload: &[u8], out: &mut [u8]) -> Result<usize, i32> {
    let total = wrapped_len(payload.len());
    let Some(out) = out.get_mut(..total) else {
        return Err(ERR_SPACE);
    };
    let mut at = 0;
    for chunk in payload.chunks(MAX_RECORD_PAYLOAD) {
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX).to_be_bytes();
        out[at..at + 3].copy_from_slice(&DATA_RECORD);
        out[at + 3..at + 5].copy_from_slice(&len);
        out[at + 5..at + 5 + chunk.len()].copy_from_slice(chunk);
        at += 5 + chunk.len();
    }
    Ok(total)
}
