//! A string-keyed table read straight from snapshot bytes: the keys are
//! indexed when the table is opened, each value is decoded on its first
//! lookup. A one-app run looks up a handful of the thousands of entities,
//! domains and permissions, so decoding all of them up front would cost more
//! than the whole analysis of a small app.
//!
//! Encoding: a little-endian `u32` count, then per entry, in key order, a
//! `u32` key length, the key, a `u32` value length and the postcard-encoded
//! value.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::snapshot::SnapshotError;

pub struct LazyMap<V: 'static> {
    /// Sorted by key. Keys are checked to be UTF-8 only when listed: a
    /// lookup compares bytes, and validating thousands of keys up front
    /// costs a small app's scan more than its lookups.
    entries: Vec<(&'static [u8], &'static [u8])>,
    /// Decoded values. They are leaked: every table lives as long as the
    /// process (see `crate::snapshot`), and each value is decoded at most once.
    cells: Vec<OnceLock<Option<&'static V>>>,
}

impl<V> std::fmt::Debug for LazyMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyMap").field("len", &self.entries.len()).finish()
    }
}

impl<V: 'static> Default for LazyMap<V> {
    fn default() -> Self {
        LazyMap { entries: Vec::new(), cells: Vec::new() }
    }
}

/// Reads a little-endian `u32` (a count or a length) off the front of `bytes`.
pub(crate) fn take_u32(bytes: &mut &'static [u8], section: &'static str) -> Result<usize, SnapshotError> {
    let (n, rest) = bytes.split_first_chunk::<4>().ok_or(SnapshotError::Truncated(section))?;
    *bytes = rest;
    usize::try_from(u32::from_le_bytes(*n)).map_err(|_| SnapshotError::Truncated(section))
}

/// Reads a `u32` length and that many bytes off the front of `bytes`: the
/// framing of every section and entry in a snapshot.
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
    let len = u32::try_from(body.len()).map_err(|_| postcard::Error::SerializeBufferFull)?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    Ok(())
}

impl<V: Serialize + DeserializeOwned + 'static> LazyMap<V> {
    pub fn encode(map: &HashMap<String, V>) -> Result<Vec<u8>, postcard::Error> {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        let mut out = Vec::new();
        let len = |n: usize| {
            u32::try_from(n).map(u32::to_le_bytes).map_err(|_| postcard::Error::SerializeBufferFull)
        };
        out.extend_from_slice(&len(keys.len())?);
        for k in keys {
            put_framed(&mut out, k.as_bytes())?;
            put_framed(&mut out, &postcard::to_stdvec(&map[k])?)?;
        }
        Ok(out)
    }

    /// Indexes an encoded table; values are not decoded here.
    pub fn open(mut bytes: &'static [u8], section: &'static str) -> Result<Self, SnapshotError> {
        let count = take_u32(&mut bytes, section)?;
        // Each entry takes at least 8 bytes, which bounds the allocation.
        let mut entries = Vec::with_capacity(count.min(bytes.len() / 8));
        for _ in 0..count {
            let key = take_bytes(&mut bytes, section)?;
            let value = take_bytes(&mut bytes, section)?;
            entries.push((key, value));
        }
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            return Err(SnapshotError::Decode { section, message: "keys out of order".into() });
        }
        let cells = (0..entries.len()).map(|_| OnceLock::new()).collect();
        Ok(LazyMap { entries, cells })
    }

    fn value(&self, i: usize) -> Option<&'static V> {
        let (_, bytes) = self.entries.get(i)?;
        *self
            .cells
            .get(i)?
            .get_or_init(|| postcard::from_bytes::<V>(bytes).ok().map(|v| &*Box::leak(Box::new(v))))
    }

    pub fn get(&self, key: &str) -> Option<&'static V> {
        let i = self.entries.binary_search_by(|(k, _)| (*k).cmp(key.as_bytes())).ok()?;
        self.value(i)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.binary_search_by(|(k, _)| (*k).cmp(key.as_bytes())).is_ok()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys in order (a key that is not UTF-8 is skipped).
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().filter_map(|(k, _)| std::str::from_utf8(k).ok())
    }

    /// Entries in key order, decoding every value (for `sigs`, not for scans).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'static V)> + '_ {
        (0..self.entries.len())
            .filter_map(|i| Some((std::str::from_utf8(self.entries[i].0).ok()?, self.value(i)?)))
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

/// A list read from snapshot bytes, each element decoded on first access.
///
/// Encoding: a little-endian `u32` count, then per element a `u32` length
/// and the postcard-encoded element.
pub struct LazyVec<V: 'static> {
    items: Vec<&'static [u8]>,
    cells: Vec<OnceLock<Option<&'static V>>>,
}

impl<V> std::fmt::Debug for LazyVec<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyVec").field("len", &self.items.len()).finish()
    }
}

impl<V: 'static> Default for LazyVec<V> {
    fn default() -> Self {
        LazyVec { items: Vec::new(), cells: Vec::new() }
    }
}

impl<V: Serialize + DeserializeOwned + 'static> LazyVec<V> {
    pub fn encode(items: &[V]) -> Result<Vec<u8>, postcard::Error> {
        let len = |n: usize| {
            u32::try_from(n).map(u32::to_le_bytes).map_err(|_| postcard::Error::SerializeBufferFull)
        };
        let mut out = len(items.len())?.to_vec();
        for item in items {
            put_framed(&mut out, &postcard::to_stdvec(item)?)?;
        }
        Ok(out)
    }

    pub fn open(mut bytes: &'static [u8], section: &'static str) -> Result<Self, SnapshotError> {
        let count = take_u32(&mut bytes, section)?;
        // Each element takes at least 4 bytes, which bounds the allocation.
        let mut items = Vec::with_capacity(count.min(bytes.len() / 4));
        for _ in 0..count {
            items.push(take_bytes(&mut bytes, section)?);
        }
        let cells = (0..items.len()).map(|_| OnceLock::new()).collect();
        Ok(LazyVec { items, cells })
    }

    /// Encodes `items` into bytes that live as long as the process and opens them.
    pub fn from_items(items: &[V]) -> Result<Self, SnapshotError> {
        let bytes = LazyVec::encode(items)
            .map_err(|e| SnapshotError::Decode { section: "list", message: e.to_string() })?;
        LazyVec::open(Box::leak(bytes.into_boxed_slice()), "list")
    }

    pub fn get(&self, i: usize) -> Option<&'static V> {
        let bytes = self.items.get(i)?;
        *self
            .cells
            .get(i)?
            .get_or_init(|| postcard::from_bytes::<V>(bytes).ok().map(|v| &*Box::leak(Box::new(v))))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every element in order, decoding each (undecodable ones are skipped;
    /// for `sigs` and tests, not for scans).
    pub fn iter(&self) -> impl Iterator<Item = &'static V> + '_ {
        (0..self.items.len()).filter_map(|i| self.get(i))
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
        // Swap the two keys ("j" < "k") so they are out of order.
        let swapped: Vec<u8> = bytes.iter().map(|&b| if b == b'j' { b'l' } else { b }).collect();
        assert!(LazyMap::<u32>::open(leak(swapped), "t").is_err());
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
        let mut bytes = 1u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.push(b'k');
        bytes.extend_from_slice(&0u32.to_le_bytes());
        let t = LazyMap::<String>::open(leak(bytes), "t").unwrap();
        assert!(t.contains_key("k"));
        assert!(t.get("k").is_none());
    }
}
