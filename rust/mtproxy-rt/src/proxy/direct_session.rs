//! Direct mode's streams without I/O (Rust-only; docs/RUNTIME.md, "Direct
//! mode"): the client's two AES-CTR streams and the DC's two, and the
//! fake-TLS record layer on the client's side. Bytes of one side in, bytes
//! for the other out; the worker (direct.rs, relay.rs) connects and moves
//! them.

use super::buffers::OutQueue;
use super::client_session::{client_ciphers, crypt, ctr};
use crate::rust_only::DcCounters;
use mtproxy_core::crypto::aesni256::AesContext;
use mtproxy_core::net::fake_tls::{self as tls, RecordReader};
use mtproxy_core::net::obfs2::{ClientHeader, ServerHeader, HEADER_LEN};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The two AES-CTR streams of each side of a direct relay.
pub(crate) struct DirectCrypto {
    /// Client → proxy, and proxy → client.
    client_dec: AesContext,
    client_enc: AesContext,
    /// Record framing of a fake-TLS client.
    tls: Option<RecordReader>,
    /// Proxy → DC, and DC → proxy.
    dc_enc: AesContext,
    dc_dec: AesContext,
    pub counters: Arc<DcCounters>,
    /// The DC's addresses not tried yet, the next one last.
    pub untried: Vec<SocketAddr>,
}

impl DirectCrypto {
    /// The client's streams from its header `h` and the DC's from the
    /// header the proxy sends (`dc`); both headers' 64 keystream bytes are
    /// used up; the DC's addresses are set once the first connect is
    /// under way. `None` for an unusable key.
    pub fn new(
        h: &ServerHeader,
        tls: Option<RecordReader>,
        dc: &ClientHeader,
        counters: Arc<DcCounters>,
    ) -> Option<DirectCrypto> {
        let (client_dec, client_enc) = client_ciphers(h)?;
        let (mut dc_enc, dc_dec) = (ctr(&dc.encrypt)?, ctr(&dc.decrypt)?);
        crypt(&mut dc_enc, &mut [0u8; HEADER_LEN]);
        Some(DirectCrypto {
            client_dec,
            client_enc,
            tls,
            dc_enc,
            dc_dec,
            counters,
            untried: Vec::new(),
        })
    }

    /// Client ciphertext (TLS records for a fake-TLS client) → bytes for
    /// the DC, appended to `out` (plain obfuscated2 is decrypted in place;
    /// record payloads are gathered in the worker's `scratch`, grown once
    /// to the largest read). `Err` on a broken record.
    pub fn client_to_dc(
        &mut self,
        data: &mut [u8],
        scratch: &mut Vec<u8>,
        out: &mut OutQueue,
    ) -> Result<(), ()> {
        let Some(reader) = self.tls.as_mut() else {
            self.client_plain_to_dc(data, out);
            return Ok(());
        };
        if scratch.len() < data.len() {
            scratch.resize(data.len(), 0);
        }
        let payload = &mut scratch[..data.len()];
        let made = reader.feed_all(data, payload).map_err(|_| ())?;
        self.client_plain_to_dc(&mut payload[..made], out);
        Ok(())
    }

    /// obfuscated2 ciphertext of the client (no records) → the DC.
    pub fn client_plain_to_dc(&mut self, data: &mut [u8], out: &mut OutQueue) {
        crypt(&mut self.client_dec, data);
        crypt(&mut self.dc_enc, data);
        self.counters
            .bytes_to_dc
            .fetch_add(data.len() as i64, Ordering::Relaxed);
        out.push_slice(data);
    }

    /// DC ciphertext → bytes for the client (in records for fake TLS),
    /// appended to `out`.
    pub fn dc_to_client(&mut self, data: &mut [u8], out: &mut OutQueue) {
        crypt(&mut self.dc_dec, data);
        crypt(&mut self.client_enc, data);
        self.counters
            .bytes_from_dc
            .fetch_add(data.len() as i64, Ordering::Relaxed);
        if self.tls.is_some() {
            let plain: &[u8] = data;
            out.append_with(tls::wrapped_len(plain.len()), |dst| {
                let _ = tls::wrap_records(plain, dst);
            });
        } else {
            out.push_slice(data);
        }
    }
}
