//! A loopback HTTP/1.1 server for the tests of fetched files (`--config-url`,
//! `--secret-url`): each path has an answer the test sets and changes — a
//! body, another status, a body cut short of its Content-Length, or a body
//! after a delay — and the server counts the requests per path. Every
//! answer carries a Date header, off the real time by what the test sets
//! (for `doctor`'s clock check).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// What a path answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status, empty body.
    Status(u16),
    /// 200 announcing 100 bytes more than it sends, then closed.
    Truncated(Vec<u8>),
    /// 200 with this body, after this delay.
    Slow(Duration, Vec<u8>),
}

#[derive(Default)]
struct Shared {
    answers: HashMap<String, Answer>,
    hits: HashMap<String, usize>,
    clock_offset_secs: i64,
}

pub struct HttpServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Listens on 127.0.0.1, a free port.
    pub fn start() -> io::Result<HttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&shared), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if st.load(Ordering::Acquire) {
                    return;
                }
                if let Ok(stream) = stream {
                    let s = Arc::clone(&s);
                    std::thread::spawn(move || serve(stream, &s));
                }
            }
        });
        Ok(HttpServer {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, path: &str, answer: Answer) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.answers.insert(path.to_string(), answer);
    }

    /// The Date header says the real time plus this.
    pub fn set_clock_offset(&self, secs: i64) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.clock_offset_secs = secs;
    }

    /// Requests for `path` so far.
    pub fn hits(&self, path: &str) -> usize {
        let shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.hits.get(path).copied().unwrap_or(0)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request: its path, then the answer set for it (404 when none).
fn serve(mut stream: TcpStream, shared: &Mutex<Shared>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (answer, offset) = {
        let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
        *shared.hits.entry(path.clone()).or_default() += 1;
        (shared.answers.get(&path).cloned(), shared.clock_offset_secs)
    };
    let (status, body, announced) = match answer {
        None => (404, Vec::new(), 0),
        Some(Answer::Body(body)) => {
            let n = body.len();
            (200, body, n)
        }
        Some(Answer::Status(code)) => (code, Vec::new(), 0),
        Some(Answer::Truncated(body)) => {
            let n = body.len() + 100;
            (200, body, n)
        }
        Some(Answer::Slow(delay, body)) => {
            std::thread::sleep(delay);
            let n = body.len();
            (200, body, n)
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let date = http_date(now + offset);
    let head = format!(
        "HTTP/1.1 {status} X\r\nDate: {date}\r\nContent-Length: {announced}\r\n\
         Connection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

pub use mtproxy_core::net::stats_http::http_date;
