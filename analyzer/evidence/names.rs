//! [`Names`]: an ordered list of strings kept in one text buffer plus the end
//! offset of each name. An app carries a few hundred thousand class names and
//! API references; one heap string per name made building, decoding
//! (`appvet rescore`) and dropping the evidence cost an allocation and a free
//! per name.
//!
//! Offsets are `usize` end positions into the buffer: they can never exceed
//! the buffer's length, which a `String` already bounds, so no arithmetic on
//! them can overflow. Every stored offset is a char boundary, because names
//! are only ever appended whole.

use std::fmt;
use std::iter::FusedIterator;

/// An ordered list of names (duplicates allowed, order kept).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Names {
    text: String,
    /// `ends[i]` is where name `i` ends in `text`; name `i` starts where
    /// name `i - 1` ends (or at 0).
    ends: Vec<usize>,
}

impl Names {
    pub fn new() -> Self {
        Names::default()
    }

    /// Room for `names` names of `bytes` bytes in total, without reallocating.
    pub fn with_capacity(names: usize, bytes: usize) -> Self {
        Names { text: String::with_capacity(bytes), ends: Vec::with_capacity(names) }
    }

    pub fn push(&mut self, name: &str) {
        self.text.push_str(name);
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes of all names together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    fn start(&self, i: usize) -> usize {
        match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        }
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        self.text.get(self.start(i)..end)
    }

    pub fn first(&self) -> Option<&str> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&str> {
        self.get(self.len().checked_sub(1)?)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { names: self, front: 0, back: self.len() }
    }

    /// Whether `name` is one of the names (a linear scan).
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }

    /// Sorts the names (byte order, as `[String]::sort_unstable`) and drops
    /// repeats.
    pub fn sort_unstable_dedup(&mut self) {
        let mut sorted: Vec<&str> = self.iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() == self.len() && sorted.iter().copied().eq(self.iter()) {
            return;
        }
        let mut out = Names::with_capacity(sorted.len(), self.text.len());
        for n in sorted {
            out.push(n);
        }
        *self = out;
    }

    /// Appends every name of `other`, keeping its order.
    pub fn append(&mut self, other: &Names) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        // `base + e` is at most the new buffer length, which fits in usize.
        self.ends.extend(other.ends.iter().map(|e| base + e));
    }
}

/// Builds [`Names`] from front-coded bytes (the evidence codec's stored
/// form): each name is a prefix of the previous one plus a tail. The bytes
/// are checked once, in [`NamesBuilder::finish`]: one UTF-8 check over the
/// whole buffer costs far less than one per name.
#[derive(Default)]
pub struct NamesBuilder {
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl NamesBuilder {
    pub fn with_capacity(names: usize, bytes: usize) -> Self {
        NamesBuilder { text: Vec::with_capacity(bytes), ends: Vec::with_capacity(names) }
    }

    /// Appends the first `shared` bytes of the last name followed by `tail`;
    /// `None` (nothing appended) when the last name is shorter than that.
    pub fn push_front_coded(&mut self, shared: usize, tail: &[u8]) -> Option<()> {
        let start = match self.ends.len().checked_sub(2) {
            Some(i) => *self.ends.get(i)?,
            None => 0,
        };
        let last_len = self.text.len() - start;
        if shared > last_len {
            return None;
        }
        self.text.extend_from_within(start..start + shared);
        self.text.extend_from_slice(tail);
        self.ends.push(self.text.len());
        Some(())
    }

    /// The names, or `None` unless the bytes are UTF-8 and every name ends
    /// on a character boundary (then every name, which starts where the
    /// one before ends, is text).
    pub fn finish(self) -> Option<Names> {
        let text = String::from_utf8(self.text).ok()?;
        if !self.ends.iter().all(|&e| text.is_char_boundary(e)) {
            return None;
        }
        Some(Names { text, ends: self.ends })
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`Names`], front to back or back to front.
#[derive(Clone)]
pub struct Iter<'a> {
    names: &'a Names,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.front >= self.back {
            return None;
        }
        let s = self.names.get(self.front);
        self.front += 1;
        s
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back.saturating_sub(self.front);
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.names.get(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}
impl FusedIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Names {
    type Item = &'a str;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Names {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut names = Names::new();
        names.extend(iter);
        names
    }
}

impl<S: AsRef<str>> Extend<S> for Names {
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.ends.reserve(iter.size_hint().0);
        for s in iter {
            self.push(s.as_ref());
        }
    }
}

impl<S: AsRef<str>, const N: usize> From<[S; N]> for Names {
    fn from(names: [S; N]) -> Self {
        names.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_duplicates() {
        let mut n = Names::new();
        assert!(n.is_empty());
        assert_eq!((n.first(), n.last(), n.get(0)), (None, None, None));
        n.push("Lb;");
        n.push("");
        n.push("La;");
        n.push("La;");
        assert_eq!(n.len(), 4);
        assert_eq!(n.iter().collect::<Vec<_>>(), ["Lb;", "", "La;", "La;"]);
        assert_eq!(n.iter().rev().collect::<Vec<_>>(), ["La;", "La;", "", "Lb;"]);
        assert_eq!((n.first(), n.last(), n.get(1), n.get(4)), (Some("Lb;"), Some("La;"), Some(""), None));
        assert!(n.contains("") && n.contains("La;") && !n.contains("L"));
        assert_eq!(format!("{n:?}"), r#"["Lb;", "", "La;", "La;"]"#);
        assert_eq!(n.text_len(), 9);
    }

    #[test]
    fn iterates_from_both_ends_with_exact_size() {
        let n: Names = ["a", "bb", "ccc"].into();
        let mut it = n.iter();
        assert_eq!(it.len(), 3);
        assert_eq!(it.next(), Some("a"));
        assert_eq!(it.next_back(), Some("ccc"));
        assert_eq!(it.len(), 1);
        assert_eq!(it.next_back(), Some("bb"));
        assert_eq!((it.next(), it.next_back(), it.len()), (None, None, 0));
        let mut count = 0;
        for s in &n {
            count += s.len();
        }
        assert_eq!(count, 6);
    }

    #[test]
    fn sorts_and_dedups_like_a_vec_of_strings() {
        let words = ["é", "b", "a", "", "b", "ab", "é", "Z"];
        let mut n: Names = words.into();
        n.sort_unstable_dedup();
        let mut v: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        v.sort_unstable();
        v.dedup();
        assert_eq!(n.iter().collect::<Vec<_>>(), v);
        let before = n.clone();
        n.sort_unstable_dedup();
        assert_eq!(n, before);
        let mut empty = Names::new();
        empty.sort_unstable_dedup();
        assert!(empty.is_empty());
    }

    #[test]
    fn equality_is_by_list() {
        let a: Names = ["ab", "c"].into();
        let b: Names = vec!["ab".to_string(), "c".to_string()].into_iter().collect();
        let c: Names = ["a", "bc"].into();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(Names::with_capacity(10, 100), Names::default());
    }

    #[test]
    fn extend_and_append_keep_order() {
        let mut a: Names = ["x"].into();
        a.extend(["y", "z"]);
        let mut b: Names = ["0"].into();
        b.append(&a);
        b.append(&Names::new());
        assert_eq!(b.iter().collect::<Vec<_>>(), ["0", "x", "y", "z"]);
    }

    #[test]
    fn front_coded_names_are_checked_once_whole() {
        let build = |items: &[(usize, &[u8])]| {
            let mut b = NamesBuilder::with_capacity(items.len(), 0);
            for (shared, tail) in items {
                b.push_front_coded(*shared, tail)?;
            }
            b.finish()
        };
        let n = build(&[(0, "Lé/a;".as_bytes()), (4, b"b;"), (6, b""), (0, b"")]).unwrap();
        assert_eq!(n.iter().collect::<Vec<_>>(), ["Lé/a;", "Lé/b;", "Lé/b;", ""]);
        // A name ending inside `é`, even when the next one completes it.
        assert_eq!(build(&[(0, "Lé".as_bytes()), (2, b"")]), None);
        assert_eq!(build(&[(0, "Lé".as_bytes()), (2, b""), (3, b"")]), None);
        assert_eq!(build(&[(0, b"\xff")]), None);
        assert_eq!(build(&[(1, b"x")]), None, "no previous name");
        assert_eq!(build(&[(0, b"ab"), (3, b"x")]), None, "longer than the previous name");
        assert_eq!(build(&[(0, b"ab"), (usize::MAX, b"x")]), None);
        assert_eq!(build(&[]), Some(Names::new()));
    }
}
