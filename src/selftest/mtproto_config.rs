use super::{expect_eq, Check};
use mtproxy_sys::c::mtproto_config::{ConfigError, ProxyConfig};

pub const CHECKS: &[Check] = &[
    ("official-style file", || {
        let text = b"# force_probability 10 10\ndefault 2;\n\
            proxy_for 1 149.154.175.50:8888;\nproxy_for -1 149.154.175.50:8888;\n\
            proxy_for 2 149.154.161.144:8888;\nproxy_for 203 [2001:b28:f23d:f001::a]:443;\n";
        let c = ProxyConfig::parse(text, 1).map_err(|e| format!("{e:?}"))?;
        expect_eq("clusters", c.cluster_count(), 4)?;
        expect_eq("targets", c.target_count(), 3)?;
        expect_eq("default", c.default_cluster_id(), 2)?;
        expect_eq(
            "cluster -1",
            c.cluster(1).map(|k| (k.id, k.target_count)),
            Some((-1, 1)),
        )?;
        expect_eq("shared target", c.cluster_target(1, 0), Some(0))?;
        let t = c.target(2).ok_or("no target 2")?;
        expect_eq(
            "ipv6",
            (t.family, t.ipv6[..4].to_vec(), t.port),
            (6, vec![0x20, 1, 0xb, 0x28], 443),
        )?;
        let t = c.target(0).ok_or("no target 0")?;
        expect_eq(
            "ipv4",
            (t.ipv4, t.min_connections, t.max_connections),
            (0x959a_af32, 4, 8),
        )?;
        expect_eq(
            "lookup",
            (c.lookup(-1), c.lookup(10002), c.target(3)),
            (Some(1), Some(2), None),
        )
    }),
    ("errors and lines", || {
        let err = |text: &[u8]| ProxyConfig::parse(text, 1).map(|_| ()).err();
        let e = |code, line| Some(ConfigError { code, line });
        expect_eq("prefix keyword", err(b"proxy_for2 1.2.3.4:80;"), e(-1, 1))?;
        expect_eq(
            "intermixed",
            err(b"proxy_for 1 1.1.1.1:1;\nproxy 1.1.1.1:1;\nproxy_for 1 1.1.1.1:2;"),
            e(-6, 3),
        )?;
        expect_eq("port", err(b"\nproxy 1.1.1.1:0;"), e(-3, 2))?;
        expect_eq("min", err(b"min_connections 9;"), e(-9, 1))?;
        expect_eq("none", err(b"# empty\n"), e(-12, 2))
    }),
];
