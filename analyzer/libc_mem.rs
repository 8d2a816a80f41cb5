//! Memory primitives that replace musl's in the static musl build.
//!
//! musl's `memcpy` is `rep movsq` wrapped in byte loops, and its `memcmp` and
//! `bcmp` compare one byte at a time. A one-app run makes thousands of short
//! copies and comparisons (moved structs, sorted names, table lookups), and
//! `rescore` millions (decoded names, zstd literals), which there cost more
//! than musl's cheaper process start saves. Defining the symbols in the
//! executable keeps the linker from taking musl's archive members. Other
//! builds keep their C library's versions; the functions are compiled on
//! every x86_64 Linux target so that the tests run there.
//!
//! The copy is written in assembly because a copy loop written in Rust may
//! be turned back into a call to `memcpy` by the optimiser. Up to 64 bytes
//! it loads everything before it stores (so overlap is harmless), with
//! overlapping 1/4/8/16-byte moves; up to 512 bytes a 32-byte loop; beyond,
//! `rep movsb`, which is fast for long copies on every CPU with ERMS (2012
//! on) and correct everywhere. A destination that overlaps the source from
//! above is copied backwards.
#![cfg_attr(not(target_env = "musl"), allow(dead_code))]

core::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl appvet_memmove",
    ".type appvet_memmove, @function",
    "appvet_memmove:",
    "    mov rax, rdi",
    "    cmp rdx, 16",
    "    jbe .Lappvet_move_le16",
    "    cmp rdx, 32",
    "    ja .Lappvet_move_gt32",
    "    movdqu xmm0, [rsi]",
    "    movdqu xmm1, [rsi + rdx - 16]",
    "    movdqu [rdi], xmm0",
    "    movdqu [rdi + rdx - 16], xmm1",
    "    ret",
    ".Lappvet_move_gt32:",
    "    cmp rdx, 64",
    "    ja .Lappvet_move_gt64",
    "    movdqu xmm0, [rsi]",
    "    movdqu xmm1, [rsi + 16]",
    "    movdqu xmm2, [rsi + rdx - 32]",
    "    movdqu xmm3, [rsi + rdx - 16]",
    "    movdqu [rdi], xmm0",
    "    movdqu [rdi + 16], xmm1",
    "    movdqu [rdi + rdx - 32], xmm2",
    "    movdqu [rdi + rdx - 16], xmm3",
    "    ret",
    // More than 64 bytes: forwards unless dst lies inside (src, src + n).
    ".Lappvet_move_gt64:",
    "    mov rcx, rdi",
    "    sub rcx, rsi",
    "    jz .Lappvet_move_done",
    "    cmp rcx, rdx",
    "    jb .Lappvet_move_backward",
    "    cmp rdx, 512",
    "    ja .Lappvet_move_rep",
    // The last 32 bytes are loaded first and stored last: the loop stops
    // with at most 32 bytes left, which they cover.
    "    movdqu xmm2, [rsi + rdx - 32]",
    "    movdqu xmm3, [rsi + rdx - 16]",
    "    lea r8, [rdi + rdx - 32]",
    "    mov rcx, rdx",
    ".Lappvet_move_loop:",
    "    movdqu xmm0, [rsi]",
    "    movdqu xmm1, [rsi + 16]",
    "    movdqu [rdi], xmm0",
    "    movdqu [rdi + 16], xmm1",
    "    add rsi, 32",
    "    add rdi, 32",
    "    sub rcx, 32",
    "    cmp rcx, 32",
    "    ja .Lappvet_move_loop",
    "    movdqu [r8], xmm2",
    "    movdqu [r8 + 16], xmm3",
    "    ret",
    ".Lappvet_move_rep:",
    "    mov rcx, rdx",
    "    rep movsb",
    "    ret",
    ".Lappvet_move_backward:",
    "    lea rsi, [rsi + rdx - 1]",
    "    lea rdi, [rdi + rdx - 1]",
    "    mov rcx, rdx",
    "    std",
    "    rep movsb",
    "    cld",
    "    ret",
    ".Lappvet_move_le16:",
    "    cmp rdx, 8",
    "    jb .Lappvet_move_lt8",
    "    mov rcx, [rsi]",
    "    mov r8, [rsi + rdx - 8]",
    "    mov [rdi], rcx",
    "    mov [rdi + rdx - 8], r8",
    "    ret",
    ".Lappvet_move_lt8:",
    "    cmp rdx, 4",
    "    jb .Lappvet_move_lt4",
    "    mov ecx, [rsi]",
    "    mov r8d, [rsi + rdx - 4]",
    "    mov [rdi], ecx",
    "    mov [rdi + rdx - 4], r8d",
    "    ret",
    // 0 to 3 bytes: the first, the last and the middle one.
    ".Lappvet_move_lt4:",
    "    test rdx, rdx",
    "    jz .Lappvet_move_done",
    "    movzx ecx, byte ptr [rsi]",
    "    movzx r8d, byte ptr [rsi + rdx - 1]",
    "    mov r9, rdx",
    "    shr r9, 1",
    "    movzx r10d, byte ptr [rsi + r9]",
    "    mov [rdi], cl",
    "    mov [rdi + rdx - 1], r8b",
    "    mov [rdi + r9], r10b",
    ".Lappvet_move_done:",
    "    ret",
    ".size appvet_memmove, . - appvet_memmove",
);

extern "C" {
    /// `memmove`: copies `n` bytes from `src` to `dst`, which may overlap;
    /// returns `dst`.
    fn appvet_memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
}

/// Copies `n` bytes from `src` to `dst` as `memmove` does.
///
/// # Safety
/// `n` bytes readable at `src` and writable at `dst`.
unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's contract; the routine follows the C ABI and leaves
    // the direction flag clear.
    unsafe { appvet_memmove(dst, src, n) };
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
        // SAFETY: the C contract is stricter than copy's.
        unsafe { super::copy(dst, src, n) };
        dst
    }

    /// # Safety
    /// `n` bytes readable at `src` and writable at `dst`; they may overlap.
    #[no_mangle]
    pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the same contract.
        unsafe { super::copy(dst, src, n) };
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

    /// Every length class of the routine (byte moves, 4/8/16-byte pairs,
    /// four 16-byte moves, the 32-byte loop, rep movsb) and the edges between.
    const LENGTHS: [std::ops::RangeInclusive<usize>; 2] = [0..=200, 500..=530];

    #[test]
    fn copies_match_slice_copies_at_every_length_and_alignment() {
        let src = sample(1200);
        for len in LENGTHS.into_iter().flatten().chain([1000, 1100]) {
            for off in 0..9 {
                let mut dst = vec![0xAA; 1200];
                // SAFETY: both ranges lie inside their vectors.
                unsafe { copy(dst.as_mut_ptr().add(off), src.as_ptr().add(1), len) };
                let mut want = vec![0xAA; 1200];
                want[off..off + len].copy_from_slice(&src[1..1 + len]);
                assert_eq!(dst, want, "len {len} off {off}");
            }
        }
    }

    #[test]
    fn overlapping_copies_behave_like_memmove() {
        for len in LENGTHS.into_iter().flatten().filter(|&l| l > 0) {
            for shift in (0..=40).chain([63, 64, 65, 300]) {
                // Destination above the source.
                let mut buf = sample(1000);
                let mut want = buf.clone();
                want.copy_within(10..10 + len, 10 + shift);
                // SAFETY: 10 + shift + len < 1000.
                unsafe { copy(buf.as_mut_ptr().add(10 + shift), buf.as_ptr().add(10), len) };
                assert_eq!(buf, want, "up: len {len} shift {shift}");

                // Destination below the source.
                let mut buf = sample(1000);
                let mut want = buf.clone();
                want.copy_within(10 + shift..10 + shift + len, 10);
                // SAFETY: as above.
                unsafe { copy(buf.as_mut_ptr().add(10), buf.as_ptr().add(10 + shift), len) };
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
