//! Contract of the mtproto-proxy module: the proxy itself. One handle holds
//! what all workers share (settings, the config snapshot, the fake-TLS
//! replay cache, the counters); each worker thread runs its own event loop
//! on its own reactor (net-events contract) with its own client and
//! middle-end connections. Behaviour: ARCHITECTURE.md, "The proxy runtime".
use crate::raw;
use mtproxy_abi::{mtp_proxy_stats, mtp_tls_profile};
use mtproxy_core::runtime::{Domain, ProxySettings};
use mtproxy_rt::proxy::Proxy;
use std::os::fd::{FromRawFd, OwnedFd};

/// The codes and structs of this contract, defined once in mtproxy-abi.
pub use mtproxy_abi::mtproto_proxy::*;

/// A proxy handle.
#[allow(non_camel_case_types)]
pub struct mtp_proxy(Proxy);

/// Writes `text` NUL-terminated (cut to fit) into `err[..err_cap]`.
///
/// # Safety
/// `err` must be NULL or point to `err_cap` writable bytes.
unsafe fn write_err(err: *mut u8, err_cap: usize, text: &str) {
    // SAFETY: `err` is NULL or `err_cap` writable bytes (caller).
    let buf = unsafe { raw::bytes_mut(err, err_cap) };
    if let Some(last) = buf.len().checked_sub(1) {
        let n = text.len().min(last);
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        buf[n] = 0;
    }
}

/// The settings in Rust form, or why they are unusable.
///
/// # Safety
/// Every `(pointer, count)` pair of `s` must be valid.
unsafe fn convert_settings(s: &mtp_proxy_settings) -> Result<ProxySettings, &'static str> {
    if s.n_secrets > MTP_PROXY_MAX_SECRETS as usize || (s.n_secrets > 0 && s.secrets.is_null()) {
        return Err("bad secret list");
    }
    // SAFETY: `secrets` holds `n_secrets` 16-byte keys (caller).
    let packed = unsafe { raw::bytes(s.secrets, s.n_secrets * 16) };
    let secrets = packed
        .chunks_exact(16)
        .map(|k| <[u8; 16]>::try_from(k).unwrap_or_default())
        .collect();
    if s.n_domains > 0 && s.domains.is_null() {
        return Err("bad domain list");
    }
    let domains: &[mtp_proxy_domain] = if s.n_domains == 0 {
        &[]
    } else {
        // SAFETY: non-null and `n_domains` entries long (caller).
        unsafe { std::slice::from_raw_parts(s.domains, s.n_domains) }
    };
    let converted = domains
        .iter()
        .map(Domain::try_from)
        .collect::<Result<Vec<_>, ()>>()
        .map_err(|()| "bad domain name length")?;
    // SAFETY: NULL or 16 readable bytes (caller).
    let ad_tag = unsafe { raw::array::<16>(s.ad_tag) }.copied();
    if s.n_nat_info > 0 && s.nat_info.is_null() {
        return Err("bad nat-info list");
    }
    let nat: &[u32] = if s.n_nat_info == 0 {
        &[]
    } else {
        // SAFETY: non-null, `n_nat_info` pairs of u32 (caller).
        unsafe { std::slice::from_raw_parts(s.nat_info, s.n_nat_info * 2) }
    };
    Ok(ProxySettings {
        secrets,
        domains: converted,
        ad_tag,
        // SAFETY: valid byte pairs (caller).
        proxy_secret: unsafe { raw::bytes(s.proxy_secret, s.proxy_secret_len) }.to_vec(),
        // SAFETY: valid byte pairs (caller).
        config: unsafe { raw::bytes(s.config, s.config_len) }.to_vec(),
        nat_info: nat.chunks_exact(2).map(|p| (p[0], p[1])).collect(),
        workers: s.workers,
        max_client_connections: s.max_client_connections,
        window_clamp: s.window_clamp,
        buffer_limit: s.buffer_limit,
        seed: s.seed,
        // Rust-only options come from main, not through the C contract.
        rust_only: mtproxy_rt::rust_only::options(),
    })
}

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
    // SAFETY: NULL or a valid settings struct (caller).
    let Some(settings) = (unsafe { settings.as_ref() }) else {
        // SAFETY: `err` is `err_cap` writable bytes (caller).
        unsafe { write_err(err, err_cap, "null settings") };
        return std::ptr::null_mut();
    };
    // SAFETY: the settings' pairs are valid (caller).
    let converted = match unsafe { convert_settings(settings) } {
        Ok(c) => c,
        Err(text) => {
            // SAFETY: as above.
            unsafe { write_err(err, err_cap, text) };
            return std::ptr::null_mut();
        }
    };
    match Proxy::new(converted) {
        Ok(proxy) => Box::into_raw(Box::new(mtp_proxy(proxy))),
        Err(text) => {
            // SAFETY: as above.
            unsafe { write_err(err, err_cap, &text) };
            std::ptr::null_mut()
        }
    }
}

/// Frees a proxy after every `mtp_proxy_worker_run` returned. NULL does
/// nothing.
///
/// # Safety
/// `proxy` must be NULL or a live handle with no worker running.
#[no_mangle]
pub unsafe extern "C" fn mtp_proxy_free(proxy: *mut mtp_proxy) {
    if !proxy.is_null() {
        // SAFETY: a live handle from `mtp_proxy_new`, no worker running,
        // freed once (caller).
        drop(unsafe { Box::from_raw(proxy) });
    }
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
    // SAFETY: a live handle (caller); workers only share it.
    let Some(proxy) = (unsafe { proxy.as_ref() }) else {
        return MTP_PROXY_ERR_ARG;
    };
    if n_fds > 0 && listen_fds.is_null() {
        return MTP_PROXY_ERR_ARG;
    }
    let fds: &[i32] = if n_fds == 0 {
        &[]
    } else {
        // SAFETY: `n_fds` fds (caller).
        unsafe { std::slice::from_raw_parts(listen_fds, n_fds) }
    };
    if fds.iter().any(|&fd| fd < 0) {
        return MTP_PROXY_ERR_ARG;
    }
    let owned = fds
        .iter()
        // SAFETY: each fd is an open listening socket whose ownership the
        // caller hands over to the worker.
        .map(|&fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect();
    match proxy.0.worker_run(index, owned) {
        Ok(()) => 0,
        Err(_) => MTP_PROXY_ERR_SYS,
    }
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
    // SAFETY: a live handle (caller).
    let Some(proxy) = (unsafe { proxy.as_ref() }) else {
        return MTP_PROXY_ERR_ARG;
    };
    // SAFETY: valid byte pairs (caller).
    let (config, secret) = unsafe {
        (
            raw::bytes(config, config_len),
            raw::bytes(proxy_secret, proxy_secret_len),
        )
    };
    match proxy.0.reload(config, secret) {
        Ok(()) => 0,
        Err(text) => {
            // SAFETY: `err` is `err_cap` writable bytes (caller).
            unsafe { write_err(err, err_cap, &text) };
            MTP_PROXY_ERR_CONFIG
        }
    }
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
    // SAFETY: a live handle (caller).
    if let Some(proxy) = unsafe { proxy.as_ref() } {
        proxy.0.stop(grace_ms);
    }
}

/// Sets the fake-TLS ServerHello profile of `-D` domain `domain_index`
/// (what the engine's probe learned; docs/PROTOCOL.md §2.4). Until then a
/// domain uses the fallback. Thread-safe. Returns 0, or `MTP_PROXY_ERR_ARG`
/// for a null pointer or an index with no domain.
///
/// # Safety
/// `proxy` must be a live handle; `profile` NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn mtp_proxy_set_tls_profile(
    proxy: *const mtp_proxy,
    domain_index: u32,
    profile: *const mtp_tls_profile,
) -> i32 {
    // SAFETY: a live handle and NULL or a readable struct (caller).
    match unsafe { (proxy.as_ref(), profile.as_ref()) } {
        (Some(proxy), Some(p)) => {
            if proxy.0.set_tls_profile(domain_index as usize, *p) {
                0
            } else {
                MTP_PROXY_ERR_ARG
            }
        }
        _ => MTP_PROXY_ERR_ARG,
    }
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
    // SAFETY: a live handle and NULL or a writable struct (caller).
    if let (Some(proxy), Some(out)) = unsafe { (proxy.as_ref(), out.as_mut()) } {
        proxy.0.collect_stats(out);
    }
}
