//! Client transport framing inside obfuscation (docs/PROTOCOL.md §3): abridged,
//! intermediate and padded intermediate, both directions; quick acks (§3.2);
//! and which decoded packets the proxy forwards (§3.1).
//!
//! Client → proxy: abridged = 1 byte `L` (bit 7: quick ack requested), length
//! `(L & 0x7f) * 4`, or `0x7f` + 3-byte LE length/4; (padded) intermediate =
//! 4-byte LE length, bit 31 quick ack. Proxy → client: the same without the
//! quick-ack bit; a set top bit instead marks a raw 4-byte quick-ack answer.

/// Transport modes (tags 0xefefefef, 0xeeeeeeee, 0xdddddddd).
pub const MODE_ABRIDGED: i32 = 1;
pub const MODE_INTERMEDIATE: i32 = 2;
pub const MODE_PADDED: i32 = 3;

/// Who sends a stream: its format differs per direction.
pub const FROM_CLIENT: i32 = 0;
pub const FROM_PROXY: i32 = 1;

/// Largest packet a client may send (1 MiB - 4 KiB); longer closes the
/// connection.
pub const MAX_PACKET_LEN: usize = 1_044_480;
/// Largest packet the proxy sends to a client (16 MiB): the data of any
/// RPC_PROXY_ANS a middle-end frame can carry (frames are at most
/// [`rpc_frame::MAX_FRAME_LEN`](crate::net::rpc_frame::MAX_FRAME_LEN)),
/// plus padding. Every transport's length field holds it (abridged: 2^24
/// words; intermediate: 2^31 bytes).
pub const MAX_ANSWER_LEN: usize = 1 << 24;
/// Longest framing header.
pub const MAX_HEADER_LEN: usize = 4;
/// Random padding a client / the proxy adds in padded mode, at most.
pub const MAX_CLIENT_PADDING: usize = 15;
pub const MAX_PROXY_PADDING: usize = 3;
/// Random bytes `encode_quick_ack` consumes in padded mode.
pub const QUICK_ACK_RANDOM_LEN: usize = 17;
/// Longest quick-ack answer (the two-packet padded form).
pub const MAX_QUICK_ACK_LEN: usize = 34;

/// Forward filter verdicts (§3.1).
pub const FORWARD: i32 = 0;
pub const PING: i32 = 1;
pub const DROP: i32 = 2;
/// Why a packet is dropped (0 when it is not).
pub const DROP_SHORT: i32 = 1;
pub const DROP_UNALIGNED: i32 = 2;
pub const DROP_ENCRYPTED_SHORT: i32 = 3;
pub const DROP_BAD_MESSAGE_LENGTH: i32 = 4;
pub const DROP_BAD_FUNCTION: i32 = 5;

/// Unknown mode or sender, misused padding or quick ack, short random.
pub const ERR_ARG: i32 = -1;
/// A packet of length 0.
pub const ERR_ZERO_LENGTH: i32 = -2;
/// A packet longer than [`MAX_PACKET_LEN`] (from a client) or
/// [`MAX_ANSWER_LEN`] (from the proxy).
pub const ERR_TOO_LONG: i32 = -3;
/// Abridged 3-byte length below 0x7f (fits the 1-byte form).
pub const ERR_OVERLONG: i32 = -4;
/// Length not a multiple of 4 where the mode requires it.
pub const ERR_UNALIGNED: i32 = -5;
/// The output buffer is too small (not sticky; nothing consumed).
pub const ERR_OUT_SPACE: i32 = -6;

const _: () = assert!(
    MAX_ANSWER_LEN
        >= crate::net::rpc_frame::MAX_FRAME_LEN - crate::net::rpc_frame::FRAME_OVERHEAD
            + MAX_PROXY_PADDING
);
const QUICK_ACK_FLAG: u32 = 0x8000_0000;
const RPC_PING: u32 = 0x5730_a2df;
const RPC_PONG: u32 = 0x8430_eaa7;
/// Functions an unencrypted (auth_key_id 0) packet may call.
const UNENCRYPTED_FUNCTIONS: [u32; 4] = [0x6046_9778, 0xbe7e_8ef1, 0xd712_e4be, 0xf504_5f1f];

/// The transport mode of an obfuscated2 tag.
pub fn mode_from_tag(tag: u32) -> Result<i32, i32> {
    match tag {
        0xefef_efef => Ok(MODE_ABRIDGED),
        0xeeee_eeee => Ok(MODE_INTERMEDIATE),
        0xdddd_dddd => Ok(MODE_PADDED),
        _ => Err(ERR_ARG),
    }
}

/// One packet taken out of a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketInfo {
    /// From a client: quick ack requested. From the proxy: this is a quick-ack
    /// answer carrying `confirm`, with no payload.
    pub quick_ack: bool,
    pub confirm: u32,
    /// Bytes written to the output: `wire_length`, cut to a multiple of 4 in
    /// padded mode (the proxy forwards that much, §3).
    pub length: usize,
    /// The length field's value.
    pub wire_length: usize,
}

/// A frame header as read from the stream.
enum Header {
    NeedMore,
    Packet {
        header_len: usize,
        wire_length: usize,
        quick_ack: bool,
    },
    QuickAckAnswer(u32),
}

/// Stream decoder: feed bytes in any chunking, take whole packets out.
/// Holds at most one maximal frame; errors are sticky.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    mode: i32,
    sender: i32,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    start: usize,
    error: i32,
}

impl FrameDecoder {
    pub fn new(mode: i32, sender: i32) -> Result<FrameDecoder, i32> {
        check_mode_and_sender(mode, sender)?;
        Ok(FrameDecoder {
            mode,
            sender,
            buf: Vec::new(),
            start: 0,
            error: 0,
        })
    }

    /// Buffers a prefix of `data` and returns its length: all of it unless
    /// the buffer would exceed one maximal frame (take packets out first).
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, i32> {
        if self.error != 0 {
            return Err(self.error);
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        // At most one maximal frame of this sender.
        let cap = MAX_HEADER_LEN + max_len(self.sender);
        let take = data.len().min(cap - self.buf.len());
        self.buf.extend_from_slice(&data[..take]);
        Ok(take)
    }

    /// The next packet, copied to the front of `out`; `None` until one is
    /// complete.
    pub fn next_packet(&mut self, out: &mut [u8]) -> Result<Option<PacketInfo>, i32> {
        if self.error != 0 {
            return Err(self.error);
        }
        let pending = self.buf.get(self.start..).unwrap_or_default();
        let header = match read_header(self.mode, self.sender, pending) {
            Ok(header) => header,
            Err(code) => {
                self.error = code;
                return Err(code);
            }
        };
        let (header_len, wire_length, quick_ack) = match header {
            Header::NeedMore => return Ok(None),
            Header::QuickAckAnswer(confirm) => {
                self.consume(4);
                let info = PacketInfo {
                    quick_ack: true,
                    confirm,
                    ..PacketInfo::default()
                };
                return Ok(Some(info));
            }
            Header::Packet {
                header_len,
                wire_length,
                quick_ack,
            } => (header_len, wire_length, quick_ack),
        };
        let Some(body) = pending.get(header_len..header_len + wire_length) else {
            return Ok(None);
        };
        let length = if self.mode == MODE_PADDED {
            wire_length & !3
        } else {
            wire_length
        };
        let dst = out.get_mut(..length).ok_or(ERR_OUT_SPACE)?;
        dst.copy_from_slice(&body[..length]);
        self.consume(header_len + wire_length);
        Ok(Some(PacketInfo {
            quick_ack,
            confirm: 0,
            length,
            wire_length,
        }))
    }

    /// Bytes held (a partial frame and whole frames not yet taken).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The sticky error, 0 if none.
    pub fn error_code(&self) -> i32 {
        self.error
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start >= self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }
}

fn check_mode_and_sender(mode: i32, sender: i32) -> Result<(), i32> {
    let mode_ok = matches!(mode, MODE_ABRIDGED | MODE_INTERMEDIATE | MODE_PADDED);
    if mode_ok && matches!(sender, FROM_CLIENT | FROM_PROXY) {
        Ok(())
    } else {
        Err(ERR_ARG)
    }
}

/// Parses the frame header at the start of `b`, checking the §3 limits.
fn read_header(mode: i32, sender: i32, b: &[u8]) -> Result<Header, i32> {
    let from_proxy = sender == FROM_PROXY;
    if mode == MODE_ABRIDGED {
        let Some(&first) = b.first() else {
            return Ok(Header::NeedMore);
        };
        let quick_ack = first & 0x80 != 0;
        let short_len = first & 0x7f;
        if quick_ack && from_proxy {
            return Ok(b.first_chunk::<4>().map_or(Header::NeedMore, |w| {
                Header::QuickAckAnswer(u32::from_be_bytes(*w))
            }));
        }
        let (header_len, quarters) = if short_len < 0x7f {
            (1, u32::from(short_len))
        } else {
            let Some(&[_, low, mid, high]) = b.first_chunk::<4>() else {
                return Ok(Header::NeedMore);
            };
            let quarters = u32::from_le_bytes([low, mid, high, 0]);
            if quarters < 0x7f {
                return Err(ERR_OVERLONG);
            }
            (4, quarters)
        };
        let wire_length = checked_length(sender, quarters as usize * 4)?;
        return Ok(Header::Packet {
            header_len,
            wire_length,
            quick_ack,
        });
    }
    let Some(word) = b.first_chunk::<4>() else {
        return Ok(Header::NeedMore);
    };
    let word = u32::from_le_bytes(*word);
    let quick_ack = word & QUICK_ACK_FLAG != 0;
    if quick_ack && from_proxy {
        return Ok(Header::QuickAckAnswer(word));
    }
    let wire_length = checked_length(sender, (word & !QUICK_ACK_FLAG) as usize)?;
    if mode == MODE_INTERMEDIATE && wire_length % 4 != 0 {
        return Err(ERR_UNALIGNED);
    }
    Ok(Header::Packet {
        header_len: 4,
        wire_length,
        quick_ack,
    })
}

/// The longest packet `sender` may send.
fn max_len(sender: i32) -> usize {
    if sender == FROM_PROXY {
        MAX_ANSWER_LEN
    } else {
        MAX_PACKET_LEN
    }
}

fn checked_length(sender: i32, len: usize) -> Result<usize, i32> {
    match len {
        0 => Err(ERR_ZERO_LENGTH),
        n if n > max_len(sender) => Err(ERR_TOO_LONG),
        n => Ok(n),
    }
}

/// Frames `payload` (+ `padding`, padded mode only: at most 15 bytes from a
/// client, 3 from the proxy) into `out` as `sender` sends it and returns the
/// frame's length. Abridged and intermediate payloads must be a multiple of
/// 4; only a client may ask for a quick ack.
pub fn encode_packet(
    sender: i32,
    mode: i32,
    quick_ack: bool,
    payload: &[u8],
    padding: &[u8],
    out: &mut [u8],
) -> Result<usize, i32> {
    check_mode_and_sender(mode, sender)?;
    let max_padding = match (mode, sender) {
        (MODE_PADDED, FROM_CLIENT) => MAX_CLIENT_PADDING,
        (MODE_PADDED, _) => MAX_PROXY_PADDING,
        _ => 0,
    };
    if padding.len() > max_padding || (quick_ack && sender == FROM_PROXY) {
        return Err(ERR_ARG);
    }
    let wire_length = checked_length(sender, payload.len() + padding.len())?;
    if mode != MODE_PADDED && wire_length % 4 != 0 {
        return Err(ERR_UNALIGNED);
    }
    let ack_bit = if quick_ack { 0x80 } else { 0 };
    let (header, header_len) = if mode != MODE_ABRIDGED {
        let word = wire_length as u32 | if quick_ack { QUICK_ACK_FLAG } else { 0 };
        (word.to_le_bytes(), 4)
    } else if wire_length / 4 < 0x7f {
        ([(wire_length / 4) as u8 | ack_bit, 0, 0, 0], 1)
    } else {
        let [a, b, c, _] = ((wire_length / 4) as u32).to_le_bytes();
        ([0x7f | ack_bit, a, b, c], 4)
    };
    let total = header_len + wire_length;
    let dst = out.get_mut(..total).ok_or(ERR_OUT_SPACE)?;
    // Every frame has at least 4 bytes; the payload overwrites the unused
    // bytes of a 1-byte header.
    if let Some(first) = dst.first_chunk_mut::<MAX_HEADER_LEN>() {
        *first = header;
    }
    let (body, tail) = dst[header_len..].split_at_mut(payload.len());
    body.copy_from_slice(payload);
    if !padding.is_empty() {
        tail.copy_from_slice(padding);
    }
    Ok(total)
}

/// The proxy's quick-ack answer for `confirm` (§3.2) into `out`; returns its
/// length. Abridged: `confirm` big-endian; intermediate: little-endian; padded:
/// `random` (at least [`QUICK_ACK_RANDOM_LEN`] bytes) picks the form: bit 0 of
/// `random[0]` clear = the raw 4 bytes LE, set = two framed packets
/// `ffffffff ‖ confirm ‖ extra1` + pad1 and `00000000 ‖ extra2` + pad2, where
/// bit 0 of `random[1]` / `random[2]` says whether extra1 = `random[3..7)` /
/// extra2 = `random[10..14)` is present, and their bits 1-2 give the lengths
/// of pad1 = `random[7..)` / pad2 = `random[14..)`.
pub fn encode_quick_ack(
    mode: i32,
    confirm: u32,
    random: &[u8],
    out: &mut [u8],
) -> Result<usize, i32> {
    check_mode_and_sender(mode, FROM_PROXY)?;
    let mut answer = [0u8; MAX_QUICK_ACK_LEN];
    let len = match mode {
        MODE_ABRIDGED => put(&mut answer, 0, &confirm.to_be_bytes()),
        MODE_INTERMEDIATE => put(&mut answer, 0, &confirm.to_le_bytes()),
        _ => {
            let r: &[u8; QUICK_ACK_RANDOM_LEN] = random.first_chunk().ok_or(ERR_ARG)?;
            if r[0] & 1 == 0 {
                put(&mut answer, 0, &confirm.to_le_bytes())
            } else {
                let mut first = [0xffu8; 12];
                first[4..8].copy_from_slice(&confirm.to_le_bytes());
                first[8..].copy_from_slice(&r[3..7]);
                let len = padded_part(&mut answer, 0, &first, r[1], &r[7..10]);
                let mut second = [0u8; 8];
                second[4..].copy_from_slice(&r[10..14]);
                padded_part(&mut answer, len, &second, r[2], &r[14..17])
            }
        }
    };
    let dst = out.get_mut(..len).ok_or(ERR_OUT_SPACE)?;
    dst.copy_from_slice(&answer[..len]);
    Ok(len)
}

/// Writes a framed packet: `content` minus its last 4 bytes unless bit 0 of
/// `choice`, plus `(choice >> 1) & 3` bytes of `pad`; returns the new end.
fn padded_part(out: &mut [u8], at: usize, content: &[u8], choice: u8, pad: &[u8]) -> usize {
    let content = &content[..content.len() - if choice & 1 == 0 { 4 } else { 0 }];
    let pad = &pad[..usize::from(choice >> 1 & 3).min(pad.len())];
    let length = (content.len() + pad.len()) as u32;
    let at = put(out, at, &length.to_le_bytes());
    let at = put(out, at, content);
    put(out, at, pad)
}

/// Copies `bytes` to `out[at..]` (sized by the callers) and returns the end.
fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> usize {
    let end = at + bytes.len();
    if let Some(dst) = out.get_mut(at..end) {
        dst.copy_from_slice(bytes);
    }
    end
}

/// The proxy's decision on a decoded client packet (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    /// [`FORWARD`], [`PING`] or [`DROP`].
    pub action: i32,
    /// One of the `DROP_*` reasons, 0 unless dropped.
    pub reason: i32,
    /// Forwarded with auth_key_id 0 (PROXY_REQ flag 2).
    pub unencrypted: bool,
    /// For [`PING`]: the PONG payload to frame back to the client.
    pub pong: [u8; 12],
}

/// Classifies a packet as the proxy would before forwarding it.
pub fn classify_packet(packet: &[u8]) -> Verdict {
    let word = |at: usize| {
        packet
            .get(at..at + 4)
            .and_then(|w| w.first_chunk::<4>())
            .map(|w| u32::from_le_bytes(*w))
    };
    let drop = |reason| Verdict {
        action: DROP,
        reason,
        ..Verdict::default()
    };
    if packet.len() == 12 && word(0) == Some(RPC_PING) {
        let mut pong = [0u8; 12];
        pong[..4].copy_from_slice(&RPC_PONG.to_le_bytes());
        pong[4..].copy_from_slice(&packet[4..]);
        return Verdict {
            action: PING,
            pong,
            ..Verdict::default()
        };
    }
    if packet.len() < 28 {
        return drop(DROP_SHORT);
    }
    if packet.len() % 4 != 0 {
        return drop(DROP_UNALIGNED);
    }
    if packet[..8] != [0; 8] {
        if packet.len() < 56 {
            return drop(DROP_ENCRYPTED_SHORT);
        }
        return Verdict::default();
    }
    let message_length = word(16).map_or(-1, |w| i64::from(w as i32));
    if message_length < 20 || message_length > packet.len() as i64 - 20 {
        return drop(DROP_BAD_MESSAGE_LENGTH);
    }
    if !word(20).is_some_and(|f| UNENCRYPTED_FUNCTIONS.contains(&f)) {
        return drop(DROP_BAD_FUNCTION);
    }
    Verdict {
        unencrypted: true,
        ..Verdict::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(
        mode: i32,
        sender: i32,
        stream: &[u8],
    ) -> Result<Vec<(PacketInfo, Vec<u8>)>, i32> {
        let mut dec = FrameDecoder::new(mode, sender)?;
        let mut out = vec![0u8; MAX_PACKET_LEN];
        let mut got = Vec::new();
        for byte in stream.chunks(1) {
            assert_eq!(dec.feed(byte)?, 1);
            while let Some(info) = dec.next_packet(&mut out)? {
                got.push((info, out[..info.length].to_vec()));
            }
        }
        Ok(got)
    }

    #[test]
    fn abridged_headers() {
        let payload = [7u8; 8];
        let mut out = [0u8; 600];
        let n = encode_packet(FROM_CLIENT, MODE_ABRIDGED, true, &payload, &[], &mut out).unwrap();
        assert_eq!(out[..n], [[0x82u8].as_slice(), &payload].concat());
        let big = [1u8; 0x7f * 4];
        let n = encode_packet(FROM_PROXY, MODE_ABRIDGED, false, &big, &[], &mut out).unwrap();
        assert_eq!(out[..4], [0x7f, 0x7f, 0, 0]);
        let got = decode_all(MODE_ABRIDGED, FROM_PROXY, &out[..n]).unwrap();
        assert_eq!((got[0].0.length, got[0].1.len()), (0x1fc, 0x1fc));
        assert_eq!(
            decode_all(MODE_ABRIDGED, FROM_CLIENT, &[0x7f, 0x7e, 0, 0]),
            Err(ERR_OVERLONG)
        );
        assert_eq!(
            decode_all(MODE_ABRIDGED, FROM_CLIENT, &[0x80]),
            Err(ERR_ZERO_LENGTH)
        );
        assert_eq!(
            decode_all(MODE_ABRIDGED, FROM_CLIENT, &[0xff, 1, 0, 4]),
            Err(ERR_TOO_LONG)
        );
    }

    #[test]
    fn padded_cut_and_quick_ack_answers() {
        let mut stream = vec![0x0b, 0, 0, 0x80];
        stream.extend_from_slice(&[9; 11]);
        let got = decode_all(MODE_PADDED, FROM_CLIENT, &stream).unwrap();
        assert_eq!(
            (got[0].0.quick_ack, got[0].0.length, got[0].0.wire_length),
            (true, 8, 11)
        );
        let mut out = [0u8; MAX_QUICK_ACK_LEN];
        let n = encode_quick_ack(MODE_ABRIDGED, 0x8123_4567, &[], &mut out).unwrap();
        assert_eq!(out[..n], [0x81, 0x23, 0x45, 0x67]);
        let got = decode_all(MODE_ABRIDGED, FROM_PROXY, &out[..n]).unwrap();
        assert_eq!((got[0].0.quick_ack, got[0].0.confirm), (true, 0x8123_4567));
        let mut random = [0xaau8; QUICK_ACK_RANDOM_LEN];
        random[..3].copy_from_slice(&[1, 0b111, 0b000]);
        let n = encode_quick_ack(MODE_PADDED, 0x8123_4567, &random, &mut out).unwrap();
        assert_eq!(n, 4 + 12 + 3 + 4 + 4);
        assert_eq!(out[..8], [15, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(out[19..n], [4, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            encode_quick_ack(MODE_PADDED, 1, &random[..16], &mut out),
            Err(ERR_ARG)
        );
    }

    #[test]
    fn forward_filter() {
        let mut ping = 0x5730_a2dfu32.to_le_bytes().to_vec();
        ping.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let v = classify_packet(&ping);
        assert_eq!(
            (v.action, v.pong),
            (PING, [0xa7, 0xea, 0x30, 0x84, 1, 2, 3, 4, 5, 6, 7, 8])
        );
        assert_eq!(classify_packet(&[1; 24]).reason, DROP_SHORT);
        assert_eq!(classify_packet(&[1; 30]).reason, DROP_UNALIGNED);
        assert_eq!(classify_packet(&[1; 52]).reason, DROP_ENCRYPTED_SHORT);
        assert_eq!(classify_packet(&[1; 56]), Verdict::default());
        let mut plain = [0u8; 40];
        plain[16] = 20;
        plain[20..24].copy_from_slice(&0x6046_9778u32.to_le_bytes());
        assert!(classify_packet(&plain).unencrypted);
        plain[16] = 21;
        assert_eq!(classify_packet(&plain).reason, DROP_BAD_MESSAGE_LENGTH);
        plain[16] = 20;
        plain[20] = 0;
        assert_eq!(classify_packet(&plain).reason, DROP_BAD_FUNCTION);
    }

    #[test]
    fn proxy_answers_go_up_to_16_mib_in_every_mode() {
        let payload = vec![7u8; MAX_ANSWER_LEN];
        let mut out = vec![0u8; MAX_ANSWER_LEN + MAX_HEADER_LEN + 9];
        for mode in [MODE_ABRIDGED, MODE_INTERMEDIATE, MODE_PADDED] {
            let n = encode_packet(FROM_PROXY, mode, false, &payload, &[], &mut out).unwrap();
            assert_eq!(n, MAX_HEADER_LEN + MAX_ANSWER_LEN);
            let mut dec = FrameDecoder::new(mode, FROM_PROXY).unwrap();
            assert_eq!(dec.feed(&out[..n + 9]), Ok(n));
            let mut got = vec![0u8; MAX_ANSWER_LEN];
            let info = dec.next_packet(&mut got).unwrap().unwrap();
            assert_eq!(info.length, MAX_ANSWER_LEN);
            let over = vec![0u8; MAX_ANSWER_LEN + 4];
            let mut big = vec![0u8; MAX_ANSWER_LEN + 8];
            assert_eq!(
                encode_packet(FROM_PROXY, mode, false, &over, &[], &mut big),
                Err(ERR_TOO_LONG)
            );
            // A client still may not send more than 1044480 bytes.
            assert_eq!(
                encode_packet(
                    FROM_CLIENT,
                    mode,
                    false,
                    &over[..MAX_PACKET_LEN + 4],
                    &[],
                    &mut big
                ),
                Err(ERR_TOO_LONG)
            );
        }
        let mut dec = FrameDecoder::new(MODE_INTERMEDIATE, FROM_PROXY).unwrap();
        assert_eq!(
            dec.feed(&((MAX_ANSWER_LEN + 4) as u32).to_le_bytes()),
            Ok(4)
        );
        assert_eq!(dec.next_packet(&mut [0; 8]), Err(ERR_TOO_LONG));
    }

    #[test]
    fn feed_is_bounded_and_errors_stick() {
        let mut dec = FrameDecoder::new(MODE_INTERMEDIATE, FROM_CLIENT).unwrap();
        let cap = MAX_HEADER_LEN + MAX_PACKET_LEN;
        let huge = vec![0u8; cap + 10];
        let mut max = (MAX_PACKET_LEN as u32).to_le_bytes().to_vec();
        max.extend_from_slice(&huge);
        assert_eq!(dec.feed(&max), Ok(cap));
        let mut out = vec![0u8; MAX_PACKET_LEN - 1];
        assert_eq!(dec.next_packet(&mut out), Err(ERR_OUT_SPACE));
        out.push(0);
        assert_eq!(
            dec.next_packet(&mut out).unwrap().unwrap().length,
            MAX_PACKET_LEN
        );
        assert_eq!(dec.buffered(), 0);
        assert_eq!(dec.feed(&[3, 0, 0, 0]), Ok(4));
        assert_eq!(dec.next_packet(&mut out), Err(ERR_UNALIGNED));
        assert_eq!(dec.feed(&[4, 0, 0, 0]), Err(ERR_UNALIGNED));
        assert_eq!(dec.error_code(), ERR_UNALIGNED);
        assert_eq!(FrameDecoder::new(0, FROM_CLIENT).map(|_| ()), Err(ERR_ARG));
        assert_eq!(mode_from_tag(0xdddd_dddd), Ok(MODE_PADDED));
    }
}
