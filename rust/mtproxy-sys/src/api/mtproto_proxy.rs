// Safe wrappers for the mtproto-proxy contract.

pub use crate::bindings::mtp_proxy_stats as ProxyStats;

/// A proxy handle; all methods may be called from any thread, and
/// `worker_run` from several threads at once (distinct indexes).
pub struct Proxy {
    handle: core::ptr::NonNull<ffi::mtp_proxy>,
}

// SAFETY: the contract makes every function but `mtp_proxy_free` callable
// from any thread concurrently; free runs in Drop, with no other user left.
unsafe impl Send for Proxy {}
// SAFETY: as above.
unsafe impl Sync for Proxy {}

fn error_text(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

impl Proxy {
    /// A proxy from `settings`, or the reason it was refused.
    pub fn new(settings: &mtproxy_core::runtime::ProxySettings) -> Result<Proxy, String> {
        let domains = settings
            .domains
            .iter()
            .map(ffi::mtp_proxy_domain::try_from)
            .collect::<Result<Vec<_>, ()>>()
            .map_err(|()| "invalid fake-TLS domain length")?;
        let nat: Vec<u32> = settings
            .nat_info
            .iter()
            .flat_map(|&(local, global)| [local, global])
            .collect();
        let raw = ffi::mtp_proxy_settings::borrowing(settings, &domains, &nat);
        let mut err = [0u8; 512];
        // SAFETY: every pointer in `raw` points into data alive for this
        // call with the count next to it; `err` is 512 writable bytes.
        let handle = unsafe { ffi::mtp_proxy_new(&raw, err.as_mut_ptr(), err.len()) };
        core::ptr::NonNull::new(handle)
            .map(|handle| Proxy { handle })
            .ok_or_else(|| error_text(&err))
    }

    /// Runs worker `index` on this thread until the proxy stopped; the
    /// listeners are handed over to it.
    pub fn worker_run(&self, index: u32, listeners: Vec<std::os::fd::OwnedFd>) -> Result<(), i32> {
        use std::os::fd::IntoRawFd;
        let fds: Vec<i32> = listeners.into_iter().map(IntoRawFd::into_raw_fd).collect();
        // SAFETY: live handle; `fds` holds `fds.len()` fds whose ownership
        // passes to the worker.
        match unsafe {
            ffi::mtp_proxy_worker_run(self.handle.as_ptr(), index, fds.as_ptr(), fds.len())
        } {
            0 => Ok(()),
            e => Err(e),
        }
    }

    /// Replaces config text and proxy secret; the reason on refusal.
    pub fn reload(&self, config: &[u8], proxy_secret: &[u8]) -> Result<(), String> {
        let mut err = [0u8; 512];
        // SAFETY: live handle; the slices are valid for their lengths; `err`
        // is 512 writable bytes.
        let rc = unsafe {
            ffi::mtp_proxy_reload(
                self.handle.as_ptr(),
                config.as_ptr(),
                config.len(),
                proxy_secret.as_ptr(),
                proxy_secret.len(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(error_text(&err))
        }
    }

    /// Begins the graceful stop.
    pub fn stop(&self, grace_ms: u32) {
        // SAFETY: live handle; thread-safe by contract.
        unsafe { ffi::mtp_proxy_stop(self.handle.as_ptr(), grace_ms) }
    }

    /// Sets the fake-TLS profile of domain `index`; false for no such domain.
    pub fn set_tls_profile(
        &self,
        index: u32,
        profile: &mtproxy_core::net::fake_tls::TlsProfile,
    ) -> bool {
        // SAFETY: live handle; `profile` is a readable struct; thread-safe by contract.
        unsafe { ffi::mtp_proxy_set_tls_profile(self.handle.as_ptr(), index, profile) == 0 }
    }

    /// Writes the proxy's counters into `out` (process fields untouched).
    pub fn collect_stats(&self, out: &mut ProxyStats) {
        // SAFETY: live handle; `out` is a writable stats struct.
        unsafe { ffi::mtp_proxy_collect_stats(self.handle.as_ptr(), out) }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // SAFETY: the last owner frees the handle once; no worker can run
        // because `worker_run` borrows the Proxy.
        unsafe { ffi::mtp_proxy_free(self.handle.as_ptr()) }
    }
}
