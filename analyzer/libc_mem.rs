//! Memory primitives that replace musl's in the static musl build.
//!
//! musl's `memcpy` is `rep movsq` wrapped in byte loops, and its `memcmp` and
//! `bcmp` compare one byte at a time. A one-app run makes thousands of short
//! copies and comparisons (moved structs, sorted names, table lookups), which
//! there cost more than musl's cheaper process start saves (~10% of a corpus
//! median run). Defining the symbols in the executable keeps the linker from
//! taking musl's archive members. Copies use `rep movsb`: on CPUs with fast
//! short `rep movs` (FSRM, 2019 on) it is quick at every length, and it is
//! correct everywhere. Other builds keep their C library's versions; the
//! functions are compiled on every x86_64 target so that the tests run there.
#![cfg_attr(not(target_env = "musl"), allow(dead_code))]

use core::arch::asm;

/// Copies `n` bytes from `src` to `dst`, lowest address first.
///
/// # Safety
/// `n` bytes readable at `src` and writable at `dst`; if the ranges overlap,
/// `dst` must not lie inside `src+1 .. src+n`.
unsafe fn copy_forward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract; the direction flag is clear on entry per the ABI.
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _,
             options(nostack, preserves_flags));
    }
}

/// Copies `n` bytes from `src` to `dst`, highest address first, for a
/// destination that overlaps the source from above.
///
/// # Safety
/// `n > 0` bytes readable at `src` and writable at `dst`.
unsafe fn copy_backward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract; the direction flag is set only for this copy.
    unsafe {
        asm!("std", "rep movsb", "cld",
             inout("rcx") n => _, inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _,
             options(nostack));
    }
}

/// Compares `n` bytes as unsigned chars: negative, zero or positive.
///
/// # Safety
/// `n` bytes readable at `a` and at `b`.
unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n.
        let (x, y) =
            unsafe { (a.add(i).cast::<u64>().read_unaligned(), b.add(i).cast::<u64>().read_unaligned()) };
        if x != y {
            // Read big-endian, words order like their bytes in memory.
            return if u64::from_be(x) < u64::from_be(y) { -1 } else { 1 };
        }
        i += 8;
    }
    while i < n {
        // SAFETY: i < n.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

#[cfg(target_env = "musl")]
mod symbols {
    //! The C symbols, with the C contracts.

    /// # Safety
    /// `n` bytes readable at `src`, writable at `dst`, not overlapping.
    #[no_mangle]
    pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the C contract is stricter than copy_forward's.
        unsafe { super::copy_forward(dst, src, n) };
        dst
    }

    /// # Safety
    /// `n` bytes readable at `src` and writable at `dst`; they may overlap.
    #[no_mangle]
    pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // A forward copy is safe unless dst starts inside the source after its first byte.
        if (dst as usize).wrapping_sub(src as usize) >= n {
            // SAFETY: checked just above.
            unsafe { super::copy_forward(dst, src, n) };
        } else {
            // SAFETY: n > 0, since the difference was below it.
            unsafe { super::copy_backward(dst, src, n) };
        }
        dst
    }

    /// # Safety
    /// `n` bytes readable at `a` and at `b`.
    #[no_mangle]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        // SAFETY: the same contract.
        unsafe { super::compare(a, b, n) }
    }

    /// # Safety
    /// `n` bytes readable at `a` and at `b`.
    #[no_mangle]
    pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        // SAFETY: the same contract.
        unsafe { super::compare(a, b, n) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i.wrapping_mul(151) % 251) as u8).collect()
    }

    #[test]
    fn forward_copy_matches_slice_copy_at_every_length_and_offset() {
        let src = sample(300);
        for len in 0..=140 {
            for off in 0..9 {
                let mut dst = vec![0xAA; 300];
                // SAFETY: both ranges lie inside their vectors.
                unsafe { copy_forward(dst.as_mut_ptr().add(off), src.as_ptr().add(1), len) };
                let mut want = vec![0xAA; 300];
                want[off..off + len].copy_from_slice(&src[1..1 + len]);
                assert_eq!(dst, want, "len {len} off {off}");
            }
        }
    }

    #[test]
    fn overlapping_copies_behave_like_memmove() {
        for len in 1..=70 {
            for shift in 1..=20 {
                // Destination above the source: copied backwards.
                let mut buf = sample(128);
                let mut want = buf.clone();
                want.copy_within(10..10 + len, 10 + shift);
                // SAFETY: 10 + shift + len <= 100 < 128.
                unsafe { copy_backward(buf.as_mut_ptr().add(10 + shift), buf.as_ptr().add(10), len) };
                assert_eq!(buf, want, "up: len {len} shift {shift}");

                // Destination below the source: a forward copy is safe.
                let mut buf = sample(128);
                let mut want = buf.clone();
                want.copy_within(10 + shift..10 + shift + len, 10);
                // SAFETY: as above.
                unsafe { copy_forward(buf.as_mut_ptr().add(10), buf.as_ptr().add(10 + shift), len) };
                assert_eq!(buf, want, "down: len {len} shift {shift}");
            }
        }
    }

    #[test]
    fn compare_orders_like_unsigned_bytes() {
        let base = sample(64);
        for len in 0..=40 {
            // SAFETY: both slices hold at least len bytes.
            assert_eq!(unsafe { compare(base.as_ptr(), base.as_ptr(), len) }, 0);
            for at in 0..len {
                for (a, b) in [(0x00u8, 0xFFu8), (0x7F, 0x80), (0x41, 0x42)] {
                    let (mut x, mut y) = (base.clone(), base.clone());
                    x[at] = a;
                    y[at] = b;
                    // A later difference must not outweigh the first one.
                    if at + 1 < len {
                        x[at + 1] = 0xFF;
                        y[at + 1] = 0x00;
                    }
                    // SAFETY: as above.
                    let (lt, gt) = unsafe {
                        (compare(x.as_ptr(), y.as_ptr(), len), compare(y.as_ptr(), x.as_ptr(), len))
                    };
                    assert!(lt < 0 && gt > 0, "len {len} at {at} {a:#x}/{b:#x}: {lt} {gt}");
                    assert_eq!(x[..len].cmp(&y[..len]), std::cmp::Ordering::Less);
                }
            }
        }
    }
}
