//! A small BER/DER TLV walker for the ASN.1 the signing code needs
//! (PKCS#7 SignedData, the few certificate fields used for verification).
//!
//! JAR signature blocks are BER in the wild (old `jarsigner` wrote
//! indefinite lengths), so indefinite-length constructed values are accepted;
//! nesting is capped so a hostile blob cannot recurse without end.

use thiserror::Error;

/// Deepest nesting followed when skipping indefinite-length content.
const MAX_DEPTH: u32 = 64;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DerError {
    #[error("ASN.1 value at offset {0} runs past the end")]
    Truncated(usize),
    #[error("ASN.1 tag at offset {0} is not supported (high tag number)")]
    HighTag(usize),
    #[error("ASN.1 length at offset {0} is malformed")]
    BadLength(usize),
    #[error("ASN.1 nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("expected ASN.1 tag {expected:#04x}, found {found:#04x}")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("ASN.1 structure is missing a field")]
    Missing,
}

/// One tag-length-value element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (class, constructed bit, tag number).
    pub tag: u8,
    /// The value octets (for indefinite lengths: up to, not including, the end-of-contents).
    pub content: &'a [u8],
    /// The whole encoding, header included.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    pub fn is_constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// Children of a constructed value.
    pub fn children(&self) -> Children<'a> {
        Children { data: self.content, pos: 0, failed: false }
    }

    pub fn expect(self, tag: u8) -> Result<Self, DerError> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(DerError::UnexpectedTag { expected: tag, found: self.tag })
        }
    }
}

/// Iterator over the elements of a constructed value; stops for good after an error.
#[derive(Debug, Clone)]
pub struct Children<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Children<'a> {
    /// Next element, `Err(Missing)` at the end.
    pub fn next_tlv(&mut self) -> Result<Tlv<'a>, DerError> {
        self.next().unwrap_or(Err(DerError::Missing))
    }

    /// Next element if its tag is `tag`; otherwise leaves the cursor where it was.
    pub fn next_if(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.failed || self.pos >= self.data.len() {
            return Ok(None);
        }
        if self.data.get(self.pos) != Some(&tag) {
            return Ok(None);
        }
        self.next_tlv().map(Some)
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<Tlv<'a>, DerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        match read_tlv_at(self.data, self.pos, 0) {
            Ok((tlv, next)) => {
                self.pos = next;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Parses the element at the start of `data`.
pub fn parse(data: &[u8]) -> Result<Tlv<'_>, DerError> {
    read_tlv_at(data, 0, 0).map(|(tlv, _)| tlv)
}

/// Reads one element at `pos`; returns it and the offset just after it.
fn read_tlv_at(data: &[u8], pos: usize, depth: u32) -> Result<(Tlv<'_>, usize), DerError> {
    if depth > MAX_DEPTH {
        return Err(DerError::TooDeep);
    }
    let tag = *data.get(pos).ok_or(DerError::Truncated(pos))?;
    if tag & 0x1f == 0x1f {
        return Err(DerError::HighTag(pos));
    }
    let len_pos = pos + 1;
    let first = *data.get(len_pos).ok_or(DerError::Truncated(len_pos))?;
    let (content_start, content_len) = if first < 0x80 {
        (len_pos + 1, Some(usize::from(first)))
    } else if first == 0x80 {
        if tag & 0x20 == 0 {
            return Err(DerError::BadLength(len_pos));
        }
        (len_pos + 1, None)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return Err(DerError::BadLength(len_pos));
        }
        let mut len = 0usize;
        for i in 0..n {
            let b = *data.get(len_pos + 1 + i).ok_or(DerError::Truncated(len_pos))?;
            len = (len << 8) | usize::from(b);
        }
        (len_pos + 1 + n, Some(len))
    };
    match content_len {
        Some(len) => {
            let end = content_start.checked_add(len).ok_or(DerError::BadLength(len_pos))?;
            let content = data.get(content_start..end).ok_or(DerError::Truncated(pos))?;
            let raw = data.get(pos..end).ok_or(DerError::Truncated(pos))?;
            Ok((Tlv { tag, content, raw }, end))
        }
        None => {
            // Indefinite length: walk children until the end-of-contents octets.
            let mut cursor = content_start;
            loop {
                match (data.get(cursor), data.get(cursor + 1)) {
                    (Some(0), Some(0)) => break,
                    (Some(_), Some(_)) => {
                        let (_, next) = read_tlv_at(data, cursor, depth + 1)?;
                        cursor = next;
                    }
                    _ => return Err(DerError::Truncated(cursor)),
                }
            }
            let content = data.get(content_start..cursor).ok_or(DerError::Truncated(pos))?;
            let raw = data.get(pos..cursor + 2).ok_or(DerError::Truncated(pos))?;
            Ok((Tlv { tag, content, raw }, cursor + 2))
        }
    }
}

pub const TAG_INTEGER: u8 = 0x02;
pub const TAG_BIT_STRING: u8 = 0x03;
pub const TAG_OCTET_STRING: u8 = 0x04;
pub const TAG_NULL: u8 = 0x05;
pub const TAG_OID: u8 = 0x06;
pub const TAG_SEQUENCE: u8 = 0x30;
pub const TAG_SET: u8 = 0x31;

/// Dotted form of an OBJECT IDENTIFIER's content octets.
pub fn oid_to_string(content: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    let mut in_arc = false;
    for &b in content {
        if value > (u64::MAX >> 7) {
            return None;
        }
        value = (value << 7) | u64::from(b & 0x7f);
        in_arc = true;
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
            in_arc = false;
        }
    }
    if in_arc || arcs.is_empty() {
        return None;
    }
    Some(arcs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join("."))
}

/// Reads an AlgorithmIdentifier's OID (parameters ignored).
pub fn algorithm_oid(alg: Tlv<'_>) -> Result<String, DerError> {
    let oid = alg.expect(TAG_SEQUENCE)?.children().next_tlv()?.expect(TAG_OID)?;
    oid_to_string(oid.content).ok_or(DerError::BadLength(0))
}

/// INTEGER content without redundant leading zero octets (for comparing serials).
pub fn integer_magnitude(content: &[u8]) -> &[u8] {
    let mut c = content;
    while c.len() > 1 && c[0] == 0 {
        c = &c[1..];
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_definite_and_indefinite_lengths() {
        let definite = [0x30, 0x03, 0x02, 0x01, 0x05];
        let tlv = parse(&definite).unwrap();
        assert_eq!(tlv.tag, 0x30);
        let kids: Vec<_> = tlv.children().collect::<Result<_, _>>().unwrap();
        assert_eq!(kids.len(), 1);
        assert_eq!(kids[0].content, &[5]);

        let indefinite = [0x30, 0x80, 0x02, 0x01, 0x07, 0x00, 0x00];
        let tlv = parse(&indefinite).unwrap();
        assert_eq!(tlv.raw.len(), 7);
        assert_eq!(tlv.children().next().unwrap().unwrap().content, &[7]);
    }

    #[test]
    fn rejects_truncated_and_malformed() {
        assert!(parse(&[0x30, 0x05, 0x02]).is_err());
        assert!(parse(&[0x30]).is_err());
        assert!(parse(&[0x02, 0x80]).is_err());
        assert!(parse(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        assert!(parse(&[0x1f, 0x01, 0x00]).is_err());
        // Unterminated indefinite length.
        assert!(parse(&[0x30, 0x80, 0x02, 0x01, 0x07]).is_err());
        // Deep nesting of indefinite lengths stops.
        let mut deep = vec![];
        for _ in 0..200 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn decodes_oids() {
        assert_eq!(
            oid_to_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]).as_deref(),
            Some("1.2.840.113549.1.7.2")
        );
        assert_eq!(oid_to_string(&[0x2b, 0x0e, 0x03, 0x02, 0x1a]).as_deref(), Some("1.3.14.3.2.26"));
        assert_eq!(oid_to_string(&[0x86]), None);
        assert_eq!(oid_to_string(&[]), None);
    }
}
