// Safe wrappers for the mtproto-config contract; same API as
// mtproxy_core::mtproto::mtproto_config::ProxyConfig and its types.

pub use mtproxy_core::mtproto::mtproto_config::{ClusterInfo, ConfigError, Target};

/// An owned config handle from the contract.
#[derive(Debug)]
pub struct ProxyConfig(core::ptr::NonNull<ffi::mtp_mtproto_config>);

impl Drop for ProxyConfig {
    fn drop(&mut self) {
        // SAFETY: the handle came from mtp_mtproto_config_parse and is freed once.
        unsafe { ffi::mtp_mtproto_config_free(self.0.as_ptr()) }
    }
}

impl ProxyConfig {
    #[inline]
    pub fn parse(text: &[u8], options: u32) -> Result<ProxyConfig, ConfigError> {
        let text = input(text);
        let mut handle = core::ptr::null_mut();
        let mut line = 0;
        // SAFETY: a live slice and outputs.
        let code = unsafe {
            ffi::mtp_mtproto_config_parse(
                text.as_ptr(),
                text.len(),
                options as i32,
                &mut handle,
                &mut line,
            )
        };
        match core::ptr::NonNull::new(handle) {
            Some(handle) if code == 0 => Ok(ProxyConfig(handle)),
            _ => Err(ConfigError { code, line }),
        }
    }

    #[inline]
    pub fn cluster_count(&self) -> usize {
        // SAFETY: a live handle.
        unsafe { ffi::mtp_mtproto_config_cluster_count(self.0.as_ptr()) }
    }

    #[inline]
    pub fn cluster(&self, index: usize) -> Option<ClusterInfo> {
        let mut out = ClusterInfo::default();
        // SAFETY: a live handle and output.
        let code = unsafe { ffi::mtp_mtproto_config_cluster(self.0.as_ptr(), index, &mut out) };
        (code == 0).then_some(out)
    }

    #[inline]
    pub fn cluster_target(&self, cluster: usize, line: usize) -> Option<usize> {
        let mut out = 0;
        // SAFETY: a live handle and output.
        let code = unsafe {
            ffi::mtp_mtproto_config_cluster_target(self.0.as_ptr(), cluster, line, &mut out)
        };
        (code == 0).then_some(out)
    }

    #[inline]
    pub fn target_count(&self) -> usize {
        // SAFETY: a live handle.
        unsafe { ffi::mtp_mtproto_config_target_count(self.0.as_ptr()) }
    }

    #[inline]
    pub fn target(&self, index: usize) -> Option<Target> {
        let mut t = Target::default();
        // SAFETY: a live handle and output.
        let code = unsafe { ffi::mtp_mtproto_config_target(self.0.as_ptr(), index, &mut t) };
        (code == 0).then_some(t)
    }

    #[inline]
    pub fn default_cluster_id(&self) -> i32 {
        let mut id = 0;
        // SAFETY: a live handle and output; cannot fail then.
        unsafe { ffi::mtp_mtproto_config_default_cluster_id(self.0.as_ptr(), &mut id) };
        id
    }

    #[inline]
    pub fn lookup(&self, dc: i32) -> Option<usize> {
        let mut index = 0;
        // SAFETY: a live handle and output.
        let code = unsafe { ffi::mtp_mtproto_config_lookup(self.0.as_ptr(), dc, &mut index) };
        (code == 0).then_some(index)
    }
}
