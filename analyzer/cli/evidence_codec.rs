//! A compact, lossless encoding of [`AppEvidence`] for the results database,
//! so `appvet rescore` can re-run attribution without the APK.
//!
//! Layout (then deflated): magic `AVE1`, a list of code units, config keys,
//! entry names. Strings are length-prefixed (LEB128); lists of names are
//! front-coded against the previous name in their original order (class
//! descriptors and API references share long package prefixes), which
//! together with deflate brings 150,000 class names to a few bytes each.
//! Order is preserved so attribution sees exactly what a scan saw.

use std::io::{Read, Write};

use appvet::evidence::{AppEvidence, CodeUnit, ConfigKey, Names, UnitKind};

const MAGIC: &[u8; 4] = b"AVE1";
/// Refuses to inflate a stored blob beyond this (a damaged or hostile
/// database must not exhaust memory).
const MAX_DECODED: u64 = 1 << 30;

pub fn encode(ev: &AppEvidence) -> Vec<u8> {
    let mut raw = Vec::with_capacity(4096);
    raw.extend_from_slice(MAGIC);
    put_len(&mut raw, ev.units.len());
    for u in &ev.units {
        put_str(&mut raw, &u.source);
        raw.push(match u.kind {
            UnitKind::Dex => 0,
            UnitKind::Native => 1,
            UnitKind::Macho => 2,
        });
        put_names(&mut raw, &u.classes);
        put_names(&mut raw, &u.apis);
        put_names(&mut raw, &u.libraries);
        put_names(&mut raw, &u.exports);
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
    put_names(&mut raw, &ev.entry_names);
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(&raw);
    enc.finish().unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
#[error("stored evidence is damaged: {0}")]
pub struct DecodeError(&'static str);

pub fn decode(blob: &[u8]) -> Result<AppEvidence, DecodeError> {
    let mut raw = Vec::new();
    flate2::read::DeflateDecoder::new(blob)
        .take(MAX_DECODED)
        .read_to_end(&mut raw)
        .map_err(|_| DecodeError("not deflate data"))?;
    let mut r = Cursor { data: &raw, pos: 0 };
    if r.bytes(4)? != MAGIC {
        return Err(DecodeError("bad magic"));
    }
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
    Ok(ev)
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_names(out: &mut Vec<u8>, names: &Names) {
    put_len(out, names.len());
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

    fn len(&mut self) -> Result<usize, DecodeError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                // Every counted item takes at least one byte: cap before allocating.
                let remaining = (self.data.len() - self.pos) as u64;
                return if n > remaining.saturating_add(64 * 1024 * 1024) {
                    Err(DecodeError("count beyond data"))
                } else {
                    usize::try_from(n).map_err(|_| DecodeError("count overflow"))
                };
            }
        }
        Err(DecodeError("overlong length"))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.len()?;
        let b = self.bytes(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError("bad UTF-8"))
    }

    /// A front-coded list, decoded straight into one buffer: the shared
    /// prefix is copied within it from the previous name, and only the tail
    /// is checked as UTF-8 ([`Names::push_front_coded`] refuses a prefix
    /// that ends inside a character, and such a prefix followed by valid
    /// text is valid text).
    fn names(&mut self) -> Result<Names, DecodeError> {
        let count = self.len()?;
        // Each name takes at least two bytes (its shared and tail lengths).
        if count > (self.data.len() - self.pos) / 2 {
            return Err(DecodeError("count beyond data"));
        }
        let mut out = Names::with_capacity(count, 0);
        for _ in 0..count {
            let shared = self.len()?;
            let tail_len = self.len()?;
            let tail = std::str::from_utf8(self.bytes(tail_len)?).map_err(|_| DecodeError("bad UTF-8"))?;
            out.push_front_coded(shared, tail).ok_or(DecodeError("bad shared prefix"))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AppEvidence {
        let mut u = CodeUnit::new("classes.dex", UnitKind::Dex);
        u.classes = ["Lcom/umeng/a;", "Lcom/umeng/analytics/B;", "Lé/ü;", "Lé/ü;"].into();
        u.apis = ["Landroid/location/LocationManager;->getLastKnownLocation"].into();
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
        }
    }

    fn same(a: &AppEvidence, b: &AppEvidence) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    #[test]
    fn round_trips() {
        let ev = sample();
        let back = decode(&encode(&ev)).unwrap();
        assert!(same(&ev, &back));
        assert!(same(&decode(&encode(&AppEvidence::default())).unwrap(), &AppEvidence::default()));
    }

    #[test]
    fn damaged_blobs_are_errors_not_panics() {
        let blob = encode(&sample());
        let mut raw = Vec::new();
        flate2::read::DeflateDecoder::new(&blob[..]).read_to_end(&mut raw).unwrap();
        for cut in 0..raw.len() {
            let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&raw[..cut]).unwrap();
            assert!(decode(&enc.finish().unwrap()).is_err(), "cut at {cut}");
        }
        for i in 4..raw.len() {
            let mut bad = raw.clone();
            bad[i] = 0xff;
            let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&bad).unwrap();
            let _ = decode(&enc.finish().unwrap());
        }
        assert!(decode(b"garbage").is_err());
    }
}
