//! Plain data of the rpc-frame contract (ffi/include/mtp_rpc_frame.h): the
//! error codes, CRC kinds and sizes, the decoded-frame record and the
//! decoder's state record, with conversions from the core types.
use mtproxy_core::net::rpc_frame::{self, CrcKind, Frame, FrameDecoder};

/// A length no frame may have: `L <= 0` (as int32), not a multiple of 4, or
/// 8 / 12; for the encoder an empty or unaligned payload; for padding a
/// running total that is not a multiple of 4.
pub const MTP_RPC_FRAME_ERR_BAD_LENGTH: i32 = rpc_frame::ERR_BAD_LENGTH;
/// A frame longer than `MTP_RPC_FRAME_MAX_LEN`.
pub const MTP_RPC_FRAME_ERR_TOO_BIG: i32 = rpc_frame::ERR_TOO_BIG;
/// Wrong CRC.
pub const MTP_RPC_FRAME_ERR_BAD_CRC: i32 = rpc_frame::ERR_BAD_CRC;
/// A sequence number other than the expected one.
pub const MTP_RPC_FRAME_ERR_BAD_SEQ: i32 = rpc_frame::ERR_BAD_SEQ;
/// The output buffer is too small.
pub const MTP_RPC_FRAME_ERR_OUT_SMALL: i32 = rpc_frame::ERR_OUT_SMALL;
/// A NULL pointer where one is required, or an unknown CRC kind.
pub const MTP_RPC_FRAME_ERR_ARG: i32 = -6;
/// Out of memory while buffering a frame (C side only; Rust aborts).
pub const MTP_RPC_FRAME_ERR_NO_MEMORY: i32 = -7;

/// CRC kind: CRC-32 (IEEE), used until the handshakes are done.
pub const MTP_RPC_FRAME_CRC32: i32 = 0;
/// CRC-32C (Castagnoli), used afterwards if the handshakes negotiated it.
pub const MTP_RPC_FRAME_CRC32C: i32 = 1;
/// Largest accepted frame length (header and CRC included): 16 MiB.
pub const MTP_RPC_FRAME_MAX_LEN: i32 = rpc_frame::MAX_FRAME_LEN as i32;
/// Bytes a frame adds around its payload.
pub const MTP_RPC_FRAME_OVERHEAD: i32 = rpc_frame::FRAME_OVERHEAD as i32;

/// Values the core gives as enum codes: the C values must equal them.
const _: () = {
    assert!(MTP_RPC_FRAME_CRC32 == CrcKind::Crc32.code());
    assert!(MTP_RPC_FRAME_CRC32C == CrcKind::Crc32c.code());
};

/// A decoded frame. `payload` points into the decoder and stays valid until
/// the next `mtp_rpc_frame_decoder_push` or `_free` on it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mtp_rpc_frame {
    pub seq: i32,
    pub payload: *const u8,
    pub payload_len: usize,
}

/// A decoder's state: the sequence number and CRC kind the next frame must
/// have, the bytes of it already received, and the sticky error (0 if none).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mtp_rpc_frame_decoder_info {
    pub expected_seq: i32,
    pub crc_kind: i32,
    pub buffered: usize,
    pub error: i32,
}

/// No frame: a NULL payload of length 0 (what a push that completes no frame
/// leaves untouched).
impl Default for mtp_rpc_frame {
    fn default() -> Self {
        mtp_rpc_frame {
            seq: 0,
            payload: core::ptr::null(),
            payload_len: 0,
        }
    }
}

/// The record of a frame borrowed from a decoder; the pointer is valid as
/// long as the frame's payload is.
impl From<&Frame<'_>> for mtp_rpc_frame {
    fn from(f: &Frame<'_>) -> Self {
        mtp_rpc_frame {
            seq: f.seq,
            payload: f.payload.as_ptr(),
            payload_len: f.payload.len(),
        }
    }
}

impl From<&FrameDecoder> for mtp_rpc_frame_decoder_info {
    fn from(dec: &FrameDecoder) -> Self {
        mtp_rpc_frame_decoder_info {
            expected_seq: dec.expected_seq(),
            crc_kind: dec.crc().code(),
            buffered: dec.buffered(),
            error: dec.error_code(),
        }
    }
}
