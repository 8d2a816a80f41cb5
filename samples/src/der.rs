//! Minimal DER encoder: just the ASN.1 types an X.509 certificate and a
//! PKCS#7 SignedData need. Values are built bottom-up as byte vectors.

/// Tag-length-value with a definite DER length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

pub fn sequence(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}

/// A SET; DER wants SET OF members sorted by encoding, which callers here
/// satisfy by passing a single member.
pub fn set(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &items.concat())
}

/// INTEGER from unsigned big-endian magnitude bytes.
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let trimmed = &magnitude[skip..];
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(0x02, &content)
}

pub fn small_integer(value: u64) -> Vec<u8> {
    unsigned_integer(&value.to_be_bytes())
}

pub fn oid(arcs: &[u64]) -> Vec<u8> {
    assert!(arcs.len() >= 2, "an OID has at least two arcs");
    let mut content = Vec::new();
    base128(&mut content, arcs[0] * 40 + arcs[1]);
    for &arc in &arcs[2..] {
        base128(&mut content, arc);
    }
    tlv(0x06, &content)
}

fn base128(out: &mut Vec<u8>, value: u64) {
    let mut groups = vec![(value & 0x7f) as u8];
    let mut rest = value >> 7;
    while rest > 0 {
        groups.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    groups.reverse();
    out.extend_from_slice(&groups);
}

pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

pub fn utf8_string(text: &str) -> Vec<u8> {
    tlv(0x0c, text.as_bytes())
}

pub fn printable_string(text: &str) -> Vec<u8> {
    tlv(0x13, text.as_bytes())
}

/// UTCTime such as `240101000000Z`.
pub fn utc_time(text: &str) -> Vec<u8> {
    tlv(0x17, text.as_bytes())
}

/// BIT STRING with no unused bits.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(0x03, &content)
}

pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

/// `[n] EXPLICIT` (constructed, context-specific).
pub fn explicit(tag_number: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xa0 | tag_number, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_known_values() {
        assert_eq!(small_integer(0), vec![0x02, 0x01, 0x00]);
        assert_eq!(small_integer(128), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(
            oid(&[1, 2, 840, 113549, 1, 1, 11]),
            vec![0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]
        );
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
