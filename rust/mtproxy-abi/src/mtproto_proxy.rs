//! Plain data of the mtproto-proxy contract (see the shim in mtproxy-ffi
//! for the functions and the opaque proxy handle): error codes, runtime
//! policy, and the domain and settings records, with their conversions to
//! the core types (the Rust-only options of `ProxySettings` are not part
//! of the contract).
use mtproxy_core::runtime::{policy, Domain, ProxySettings};

/// Longest fronting domain name.
pub const MTP_PROXY_MAX_DOMAIN_LEN: usize = 253;
/// A bad argument (null pointer, secret count, domain).
pub const MTP_PROXY_ERR_ARG: i32 = -1;
/// The proxy-multi.conf text or the proxy secret was rejected; the error
/// buffer says why.
pub const MTP_PROXY_ERR_CONFIG: i32 = -2;
/// A system call failed (reactor, sockets).
pub const MTP_PROXY_ERR_SYS: i32 = -3;

/// Runtime policy, the same on both sides (docs/RUNTIME.md): output-queue
/// soft cap in bytes; client handshake / pending / flood / drain deadline;
/// middle-end reconnect backoff (first, max) and readiness deadline; fake-TLS
/// replay-cache entries; most secrets.
pub const MTP_PROXY_QUEUE_SOFT_CAP: u32 = policy::QUEUE_SOFT_CAP as u32;
pub const MTP_PROXY_CLIENT_DEADLINE_MS: u32 = policy::CLIENT_DEADLINE_MS as u32;
pub const MTP_PROXY_ME_BACKOFF_FIRST_MS: u32 = policy::ME_BACKOFF_FIRST_MS as u32;
pub const MTP_PROXY_ME_BACKOFF_MAX_MS: u32 = policy::ME_BACKOFF_MAX_MS as u32;
pub const MTP_PROXY_ME_READY_DEADLINE_MS: u32 = policy::ME_READY_DEADLINE_MS as u32;
pub const MTP_PROXY_REPLAY_CACHE_ENTRIES: u32 = policy::REPLAY_CACHE_ENTRIES as u32;
pub const MTP_PROXY_MAX_SECRETS: u32 = policy::MAX_SECRETS as u32;

/// A fake-TLS domain (`-D`): the name clients must send as SNI and the
/// address unauthenticated connections are relayed to.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mtp_proxy_domain {
    /// The name, `name_len` bytes, no NUL.
    pub name: [u8; MTP_PROXY_MAX_DOMAIN_LEN],
    pub name_len: usize,
    /// Relay target: IPv4 address in host byte order, and port.
    pub relay_ipv4: u32,
    pub relay_port: u16,
}

/// Everything `mtp_proxy_new` needs; the proxy copies what it keeps.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct mtp_proxy_settings {
    /// Client secrets (`-S`): `n_secrets` packed 16-byte keys.
    pub secrets: *const u8,
    pub n_secrets: usize,
    /// Fake-TLS domains (`-D`); with any, only fake-TLS clients are served
    /// and the rest is relayed to the first domain's address.
    pub domains: *const mtp_proxy_domain,
    pub n_domains: usize,
    /// The 16-byte ad tag (`-P`), or NULL.
    pub ad_tag: *const u8,
    /// The proxy-secret file's bytes (`--aes-pwd`).
    pub proxy_secret: *const u8,
    pub proxy_secret_len: usize,
    /// The proxy-multi.conf text.
    pub config: *const u8,
    pub config_len: usize,
    /// `--nat-info` rules: `n_nat_info` pairs (local, global) of IPv4
    /// addresses in host byte order.
    pub nat_info: *const u32,
    pub n_nat_info: usize,
    /// Number of worker threads that will call `mtp_proxy_worker_run`.
    pub workers: u32,
    /// Client connections per worker (`-C`); 0 = no limit.
    pub max_client_connections: u32,
    /// TCP_WINDOW_CLAMP for client sockets (`-W`); 0 = leave as is.
    pub window_clamp: u32,
    /// Bytes of queued data the whole process may hold
    /// (`--msg-buffers-size`); reading pauses above it.
    pub buffer_limit: u64,
    /// 0: randomness from the OS. Otherwise a test seed that makes every
    /// random byte deterministic (see ARCHITECTURE.md).
    pub seed: u64,
}

/// An empty name, no relay address.
impl Default for mtp_proxy_domain {
    fn default() -> Self {
        mtp_proxy_domain {
            name: [0; MTP_PROXY_MAX_DOMAIN_LEN],
            name_len: 0,
            relay_ipv4: 0,
            relay_port: 0,
        }
    }
}

/// `Err` for a name that is empty or longer than `MTP_PROXY_MAX_DOMAIN_LEN`.
impl TryFrom<&Domain> for mtp_proxy_domain {
    type Error = ();
    fn try_from(d: &Domain) -> Result<Self, ()> {
        let mut name = [0; MTP_PROXY_MAX_DOMAIN_LEN];
        if d.name.is_empty() {
            return Err(());
        }
        name.get_mut(..d.name.len())
            .ok_or(())?
            .copy_from_slice(&d.name);
        Ok(mtp_proxy_domain {
            name,
            name_len: d.name.len(),
            relay_ipv4: d.relay_ipv4,
            relay_port: d.relay_port,
        })
    }
}

/// `Err` for `name_len` 0 or above `MTP_PROXY_MAX_DOMAIN_LEN`.
impl TryFrom<&mtp_proxy_domain> for Domain {
    type Error = ();
    fn try_from(d: &mtp_proxy_domain) -> Result<Self, ()> {
        if d.name_len == 0 {
            return Err(());
        }
        Ok(Domain {
            name: d.name.get(..d.name_len).ok_or(())?.to_vec(),
            relay_ipv4: d.relay_ipv4,
            relay_port: d.relay_port,
        })
    }
}

/// No secrets, domains, tag, proxy secret, config or NAT rules (null
/// pointers, zero counts), and zero for every number.
impl Default for mtp_proxy_settings {
    fn default() -> Self {
        mtp_proxy_settings {
            secrets: core::ptr::null(),
            n_secrets: 0,
            domains: core::ptr::null(),
            n_domains: 0,
            ad_tag: core::ptr::null(),
            proxy_secret: core::ptr::null(),
            proxy_secret_len: 0,
            config: core::ptr::null(),
            config_len: 0,
            nat_info: core::ptr::null(),
            n_nat_info: 0,
            workers: 0,
            max_client_connections: 0,
            window_clamp: 0,
            buffer_limit: 0,
            seed: 0,
        }
    }
}

impl mtp_proxy_settings {
    /// The contract form of `s`, borrowing: `domains` is `s.domains` and
    /// `nat_info` is `s.nat_info` (the pairs flattened) in contract form,
    /// and every pointer is valid as long as `s`, `domains` and `nat_info`
    /// are. The Rust-only options are left out.
    pub fn borrowing(s: &ProxySettings, domains: &[mtp_proxy_domain], nat_info: &[u32]) -> Self {
        mtp_proxy_settings {
            secrets: s.secrets.as_ptr().cast(),
            n_secrets: s.secrets.len(),
            domains: domains.as_ptr(),
            n_domains: domains.len(),
            ad_tag: s.ad_tag.as_ref().map_or(core::ptr::null(), |t| t.as_ptr()),
            proxy_secret: s.proxy_secret.as_ptr(),
            proxy_secret_len: s.proxy_secret.len(),
            config: s.config.as_ptr(),
            config_len: s.config.len(),
            nat_info: nat_info.as_ptr(),
            n_nat_info: nat_info.len() / 2,
            workers: s.workers,
            max_client_connections: s.max_client_connections,
            window_clamp: s.window_clamp,
            buffer_limit: s.buffer_limit,
            seed: s.seed,
        }
    }
}
