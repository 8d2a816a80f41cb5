//! The one bounds-checked cursor every hand-written parser reads through.
//!
//! Offsets and lengths in app binaries are attacker-controlled, so no parser
//! indexes `data[a..b]` directly: it asks this reader, which answers `Err`
//! instead of panicking and uses checked arithmetic for every position.

use std::fmt;

/// A read ran past the end of the data (or an offset overflowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds {
    /// Offset the read started at.
    pub offset: usize,
    /// Bytes the read wanted.
    pub wanted: usize,
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "read of {} bytes at offset {:#x} runs past the end", self.wanted, self.offset)
    }
}

impl std::error::Error for OutOfBounds {}

pub type ReadResult<T> = Result<T, OutOfBounds>;

/// Returns `data[offset..offset + len]` if it lies inside `data`.
pub fn slice(data: &[u8], offset: usize, len: usize) -> ReadResult<&[u8]> {
    let end = offset.checked_add(len).ok_or(OutOfBounds { offset, wanted: len })?;
    data.get(offset..end).ok_or(OutOfBounds { offset, wanted: len })
}

/// Little-endian `u16` at `offset`.
pub fn u16_le_at(data: &[u8], offset: usize) -> ReadResult<u16> {
    let b = slice(data, offset, 2)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

/// Little-endian `u32` at `offset`.
pub fn u32_le_at(data: &[u8], offset: usize) -> ReadResult<u32> {
    let b = slice(data, offset, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Little-endian `u64` at `offset`.
pub fn u64_le_at(data: &[u8], offset: usize) -> ReadResult<u64> {
    let b = slice(data, offset, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(u64::from_le_bytes(a))
}

/// A forward cursor over untrusted bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// A reader positioned at `pos`; reads fail if `pos` is past the end.
    pub fn at(data: &'a [u8], pos: usize) -> Self {
        Reader { data, pos }
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub fn skip(&mut self, n: usize) -> ReadResult<()> {
        self.bytes(n).map(|_| ())
    }

    pub fn bytes(&mut self, n: usize) -> ReadResult<&'a [u8]> {
        let b = slice(self.data, self.pos, n)?;
        self.pos += n;
        Ok(b)
    }

    pub fn u8(&mut self) -> ReadResult<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u16_le(&mut self) -> ReadResult<u16> {
        let v = u16_le_at(self.data, self.pos)?;
        self.pos += 2;
        Ok(v)
    }

    pub fn u32_le(&mut self) -> ReadResult<u32> {
        let v = u32_le_at(self.data, self.pos)?;
        self.pos += 4;
        Ok(v)
    }

    pub fn u64_le(&mut self) -> ReadResult<u64> {
        let v = u64_le_at(self.data, self.pos)?;
        self.pos += 8;
        Ok(v)
    }

    pub fn u32_be(&mut self) -> ReadResult<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Unsigned LEB128 as used by DEX and protobuf; at most 10 bytes are read
    /// so a run of continuation bytes cannot loop long.
    pub fn uleb128(&mut self) -> ReadResult<u64> {
        let start = self.pos;
        let mut result: u64 = 0;
        for i in 0..10u32 {
            let byte = self.u8()?;
            if i < 9 || byte <= 1 {
                result |= u64::from(byte & 0x7f) << (7 * i);
            }
            if byte & 0x80 == 0 {
                return Ok(result);
            }
        }
        Err(OutOfBounds { offset: start, wanted: 11 })
    }

    /// Signed LEB128 (DEX encoded values, at most 5 bytes for 32-bit values
    /// but accepted up to 10).
    pub fn sleb128(&mut self) -> ReadResult<i64> {
        let start = self.pos;
        let mut result: i64 = 0;
        let mut shift = 0u32;
        for _ in 0..10 {
            let byte = self.u8()?;
            if shift < 64 {
                result |= i64::from(byte & 0x7f) << shift;
            }
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    result |= -1i64 << shift;
                }
                return Ok(result);
            }
        }
        Err(OutOfBounds { offset: start, wanted: 11 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_past_end_fail_instead_of_panicking() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16_le().unwrap(), 0x0201);
        assert!(r.u16_le().is_err());
        assert_eq!(r.u8().unwrap(), 3);
        assert!(r.u8().is_err());
        assert!(slice(&[0u8; 4], usize::MAX, 2).is_err());
        assert!(Reader::at(&[0u8; 2], 5).u8().is_err());
    }

    #[test]
    fn leb128_matches_dex_spec_examples() {
        assert_eq!(Reader::new(&[0x00]).uleb128().unwrap(), 0);
        assert_eq!(Reader::new(&[0x7f]).uleb128().unwrap(), 127);
        assert_eq!(Reader::new(&[0x80, 0x7f]).uleb128().unwrap(), 16256);
        assert_eq!(Reader::new(&[0x7f]).sleb128().unwrap(), -1);
        assert_eq!(Reader::new(&[0x80, 0x7f]).sleb128().unwrap(), -128);
        assert!(Reader::new(&[0x80; 12]).uleb128().is_err());
    }
}
