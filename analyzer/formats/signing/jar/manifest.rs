//! The JAR manifest format shared by META-INF/MANIFEST.MF and `.SF` files:
//! sections of `Name: value` attributes separated by empty lines, with
//! 72-byte lines continued by a leading space; and the `<alg>-Digest`
//! attributes Android reads from a section on each platform version.
//! Offsets are apksig's exactly, so that section digests match.

use crate::formats::signing::crypto::HashAlg;

/// Sections beyond this are not read (real manifests: one per entry).
const MAX_SECTIONS: usize = 500_000;

/// Android JB MR2 (18): picks the strongest digest; before, `Digest-Algorithms`.
const SDK_JB_MR2: u32 = 18;
const SDK_GINGERBREAD: u32 = 9;

/// One manifest (or .SF) section: byte range and attributes in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub start: usize,
    pub size: usize,
    pub attributes: Vec<(String, String)>,
}

impl Section {
    /// First attribute with this name (names are case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn name(&self) -> Option<&str> {
        self.get("Name")
    }
}

/// Reader of the JAR manifest format (72-byte lines, continuation lines
/// starting with a space, sections separated by empty lines), with apksig's
/// exact offsets so section digests match.
pub struct ManifestParser<'a> {
    data: &'a [u8],
    offset: usize,
    end_of_stream: bool,
    buffered: Option<Vec<u8>>,
}

impl<'a> ManifestParser<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        ManifestParser { data, offset: 0, end_of_stream: false, buffered: None }
    }

    fn read_line(&mut self) -> Option<&'a [u8]> {
        if self.end_of_stream {
            return None;
        }
        let start = self.offset;
        let rest = self.data.get(start..).unwrap_or_default();
        let (line_end, next) = match rest.iter().position(|&b| b == b'\r' || b == b'\n') {
            Some(i) => {
                let at = start + i;
                if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    (at, at + 2)
                } else {
                    (at, at + 1)
                }
            }
            None => (self.data.len(), self.data.len()),
        };
        self.offset = next;
        if self.offset >= self.data.len() {
            self.end_of_stream = true;
        }
        self.data.get(start..line_end)
    }

    /// Next logical attribute line; `Some(empty)` = end of section, `None` = end of input.
    fn read_attribute(&mut self) -> Option<Vec<u8>> {
        if self.buffered.as_ref().is_some_and(|b| b.is_empty()) {
            self.buffered = None;
            return Some(Vec::new());
        }
        let Some(line) = self.read_line() else {
            return self.buffered.take();
        };
        if line.is_empty() {
            return Some(match self.buffered.take() {
                Some(b) => {
                    self.buffered = Some(Vec::new());
                    b
                }
                None => Vec::new(),
            });
        }
        let mut attr = match self.buffered.take() {
            None => line.to_vec(),
            Some(prev) => {
                if line[0] != b' ' {
                    self.buffered = Some(line.to_vec());
                    return Some(prev);
                }
                let mut a = prev;
                a.extend_from_slice(&line[1..]);
                a
            }
        };
        loop {
            let Some(line) = self.read_line() else {
                return Some(attr);
            };
            if line.is_empty() {
                self.buffered = Some(Vec::new());
                return Some(attr);
            }
            if line[0] == b' ' {
                attr.extend_from_slice(&line[1..]);
            } else {
                self.buffered = Some(line.to_vec());
                return Some(attr);
            }
        }
    }

    pub fn read_section(&mut self) -> Option<Section> {
        let (start, first) = loop {
            let start = self.offset;
            let attr = self.read_attribute()?;
            if !attr.is_empty() {
                break (start, attr);
            }
        };
        let mut attributes = vec![parse_attribute(&first)];
        loop {
            match self.read_attribute() {
                Some(a) if !a.is_empty() => attributes.push(parse_attribute(&a)),
                _ => break,
            }
        }
        Some(Section { start, size: self.offset - start, attributes })
    }

    pub fn read_all_sections(&mut self) -> Vec<Section> {
        let mut out = Vec::new();
        while out.len() < MAX_SECTIONS {
            match self.read_section() {
                Some(s) => out.push(s),
                None => break,
            }
        }
        out
    }
}

fn parse_attribute(line: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(line);
    match text.find(": ") {
        Some(i) => (text[..i].to_string(), text[i + 2..].to_string()),
        None => (text.into_owned(), String::new()),
    }
}

/// Standard base64 (with optional padding); `None` on any invalid character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in trimmed.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// A digest a section states: algorithm and decoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NamedDigest {
    pub(super) alg: HashAlg,
    pub(super) digest: Vec<u8>,
}

fn canonical_digest(name: &str) -> Option<HashAlg> {
    Some(match name.to_ascii_uppercase().as_str() {
        "MD5" => HashAlg::Md5,
        "SHA" | "SHA1" | "SHA-1" => HashAlg::Sha1,
        "SHA-256" => HashAlg::Sha256,
        "SHA-384" => HashAlg::Sha384,
        "SHA-512" => HashAlg::Sha512,
        _ => return None,
    })
}

fn min_sdk_for_manifest_digest(alg: HashAlg) -> u32 {
    match alg {
        HashAlg::Sha384 | HashAlg::Sha512 => SDK_GINGERBREAD,
        HashAlg::Md5 | HashAlg::Sha1 | HashAlg::Sha256 => 0,
        HashAlg::Sha224 => u32::MAX,
    }
}

/// apksig's `getDigestsToVerify`: the digests of `section` named
/// `<alg>{suffix}` that Android checks on platforms `min_sdk..=max_sdk`. `Err` = a digest value is not valid base64
/// (apksig throws: no verdict at all).
pub(super) fn digests_to_verify(
    section: &Section,
    suffix: &str,
    min_sdk: u32,
    max_sdk: u32,
) -> Result<Vec<NamedDigest>, String> {
    let decode = |v: &str| base64_decode(v).ok_or_else(|| format!("invalid base64 digest {v:?}"));
    let mut result: Vec<NamedDigest> = Vec::new();
    if min_sdk < SDK_JB_MR2 {
        let algs = section.get("Digest-Algorithms").unwrap_or("SHA SHA1").to_string();
        for alg_name in algs.split_whitespace() {
            let Some(value) = section.get(&format!("{alg_name}{suffix}")) else {
                continue;
            };
            let Some(alg) = canonical_digest(alg_name) else {
                continue;
            };
            if min_sdk_for_manifest_digest(alg) > min_sdk {
                continue;
            }
            result.push(NamedDigest { alg, digest: decode(value)? });
            break;
        }
        if result.is_empty() {
            return Ok(result);
        }
    }
    if max_sdk >= SDK_JB_MR2 {
        for (alg, attr) in [
            (HashAlg::Sha512, "SHA-512"),
            (HashAlg::Sha384, "SHA-384"),
            (HashAlg::Sha256, "SHA-256"),
            (HashAlg::Sha1, "SHA1"),
        ] {
            let Some(value) = section.get(&format!("{attr}{suffix}")) else {
                continue;
            };
            let digest = decode(value)?;
            if !result.iter().any(|d| d.alg == alg && d.digest == digest) {
                result.push(NamedDigest { alg, digest });
            }
            break;
        }
    }
    Ok(result)
}

pub(super) fn digest_matches(expected: &[NamedDigest], data: &[u8]) -> Option<bool> {
    let mut ok = true;
    for d in expected {
        let actual = d.alg.digest(data)?;
        ok &= actual == d.digest;
    }
    Some(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_with_continuations_and_offsets() {
        let mf = b"Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\nName: a/very/long/na\r\n me.txt\r\nSHA-256-Digest: AAAA\r\n\r\nName: b\nSHA1-Digest: Zm9v\n";
        let mut p = ManifestParser::new(mf);
        let main = p.read_section().unwrap();
        assert_eq!(main.start, 0);
        assert_eq!(main.size, 43);
        assert_eq!(main.get("manifest-version"), Some("1.0"));
        let sections = p.read_all_sections();
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].name(), Some("a/very/long/name.txt"));
        assert_eq!(sections[0].start, 43);
        assert_eq!(
            &mf[sections[0].start..sections[0].start + sections[0].size],
            &b"Name: a/very/long/na\r\n me.txt\r\nSHA-256-Digest: AAAA\r\n\r\n"[..]
        );
        assert_eq!(sections[1].get("SHA1-Digest"), Some("Zm9v"));
    }

    #[test]
    fn parses_degenerate_manifests() {
        assert!(ManifestParser::new(b"").read_section().is_none());
        assert!(ManifestParser::new(b"\n\n\r\n").read_section().is_none());
        let s = ManifestParser::new(b" continuation-first\nNoColon").read_section().unwrap();
        assert_eq!(s.attributes.len(), 2);
        assert_eq!(s.get("NoColon"), Some(""));
    }

    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert!(base64_decode("Zm9v!").is_none());
        assert!(base64_decode("Z").is_none());
    }

    #[test]
    fn picks_digests_by_platform() {
        let s = Section {
            start: 0,
            size: 0,
            attributes: vec![("Name".into(), "x".into()), ("SHA-256-Digest".into(), "Zm9v".into())],
        };
        // Before JB MR2 only SHA/SHA1 (from the default Digest-Algorithms) count.
        assert!(digests_to_verify(&s, "-Digest", 14, u32::MAX).unwrap().is_empty());
        assert_eq!(digests_to_verify(&s, "-Digest", 18, u32::MAX).unwrap().len(), 1);
    }
}
