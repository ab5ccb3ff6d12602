use super::{expect_eq, Check};
use mtproxy_sys::c::fake_tls as tls;

const SECRET: [u8; 16] = *b"0123456789abcdef";
const NOW: i64 = 1_700_000_000;

pub const CHECKS: &[Check] = &[
    ("x25519 key share (RFC 7748 6.1)", || {
        let mut private = [0u8; 32];
        let alice = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
        for (i, byte) in private.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&alice[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        let public = tls::x25519_public_key(&private).map(|k| k[..4].to_vec());
        expect_eq("public key head", public, Ok(vec![0x85, 0x20, 0xf0, 0x09]))
    }),
    ("domain probe: hello, reply, profile", || {
        let random = [0x5au8; tls::PROBE_RANDOM_LEN];
        let mut hello = [0u8; tls::PROBE_HELLO_LEN];
        let n = tls::build_probe_hello(b"example.com", &random, &mut hello);
        expect_eq("hello", n, Ok(tls::PROBE_HELLO_LEN))?;
        // A ServerHello echoing the session id, a CCS and one 3000-byte record.
        let mut reply = vec![0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03];
        reply.extend_from_slice(&[1; 32]);
        reply.push(0x20);
        reply.extend_from_slice(&hello[44..76]);
        reply.extend_from_slice(&[0x13, 0x01, 0x00, 0x00, 0x2e]);
        reply.extend_from_slice(&[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        reply.extend_from_slice(&[0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]);
        reply.extend_from_slice(&[2; 32]);
        reply.extend_from_slice(&[0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03, 0x0b, 0xb8]);
        reply.resize(reply.len() + 3000, 0);
        let mut session = [0u8; 32];
        session.copy_from_slice(&hello[44..76]);
        let parsed = tls::parse_probe_reply(&reply, &session)
            .map_err(|e| format!("parse: {e}"))?;
        expect_eq("reply", (parsed.extensions_swapped, parsed.flight_len), (1, 3000))?;
        let profile = tls::profile_from_replies(&[parsed, parsed], NOW)
            .map_err(|e| format!("profile: {e}"))?;
        expect_eq("fixed length", tls::profile_app_data_len(&profile, 3), 3000)?;
        let mut line = [0u8; 128];
        let n = tls::render_profile_stats(b"example.com", &profile, NOW + 5, false, &mut line);
        expect_eq(
            "stats line",
            line.get(..n.min(128)),
            Some(&b"fake_tls_profile_example.com\tlearned age=5 len=3000 random=0 records=1 order=supported_versions,key_share\n"[..]),
        )
    }),
    ("server hello vs python oracle", || {
        let client_random: [u8; 32] = std::array::from_fn(|i| i as u8);
        let session: [u8; 32] = std::array::from_fn(|i| 32 + i as u8);
        let random: Vec<u8> = (0x80..0x80 + 40).collect();
        let mut out = [0u8; 146];
        let n = tls::build_server_hello(
            &client_random,
            &session,
            1,
            &SECRET,
            8,
            false,
            &random,
            &mut out,
        );
        expect_eq("length", n, Ok(146))?;
        expect_eq(
            "server random head",
            &out[11..19],
            &[0xb4, 0xba, 0xf0, 0x2f, 0x9f, 0x1c, 0xf9, 0x20][..],
        )?;
        let info = tls::parse_server_hello(&out, &client_random, &session, &SECRET);
        expect_eq(
            "client parse",
            info.map(|i| (i.cipher_suite, i.total_len)),
            Ok((1, 146)),
        )
    }),
    ("client hello accepted once", || {
        let mut hello = [0u8; 517];
        let random = [7u8; 64];
        let n = tls::build_client_hello(
            &SECRET,
            b"example.com",
            NOW as u32,
            &random,
            517,
            &mut hello,
        );
        expect_eq("build", n, Ok(517))?;
        expect_eq("detect", tls::detect_client_hello(&hello[..5]), Ok(517))?;
        let mut cache = tls::ReplayCache::new(16).map_err(|e| format!("cache: {e}"))?;
        let domains: [&[u8]; 1] = [b"example.com"];
        let first = tls::check_client_hello(&hello, 517, &[SECRET], &domains, &mut cache, NOW);
        expect_eq(
            "first",
            first.map(|c| (c.verdict, c.cipher_suite)),
            Ok((tls::VERDICT_ACCEPT, 1)),
        )?;
        let again = tls::check_client_hello(&hello, 517, &[SECRET], &domains, &mut cache, NOW);
        expect_eq("replay", again.map(|c| c.reason), Ok(tls::REJECT_REPLAY))
    }),
    ("replay cache", || {
        let mut cache = tls::ReplayCache::new(2).map_err(|e| format!("cache: {e}"))?;
        cache.insert(&[1; 16], 100);
        cache.insert(&[2; 16], 200);
        cache.insert(&[3; 16], 300);
        expect_eq("evicted", cache.lookup(&[1; 16], 300), false)?;
        expect_eq("kept", cache.lookup(&[2; 16], 300), true)?;
        expect_eq("len", cache.len(), 2)?;
        expect_eq("oldest", cache.oldest_time(), Some(200))?;
        expect_eq(
            "expired",
            cache.lookup(&[2; 16], 200 + tls::REPLAY_EXPIRY),
            false,
        )
    }),
    ("records both ways", || {
        let payload = [0x5au8; 100];
        let mut wire = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
        expect_eq("wrapped len", tls::wrapped_len(100), 105)?;
        let mut records = [0u8; 105];
        expect_eq("wrap", tls::wrap_records(&payload, &mut records), Ok(105))?;
        wire.extend_from_slice(&records);
        let mut reader = tls::RecordReader::new(true);
        let mut out = [0u8; 200];
        expect_eq("feed", reader.feed(&wire, &mut out), Ok((111, 100)))?;
        expect_eq("payload", &out[..100], &payload[..])?;
        let mut bad = tls::RecordReader::new(true);
        expect_eq(
            "bad ccs",
            bad.feed(b"\x15", &mut out),
            Err(tls::ERR_BAD_CCS),
        )
    }),
];
