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

/// The `N` bytes at `offset` as an array, for the integer reads below.
fn array_at<const N: usize>(data: &[u8], offset: usize) -> ReadResult<[u8; N]> {
    let mut a = [0u8; N];
    a.copy_from_slice(slice(data, offset, N)?);
    Ok(a)
}

/// Little-endian `u16` at `offset`.
pub fn u16_le_at(data: &[u8], offset: usize) -> ReadResult<u16> {
    array_at(data, offset).map(u16::from_le_bytes)
}

/// Little-endian `u32` at `offset`.
pub fn u32_le_at(data: &[u8], offset: usize) -> ReadResult<u32> {
    array_at(data, offset).map(u32::from_le_bytes)
}

/// Little-endian `u64` at `offset`.
pub fn u64_le_at(data: &[u8], offset: usize) -> ReadResult<u64> {
    array_at(data, offset).map(u64::from_le_bytes)
}

/// Big-endian `u16` at `offset` (Mach-O universal headers, code signature
/// blobs and DER are big-endian whatever the CPU).
pub fn u16_be_at(data: &[u8], offset: usize) -> ReadResult<u16> {
    array_at(data, offset).map(u16::from_be_bytes)
}

/// Big-endian `u32` at `offset`.
pub fn u32_be_at(data: &[u8], offset: usize) -> ReadResult<u32> {
    array_at(data, offset).map(u32::from_be_bytes)
}

/// Big-endian `u64` at `offset`.
pub fn u64_be_at(data: &[u8], offset: usize) -> ReadResult<u64> {
    array_at(data, offset).map(u64::from_be_bytes)
}

/// Byte order of a format that comes in both (Mach-O slices, ELF), decided
/// once from its header and then passed to every read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    pub fn is_little(self) -> bool {
        self == ByteOrder::Little
    }

    /// `u16` at `offset` in this byte order.
    pub fn u16_at(self, data: &[u8], offset: usize) -> ReadResult<u16> {
        match self {
            ByteOrder::Little => u16_le_at(data, offset),
            ByteOrder::Big => u16_be_at(data, offset),
        }
    }

    /// `u32` at `offset` in this byte order.
    pub fn u32_at(self, data: &[u8], offset: usize) -> ReadResult<u32> {
        match self {
            ByteOrder::Little => u32_le_at(data, offset),
            ByteOrder::Big => u32_be_at(data, offset),
        }
    }

    /// `u64` at `offset` in this byte order.
    pub fn u64_at(self, data: &[u8], offset: usize) -> ReadResult<u64> {
        match self {
            ByteOrder::Little => u64_le_at(data, offset),
            ByteOrder::Big => u64_be_at(data, offset),
        }
    }
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

    pub fn u16_be(&mut self) -> ReadResult<u16> {
        let v = u16_be_at(self.data, self.pos)?;
        self.pos += 2;
        Ok(v)
    }

    pub fn u32_be(&mut self) -> ReadResult<u32> {
        let v = u32_be_at(self.data, self.pos)?;
        self.pos += 4;
        Ok(v)
    }

    pub fn u64_be(&mut self) -> ReadResult<u64> {
        let v = u64_be_at(self.data, self.pos)?;
        self.pos += 8;
        Ok(v)
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
    fn big_endian_reads_match_the_bytes_in_order() {
        let data = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        assert_eq!(u16_be_at(&data, 0), Ok(0x0102));
        assert_eq!(u32_be_at(&data, 1), Ok(0x0203_0405));
        assert_eq!(u64_be_at(&data, 1), Ok(0x0203_0405_0607_0809));
        assert_eq!(u16_le_at(&data, 0), Ok(0x0201));
        let mut r = Reader::new(&data);
        assert_eq!(r.u16_be(), Ok(0x0102));
        assert_eq!(r.u32_be(), Ok(0x0304_0506));
        assert_eq!(r.pos(), 6);
        // A failed read leaves the cursor where it was.
        assert!(r.u64_be().is_err());
        assert_eq!(r.pos(), 6);
        assert_eq!(r.u16_be(), Ok(0x0708));
        assert_eq!(Reader::new(&data[..8]).u64_be(), Ok(0x0102_0304_0506_0708));
    }

    #[test]
    fn big_endian_reads_past_the_end_or_overflowing_fail() {
        let data = [0xffu8; 8];
        assert_eq!(u16_be_at(&data, 7), Err(OutOfBounds { offset: 7, wanted: 2 }));
        assert_eq!(u32_be_at(&data, 5), Err(OutOfBounds { offset: 5, wanted: 4 }));
        assert_eq!(u64_be_at(&data, 1), Err(OutOfBounds { offset: 1, wanted: 8 }));
        assert!(u32_be_at(&data, 8).is_err());
        assert!(u64_be_at(&[], 0).is_err());
        // offset + len overflows usize: an error, not a wrapped read.
        for offset in [usize::MAX, usize::MAX - 1, usize::MAX - 3] {
            assert_eq!(u16_be_at(&data, offset), Err(OutOfBounds { offset, wanted: 2 }));
            assert_eq!(u32_be_at(&data, offset), Err(OutOfBounds { offset, wanted: 4 }));
            assert_eq!(u64_be_at(&data, offset), Err(OutOfBounds { offset, wanted: 8 }));
            assert!(ByteOrder::Big.u32_at(&data, offset).is_err());
            assert!(ByteOrder::Little.u64_at(&data, offset).is_err());
        }
        assert!(Reader::at(&data, usize::MAX).u32_be().is_err());
        assert!(Reader::at(&data, 7).u16_be().is_err());
    }

    #[test]
    fn byte_order_picks_the_matching_read() {
        let data = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
        assert_eq!(ByteOrder::Big.u16_at(&data, 0), Ok(0x0102));
        assert_eq!(ByteOrder::Little.u16_at(&data, 0), Ok(0x0201));
        assert_eq!(ByteOrder::Big.u32_at(&data, 4), Ok(0x0506_0708));
        assert_eq!(ByteOrder::Little.u32_at(&data, 4), Ok(0x0807_0605));
        assert_eq!(ByteOrder::Big.u64_at(&data, 0), Ok(0x0102_0304_0506_0708));
        assert_eq!(ByteOrder::Little.u64_at(&data, 0), Ok(0x0807_0605_0403_0201));
        assert!(ByteOrder::Little.is_little() && !ByteOrder::Big.is_little());
        assert!(ByteOrder::Big.u64_at(&data, 1).is_err());
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
