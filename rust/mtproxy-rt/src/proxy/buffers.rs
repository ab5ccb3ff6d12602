//! Output queues (docs/RUNTIME.md, "Backpressure and memory"): one per
//! connection, a list of byte chunks written with `write_vectored`. Bytes
//! are produced directly into the tail chunk (then encrypted there in
//! place), so the data path copies each byte into the queue once. An empty
//! queue holds no memory; written chunks go to a small per-thread spare
//! list, so a busy worker does not fault in fresh pages for every chunk.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};

/// Queued bytes per connection above which its peer stops being read.
pub const QUEUE_SOFT_CAP: usize = mtproxy_core::runtime::policy::QUEUE_SOFT_CAP;
/// Capacity of a fresh chunk: large enough that a busy connection writes
/// few iovecs, small enough that one short answer does not pin much.
const CHUNK_CAP: usize = 64 * 1024;
/// Most chunks handed to one `writev`.
const MAX_IOVECS: usize = 64;
/// Bytes of written chunks kept per thread for reuse.
const SPARE_BYTES: usize = 4 << 20;
/// The largest chunk kept (a middle-end answer of 64 KiB and its framing
/// needs a chunk over [`CHUNK_CAP`]).
const SPARE_CHUNK_MAX: usize = 4 * CHUNK_CAP;

/// Written chunks, and their capacity in bytes.
struct Spare {
    chunks: Vec<Vec<u8>>,
    bytes: usize,
}

thread_local! {
    static SPARE: RefCell<Spare> = const {
        RefCell::new(Spare {
            chunks: Vec::new(),
            bytes: 0,
        })
    };
}

/// An empty chunk with room for `n` bytes: the last spare one when it is
/// big enough.
fn new_chunk(n: usize) -> Vec<u8> {
    let spare = SPARE.with_borrow_mut(|spare| {
        let chunk = spare.chunks.pop()?;
        spare.bytes -= chunk.capacity();
        (chunk.capacity() >= n).then_some(chunk)
    });
    spare.unwrap_or_else(|| Vec::with_capacity(n.max(CHUNK_CAP)))
}

/// Keeps a written chunk for [`new_chunk`] while the spare bytes allow.
fn recycle(mut chunk: Vec<u8>) {
    let cap = chunk.capacity();
    if !(CHUNK_CAP..=SPARE_CHUNK_MAX).contains(&cap) {
        return;
    }
    chunk.clear();
    SPARE.with_borrow_mut(|spare| {
        if spare.bytes + cap <= SPARE_BYTES {
            spare.bytes += cap;
            spare.chunks.push(chunk);
        }
    });
}

#[derive(Default)]
pub struct OutQueue {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the first chunk already written.
    head_done: usize,
    len: usize,
}

/// What a flush achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    pub written: usize,
    /// The socket refused more (EAGAIN) with bytes still queued.
    pub blocked: bool,
}

impl OutQueue {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn over_cap(&self) -> bool {
        self.len > QUEUE_SOFT_CAP
    }

    /// Chunks held (for the buffer statistics).
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// The chunk `n` more bytes go to: the tail, or a new one when the
    /// tail has no room.
    fn tail_for(&mut self, n: usize) -> &mut Vec<u8> {
        let fits = self
            .chunks
            .back()
            .is_some_and(|tail| tail.capacity() - tail.len() >= n);
        if !fits {
            self.chunks.push_back(new_chunk(n));
        }
        self.len += n;
        let last = self.chunks.len() - 1;
        &mut self.chunks[last]
    }

    /// Appends `n` bytes, written by `fill` (which sees them zeroed), to the
    /// tail chunk (a new one when the tail has no room).
    pub fn append_with(&mut self, n: usize, fill: impl FnOnce(&mut [u8])) {
        if n == 0 {
            return;
        }
        let tail = self.tail_for(n);
        let start = tail.len();
        tail.resize(start + n, 0);
        fill(&mut tail[start..]);
    }

    pub fn push_slice(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.tail_for(bytes.len()).extend_from_slice(bytes);
        }
    }

    /// Queues a whole buffer without copying it.
    pub fn push_vec(&mut self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.len += bytes.len();
            self.chunks.push_back(bytes);
        }
    }

    /// Writes until the queue is empty or the writer would block. Other
    /// errors are returned (the connection is dead).
    pub fn flush_to<W: Write>(&mut self, out: &mut W) -> io::Result<Flushed> {
        let mut written = 0;
        while self.len > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
            let mut count = 0;
            for (i, chunk) in self.chunks.iter().take(MAX_IOVECS).enumerate() {
                let from = if i == 0 { self.head_done } else { 0 };
                slices[i] = IoSlice::new(&chunk[from..]);
                count = i + 1;
            }
            match out.write_vectored(&slices[..count]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    written += n;
                    self.consume(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(Flushed {
                        written,
                        blocked: true,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Flushed {
            written,
            blocked: false,
        })
    }

    fn consume(&mut self, mut n: usize) {
        self.len -= n;
        while n > 0 {
            let Some(head) = self.chunks.front() else {
                break;
            };
            let left = head.len() - self.head_done;
            if n < left {
                self.head_done += n;
                return;
            }
            n -= left;
            self.head_done = 0;
            if let Some(chunk) = self.chunks.pop_front() {
                recycle(chunk);
            }
        }
        if self.len == 0 {
            // Release the deque's own storage too: idle connections hold
            // nothing.
            self.chunks = VecDeque::new();
            self.head_done = 0;
        }
    }

    /// Drops everything queued; returns how many bytes that was.
    pub fn clear(&mut self) -> usize {
        let n = self.len;
        *self = OutQueue::default();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer taking at most `budget` bytes, then blocking.
    struct Limited {
        got: Vec<u8>,
        budget: usize,
    }

    impl Write for Limited {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.budget == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.budget).min(7);
            self.got.extend_from_slice(&buf[..n]);
            self.budget -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn written_chunks_are_reused_and_push_slice_keeps_the_bytes() {
        let spares = || SPARE.with_borrow(|s| s.chunks.len());
        let mut first = OutQueue::default();
        first.push_slice(&[7u8; 1000]);
        let mut sink = Vec::new();
        first.flush_to(&mut sink).unwrap();
        assert!(first.is_empty() && sink == [7u8; 1000]);
        assert_eq!(spares(), 1, "the written chunk is kept");
        let mut second = OutQueue::default();
        second.push_slice(b"abc");
        assert_eq!(spares(), 0, "and taken again");
        assert_eq!(&second.chunks[0][..], b"abc");
        // Bigger than a chunk: a chunk of its own, kept when written too.
        second.push_slice(&vec![1u8; CHUNK_CAP + 1]);
        assert_eq!(second.len(), CHUNK_CAP + 4);
        assert_eq!(second.chunk_count(), 2);
        second.flush_to(&mut sink).unwrap();
        assert_eq!(spares(), 2);
        // A spare too small for the next chunk is dropped, not handed out.
        let mut third = OutQueue::default();
        third.push_slice(&vec![2u8; 2 * CHUNK_CAP]);
        assert_eq!(spares(), 1);
        assert_eq!(SPARE.with_borrow(|s| s.bytes), CHUNK_CAP);
        assert!(third.chunks[0].capacity() >= 2 * CHUNK_CAP);
    }

    #[test]
    fn writes_in_order_across_chunks_and_partial_writes() {
        let mut q = OutQueue::default();
        q.push_slice(b"hello ");
        q.push_vec(b"big ".to_vec());
        q.append_with(5, |d| d.copy_from_slice(b"world"));
        assert_eq!(q.len(), 15);
        let mut w = Limited {
            got: Vec::new(),
            budget: 9,
        };
        let f = q.flush_to(&mut w).unwrap();
        assert_eq!(
            f,
            Flushed {
                written: 9,
                blocked: true
            }
        );
        assert_eq!(q.len(), 6);
        w.budget = 100;
        let f = q.flush_to(&mut w).unwrap();
        assert_eq!(
            f,
            Flushed {
                written: 6,
                blocked: false
            }
        );
        assert_eq!(w.got, b"hello big world");
        assert!(q.is_empty());
        assert_eq!(q.chunk_count(), 0);
    }

    #[test]
    fn small_appends_share_a_chunk() {
        let mut q = OutQueue::default();
        for _ in 0..100 {
            q.push_slice(&[1; 100]);
        }
        assert_eq!(q.chunk_count(), 1);
        q.push_slice(&vec![2; CHUNK_CAP]);
        assert_eq!(q.chunk_count(), 2);
        assert!(!q.over_cap());
        q.push_slice(&vec![3; QUEUE_SOFT_CAP]);
        assert!(q.over_cap());
        assert_eq!(q.clear(), 10_000 + CHUNK_CAP + QUEUE_SOFT_CAP);
    }

    #[test]
    fn a_closed_peer_is_an_error() {
        struct Zero;
        impl Write for Zero {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut q = OutQueue::default();
        q.push_slice(b"x");
        assert!(q.flush_to(&mut Zero).is_err());
    }
}
