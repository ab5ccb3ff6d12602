use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::pid;

pub const CHECKS: &[Check] = &[
    ("wire layout", || {
        let id = pid::process_id_init(0x7f00_0001, 8888, 70_000, 0x6000_0001);
        let want = [
            0x01, 0x00, 0x00, 0x7f, 0xb8, 0x22, 0x70, 0x11, 0x01, 0x00, 0x00, 0x60,
        ];
        expect_eq("encode", pid::process_id_encode(&id), want)?;
        let back = pid::process_id_decode(&want).map(|d| (d.ip, d.port, d.pid, d.utime));
        expect_eq("decode", back, Ok((0x7f00_0001, 8888, 4464, 0x6000_0001)))
    }),
    ("short input", || {
        expect_eq(
            "decode 11 bytes",
            pid::process_id_decode(&[0; 11]).map(|_| ()),
            Err(pid::ERR_SHORT),
        )
    }),
    ("wildcards", || {
        let own = pid::process_id_init(0x0a00_0001, 443, 1234, 1_700_000_000);
        let peer = pid::ProcessId {
            ip: 0x0a00_0001,
            ..Default::default()
        };
        let wrong = pid::ProcessId {
            port: 80,
            ..Default::default()
        };
        expect_eq("matching peer", pid::process_id_matches(&own, &peer), true)?;
        expect_eq("wrong port", pid::process_id_matches(&own, &wrong), false)
    }),
    ("null pointers", || {
        let wire = [0u8; 12];
        // SAFETY: the contract allows NULL for these pointers.
        let rc = unsafe { raw::mtp_process_id_decode(wire.as_ptr(), 12, std::ptr::null_mut()) };
        expect_eq("decode into NULL", rc, raw::MTP_PID_ERR_ARG)?;
        // SAFETY: as above; a NULL id or output makes encode do nothing.
        unsafe { raw::mtp_process_id_encode(std::ptr::null(), std::ptr::null_mut()) };
        // SAFETY: as above.
        let matched = unsafe { raw::mtp_process_id_matches(std::ptr::null(), std::ptr::null()) };
        expect_eq("matches(NULL, NULL)", matched, 0)
    }),
];
