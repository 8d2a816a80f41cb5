//! Tables read straight from snapshot bytes: opening one reads only its
//! header, a lookup binary-searches the keys in place, and each value is
//! decoded on its first lookup. A one-app run looks up a handful of the
//! thousands of entities, domains and permissions; indexing them all when the
//! database opens made the scan wait for it (~0.3 ms, most of it page faults
//! on an index built at run time and per-entry cells for every table).
//!
//! Encoding of both kinds: a little-endian `u32` count `n`, then `n + 1`
//! little-endian `u32` offsets into the body that follows (the first is 0,
//! the last is the body's length), then the body. In a [`LazyMap`] entry `i`
//! (in key order) is a `u32` key length, the key, a `u32` value length and
//! the postcard-encoded value; in a [`LazyVec`] element `i` is the
//! postcard-encoded element. A table is checked entry by entry on access
//! (a damaged entry reads as missing) and in full by `verify`, which the
//! build runs on the snapshot it embeds.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::snapshot::SnapshotError;

/// Reads a little-endian `u32` (a count or a length) off the front of `bytes`.
pub(crate) fn take_u32(bytes: &mut &'static [u8], section: &'static str) -> Result<usize, SnapshotError> {
    let (n, rest) = bytes.split_first_chunk::<4>().ok_or(SnapshotError::Truncated(section))?;
    *bytes = rest;
    usize::try_from(u32::from_le_bytes(*n)).map_err(|_| SnapshotError::Truncated(section))
}

/// Reads a `u32` length and that many bytes off the front of `bytes`: the
/// framing of every section and map entry in a snapshot.
pub(crate) fn take_bytes(
    bytes: &mut &'static [u8],
    section: &'static str,
) -> Result<&'static [u8], SnapshotError> {
    let len = take_u32(bytes, section)?;
    if bytes.len() < len {
        return Err(SnapshotError::Truncated(section));
    }
    let (head, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(head)
}

/// Appends `body` framed as [`take_bytes`] reads it.
pub(crate) fn put_framed(out: &mut Vec<u8>, body: &[u8]) -> Result<(), postcard::Error> {
    out.extend_from_slice(&le_u32(body.len())?);
    out.extend_from_slice(body);
    Ok(())
}

fn le_u32(n: usize) -> Result<[u8; 4], postcard::Error> {
    u32::try_from(n).map(u32::to_le_bytes).map_err(|_| postcard::Error::SerializeBufferFull)
}

/// Writes the count, the offset table and the body for `entries`.
fn encode_indexed(entries: &[Vec<u8>]) -> Result<Vec<u8>, postcard::Error> {
    let body_len: usize = entries.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(4 * (entries.len() + 2) + body_len);
    out.extend_from_slice(&le_u32(entries.len())?);
    let mut offset = 0;
    out.extend_from_slice(&le_u32(0)?);
    for e in entries {
        offset += e.len();
        out.extend_from_slice(&le_u32(offset)?);
    }
    for e in entries {
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The offset table and body of an encoded table, entries sliced on demand.
#[derive(Clone, Copy, Default)]
struct Indexed {
    len: usize,
    /// `len + 1` little-endian `u32`s.
    offsets: &'static [u8],
    body: &'static [u8],
}

impl Indexed {
    fn open(mut bytes: &'static [u8], section: &'static str) -> Result<Self, SnapshotError> {
        let len = take_u32(&mut bytes, section)?;
        let table =
            len.checked_add(1).and_then(|n| n.checked_mul(4)).ok_or(SnapshotError::Truncated(section))?;
        if bytes.len() < table {
            return Err(SnapshotError::Truncated(section));
        }
        let (offsets, body) = bytes.split_at(table);
        let t = Indexed { len, offsets, body };
        if t.offset(len) != Some(body.len()) {
            return Err(SnapshotError::Decode {
                section,
                message: "offset table does not end at the body's end".into(),
            });
        }
        Ok(t)
    }

    fn offset(&self, i: usize) -> Option<usize> {
        let at = i.checked_mul(4)?;
        let b = self.offsets.get(at..at + 4)?;
        usize::try_from(u32::from_le_bytes(b.try_into().ok()?)).ok()
    }

    /// Entry `i`'s bytes; `None` if it is out of range or its offsets are damaged.
    fn entry(&self, i: usize) -> Option<&'static [u8]> {
        if i >= self.len {
            return None;
        }
        self.body.get(self.offset(i)?..self.offset(i + 1)?)
    }
}

/// Decoded values by index. They are leaked: every table lives as long as
/// the process (see `crate::snapshot`), and each value is decoded at most
/// once. The cells are allocated on the first lookup, not when the table
/// opens (a one-app run opens tables it never reads), and are read without
/// a lock: matching looks values up for every class name it hits.
struct Decoded<V: 'static> {
    len: usize,
    cells: OnceLock<Box<[OnceLock<Option<&'static V>>]>>,
}

impl<V: DeserializeOwned + 'static> Decoded<V> {
    /// `len` is bounded by the table's offset table, which lies in memory.
    fn new(len: usize) -> Self {
        Decoded { len, cells: OnceLock::new() }
    }

    fn get_or_decode(&self, i: usize, bytes: &[u8]) -> Option<&'static V> {
        let cells = self.cells.get_or_init(|| (0..self.len).map(|_| OnceLock::new()).collect());
        *cells.get(i)?.get_or_init(|| postcard::from_bytes::<V>(bytes).ok().map(|v| &*Box::leak(Box::new(v))))
    }
}

/// A string-keyed table; see the module documentation.
pub struct LazyMap<V: 'static> {
    index: Indexed,
    decoded: Decoded<V>,
}

impl<V> std::fmt::Debug for LazyMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyMap").field("len", &self.index.len).finish()
    }
}

impl<V: DeserializeOwned + 'static> Default for LazyMap<V> {
    fn default() -> Self {
        LazyMap { index: Indexed::default(), decoded: Decoded::new(0) }
    }
}

impl<V: Serialize + DeserializeOwned + 'static> LazyMap<V> {
    pub fn encode(map: &HashMap<String, V>) -> Result<Vec<u8>, postcard::Error> {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        let mut entries = Vec::with_capacity(keys.len());
        for k in keys {
            let mut e = Vec::new();
            put_framed(&mut e, k.as_bytes())?;
            put_framed(&mut e, &postcard::to_stdvec(&map[k])?)?;
            entries.push(e);
        }
        encode_indexed(&entries)
    }

    /// Opens an encoded table: reads its header only.
    pub fn open(bytes: &'static [u8], section: &'static str) -> Result<Self, SnapshotError> {
        let index = Indexed::open(bytes, section)?;
        Ok(LazyMap { index, decoded: Decoded::new(index.len) })
    }

    /// Checks every entry's framing and that the keys are UTF-8 and strictly
    /// increasing, which lookups rely on.
    pub fn verify(&self, section: &'static str) -> Result<(), SnapshotError> {
        let mut previous: Option<&[u8]> = None;
        for i in 0..self.index.len {
            let (key, _) = self.key_value(i).ok_or(SnapshotError::Truncated(section))?;
            if std::str::from_utf8(key).is_err() || previous.is_some_and(|p| p >= key) {
                return Err(SnapshotError::Decode {
                    section,
                    message: format!("key {i} is out of order or not UTF-8"),
                });
            }
            previous = Some(key);
        }
        Ok(())
    }

    fn key_value(&self, i: usize) -> Option<(&'static [u8], &'static [u8])> {
        let mut entry = self.index.entry(i)?;
        let key = take_bytes(&mut entry, "map entry").ok()?;
        let value = take_bytes(&mut entry, "map entry").ok()?;
        Some((key, value))
    }

    fn find(&self, key: &str) -> Option<(usize, &'static [u8])> {
        let (mut lo, mut hi) = (0, self.index.len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, v) = self.key_value(mid)?;
            match k.cmp(key.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some((mid, v)),
            }
        }
        None
    }

    pub fn get(&self, key: &str) -> Option<&'static V> {
        let (i, bytes) = self.find(key)?;
        self.decoded.get_or_decode(i, bytes)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.index.len
    }

    pub fn is_empty(&self) -> bool {
        self.index.len == 0
    }

    /// Keys in order (a key that is damaged or not UTF-8 is skipped).
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        (0..self.index.len).filter_map(|i| std::str::from_utf8(self.key_value(i)?.0).ok())
    }

    /// Entries in key order, decoding every value (for `sigs`, not for scans).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static V)> + '_ {
        (0..self.index.len).filter_map(|i| {
            let (k, v) = self.key_value(i)?;
            Some((std::str::from_utf8(k).ok()?, self.decoded.get_or_decode(i, v)?))
        })
    }

    pub fn values(&self) -> impl Iterator<Item = &'static V> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// The table as an owned map (tests and comparisons).
    pub fn to_map(&self) -> HashMap<String, V>
    where
        V: Clone,
    {
        self.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }
}

/// A list read from snapshot bytes, each element decoded on first access;
/// see the module documentation.
pub struct LazyVec<V: 'static> {
    index: Indexed,
    decoded: Decoded<V>,
}

impl<V> std::fmt::Debug for LazyVec<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyVec").field("len", &self.index.len).finish()
    }
}

impl<V: DeserializeOwned + 'static> Default for LazyVec<V> {
    fn default() -> Self {
        LazyVec { index: Indexed::default(), decoded: Decoded::new(0) }
    }
}

impl<V: Serialize + DeserializeOwned + 'static> LazyVec<V> {
    pub fn encode(items: &[V]) -> Result<Vec<u8>, postcard::Error> {
        let entries = items.iter().map(postcard::to_stdvec).collect::<Result<Vec<_>, _>>()?;
        encode_indexed(&entries)
    }

    /// Opens an encoded list: reads its header only.
    pub fn open(bytes: &'static [u8], section: &'static str) -> Result<Self, SnapshotError> {
        let index = Indexed::open(bytes, section)?;
        Ok(LazyVec { index, decoded: Decoded::new(index.len) })
    }

    /// Checks that every element's bytes lie inside the list.
    pub fn verify(&self, section: &'static str) -> Result<(), SnapshotError> {
        match (0..self.index.len).find(|&i| self.index.entry(i).is_none()) {
            Some(i) => {
                Err(SnapshotError::Decode { section, message: format!("element {i} has damaged offsets") })
            }
            None => Ok(()),
        }
    }

    /// Encodes `items` into bytes that live as long as the process and opens them.
    pub fn from_items(items: &[V]) -> Result<Self, SnapshotError> {
        let bytes = LazyVec::encode(items)
            .map_err(|e| SnapshotError::Decode { section: "list", message: e.to_string() })?;
        LazyVec::open(Box::leak(bytes.into_boxed_slice()), "list")
    }

    pub fn get(&self, i: usize) -> Option<&'static V> {
        self.decoded.get_or_decode(i, self.index.entry(i)?)
    }

    pub fn len(&self) -> usize {
        self.index.len
    }

    pub fn is_empty(&self) -> bool {
        self.index.len == 0
    }

    /// Every element in order, decoding each (undecodable ones are skipped;
    /// for `sigs` and tests, not for scans).
    pub fn iter(&self) -> impl Iterator<Item = &'static V> + '_ {
        (0..self.index.len).filter_map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leak(v: Vec<u8>) -> &'static [u8] {
        Box::leak(v.into_boxed_slice())
    }

    #[test]
    fn looks_up_and_decodes_on_demand() {
        let mut m = HashMap::new();
        m.insert("b".to_string(), "two".to_string());
        m.insert("a".to_string(), "one".to_string());
        let t: LazyMap<String> = LazyMap::open(leak(LazyMap::encode(&m).unwrap()), "t").unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.get("a").map(String::as_str), Some("one"));
        assert_eq!(t.get("b").map(String::as_str), Some("two"));
        assert!(t.get("c").is_none());
        assert_eq!(t.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(t.to_map(), m);
    }

    #[test]
    fn truncated_or_unordered_tables_are_errors() {
        let mut m = HashMap::new();
        m.insert("k".to_string(), 7u32);
        m.insert("j".to_string(), 8u32);
        let bytes = LazyMap::encode(&m).unwrap();
        for cut in 0..bytes.len() {
            assert!(LazyMap::<u32>::open(leak(bytes[..cut].to_vec()), "t").is_err());
        }
        let opened = LazyMap::<u32>::open(leak(bytes.clone()), "t").unwrap();
        assert!(opened.verify("t").is_ok());
        // Swap the two keys ("j" < "k") so they are out of order: opening
        // reads the header only, the full check finds it.
        let swapped: Vec<u8> = bytes.iter().map(|&b| if b == b'j' { b'l' } else { b }).collect();
        assert!(LazyMap::<u32>::open(leak(swapped), "t").unwrap().verify("t").is_err());
        // A huge count with no entries behind it is an error, not an allocation.
        assert!(LazyMap::<u32>::open(leak(u32::MAX.to_le_bytes().to_vec()), "t").is_err());
    }

    #[test]
    fn lists_decode_elements_on_demand() {
        let v: LazyVec<String> = LazyVec::from_items(&["a".to_string(), "bc".to_string()]).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v.get(1).map(String::as_str), Some("bc"));
        assert!(v.get(2).is_none());
        assert_eq!(v.iter().count(), 2);
        let bytes = LazyVec::encode(&[7u32, 8]).unwrap();
        for cut in 0..bytes.len() {
            assert!(LazyVec::<u32>::open(leak(bytes[..cut].to_vec()), "t").is_err());
        }
    }

    #[test]
    fn undecodable_values_read_as_missing() {
        let mut entry = Vec::new();
        put_framed(&mut entry, b"k").unwrap();
        put_framed(&mut entry, b"").unwrap();
        let t = LazyMap::<String>::open(leak(encode_indexed(&[entry]).unwrap()), "t").unwrap();
        assert!(t.verify("t").is_ok());
        assert!(t.contains_key("k"));
        assert!(t.get("k").is_none());
    }

    #[test]
    fn damaged_offsets_lose_only_their_entries() {
        let mut m = HashMap::new();
        for k in ["a", "b", "c"] {
            m.insert(k.to_string(), k.to_uppercase());
        }
        let mut bytes = LazyMap::encode(&m).unwrap();
        // Offset slot 1 (bytes 8..12) ends "a" and starts "b": point it past
        // the body. Both entries are lost (and so is a lookup whose binary
        // search probes one of them); "c" is still listed.
        bytes[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        let t = LazyMap::<String>::open(leak(bytes), "t").unwrap();
        assert!(t.verify("t").is_err());
        assert!(t.get("a").is_none() && t.get("b").is_none());
        assert_eq!(t.keys().collect::<Vec<_>>(), ["c"]);
        assert_eq!(t.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(), ["C"]);
        // A list with an out-of-range element offset.
        let mut bytes = LazyVec::encode(&[1u32, 2, 3]).unwrap();
        bytes[8..12].copy_from_slice(&1000u32.to_le_bytes());
        let v = LazyVec::<u32>::open(leak(bytes), "t").unwrap();
        assert!(v.verify("t").is_err());
        assert_eq!((v.get(0), v.get(1), v.get(2)), (None, None, Some(&3)));
    }

    #[test]
    fn values_decode_once_and_are_shared_across_threads() {
        let mut m = HashMap::new();
        m.insert("k".to_string(), "v".to_string());
        let t: &'static LazyMap<String> =
            Box::leak(Box::new(LazyMap::open(leak(LazyMap::encode(&m).unwrap()), "t").unwrap()));
        let addrs: Vec<usize> = (0..4)
            .map(|_| std::thread::spawn(move || t.get("k").map(|v| v as *const String as usize)))
            .map(|h| h.join().unwrap().unwrap())
            .collect();
        assert!(addrs.windows(2).all(|w| w[0] == w[1]));
    }
}
