//! The `tg://proxy` links printed at start-up, one per secret and mode.
use std::net::Ipv4Addr;

use mtproxy_core::net::obfs2::{link_secret, SECRET_FAKE_TLS, SECRET_PADDED, SECRET_PLAIN};
use mtproxy_core::runtime::EngineConfig;

/// The server shown in links: `--address`, else the global side of the
/// first `--nat-info` rule, else a placeholder for the user to fill in.
fn server(config: &EngineConfig) -> String {
    if config.bind_ipv4 != 0 {
        Ipv4Addr::from(config.bind_ipv4).to_string()
    } else if let Some(&(_, global)) = config.nat_info.first() {
        Ipv4Addr::from(global).to_string()
    } else {
        "SERVER_IP".into()
    }
}

/// The links for `config` with the client port actually bound: plain and
/// `dd` (padded) per secret without fake-TLS domains, `ee` + the first
/// domain's name with them.
pub fn links(config: &EngineConfig, port: u16) -> Vec<String> {
    let server = server(config);
    let domain = config
        .domains
        .first()
        .map(|d| d.split_once(':').map_or(d.as_str(), |(name, _)| name));
    let mut out = Vec::new();
    for key in &config.secrets {
        let forms = match domain {
            Some(name) => vec![link_secret(key, SECRET_FAKE_TLS, name.as_bytes())],
            None => vec![
                link_secret(key, SECRET_PLAIN, &[]),
                link_secret(key, SECRET_PADDED, &[]),
            ],
        };
        for form in forms.into_iter().flatten() {
            out.push(format!(
                "tg://proxy?server={server}&port={port}&secret={form}"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_padded_without_domains() {
        let config = EngineConfig {
            secrets: vec![[0xab; 16]],
            ..EngineConfig::default()
        };
        let s = "ab".repeat(16);
        assert_eq!(
            links(&config, 443),
            vec![
                format!("tg://proxy?server=SERVER_IP&port=443&secret={s}"),
                format!("tg://proxy?server=SERVER_IP&port=443&secret=dd{s}"),
            ]
        );
    }

    #[test]
    fn fake_tls_with_domain_and_nat_server() {
        let config = EngineConfig {
            secrets: vec![[1; 16]],
            domains: vec!["ya.ru:8443".into()],
            nat_info: vec![(0x0a00_0001, 0x0102_0304)],
            ..EngineConfig::default()
        };
        assert_eq!(
            links(&config, 1),
            vec![format!(
                "tg://proxy?server=1.2.3.4&port=1&secret=ee{}79612e7275",
                "01".repeat(16)
            )]
        );
    }
}
