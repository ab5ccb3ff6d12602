//! `--proxy-protocol` (README "Behind a load balancer"; Rust proxy only):
//! the client address of a PROXY protocol v1/v2 header reaches the
//! middle-end; connections from outside the trusted blocks, and missing,
//! malformed or slow headers, are closed with nothing forwarded. Builds
//! whose proxy is C run the refusal test instead.
#[cfg(not(feature = "rust-mtproto-proxy"))]
#[test]
fn a_c_proxy_build_refuses_the_proxy_protocol_naming_the_feature() {
    crate::harness::refused(
        &["-H", "0", "--proxy-protocol", "10.0.0.0/8", "x.conf"],
        "the PROXY protocol (--proxy-protocol) needs the Rust proxy: build with --features rust-mtproto-proxy",
    );
}

#[cfg(feature = "rust-mtproto-proxy")]
mod rust_proxy {
    use crate::harness::*;
    use mtproxy_core::net::proxy_protocol as pp;
    use mtproxy_testkit::client::{ClientOptions, Received, TestClient, Transport};
    use mtproxy_testkit::fake_me::Event;
    use std::io::Write;
    use std::net::{Ipv6Addr, SocketAddr, TcpStream};

    /// Polls /stats for a Rust-only counter (rendered by the Rust engine
    /// only: with a C engine nothing is checked).
    fn wait_counter(rig: &Rig, key: &str, value: i64) {
        if cfg!(feature = "rust-engine-main") {
            rig.wait_stat(key, value);
        }
    }

    /// A client behind the balancer: `prefix` first, then a handshake and
    /// one echoed packet; returns the address the middle-end was told.
    fn through(rig: &Rig, prefix: Vec<u8>, one_byte_writes: bool, seed: u32) -> (Ipv6Addr, i32) {
        let options = ClientOptions {
            prefix,
            one_byte_writes,
            ..ClientOptions::default()
        };
        let addr = rig.proxy.addr();
        let mut client = TestClient::connect(addr, SECRET_HEX, Transport::Intermediate, 2, options)
            .unwrap_or_else(|e| panic!("connect: {e}; {}", rig.proxy.stderr_text()));
        let p = packet(64, seed);
        client.send_packet(&p, false).unwrap();
        assert_eq!(
            client.recv_packet(WAIT).unwrap(),
            Received::Packet(p.clone())
        );
        rig.me
            .handle()
            .wait_for(WAIT, |events| {
                events.iter().find_map(|e| match e {
                    Event::ProxyReq(r) if r.packet == p => Some((r.client_ip, r.client_port)),
                    _ => None,
                })
            })
            .expect("the request reached the middle-end")
    }

    fn mapped(v4: [u8; 4]) -> Ipv6Addr {
        std::net::Ipv4Addr::from(v4).to_ipv6_mapped()
    }

    #[test]
    fn the_header_address_is_the_client_address() {
        let rig = Rig::start(&["--proxy-protocol", "10.0.0.0/8,127.0.0.1"]);
        let dst = rig.proxy.addr();
        let v4: SocketAddr = "203.0.113.7:40000".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::7]:41000".parse().unwrap();
        assert_eq!(
            through(&rig, pp::encode_v1(v4, dst), false, 1),
            (mapped([203, 0, 113, 7]), 40000)
        );
        let dst6: SocketAddr = "[::1]:443".parse().unwrap();
        let tlvs = [0x04, 0x00, 0x02, 0xab, 0xcd];
        assert_eq!(
            through(&rig, pp::encode_v2(v6, dst6, &tlvs), false, 2),
            ("2001:db8::7".parse().unwrap(), 41000)
        );
        // A header (and handshake) arriving one byte per write.
        assert_eq!(
            through(&rig, pp::encode_v2(v4, dst, &[]), true, 3),
            (mapped([203, 0, 113, 7]), 40000)
        );
        // LOCAL (a health check of the balancer): its own address stands.
        let (ip, _) = through(&rig, pp::encode_v2_local(), false, 4);
        assert_eq!(ip, mapped([127, 0, 0, 1]));
        wait_counter(&rig, "proxy_protocol_headers", 4);
        wait_counter(&rig, "proxy_protocol_bad", 0);
    }

    /// Writes `bytes` on a fresh connection and expects the proxy to close
    /// it without sending anything.
    fn closed_silently(rig: &Rig, bytes: &[u8]) {
        let mut s = TcpStream::connect(rig.proxy.addr()).unwrap();
        let _ = s.write_all(bytes);
        let (got, closed) = drain(&mut s);
        assert!(
            got.is_empty() && closed,
            "{:?}: got {got:?}, closed {closed}",
            bytes
        );
    }

    #[test]
    fn bad_untrusted_and_slow_headers_are_closed_with_nothing_forwarded() {
        let rig = Rig::start(&["--proxy-protocol", "127.0.0.1/32"]);
        let dst = rig.proxy.addr();
        let src: SocketAddr = "198.51.100.1:1000".parse().unwrap();
        // No header: the obfuscated2 header of a direct client.
        closed_silently(&rig, &[0xef; 64]);
        closed_silently(&rig, b"PROXY TCP4 198.51.100.1 x 1 2\r\nmore");
        let mut v2 = pp::encode_v2(src, dst, &[]);
        v2[13] = 0x12; // UDP
        closed_silently(&rig, &v2);
        let mut long = b"PROXY UNKNOWN ".to_vec();
        long.resize(200, b'a');
        closed_silently(&rig, &long);
        wait_counter(&rig, "proxy_protocol_bad", 4);
        // Half a header, then nothing: cut at the handshake deadline.
        let header = pp::encode_v1(src, dst);
        closed_silently(&rig, &header[..10]);
        wait_counter(&rig, "proxy_protocol_bad", 5);
        // A good header still works after all that.
        through(&rig, pp::encode_v1(src, dst), false, 9);
        let forwarded = rig
            .me
            .handle()
            .events()
            .iter()
            .filter(|e| matches!(e, Event::ProxyReq(_)))
            .count();
        assert_eq!(forwarded, 1, "only the good client reached the middle-end");

        // Outside the trusted blocks: closed before a byte is read, even
        // with a good header and handshake.
        let strict = Rig::start(&["--proxy-protocol", "10.0.0.0/8"]);
        let options = ClientOptions {
            prefix: pp::encode_v1(src, dst),
            ..ClientOptions::default()
        };
        let addr = strict.proxy.addr();
        if let Ok(mut client) =
            TestClient::connect(addr, SECRET_HEX, Transport::Intermediate, 2, options)
        {
            let _ = client.send_packet(&packet(64, 10), false);
            assert!(
                client.recv_packet(WAIT).is_err(),
                "an untrusted client was served"
            );
        }
        wait_counter(&strict, "proxy_protocol_untrusted", 1);
        assert!(!strict
            .me
            .handle()
            .events()
            .iter()
            .any(|e| matches!(e, Event::ProxyReq(_))));
    }

    #[test]
    fn malformed_blocks_are_refused_at_start_up() {
        refused(
            &["-H", "0", "--proxy-protocol", "10.0.0.0/33", "x.conf"],
            "--proxy-protocol: `10.0.0.0/33`",
        );
    }
}
