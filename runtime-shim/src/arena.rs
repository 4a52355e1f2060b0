//! Stable-address storage for store-owned items.
//!
//! Compiled code and builtins keep raw pointers to memories, tables, globals and
//! host-function records while Rust code holds `&mut Store`, so each item is its
//! own heap allocation owned through a raw pointer (never through a `Box` that
//! would claim unique access) and freed when the arena is dropped.

pub(crate) struct Arena<T> {
    items: Vec<*mut T>,
}

impl<T> Arena<T> {
    pub fn new() -> Arena<T> {
        Arena { items: Vec::new() }
    }

    /// Stores `value` and returns its index.
    pub fn push(&mut self, value: T) -> usize {
        self.items.push(Box::into_raw(Box::new(value)));
        self.items.len() - 1
    }

    /// The stable address of item `index`. Panics on an index this arena never
    /// handed out (an internal invariant: handles are created by `push`).
    pub fn ptr(&self, index: usize) -> *mut T {
        self.items[index]
    }

    pub fn get(&self, index: usize) -> &T {
        // SAFETY: the pointer came from Box::into_raw and lives until drop.
        unsafe { &*self.items[index] }
    }

    pub fn get_mut(&mut self, index: usize) -> &mut T {
        // SAFETY: as in `get`; `&mut self` excludes other Rust borrows.
        unsafe { &mut *self.items[index] }
    }
}

impl<T> Drop for Arena<T> {
    fn drop(&mut self) {
        for &p in &self.items {
            // SAFETY: every pointer came from Box::into_raw and is freed once.
            drop(unsafe { Box::from_raw(p) });
        }
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
