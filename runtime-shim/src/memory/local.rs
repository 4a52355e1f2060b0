//! Per-thread caches in front of the process-wide free lists of memory
//! storage. Without `std` there is no thread-local storage to keep them in:
//! the caches then hold nothing and the free lists are used directly.
//!
//! A thread that drops an instance and creates the next one takes back the
//! storage it just cleared: no lock shared with other threads, and pages
//! whose cache lines are already in this core's cache. What a thread still
//! holds when it ends goes to the process-wide lists.

/// Storage a cache may hold: `spill` hands it to the process-wide list (or
/// frees it) when its thread ends.
pub(super) trait Spill {
    fn spill(self);
}

/// Declares `$name`, a per-thread cache of `$ty`.
macro_rules! cache {
    ($name:ident: $ty:ty) => {
        #[cfg(feature = "std")]
        std::thread_local! {
            static $name: super::local::Cache<$ty> = const { super::local::Cache::new() };
        }
        #[cfg(not(feature = "std"))]
        static $name: super::local::Key<$ty> = super::local::Key(core::marker::PhantomData);
    };
}
pub(super) use cache;

#[cfg(feature = "std")]
pub(super) use with_std::*;

#[cfg(feature = "std")]
mod with_std {
    use super::Spill;
    use crate::prelude::*;
    use core::cell::RefCell;

    /// A per-thread cache, as [`cache!`](super::cache) declares it.
    pub(in crate::memory) type Key<T> = std::thread::LocalKey<Cache<T>>;

    /// One thread's cached entries.
    pub(in crate::memory) struct Cache<T: Spill>(RefCell<Vec<T>>);

    impl<T: Spill> Cache<T> {
        pub(in crate::memory) const fn new() -> Self {
            Cache(RefCell::new(Vec::new()))
        }
    }

    impl<T: Spill> Drop for Cache<T> {
        fn drop(&mut self) {
            self.0.get_mut().drain(..).for_each(T::spill);
        }
    }

    /// Takes this thread's latest entry that `fits`, if any. A thread whose
    /// cache is already gone (a store dropped by another thread-local's
    /// destructor) has none.
    pub(in crate::memory) fn take<T: Spill>(
        cache: &'static Key<T>,
        fits: impl Fn(&T) -> bool,
    ) -> Option<T> {
        cache
            .try_with(|c| {
                let mut entries = c.0.borrow_mut();
                let at = entries.iter().rposition(fits)?;
                Some(entries.swap_remove(at))
            })
            .ok()
            .flatten()
    }

    /// Whether this thread's cache holds fewer than `max` entries.
    pub(in crate::memory) fn has_room<T: Spill>(cache: &'static Key<T>, max: usize) -> bool {
        cache
            .try_with(|c| c.0.borrow().len() < max)
            .unwrap_or(false)
    }

    /// Calls `f` on each entry of this thread's cache.
    pub(in crate::memory) fn each<T: Spill>(cache: &'static Key<T>, mut f: impl FnMut(&T)) {
        let _ = cache.try_with(|c| c.0.borrow().iter().for_each(&mut f));
    }

    /// Keeps `entry` in this thread's cache if it holds fewer than `max`;
    /// otherwise returns it.
    pub(in crate::memory) fn put<T: Spill>(
        cache: &'static Key<T>,
        entry: T,
        max: usize,
    ) -> Option<T> {
        let mut entry = Some(entry);
        let _ = cache.try_with(|c| {
            let mut entries = c.0.borrow_mut();
            if entries.len() < max {
                entries.extend(entry.take());
            }
        });
        entry
    }
}

#[cfg(not(feature = "std"))]
pub(super) use without_std::*;

#[cfg(not(feature = "std"))]
mod without_std {
    use super::Spill;

    /// A cache that never holds anything.
    pub(in crate::memory) struct Key<T>(pub core::marker::PhantomData<T>);

    pub(in crate::memory) fn take<T: Spill>(_: &Key<T>, _: impl Fn(&T) -> bool) -> Option<T> {
        None
    }

    pub(in crate::memory) fn has_room<T: Spill>(_: &Key<T>, _: usize) -> bool {
        false
    }

    pub(in crate::memory) fn put<T: Spill>(_: &Key<T>, entry: T, _: usize) -> Option<T> {
        Some(entry)
    }

    pub(in crate::memory) fn each<T: Spill>(_: &Key<T>, _: impl FnMut(&T)) {}
}
