//! The process-wide locks (code spans, interned function types, the pools of
//! released memory storage): with `std`, `std`'s, which put a waiting thread to
//! sleep, so that a thread preempted while holding one does not leave the
//! others spinning through their time slices; without `std`, spin locks, as a
//! `no_std` host has no way to park a thread. Each is held for a search and a
//! push at most, and nothing inside can panic halfway through a change, so a
//! lock poisoned by a panic elsewhere is used as it is.

#[cfg(not(feature = "std"))]
pub(crate) use spin::{Mutex, RwLock};

#[cfg(feature = "std")]
pub(crate) use parked::{Mutex, RwLock};

#[cfg(feature = "std")]
mod parked {
    use std::sync::{self, MutexGuard, PoisonError, RwLockReadGuard, RwLockWriteGuard};

    /// `std::sync::Mutex`, with `spin::Mutex`'s signature.
    pub(crate) struct Mutex<T>(sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Self {
            Mutex(sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// `std::sync::RwLock`, with `spin::RwLock`'s signature.
    pub(crate) struct RwLock<T>(sync::RwLock<T>);

    impl<T> RwLock<T> {
        pub(crate) const fn new(value: T) -> Self {
            RwLock(sync::RwLock::new(value))
        }

        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().unwrap_or_else(PoisonError::into_inner)
        }

        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write().unwrap_or_else(PoisonError::into_inner)
        }
    }
}
