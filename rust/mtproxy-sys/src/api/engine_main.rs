// Safe wrapper for the engine-main contract.

/// Runs the engine with `config` (see `mtp_engine_run`) and returns the
/// process exit status. Strings with an interior NUL cannot be passed and
/// give `Err`.
pub fn run(config: &mtproxy_core::runtime::EngineConfig) -> Result<i32, String> {
    let text = ffi::EngineConfigText::try_from(config)?;
    let raw = ffi::mtp_engine_config::borrowing(config, &text);
    // SAFETY: every pointer in `raw` points into data alive for this call
    // (NUL-terminated strings, arrays with their counts).
    Ok(unsafe { ffi::mtp_engine_run(&raw) })
}
