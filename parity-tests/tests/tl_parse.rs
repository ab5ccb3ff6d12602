//! tl-parse: C vs Rust (and a naive model) over random fetch and store
//! sequences, plus known encodings and hostile lengths.
use parity_tests::{c, config, rust};
use proptest::prelude::*;

use c::tl_parse as ct;
use rust::common::tl_parse as rt;

/// A fetch and what it returned: values, string ranges or an error code.
#[derive(Clone, Debug)]
enum Fetch {
    Int,
    Long,
    Raw(usize),
    String,
    Skip(usize),
    End,
}

/// What one fetch gave, comparable across sides.
type Got = Result<Vec<i64>, i32>;

/// Runs `op` on one side's reader and reports the result plus the state.
macro_rules! apply_fetch {
    ($r:expr, $op:expr) => {{
        let r = &mut $r;
        let got: Got = match *$op {
            Fetch::Int => r
                .fetch_int()
                .map(|v| vec![i64::from(v)])
                .map_err(|e| e.code()),
            Fetch::Long => r.fetch_long().map(|v| vec![v]).map_err(|e| e.code()),
            Fetch::Raw(n) => {
                let mut out = vec![0x5au8; n];
                match r.fetch_raw(&mut out) {
                    Ok(()) => Ok(out.iter().map(|&b| i64::from(b)).collect()),
                    // outputs untouched on error
                    Err(e) => Err(if out.iter().all(|&b| b == 0x5a) {
                        e.code()
                    } else {
                        1
                    }),
                }
            }
            Fetch::String => r
                .fetch_string()
                .map(|s| vec![s.start as i64, s.len() as i64])
                .map_err(|e| e.code()),
            Fetch::Skip(n) => r.skip(n).map(|()| vec![]).map_err(|e| e.code()),
            Fetch::End => r.fetch_end().map(|()| vec![]).map_err(|e| e.code()),
        };
        (got, r.position(), r.error_code(), r.remaining())
    }};
}

/// The reader written as plainly as possible, with u128 bounds.
struct ModelReader<'a> {
    data: &'a [u8],
    pos: usize,
    error: i32,
}

impl ModelReader<'_> {
    fn take(&mut self, n: usize) -> Result<Vec<u8>, i32> {
        if self.error != 0 {
            return Err(self.error);
        }
        if self.pos as u128 + n as u128 > self.data.len() as u128 {
            self.error = -1;
            return Err(-1);
        }
        let out = self.data[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(out)
    }

    fn apply(&mut self, op: &Fetch) -> (Got, usize, i32, usize) {
        let saved = (self.pos, self.error);
        let got = match *op {
            Fetch::Int => self
                .take(4)
                .map(|b| vec![i64::from(i32::from_le_bytes(b.try_into().unwrap()))]),
            Fetch::Long => self
                .take(8)
                .map(|b| vec![i64::from_le_bytes(b.try_into().unwrap())]),
            Fetch::Raw(n) => self
                .take(n)
                .map(|b| b.iter().map(|&x| i64::from(x)).collect()),
            Fetch::String => self.string(),
            Fetch::Skip(n) => self.take(n).map(|_| vec![]),
            Fetch::End if self.error != 0 => Err(self.error),
            Fetch::End if self.pos < self.data.len() => {
                self.error = -4;
                Err(-4)
            }
            Fetch::End => Ok(vec![]),
        };
        if got.is_err() {
            self.pos = saved.0;
        }
        let remaining = self.data.len().saturating_sub(self.pos);
        (got, self.pos, self.error, remaining)
    }

    fn string(&mut self) -> Got {
        let start = self.pos;
        let first = self.take(1)?[0];
        let (header, len) = match first {
            255 => {
                self.error = -2;
                return Err(-2);
            }
            254 => {
                let b = self.take(3)?;
                (
                    4,
                    b[0] as usize + b[1] as usize * 256 + b[2] as usize * 65536,
                )
            }
            l => (1, l as usize),
        };
        let mut total = header + len;
        while total % 4 != 0 {
            total += 1;
        }
        self.pos = start;
        self.take(total)?;
        Ok(vec![(start + header) as i64, len as i64])
    }
}

/// TL string encoding by hand, for building inputs and checking writers.
fn encode_string(s: &[u8], long_form: bool) -> Vec<u8> {
    let mut out = if s.len() < 254 && !long_form {
        vec![s.len() as u8]
    } else {
        let n = s.len() as u32;
        vec![254, n as u8, (n >> 8) as u8, (n >> 16) as u8]
    };
    out.extend_from_slice(s);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

#[test]
fn known_answers_both_sides() {
    let mut data = vec![0x78, 0x56, 0x34, 0x12];
    data.extend_from_slice(&(-2i64).to_le_bytes());
    data.extend_from_slice(&encode_string(b"abc", false)); // 3 abc: no padding
    data.extend_from_slice(&encode_string(b"hello", false)); // 5 hello 0 0
    data.extend_from_slice(&encode_string(b"xy", true)); // long form, short length
    data.extend_from_slice(&encode_string(&[7; 300], false)); // fe 2c 01 00
    assert_eq!(&data[12..16], b"\x03abc");
    assert_eq!(&data[16..24], b"\x05hello\0\0");
    assert_eq!(&data[24..32], b"\xfe\x02\x00\x00xy\0\0");
    assert_eq!(&data[32..36], b"\xfe\x2c\x01\x00");
    macro_rules! check {
        ($m:ident) => {{
            let mut r = $m::TlReader::new(&data);
            assert_eq!(r.fetch_int(), Ok(0x1234_5678));
            assert_eq!(r.fetch_long(), Ok(-2));
            assert_eq!(r.fetch_string(), Ok(13..16));
            assert_eq!(r.fetch_string(), Ok(17..22));
            assert_eq!(r.fetch_string(), Ok(28..30));
            assert_eq!(r.fetch_string(), Ok(36..336));
            assert_eq!(r.fetch_end(), Ok(()));
            let mut r = $m::TlReader::new(&[0xff, 0, 0, 0]);
            assert_eq!(r.fetch_string(), Err($m::TlError::BAD_STRING));
            assert_eq!((r.position(), r.error_code()), (0, -2));
            assert_eq!(r.fetch_int(), Err($m::TlError::BAD_STRING));
            let mut buf = [0xeeu8; 20];
            let mut w = $m::TlWriter::new(&mut buf);
            w.store_int(0x1234_5678).unwrap();
            w.store_string(b"hello").unwrap();
            w.store_long(-2).unwrap();
            assert_eq!(w.store_int(0), Err($m::TlError::OVERFLOW));
            assert_eq!(
                w.written(),
                &[&data[..4], &data[16..24], &data[4..12]].concat()[..]
            );
        }};
    }
    check!(ct);
    check!(rt);
}

#[test]
fn string_prefix_switches_at_254_on_both_sides() {
    // Below 254 bytes the one-byte prefix; from 254 on the four-byte one.
    for (len, prefix) in [
        (253usize, &[253u8][..]),
        (254, &[254, 254, 0, 0][..]),
        (255, &[254, 255, 0, 0][..]),
    ] {
        let s = vec![0x41u8; len];
        let want = [prefix, &s[..]].concat();
        let mut c_buf = vec![0u8; 300];
        let mut r_buf = vec![0u8; 300];
        let mut cw = ct::TlWriter::new(&mut c_buf);
        let mut rw = rt::TlWriter::new(&mut r_buf);
        assert_eq!(cw.store_string(&s), Ok(()));
        assert_eq!(rw.store_string(&s), Ok(()));
        assert_eq!(&cw.written()[..want.len()], &want[..], "C, {len} bytes");
        assert_eq!(&rw.written()[..want.len()], &want[..], "Rust, {len} bytes");
        assert_eq!(cw.position(), want.len().next_multiple_of(4));
        assert_eq!(rw.position(), want.len().next_multiple_of(4));
        assert_eq!(cw.written(), &encode_string(&s, false)[..]);
        assert_eq!(rw.written(), &encode_string(&s, false)[..]);
    }
}

#[test]
fn hostile_string_prefixes() {
    let cases: &[&[u8]] = &[
        &[],
        &[1],
        &[4, 1, 2, 3, 4, 0, 0],
        &[254],
        &[254, 1, 0],
        &[254, 0xff, 0xff, 0xff, 1, 2, 3, 4],
        &[253, 0, 0, 0],
        &[0xff],
    ];
    for &data in cases {
        let mut cr = ct::TlReader::new(data);
        let mut rr = rt::TlReader::new(data);
        let mut model = ModelReader {
            data,
            pos: 0,
            error: 0,
        };
        let want = model.apply(&Fetch::String);
        assert_eq!(apply_fetch!(cr, &Fetch::String), want, "C {data:?}");
        assert_eq!(apply_fetch!(rr, &Fetch::String), want, "Rust {data:?}");
    }
}

#[test]
fn huge_raw_and_skip_lengths() {
    let data = [1u8, 2, 3, 4, 5, 6, 7, 8];
    for n in [
        usize::MAX,
        usize::MAX - 1,
        usize::MAX - 7,
        usize::MAX / 2 + 1,
        9,
    ] {
        for start in [0usize, 3, 8] {
            let mut cr = ct::TlReader::from_parts(&data, start, 0);
            let mut rr = rt::TlReader::from_parts(&data, start, 0);
            assert_eq!(cr.skip(n), Err(ct::TlError::SHORT));
            assert_eq!(rr.skip(n), Err(rt::TlError::SHORT));
            assert_eq!((cr.position(), cr.error_code()), (start, -1));
            assert_eq!((rr.position(), rr.error_code()), (start, -1));

            // fetch_raw with a length no buffer can have: the C side must
            // fail on the bounds check before touching `out`.
            let mut state = mtproxy_sys::bindings_cref::mtp_tl_in {
                data: data.as_ptr(),
                len: data.len(),
                pos: start,
                error: 0,
            };
            let mut out = [0u8; 1];
            // SAFETY: `out` is one byte; the length is deliberately larger
            // because the bounds check must reject it before any write
            // (ASan watches this in the sanitizer run).
            let code = unsafe {
                mtproxy_sys::bindings_cref::mtp_tl_fetch_raw(&mut state, out.as_mut_ptr(), n)
            };
            let mut rr = rt::TlReader::from_parts(&data, start, 0);
            let rust = rr.fetch_bytes(n).map(|_| ()).map_err(|e| e.code());
            assert_eq!((code, state.pos, state.error), (-1, start, -1));
            assert_eq!((rust, rr.position(), rr.error_code()), (Err(-1), start, -1));
            assert_eq!(out, [0]);
        }
    }
}

#[test]
fn null_arguments_on_the_c_side() {
    use mtproxy_sys::bindings_cref as raw;
    use std::ptr::{null, null_mut};
    let data = [0u8; 8];
    let mut state = raw::mtp_tl_in {
        data: data.as_ptr(),
        len: 8,
        pos: 0,
        error: 0,
    };
    // SAFETY: null outputs are part of the contract (MTP_TL_ERR_ARG); the
    // reader state is live.
    let codes = unsafe {
        [
            raw::mtp_tl_fetch_int(null_mut(), null_mut()),
            raw::mtp_tl_fetch_int(&mut state, null_mut()),
            raw::mtp_tl_fetch_long(&mut state, null_mut()),
        ]
    };
    assert_eq!(codes, [-6, -6, -6]);
    assert_eq!((state.pos, state.error), (0, -6));
    // The Rust core's equivalent of a missing argument.
    let mut rr = rt::TlReader::new(&data);
    assert_eq!(rr.require(false), Err(rt::TlError::ARG));
    assert_eq!(rr.fetch_int(), Err(rt::TlError::ARG));

    let mut state = raw::mtp_tl_in {
        data: null(),
        len: 4,
        pos: 0,
        error: 0,
    };
    let mut value = 0;
    let mut out = raw::mtp_tl_out {
        data: null_mut(),
        cap: 0,
        pos: 0,
        error: 0,
    };
    // SAFETY: a null buffer with a nonzero length must be refused, not read;
    // a zero-capacity writer with a null buffer is valid.
    let codes = unsafe {
        [
            raw::mtp_tl_fetch_int(&mut state, &mut value),
            raw::mtp_tl_remaining(&state) as i32,
            raw::mtp_tl_out_init(&mut out, null_mut(), 0),
            raw::mtp_tl_store_raw(&mut out, null(), 0),
            raw::mtp_tl_store_int(&mut out, 1),
            raw::mtp_tl_out_init(&mut out, null_mut(), 4),
            raw::mtp_tl_store_raw(&mut out, null(), 0),
        ]
    };
    assert_eq!(codes, [-6, 0, 0, 0, -5, -6, -6]);
    assert_eq!(value, 0);
}

#[test]
fn strings_at_the_length_limit() {
    let max = vec![0x41u8; 0xff_ffff];
    let too_long = vec![0x41u8; 0x100_0000];
    let mut c_buf = vec![0u8; 0x100_0000 + 4];
    let mut r_buf = vec![0u8; 0x100_0000 + 4];
    {
        let mut cw = ct::TlWriter::new(&mut c_buf);
        let mut rw = rt::TlWriter::new(&mut r_buf);
        assert_eq!(cw.store_string(&too_long), Err(ct::TlError::TOO_LONG));
        assert_eq!(rw.store_string(&too_long), Err(rt::TlError::TOO_LONG));
        assert_eq!((cw.position(), cw.error_code()), (0, -3));
        assert_eq!((rw.position(), rw.error_code()), (0, -3));
    }
    let mut cw = ct::TlWriter::new(&mut c_buf);
    let mut rw = rt::TlWriter::new(&mut r_buf);
    assert_eq!(cw.store_string(&max), Ok(()));
    assert_eq!(rw.store_string(&max), Ok(()));
    assert_eq!(cw.position(), 0x100_0004); // 4 + 0xffffff, padded
    assert_eq!(rw.position(), cw.position());
    assert_eq!(cw.written(), rw.written());
    assert_eq!(
        ct::TlReader::new(cw.written()).fetch_string(),
        Ok(4..0x100_0003)
    );
    assert_eq!(
        rt::TlReader::new(rw.written()).fetch_string(),
        Ok(4..0x100_0003)
    );
}

/// Inputs that contain real TL values as well as garbage.
fn tl_input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => parity_tests::bytes(12),
        3 => (string_bytes(), any::<bool>()).prop_map(|(s, long)| encode_string(&s, long)),
        1 => (string_bytes(), 0usize..8).prop_map(|(s, cut)| {
            let e = encode_string(&s, false);
            e[..e.len().saturating_sub(cut)].to_vec()
        }),
        1 => Just(vec![0xff]),
        1 => any::<[u8; 3]>().prop_map(|b| vec![254, b[0], b[1], b[2]]),
        1 => (parity_tests::boundary_len(&STRING_EDGES, 0xff_ffff), parity_tests::bytes(16))
            .prop_map(|(n, body)| [&[254][..], &(n as u32).to_le_bytes()[..3], &body].concat()),
        1 => (parity_tests::boundary_len(&STRING_EDGES, 255), string_bytes())
            .prop_map(|(first, body)| [&[first as u8][..], &body].concat()),
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}

/// TL string lengths where the encoding switches: 253 is the last short
/// form, 254 the mark of the long form, 255 the invalid mark; padding edges.
const STRING_EDGES: [usize; 5] = [3, 4, 253, 254, 255];

/// String bodies with their length weighted on the encoding edges.
fn string_bytes() -> impl Strategy<Value = Vec<u8>> {
    parity_tests::boundary_bytes(&STRING_EDGES, 300)
}

fn fetch_op() -> impl Strategy<Value = Fetch> {
    let length = prop_oneof![
        4 => parity_tests::boundary_len(&[4, 8], 24),
        1 => (0usize..16).prop_map(|k| usize::MAX - k),
    ];
    prop_oneof![
        1 => Just(Fetch::Int),
        1 => Just(Fetch::Long),
        1 => parity_tests::boundary_len(&[4, 8], 24).prop_map(Fetch::Raw),
        3 => Just(Fetch::String),
        1 => length.prop_map(Fetch::Skip),
        1 => Just(Fetch::End),
    ]
}

/// A starting state: mostly fresh, sometimes resumed mid-buffer, past the
/// end or with an error already recorded.
fn start_state() -> impl Strategy<Value = (usize, i32)> {
    prop_oneof![
        6 => Just((0, 0)),
        2 => (0usize..64, Just(0)),
        1 => (0usize..8, prop_oneof![Just(-1), Just(-4), any::<i32>()]),
    ]
}

#[derive(Clone, Debug)]
enum Store {
    Int(i32),
    Long(i64),
    Raw(Vec<u8>),
    String(Vec<u8>),
}

fn store_op() -> impl Strategy<Value = Store> {
    prop_oneof![
        1 => any::<i32>().prop_map(Store::Int),
        1 => any::<i64>().prop_map(Store::Long),
        1 => parity_tests::boundary_bytes(&[4, 8], 20).prop_map(Store::Raw),
        2 => string_bytes().prop_map(Store::String),
    ]
}

macro_rules! apply_store {
    ($w:expr, $op:expr) => {{
        let w = &mut $w;
        let got = match $op {
            Store::Int(v) => w.store_int(*v),
            Store::Long(v) => w.store_long(*v),
            Store::Raw(b) => w.store_raw(b),
            Store::String(b) => w.store_string(b),
        };
        (got.map_err(|e| e.code()), w.position(), w.error_code())
    }};
}

/// What a reader gets back for a stored value.
macro_rules! read_back {
    ($r:expr, $op:expr, $data:expr) => {{
        let r = &mut $r;
        match $op {
            Store::Int(v) => r.fetch_int() == Ok(*v),
            Store::Long(v) => r.fetch_long() == Ok(*v),
            Store::Raw(b) => {
                let mut out = vec![0; b.len()];
                r.fetch_raw(&mut out).is_ok() && out == *b
            }
            Store::String(b) => {
                let data: &[u8] = $data;
                r.fetch_string().is_ok_and(|s| data[s] == b[..])
            }
        }
    }};
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fetch_sequences_match_each_other_and_the_model(
        data in tl_input(),
        (pos, error) in start_state(),
        ops in proptest::collection::vec(fetch_op(), 0..24),
    ) {
        let mut cr = ct::TlReader::from_parts(&data, pos, error);
        let mut rr = rt::TlReader::from_parts(&data, pos, error);
        let mut model = ModelReader { data: &data, pos, error };
        for op in &ops {
            let want = model.apply(op);
            prop_assert_eq!(apply_fetch!(cr, op), want.clone(), "C {:?}", op);
            prop_assert_eq!(apply_fetch!(rr, op), want, "Rust {:?}", op);
        }
    }

    #[test]
    fn one_string_store_matches_the_model(
        body in string_bytes(),
        slack in -4isize..=4,
        c_reads in any::<bool>(),
    ) {
        let want = encode_string(&body, false);
        let cap = want.len().saturating_add_signed(slack);
        let (mut c_buf, mut r_buf) = (vec![0xeeu8; cap], vec![0xeeu8; cap]);
        let mut cw = ct::TlWriter::new(&mut c_buf);
        let mut rw = rt::TlWriter::new(&mut r_buf);
        let c_got = cw.store_string(&body).map_err(|e| e.code());
        let r_got = rw.store_string(&body).map_err(|e| e.code());
        let fits = cap >= want.len();
        prop_assert_eq!(c_got, if fits { Ok(()) } else { Err(-5) });
        prop_assert_eq!(r_got, c_got);
        prop_assert_eq!(cw.written(), rw.written());
        if fits {
            prop_assert_eq!(rw.written(), &want[..]);
            let got = if c_reads {
                ct::TlReader::new(rw.written()).fetch_string()
            } else {
                rt::TlReader::new(rw.written()).fetch_string().map_err(|e| ct::TlError::from_code(e.code()).unwrap())
            };
            let header = if body.len() < 254 { 1 } else { 4 };
            prop_assert_eq!(got, Ok(header..header + body.len()));
        }
    }

    #[test]
    fn store_sequences_match_and_read_back_on_the_other_side(
        cap in parity_tests::boundary_len(&[256, 258, 260], 400),
        (pos, error) in start_state(),
        ops in proptest::collection::vec(store_op(), 0..12),
    ) {
        let mut c_buf = vec![0xeeu8; cap];
        let mut r_buf = vec![0xeeu8; cap];
        let mut model = Vec::new();
        let mut stored = Vec::new();
        let (c_pos, r_pos) = {
            let mut cw = ct::TlWriter::from_parts(&mut c_buf, pos, error);
            let mut rw = rt::TlWriter::from_parts(&mut r_buf, pos, error);
            let mut model_error = error;
            for op in &ops {
                let c_got = apply_store!(cw, op);
                prop_assert_eq!(&c_got, &apply_store!(rw, op), "{:?}", op);
                // Model: append the encoding if it fits, else fail for good.
                let bytes = match op {
                    Store::Int(v) => v.to_le_bytes().to_vec(),
                    Store::Long(v) => v.to_le_bytes().to_vec(),
                    Store::Raw(b) => b.clone(),
                    Store::String(b) => encode_string(b, false),
                };
                let want = if model_error != 0 {
                    Err(model_error)
                } else if pos + model.len() + bytes.len() > cap {
                    model_error = -5;
                    Err(-5)
                } else {
                    model.extend_from_slice(&bytes);
                    stored.push(op.clone());
                    Ok(())
                };
                prop_assert_eq!(c_got, (want, pos + model.len(), model_error), "{:?}", op);
            }
            (cw.position(), rw.position())
        };
        prop_assert_eq!(&c_buf, &r_buf);
        prop_assert_eq!(c_pos, r_pos);
        if pos <= cap && error == 0 {
            prop_assert_eq!(&c_buf[pos..c_pos], &model[..]);
            prop_assert!(c_buf[c_pos..].iter().all(|&b| b == 0xee));
            // Each side's output read by the other side's reader.
            let mut cr = ct::TlReader::new(&r_buf[pos..r_pos]);
            let mut rr = rt::TlReader::new(&c_buf[pos..c_pos]);
            for op in &stored {
                prop_assert!(read_back!(cr, op, &r_buf[pos..r_pos]), "C reads {:?}", op);
                prop_assert!(read_back!(rr, op, &c_buf[pos..c_pos]), "Rust reads {:?}", op);
            }
            prop_assert_eq!(cr.fetch_end(), Ok(()));
            prop_assert_eq!(rr.fetch_end(), Ok(()));
        }
    }
}
