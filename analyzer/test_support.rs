//! Helpers shared by the unit tests of the parsers: the truncations and byte
//! flips every parser must survive without panicking (DESIGN.md: parsers
//! never panic and never trust a length). One copy, so every parser is held
//! to the same walk over its sample.

/// Calls `check` with every proper prefix of `data`, from empty to one byte
/// short: a file cut anywhere, as a truncated download or a damaged entry.
pub(crate) fn each_truncation(data: &[u8], mut check: impl FnMut(&[u8])) {
    for cut in 0..data.len() {
        check(&data[..cut]);
    }
}

/// Calls `check(at, value, bytes)` with `data` where the byte at `at` is set
/// to `value`, for every position and each of `values` (one change at a
/// time, the rest of the file intact). Values such as `0x00`, `0x7f`, `0x80`
/// and `0xff` are what turn a length or count field into zero, a maximum or
/// a sign flip.
pub(crate) fn each_flip(data: &[u8], values: &[u8], mut check: impl FnMut(usize, u8, &[u8])) {
    let mut copy = data.to_vec();
    for at in 0..copy.len() {
        let old = copy[at];
        for &value in values {
            copy[at] = value;
            check(at, value, &copy);
        }
        copy[at] = old;
    }
}

#[test]
fn walks_every_prefix_and_every_flip_once() {
    let mut prefixes = Vec::new();
    each_truncation(b"abc", |d| prefixes.push(d.to_vec()));
    assert_eq!(prefixes, [b"".to_vec(), b"a".to_vec(), b"ab".to_vec()]);
    let mut flips = Vec::new();
    each_flip(&[1, 2], &[0, 9], |at, v, d| flips.push((at, v, d.to_vec())));
    assert_eq!(flips, [(0, 0, vec![0, 2]), (0, 9, vec![9, 2]), (1, 0, vec![1, 0]), (1, 9, vec![1, 9])]);
}
