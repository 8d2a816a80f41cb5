//! Modified UTF-8 (MUTF-8), the encoding of DEX `string_data_item` bytes.
//!
//! MUTF-8 differs from UTF-8 in two ways: U+0000 is written as `C0 80`, and
//! characters outside the BMP are written as two 3-byte surrogates instead of
//! one 4-byte sequence. Almost every real string is plain ASCII or BMP text,
//! which is byte-identical in both encodings, so the common case borrows the
//! input and only the rare remainder is decoded by hand.

use std::borrow::Cow;

/// Decodes MUTF-8 bytes (without the terminating NUL). Valid input decodes
/// losslessly, except lone surrogates (legal in Java strings, impossible in a
/// Rust `str`), which become U+FFFD like any other invalid sequence.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(decode_slow(bytes)),
    }
}

fn is_continuation(byte: Option<&u8>) -> Option<u16> {
    match byte {
        Some(&b) if b & 0xc0 == 0x80 => Some(u16::from(b & 0x3f)),
        _ => None,
    }
}

/// Decodes to UTF-16 code units first so that surrogate pairs written as two
/// 3-byte sequences join back into one character.
fn decode_slow(bytes: &[u8]) -> String {
    const REPLACEMENT: u16 = 0xfffd;
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut pos = 0usize;
    while let Some(&lead) = bytes.get(pos) {
        match lead {
            0x00..=0x7f => {
                units.push(u16::from(lead));
                pos += 1;
            }
            0xc0..=0xdf => match is_continuation(bytes.get(pos + 1)) {
                Some(c1) => {
                    units.push((u16::from(lead & 0x1f) << 6) | c1);
                    pos += 2;
                }
                None => {
                    units.push(REPLACEMENT);
                    pos += 1;
                }
            },
            0xe0..=0xef => match (is_continuation(bytes.get(pos + 1)), is_continuation(bytes.get(pos + 2))) {
                (Some(c1), Some(c2)) => {
                    units.push((u16::from(lead & 0x0f) << 12) | (c1 << 6) | c2);
                    pos += 3;
                }
                _ => {
                    units.push(REPLACEMENT);
                    pos += 1;
                }
            },
            // Standard UTF-8 4-byte form: not MUTF-8, but its meaning is clear.
            0xf0..=0xf4 => {
                let tail = (
                    is_continuation(bytes.get(pos + 1)),
                    is_continuation(bytes.get(pos + 2)),
                    is_continuation(bytes.get(pos + 3)),
                );
                match tail {
                    (Some(c1), Some(c2), Some(c3)) => {
                        let scalar = (u32::from(lead & 0x07) << 18)
                            | (u32::from(c1) << 12)
                            | (u32::from(c2) << 6)
                            | u32::from(c3);
                        match char::from_u32(scalar) {
                            Some(ch) => {
                                let mut pair = [0u16; 2];
                                units.extend_from_slice(ch.encode_utf16(&mut pair));
                            }
                            None => units.push(REPLACEMENT),
                        }
                        pos += 4;
                    }
                    _ => {
                        units.push(REPLACEMENT);
                        pos += 1;
                    }
                }
            }
            _ => {
                units.push(REPLACEMENT);
                pos += 1;
            }
        }
    }
    String::from_utf16_lossy(&units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_bmp_text_is_borrowed() {
        assert!(matches!(decode(b"Lcom/a/B;"), Cow::Borrowed("Lcom/a/B;")));
        let text = "загрузка 现代";
        assert!(matches!(decode(text.as_bytes()), Cow::Borrowed(_)));
    }

    #[test]
    fn encoded_nul_and_surrogate_pairs_decode() {
        assert_eq!(decode(&[b'a', 0xc0, 0x80, b'b']), "a\0b");
        // U+1F600 as a MUTF-8 surrogate pair: D83D DE00.
        let smiley = [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80];
        assert_eq!(decode(&smiley), "\u{1f600}");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        assert_eq!(decode(&[b'x', 0xff, b'y']), "x\u{fffd}y");
        assert_eq!(decode(&[0xe0, 0x80]), "\u{fffd}\u{fffd}");
        // Lone high surrogate.
        assert_eq!(decode(&[0xed, 0xa0, 0xbd, b'z']), "\u{fffd}z");
        assert_eq!(decode(&[0xc0]), "\u{fffd}");
    }
}
