//! Stable-address storage for store-owned items.
//!
//! Compiled code and builtins keep raw pointers to memories, tables, globals and
//! host-function records while Rust code holds `&mut Store`, so items never
//! move once stored. They live in chunks, each twice the size of the one
//! before, taken from the store's [`Bump`] as needed and never resized, so a
//! store with a few instances makes no allocation of its own for them. Chunks
//! are reached only through raw pointers (never a `Box` or slice that would
//! claim unique access to items others point at); the arena drops its items,
//! and the bump, which must outlive it, frees the chunks.

use crate::bump::Bump;
use alloc::alloc::Layout;
use core::ptr;

/// Items in an arena's first chunk.
const FIRST_CHUNK: usize = 4;
/// Chunks an arena can have: room for `FIRST_CHUNK * (2^CHUNKS - 1)` items.
const CHUNKS: usize = 28;

pub(crate) struct Arena<T> {
    /// Chunk `k` holds `FIRST_CHUNK << k` items; null until needed.
    chunks: [*mut T; CHUNKS],
    len: usize,
}

/// The chunk of item `index` and its place in that chunk.
fn locate(index: usize) -> (usize, usize) {
    let q = index / FIRST_CHUNK + 1;
    let k = (usize::BITS - 1 - q.leading_zeros()) as usize;
    (k, index - FIRST_CHUNK * ((1 << k) - 1))
}

fn chunk_layout<T>(k: usize) -> Layout {
    Layout::array::<T>(FIRST_CHUNK << k).expect("arena chunk fits a Layout")
}

impl<T> Arena<T> {
    pub fn new() -> Arena<T> {
        const { assert!(size_of::<T>() != 0, "arena items have a size") };
        const {
            assert!(
                align_of::<T>() <= Bump::ALIGN,
                "items fit the bump's alignment"
            )
        };
        Arena {
            chunks: [ptr::null_mut(); CHUNKS],
            len: 0,
        }
    }

    /// Stores `value` and returns its index; a new chunk comes from `bump`,
    /// which must outlive the arena.
    pub fn push(&mut self, bump: &mut Bump, value: T) -> usize {
        let index = self.len;
        let (k, at) = locate(index);
        assert!(k < CHUNKS, "arena full");
        if self.chunks[k].is_null() {
            self.chunks[k] = bump.alloc(chunk_layout::<T>(k).size()).as_ptr().cast();
        }
        // SAFETY: `at` is inside chunk `k`, and that slot is not yet used.
        unsafe { self.chunks[k].add(at).write(value) };
        self.len += 1;
        index
    }

    /// Items stored so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The stable address of item `index`. Panics on an index this arena never
    /// handed out (an internal invariant: handles are created by `push`).
    pub fn ptr(&self, index: usize) -> *mut T {
        assert!(index < self.len, "arena index out of range");
        let (k, at) = locate(index);
        // SAFETY: item `index` was pushed, so its chunk exists and holds it.
        unsafe { self.chunks[k].add(at) }
    }

    pub fn get(&self, index: usize) -> &T {
        // SAFETY: a live item of a chunk that never moves.
        unsafe { &*self.ptr(index) }
    }

    pub fn get_mut(&mut self, index: usize) -> &mut T {
        // SAFETY: as in `get`; `&mut self` excludes other Rust borrows.
        unsafe { &mut *self.ptr(index) }
    }
}

impl<T> Drop for Arena<T> {
    fn drop(&mut self) {
        let mut left = self.len;
        for (k, &p) in self.chunks.iter().enumerate() {
            if p.is_null() {
                break;
            }
            let items = left.min(FIRST_CHUNK << k);
            left -= items;
            // SAFETY: the chunk's first `items` slots were written once and
            // are dropped once; the bump still holds the chunk.
            unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(p, items)) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;

    #[test]
    fn addresses_are_stable_and_items_dropped() {
        let token = Rc::new(());
        let mut bump = Bump::new();
        let mut arena = Arena::new();
        let first = arena.push(&mut bump, (1u32, token.clone()));
        let p = arena.ptr(first);
        for i in 0..100 {
            arena.push(&mut bump, (i, token.clone()));
        }
        assert_eq!(arena.ptr(first), p);
        arena.get_mut(first).0 = 7;
        assert_eq!(arena.get(first).0, 7);
        for i in 0..100 {
            assert_eq!(arena.get(i + 1).0, i as u32, "item {i} across chunks");
        }
        drop(arena);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn chunks_double_and_indices_fill_them_in_order() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(3), (0, 3));
        assert_eq!(locate(4), (1, 0));
        assert_eq!(locate(11), (1, 7));
        assert_eq!(locate(12), (2, 0));
        assert_eq!(locate(27), (2, 15));
        assert_eq!(locate(28), (3, 0));
    }
}
