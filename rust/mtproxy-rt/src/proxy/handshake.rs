//! The client handshakes (docs/RUNTIME.md, "Client connections"): the
//! 64-byte obfuscated2 header, or the fake-TLS ClientHello (checked against
//! the shared replay cache), the ServerHello and the inner header carried
//! in the first application-data records. Rejected fake-TLS clients go to
//! the relay (relay.rs).

use super::connections::{Phase, UserConn};
use super::worker::Worker;
use crate::shared_state::Digest;
use crate::users::Table;
use mtproxy_core::net::fake_tls::{self as tls, RecordReader};
use mtproxy_core::net::header_replay;
use mtproxy_core::net::obfs2::{self, HEADER_LEN};
use std::ops::Range;
use std::time::Instant;

/// The longest first record a fake-TLS client may send (RUNTIME.md).
const MAX_HELLO: usize = 16384 + 5;

impl Worker<'_> {
    pub(crate) fn check_obfs2_header(&mut self, slot: usize) {
        let secrets = self.proxy.secrets();
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        if c.raw.len() < HEADER_LEN {
            return;
        }
        let raw = std::mem::take(&mut c.raw);
        if !self.may_try(&secrets) {
            return self.close_client(slot, false);
        }
        let hint = self.recent_secret(slot, &secrets);
        let scope = self.search_scope(&secrets, hint);
        let started = Instant::now();
        let parsed = parse_header(&raw, &secrets, hint, scope, false);
        self.search_budget.charge(started);
        match parsed {
            Ok(_) if self.replayed(&raw[..HEADER_LEN]) => self.close_client(slot, false),
            Ok(header) if self.admit_user(slot, &secrets, header.secret_index, raw.len()) => {
                self.start_stream(slot, &header, None, &raw[HEADER_LEN..])
            }
            _ => self.close_client(slot, false),
        }
    }

    pub(crate) fn check_hello(&mut self, slot: usize) {
        let Some(c) = self.clients.get(slot) else {
            return;
        };
        let len = match tls::detect_client_hello(&c.raw) {
            Err(tls::ERR_NEED_MORE) => return,
            Ok(len) if len <= MAX_HELLO => len,
            _ => return self.start_relay(slot),
        };
        if c.raw.len() < len {
            return;
        }
        let secrets = self.proxy.secrets();
        let hint = self.recent_secret(slot, &secrets);
        let scope = self.search_scope(&secrets, hint);
        let started = Instant::now();
        let Some(c) = self.clients.get(slot) else {
            return;
        };
        let settings = &self.proxy.settings;
        let domains: Vec<&[u8]> = settings.domains.iter().map(|d| d.name.as_slice()).collect();
        // §2.2 check 2: a hello on local port 80 is relayed, never served.
        // Claiming one byte more than the record stops the check right after
        // the SNI (check 1), before the replay cache sees the hello.
        let on_http_port = c
            .stream
            .local_addr()
            .is_ok_and(|a| a.port() == super::relay::HTTP_PORT);
        let buffered = if on_http_port { len + 1 } else { c.raw.len() };
        let verdict = {
            let mut cache = self
                .proxy
                .replay
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = super::unix_now();
            let keys = secrets.hello_keys.get(scope.clone()).unwrap_or_default();
            let first_try = hint.and_then(|h| h.checked_sub(scope.start));
            let mut checked = tls::check_client_hello_keyed(
                &c.raw[..len],
                buffered,
                keys,
                first_try,
                &domains,
                &mut cache,
                now,
            );
            if let Ok(check) = &mut checked {
                if check.secret_index >= 0 {
                    check.secret_index += i32::try_from(scope.start).unwrap_or(0);
                }
            }
            checked
        };
        self.search_budget.charge(started);
        if let (Ok(check), Some(shared)) = (&verdict, &self.proxy.shared) {
            // Accepted hellos only: the fleet needs no digests of garbage.
            if check.verdict == tls::VERDICT_ACCEPT {
                let mut key = [0u8; 16];
                key.copy_from_slice(&check.client_random[..16]);
                shared.publish(Digest::TlsRandom(key));
            }
        }
        match verdict {
            Ok(check) if check.verdict == tls::VERDICT_ACCEPT && !on_http_port => {
                match secrets.secret(check.secret_index) {
                    Some(secret) => {
                        let index = usize::try_from(check.secret_index).ok();
                        self.remember_secret(slot, &secrets, check.secret_index);
                        self.send_server_hello(slot, &check, &secret, index)
                    }
                    None => self.start_relay(slot),
                }
            }
            // A hello naming one of our domains that fails a later check goes
            // to that domain (§2.6).
            Ok(check) if check.verdict == tls::VERDICT_RELAY_SNI => {
                self.start_relay_to(slot, usize::try_from(check.domain_index).ok())
            }
            _ => self.start_relay(slot),
        }
    }

    fn send_server_hello(
        &mut self,
        slot: usize,
        check: &tls::HelloCheck,
        secret: &[u8; 16],
        index: Option<usize>,
    ) {
        let profile = usize::try_from(check.domain_index)
            .map(|i| self.proxy.tls_profile(i))
            .unwrap_or_default();
        let app_data_len = tls::profile_app_data_len(&profile, self.rng.u32());
        let mut random = vec![0u8; 32 + app_data_len];
        self.rng.fill(&mut random);
        let mut flight = vec![0u8; tls::SERVER_HELLO_FIXED_LEN + app_data_len];
        let built = tls::build_server_hello(
            &check.client_random,
            &check.session_id,
            check.cipher_suite,
            secret,
            app_data_len,
            profile.extensions_swapped == 1,
            &random,
            &mut flight,
        );
        let Ok(n) = built else {
            return self.start_relay(slot);
        };
        flight.truncate(n);
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        c.out.push_vec(flight);
        c.phase = Phase::TlsInner {
            reader: RecordReader::new(true),
            inner: Vec::new(),
            secret: index,
        };
        self.account(0, n);
        self.follow_ups.dirty_clients.push(slot);
    }

    pub(crate) fn tls_inner_bytes(&mut self, slot: usize, data: &[u8]) {
        let secrets = self.proxy.secrets();
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        let Phase::TlsInner {
            reader,
            inner,
            secret: hint,
        } = &mut c.phase
        else {
            return;
        };
        let start = inner.len();
        inner.resize(start + data.len(), 0);
        match reader.feed_all(data, &mut inner[start..]) {
            Ok(made) => inner.truncate(start + made),
            Err(_) => return self.close_client(slot, false),
        }
        if inner.len() < HEADER_LEN {
            return;
        }
        let inner = std::mem::take(inner);
        let hint = *hint;
        let Phase::TlsInner { reader, .. } = std::mem::replace(&mut c.phase, Phase::Hello) else {
            return;
        };
        if !self.may_try(&secrets) {
            return self.start_relay(slot);
        }
        // Everything the client sent so far (hello and records).
        let received = self.clients.get(slot).map_or(0, |c| c.raw.len());
        let scope = 0..secrets.owners.len();
        match parse_header(&inner, &secrets, hint, scope, true) {
            Ok(_) if self.replayed(&inner[..HEADER_LEN]) => self.start_relay(slot),
            Ok(header) if self.admit_user(slot, &secrets, header.secret_index, received) => {
                if let Some(c) = self.clients.get_mut(slot) {
                    c.raw = Vec::new();
                }
                self.start_stream(slot, &header, Some(reader), &inner[HEADER_LEN..]);
            }
            _ => self.start_relay(slot),
        }
    }

    /// With users, the secret this client's address matched last: tried
    /// first, so a returning client costs one trial, not one per user.
    fn recent_secret(&self, slot: usize, secrets: &Table) -> Option<usize> {
        let registry = self.proxy.users.as_ref()?;
        let ip = self.clients.get(slot)?.peer.ip();
        registry.recent(ip, secrets)
    }

    /// The keys a handshake may try: all of them, or, with users once full
    /// searches used up their time, only the address's last one.
    fn search_scope(&mut self, secrets: &Table, hint: Option<usize>) -> Range<usize> {
        let all = 0..secrets.owners.len();
        if self.proxy.users.is_none() || self.search_budget.available() {
            return all;
        }
        super::Counters::add(&self.proxy.rust_stats.secret_searches_skipped, 1);
        match hint {
            Some(h) if all.contains(&h) => h..h + 1,
            _ => 0..0,
        }
    }

    /// With users, remembers the secret this client's address matched.
    fn remember_secret(&self, slot: usize, secrets: &Table, index: i32) {
        if let (Some(registry), Some(c)) = (&self.proxy.users, self.clients.get(slot)) {
            registry.remember(c.peer.ip(), secrets, index);
        }
    }

    /// Whether a header may be tried at all: with a users file, no secret
    /// (every user removed, no `-S`) means no client is let in; only
    /// without one does an empty list mean upstream's secretless mode.
    fn may_try(&self, secrets: &Table) -> bool {
        self.proxy.users.is_none() || !secrets.keys.is_empty()
    }

    /// A header matched key `index`: when that is a user's, asks the
    /// registry to admit the connection (refused like a wrong secret, so a
    /// limit tells a prober nothing) and remembers the user on the client.
    /// `received`: the bytes the client sent before, which its user pays
    /// for too.
    fn admit_user(&mut self, slot: usize, secrets: &Table, index: i32, received: usize) -> bool {
        let Some(registry) = &self.proxy.users else {
            return true;
        };
        let Some(c) = self.clients.get_mut(slot) else {
            return false;
        };
        let ip = c.peer.ip();
        registry.remember(ip, secrets, index);
        let Some(user) = secrets.owner(index) else {
            return true;
        };
        if registry.admit(&user.name, ip, super::unix_now()).is_err() {
            return false;
        }
        let mut conn = UserConn::new(user, ip);
        conn.up = received as u64;
        c.user = Some(Box::new(conn));
        true
    }

    /// Rust-only replay protection (`rust_only.obfs2_replay`): whether this
    /// valid header was accepted before; a replay is treated like a header
    /// that matches no secret.
    fn replayed(&self, header: &[u8]) -> bool {
        if !self.proxy.settings.rust_only.obfs2_replay {
            return false;
        }
        let digest = header_replay::digest(header);
        let fresh = self
            .proxy
            .header_replay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert_digest(digest);
        if !fresh {
            super::Counters::add(&self.proxy.rust_stats.obfs2_replays, 1);
        } else if let Some(shared) = &self.proxy.shared {
            shared.publish(Digest::Obfs2Header(digest));
        }
        !fresh
    }

    pub fn client_handshake_timeout(&mut self, slot: usize) {
        let Some(c) = self.clients.get_mut(slot) else {
            return;
        };
        c.handshake_timer = None;
        if matches!(c.phase, Phase::ProxyHeader) {
            // The balancer's header did not arrive in time.
            return self.proxy_header_failed(slot);
        }
        if let Phase::Relay(r) = &c.phase {
            // Direct mode: the connect to the DC took too long.
            if r.direct.is_some() && !r.connected {
                self.direct_connect_failed(slot);
            }
            return;
        }
        if matches!(c.phase, Phase::Hello | Phase::TlsInner { .. }) {
            if self.tls_mode() {
                self.start_relay(slot);
            } else {
                self.close_client(slot, false);
            }
        }
    }
}

/// The obfuscated2 header against the secrets of `secrets` in `scope`,
/// `hint` first (the outcome does not depend on it, only the number of
/// trials). An empty scope of a non-empty table matches nothing (never
/// upstream's secret-less mode, which only an empty `-S` list means).
fn parse_header(
    raw: &[u8],
    secrets: &Table,
    hint: Option<usize>,
    scope: Range<usize>,
    padded_only: bool,
) -> Result<obfs2::ServerHeader, i32> {
    let key_of = |i: usize| secrets.keys.get(i * 16..i * 16 + 16);
    let hinted = hint.filter(|h| scope.contains(h));
    if let Some((key, index)) = hinted.and_then(|i| Some((key_of(i)?, i32::try_from(i).ok()?))) {
        if let Ok(mut header) = obfs2::parse_header(raw, key, padded_only) {
            header.secret_index = index;
            return Ok(header);
        }
    }
    let whole = scope.start == 0 && scope.end == secrets.owners.len();
    if scope.is_empty() && !whole || hinted.is_some() && scope.len() == 1 {
        return Err(obfs2::ERR_NO_MATCH);
    }
    let keys = secrets
        .keys
        .get(scope.start * 16..scope.end * 16)
        .unwrap_or_default();
    let mut header = obfs2::parse_header(raw, keys, padded_only)?;
    if header.secret_index >= 0 {
        header.secret_index += i32::try_from(scope.start).map_err(|_| obfs2::ERR_NO_MATCH)?;
    }
    Ok(header)
}
