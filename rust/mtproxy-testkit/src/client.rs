//! A Telegram-client stand-in that talks to the proxy over loopback TCP
//! (docs/PROTOCOL.md §1–§3): obfuscated2 with any secret form, fake TLS for `ee`
//! secrets, and the three client transports, plus hostile behaviours for
//! negative tests. Blocking I/O with timeouts; never panics on what the peer
//! sends.
mod hostile;
mod rng;

pub use hostile::{replay_client_hello, send_garbage, send_half_header};
pub use rng::XorShift;

use crate::tls::{parse_server_flight, ServerFlight};
use mtproxy_core::crypto::aesni256::{AesContext, AesMode};
use mtproxy_core::net::{ext_framing, fake_tls, obfs2};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The client transport inside obfuscated2 (§3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Abridged,
    Intermediate,
    Padded,
}

impl Transport {
    pub(crate) fn tag(self) -> u32 {
        match self {
            Transport::Abridged => obfs2::TAG_ABRIDGED,
            Transport::Intermediate => obfs2::TAG_INTERMEDIATE,
            Transport::Padded => obfs2::TAG_PADDED,
        }
    }

    pub(crate) fn framing_mode(self) -> i32 {
        match self {
            Transport::Abridged => ext_framing::MODE_ABRIDGED,
            Transport::Intermediate => ext_framing::MODE_INTERMEDIATE,
            Transport::Padded => ext_framing::MODE_PADDED,
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Connect, write and handshake-read timeout.
    pub io_timeout: Duration,
    /// Split every write into 1-byte writes, each flushed.
    pub one_byte_writes: bool,
    /// PRNG seed; `None` seeds from /dev/urandom.
    pub seed: Option<u64>,
    /// Most random padding bytes per padded-mode packet (capped at 15). The
    /// proxy forwards whole 4-byte groups of padding (§3), so the default 3
    /// keeps forwarded packets equal to what was sent.
    pub max_padding: usize,
    /// Size of the fake-TLS ClientHello (517..=4096).
    pub client_hello_len: usize,
    /// Fake TLS: most payload bytes per record this client sends (clamped
    /// to 1..=65535; real clients send up to 16 KiB + 256).
    pub tls_record_len: usize,
    /// Fake TLS: the obfuscated2 header waits for the first packet and goes
    /// out in the same records, so the first data record is longer than 64
    /// bytes (if `tls_record_len` allows).
    pub tls_merge_header: bool,
    /// Bytes written before the handshake (a load balancer's PROXY
    /// protocol header), in the same write mode.
    pub prefix: Vec<u8>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            io_timeout: Duration::from_secs(10),
            one_byte_writes: false,
            seed: None,
            max_padding: 3,
            client_hello_len: fake_tls::MIN_CLIENT_HELLO,
            tls_record_len: fake_tls::MAX_RECORD_PAYLOAD,
            tls_merge_header: false,
            prefix: Vec::new(),
        }
    }
}

/// What [`TestClient::recv_packet`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Packet(Vec<u8>),
    /// A quick-ack answer carrying this confirm value.
    QuickAck(u32),
}

#[derive(Debug)]
pub enum ClientError {
    Io(io::Error),
    /// The secret text is in none of the accepted forms.
    BadSecret,
    /// An `ext_framing` error code (bad packet to send or bad data received).
    Framing(i32),
    /// A `fake_tls` error code (bad ServerHello or record stream).
    Tls(i32),
    Crypto,
    /// Nothing complete arrived before the deadline.
    Timeout,
    /// The peer closed the connection.
    Closed,
}

impl From<io::Error> for ClientError {
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::Timeout,
            _ => ClientError::Io(error),
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for ClientError {}

pub type Result<T> = std::result::Result<T, ClientError>;

/// A connected, handshaken client.
pub struct TestClient {
    stream: TcpStream,
    mode: i32,
    encrypt: AesContext,
    decrypt: AesContext,
    /// The record reader, in fake-TLS mode.
    records: Option<fake_tls::RecordReader>,
    decoder: ext_framing::FrameDecoder,
    /// Decrypted bytes the decoder has not taken yet.
    plain: Vec<u8>,
    packet: Vec<u8>,
    rng: XorShift,
    options: ClientOptions,
    client_hello: Option<Vec<u8>>,
    /// The ServerHello flight as received (fake-TLS mode).
    server_hello: Option<Vec<u8>>,
    /// What the core parser made of it (fake-TLS mode).
    server_hello_info: Option<fake_tls::ServerHelloInfo>,
    /// A padded-mode two-packet quick-ack answer's filler packet is next.
    expect_ack_filler: bool,
    /// Fake TLS: the header not sent yet (`tls_merge_header`).
    pending_header: Vec<u8>,
    /// Fake TLS: the payload length of every record received after the
    /// ServerHello flight.
    record_lens: RecordLens,
}

impl TestClient {
    /// Connects and sends the handshake: the obfuscated2 header for plain and
    /// `dd` secrets; for `ee` secrets the fake-TLS exchange (the ServerHello
    /// is verified before this returns), after which the transport is always
    /// padded intermediate.
    pub fn connect(
        addr: SocketAddr,
        secret: &str,
        transport: Transport,
        dc: i16,
        options: ClientOptions,
    ) -> Result<TestClient> {
        let secret = obfs2::parse_secret(secret.as_bytes()).map_err(|_| ClientError::BadSecret)?;
        let mut rng = options
            .seed
            .map_or_else(XorShift::from_entropy, XorShift::new);
        let stream = TcpStream::connect_timeout(&addr, options.io_timeout)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(options.io_timeout))?;
        let fake_tls = secret.kind == obfs2::SECRET_FAKE_TLS;
        let transport = if fake_tls {
            Transport::Padded
        } else {
            transport
        };
        let header = build_header(&mut rng, Some(&secret.key), transport.tag(), dc)?;
        let mut client = TestClient {
            stream,
            mode: transport.framing_mode(),
            encrypt: ctr_context(&header.encrypt)?,
            decrypt: ctr_context(&header.decrypt)?,
            records: None,
            decoder: ext_framing::FrameDecoder::new(
                transport.framing_mode(),
                ext_framing::FROM_PROXY,
            )
            .map_err(ClientError::Framing)?,
            plain: Vec::new(),
            // Room for the longest answer (calloc: pages untouched until used).
            packet: vec![0; ext_framing::MAX_ANSWER_LEN],
            rng,
            options,
            client_hello: None,
            server_hello: None,
            server_hello_info: None,
            expect_ack_filler: false,
            pending_header: Vec::new(),
            record_lens: RecordLens::default(),
        };
        let prefix = std::mem::take(&mut client.options.prefix);
        client.write_raw(&prefix)?;
        // The header was encrypted with the first 64 keystream bytes.
        client
            .encrypt
            .crypt_in_place(&mut [0; obfs2::HEADER_LEN])
            .map_err(|_| ClientError::Crypto)?;
        if fake_tls {
            let domain = secret.domain.get(..secret.domain_len).unwrap_or_default();
            client.fake_tls_handshake(&secret.key, domain, &header.header)?;
        } else {
            client.write_raw(&header.header)?;
        }
        Ok(client)
    }

    /// Sends the ClientHello, checks the ServerHello, then sends the CCS and
    /// the first data record with the obfuscated2 header.
    fn fake_tls_handshake(&mut self, key: &[u8; 16], domain: &[u8], header: &[u8]) -> Result<()> {
        let mut hello = vec![0u8; self.options.client_hello_len];
        let mut random = [0u8; 64];
        self.rng.fill(&mut random);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let len =
            fake_tls::build_client_hello(key, domain, now as u32, &random, hello.len(), &mut hello)
                .map_err(ClientError::Tls)?;
        hello.truncate(len);
        self.write_raw(&hello)?;
        let mut client_random = [0u8; 32];
        let mut session_id = [0u8; 32];
        let field = |at: usize| {
            hello
                .get(at..at + 32)
                .ok_or(ClientError::Tls(fake_tls::ERR_ARG))
        };
        client_random.copy_from_slice(field(fake_tls::RANDOM_OFFSET)?);
        session_id.copy_from_slice(field(fake_tls::SESSION_ID_OFFSET)?);
        self.client_hello = Some(hello);

        let deadline = deadline_after(self.options.io_timeout);
        let mut flight = Vec::new();
        let info = loop {
            match fake_tls::parse_server_hello(&flight, &client_random, &session_id, key) {
                Ok(info) => break info,
                Err(fake_tls::ERR_NEED_MORE) => self.read_some(&mut flight, deadline)?,
                Err(code) => return Err(ClientError::Tls(code)),
            }
        };
        let mut records = fake_tls::RecordReader::new(false);
        let rest = flight.get(info.total_len..).unwrap_or_default();
        self.server_hello = flight.get(..info.total_len).map(<[u8]>::to_vec);
        self.server_hello_info = Some(info);
        self.record_lens.feed(rest);
        self.take_records(&mut records, rest)?;
        self.records = Some(records);

        let mut first = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
        if self.options.tls_merge_header {
            self.pending_header = header.to_vec();
        } else {
            self.wrap(header, &mut first);
        }
        self.write_raw(&first)
    }

    /// Appends `payload` as `17 03 03` records of at most `tls_record_len`
    /// bytes.
    fn wrap(&self, payload: &[u8], out: &mut Vec<u8>) {
        let per_record = self.options.tls_record_len.clamp(1, usize::from(u16::MAX));
        for chunk in payload.chunks(per_record) {
            let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&[0x17, 0x03, 0x03]);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(chunk);
        }
    }

    /// Fake TLS: the payload length of each record the proxy sent after
    /// its ServerHello flight, in order (a trailing partial record counts
    /// once its header is complete).
    pub fn records_received(&self) -> &[usize] {
        &self.record_lens.lens
    }

    /// The ClientHello this client sent (fake-TLS mode), for replay tests.
    pub fn client_hello(&self) -> Option<&[u8]> {
        self.client_hello.as_deref()
    }

    /// The proxy's fake-TLS answer as received (fake-TLS mode): the
    /// ServerHello record, the CCS and the one application-data record
    /// (docs/PROTOCOL.md §2.3), `138 + N` bytes, without anything after them.
    pub fn server_hello(&self) -> Option<&[u8]> {
        self.server_hello.as_deref()
    }

    /// The ServerHello taken apart (fake-TLS mode): `key_share` (the 32-byte
    /// X25519 key, also as [`ServerFlight::x25519_key`]), `extensions_order`
    /// and `app_data_record_lens` (`[N]`). The bytes already passed the core
    /// parser's checks (layout and HMAC) when `connect` returned.
    pub fn server_flight(&self) -> Option<ServerFlight> {
        parse_server_flight(self.server_hello.as_deref()?).ok()
    }

    /// What `mtproxy_core`'s fake-TLS parser reported for the ServerHello
    /// (extension order flag, N, total length), fake-TLS mode.
    pub fn server_hello_info(&self) -> Option<&fake_tls::ServerHelloInfo> {
        self.server_hello_info.as_ref()
    }

    /// The socket, e.g. to keep a slow reader's connection open.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Stops all protocol processing and hands over the socket (a slow
    /// reader: hold it without reading).
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }

    /// Frames, encrypts (and in fake-TLS mode wraps) one packet. Abridged and
    /// intermediate payloads must be a multiple of 4 bytes.
    pub fn send_packet(&mut self, payload: &[u8], quick_ack: bool) -> Result<()> {
        let mut padding = [0u8; ext_framing::MAX_CLIENT_PADDING];
        let padding_len = if self.mode == ext_framing::MODE_PADDED {
            let room = ext_framing::MAX_PACKET_LEN.saturating_sub(payload.len());
            let max = self.options.max_padding.min(padding.len()).min(room);
            self.rng.below_or_eq(max)
        } else {
            0
        };
        self.rng.fill(&mut padding);
        let padding = padding.get(..padding_len).unwrap_or_default();
        let mut frame = vec![0u8; ext_framing::MAX_HEADER_LEN + payload.len() + padding.len()];
        let len = ext_framing::encode_packet(
            ext_framing::FROM_CLIENT,
            self.mode,
            quick_ack,
            payload,
            padding,
            &mut frame,
        )
        .map_err(ClientError::Framing)?;
        frame.truncate(len);
        self.send_stream_bytes(&mut frame)
    }

    /// Hostile mode: sends `plain` as obfuscated2 stream bytes (encrypted,
    /// and wrapped in records in fake-TLS mode) without framing, e.g. a
    /// length header the transport forbids.
    pub fn send_unframed(&mut self, plain: &[u8]) -> Result<()> {
        let mut data = plain.to_vec();
        self.send_stream_bytes(&mut data)
    }

    /// Encrypts bytes of the obfuscated2 stream and sends them.
    fn send_stream_bytes(&mut self, data: &mut [u8]) -> Result<()> {
        self.encrypt
            .crypt_in_place(data)
            .map_err(|_| ClientError::Crypto)?;
        if self.records.is_none() {
            return self.write_raw(data);
        }
        let mut stream = std::mem::take(&mut self.pending_header);
        stream.extend_from_slice(data);
        let mut wrapped = Vec::with_capacity(fake_tls::wrapped_len(stream.len()));
        self.wrap(&stream, &mut wrapped);
        self.write_raw(&wrapped)
    }

    /// Writes bytes as they are, honouring the 1-byte-write option.
    pub fn write_raw(&mut self, data: &[u8]) -> Result<()> {
        if self.options.one_byte_writes {
            for byte in data {
                self.stream.write_all(std::slice::from_ref(byte))?;
                self.stream.flush()?;
            }
        } else {
            self.stream.write_all(data)?;
        }
        Ok(())
    }

    /// The next packet or quick-ack answer, waiting at most `timeout`. A
    /// padded-mode two-packet quick-ack answer is returned as one
    /// [`Received::QuickAck`] (its filler packet is dropped).
    pub fn recv_packet(&mut self, timeout: Duration) -> Result<Received> {
        let deadline = deadline_after(timeout);
        loop {
            if let Some(received) = self.next_decoded()? {
                return Ok(received);
            }
            if !self.plain.is_empty() {
                let taken = self
                    .decoder
                    .feed(&self.plain)
                    .map_err(ClientError::Framing)?;
                self.plain.drain(..taken);
                continue;
            }
            let mut raw = Vec::new();
            self.read_some(&mut raw, deadline)?;
            match self.records.take() {
                Some(mut records) => {
                    self.record_lens.feed(&raw);
                    let result = self.take_records(&mut records, &raw);
                    self.records = Some(records);
                    result?;
                }
                None => self.take_stream_bytes(&mut raw)?,
            }
        }
    }

    /// One decoded item, if the decoder holds a whole one.
    fn next_decoded(&mut self) -> Result<Option<Received>> {
        loop {
            let Some(info) = self
                .decoder
                .next_packet(&mut self.packet)
                .map_err(ClientError::Framing)?
            else {
                return Ok(None);
            };
            if info.quick_ack {
                return Ok(Some(Received::QuickAck(info.confirm)));
            }
            let packet = self.packet.get(..info.length).unwrap_or_default();
            let filler = self.expect_ack_filler;
            self.expect_ack_filler = false;
            if self.mode == ext_framing::MODE_PADDED {
                // §3.2: `ffffffff ‖ confirm ‖ …`, then `00000000 ‖ …` filler.
                if let Some(&[0xff, 0xff, 0xff, 0xff, c0, c1, c2, c3]) = packet.first_chunk::<8>() {
                    self.expect_ack_filler = true;
                    return Ok(Some(Received::QuickAck(u32::from_le_bytes([
                        c0, c1, c2, c3,
                    ]))));
                }
                if filler && info.wire_length < 12 && packet.starts_with(&[0; 4]) {
                    continue;
                }
            }
            return Ok(Some(Received::Packet(packet.to_vec())));
        }
    }

    /// Unwraps record bytes and queues their decrypted payload.
    fn take_records(
        &mut self,
        records: &mut fake_tls::RecordReader,
        mut input: &[u8],
    ) -> Result<()> {
        let mut payload = vec![0u8; input.len()];
        while !input.is_empty() {
            let (consumed, produced) = records
                .feed(input, &mut payload)
                .map_err(ClientError::Tls)?;
            let mut chunk = payload.get(..produced).unwrap_or_default().to_vec();
            self.take_stream_bytes(&mut chunk)?;
            input = input.get(consumed..).unwrap_or_default();
        }
        Ok(())
    }

    fn take_stream_bytes(&mut self, data: &mut [u8]) -> Result<()> {
        self.decrypt
            .crypt_in_place(data)
            .map_err(|_| ClientError::Crypto)?;
        self.plain.extend_from_slice(data);
        Ok(())
    }

    /// Appends what one read returns before `deadline`.
    fn read_some(&mut self, into: &mut Vec<u8>, deadline: Instant) -> Result<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ClientError::Timeout);
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut buf = [0u8; 64 * 1024];
        let n = self.stream.read(&mut buf)?;
        if n == 0 {
            return Err(ClientError::Closed);
        }
        into.extend_from_slice(buf.get(..n).unwrap_or_default());
        Ok(())
    }
}

/// Record boundaries in a received record stream (the core's reader hides
/// them): 5-byte headers, each followed by its payload.
#[derive(Default)]
struct RecordLens {
    header: Vec<u8>,
    /// Payload bytes of the current record still to come.
    left: usize,
    lens: Vec<usize>,
}

impl RecordLens {
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.left > 0 {
                let n = self.left.min(data.len());
                self.left -= n;
                data = data.get(n..).unwrap_or_default();
                continue;
            }
            let need = fake_tls::RECORD_HEADER_LEN - self.header.len();
            let n = need.min(data.len());
            self.header
                .extend_from_slice(data.get(..n).unwrap_or_default());
            data = data.get(n..).unwrap_or_default();
            if let [_, _, _, high, low] = self.header[..] {
                self.left = usize::from(u16::from_be_bytes([high, low]));
                self.lens.push(self.left);
                self.header.clear();
            }
        }
    }
}

/// An obfuscated2 header, drawing new random bytes while they are forbidden.
pub(crate) fn build_header(
    rng: &mut XorShift,
    key: Option<&[u8; obfs2::SECRET_LEN]>,
    tag: u32,
    dc: i16,
) -> Result<obfs2::ClientHeader> {
    loop {
        let mut random = [0u8; obfs2::HEADER_LEN];
        rng.fill(&mut random);
        match obfs2::build_client_header(&random, key, tag, dc) {
            Err(obfs2::ERR_FORBIDDEN) => continue,
            Err(_) => return Err(ClientError::BadSecret),
            Ok(header) => return Ok(header),
        }
    }
}

/// `timeout` from now; a timeout too long for the clock means a year.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

pub(crate) fn ctr_context(key: &obfs2::CtrKey) -> Result<AesContext> {
    AesContext::new(AesMode::Ctr, &key.key, &key.iv).map_err(|_| ClientError::Crypto)
}
