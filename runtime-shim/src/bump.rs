//! Store-lifetime storage: instance contexts, instance records' lists and the
//! store's arena chunks.
//!
//! Every core instance needs a zeroed `vmctx` and a handful of small lists
//! (functions, memories, globals, data segments…) whose lengths the module
//! fixes, and its memories, globals and record go into the store's arenas.
//! Allocated one by one that is about twenty `malloc`/`free` pairs per
//! component instantiation, a fifth of its instructions. They all live exactly
//! as long as the store, so they are carved out of chunks that the store frees
//! when it is dropped: one allocation per few instances.

use alloc::alloc::{self as heap, Layout};
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

/// Bytes of the first chunk; each later chunk is twice the one before (or
/// bigger, for a block that does not fit).
const FIRST_CHUNK: usize = 8192;

/// The start of every chunk: the chunk before it and this chunk's size.
#[repr(C, align(16))]
struct Header {
    prev: *mut Header,
    size: usize,
}

const HEADER: usize = size_of::<Header>();

/// A bump allocator whose blocks are freed together when it is dropped.
pub(crate) struct Bump {
    /// Newest chunk, or null before the first block.
    last: *mut Header,
    /// Free bytes of the newest chunk: `next..end`.
    next: usize,
    end: usize,
}

impl Bump {
    /// Alignment of every block (what a vmctx needs).
    pub const ALIGN: usize = 16;

    pub fn new() -> Bump {
        Bump {
            last: ptr::null_mut(),
            next: 0,
            end: 0,
        }
    }

    /// `size` uninitialised bytes, 16-aligned, at an address that stays valid
    /// until the bump is dropped. Out of line: an instantiation makes a
    /// dozen blocks, and a call each costs less than its code at every site.
    #[inline(never)]
    pub fn alloc(&mut self, size: usize) -> NonNull<u8> {
        let size = size.next_multiple_of(Bump::ALIGN);
        if self.end - self.next < size {
            self.grow(size);
        }
        let p = self.next;
        self.next += size;
        // SAFETY: inside a live chunk, which is never null.
        unsafe { NonNull::new_unchecked(p as *mut u8) }
    }

    /// `size` zeroed bytes, as [`Bump::alloc`].
    pub fn alloc_zeroed(&mut self, size: usize) -> NonNull<u8> {
        let p = self.alloc(size);
        // SAFETY: `p` starts `size` bytes of a live chunk.
        unsafe { p.as_ptr().write_bytes(0, size) };
        p
    }

    /// Starts a chunk with room for at least `size` bytes.
    #[cold]
    fn grow(&mut self, size: usize) {
        let before = if self.last.is_null() {
            0
        } else {
            // SAFETY: `last` is a live chunk's header.
            unsafe { (*self.last).size }
        };
        let chunk = (before * 2).max(FIRST_CHUNK).max(size + HEADER);
        let layout = chunk_layout(chunk);
        // SAFETY: a non-zero size.
        let p = unsafe { heap::alloc(layout) }.cast::<Header>();
        if p.is_null() {
            heap::handle_alloc_error(layout);
        }
        // SAFETY: a fresh chunk, big enough for its header.
        unsafe {
            p.write(Header {
                prev: self.last,
                size: chunk,
            })
        };
        self.last = p;
        self.next = p as usize + HEADER;
        self.end = p as usize + chunk;
    }
}

fn chunk_layout(size: usize) -> Layout {
    Layout::from_size_align(size, Bump::ALIGN).expect("bump chunk fits a Layout")
}

impl Drop for Bump {
    fn drop(&mut self) {
        let mut chunk = self.last;
        while !chunk.is_null() {
            // SAFETY: each chunk was allocated in `grow` with the size its
            // header records, and is freed once.
            unsafe {
                let Header { prev, size } = chunk.read();
                heap::dealloc(chunk.cast(), chunk_layout(size));
                chunk = prev;
            }
        }
    }
}

/// A list of at most a fixed number of `Copy` items in a [`Bump`]: the
/// instance record's lists, whose lengths the module gives before they fill.
pub(crate) struct FixedVec<T> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
}

impl<T: Copy> FixedVec<T> {
    /// Room for `cap` items in `bump`, which must outlive the list.
    pub fn with_capacity(bump: &mut Bump, cap: usize) -> FixedVec<T> {
        const {
            assert!(
                align_of::<T>() <= Bump::ALIGN,
                "items fit the bump's alignment"
            )
        };
        let bytes = Layout::array::<T>(cap).expect("list fits a Layout").size();
        let ptr = if bytes == 0 {
            NonNull::dangling()
        } else {
            bump.alloc(bytes).cast()
        };
        FixedVec { ptr, len: 0, cap }
    }

    /// Appends `value`. Panics past the capacity: the module fixed the
    /// length, so that is an internal error.
    pub fn push(&mut self, value: T) {
        assert!(
            self.len < self.cap,
            "instance list longer than its module says"
        );
        // SAFETY: slot `len` is inside the block and not yet written.
        unsafe { self.ptr.as_ptr().add(self.len).write(value) };
        self.len += 1;
    }
}

impl<T> Deref for FixedVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: the first `len` items were written; the block outlives `self`.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> DerefMut for FixedVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`; `&mut self` is the only access.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_disjoint_and_survive_new_chunks() {
        let mut bump = Bump::new();
        let small = bump.alloc_zeroed(24);
        // SAFETY: 24 zeroed bytes.
        let bytes = unsafe { core::slice::from_raw_parts(small.as_ptr(), 24) };
        assert!(bytes.iter().all(|&b| b == 0));
        let mut list = FixedVec::with_capacity(&mut bump, 3);
        for v in [7u64, 8, 9] {
            list.push(v);
        }
        // Bigger than any chunk so far: gets a chunk of its own.
        let big = bump.alloc(3 * FIRST_CHUNK);
        let blocks = [
            (small.as_ptr() as usize, 24),
            (list.as_ptr() as usize, 24),
            (big.as_ptr() as usize, 3 * FIRST_CHUNK),
        ];
        for (i, &(a, alen)) in blocks.iter().enumerate() {
            assert_eq!(a % Bump::ALIGN, 0);
            for &(b, blen) in &blocks[i + 1..] {
                assert!(a + alen <= b || b + blen <= a, "blocks overlap");
            }
        }
        list[1] = 5;
        assert_eq!(&list[..], &[7, 5, 9]);
        let empty: FixedVec<u32> = FixedVec::with_capacity(&mut bump, 0);
        assert!(empty.is_empty());
    }

    #[test]
    #[should_panic(expected = "longer than its module says")]
    fn pushing_past_the_capacity_is_an_internal_error() {
        let mut bump = Bump::new();
        let mut list = FixedVec::with_capacity(&mut bump, 1);
        list.push(1u8);
        list.push(2u8);
    }
}
