use super::{expect_eq, Check};
use mtproxy_sys::bindings as ffi;
use mtproxy_sys::c::net_events::{now_ms, Event, Reactor};
use std::io::Write;
use std::os::fd::AsRawFd;

fn reactor() -> Result<Reactor, String> {
    Reactor::new().ok_or_else(|| "mtp_reactor_new returned NULL".to_string())
}

fn wait(r: &mut Reactor, timeout_ms: i32) -> Result<Vec<(u64, u32)>, String> {
    let mut out = [Event::default(); 16];
    let n = r.wait(&mut out, timeout_ms).map_err(|e| format!("wait failed: {e}"))?;
    Ok(out[..n].iter().map(|e| (e.token, e.events)).collect())
}

pub const CHECKS: &[Check] = &[
    ("timers fire in deadline then arming order; cancel", || {
        let mut r = reactor()?;
        let late = r.timer(3, 30);
        r.timer(1, 0);
        r.timer(2, 0);
        expect_eq("cancel pending", r.cancel(late), true)?;
        expect_eq("cancel twice", r.cancel(late), false)?;
        let start = now_ms();
        let got = wait(&mut r, 1000)?;
        let t = ffi::MTP_EV_TIMER;
        expect_eq("expired timers", got, vec![(1, t), (2, t)])?;
        expect_eq("nothing left within 50 ms", wait(&mut r, 50)?, vec![])?;
        expect_eq("clock moved forward", now_ms() >= start, true)
    }),
    ("socket readiness and wake", || {
        let mut r = reactor()?;
        let (mut a, b) = std::os::unix::net::UnixStream::pair().map_err(|e| e.to_string())?;
        b.set_nonblocking(true).map_err(|e| e.to_string())?;
        r.add(b.as_raw_fd(), 77).map_err(|e| format!("add: {e}"))?;
        a.write_all(b"x").map_err(|e| e.to_string())?;
        let got = wait(&mut r, 1000)?;
        let ready = got.iter().any(|&(t, ev)| t == 77 && ev & ffi::MTP_EV_READ != 0);
        expect_eq("read readiness reported", ready, true)?;
        let waker = r.waker();
        std::thread::spawn(move || waker.wake()).join().map_err(|_| "waker thread panicked")?;
        let got = wait(&mut r, 1000)?;
        expect_eq("wake reported", got.contains(&(0, ffi::MTP_EV_WAKE)), true)?;
        r.remove(b.as_raw_fd()).map_err(|e| format!("remove: {e}"))
    }),
];
