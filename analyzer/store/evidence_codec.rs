//! A compact, lossless encoding of [`AppEvidence`] for the results store,
//! so `appvet rescore` can re-run attribution without the APK.
//!
//! The body: a list of code units, config keys, entry names. Strings are
//! length-prefixed (LEB128); lists of names are front-coded against the
//! previous name in their original order (each name is the number of bytes
//! it shares with the previous one, then the length and bytes of the rest:
//! class descriptors and API references share long package prefixes).
//! Order is preserved so attribution sees exactly what a scan saw.
//!
//! Two framings of the body, told apart by the first bytes of the blob:
//! - format 2 (written now): the store's blob framing ([`blob::EVIDENCE`]):
//!   magic `7f 41 56 32` (`\x7fAV2`), the body's length (LEB128), then one
//!   zstd frame of the body (level 9). In its body each list of names
//!   records, after its count, the total length of its names, so that the
//!   decoder sizes the list's buffer once. Zstd decodes about four times
//!   faster than inflate, which `rescore` spends much of its time on, at a
//!   slightly smaller size (corpus: 13.1 KiB per app against 13.5).
//!   Call sites (one list per unit) follow the entry names when any unit
//!   has one; a body that ends after the entry names has none.
//! - format 1 (databases written before): a raw deflate stream of magic
//!   `AVE1` followed by the body (lists without their total length). Still
//!   decoded.

use super::blob::{self, put_len, BlobError, Body};
use crate::evidence::{AppEvidence, CodeUnit, ConfigKey, Names, NamesBuilder, Payload, UnitKind};

/// Format 1: inside the deflate stream.
const MAGIC_V1: &[u8; 4] = b"AVE1";
/// Caps the name text one blob may decode to (a damaged or hostile
/// database must not exhaust memory).
const MAX_DECODED: u64 = 1 << 30;
/// Reserves at most this much for one list's names before seeing them.
const MAX_NAMES_RESERVE: u64 = 16 << 20;

/// Which framing (and body variant) a blob has.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    V1,
    V2,
}

pub fn encode(ev: &AppEvidence) -> Vec<u8> {
    let body = encode_body(ev, Format::V2);
    // Format 1 still stores the evidence should zstd ever fail.
    blob::EVIDENCE.encode(&body).unwrap_or_else(|| encode_v1(&encode_body(ev, Format::V1)))
}

/// Format 1 framing of a body (a raw deflate stream of `AVE1` + body).
fn encode_v1(body: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(MAGIC_V1.len() + body.len());
    raw.extend_from_slice(MAGIC_V1);
    raw.extend_from_slice(body);
    blob::deflate(&raw)
}

fn encode_body(ev: &AppEvidence, format: Format) -> Vec<u8> {
    let mut raw = Vec::with_capacity(4096);
    put_len(&mut raw, ev.units.len());
    for u in &ev.units {
        put_str(&mut raw, &u.source);
        raw.push(match u.kind {
            UnitKind::Dex => 0,
            UnitKind::Native => 1,
            UnitKind::Macho => 2,
        });
        put_names(&mut raw, format, &u.classes);
        put_names(&mut raw, format, &u.apis);
        put_names(&mut raw, format, &u.libraries);
        put_names(&mut raw, format, &u.exports);
    }
    put_len(&mut raw, ev.config_keys.len());
    for k in &ev.config_keys {
        put_str(&mut raw, &k.source);
        put_str(&mut raw, &k.key);
        match &k.value {
            Some(v) => {
                raw.push(1);
                put_str(&mut raw, v);
            }
            None => raw.push(0),
        }
    }
    put_names(&mut raw, format, &ev.entry_names);
    // One optional tail after the fields of the first bodies: the payloads
    // (high-entropy assets), then each unit's call sites. A body that ends
    // here was written before either was kept and decodes with none.
    if !ev.payloads.is_empty() || ev.units.iter().any(|u| !u.calls.is_empty()) {
        put_len(&mut raw, ev.payloads.len());
        for p in &ev.payloads {
            put_str(&mut raw, &p.source);
            put_len(&mut raw, usize::try_from(p.size).unwrap_or(usize::MAX));
            put_len(&mut raw, p.entropy_millibits as usize);
        }
        for u in &ev.units {
            put_names(&mut raw, format, &u.calls);
        }
    }
    raw
}

#[derive(Debug, thiserror::Error)]
#[error("stored evidence is damaged: {0}")]
pub struct DecodeError(&'static str);

impl From<BlobError> for DecodeError {
    fn from(e: BlobError) -> Self {
        DecodeError(match e {
            BlobError::Truncated => "truncated",
            BlobError::OverlongLength => "overlong length",
            BlobError::TooLarge => "body too large",
            BlobError::LengthMismatch => "body length differs from the recorded one",
            BlobError::NoDecoder => "no zstd decoder",
            BlobError::Zstd(_) => "not zstd data",
            BlobError::Deflate(_) => "not deflate data",
        })
    }
}

pub fn decode(blob: &[u8]) -> Result<AppEvidence, DecodeError> {
    match blob::EVIDENCE.decode(blob)? {
        Body::Zstd(body) => decode_body(&body, Format::V2),
        Body::Legacy(raw) => {
            decode_body(raw.strip_prefix(MAGIC_V1).ok_or(DecodeError("bad magic"))?, Format::V1)
        }
    }
}

fn decode_body(body: &[u8], format: Format) -> Result<AppEvidence, DecodeError> {
    let mut r = Cursor { data: body, pos: 0, format, text_left: MAX_DECODED };
    let mut ev = AppEvidence::default();
    let units = r.len()?;
    for _ in 0..units {
        let source = r.string()?;
        let kind = match r.byte()? {
            0 => UnitKind::Dex,
            1 => UnitKind::Native,
            2 => UnitKind::Macho,
            _ => return Err(DecodeError("bad unit kind")),
        };
        let mut u = CodeUnit::new(source, kind);
        u.classes = r.names()?;
        u.apis = r.names()?;
        u.libraries = r.names()?;
        u.exports = r.names()?;
        ev.units.push(u);
    }
    let keys = r.len()?;
    for _ in 0..keys {
        let source = r.string()?;
        let key = r.string()?;
        let value = match r.byte()? {
            0 => None,
            _ => Some(r.string()?),
        };
        ev.config_keys.push(ConfigKey { source, key, value });
    }
    ev.entry_names = r.names()?;
    if r.pos < r.data.len() {
        let payloads = r.len()?;
        for _ in 0..payloads {
            let source = r.string()?;
            let size = r.varint()?;
            let entropy_millibits =
                u32::try_from(r.varint()?).map_err(|_| DecodeError("entropy out of range"))?;
            ev.payloads.push(Payload { source, size, entropy_millibits });
        }
        for u in &mut ev.units {
            u.calls = r.names()?;
        }
    }
    Ok(ev)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_names(out: &mut Vec<u8>, format: Format, names: &Names) {
    put_len(out, names.len());
    if format == Format::V2 {
        put_len(out, names.text_len());
    }
    let mut prev: &[u8] = &[];
    for n in names {
        let b = n.as_bytes();
        let mut shared = prev.iter().zip(b).take_while(|(x, y)| x == y).count();
        // Never split a UTF-8 sequence, so every suffix is valid text.
        while shared > 0 && !n.is_char_boundary(shared) {
            shared -= 1;
        }
        put_len(out, shared);
        put_len(out, b.len() - shared);
        out.extend_from_slice(&b[shared..]);
        prev = b;
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    format: Format,
    /// Name text still allowed. A name can repeat all of the one before it
    /// in two bytes, so a small hostile body could otherwise decode into
    /// terabytes; this caps every list of the blob together.
    text_left: u64,
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.data.get(self.pos).ok_or(DecodeError("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError("length overflow"))?;
        let s = self.data.get(self.pos..end).ok_or(DecodeError("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(DecodeError("overlong length"))
    }

    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = self.varint()?;
        // Every counted item takes at least one byte: cap before allocating.
        let remaining = (self.data.len() - self.pos) as u64;
        if n > remaining.saturating_add(64 * 1024 * 1024) {
            Err(DecodeError("count beyond data"))
        } else {
            usize::try_from(n).map_err(|_| DecodeError("count overflow"))
        }
    }

    /// A length that is checked against the data where it is used (a
    /// name's shared prefix and tail): almost always one byte, read inline.
    #[inline(always)]
    fn short_len(&mut self) -> Result<usize, DecodeError> {
        match self.data.get(self.pos) {
            Some(&b) if b < 0x80 => {
                self.pos += 1;
                Ok(usize::from(b))
            }
            _ => usize::try_from(self.varint()?).map_err(|_| DecodeError("count overflow")),
        }
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.len()?;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError("bad UTF-8"))
    }

    /// A front-coded list, decoded straight into one buffer (the shared
    /// prefix is copied within it from the previous name) and checked as
    /// text once at the end.
    fn names(&mut self) -> Result<Names, DecodeError> {
        let count = self.len()?;
        // Each name takes at least two bytes (its shared and tail lengths).
        if count > (self.data.len() - self.pos) / 2 {
            return Err(DecodeError("count beyond data"));
        }
        let text_len = match self.format {
            Format::V1 => None,
            Format::V2 => Some(self.varint()?),
        };
        // The recorded length is checked below, not trusted: reserve at most a bounded amount.
        let reserve = text_len.map_or(0, |n| usize::try_from(n.min(MAX_NAMES_RESERVE)).unwrap_or(0));
        let mut out = NamesBuilder::with_capacity(count, reserve);
        for _ in 0..count {
            let shared = self.short_len()?;
            let tail_len = self.short_len()?;
            let size = (shared as u64).saturating_add(tail_len as u64);
            self.text_left = self.text_left.checked_sub(size).ok_or(DecodeError("names too large"))?;
            out.push_front_coded(shared, self.bytes(tail_len)?).ok_or(DecodeError("bad shared prefix"))?;
        }
        let names = out.finish().ok_or(DecodeError("bad UTF-8"))?;
        match text_len {
            Some(n) if n != names.text_len() as u64 => {
                Err(DecodeError("names length differs from the recorded one"))
            }
            _ => Ok(names),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn sample() -> AppEvidence {
        let mut u = CodeUnit::new("classes.dex", UnitKind::Dex);
        u.classes = ["Lcom/umeng/a;", "Lcom/umeng/analytics/B;", "Lé/ü;", "Lé/ü;"].into();
        u.apis = ["Landroid/location/LocationManager;->getLastKnownLocation"].into();
        u.calls = ["Landroid/location/LocationManager;->getLastKnownLocation\tLcom/umeng/a;->b()V"].into();
        let mut n = CodeUnit::new("lib/arm64-v8a/libx.so", UnitKind::Native);
        n.libraries = ["libc.so"].into();
        n.exports = ["JNI_OnLoad"].into();
        AppEvidence {
            units: vec![u, n],
            config_keys: vec![
                ConfigKey {
                    source: "AndroidManifest.xml".into(),
                    key: "UMENG_APPKEY".into(),
                    value: Some("x".into()),
                },
                ConfigKey { source: "m".into(), key: "k".into(), value: None },
            ],
            entry_names: ["a/b", "a/c", ""].into(),
            payloads: vec![Payload { source: "classes.xed".into(), size: 1 << 20, entropy_millibits: 7_998 }],
        }
    }

    fn same(a: &AppEvidence, b: &AppEvidence) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    /// Format 2 framing of any body, with the length it claims.
    fn v2(body: &[u8], claimed: usize) -> Vec<u8> {
        let mut out = blob::EVIDENCE.magic().to_vec();
        put_len(&mut out, claimed);
        out.extend_from_slice(&zstd::bulk::compress(body, 1).unwrap());
        out
    }

    #[test]
    fn round_trips() {
        let ev = sample();
        let blob = encode(&ev);
        assert!(blob.starts_with(blob::EVIDENCE.magic()));
        assert!(same(&ev, &decode(&blob).unwrap()));
        assert!(same(&decode(&encode(&AppEvidence::default())).unwrap(), &AppEvidence::default()));
    }

    #[test]
    fn format_1_blobs_still_decode() {
        let ev = sample();
        let old = encode_v1(&encode_body(&ev, Format::V1));
        assert!(same(&ev, &decode(&old).unwrap()));
        let empty = encode_v1(&encode_body(&AppEvidence::default(), Format::V1));
        assert!(same(&decode(&empty).unwrap(), &AppEvidence::default()));
    }

    #[test]
    fn format_2_is_never_a_deflate_stream() {
        let blob = encode(&sample());
        let mut out = Vec::new();
        assert!(flate2::read::DeflateDecoder::new(&blob[..]).read_to_end(&mut out).is_err());
    }

    #[test]
    fn names_that_repeat_their_predecessor_cannot_exhaust_memory() {
        // One 1 KiB name, then names that each repeat it whole in two bytes:
        // 2^21 of them would decode to 2 GiB.
        let count = 1usize << 21;
        let mut body = Vec::new();
        put_len(&mut body, 1); // one unit
        put_str(&mut body, "classes.dex");
        body.push(0);
        put_len(&mut body, count);
        put_len(&mut body, 1024 * count);
        put_len(&mut body, 0);
        put_len(&mut body, 1024);
        body.extend_from_slice(&[b'a'; 1024]);
        for _ in 1..count {
            put_len(&mut body, 1024);
            put_len(&mut body, 0);
        }
        assert!(decode_body(&body, Format::V2).is_err());
    }

    #[test]
    fn names_decode_in_order_with_shared_prefixes() {
        let mut u = CodeUnit::new("classes.dex", UnitKind::Dex);
        u.classes = ["Lb/ü;", "La;", "Lb/üx;", "Lb/üx;", "", "L"].into();
        let ev = AppEvidence { units: vec![u], ..Default::default() };
        assert_eq!(decode(&encode(&ev)).unwrap().units[0].classes, ev.units[0].classes);
    }

    #[test]
    fn a_prefix_inside_a_character_is_refused() {
        // One unit whose classes (2 names, 8 bytes) are `Lü;` then a name
        // sharing 2 bytes (`L` and half of `ü`) + `x`; then empty lists.
        let mut body = vec![1, 0, 0, 2, 8, 0, 4];
        body.extend_from_slice("Lü;".as_bytes());
        body.extend_from_slice(&[2, 1, b'x', 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(decode(&v2(&body, body.len())).is_err());
        body[11] = 3; // a whole `Lü`: fine
        let ev = decode(&v2(&body, body.len())).unwrap();
        assert_eq!(ev.units[0].classes.iter().collect::<Vec<_>>(), ["Lü;", "Lüx"]);
        body[4] = 9; // a recorded names length that differs
        assert!(decode(&v2(&body, body.len())).is_err());
    }

    #[test]
    fn damaged_blobs_are_errors_not_panics() {
        let body = encode_body(&sample(), Format::V2);
        // A body cut right before its tail (payloads and call sites) is a
        // whole body of before either was kept.
        let mut untailed = AppEvidence { payloads: Vec::new(), ..sample() };
        untailed.units.iter_mut().for_each(|u| u.calls = Names::new());
        let legacy_end = encode_body(&untailed, Format::V2).len();
        assert!(legacy_end < body.len(), "the sample has a tail");
        for cut in 0..body.len() {
            let decoded = decode(&v2(&body[..cut], cut));
            if cut == legacy_end {
                assert!(decoded
                    .is_ok_and(|ev| ev.payloads.is_empty() && ev.units.iter().all(|u| u.calls.is_empty())));
                continue;
            }
            assert!(decoded.is_err(), "cut at {cut}");
        }
        let old_body = encode_body(&sample(), Format::V1);
        let legacy_end = encode_body(&untailed, Format::V1).len();
        for cut in (0..old_body.len()).filter(|&c| c != legacy_end) {
            let mut old = MAGIC_V1.to_vec();
            old.extend_from_slice(&old_body[..cut]);
            assert!(decode(&encode_v1_raw(&old)).is_err(), "format 1 cut at {cut}");
        }
        for i in 0..old_body.len() {
            let mut old = MAGIC_V1.to_vec();
            old.extend_from_slice(&old_body);
            old[4 + i] = 0xff;
            let _ = decode(&encode_v1_raw(&old));
        }
        for i in 0..body.len() {
            for byte in [0x00, 0x7f, 0x80, 0xff] {
                let mut bad = body.clone();
                bad[i] = byte;
                let _ = decode(&v2(&bad, bad.len()));
            }
        }
        let blob = encode(&sample());
        for cut in 0..blob.len() {
            assert!(decode(&blob[..cut]).is_err(), "blob cut at {cut}");
        }
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x55;
            let _ = decode(&bad);
        }
        assert!(decode(b"garbage").is_err());
        assert!(decode(&encode_v1_raw(b"AVE0")).is_err());
    }

    #[test]
    fn a_recorded_length_is_checked_not_trusted() {
        let body = encode_body(&sample(), Format::V2);
        assert!(decode(&v2(&body, body.len() + 1)).is_err());
        assert!(decode(&v2(&body, body.len() - 1)).is_err());
        // Claims 2^40 bytes: refused before anything is reserved.
        assert!(decode(&v2(&body, 1 << 40)).is_err());
        // Claims just under the cap: reserves only a multiple of the frame.
        assert!(decode(&v2(&body, (MAX_DECODED - 1) as usize)).is_err());
        // Compresses far better than the reserve ratio: decoded all the same.
        let mut u = CodeUnit::new("classes.dex", UnitKind::Dex);
        u.classes = (0..20_000).map(|_| "Lcom/a/B;").collect();
        let ev = AppEvidence { units: vec![u], ..Default::default() };
        let blob = encode(&ev);
        // (8: the ratio up to which the framing trusts a recorded length.)
        assert!(blob.len() * 8 < 40_000, "{}", blob.len());
        assert_eq!(decode(&blob).unwrap().units[0].classes, ev.units[0].classes);
    }

    /// Raw deflate of exactly these bytes (format 1 with a chosen magic).
    fn encode_v1_raw(raw: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(raw).unwrap();
        enc.finish().unwrap()
    }
}
