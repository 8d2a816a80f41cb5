//! `ResStringPool`: the string table shared by binary XML and resources.arsc.
//!
//! Strings are decoded on demand, never all up front: a resources.arsc global
//! pool can hold hundreds of thousands of strings of which an analysis needs a
//! handful. Counts and offsets are attacker-controlled (bogus string counts
//! and offsets are a known way to crash apktool), so every count is capped by
//! the bytes that can actually hold it and a bad offset yields `None` for that
//! one string only.

use crate::diagnostic::Diagnostic;
use crate::reader::{slice, u16_le_at, u32_le_at};

/// `ResStringPool_header::flags` bit: strings are UTF-8, not UTF-16.
const UTF8_FLAG: u32 = 1 << 8;
/// Fixed part of `ResStringPool_header`.
const MIN_HEADER_SIZE: usize = 28;

/// A string pool over a borrowed chunk.
#[derive(Debug, Clone)]
pub struct StringPool<'a> {
    /// The chunk's bytes (from its header, clamped to the data).
    chunk: &'a [u8],
    /// Where the `u32` offset array starts inside `chunk`.
    offsets_start: usize,
    count: usize,
    /// Where string data starts inside `chunk`.
    strings_start: usize,
    utf8: bool,
}

impl<'a> StringPool<'a> {
    /// An empty pool (every lookup fails).
    pub fn empty() -> Self {
        StringPool { chunk: &[], offsets_start: 0, count: 0, strings_start: 0, utf8: true }
    }

    /// Reads the pool header of `chunk` (which starts at the chunk header).
    /// `code_prefix` names the format for diagnostic codes (`axml`, `arsc`).
    pub fn parse(chunk: &'a [u8], code_prefix: &str, diags: &mut Vec<Diagnostic>) -> Self {
        let header_size = u16_le_at(chunk, 2).map(usize::from).unwrap_or(0);
        let (Ok(string_count), Ok(flags), Ok(strings_start)) =
            (u32_le_at(chunk, 8), u32_le_at(chunk, 16), u32_le_at(chunk, 20))
        else {
            diags.push(Diagnostic::warning(
                &format!("{code_prefix}.bad_string_pool"),
                "string pool header is truncated",
            ));
            return Self::empty();
        };
        // A header size below the fixed struct would overlap the offsets with
        // the header fields; Android rejects that, we assume the usual layout.
        let offsets_start = if header_size < MIN_HEADER_SIZE || header_size > chunk.len() {
            diags.push(Diagnostic::warning(
                &format!("{code_prefix}.bad_string_pool"),
                format!("string pool header size {header_size} is invalid; assuming {MIN_HEADER_SIZE}"),
            ));
            MIN_HEADER_SIZE
        } else {
            header_size
        };
        let strings_start = strings_start as usize;
        let strings_start_valid = strings_start >= offsets_start && strings_start <= chunk.len();
        // The offsets must fit between the header and the string data (or
        // the chunk end when the data offset is itself bogus).
        let offsets_limit = if strings_start_valid { strings_start } else { chunk.len() };
        let room = offsets_limit.saturating_sub(offsets_start) / 4;
        let mut count = string_count as usize;
        if count > room {
            let code = format!("{code_prefix}.bad_string_pool");
            let message = format!("string pool claims {string_count} strings but only {room} offsets fit");
            // Android's ResStringPool::setTo fails (BAD_TYPE) when the offset
            // array runs past the chunk: the platform cannot read such a
            // pool, so what is recovered here is more than the device sees.
            // Offsets that only run into the string data fit, and load.
            let past_chunk =
                (offsets_start as u64).saturating_add(u64::from(string_count) * 4) > chunk.len() as u64;
            diags.push(if past_chunk {
                Diagnostic::error(
                    &code,
                    format!("{message}: the offsets run past the chunk, which Android refuses"),
                )
            } else {
                Diagnostic::warning(&code, message)
            });
            count = room;
        }
        let offsets_end = offsets_start + count * 4;
        let strings_start = if strings_start_valid {
            strings_start
        } else {
            // Obfuscators zero or scramble stringsStart; the strings almost
            // always follow the offset array, so fall back to that.
            if count > 0 {
                diags.push(Diagnostic::warning(
                    &format!("{code_prefix}.bad_string_pool"),
                    format!("string data offset {strings_start:#x} is invalid; using {offsets_end:#x}"),
                ));
            }
            offsets_end.min(chunk.len())
        };
        StringPool { chunk, offsets_start, count, strings_start, utf8: flags & UTF8_FLAG != 0 }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// String `index`, or `None` when the index or its offset is out of range.
    pub fn get(&self, index: u32) -> Option<String> {
        let index = index as usize;
        if index >= self.count {
            return None;
        }
        let offset = u32_le_at(self.chunk, self.offsets_start + index * 4).ok()? as usize;
        let at = self.strings_start.checked_add(offset)?;
        if self.utf8 {
            decode_utf8_entry(self.chunk, at)
        } else {
            decode_utf16_entry(self.chunk, at)
        }
    }
}

/// UTF-8 entry: char count and byte count (each 1 or 2 bytes, high bit of
/// the first byte marking the long form), then the bytes and a NUL.
fn decode_utf8_entry(data: &[u8], at: usize) -> Option<String> {
    let (_chars, n1) = utf8_length(data, at)?;
    let (bytes, n2) = utf8_length(data, at + n1)?;
    let start = at + n1 + n2;
    // A byte count running past the pool is clipped rather than dropped: the
    // prefix is what a lenient reader would show.
    let available = data.len().saturating_sub(start);
    let raw = slice(data, start, bytes.min(available)).ok()?;
    let raw = match memchr::memchr(0, raw) {
        Some(nul) => &raw[..nul],
        None => raw,
    };
    Some(String::from_utf8_lossy(raw).into_owned())
}

fn utf8_length(data: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *data.get(at)?;
    if first & 0x80 == 0 {
        return Some((usize::from(first), 1));
    }
    let second = *data.get(at + 1)?;
    Some(((usize::from(first & 0x7f) << 8) | usize::from(second), 2))
}

/// UTF-16 entry: unit count (1 or 2 units, high bit marking the long form),
/// then the units and a NUL unit.
fn decode_utf16_entry(data: &[u8], at: usize) -> Option<String> {
    let first = u16_le_at(data, at).ok()?;
    let (units, header) = if first & 0x8000 == 0 {
        (usize::from(first), 2)
    } else {
        let second = u16_le_at(data, at + 2).ok()?;
        ((usize::from(first & 0x7fff) << 16) | usize::from(second), 4)
    };
    let start = at + header;
    let available = data.len().saturating_sub(start) / 2;
    let raw = slice(data, start, units.min(available) * 2).ok()?;
    let iter = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0);
    Some(char::decode_utf16(iter).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER)).collect())
}

/// Builds a string pool chunk for tests (UTF-8 or UTF-16).
#[cfg(test)]
pub(crate) fn build_pool(strings: &[&str], utf8: bool) -> Vec<u8> {
    let mut offsets = Vec::new();
    let mut body = Vec::new();
    for s in strings {
        offsets.push(body.len() as u32);
        if utf8 {
            let chars = s.chars().count();
            let bytes = s.len();
            for n in [chars, bytes] {
                if n < 0x80 {
                    body.push(n as u8);
                } else {
                    body.push(((n >> 8) as u8) | 0x80);
                    body.push(n as u8);
                }
            }
            body.extend_from_slice(s.as_bytes());
            body.push(0);
        } else {
            let units: Vec<u16> = s.encode_utf16().collect();
            let n = units.len();
            if n < 0x8000 {
                body.extend_from_slice(&(n as u16).to_le_bytes());
            } else {
                body.extend_from_slice(&(((n >> 16) as u16) | 0x8000).to_le_bytes());
                body.extend_from_slice(&(n as u16).to_le_bytes());
            }
            for u in units {
                body.extend_from_slice(&u.to_le_bytes());
            }
            body.extend_from_slice(&[0, 0]);
        }
    }
    while body.len() % 4 != 0 {
        body.push(0);
    }
    let header = 28usize;
    let strings_start = header + offsets.len() * 4;
    let size = strings_start + body.len();
    let mut out = Vec::new();
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&(header as u16).to_le_bytes());
    out.extend_from_slice(&(size as u32).to_le_bytes());
    out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(if utf8 { UTF8_FLAG } else { 0 }).to_le_bytes());
    out.extend_from_slice(&(strings_start as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for o in offsets {
        out.extend_from_slice(&o.to_le_bytes());
    }
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::each_truncation;

    #[test]
    fn decodes_utf8_and_utf16_including_long_lengths() {
        let long = "x".repeat(300);
        for utf8 in [true, false] {
            // UTF-8 lengths top out at 0x7fff; UTF-16 ones go to 0x7fffffff.
            let very_long = "y".repeat(if utf8 { 20_000 } else { 40_000 });
            let strs = ["", "manifest", "ünïcödé 汉字", long.as_str(), very_long.as_str()];
            let chunk = build_pool(&strs, utf8);
            let mut d = Vec::new();
            let pool = StringPool::parse(&chunk, "axml", &mut d);
            assert!(d.is_empty(), "{d:?}");
            assert_eq!(pool.len(), strs.len());
            for (i, s) in strs.iter().enumerate() {
                assert!(pool.get(i as u32).as_deref() == Some(*s), "string {i} (utf8: {utf8})");
            }
            assert_eq!(pool.get(99), None);
        }
    }

    #[test]
    fn bogus_count_and_offsets_are_capped_not_trusted() {
        let mut chunk = build_pool(&["a", "b"], true);
        chunk[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        chunk[20..24].copy_from_slice(&0u32.to_le_bytes());
        let mut d = Vec::new();
        let pool = StringPool::parse(&chunk, "axml", &mut d);
        assert!(!d.is_empty());
        assert!(pool.len() < 100);
        // Offsets past the chunk: Android refuses the pool, an error.
        assert!(d.iter().any(|x| x.level == crate::diagnostic::Level::Error), "{d:?}");
        // One offset too many for the room before the string data, but
        // inside the chunk: Android loads it, a warning.
        let mut chunk = build_pool(&["a", "b"], true);
        chunk[8..12].copy_from_slice(&3u32.to_le_bytes());
        let mut d = Vec::new();
        let _ = StringPool::parse(&chunk, "axml", &mut d);
        assert!(!d.is_empty() && d.iter().all(|x| x.level == crate::diagnostic::Level::Warning), "{d:?}");
        // A string offset pointing past the end gives None, not a panic.
        let mut chunk = build_pool(&["a"], false);
        chunk[28..32].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        let pool = StringPool::parse(&chunk, "axml", &mut Vec::new());
        assert_eq!(pool.get(0), None);
        // Truncated everywhere.
        let full = build_pool(&["hello", "world"], false);
        each_truncation(&full, |cut| {
            let pool = StringPool::parse(cut, "axml", &mut Vec::new());
            let _ = pool.get(0);
            let _ = pool.get(1);
        });
    }
}
