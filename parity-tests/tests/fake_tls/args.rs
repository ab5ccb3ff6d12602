//! fake-tls, argument checks through the raw contract on both sides: each
//! required pointer NULL alone, (NULL, 0) where the contract allows an empty
//! array, (NULL, 1), and a NULL output with capacity 0 and 1.
use super::{rt, NOW, RANDOM64, SECRET};
use mtproxy_sys::bindings::{
    mtp_tls_domain, mtp_tls_hello_check, mtp_tls_probe_reply, mtp_tls_profile,
    mtp_tls_server_hello_info, MTP_TLS_ERR_ARG as ARG, MTP_TLS_ERR_EMPTY as EMPTY,
    MTP_TLS_ERR_NEED_MORE as NEED_MORE, MTP_TLS_ERR_SPACE as SPACE, MTP_TLS_MAX_REPLAY_ENTRIES,
};
use std::ptr::{null, null_mut};

/// A check result as one number: the error code, or 100 + 10 × verdict +
/// reason.
fn check_summary(rc: i32, out: &mtp_tls_hello_check) -> i64 {
    if rc != 0 {
        rc.into()
    } else {
        100 + 10 * i64::from(out.verdict) + i64::from(out.reason)
    }
}

/// Every argument case of the contract on the bindings module `$b`, as
/// (label, result, expected) triples. Kept as a table, one call a line.
#[rustfmt::skip]
macro_rules! arg_calls {
    ($b:ident) => {{
        // (label, result, the C contract's answer)
        let mut got: Vec<(&'static str, i64, i64)> = Vec::new();
        let (arg, space, need) = (i64::from(ARG), i64::from(SPACE), i64::from(NEED_MORE));
        // 100 + 10 × verdict + reason: accept, relay to the SNI on a bad HMAC,
        // relay to the default on an unknown SNI.
        let (accept, bad_hmac, unknown_sni) = (100, 126, 112);
        let fallback_len = "fake_tls_profile_\tfallback\n".len() as i64;
        let (secret, random64) = (SECRET, RANDOM64);
        let key = [9u8; 16];
        let hdr = [0x16u8, 0x03, 0x01, 0x02, 0x00];
        let mut rl = 0usize;
        // SAFETY: every pointer is NULL or a live buffer at least as long as
        // the length passed with it; NULL only where the contract refuses it
        // or allows it for a zero length.
        unsafe {
            got.push(("detect(NULL, 0)", $b::mtp_tls_detect_client_hello(null(), 0, &mut rl).into(), need));
            got.push(("detect(NULL, 1)", $b::mtp_tls_detect_client_hello(null(), 1, &mut rl).into(), arg));
            got.push(("detect(hdr, NULL)", $b::mtp_tls_detect_client_hello(hdr.as_ptr(), 5, null_mut()).into(), 0));
            rl = 0;
            got.push(("detect(hdr)", $b::mtp_tls_detect_client_hello(hdr.as_ptr(), 5, &mut rl).into(), 0));
            got.push(("detect record_len", rl as i64, 517));
        }

        // SAFETY: caches come from _new and are freed once; keys are 16
        // bytes; NULL only where the contract refuses it.
        unsafe {
            let cache = $b::mtp_tls_replay_cache_new(8);
            assert!(!cache.is_null());
            let mut t = 7i64;
            got.push(("new(0)", $b::mtp_tls_replay_cache_new(0).is_null().into(), 1));
            let over = MTP_TLS_MAX_REPLAY_ENTRIES as usize + 1;
            got.push(("new(max + 1)", $b::mtp_tls_replay_cache_new(over).is_null().into(), 1));
            got.push(("lookup(NULL cache)", $b::mtp_tls_replay_cache_lookup(null_mut(), key.as_ptr(), NOW).into(), arg));
            got.push(("lookup(NULL key)", $b::mtp_tls_replay_cache_lookup(cache, null(), NOW).into(), arg));
            got.push(("insert(NULL cache)", $b::mtp_tls_replay_cache_insert(null_mut(), key.as_ptr(), NOW).into(), arg));
            got.push(("insert(NULL key)", $b::mtp_tls_replay_cache_insert(cache, null(), NOW).into(), arg));
            got.push(("len(NULL)", $b::mtp_tls_replay_cache_len(null()) as i64, 0));
            got.push(("len(empty)", $b::mtp_tls_replay_cache_len(cache) as i64, 0));
            got.push(("oldest(NULL cache)", $b::mtp_tls_replay_cache_oldest(null(), &mut t).into(), arg));
            got.push(("oldest(empty, NULL out)", $b::mtp_tls_replay_cache_oldest(cache, null_mut()).into(), arg));
            got.push(("oldest(empty)", $b::mtp_tls_replay_cache_oldest(cache, &mut t).into(), i64::from(EMPTY)));
            got.push(("lookup(absent)", $b::mtp_tls_replay_cache_lookup(cache, key.as_ptr(), NOW).into(), 0));
            got.push(("insert", $b::mtp_tls_replay_cache_insert(cache, key.as_ptr(), NOW).into(), 0));
            got.push(("lookup(present)", $b::mtp_tls_replay_cache_lookup(cache, key.as_ptr(), NOW).into(), 1));
            got.push(("oldest(one, NULL out)", $b::mtp_tls_replay_cache_oldest(cache, null_mut()).into(), arg));
            got.push(("oldest(one)", $b::mtp_tls_replay_cache_oldest(cache, &mut t).into(), 0));
            got.push(("oldest time", t - NOW, 0));
            $b::mtp_tls_replay_cache_free(cache);
            $b::mtp_tls_replay_cache_free(null_mut());
        }

        let hello = hello!(rt, b"example.com", NOW as u32, 517, &RANDOM64);
        let name = b"example.com";
        let one_domain = [mtp_tls_domain::from(&name[..])];
        let null_empty = [mtp_tls_domain { data: null(), len: 0 }];
        let null_one = [mtp_tls_domain { data: null(), len: 1 }];
        let then_null = [one_domain[0], null_one[0]];
        let check = |record: *const u8,
                     len: usize,
                     secrets: *const u8,
                     secret_count: usize,
                     domains: *const mtp_tls_domain,
                     domain_count: usize,
                     with_cache: bool,
                     with_out: bool|
         -> i64 {
            let mut out = mtp_tls_hello_check::default();
            let out_ptr: *mut mtp_tls_hello_check = if with_out { &mut out as *mut _ } else { null_mut() };
            // SAFETY: as above; the cache comes from _new and is freed once.
            unsafe {
                let cache = if with_cache { $b::mtp_tls_replay_cache_new(8) } else { null_mut() };
                let rc = $b::mtp_tls_check_client_hello(
                    record, len, len, secrets, secret_count, domains, domain_count, cache, NOW,
                    out_ptr,
                );
                $b::mtp_tls_replay_cache_free(cache);
                check_summary(rc, &out)
            }
        };
        let (h, s, d) = (hello.as_ptr(), secret.as_ptr(), one_domain.as_ptr());
        got.push(("check(valid)", check(h, 517, s, 1, d, 1, true, true), accept));
        got.push(("check(NULL cache)", check(h, 517, s, 1, d, 1, false, true), arg));
        got.push(("check(NULL out)", check(h, 517, s, 1, d, 1, true, false), arg));
        got.push(("check(NULL, 0 record)", check(null(), 0, s, 1, d, 1, true, true), need));
        got.push(("check(NULL, 1 record)", check(null(), 1, s, 1, d, 1, true, true), arg));
        got.push(("check(NULL, 0 secrets)", check(h, 517, null(), 0, d, 1, true, true), bad_hmac));
        got.push(("check(NULL, 1 secrets)", check(h, 517, null(), 1, d, 1, true, true), arg));
        got.push(("check(NULL, 0 domains)", check(h, 517, s, 1, null(), 0, true, true), unknown_sni));
        got.push(("check(NULL, 1 domains)", check(h, 517, s, 1, null(), 1, true, true), arg));
        got.push(("check(domain NULL, 0)", check(h, 517, s, 1, null_empty.as_ptr(), 1, true, true), unknown_sni));
        got.push(("check(domain NULL, 1)", check(h, 517, s, 1, null_one.as_ptr(), 1, true, true), arg));
        got.push(("check(second domain NULL, 1)", check(h, 517, s, 1, then_null.as_ptr(), 2, true, true), arg));
        let too_many = usize::MAX / 16 + 1;
        got.push(("check(secret_count overflows)", check(null(), 0, s, too_many, d, 1, true, true), arg));

        let client_random = [1u8; 32];
        let session_id = [2u8; 32];
        let random = [3u8; 32];
        let mut flight = [0u8; 140];
        let mut n = 0usize;
        let (cr, sid, sec, rnd) =
            (client_random.as_ptr(), session_id.as_ptr(), secret.as_ptr(), random.as_ptr());
        // SAFETY: 32-byte randoms and ids, a 16-byte secret, `random_len`
        // bytes at `random`, `out_cap` bytes at `out`; NULL only where the
        // contract refuses it or allows it for a zero length.
        unsafe {
            let f = flight.as_mut_ptr();
            got.push(("sh(NULL client_random)", $b::mtp_tls_build_server_hello(null(), sid, 1, sec, 0, 0, rnd, 32, f, 140, &mut n).into(), arg));
            got.push(("sh(NULL session_id)", $b::mtp_tls_build_server_hello(cr, null(), 1, sec, 0, 0, rnd, 32, f, 140, &mut n).into(), arg));
            got.push(("sh(NULL secret)", $b::mtp_tls_build_server_hello(cr, sid, 1, null(), 0, 0, rnd, 32, f, 140, &mut n).into(), arg));
            got.push(("sh(swap 2)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, 2, rnd, 32, f, 140, &mut n).into(), arg));
            got.push(("sh(swap -1)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, -1, rnd, 32, f, 140, &mut n).into(), arg));
            got.push(("sh(NULL, 0 random)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, 0, null(), 0, f, 140, &mut n).into(), arg));
            got.push(("sh(NULL, 32 random)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, 0, null(), 32, f, 140, &mut n).into(), arg));
            got.push(("sh(NULL, 0 out)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, 0, rnd, 32, null_mut(), 0, &mut n).into(), space));
            got.push(("sh(NULL, 1 out)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, 0, rnd, 32, null_mut(), 1, &mut n).into(), arg));
            got.push(("sh(out 137)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, 0, rnd, 32, f, 137, &mut n).into(), space));
            got.push(("sh(NULL written)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, 1, rnd, 32, f, 140, null_mut()).into(), 0));
            n = 0;
            got.push(("sh(valid)", $b::mtp_tls_build_server_hello(cr, sid, 1, sec, 0, 1, rnd, 32, f, 140, &mut n).into(), 0));
            got.push(("sh written", n as i64, 138));

            let mut info = mtp_tls_server_hello_info::default();
            let fp = flight.as_ptr();
            got.push(("psh(NULL client_random)", $b::mtp_tls_parse_server_hello(fp, 138, null(), sid, sec, &mut info).into(), arg));
            got.push(("psh(NULL session_id)", $b::mtp_tls_parse_server_hello(fp, 138, cr, null(), sec, &mut info).into(), arg));
            got.push(("psh(NULL secret)", $b::mtp_tls_parse_server_hello(fp, 138, cr, sid, null(), &mut info).into(), arg));
            got.push(("psh(NULL out)", $b::mtp_tls_parse_server_hello(fp, 138, cr, sid, sec, null_mut()).into(), arg));
            got.push(("psh(NULL, 0)", $b::mtp_tls_parse_server_hello(null(), 0, cr, sid, sec, &mut info).into(), need));
            got.push(("psh(NULL, 1)", $b::mtp_tls_parse_server_hello(null(), 1, cr, sid, sec, &mut info).into(), arg));
            got.push(("psh(valid)", $b::mtp_tls_parse_server_hello(fp, 138, cr, sid, sec, &mut info).into(), 0));
            got.push(("psh total, swapped", (info.total_len * 10) as i64 + i64::from(info.extensions_swapped), 1381));
        }

        let mut ch = [0u8; 517];
        let (dom, r64) = (name.as_ptr(), random64.as_ptr());
        let t = NOW as u32;
        // SAFETY: a 16-byte secret, 64 random bytes, `domain_len` bytes at
        // `domain`, `out_cap` bytes at `out`; NULL only where the contract
        // refuses it or allows it for a zero length.
        unsafe {
            let o = ch.as_mut_ptr();
            got.push(("ch(NULL secret)", $b::mtp_tls_build_client_hello(null(), dom, 11, t, r64, 517, o, 517, &mut n).into(), arg));
            got.push(("ch(NULL random)", $b::mtp_tls_build_client_hello(sec, dom, 11, t, null(), 517, o, 517, &mut n).into(), arg));
            got.push(("ch(NULL, 0 domain)", $b::mtp_tls_build_client_hello(sec, null(), 0, t, r64, 517, o, 517, &mut n).into(), arg));
            got.push(("ch(NULL, 1 domain)", $b::mtp_tls_build_client_hello(sec, null(), 1, t, r64, 517, o, 517, &mut n).into(), arg));
            got.push(("ch(NULL, 0 out)", $b::mtp_tls_build_client_hello(sec, dom, 11, t, r64, 517, null_mut(), 0, &mut n).into(), space));
            got.push(("ch(NULL, 1 out)", $b::mtp_tls_build_client_hello(sec, dom, 11, t, r64, 517, null_mut(), 1, &mut n).into(), arg));
            got.push(("ch(NULL written)", $b::mtp_tls_build_client_hello(sec, dom, 11, t, r64, 517, o, 517, null_mut()).into(), 0));
            n = 0;
            got.push(("ch(valid)", $b::mtp_tls_build_client_hello(sec, dom, 11, t, r64, 517, o, 517, &mut n).into(), 0));
            got.push(("ch written", n as i64, 517));
        }
        got.push(("ch same as the Rust builder's", i64::from(ch[..] == hello[..]), 1));

        let record = [0x17u8, 0x03, 0x03, 0x00, 0x05, 10, 11, 12, 13, 14];
        let mut plain = [0u8; 8];
        let feed = |input: *const u8, in_len: usize, out: *mut u8, cap: usize, counts: bool| -> [i64; 3] {
            let (mut used, mut made) = (99usize, 99usize);
            let (u, m): (*mut usize, *mut usize) =
                if counts { (&mut used as *mut _, &mut made as *mut _) } else { (null_mut(), null_mut()) };
            // SAFETY: a fresh reader from _new, freed once; `in_len` bytes at
            // `input`, `cap` bytes at `out`, NULL only as the contract allows.
            let rc = unsafe {
                let reader = $b::mtp_tls_reader_new(0);
                let rc = $b::mtp_tls_reader_feed(reader, input, in_len, out, cap, u, m);
                $b::mtp_tls_reader_free(reader);
                rc
            };
            [rc.into(), used as i64, made as i64]
        };
        let (rp, pp) = (record.as_ptr(), plain.as_mut_ptr());
        // SAFETY: a NULL reader is refused before anything is read.
        let no_reader = unsafe { $b::mtp_tls_reader_feed(null_mut(), rp, 10, pp, 8, null_mut(), null_mut()) };
        got.push(("feed(NULL reader)", no_reader.into(), arg));
        // SAFETY: _new takes any value; NULL answers are not used.
        unsafe {
            got.push(("reader_new(2)", $b::mtp_tls_reader_new(2).is_null().into(), 1));
            got.push(("reader_new(-1)", $b::mtp_tls_reader_new(-1).is_null().into(), 1));
            $b::mtp_tls_reader_free(null_mut());
        }
        for (label, v, want) in [
            ("feed(NULL, 0 input)", feed(null(), 0, pp, 8, true), [0, 0, 0]),
            ("feed(NULL, 1 input)", feed(null(), 1, pp, 8, true), [arg, 99, 99]),
            ("feed(NULL, 0 out)", feed(rp, 10, null_mut(), 0, true), [0, 5, 0]),
            ("feed(NULL, 1 out)", feed(rp, 10, null_mut(), 1, true), [arg, 99, 99]),
            ("feed(NULL counts)", feed(rp, 10, pp, 8, false), [0, 99, 99]),
            ("feed(valid)", feed(rp, 10, pp, 8, true), [0, 10, 5]),
        ] {
            for k in 0..3 {
                got.push((label, v[k], want[k]));
            }
        }

        let mut wrapped = [0u8; 8];
        let wp = wrapped.as_mut_ptr();
        let payload = [0xabu8];
        // SAFETY: `len` bytes at `payload`, `out_cap` bytes at `out`; NULL
        // only where the contract refuses it or allows it for a zero length.
        unsafe {
            n = 99;
            got.push(("wrap(NULL, 0 both)", $b::mtp_tls_wrap_records(null(), 0, null_mut(), 0, &mut n).into(), 0));
            got.push(("wrap(NULL, 0 both) written", n as i64, 0));
            got.push(("wrap(NULL, 1 payload)", $b::mtp_tls_wrap_records(null(), 1, wp, 8, &mut n).into(), arg));
            got.push(("wrap(NULL, 0 out)", $b::mtp_tls_wrap_records(payload.as_ptr(), 1, null_mut(), 0, &mut n).into(), space));
            got.push(("wrap(NULL, 1 out)", $b::mtp_tls_wrap_records(payload.as_ptr(), 1, null_mut(), 1, &mut n).into(), arg));
            got.push(("wrap(NULL written)", $b::mtp_tls_wrap_records(payload.as_ptr(), 1, wp, 6, null_mut()).into(), 0));
            got.push(("wrap(out 5)", $b::mtp_tls_wrap_records(payload.as_ptr(), 1, wp, 5, &mut n).into(), space));
        }
        got.push(("wrapped", i64::from(wrapped[..6] == [0x17, 3, 3, 0, 1, 0xab]), 1));

        let mut public = [0u8; 32];
        // SAFETY: 32-byte keys; NULL only where the contract refuses it.
        unsafe {
            got.push(("x25519(NULL private)", $b::mtp_tls_x25519_public_key(null(), public.as_mut_ptr()).into(), arg));
            got.push(("x25519(NULL public)", $b::mtp_tls_x25519_public_key(rnd, null_mut()).into(), arg));
            got.push(("x25519(valid)", $b::mtp_tls_x25519_public_key(rnd, public.as_mut_ptr()).into(), 0));
        }

        let probe_random = [7u8; 100];
        let mut probe = [0u8; 517];
        let pr = probe_random.as_ptr();
        // SAFETY: 100 random bytes, `domain_len` bytes at `domain`,
        // `out_cap` bytes at `out`; NULL only where the contract refuses it
        // or allows it for a zero length.
        unsafe {
            let o = probe.as_mut_ptr();
            got.push(("probe(NULL random)", $b::mtp_tls_build_probe_hello(dom, 11, null(), o, 517, &mut n).into(), arg));
            got.push(("probe(NULL, 0 domain)", $b::mtp_tls_build_probe_hello(null(), 0, pr, o, 517, &mut n).into(), arg));
            got.push(("probe(NULL, 1 domain)", $b::mtp_tls_build_probe_hello(null(), 1, pr, o, 517, &mut n).into(), arg));
            got.push(("probe(NULL, 0 out)", $b::mtp_tls_build_probe_hello(dom, 11, pr, null_mut(), 0, &mut n).into(), space));
            got.push(("probe(NULL, 1 out)", $b::mtp_tls_build_probe_hello(dom, 11, pr, null_mut(), 1, &mut n).into(), arg));
            got.push(("probe(NULL written)", $b::mtp_tls_build_probe_hello(dom, 11, pr, o, 517, null_mut()).into(), 0));
            n = 0;
            got.push(("probe(valid)", $b::mtp_tls_build_probe_hello(dom, 11, pr, o, 517, &mut n).into(), 0));
            got.push(("probe written", n as i64, 517));

            let mut reply = mtp_tls_probe_reply::default();
            let short = [0x16u8, 0x03, 0x03];
            got.push(("reply(NULL session_id)", $b::mtp_tls_parse_probe_reply(short.as_ptr(), 3, null(), &mut reply).into(), arg));
            got.push(("reply(NULL out)", $b::mtp_tls_parse_probe_reply(short.as_ptr(), 3, sid, null_mut()).into(), arg));
            got.push(("reply(NULL, 0)", $b::mtp_tls_parse_probe_reply(null(), 0, sid, &mut reply).into(), need));
            got.push(("reply(NULL, 1)", $b::mtp_tls_parse_probe_reply(null(), 1, sid, &mut reply).into(), arg));
            got.push(("reply(short)", $b::mtp_tls_parse_probe_reply(short.as_ptr(), 3, sid, &mut reply).into(), need));

            let replies = [mtp_tls_probe_reply { flight_len: 100, record_count: 1, ..Default::default() }];
            let mut profile = mtp_tls_profile::default();
            got.push(("profile(NULL, 1 replies)", $b::mtp_tls_profile_from_replies(null(), 1, NOW, &mut profile).into(), arg));
            got.push(("profile(NULL, 0 replies)", $b::mtp_tls_profile_from_replies(null(), 0, NOW, &mut profile).into(), arg));
            got.push(("profile(0 replies)", $b::mtp_tls_profile_from_replies(replies.as_ptr(), 0, NOW, &mut profile).into(), arg));
            got.push(("profile(NULL out)", $b::mtp_tls_profile_from_replies(replies.as_ptr(), 1, NOW, null_mut()).into(), arg));
            got.push(("profile(valid)", $b::mtp_tls_profile_from_replies(replies.as_ptr(), 1, NOW, &mut profile).into(), 0));
            got.push(("profile len", profile.app_data_len as i64, 100));
            got.push(("app_data_len(NULL)", $b::mtp_tls_profile_app_data_len(null(), 1234) as i64, 2500 + 1234 % 1120));
            let unlearned = mtp_tls_profile::default();
            got.push(("app_data_len(unlearned)", $b::mtp_tls_profile_app_data_len(&unlearned, 5) as i64, 2505));

            let mut text = [0u8; 4];
            let tp = text.as_mut_ptr();
            let empty: &[u8] = &[];
            got.push(("stats(NULL profile)", $b::mtp_tls_render_profile_stats(dom, 11, null(), NOW, 0, tp, 4) as i64, 0));
            got.push(("stats(NULL, 1 domain)", $b::mtp_tls_render_profile_stats(null(), 1, &unlearned, NOW, 0, tp, 4) as i64, 0));
            got.push(("stats(empty domain)", $b::mtp_tls_render_profile_stats(empty.as_ptr(), 0, &unlearned, NOW, 0, null_mut(), 0) as i64, fallback_len));
            got.push(("stats(NULL, 0 domain)", $b::mtp_tls_render_profile_stats(null(), 0, &unlearned, NOW, 0, null_mut(), 0) as i64, fallback_len));
            got.push(("stats(NULL, 5 out)", $b::mtp_tls_render_profile_stats(null(), 0, &unlearned, NOW, 0, null_mut(), 5) as i64, fallback_len));
            got.push(("stats(out, 0)", $b::mtp_tls_render_profile_stats(null(), 0, &unlearned, NOW, 0, tp, 0) as i64, fallback_len));
            got.push(("stats(out, 0) wrote", i64::from(text[0]), 0));
            got.push(("stats(out, 1)", $b::mtp_tls_render_profile_stats(null(), 0, &unlearned, NOW, 0, tp, 1) as i64, fallback_len));
            got.push(("stats(out, 1) wrote", i64::from(text[0]) * 256 + i64::from(text[1]), i64::from(b'f') * 256));
        }
        got
    }};
}

/// Every pointer argument of the fake-TLS contract, NULL alone, (NULL, 0)
/// and (NULL, 1), on both sides: C and Rust agree with each other and with
/// the C code's contract.
#[test]
fn null_and_empty_arguments_agree() {
    use mtproxy_sys::bindings as rust_raw;
    use mtproxy_sys::bindings_cref as c_raw;
    let c_got = arg_calls!(c_raw);
    let r_got = arg_calls!(rust_raw);
    for (c, r) in c_got.iter().zip(&r_got) {
        assert_eq!(c.1, c.2, "C: {}", c.0);
        assert_eq!(r.1, r.2, "Rust: {}", r.0);
        assert_eq!(c, r);
    }
    assert_eq!(c_got.len(), r_got.len());
}

/// The largest `secret_count` C takes (SIZE_MAX / 16) passes the argument
/// check; the call then stops at the empty record before reading any
/// secret. C only: the Rust side puts a slice over the secrets, and no
/// slice that long can exist, so the bound is pinned on the C copy.
#[test]
fn largest_secret_count_passes_the_c_argument_check() {
    use mtproxy_sys::bindings_cref as c_raw;
    let mut out = mtp_tls_hello_check::default();
    // SAFETY: the record is empty, so the C code returns before it reads
    // `secrets`; the cache comes from _new and is freed once.
    let rc = unsafe {
        let cache = c_raw::mtp_tls_replay_cache_new(8);
        let rc = c_raw::mtp_tls_check_client_hello(
            null(),
            0,
            0,
            SECRET.as_ptr(),
            usize::MAX / 16,
            null(),
            0,
            cache,
            NOW,
            &mut out,
        );
        c_raw::mtp_tls_replay_cache_free(cache);
        rc
    };
    assert_eq!(rc, NEED_MORE);
}
