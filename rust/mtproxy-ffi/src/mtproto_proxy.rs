//! Contract of the mtproto-proxy module: the proxy itself. One handle holds
//! what all workers share (settings, the config snapshot, the fake-TLS
//! replay cache, the counters); each worker thread runs its own event loop
//! on its own reactor (net-events contract) with its own client and
//! middle-end connections. Behaviour: ARCHITECTURE.md, "The proxy runtime".
use mtproxy_sys::bindings::mtp_proxy_stats;
use std::ffi::c_void;

/// Longest fronting domain name.
pub const MTP_PROXY_MAX_DOMAIN_LEN: usize = 253;
/// A bad argument (null pointer, secret count, domain).
pub const MTP_PROXY_ERR_ARG: i32 = -1;
/// The proxy-multi.conf text or the proxy secret was rejected; the error
/// buffer says why.
pub const MTP_PROXY_ERR_CONFIG: i32 = -2;
/// A system call failed (reactor, sockets).
pub const MTP_PROXY_ERR_SYS: i32 = -3;

/// A fake-TLS domain (`-D`): the name clients must send as SNI and the
/// address unauthenticated connections are relayed to.
#[repr(C)]
#[derive(Clone, Copy)]
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

/// A proxy handle.
#[allow(non_camel_case_types)]
pub struct mtp_proxy(c_void);

/// A new proxy from `*settings`, or NULL with a NUL-terminated reason in
/// `err` (up to `err_cap` bytes, may be NULL/0) if the settings, the config
/// text or the proxy secret are invalid.
///
/// # Safety
/// `settings` must be NULL or valid with every `(pointer, count)` pair
/// valid; `err` must point to `err_cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_proxy_new(
    settings: *const mtp_proxy_settings,
    err: *mut u8,
    err_cap: usize,
) -> *mut mtp_proxy {
    let _ = (settings, err, err_cap);
    unimplemented!()
}

/// Frees a proxy after every `mtp_proxy_worker_run` returned. NULL does
/// nothing.
///
/// # Safety
/// `proxy` must be NULL or a live handle with no worker running.
#[no_mangle]
pub unsafe extern "C" fn mtp_proxy_free(proxy: *mut mtp_proxy) {
    let _ = proxy;
    unimplemented!()
}

/// Runs worker `index` on the calling thread until the proxy is stopped and
/// the worker's connections are gone: accepts clients on the `n_fds`
/// listening sockets `listen_fds` (non-blocking, owned by the worker from
/// now on), keeps its middle-end connections, relays. Returns 0, or
/// `MTP_PROXY_ERR_SYS` if the worker could not start.
///
/// # Safety
/// `proxy` must be a live handle; `listen_fds` must point to `n_fds` fds.
/// Each index is run at most once at a time.
#[no_mangle]
pub unsafe extern "C" fn mtp_proxy_worker_run(
    proxy: *mut mtp_proxy,
    index: u32,
    listen_fds: *const i32,
    n_fds: usize,
) -> i32 {
    let _ = (proxy, index, listen_fds, n_fds);
    unimplemented!()
}

/// Replaces the config (proxy-multi.conf text) and the proxy secret, as on
/// SIGHUP: new clients are routed with the new table, middle-end
/// connections to removed addresses close when their clients are gone, new
/// ones are opened; live client connections are kept. Returns 0 or
/// `MTP_PROXY_ERR_CONFIG` with the reason in `err` (the old config stays).
/// Thread-safe.
///
/// # Safety
/// `proxy` must be a live handle; the byte pairs valid; `err` must point to
/// `err_cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn mtp_proxy_reload(
    proxy: *mut mtp_proxy,
    config: *const u8,
    config_len: usize,
    proxy_secret: *const u8,
    proxy_secret_len: usize,
    err: *mut u8,
    err_cap: usize,
) -> i32 {
    let _ = (
        proxy,
        config,
        config_len,
        proxy_secret,
        proxy_secret_len,
        err,
        err_cap,
    );
    unimplemented!()
}

/// Begins a graceful stop: workers close their listeners at once, let
/// their client connections finish for up to `grace_ms` milliseconds, then
/// close the rest and return from `mtp_proxy_worker_run`. Thread-safe;
/// further calls do nothing.
///
/// # Safety
/// `proxy` must be a live handle.
#[no_mangle]
pub unsafe extern "C" fn mtp_proxy_stop(proxy: *mut mtp_proxy, grace_ms: u32) {
    let _ = (proxy, grace_ms);
    unimplemented!()
}

/// Writes the proxy's counters (sums over the workers) into the proxy
/// fields of `*out`; the process fields (pid, times, memory, http_*) are
/// left untouched for the engine to fill. Thread-safe.
///
/// # Safety
/// `proxy` must be a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mtp_proxy_collect_stats(
    proxy: *const mtp_proxy,
    out: *mut mtp_proxy_stats,
) {
    let _ = (proxy, out);
    unimplemented!()
}
