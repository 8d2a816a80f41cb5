//! A literal multi-pattern matcher (Aho-Corasick) kept as flat tables in
//! the snapshot bytes, so it is built once at build time instead of at the
//! start of every process (building it took ~0.7 ms, a fifth of a small
//! app's scan).
//!
//! Every occurrence of every needle is reported (overlapping, "standard"
//! semantics), by end position, and at one position in the order the
//! `aho-corasick` crate uses: the state's own needles in needle order, then
//! those of its failure state.
//!
//! The tables form a dense DFA over byte classes (every byte that occurs
//! in a needle has a class of its own, all other bytes share class 0), so
//! matching costs one table read per byte, with no failure-link walk.
//! Layout, little-endian `u32` unless noted: the counts `states`,
//! `classes`, `outputs`, `needles`; `class_of[256]` (`u8`); `delta[states *
//! classes]`, the next state with its top bit set when that state ends a
//! needle, as `u16` while there are fewer than 2^15 states (half the cache
//! footprint of the hot loop) and as `u32` beyond;
//! `out_start[states + 1]`; `out[outputs]`; `needle_len[needles]`. State 0
//! is the start.
//!
//! Reads are bounds-checked: damaged tables give wrong or missing matches,
//! never a panic.

use std::collections::VecDeque;

use crate::snapshot::SnapshotError;

pub struct Automaton {
    states: usize,
    classes: usize,
    class_of: &'static [u8; 256],
    delta: &'static [u8],
    out_start: &'static [u8],
    out: &'static [u8],
    needle_len: &'static [u8],
}

/// Top bit of a `delta` entry: the state ends at least one needle.
const ENDS_NEEDLE: u32 = 1 << 31;
const ENDS_NEEDLE_16: u16 = 1 << 15;

/// Whether `delta` entries are `u16` for this many states.
fn narrow(states: usize) -> bool {
    states < usize::from(ENDS_NEEDLE_16)
}

impl std::fmt::Debug for Automaton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Automaton").field("states", &self.states).finish()
    }
}

fn u32_at(table: &[u8], i: usize) -> Option<u32> {
    let at = i.checked_mul(4)?;
    table.get(at..at.checked_add(4)?).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn idx_at(table: &[u8], i: usize) -> Option<usize> {
    u32_at(table, i).and_then(|v| usize::try_from(v).ok())
}

/// Builds the tables for `needles` (empty needles never match).
pub fn encode<N: AsRef<[u8]>>(needles: &[N]) -> Result<Vec<u8>, SnapshotError> {
    let too_big = || SnapshotError::Decode { section: "automaton", message: "too many states".into() };
    // Trie: children sorted by byte, own needles in needle order.
    let mut children: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
    let mut own: Vec<Vec<u32>> = vec![Vec::new()];
    for (id, needle) in needles.iter().enumerate() {
        let needle = needle.as_ref();
        if needle.is_empty() {
            continue;
        }
        let mut state = 0usize;
        for &b in needle {
            state = match children[state].binary_search_by_key(&b, |c| c.0) {
                Ok(at) => children[state][at].1 as usize,
                Err(at) => {
                    let next = u32::try_from(children.len()).map_err(|_| too_big())?;
                    children[state].insert(at, (b, next));
                    children.push(Vec::new());
                    own.push(Vec::new());
                    next as usize
                }
            };
        }
        own[state].push(u32::try_from(id).map_err(|_| too_big())?);
    }
    let step = |children: &[Vec<(u8, u32)>], s: usize, b: u8| -> Option<usize> {
        children[s].binary_search_by_key(&b, |c| c.0).ok().map(|at| children[s][at].1 as usize)
    };
    // Byte classes: one per byte that occurs in a needle, class 0 for the rest.
    let mut class_of = [0u8; 256];
    let mut classes = 1usize;
    for c in &children {
        for &(b, _) in c {
            if class_of[usize::from(b)] == 0 {
                class_of[usize::from(b)] = u8::try_from(classes).map_err(|_| too_big())?;
                classes += 1;
            }
        }
    }
    let mut class_bytes: Vec<Option<u8>> = vec![None; classes];
    for b in 0..=255u8 {
        if class_of[usize::from(b)] != 0 {
            class_bytes[usize::from(class_of[usize::from(b)])] = Some(b);
        }
    }
    // Failure links, merged outputs and the DFA, breadth first so that a
    // state's failure state is complete before the state itself.
    let n = children.len();
    let mut fail = vec![0usize; n];
    let mut out: Vec<Vec<u32>> = own;
    let mut delta = vec![0usize; n * classes];
    let mut order = Vec::with_capacity(n);
    let mut queue: VecDeque<usize> = VecDeque::from([0]);
    while let Some(s) = queue.pop_front() {
        order.push(s);
        for &(b, child) in &children[s] {
            let child = child as usize;
            fail[child] =
                if s == 0 { 0 } else { delta[fail[s] * classes + usize::from(class_of[usize::from(b)])] };
            let inherited = out[fail[child]].clone();
            out[child].extend(inherited);
            queue.push_back(child);
        }
        for (c, byte) in class_bytes.iter().enumerate() {
            let next = match byte.and_then(|b| step(&children, s, b)) {
                Some(child) => child,
                None if s == 0 => 0,
                None => delta[fail[s] * classes + c],
            };
            delta[s * classes + c] = next;
        }
    }
    let outputs: usize = out.iter().map(Vec::len).sum();
    let mut bytes = Vec::new();
    let put = |bytes: &mut Vec<u8>, v: usize| -> Result<(), SnapshotError> {
        bytes.extend_from_slice(&u32::try_from(v).map_err(|_| too_big())?.to_le_bytes());
        Ok(())
    };
    if n >= ENDS_NEEDLE as usize {
        return Err(too_big());
    }
    for v in [n, classes, outputs, needles.len()] {
        put(&mut bytes, v)?;
    }
    bytes.extend_from_slice(&class_of);
    for &next in &delta {
        let ends = !out[next].is_empty();
        if narrow(n) {
            let flag = if ends { ENDS_NEEDLE_16 } else { 0 };
            bytes.extend_from_slice(&(next as u16 | flag).to_le_bytes());
        } else {
            put(&mut bytes, next | if ends { ENDS_NEEDLE as usize } else { 0 })?;
        }
    }
    bytes.resize(bytes.len().next_multiple_of(4), 0);
    let mut at = 0;
    for o in &out {
        put(&mut bytes, at)?;
        at += o.len();
    }
    put(&mut bytes, at)?;
    for &id in out.iter().flatten() {
        put(&mut bytes, id as usize)?;
    }
    for needle in needles {
        put(&mut bytes, needle.as_ref().len())?;
    }
    Ok(bytes)
}

impl Automaton {
    pub fn open(bytes: &'static [u8]) -> Result<Self, SnapshotError> {
        let short = || SnapshotError::Truncated("automaton");
        let count = |i: usize| idx_at(bytes, i).ok_or_else(short);
        let (states, classes, outputs, needles) = (count(0)?, count(1)?, count(2)?, count(3)?);
        let mut rest = bytes.get(16..).ok_or_else(short)?;
        let mut take = |len: Option<usize>| -> Result<&'static [u8], SnapshotError> {
            let len = len.ok_or_else(short)?;
            if rest.len() < len {
                return Err(short());
            }
            let (head, tail) = rest.split_at(len);
            rest = tail;
            Ok(head)
        };
        let words = |n: usize| n.checked_mul(4);
        let class_of: &'static [u8; 256] = take(Some(256))?.try_into().map_err(|_| short())?;
        let entry_size = if narrow(states) { 2 } else { 4 };
        let delta = take(
            states
                .checked_mul(classes)
                .and_then(|n| n.checked_mul(entry_size))
                .map(|n| n.next_multiple_of(4)),
        )?;
        let out_start = take(states.checked_add(1).and_then(words))?;
        let out = take(words(outputs))?;
        let needle_len = take(words(needles))?;
        Ok(Automaton { states, classes, class_of, delta, out_start, out, needle_len })
    }

    /// Builds the tables and opens them; the bytes live as long as the process.
    pub fn build<N: AsRef<[u8]>>(needles: &[N]) -> Result<Self, SnapshotError> {
        Automaton::open(Box::leak(encode(needles)?.into_boxed_slice()))
    }

    /// Calls `f(needle, start, end)` for every occurrence of every needle in `hay`.
    pub fn for_each_match(&self, hay: &[u8], f: impl FnMut(usize, usize, usize)) {
        self.resume(0, hay, 0, f);
    }

    /// Runs from `state` (as returned by an earlier run) over `hay`, which
    /// starts at `offset` of the whole text; returns the state at its end.
    /// Running over a text in two parts reports exactly what one run does.
    pub fn resume(
        &self,
        state: usize,
        hay: &[u8],
        offset: usize,
        f: impl FnMut(usize, usize, usize),
    ) -> usize {
        self.run(state, hay, offset, |_| {}, f)
    }

    /// [`Automaton::resume`], also handing `track` the state after each byte
    /// (so a caller can later resume from any point of `hay`).
    pub fn resume_tracking(
        &self,
        state: usize,
        hay: &[u8],
        offset: usize,
        track: impl FnMut(usize),
        f: impl FnMut(usize, usize, usize),
    ) -> usize {
        self.run(state, hay, offset, track, f)
    }

    #[inline(always)]
    fn run(
        &self,
        state: usize,
        hay: &[u8],
        offset: usize,
        mut track: impl FnMut(usize),
        mut f: impl FnMut(usize, usize, usize),
    ) -> usize {
        // The table fields in locals: the callbacks hold `&mut` borrows, so
        // the compiler would otherwise reload them from `self` every byte.
        let (states, classes, class_of, delta) = (self.states, self.classes, self.class_of, self.delta);
        let narrow = narrow(states);
        let mut state = if state < states { state } else { 0 };
        for (i, &b) in hay.iter().enumerate() {
            let at = state * classes + usize::from(class_of[usize::from(b)]);
            let (next, ends) = if narrow {
                let e = match delta.get(at * 2..at * 2 + 2) {
                    Some(&[b0, b1]) => u16::from_le_bytes([b0, b1]),
                    _ => 0,
                };
                (usize::from(e & !ENDS_NEEDLE_16), e & ENDS_NEEDLE_16 != 0)
            } else {
                let e = match delta.get(at * 4..at * 4 + 4) {
                    Some(&[b0, b1, b2, b3]) => u32::from_le_bytes([b0, b1, b2, b3]),
                    _ => 0,
                };
                ((e & !ENDS_NEEDLE) as usize, e & ENDS_NEEDLE != 0)
            };
            state = if next < states { next } else { 0 };
            track(state);
            if !ends {
                continue;
            }
            self.report_outputs(state, offset + i, &mut f);
        }
        state
    }

    /// Hands `f` every needle that ends at position `i` in state `state`.
    #[cold]
    fn report_outputs(&self, state: usize, i: usize, f: &mut impl FnMut(usize, usize, usize)) {
        let (Some(start), Some(end)) = (idx_at(self.out_start, state), idx_at(self.out_start, state + 1))
        else {
            return;
        };
        for k in start..end {
            let Some(id) = idx_at(self.out, k) else { break };
            let len = idx_at(self.needle_len, id).unwrap_or(0);
            if let Some(from) = (i + 1).checked_sub(len) {
                f(id, from, i + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(needles: &[&str], hay: &str) -> Vec<(usize, usize, usize)> {
        let ac = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
            .build(needles)
            .unwrap();
        ac.find_overlapping_iter(hay).map(|m| (m.pattern().as_usize(), m.start(), m.end())).collect()
    }

    fn ours(needles: &[&str], hay: &str) -> Vec<(usize, usize, usize)> {
        let a = Automaton::build(needles).unwrap();
        let mut out = Vec::new();
        a.for_each_match(hay.as_bytes(), |id, s, e| out.push((id, s, e)));
        out
    }

    #[test]
    fn matches_like_the_aho_corasick_crate() {
        let needles = ["he", "she", "his", "hers", "com/umeng/", "umeng", "com/", "he", "a", "aa"];
        for hay in ["ushers", "com/umeng/analytics/A", "x/com/umeng", "aaaa", "", "hishe", "héhe"] {
            assert_eq!(ours(&needles, hay), reference(&needles, hay), "{hay}");
        }
    }

    #[test]
    fn matches_like_the_aho_corasick_crate_on_generated_input() {
        // A small alphabet makes many overlaps and deep failure chains.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let needles: Vec<String> = (0..(next() % 12 + 1))
                .map(|_| (0..(next() % 5 + 1)).map(|_| ["a", "b", "c", "/"][(next() % 4) as usize]).collect())
                .collect();
            let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
            let hay: String =
                (0..(next() % 40)).map(|_| ["a", "b", "c", "/"][(next() % 4) as usize]).collect();
            assert_eq!(ours(&refs, &hay), reference(&refs, &hay), "{refs:?} in {hay}");
        }
    }

    #[test]
    fn a_run_in_two_parts_reports_what_one_run_does() {
        let needles = ["com/umeng/", "umeng", "/a", "g/an", "com/"];
        let a = Automaton::build(&needles).unwrap();
        let hay = b"com/umeng/analytics/A";
        let mut whole = Vec::new();
        a.for_each_match(hay, |id, s, e| whole.push((id, s, e)));
        for cut in 0..=hay.len() {
            let mut parts = Vec::new();
            let state = a.resume(0, &hay[..cut], 0, |id, s, e| parts.push((id, s, e)));
            a.resume(state, &hay[cut..], cut, |id, s, e| parts.push((id, s, e)));
            assert_eq!(parts, whole, "cut at {cut}");
        }
    }

    #[test]
    fn large_automata_use_wide_entries_and_still_agree() {
        // 6,000 distinct 13-byte needles make more than 2^15 states.
        let needles: Vec<String> = (0..6000u32).map(|i| format!("n{:05}/{:05}/", i * 7, i)).collect();
        let refs: Vec<&str> = needles.iter().map(String::as_str).collect();
        let a = Automaton::build(&refs).unwrap();
        assert!(!narrow(a.states), "{} states", a.states);
        for hay in ["xn00014/00002/n00021/00003/", "n20993/02999/", "n0000"] {
            assert_eq!(ours(&refs, hay), reference(&refs, hay), "{hay}");
        }
    }

    #[test]
    fn damaged_tables_do_not_panic() {
        let bytes = encode(&["abc", "bcd", "cd"]).unwrap();
        for cut in 0..bytes.len() {
            assert!(Automaton::open(Box::leak(bytes[..cut].to_vec().into_boxed_slice())).is_err());
        }
        for i in 16..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0xff;
            if let Ok(a) = Automaton::open(Box::leak(bad.into_boxed_slice())) {
                a.for_each_match(b"abcdabcd", |_, _, _| {});
            }
        }
    }
}
