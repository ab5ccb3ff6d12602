//! aesni256: C (OpenSSL EVP) vs Rust AES-256 contexts on known answers,
//! random chunkings of random streams, cross-side roundtrips and bad lengths.
use parity_tests::{c, chunked, chunked_bytes, config, rust};
use proptest::prelude::*;

use c::aesni256 as ca;
use rust::crypto::aesni256 as ra;

/// NIST SP 800-38A appendix F: AES-256 key and plaintext of F.2.5/F.2.6 and
/// F.5.5/F.5.6, the CBC and CTR IVs and the expected ciphertexts (4 blocks).
const NIST_KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const NIST_PLAIN: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                          30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const NIST_CBC_IV: &str = "000102030405060708090a0b0c0d0e0f";
const NIST_CBC_CIPHER: &str = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d\
                               39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b";
const NIST_CTR_IV: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const NIST_CTR_CIPHER: &str = "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5\
                               2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn array<const N: usize>(s: &str) -> [u8; N] {
    hex(s).try_into().unwrap()
}

/// The two sides' mode and error enums, as comparable values.
fn c_mode(mode: ra::AesMode) -> ca::AesMode {
    match mode {
        ra::AesMode::Ctr => ca::AesMode::Ctr,
        ra::AesMode::CbcEncrypt => ca::AesMode::CbcEncrypt,
        ra::AesMode::CbcDecrypt => ca::AesMode::CbcDecrypt,
    }
}

fn c_outcome(r: Result<(), ca::AesError>) -> String {
    format!("{r:?}")
}

fn r_outcome(r: Result<(), ra::AesError>) -> String {
    format!("{r:?}")
}

/// A C and a Rust context created with the same arguments.
fn pair(mode: ra::AesMode, key: &[u8; 32], iv: &[u8; 16]) -> (ca::AesContext, ra::AesContext) {
    (
        ca::AesContext::new(c_mode(mode), key, iv).unwrap(),
        ra::AesContext::new(mode, key, iv).unwrap(),
    )
}

#[test]
fn known_answers_both_sides() {
    let key = array::<32>(NIST_KEY);
    for (name, mode, iv, input, want) in [
        (
            "F.2.5",
            ra::AesMode::CbcEncrypt,
            NIST_CBC_IV,
            NIST_PLAIN,
            NIST_CBC_CIPHER,
        ),
        (
            "F.2.6",
            ra::AesMode::CbcDecrypt,
            NIST_CBC_IV,
            NIST_CBC_CIPHER,
            NIST_PLAIN,
        ),
        (
            "F.5.5",
            ra::AesMode::Ctr,
            NIST_CTR_IV,
            NIST_PLAIN,
            NIST_CTR_CIPHER,
        ),
        (
            "F.5.6",
            ra::AesMode::Ctr,
            NIST_CTR_IV,
            NIST_CTR_CIPHER,
            NIST_PLAIN,
        ),
    ] {
        let (mut c_ctx, mut r_ctx) = pair(mode, &key, &array(iv));
        let (mut c_out, mut r_out) = (hex(input), hex(input));
        c_ctx.crypt_in_place(&mut c_out).unwrap();
        r_ctx.crypt_in_place(&mut r_out).unwrap();
        assert_eq!(c_out, hex(want), "C {name}");
        assert_eq!(r_out, hex(want), "Rust {name}");
    }
}

#[test]
fn ctr_counter_carries_over_all_128_bits() {
    // Counters ending in ffffffff (carry into bit 32) and all-ones (wrap to
    // zero), crossed in the middle of a call and at a call boundary.
    let key = [0x3c; 32];
    for iv in [
        array::<16>("000000000000000000000000fffffffe"),
        array::<16>("0000000000000000fffffffffffffffe"),
        array::<16>("fffffffffffffffffffffffffffffffe"),
    ] {
        let (mut c_ctx, mut r_ctx) = pair(ra::AesMode::Ctr, &key, &iv);
        for len in [40, 9, 31] {
            let (mut c_buf, mut r_buf) = (vec![0u8; len], vec![0u8; len]);
            c_ctx.crypt_in_place(&mut c_buf).unwrap();
            r_ctx.crypt_in_place(&mut r_buf).unwrap();
            assert_eq!(c_buf, r_buf, "iv {iv:02x?} len {len}");
        }
    }
}

#[test]
fn empty_calls_are_no_ops() {
    let key = [1; 32];
    for mode in [
        ra::AesMode::Ctr,
        ra::AesMode::CbcEncrypt,
        ra::AesMode::CbcDecrypt,
    ] {
        let (mut c_ctx, mut r_ctx) = pair(mode, &key, &[2; 16]);
        assert_eq!(c_outcome(c_ctx.crypt_in_place(&mut [])), "Ok(())");
        assert_eq!(r_outcome(r_ctx.crypt_in_place(&mut [])), "Ok(())");
        let (mut c_buf, mut r_buf) = ([7u8; 32], [7u8; 32]);
        c_ctx.crypt_in_place(&mut c_buf).unwrap();
        r_ctx.crypt_in_place(&mut r_buf).unwrap();
        assert_eq!(c_buf, r_buf, "{mode:?}");
    }
}

fn any_mode() -> impl Strategy<Value = ra::AesMode> {
    prop_oneof![
        Just(ra::AesMode::Ctr),
        Just(ra::AesMode::CbcEncrypt),
        Just(ra::AesMode::CbcDecrypt),
    ]
}

/// Rounds every chunk of a chunking down to whole blocks (CBC input).
fn whole_block_chunks(chunks: Vec<&[u8]>) -> Vec<&[u8]> {
    chunks
        .into_iter()
        .map(|c| &c[..c.len() / 16 * 16])
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ctr_any_chunking_matches_one_shot_and_other_side(
        key in any::<[u8; 32]>(),
        iv in any::<[u8; 16]>(),
        (data, cuts) in chunked_bytes(2048),
    ) {
        let (mut c_ctx, mut r_ctx) = pair(ra::AesMode::Ctr, &key, &iv);
        let mut streamed = Vec::new();
        for chunk in chunked(&data, &cuts) {
            let (mut c_buf, mut r_buf) = (vec![0u8; chunk.len()], chunk.to_vec());
            c_ctx.crypt(chunk, &mut c_buf).unwrap();
            r_ctx.crypt_in_place(&mut r_buf).unwrap();
            prop_assert_eq!(&c_buf, &r_buf);
            streamed.extend_from_slice(&r_buf);
        }
        let mut one_shot = data.clone();
        ra::AesContext::new(ra::AesMode::Ctr, &key, &iv).unwrap().crypt_in_place(&mut one_shot).unwrap();
        prop_assert_eq!(streamed, one_shot);
    }

    #[test]
    fn cbc_block_chunkings_match_one_shot_and_other_side(
        encrypt in any::<bool>(),
        key in any::<[u8; 32]>(),
        iv in any::<[u8; 16]>(),
        (data, cuts) in chunked_bytes(2048),
    ) {
        let mode = if encrypt { ra::AesMode::CbcEncrypt } else { ra::AesMode::CbcDecrypt };
        let (mut c_ctx, mut r_ctx) = pair(mode, &key, &iv);
        let chunks = whole_block_chunks(chunked(&data, &cuts));
        let mut streamed = Vec::new();
        for chunk in &chunks {
            let (mut c_buf, mut r_buf) = (chunk.to_vec(), vec![0u8; chunk.len()]);
            c_ctx.crypt_in_place(&mut c_buf).unwrap();
            r_ctx.crypt(chunk, &mut r_buf).unwrap();
            prop_assert_eq!(&c_buf, &r_buf);
            streamed.extend_from_slice(&r_buf);
        }
        let mut one_shot = chunks.concat();
        ra::AesContext::new(mode, &key, &iv).unwrap().crypt_in_place(&mut one_shot).unwrap();
        prop_assert_eq!(streamed, one_shot);
    }

    #[test]
    fn encrypt_on_one_side_decrypts_on_the_other(
        c_encrypts in any::<bool>(),
        key in any::<[u8; 32]>(),
        iv in any::<[u8; 16]>(),
        (data, cuts) in chunked_bytes(2048),
    ) {
        let plain = &data[..data.len() / 16 * 16];
        let mut buf = plain.to_vec();
        let mut c_enc = ca::AesContext::new(ca::AesMode::CbcEncrypt, &key, &iv).unwrap();
        let mut r_enc = ra::AesContext::new(ra::AesMode::CbcEncrypt, &key, &iv).unwrap();
        let mut c_dec = ca::AesContext::new(ca::AesMode::CbcDecrypt, &key, &iv).unwrap();
        let mut r_dec = ra::AesContext::new(ra::AesMode::CbcDecrypt, &key, &iv).unwrap();
        // Encrypt with one side in one chunking, decrypt with the other in
        // the same chunk sizes in reverse order.
        let sizes: Vec<usize> = whole_block_chunks(chunked(plain, &cuts)).iter().map(|c| c.len()).collect();
        let mut at = 0;
        for &n in &sizes {
            let part = &mut buf[at..at + n];
            if c_encrypts { c_enc.crypt_in_place(part).unwrap() } else { r_enc.crypt_in_place(part).unwrap() }
            at += n;
        }
        let mut at = 0;
        for &n in sizes.iter().rev() {
            let part = &mut buf[at..at + n];
            if c_encrypts { r_dec.crypt_in_place(part).unwrap() } else { c_dec.crypt_in_place(part).unwrap() }
            at += n;
        }
        prop_assert_eq!(&buf[..at], &plain[..at]);
    }

    #[test]
    fn ctr_roundtrips_across_sides(
        key in any::<[u8; 32]>(),
        iv in any::<[u8; 16]>(),
        (data, cuts) in chunked_bytes(1024),
    ) {
        let mut buf = data.clone();
        let mut c_ctx = ca::AesContext::new(ca::AesMode::Ctr, &key, &iv).unwrap();
        for chunk in buf.chunks_mut(cuts.first().map_or(1, |c| c % 100 + 1)) {
            c_ctx.crypt_in_place(chunk).unwrap();
        }
        let mut r_ctx = ra::AesContext::new(ra::AesMode::Ctr, &key, &iv).unwrap();
        r_ctx.crypt_in_place(&mut buf).unwrap();
        prop_assert_eq!(buf, data);
    }

    #[test]
    fn bad_lengths_fail_alike_and_change_nothing(
        mode in any_mode(),
        key in any::<[u8; 32]>(),
        iv in any::<[u8; 16]>(),
        ops in proptest::collection::vec((0usize..100, any::<bool>()), 1..12),
    ) {
        // A random sequence of calls, some with lengths CBC refuses; after
        // each call both sides agree on the outcome and the bytes, and the
        // streams continue identically (a refused call changed no state).
        let (mut c_ctx, mut r_ctx) = pair(mode, &key, &iv);
        for (i, (len, separate)) in ops.into_iter().enumerate() {
            let input: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
            let (mut c_buf, mut r_buf) = (input.clone(), input.clone());
            let (c_res, r_res) = if separate {
                (c_ctx.crypt(&input, &mut c_buf), r_ctx.crypt(&input, &mut r_buf))
            } else {
                (c_ctx.crypt_in_place(&mut c_buf), r_ctx.crypt_in_place(&mut r_buf))
            };
            prop_assert_eq!(c_outcome(c_res), r_outcome(r_res));
            prop_assert_eq!(c_ctx.check_len(len).is_ok(), r_ctx.check_len(len).is_ok());
            if r_res.is_err() {
                prop_assert_eq!(&r_buf, &input);
            }
            prop_assert_eq!(c_buf, r_buf);
        }
    }
}
