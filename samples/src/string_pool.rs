//! ResStringPool chunk writer shared by the AXML and resources.arsc writers.
//!
//! Layout: ResChunk_header(type 0x0001, header 28) stringCount styleCount
//! flags stringsStart stylesStart, then u32 offsets, then the strings, padded
//! to 4 bytes. UTF-16 strings: u16 length (two u16s with the high bit set when
//! longer than 0x7fff), code units, u16 0. UTF-8 strings: UTF-16 length and
//! UTF-8 length (1 or 2 bytes each, high bit marks the 2-byte form), bytes, 0.

use crate::zip::{put_u16, put_u32};

pub const RES_STRING_POOL_TYPE: u16 = 0x0001;
pub const UTF8_FLAG: u32 = 0x100;
const HEADER_SIZE: u16 = 28;

/// Encodes `strings` as a complete string-pool chunk.
pub fn encode(strings: &[String], utf8: bool) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets = Vec::with_capacity(strings.len());
    for s in strings {
        offsets.push(data.len() as u32);
        if utf8 {
            let units = s.encode_utf16().count();
            utf8_length(&mut data, units);
            utf8_length(&mut data, s.len());
            data.extend_from_slice(s.as_bytes());
            data.push(0);
        } else {
            let units: Vec<u16> = s.encode_utf16().collect();
            if units.len() > 0x7fff {
                put_u16(&mut data, 0x8000 | (units.len() >> 16) as u16);
            }
            put_u16(&mut data, (units.len() & 0xffff) as u16);
            for unit in units {
                put_u16(&mut data, unit);
            }
            put_u16(&mut data, 0);
        }
    }
    while !data.len().is_multiple_of(4) {
        data.push(0);
    }
    let strings_start = u32::from(HEADER_SIZE) + 4 * strings.len() as u32;
    let size = strings_start + data.len() as u32;
    let mut out = Vec::with_capacity(size as usize);
    put_u16(&mut out, RES_STRING_POOL_TYPE);
    put_u16(&mut out, HEADER_SIZE);
    put_u32(&mut out, size);
    put_u32(&mut out, strings.len() as u32);
    put_u32(&mut out, 0); // styles
    put_u32(&mut out, if utf8 { UTF8_FLAG } else { 0 });
    put_u32(&mut out, strings_start);
    put_u32(&mut out, 0);
    for offset in offsets {
        put_u32(&mut out, offset);
    }
    out.extend_from_slice(&data);
    out
}

fn utf8_length(out: &mut Vec<u8>, len: usize) {
    assert!(len <= 0x7fff, "demo strings are short");
    if len > 0x7f {
        out.push(0x80 | (len >> 8) as u8);
    }
    out.push((len & 0xff) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_pool_layout() {
        let pool = encode(&["ab".to_string()], false);
        assert_eq!(&pool[..2], &[0x01, 0x00]);
        assert_eq!(pool.len() % 4, 0);
        // offsets[0] == 0, then length 2, 'a', 'b', NUL
        assert_eq!(&pool[28..32], &[0, 0, 0, 0]);
        assert_eq!(&pool[32..40], &[2, 0, b'a', 0, b'b', 0, 0, 0]);
    }

    #[test]
    fn utf8_pool_layout() {
        let pool = encode(&["é".to_string()], true);
        assert_eq!(&pool[32..37], &[1, 2, 0xc3, 0xa9, 0]);
    }
}
