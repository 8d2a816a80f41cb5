//! A value built on a background thread and waited for on first use.
//!
//! A one-app run spends most of its start-up compiling the signature
//! database; the archive, manifest, code and signatures can be read while it
//! compiles, and only the attribution at the end needs it.

use std::ops::{Deref, DerefMut};
use std::sync::mpsc::Receiver;
use std::sync::{Mutex, OnceLock};

pub struct Deferred<T> {
    cell: OnceLock<T>,
    pending: Mutex<Option<Receiver<T>>>,
    /// Used if the builder thread died without a value (it cannot with the
    /// embedded files, which the tests compile; this keeps a bug from
    /// becoming a crash).
    fallback: fn() -> T,
}

impl<T> Deferred<T> {
    /// A value that is already there.
    pub fn ready(value: T, fallback: fn() -> T) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        Deferred { cell, pending: Mutex::new(None), fallback }
    }

    /// A value that will arrive on `rx`.
    pub fn pending(rx: Receiver<T>, fallback: fn() -> T) -> Self {
        Deferred { cell: OnceLock::new(), pending: Mutex::new(Some(rx)), fallback }
    }

    fn take(&self) -> T {
        let rx = self.pending.lock().unwrap_or_else(|e| e.into_inner()).take();
        rx.and_then(|rx| rx.recv().ok()).unwrap_or_else(self.fallback)
    }

    /// The value, by value (waiting for the builder if need be).
    pub fn into_inner(self) -> T {
        match self.cell.into_inner() {
            Some(v) => v,
            None => {
                let rx = self.pending.into_inner().unwrap_or_else(|e| e.into_inner());
                rx.and_then(|rx| rx.recv().ok()).unwrap_or_else(self.fallback)
            }
        }
    }

    /// The value, waiting for the builder if it is not done yet.
    pub fn value(&self) -> &T {
        self.cell.get_or_init(|| self.take())
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
            let value = self.take();
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
            None => f.write_str("<still building>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_builder_and_falls_back_when_it_dies() {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let d = Deferred::pending(rx, || 0u32);
        std::thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(*d, 7);
        let (tx, rx) = std::sync::mpsc::sync_channel::<u32>(1);
        drop(tx);
        assert_eq!(*Deferred::pending(rx, || 5u32), 5);
        let mut r = Deferred::ready(1u32, || 0);
        *r += 1;
        assert_eq!(*r, 2);
    }
}
