//! Stable-address storage for store-owned items.
//!
//! Compiled code and builtins keep raw pointers to memories, tables, globals and
//! host-function records while Rust code holds `&mut Store`, so items never
//! move once stored. They live in chunks that are never grown past the
//! capacity they were made with (each new chunk twice the last), so a store
//! with a few instances makes a few allocations, not one per item; items are
//! reached through raw pointers and dropped with the arena.

pub(crate) struct Arena<T> {
    /// Full chunks, then the one being filled; none ever reallocates.
    chunks: Vec<Vec<T>>,
    /// Each item's address, by index.
    items: Vec<*mut T>,
}

/// Items in an arena's first chunk.
const FIRST_CHUNK: usize = 4;

impl<T> Arena<T> {
    pub fn new() -> Arena<T> {
        Arena {
            chunks: Vec::new(),
            items: Vec::new(),
        }
    }

    /// Stores `value` and returns its index.
    pub fn push(&mut self, value: T) -> usize {
        let room = self.chunks.last().is_some_and(|c| c.len() < c.capacity());
        if !room {
            let size = self.chunks.last().map_or(FIRST_CHUNK, |c| c.capacity() * 2);
            self.chunks.push(Vec::with_capacity(size));
        }
        let chunk = self
            .chunks
            .last_mut()
            .expect("a chunk with room was just ensured");
        chunk.push(value);
        // SAFETY: the item just pushed is in bounds; the chunk never grows
        // past its capacity, so its address stays valid until the arena drops.
        let p = unsafe { chunk.as_mut_ptr().add(chunk.len() - 1) };
        self.items.push(p);
        self.items.len() - 1
    }

    /// The stable address of item `index`. Panics on an index this arena never
    /// handed out (an internal invariant: handles are created by `push`).
    pub fn ptr(&self, index: usize) -> *mut T {
        self.items[index]
    }

    pub fn get(&self, index: usize) -> &T {
        // SAFETY: the pointer is to a live item of a chunk that never moves.
        unsafe { &*self.items[index] }
    }

    pub fn get_mut(&mut self, index: usize) -> &mut T {
        // SAFETY: as in `get`; `&mut self` excludes other Rust borrows.
        unsafe { &mut *self.items[index] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn addresses_are_stable_and_items_dropped() {
        let token = Rc::new(());
        let mut arena = Arena::new();
        let first = arena.push((1u32, token.clone()));
        let p = arena.ptr(first);
        for i in 0..100 {
            arena.push((i, token.clone()));
        }
        assert_eq!(arena.ptr(first), p);
        arena.get_mut(first).0 = 7;
        assert_eq!(arena.get(first).0, 7);
        drop(arena);
        assert_eq!(Rc::strong_count(&token), 1);
    }
}
