//! A value built on its first use, by whichever thread gets there first.
//!
//! Opening the signature database's tables is cheap (they are read in place
//! from the embedded snapshot), but a command that never consults one should
//! not open it. The tables used to be opened on a background thread while
//! the app was read; starting that thread cost more than the work it moved
//! (on a virtual machine, creating a thread sometimes stalled the process
//! for a millisecond), so they are now opened where they are needed.

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, OnceLock};

type Builder<T> = Box<dyn FnOnce() -> T + Send>;

pub struct Deferred<T> {
    cell: OnceLock<T>,
    build: Mutex<Option<Builder<T>>>,
    /// Used if the builder is gone without a value (it panicked on another
    /// thread): a bug must not become a second crash.
    fallback: fn() -> T,
}

impl<T> Deferred<T> {
    /// A value that is already there.
    pub fn ready(value: T, fallback: fn() -> T) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        Deferred { cell, build: Mutex::new(None), fallback }
    }

    /// A value `build` makes on first use.
    pub fn lazy(build: impl FnOnce() -> T + Send + 'static, fallback: fn() -> T) -> Self {
        Deferred { cell: OnceLock::new(), build: Mutex::new(Some(Box::new(build))), fallback }
    }

    fn make(&self) -> T {
        let build = self.build.lock().unwrap_or_else(|e| e.into_inner()).take();
        build.map_or_else(self.fallback, |b| b())
    }

    /// The value, by value (building it if need be).
    pub fn into_inner(self) -> T {
        match self.cell.into_inner() {
            Some(v) => v,
            None => {
                let build = self.build.into_inner().unwrap_or_else(|e| e.into_inner());
                build.map_or_else(self.fallback, |b| b())
            }
        }
    }

    /// The value, building it if this is its first use.
    pub fn value(&self) -> &T {
        self.cell.get_or_init(|| self.make())
    }
}

impl<T> Deref for Deferred<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value()
    }
}

impl<T> DerefMut for Deferred<T> {
    fn deref_mut(&mut self) -> &mut T {
        if self.cell.get().is_none() {
            let value = self.make();
            let _ = self.cell.set(value);
        }
        match self.cell.get_mut() {
            Some(v) => v,
            None => unreachable!("the value was set just above"),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Deferred<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cell.get() {
            Some(v) => v.fmt(f),
            None => f.write_str("<not built yet>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn builds_once_on_first_use_and_falls_back_when_the_builder_is_gone() {
        static BUILT: AtomicUsize = AtomicUsize::new(0);
        let d = Deferred::lazy(
            || {
                BUILT.fetch_add(1, Ordering::Relaxed);
                7u32
            },
            || 0,
        );
        assert_eq!(BUILT.load(Ordering::Relaxed), 0, "nothing is built before it is used");
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| assert_eq!(*d, 7));
            }
        });
        assert_eq!(BUILT.load(Ordering::Relaxed), 1);
        let gone: Deferred<u32> = Deferred { cell: OnceLock::new(), build: Mutex::new(None), fallback: || 5 };
        assert_eq!(*gone, 5);
        let mut r = Deferred::ready(1u32, || 0);
        *r += 1;
        assert_eq!(*r, 2);
        assert_eq!(Deferred::lazy(|| 3u32, || 0).into_inner(), 3);
    }
}
