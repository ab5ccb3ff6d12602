//! The fake-me and fake-domain binaries, run as child processes under
//! ChildGuard.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mtproxy_testkit::process::ChildGuard;

const WAIT: Duration = Duration::from_secs(20);

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mtproxy-testkit-{}-{name}", std::process::id()))
}

/// Polls for a port file until it holds a port or the deadline passes.
fn read_port_file(path: &Path, child: &mut ChildGuard) -> u16 {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(port) = text.trim().parse() {
                return port;
            }
        }
        assert!(child.try_wait().unwrap().is_none(), "child exited early");
        assert!(Instant::now() < deadline, "no port file {}", path.display());
        std::thread::yield_now();
    }
}

/// Polls for the child's exit until the deadline passes.
fn wait_exit(child: &mut ChildGuard) -> std::process::ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "child did not exit");
        std::thread::yield_now();
    }
}

fn spawn(exe: &str, args: &[&str]) -> ChildGuard {
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    ChildGuard::new(child)
}

#[test]
fn fake_me_binary_serves_and_is_killed() {
    let secret = temp_path("secret");
    let port_file = temp_path("me-port");
    let conf = temp_path("me-conf");
    let _ = std::fs::remove_file(&port_file);
    std::fs::write(&secret, (0..128u32).map(|i| i as u8).collect::<Vec<_>>()).unwrap();
    let mut child = spawn(
        env!("CARGO_BIN_EXE_fake-me"),
        &[
            "--secret-file",
            secret.to_str().unwrap(),
            "--port-file",
            port_file.to_str().unwrap(),
            "--conf-out",
            conf.to_str().unwrap(),
            "--dc",
            "2",
            "--dc",
            "-2",
            "--behaviour",
            "reply:16",
        ],
    );
    let port = read_port_file(&port_file, &mut child);
    let conf_text = std::fs::read_to_string(&conf).unwrap();
    assert!(conf_text.contains(&format!("proxy_for 2 127.0.0.1:{port};")));
    assert!(conf_text.contains(&format!("proxy_for -2 127.0.0.1:{port};")));
    assert!(conf_text.contains("default 2;"));
    let stdout = child.child_mut().unwrap().stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert_eq!(
        line.trim(),
        format!("fake-me listening on 127.0.0.1:{port}")
    );
    TcpStream::connect(("127.0.0.1", port)).expect("fake ME accepts");
    let status = child.kill_and_wait().unwrap();
    assert!(!status.success(), "killed, not exited: {status:?}");
    let gone = TcpStream::connect(("127.0.0.1", port));
    assert!(gone.is_err(), "port closed with the process");
    for path in [&secret, &port_file, &conf] {
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn fake_me_binary_exits_on_stdin_eof() {
    let secret = temp_path("secret-eof");
    let port_file = temp_path("me-port-eof");
    let _ = std::fs::remove_file(&port_file);
    std::fs::write(&secret, [7u8; 64]).unwrap();
    let mut child = spawn(
        env!("CARGO_BIN_EXE_fake-me"),
        &[
            "--secret-file",
            secret.to_str().unwrap(),
            "--port-file",
            port_file.to_str().unwrap(),
        ],
    );
    read_port_file(&port_file, &mut child);
    drop(child.child_mut().unwrap().stdin.take());
    assert!(wait_exit(&mut child).success());
    let _ = std::fs::remove_file(&secret);
    let _ = std::fs::remove_file(&port_file);
}

#[test]
fn fake_me_binary_refuses_bad_input_with_code_2() {
    let missing = temp_path("no-such-secret");
    let cases: [&[&str]; 4] = [
        &[],
        &["--secret-file", missing.to_str().unwrap()],
        &["--secret-file", "x", "--behaviour", "dance"],
        &["--secret-file", "x", "--dc"],
    ];
    for args in cases {
        let mut child = spawn(env!("CARGO_BIN_EXE_fake-me"), args);
        let status = wait_exit(&mut child);
        assert_eq!(status.code(), Some(2), "args {args:?}");
        let mut err = String::new();
        let stderr = child.child_mut().unwrap().stderr.take().unwrap();
        BufReader::new(stderr).read_to_string(&mut err).unwrap();
        assert!(err.starts_with("fake-me: "), "args {args:?}: {err}");
    }
}

#[test]
fn fake_domain_binary_answers_and_records() {
    let port_file = temp_path("domain-port");
    let _ = std::fs::remove_file(&port_file);
    let mut child = spawn(
        env!("CARGO_BIN_EXE_fake-domain"),
        &[
            "--port-file",
            port_file.to_str().unwrap(),
            "--reply-hex",
            "160303abcd",
        ],
    );
    let port = read_port_file(&port_file, &mut child);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(b"hello").unwrap();
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply, [0x16, 0x03, 0x03, 0xab, 0xcd]);
    drop(child.child_mut().unwrap().stdin.take());
    assert!(wait_exit(&mut child).success());
    let _ = std::fs::remove_file(&port_file);
    let mut bad = spawn(env!("CARGO_BIN_EXE_fake-domain"), &["--reply-hex", "abc"]);
    assert_eq!(wait_exit(&mut bad).code(), Some(2));
}

/// The first flight's app-data record lengths from a `fake-domain --tls`
/// child started with `extra` flags.
fn tls_binary_flight(extra: &[&str]) -> Vec<usize> {
    let port_file = temp_path(&format!("domain-tls-port-{}", extra.join("-")));
    let _ = std::fs::remove_file(&port_file);
    let mut args = vec!["--port-file", port_file.to_str().unwrap(), "--tls"];
    args.extend(extra);
    let mut child = spawn(env!("CARGO_BIN_EXE_fake-domain"), &args);
    let port = read_port_file(&port_file, &mut child);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let hello =
        mtproxy_testkit::tls::probe_client_hello("bin.example", &[1; 32], &[2; 32], &[9; 32]);
    stream.write_all(&hello).unwrap();
    // Read until the flight parses with its encrypted record(s) complete.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let flight = loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed early after {got:?}");
        got.extend_from_slice(&buf[..n]);
        match mtproxy_testkit::tls::parse_server_flight(&got) {
            Ok(f) if f.wire_len == got.len() && !f.app_data_record_lens.is_empty() => break f,
            Ok(_) | Err(mtproxy_testkit::tls::FlightError::Truncated) => {}
            Err(e) => panic!("{e}"),
        }
    };
    drop(child.child_mut().unwrap().stdin.take());
    assert!(wait_exit(&mut child).success());
    let _ = std::fs::remove_file(&port_file);
    flight.app_data_record_lens
}

#[test]
fn fake_domain_binary_serves_tls_with_a_chosen_cert_size() {
    let small = tls_binary_flight(&[]);
    let big = tls_binary_flight(&["--cert-padding", "3000", "--chain-len", "3"]);
    assert_eq!(small.len(), 1, "{small:?}");
    assert_eq!(big.len(), 1, "{big:?}");
    assert!(big[0] > small[0] + 3000, "{small:?} -> {big:?}");
    for bad in [
        &["--cert-padding", "10"][..],
        &["--tls", "--chain-len", "0"],
        &["--tls", "--cert-padding", "x"],
    ] {
        let mut child = spawn(env!("CARGO_BIN_EXE_fake-domain"), bad);
        assert_eq!(wait_exit(&mut child).code(), Some(2), "{bad:?}");
    }
}

#[test]
fn child_guard_drop_kills_the_child() {
    let port_file = temp_path("domain-port-drop");
    let _ = std::fs::remove_file(&port_file);
    let mut child = spawn(
        env!("CARGO_BIN_EXE_fake-domain"),
        &["--port-file", port_file.to_str().unwrap()],
    );
    let port = read_port_file(&port_file, &mut child);
    TcpStream::connect(("127.0.0.1", port)).unwrap();
    drop(child); // kills and reaps
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    let _ = std::fs::remove_file(&port_file);
}
