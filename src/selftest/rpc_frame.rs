use super::{expect_eq, Check};
use mtproxy_sys::bindings as raw;
use mtproxy_sys::c::rpc_frame::{self as frame, CrcKind, FrameDecoder};

pub const CHECKS: &[Check] = &[
    ("nonce frame layout", || {
        let mut payload = vec![0xaa, 0x87, 0xcb, 0x7a, 0xde, 0xad, 0xbe, 0xef];
        payload.extend_from_slice(&1i32.to_le_bytes());
        payload.extend_from_slice(&1_700_000_000i32.to_le_bytes());
        payload.extend(0u8..16);
        let wire = frame::encode_frame(-2, &payload, CrcKind::Crc32).map_err(|e| format!("{e}"))?;
        expect_eq(
            "prefix",
            &wire[..8],
            &[0x2c, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff],
        )?;
        expect_eq("crc32", &wire[40..], &0x2a7c_9fa5u32.to_le_bytes())?;
        let wire =
            frame::encode_frame(-2, &payload, CrcKind::Crc32c).map_err(|e| format!("{e}"))?;
        expect_eq("crc32c", &wire[40..], &0x3adb_db3fu32.to_le_bytes())
    }),
    ("padding", || {
        let mut out = [0u8; 12];
        expect_eq("after 44", frame::write_padding(44, &mut out), Ok(4))?;
        expect_eq("word", &out[..4], &[4, 0, 0, 0])?;
        expect_eq(
            "unaligned",
            frame::write_padding(2, &mut out),
            Err(frame::ERR_BAD_LENGTH),
        )
    }),
    ("decode, skip padding, switch crc", || {
        let mut stream =
            frame::encode_frame(-1, &[1; 8], CrcKind::Crc32).map_err(|e| format!("{e}"))?;
        stream.extend_from_slice(&[4, 0, 0, 0]);
        stream
            .extend(frame::encode_frame(0, &[2; 4], CrcKind::Crc32c).map_err(|e| format!("{e}"))?);
        let mut dec = FrameDecoder::new(-1, CrcKind::Crc32);
        let first = dec
            .push(&stream)
            .map(|p| (p.consumed, p.frame.map(|f| (f.seq, f.payload.to_vec()))));
        expect_eq("first", first, Ok((20, Some((-1, vec![1; 8])))))?;
        dec.set_crc(CrcKind::Crc32c);
        let second = dec
            .push(&stream[20..])
            .map(|p| (p.consumed, p.frame.map(|f| f.seq)));
        expect_eq("second", second, Ok((20, Some(0))))?;
        expect_eq(
            "state",
            (dec.expected_seq(), dec.buffered(), dec.error_code()),
            (1, 0, 0),
        )
    }),
    ("hostile input is sticky", || {
        let mut dec = FrameDecoder::new(0, CrcKind::Crc32);
        let bad = dec.push(&0x7fff_fffci32.to_le_bytes()).map(|p| p.consumed);
        expect_eq("near 2^31", bad, Err(frame::ERR_TOO_BIG))?;
        expect_eq(
            "sticky",
            dec.push(&[]).map(|p| p.consumed),
            Err(frame::ERR_TOO_BIG),
        )?;
        let mut dec = FrameDecoder::new(1, CrcKind::Crc32);
        let wire = frame::encode_frame(0, &[0; 4], CrcKind::Crc32).map_err(|e| format!("{e}"))?;
        expect_eq(
            "seq",
            dec.push(&wire).map(|p| p.consumed),
            Err(frame::ERR_BAD_SEQ),
        )
    }),
    ("null arguments", || {
        // SAFETY: the contract allows NULL for these pointers.
        unsafe {
            expect_eq(
                "new with bad kind",
                raw::mtp_rpc_frame_decoder_new(0, 7).is_null(),
                true,
            )?;
            raw::mtp_rpc_frame_decoder_free(std::ptr::null_mut());
            let got = raw::mtp_rpc_frame_decoder_push(
                std::ptr::null_mut(),
                std::ptr::null(),
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            expect_eq("push NULL", got, raw::MTP_RPC_FRAME_ERR_ARG)?;
            let got = raw::mtp_rpc_frame_encode(
                0,
                std::ptr::null(),
                4,
                0,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
            );
            expect_eq("encode NULL", got, raw::MTP_RPC_FRAME_ERR_ARG)?;
            let got = raw::mtp_rpc_frame_decoder_set_seq(std::ptr::null_mut(), 0);
            expect_eq("set_seq NULL", got, raw::MTP_RPC_FRAME_ERR_ARG)?;
            let got = raw::mtp_rpc_frame_decoder_set_crc(std::ptr::null_mut(), 0);
            expect_eq("set_crc NULL", got, raw::MTP_RPC_FRAME_ERR_ARG)?;
            let got = raw::mtp_rpc_frame_padding(0, std::ptr::null_mut(), 0, std::ptr::null_mut());
            expect_eq("padding NULL", got, raw::MTP_RPC_FRAME_ERR_ARG)?;
            let got = raw::mtp_rpc_frame_decoder_get_info(std::ptr::null(), std::ptr::null_mut());
            expect_eq("info NULL", got, raw::MTP_RPC_FRAME_ERR_ARG)
        }
    }),
];
