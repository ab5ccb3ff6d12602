//! Plain data of the tl-parse contract (see the shim in mtproxy-ffi for the
//! functions): error codes and the reader and writer states.

/// Not enough bytes left to read.
pub const MTP_TL_ERR_SHORT: i32 = -1;
/// A string starting with the byte 0xff.
pub const MTP_TL_ERR_BAD_STRING: i32 = -2;
/// A string longer than 0xffffff bytes.
pub const MTP_TL_ERR_TOO_LONG: i32 = -3;
/// `mtp_tl_fetch_end` with bytes left over.
pub const MTP_TL_ERR_TRAILING: i32 = -4;
/// Not enough room left in the writer's buffer.
pub const MTP_TL_ERR_OVERFLOW: i32 = -5;
/// A null pointer where data was required.
pub const MTP_TL_ERR_ARG: i32 = -6;

/// Reader state: reads `data[pos..len)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mtp_tl_in {
    pub data: *const u8,
    pub len: usize,
    pub pos: usize,
    pub error: i32,
}

/// Writer state: writes into `data[pos..cap)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct mtp_tl_out {
    pub data: *mut u8,
    pub cap: usize,
    pub pos: usize,
    pub error: i32,
}

impl Default for mtp_tl_in {
    /// No input: a null `data`, everything else zero.
    fn default() -> Self {
        mtp_tl_in {
            data: core::ptr::null(),
            len: 0,
            pos: 0,
            error: 0,
        }
    }
}

impl Default for mtp_tl_out {
    /// No buffer: a null `data`, everything else zero.
    fn default() -> Self {
        mtp_tl_out {
            data: core::ptr::null_mut(),
            cap: 0,
            pos: 0,
            error: 0,
        }
    }
}
