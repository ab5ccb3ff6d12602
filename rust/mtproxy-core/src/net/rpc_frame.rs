//! The "full" RPC framing between the proxy and the middle-end (docs/PROTOCOL.md
//! §4.2): `LE32 length L | LE32 seq | payload | LE32 CRC of bytes 0..L-4`,
//! with `L = payload + 12`, plus the 4-byte padding word `04 00 00 00` that
//! receivers skip and senders use to fill the ciphertext to whole 16-byte
//! AES blocks (§4.5).
//!
//! The decoder is sans-IO and holds at most one frame: [`FrameDecoder::push`]
//! consumes input only up to the end of the next frame and hands that frame
//! out, so the caller can switch the CRC kind or the expected sequence number
//! exactly at a frame boundary (the handshake switches to CRC-32C "for all
//! later packets"). Errors are sticky: a stream with one bad frame is dead.
use crate::common::{crc32, crc32c};

/// A length field that no frame may carry: `L <= 0` as int32, not a multiple
/// of 4, 8 or 12 (only the padding word may be shorter than 16 bytes); for
/// the encoder, an empty or unaligned payload.
pub const ERR_BAD_LENGTH: i32 = -1;
/// A frame longer than [`MAX_FRAME_LEN`].
pub const ERR_TOO_BIG: i32 = -2;
/// The CRC field does not match the frame's bytes.
pub const ERR_BAD_CRC: i32 = -3;
/// A sequence number other than the expected one (gap, replay, reorder).
pub const ERR_BAD_SEQ: i32 = -4;
/// The output buffer is too small.
pub const ERR_OUT_SMALL: i32 = -5;

/// The largest accepted frame, header and CRC included: 16 MiB. It bounds
/// the decoder's buffer; the middle-end's messages (client packets of at most
/// a few MiB plus a 60-byte header) stay far below it.
pub const MAX_FRAME_LEN: usize = 1 << 24;
/// Length field, sequence number and CRC around the payload.
pub const FRAME_OVERHEAD: usize = 12;
/// The smallest real frame: a 4-byte operation code as the only payload.
const MIN_FRAME_LEN: usize = 16;
/// The padding word: a length field of 4 and nothing else.
pub const PADDING_WORD: [u8; 4] = [4, 0, 0, 0];
/// Senders pad every write burst to this many bytes (one AES block).
pub const PAD_BLOCK: u64 = 16;

/// Which checksum the frames carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrcKind {
    /// CRC-32 (IEEE, zlib): until the handshakes are done.
    Crc32,
    /// CRC-32C (Castagnoli): afterwards, if the handshakes negotiated it.
    Crc32c,
}

impl CrcKind {
    /// The contract's code: 0 for CRC-32, 1 for CRC-32C.
    pub const fn code(self) -> i32 {
        match self {
            CrcKind::Crc32 => 0,
            CrcKind::Crc32c => 1,
        }
    }

    /// The kind a contract code stands for; `None` for any other value.
    pub const fn from_code(code: i32) -> Option<CrcKind> {
        match code {
            0 => Some(CrcKind::Crc32),
            1 => Some(CrcKind::Crc32c),
            _ => None,
        }
    }

    fn checksum(self, data: &[u8]) -> u32 {
        match self {
            CrcKind::Crc32 => crc32::compute_crc32(data),
            CrcKind::Crc32c => crc32c::compute_crc32c(data),
        }
    }
}

/// The total frame length for a payload of `payload_len` bytes, if a
/// receiver would accept such a frame.
fn frame_len(payload_len: usize) -> Result<usize, i32> {
    if payload_len == 0 || payload_len % 4 != 0 {
        return Err(ERR_BAD_LENGTH);
    }
    match payload_len.checked_add(FRAME_OVERHEAD) {
        Some(len) if len <= MAX_FRAME_LEN => Ok(len),
        _ => Err(ERR_TOO_BIG),
    }
}

/// Writes the frame for `payload` with sequence number `seq` to the start of
/// `out`; returns its length. `out` is untouched on error.
pub fn encode_frame_into(
    seq: i32,
    payload: &[u8],
    crc: CrcKind,
    out: &mut [u8],
) -> Result<usize, i32> {
    let len = frame_len(payload.len())?;
    let frame = out.get_mut(..len).ok_or(ERR_OUT_SMALL)?;
    frame[8..len - 4].copy_from_slice(payload);
    seal_frame_in_place(seq, crc, frame)
}

/// Completes a frame whose payload was written in place: `frame` is the
/// whole frame (8 header bytes, the payload, 4 CRC bytes), and this fills
/// the length, `seq` and the CRC around the payload; returns its length.
/// Saves the copy [`encode_frame_into`] makes when the payload is built
/// where the frame goes ("reserve header, write payload, fill header").
pub fn seal_frame_in_place(seq: i32, crc: CrcKind, frame: &mut [u8]) -> Result<usize, i32> {
    let len = frame_len(frame.len().saturating_sub(FRAME_OVERHEAD))?;
    let (body, crc_field) = frame.split_at_mut(len - 4);
    // `len` <= MAX_FRAME_LEN, so it fits the 32-bit field.
    body[..4].copy_from_slice(&(len as u32).to_le_bytes());
    body[4..8].copy_from_slice(&seq.to_le_bytes());
    crc_field.copy_from_slice(&crc.checksum(body).to_le_bytes());
    Ok(len)
}

/// The frame for `payload` with sequence number `seq`.
pub fn encode_frame(seq: i32, payload: &[u8], crc: CrcKind) -> Result<Vec<u8>, i32> {
    let mut out = vec![0u8; frame_len(payload.len())?];
    encode_frame_into(seq, payload, crc, &mut out)?;
    Ok(out)
}

/// Writes the padding words (0 to 3) that bring a running byte count of
/// `total` to a multiple of 16; returns how many bytes that is. `total` must
/// be a multiple of 4, as every frame is.
pub fn write_padding(total: u64, out: &mut [u8]) -> Result<usize, i32> {
    if total % 4 != 0 {
        return Err(ERR_BAD_LENGTH);
    }
    // At most 12, so the cast is lossless.
    let len = ((PAD_BLOCK - total % PAD_BLOCK) % PAD_BLOCK) as usize;
    let area = out.get_mut(..len).ok_or(ERR_OUT_SMALL)?;
    for word in area.chunks_exact_mut(4) {
        word.copy_from_slice(&PADDING_WORD);
    }
    Ok(len)
}

/// One decoded frame; `payload` borrows the decoder until its next push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub seq: i32,
    pub payload: &'a [u8],
}

/// What one [`FrameDecoder::push`] did: how many input bytes it took and the
/// frame they completed, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pushed<'a> {
    pub consumed: usize,
    pub frame: Option<Frame<'a>>,
}

/// Incremental decoder for one direction of a connection.
#[derive(Clone, Debug)]
pub struct FrameDecoder {
    /// The bytes received of the frame in progress (header included), or the
    /// whole frame just handed out while `delivered` is set.
    buf: Vec<u8>,
    delivered: bool,
    expected_seq: i32,
    crc: CrcKind,
    error: Option<i32>,
}

impl FrameDecoder {
    /// A decoder expecting `first_seq` next (−2 on a connection that starts
    /// with the nonce) and checking `crc`.
    pub fn new(first_seq: i32, crc: CrcKind) -> Self {
        FrameDecoder {
            buf: Vec::new(),
            delivered: false,
            expected_seq: first_seq,
            crc,
            error: None,
        }
    }

    /// The sequence number the next frame must carry.
    pub fn expected_seq(&self) -> i32 {
        self.expected_seq
    }

    /// The CRC kind the next completed frame is checked with.
    pub fn crc(&self) -> CrcKind {
        self.crc
    }

    /// Bytes of the next frame already received (0 right after a frame).
    pub fn buffered(&self) -> usize {
        if self.delivered {
            0
        } else {
            self.buf.len()
        }
    }

    /// The sticky error, 0 if none.
    pub fn error_code(&self) -> i32 {
        self.error.unwrap_or(0)
    }

    /// Checks later frames with `crc` (takes effect for the next frame that
    /// completes).
    pub fn set_crc(&mut self, crc: CrcKind) {
        self.crc = crc;
    }

    /// Requires `seq` on the next frame; each accepted frame then advances it
    /// by one (wrapping), padding words do not.
    pub fn set_seq(&mut self, seq: i32) {
        self.expected_seq = seq;
    }

    fn fail(&mut self, error: i32) -> i32 {
        *self.error.get_or_insert(error)
    }

    /// Takes bytes from `input` up to the end of the next frame and returns
    /// that frame, or consumes all of `input` if it does not complete one.
    /// Padding words are consumed and skipped. After an error every call
    /// returns the same error and consumes nothing.
    pub fn push(&mut self, input: &[u8]) -> Result<Pushed<'_>, i32> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.delivered {
            self.buf.clear();
            self.delivered = false;
        }
        let mut rest = input;
        while let Some(frame_len) = self.fill_header(&mut rest)? {
            if frame_len == PADDING_WORD.len() {
                self.buf.clear();
                continue;
            }
            let wanted = frame_len - self.buf.len();
            let (take, tail) = rest.split_at(wanted.min(rest.len()));
            self.buf.extend_from_slice(take);
            rest = tail;
            if self.buf.len() < frame_len {
                break;
            }
            self.check_frame()?;
            self.delivered = true;
            return Ok(self.delivered_frame(input.len() - rest.len()));
        }
        Ok(Pushed {
            consumed: input.len(),
            frame: None,
        })
    }

    /// Hands the frame the last [`Self::push`] returned over to the caller
    /// without copying it: the decoder's buffer is swapped into `out` (whose
    /// old contents are dropped and whose allocation the decoder keeps for
    /// the next frame). Returns the payload's range in `out`; `None` if no
    /// frame is waiting to be taken.
    pub fn take_frame(&mut self, out: &mut Vec<u8>) -> Option<core::ops::Range<usize>> {
        if !self.delivered {
            return None;
        }
        let end = self.buf.len().saturating_sub(4);
        core::mem::swap(&mut self.buf, out);
        self.buf.clear();
        self.delivered = false;
        Some(8..end)
    }

    /// Completes the 4-byte length field from `rest` and validates it;
    /// `None` while it is incomplete (all of `rest` taken).
    fn fill_header(&mut self, rest: &mut &[u8]) -> Result<Option<usize>, i32> {
        if self.buf.len() < 4 {
            let (take, tail) = rest.split_at((4 - self.buf.len()).min(rest.len()));
            self.buf.extend_from_slice(take);
            *rest = tail;
        }
        let Some(&field) = self.buf.first_chunk::<4>() else {
            return Ok(None);
        };
        let len = i32::from_le_bytes(field);
        if len <= 0 || len % 4 != 0 || (len > 4 && (len as usize) < MIN_FRAME_LEN) {
            return Err(self.fail(ERR_BAD_LENGTH));
        }
        // Positive, so the cast is lossless.
        let len = len as usize;
        if len > MAX_FRAME_LEN {
            return Err(self.fail(ERR_TOO_BIG));
        }
        Ok(Some(len))
    }

    /// Checks the CRC and then the sequence number of the complete frame in
    /// `buf` (a corrupted frame reports the CRC, not its garbled seq).
    fn check_frame(&mut self) -> Result<(), i32> {
        let (body, crc_field) = self.buf.split_at(self.buf.len().saturating_sub(4));
        let received = crc_field.first_chunk::<4>().map(|f| u32::from_le_bytes(*f));
        if received != Some(self.crc.checksum(body)) {
            return Err(self.fail(ERR_BAD_CRC));
        }
        let seq = body.get(4..8).and_then(|s| s.first_chunk::<4>());
        if seq.map(|s| i32::from_le_bytes(*s)) != Some(self.expected_seq) {
            return Err(self.fail(ERR_BAD_SEQ));
        }
        self.expected_seq = self.expected_seq.wrapping_add(1);
        Ok(())
    }

    fn delivered_frame(&self, consumed: usize) -> Pushed<'_> {
        let end = self.buf.len().saturating_sub(4);
        Pushed {
            consumed,
            frame: Some(Frame {
                // The sequence number just checked and advanced past.
                seq: self.expected_seq.wrapping_sub(1),
                payload: self.buf.get(8..end).unwrap_or_default(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE_PAYLOAD: [u8; 32] = {
        let mut p = [0u8; 32];
        p[0] = 0xaa;
        p[1] = 0x87;
        p[2] = 0xcb;
        p[3] = 0x7a;
        p
    };

    #[test]
    fn a_taken_frame_moves_out_whole_and_only_once() {
        let first = encode_frame(-2, &NONCE_PAYLOAD, CrcKind::Crc32).unwrap();
        let second = encode_frame(-1, &[7u8; 12], CrcKind::Crc32).unwrap();
        let mut dec = FrameDecoder::new(-2, CrcKind::Crc32);
        let mut out = vec![1u8; 3];
        assert_eq!(dec.take_frame(&mut out), None, "nothing decoded yet");
        let stream = [first.as_slice(), second.as_slice()].concat();
        let consumed = dec.push(&stream).unwrap().consumed;
        let range = dec.take_frame(&mut out).unwrap();
        assert_eq!(&out[range], &NONCE_PAYLOAD[..]);
        assert_eq!(dec.take_frame(&mut out), None, "taken once");
        // The decoder goes on with the next frame in its new buffer.
        let pushed = dec.push(&stream[consumed..]).unwrap();
        assert_eq!(
            pushed.frame.map(|f| f.payload.to_vec()),
            Some(vec![7u8; 12])
        );
        let range = dec.take_frame(&mut out).unwrap();
        assert_eq!(&out[range], &[7u8; 12]);
    }

    fn feed_all(dec: &mut FrameDecoder, mut input: &[u8]) -> Result<Vec<(i32, Vec<u8>)>, i32> {
        let mut out = Vec::new();
        loop {
            let pushed = dec.push(input)?;
            input = &input[pushed.consumed..];
            match pushed.frame {
                Some(f) => out.push((f.seq, f.payload.to_vec())),
                None => return Ok(out),
            }
        }
    }

    #[test]
    fn nonce_frame_prefix_and_crc() {
        let frame = encode_frame(-2, &NONCE_PAYLOAD, CrcKind::Crc32).unwrap();
        assert_eq!(frame.len(), 44);
        assert_eq!(
            frame[..12],
            [0x2c, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xaa, 0x87, 0xcb, 0x7a]
        );
        let crc = crc32::compute_crc32(&frame[..40]);
        assert_eq!(frame[40..], crc.to_le_bytes());
    }

    #[test]
    fn encoder_rejects_bad_payloads() {
        assert_eq!(encode_frame(0, &[], CrcKind::Crc32), Err(ERR_BAD_LENGTH));
        assert_eq!(
            encode_frame(0, &[1, 2, 3], CrcKind::Crc32),
            Err(ERR_BAD_LENGTH)
        );
        let big = vec![0u8; MAX_FRAME_LEN - 8];
        assert_eq!(encode_frame(0, &big, CrcKind::Crc32), Err(ERR_TOO_BIG));
        let mut small = [0u8; 19];
        let r = encode_frame_into(0, &[0; 8], CrcKind::Crc32, &mut small);
        assert_eq!(r, Err(ERR_OUT_SMALL));
        assert_eq!(small, [0u8; 19]);
    }

    #[test]
    fn a_frame_sealed_in_place_equals_the_copied_one() {
        let payload: Vec<u8> = (0..64u8).collect();
        for crc in [CrcKind::Crc32, CrcKind::Crc32c] {
            let mut frame = vec![0xeeu8; payload.len() + FRAME_OVERHEAD];
            frame[8..8 + payload.len()].copy_from_slice(&payload);
            assert_eq!(seal_frame_in_place(7, crc, &mut frame), Ok(frame.len()));
            assert_eq!(frame, encode_frame(7, &payload, crc).unwrap());
        }
        // The area must hold a whole-word payload of at least one word.
        assert_eq!(
            seal_frame_in_place(0, CrcKind::Crc32, &mut [0; 12]),
            Err(ERR_BAD_LENGTH)
        );
        assert_eq!(
            seal_frame_in_place(0, CrcKind::Crc32, &mut [0; 18]),
            Err(ERR_BAD_LENGTH)
        );
    }

    #[test]
    fn padding_reaches_whole_blocks() {
        let mut out = [0u8; 12];
        assert_eq!(write_padding(44, &mut out), Ok(4));
        assert_eq!(out[..4], PADDING_WORD);
        assert_eq!(write_padding(48, &mut out), Ok(0));
        assert_eq!(write_padding(36, &mut out), Ok(12));
        assert_eq!(write_padding(u64::MAX - 3, &mut out), Ok(4));
        assert_eq!(write_padding(42, &mut out), Err(ERR_BAD_LENGTH));
        assert_eq!(write_padding(4, &mut [0u8; 11]), Err(ERR_OUT_SMALL));
    }

    #[test]
    fn decodes_sequence_skipping_padding() {
        let mut stream = encode_frame(-2, &NONCE_PAYLOAD, CrcKind::Crc32).unwrap();
        stream.extend_from_slice(&PADDING_WORD);
        stream.extend(encode_frame(-1, &[1, 2, 3, 4], CrcKind::Crc32).unwrap());
        let mut dec = FrameDecoder::new(-2, CrcKind::Crc32);
        for byte in stream.chunks(1) {
            if let Some(f) = dec.push(byte).unwrap().frame {
                assert!(f.seq == -2 || f.seq == -1);
            }
        }
        assert_eq!(dec.expected_seq(), 0);
        assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn crc_switch_at_frame_boundary() {
        let mut stream = encode_frame(-1, &[9; 8], CrcKind::Crc32).unwrap();
        stream.extend(encode_frame(0, &[7; 4], CrcKind::Crc32c).unwrap());
        let mut dec = FrameDecoder::new(-1, CrcKind::Crc32);
        let pushed = dec.push(&stream).unwrap();
        assert_eq!(pushed.consumed, 20);
        dec.set_crc(CrcKind::Crc32c);
        let rest = feed_all(&mut dec, &stream[20..]).unwrap();
        assert_eq!(rest, vec![(0, vec![7; 4])]);
    }

    #[test]
    fn hostile_lengths() {
        for (field, want) in [
            (0i32, ERR_BAD_LENGTH),
            (-4, ERR_BAD_LENGTH),
            (i32::MIN, ERR_BAD_LENGTH),
            (8, ERR_BAD_LENGTH),
            (12, ERR_BAD_LENGTH),
            (17, ERR_BAD_LENGTH),
            (0x7fff_fffc, ERR_TOO_BIG),
            ((MAX_FRAME_LEN + 4) as i32, ERR_TOO_BIG),
        ] {
            let mut dec = FrameDecoder::new(0, CrcKind::Crc32);
            assert_eq!(dec.push(&field.to_le_bytes()), Err(want), "{field}");
            assert_eq!(dec.push(&[]), Err(want));
            assert_eq!(dec.error_code(), want);
        }
    }

    #[test]
    fn bad_crc_and_seq_are_sticky() {
        let mut frame = encode_frame(0, &[1; 4], CrcKind::Crc32).unwrap();
        let mut dec = FrameDecoder::new(0, CrcKind::Crc32c);
        assert_eq!(dec.push(&frame), Err(ERR_BAD_CRC));
        let mut dec = FrameDecoder::new(1, CrcKind::Crc32);
        assert_eq!(dec.push(&frame), Err(ERR_BAD_SEQ));
        frame[9] ^= 1;
        let mut dec = FrameDecoder::new(0, CrcKind::Crc32);
        assert_eq!(dec.push(&frame), Err(ERR_BAD_CRC));
        assert_eq!(dec.push(&PADDING_WORD), Err(ERR_BAD_CRC));
    }

    #[test]
    fn replay_is_rejected() {
        let frame = encode_frame(5, &[1; 4], CrcKind::Crc32).unwrap();
        let mut dec = FrameDecoder::new(5, CrcKind::Crc32);
        assert!(dec.push(&frame).unwrap().frame.is_some());
        assert_eq!(dec.push(&frame), Err(ERR_BAD_SEQ));
    }
}
