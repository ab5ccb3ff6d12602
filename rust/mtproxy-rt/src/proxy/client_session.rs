//! One accepted client's data stream without I/O (docs/RUNTIME.md, "Client
//! connections"): the obfuscated2 AES-CTR ciphers, the fake-TLS record
//! layer if any, and the transport framing. Bytes in, events out
//! ([`ClientSession::receive`] then [`ClientSession::poll_event`]); answers
//! in, framed and encrypted bytes out ([`ClientSession::queue_answer`],
//! [`ClientSession::queue_quick_ack`]). No socket, reactor or worker: the
//! worker (client.rs) reads the socket, routes the events and writes.

use super::buffers::OutQueue;
use super::rng::Rng;
use mtproxy_core::crypto::aesni256::{AesContext, AesMode};
use mtproxy_core::mtproto::rpc_proxy_msg as msg;
use mtproxy_core::net::ext_framing::{self as framing, FrameDecoder, FROM_CLIENT, FROM_PROXY};
use mtproxy_core::net::fake_tls::{self as tls, RecordReader};
use mtproxy_core::net::obfs2::{CtrKey, ServerHeader, HEADER_LEN};

pub(crate) fn crypt(ctx: &mut AesContext, data: &mut [u8]) {
    // CTR accepts any length, so this cannot fail.
    let _ = ctx.crypt_in_place(data);
}

pub(crate) fn ctr(key: &CtrKey) -> Option<AesContext> {
    AesContext::new(AesMode::Ctr, &key.key, &key.iv).ok()
}

/// The client's decrypting and encrypting streams from its header, the
/// decrypting one past the 64 keystream bytes the header used.
pub(crate) fn client_ciphers(h: &ServerHeader) -> Option<(AesContext, AesContext)> {
    let (mut dec, enc) = (ctr(&h.read)?, ctr(&h.write)?);
    crypt(&mut dec, &mut [0u8; HEADER_LEN]);
    Some((dec, enc))
}

/// What the client's bytes mean, one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientEvent {
    /// A whole packet, in the front `len` bytes of the caller's packet
    /// buffer.
    Packet { len: usize, quick_ack: bool },
    /// The stream broke its framing or record layer: close the client.
    /// Comes after the packets that preceded the fault.
    Invalid,
}

/// Decrypted bytes of one read not yet taken by the framing, borrowed from
/// the caller's buffers (no copy is kept in the session).
pub(crate) struct Received<'a> {
    rest: &'a [u8],
    /// `rest` still has to be fed to the framing before packets are taken.
    feed_due: bool,
    /// The record layer failed after these bytes: report it once they are
    /// taken.
    records_failed: bool,
    /// An [`ClientEvent::Invalid`] was handed out: nothing follows it.
    ended: bool,
}

/// The obfuscated stream of an accepted client.
pub(crate) struct ClientSession {
    dec: AesContext,
    enc: AesContext,
    tls: Option<RecordReader>,
    framer: FrameDecoder,
    mode: i32,
    dc: i16,
}

impl ClientSession {
    /// The ciphers and framing the header chose; `None` for an unusable
    /// header (unknown transport tag, bad key).
    pub fn new(h: &ServerHeader, tls: Option<RecordReader>) -> Option<ClientSession> {
        let mode = framing::mode_from_tag(h.tag).ok()?;
        let framer = FrameDecoder::new(mode, FROM_CLIENT).ok()?;
        let (dec, enc) = client_ciphers(h)?;
        Some(ClientSession {
            dec,
            enc,
            tls,
            framer,
            mode,
            dc: h.dc,
        })
    }

    /// The DC the client asked for.
    pub fn dc(&self) -> i16 {
        self.dc
    }

    /// The transport PROXY_REQ names for this client's framing.
    pub fn transport(&self) -> i32 {
        match self.mode {
            framing::MODE_ABRIDGED => msg::TRANSPORT_ABRIDGED,
            framing::MODE_INTERMEDIATE => msg::TRANSPORT_INTERMEDIATE,
            _ => msg::TRANSPORT_PADDED,
        }
    }

    /// Takes bytes as read from the socket: unwraps TLS records into
    /// `payload` (payload bytes never outnumber record bytes), else uses
    /// `data` itself, and decrypts in place. Take the events out with
    /// [`Self::poll_event`].
    pub fn receive<'a>(&mut self, data: &'a mut [u8], payload: &'a mut Vec<u8>) -> Received<'a> {
        let Some(reader) = self.tls.as_mut() else {
            return self.receive_ciphertext(data);
        };
        payload.resize(data.len(), 0);
        let (made, records_failed) = match reader.feed_all(data, payload) {
            Ok(made) => (made, false),
            Err((made, _)) => (made, true),
        };
        let mut received = self.receive_ciphertext(&mut payload[..made]);
        received.records_failed = records_failed;
        received
    }

    /// Takes obfuscated2 ciphertext already out of its TLS records (the
    /// bytes that came with the handshake): decrypts it in place.
    pub fn receive_ciphertext<'a>(&mut self, data: &'a mut [u8]) -> Received<'a> {
        crypt(&mut self.dec, data);
        Received {
            rest: data,
            feed_due: !data.is_empty(),
            records_failed: false,
            ended: false,
        }
    }

    /// The next event of `received`, its packet copied to the front of
    /// `packet` (room for the longest packet); `None` once all is taken.
    pub fn poll_event(
        &mut self,
        received: &mut Received<'_>,
        packet: &mut [u8],
    ) -> Option<ClientEvent> {
        if received.ended {
            return None;
        }
        loop {
            if received.feed_due {
                let Ok(took) = self.framer.feed(received.rest) else {
                    return Some(Self::invalid(received));
                };
                received.rest = &received.rest[took..];
                received.feed_due = false;
            }
            match self.framer.next_packet(packet) {
                Ok(Some(info)) => {
                    return Some(ClientEvent::Packet {
                        len: info.length,
                        quick_ack: info.quick_ack,
                    })
                }
                Ok(None) if received.rest.is_empty() => break,
                Ok(None) => received.feed_due = true,
                Err(_) => return Some(Self::invalid(received)),
            }
        }
        if received.records_failed {
            return Some(Self::invalid(received));
        }
        None
    }

    /// Ends `received`: nothing after a fault is read.
    fn invalid(received: &mut Received<'_>) -> ClientEvent {
        received.ended = true;
        ClientEvent::Invalid
    }

    /// Frames `payload` as an answer (random padding in padded mode),
    /// encrypts it in `scratch` and appends it to `out`. The framing's error
    /// for an answer no frame can carry (nothing is appended then).
    pub fn queue_answer(
        &mut self,
        payload: &[u8],
        rng: &mut Rng,
        scratch: &mut Vec<u8>,
        out: &mut OutQueue,
    ) -> Result<(), i32> {
        let mut padding = [0u8; framing::MAX_PROXY_PADDING];
        let pad_len = if self.mode == framing::MODE_PADDED {
            let [len] = rng.bytes::<1>();
            let pad_len = usize::from(len) % (framing::MAX_PROXY_PADDING + 1);
            rng.fill(&mut padding[..pad_len]);
            pad_len
        } else {
            0
        };
        let max = framing::MAX_HEADER_LEN + payload.len() + pad_len;
        self.queue_encrypted(max, scratch, out, |mode, frame| {
            framing::encode_packet(FROM_PROXY, mode, false, payload, &padding[..pad_len], frame)
        })
    }

    /// Appends the quick ack `confirm` to `out`, framed and encrypted.
    pub fn queue_quick_ack(
        &mut self,
        confirm: u32,
        rng: &mut Rng,
        scratch: &mut Vec<u8>,
        out: &mut OutQueue,
    ) {
        let mut random = [0u8; framing::QUICK_ACK_RANDOM_LEN];
        if self.mode == framing::MODE_PADDED {
            rng.fill(&mut random);
        }
        // Cannot fail: the buffer has room for the longest form.
        let _ = self.queue_encrypted(framing::MAX_QUICK_ACK_LEN, scratch, out, |mode, frame| {
            framing::encode_quick_ack(mode, confirm, &random, frame)
        });
    }

    /// Writes at most `max` bytes with `encode` (given the transport mode)
    /// into `scratch`, encrypts them in place and appends them to `out`,
    /// wrapped in TLS records if needed.
    fn queue_encrypted(
        &mut self,
        max: usize,
        scratch: &mut Vec<u8>,
        out: &mut OutQueue,
        encode: impl FnOnce(i32, &mut [u8]) -> Result<usize, i32>,
    ) -> Result<(), i32> {
        scratch.resize(max, 0);
        let n = encode(self.mode, scratch)?;
        let plain = &mut scratch[..n];
        crypt(&mut self.enc, plain);
        if self.tls.is_some() {
            out.append_with(tls::wrapped_len(n), |dst| {
                let _ = tls::wrap_records(plain, dst);
            });
        } else {
            out.push_slice(plain);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "client_session_tests.rs"]
mod tests;
