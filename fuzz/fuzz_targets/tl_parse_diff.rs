//! Differential: the same TL fetch sequence over the same untrusted bytes on
//! the C reader and the Rust reader; every result and the final state must
//! agree. Input: byte 0 = number of ops (mod 32), then one byte per op, then
//! the buffer to parse.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parity_tests::{c::tl_parse as c_tl, rust::common::tl_parse as rust_tl};

fuzz_target!(|data: &[u8]| {
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let ops = (count % 32) as usize;
    if rest.len() < ops {
        return;
    }
    let (ops, buffer) = rest.split_at(ops);
    let mut c = c_tl::TlReader::new(buffer);
    let mut r = rust_tl::TlReader::new(buffer);
    for &op in ops {
        let arg = usize::from(op >> 3);
        match op & 7 {
            0 => assert_eq!(
                c.fetch_int().map_err(|e| e.code()),
                r.fetch_int().map_err(|e| e.code())
            ),
            1 => assert_eq!(
                c.fetch_long().map_err(|e| e.code()),
                r.fetch_long().map_err(|e| e.code())
            ),
            2 => assert_eq!(
                c.fetch_string().map_err(|e| e.code()),
                r.fetch_string().map_err(|e| e.code())
            ),
            3 => assert_eq!(
                c.skip(arg).map_err(|e| e.code()),
                r.skip(arg).map_err(|e| e.code())
            ),
            4 => {
                let (mut co, mut ro) = (vec![0u8; arg], vec![0u8; arg]);
                assert_eq!(
                    c.fetch_raw(&mut co).map_err(|e| e.code()),
                    r.fetch_raw(&mut ro).map_err(|e| e.code())
                );
                assert_eq!(co, ro);
            }
            5 => assert_eq!(
                c.fetch_end().map_err(|e| e.code()),
                r.fetch_end().map_err(|e| e.code())
            ),
            _ => assert_eq!(c.remaining(), r.remaining()),
        }
        assert_eq!(c.position(), r.position());
        assert_eq!(c.error_code(), r.error_code());
    }
});
