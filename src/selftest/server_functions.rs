use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::server_functions as sf;

pub const CHECKS: &[Check] = &[
    ("memory sizes", || {
        expect_eq("256m", sf::parse_memory_size(b"256m"), Ok(256 << 20))?;
        expect_eq(
            "overflow",
            sf::parse_memory_size(b"9007199254740992k"),
            Err(sf::ERR_RANGE),
        )?;
        expect_eq("sign", sf::parse_memory_size(b"-1"), Err(sf::ERR_SYNTAX))
    }),
    ("users", || {
        expect_eq("root", sf::lookup_user("root"), Ok((0, 0)))?;
        let missing = "mtproxy-selftest-no-such-user";
        expect_eq("missing", sf::lookup_user(missing), Err(sf::ERR_NO_USER))?;
        expect_eq(
            "change to missing",
            sf::change_user(missing),
            Err(sf::ERR_NO_USER),
        )
    }),
    ("file limit already reached", || {
        let (now, clamped) =
            sf::raise_file_limit(0).map_err(|e| format!("raise_file_limit: error {e}"))?;
        let again = sf::raise_file_limit(now.soft).map(|(l, c)| (l.soft, l.hard, c));
        expect_eq("no change", again, Ok((now.soft, now.hard, clamped)))
    }),
    ("null pointers", || {
        // SAFETY: the contract allows NULL for these pointers.
        let rc = unsafe {
            raw::mtp_lookup_user(std::ptr::null(), std::ptr::null_mut(), std::ptr::null_mut())
        };
        expect_eq("lookup_user(NULL)", rc, raw::MTP_SF_ERR_ARG)?;
        // SAFETY: as above.
        let rc = unsafe { raw::mtp_raise_file_limit(0, std::ptr::null_mut()) };
        expect_eq("raise_file_limit(NULL)", rc, raw::MTP_SF_ERR_ARG)
    }),
    ("tcp window clamp", || {
        use std::os::fd::AsRawFd;
        let socket = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let file = std::fs::File::open("/dev/null").map_err(|e| e.to_string())?;
        expect_eq("on a socket", sf::set_tcp_window_clamp(socket.as_raw_fd(), 131_072), Ok(()))?;
        expect_eq(
            "on /dev/null",
            sf::set_tcp_window_clamp(file.as_raw_fd(), 1),
            Err(raw::MTP_SF_ERR_SYSCALL),
        )?;
        expect_eq("negative fd", sf::set_tcp_window_clamp(-1, 1), Err(raw::MTP_SF_ERR_ARG))
    }),
];
