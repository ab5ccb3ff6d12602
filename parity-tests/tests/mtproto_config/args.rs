//! mtproto-config: NULL pointers, empty inputs and option bits at the raw
//! contract functions, the C copy and the Rust FFI called with one list of
//! arguments, each result checked against the value the C code's checks
//! give and the two sides' lists compared. A config handle is only ever
//! passed back to the side that made it.
use mtproxy_sys::bindings::{
    mtp_mtproto_cluster, mtp_mtproto_config, mtp_mtproto_target, MTP_MTPROTO_CONFIG_ERR_ARG,
    MTP_MTPROTO_CONFIG_ERR_INDEX, MTP_MTPROTO_CONFIG_ERR_NOT_FOUND,
    MTP_MTPROTO_CONFIG_ERR_NO_PROXIES, MTP_MTPROTO_CONFIG_LITERAL_HOSTS,
};
use parity_tests::Calls;
use std::ptr::{null, null_mut};

const ARG: i32 = MTP_MTPROTO_CONFIG_ERR_ARG;
const INDEX: i32 = MTP_MTPROTO_CONFIG_ERR_INDEX;
const NOT_FOUND: i32 = MTP_MTPROTO_CONFIG_ERR_NOT_FOUND;
const NO_PROXIES: i32 = MTP_MTPROTO_CONFIG_ERR_NO_PROXIES;
const LIT: i32 = MTP_MTPROTO_CONFIG_LITERAL_HOSTS;
/// Two clusters (1, 2) of one target each; the default cluster 5 is absent.
const TEXT: &[u8] = b"default 5;\nproxy_for 1 1.2.3.4:443;\nproxy_for 2 [::1]:80;\n";

/// Every argument case through `$b`. Cases a mutant answers wrongly
/// without crashing come before the ones it crashes on.
macro_rules! cases {
    ($b:ident, $side:expr) => {{
        use mtproxy_sys::$b as b;
        let mut got = Calls($side, Vec::new());
        let mut cfg: *mut mtp_mtproto_config = null_mut();
        let mut line = 77i32;
        let parse =
            |d: *const u8, n: usize, opt: i32, o: *mut *mut mtp_mtproto_config, l: *mut i32| {
                // SAFETY: `d` is NULL or readable for `n` bytes, `o` and `l`
                // NULL or writable; a config it makes is freed below by the same
                // side.
                unsafe { b::mtp_mtproto_config_parse(d, n, opt, o, l) }
            };
        let n = TEXT.len();
        got.check(
            "parse NULL,1",
            parse(null(), 1, LIT, &mut cfg, &mut line),
            ARG,
        );
        got.check("line untouched", line, 77);
        got.check(
            "parse bad option",
            parse(TEXT.as_ptr(), n, 2, &mut cfg, &mut line),
            ARG,
        );
        got.check(
            "parse bad option 3",
            parse(TEXT.as_ptr(), n, 3, &mut cfg, &mut line),
            ARG,
        );
        got.check(
            "parse bad option out NULL",
            parse(TEXT.as_ptr(), n, 2, null_mut(), &mut line),
            ARG,
        );
        got.check(
            "parse NULL,1 out NULL",
            parse(null(), 1, LIT, null_mut(), &mut line),
            ARG,
        );
        got.check("handle untouched", cfg.is_null(), true);
        got.check(
            "parse NULL,0",
            parse(null(), 0, LIT, &mut cfg, &mut line),
            NO_PROXIES,
        );
        got.check("line", line, 1);
        line = 77;
        got.check(
            "parse empty",
            parse(TEXT.as_ptr(), 0, 0, &mut cfg, &mut line),
            NO_PROXIES,
        );
        got.check("line", line, 1);
        got.check(
            "parse NULL,0 line NULL",
            parse(null(), 0, 0, &mut cfg, null_mut()),
            NO_PROXIES,
        );
        got.check(
            "parse out NULL",
            parse(TEXT.as_ptr(), n, LIT, null_mut(), &mut line),
            ARG,
        );
        got.check(
            "parse ok line NULL",
            parse(TEXT.as_ptr(), n, LIT, &mut cfg, null_mut()),
            0,
        );
        assert!(!cfg.is_null());
        let cfg: *const mtp_mtproto_config = cfg;

        let mut cluster = mtp_mtproto_cluster::default();
        let mut target = mtp_mtproto_target::default();
        let mut index = 99usize;
        let mut id = 99i32;
        // SAFETY: `cfg` is NULL or this side's live config; every out
        // pointer is NULL or writable.
        unsafe {
            got.check(
                "cluster out NULL bad index",
                b::mtp_mtproto_config_cluster(cfg, 2, null_mut()),
                ARG,
            );
            got.check(
                "ct out NULL bad index",
                b::mtp_mtproto_config_cluster_target(cfg, 2, 0, null_mut()),
                ARG,
            );
            got.check(
                "target out NULL bad index",
                b::mtp_mtproto_config_target(cfg, 2, null_mut()),
                ARG,
            );
            got.check(
                "lookup out NULL absent",
                b::mtp_mtproto_config_lookup(cfg, 9, null_mut()),
                ARG,
            );
            got.check(
                "cluster_count NULL",
                b::mtp_mtproto_config_cluster_count(null()) as i64,
                0,
            );
            got.check(
                "cluster_count",
                b::mtp_mtproto_config_cluster_count(cfg) as i64,
                2,
            );
            got.check(
                "target_count NULL",
                b::mtp_mtproto_config_target_count(null()) as i64,
                0,
            );
            got.check(
                "target_count",
                b::mtp_mtproto_config_target_count(cfg) as i64,
                2,
            );
            got.check(
                "cluster 2",
                b::mtp_mtproto_config_cluster(cfg, 2, &mut cluster),
                INDEX,
            );
            got.check(
                "cluster 1",
                b::mtp_mtproto_config_cluster(cfg, 1, &mut cluster),
                0,
            );
            got.check("id", cluster.id, 2);
            got.check("target_count", cluster.target_count as i64, 1);
            got.check(
                "ct line 1",
                b::mtp_mtproto_config_cluster_target(cfg, 1, 1, &mut index),
                INDEX,
            );
            got.check(
                "ct cluster 2",
                b::mtp_mtproto_config_cluster_target(cfg, 2, 0, &mut index),
                INDEX,
            );
            got.check(
                "ct ok",
                b::mtp_mtproto_config_cluster_target(cfg, 1, 0, &mut index),
                0,
            );
            got.check("index", index as i64, 1);
            got.check(
                "target 2",
                b::mtp_mtproto_config_target(cfg, 2, &mut target),
                INDEX,
            );
            got.check(
                "target 1",
                b::mtp_mtproto_config_target(cfg, 1, &mut target),
                0,
            );
            got.check("port", target.port, 80);
            got.check(
                "default",
                b::mtp_mtproto_config_default_cluster_id(cfg, &mut id),
                0,
            );
            got.check("id", id, 5);
            got.check(
                "lookup 1",
                b::mtp_mtproto_config_lookup(cfg, 1, &mut index),
                0,
            );
            got.check("index", index as i64, 0);
            got.check(
                "lookup 9",
                b::mtp_mtproto_config_lookup(cfg, 9, &mut index),
                NOT_FOUND,
            );
            got.check("index untouched", index as i64, 0);
            got.check(
                "cluster config NULL",
                b::mtp_mtproto_config_cluster(null(), 0, &mut cluster),
                ARG,
            );
            got.check(
                "cluster out NULL",
                b::mtp_mtproto_config_cluster(cfg, 0, null_mut()),
                ARG,
            );
            got.check(
                "ct config NULL",
                b::mtp_mtproto_config_cluster_target(null(), 0, 0, &mut index),
                ARG,
            );
            got.check(
                "ct out NULL",
                b::mtp_mtproto_config_cluster_target(cfg, 0, 0, null_mut()),
                ARG,
            );
            got.check(
                "target config NULL",
                b::mtp_mtproto_config_target(null(), 0, &mut target),
                ARG,
            );
            got.check(
                "target out NULL",
                b::mtp_mtproto_config_target(cfg, 0, null_mut()),
                ARG,
            );
            id = 99;
            got.check(
                "default config NULL",
                b::mtp_mtproto_config_default_cluster_id(null(), &mut id),
                ARG,
            );
            got.check(
                "default out NULL",
                b::mtp_mtproto_config_default_cluster_id(cfg, null_mut()),
                ARG,
            );
            got.check("id untouched", id, 99);
            got.check(
                "lookup config NULL",
                b::mtp_mtproto_config_lookup(null(), 1, &mut index),
                ARG,
            );
            got.check(
                "lookup out NULL",
                b::mtp_mtproto_config_lookup(cfg, 1, null_mut()),
                ARG,
            );
            b::mtp_mtproto_config_free(cfg as *mut mtp_mtproto_config);
            b::mtp_mtproto_config_free(null_mut());
        }
        got.1
    }};
}

/// Each required pointer NULL alone is refused (ERR_ARG, outputs left
/// alone), (NULL, 0) parses as the empty file, unknown option bits are
/// refused, and the accessors answer NULL configs and bad indexes.
#[test]
fn null_and_empty_arguments_agree() {
    let c = cases!(bindings_cref, "C");
    let r = cases!(bindings, "Rust");
    assert_eq!(c, r, "C vs Rust");
}
