//! The one framing every compressed blob of the results store uses (the
//! stored report, the stored evidence): a four-byte magic, optionally the
//! body's length (LEB128), then one zstd frame of the body.
//!
//! Rows written before zstd hold a raw deflate stream instead, which is
//! still read. No raw deflate stream starts like a framed blob: every magic
//! here begins with `7f`, whose low bits give deflate block type 3, which
//! deflate reserves as invalid.
//!
//! Decoding never trusts a length it reads: a recorded size is used to
//! allocate only up to a multiple of the stored size (beyond, the body is
//! decoded as a stream and grows as the data comes), and every body is
//! capped, so a damaged or hostile database cannot exhaust memory.

use std::cell::RefCell;
use std::io::{Read, Write};

use crate::report::Report;

/// One kind of blob: its magic, how it records its length, its limits.
pub struct Framing {
    magic: &'static [u8; 4],
    level: i32,
    /// The body's length follows the magic (LEB128). Without it, the length
    /// the zstd frame header records (if any) is used.
    length_prefix: bool,
    /// Bodies beyond this are refused (or, for legacy deflate, cut here).
    max_body: u64,
    /// A recorded length up to this many times the stored size is
    /// allocated up front; beyond, the body is decoded as a stream.
    trusted_ratio: u64,
    /// What a stream decode reserves, in multiples of the stored size.
    reserve_ratio: usize,
}

/// The stored report: the JSON. Zstd level 3 is as small as deflate level
/// 6 on reports (corpus: 193 KB against 188 KB for 71 apps) at twice its
/// compression speed, and it decodes three times as fast as inflate, which
/// `rescore` pays per app.
pub const REPORT: Framing = Framing {
    magic: b"\x7fAR2",
    level: 3,
    length_prefix: false,
    max_body: 256 << 20,
    // A damaged or hostile frame could claim anything up to `max_body`.
    trusted_ratio: 64,
    // Reports compress about 7:1 (corpus: 2:1 to 15:1).
    reserve_ratio: 8,
};

/// The stored evidence body (see [`super::evidence_codec`]). Level 9 is
/// where zstd stops getting smaller on this data for its time; it still
/// compresses faster than deflate level 6 did.
pub const EVIDENCE: Framing = Framing {
    magic: b"\x7fAV2",
    level: 9,
    length_prefix: true,
    max_body: 1 << 30,
    // Evidence compresses about 2.6:1, so the usual blob needs no regrowth.
    trusted_ratio: 8,
    reserve_ratio: 8,
};

/// Why a stored blob could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("truncated")]
    Truncated,
    #[error("overlong length")]
    OverlongLength,
    #[error("body too large")]
    TooLarge,
    #[error("body length differs from the recorded one")]
    LengthMismatch,
    #[error("no zstd decoder")]
    NoDecoder,
    #[error(transparent)]
    Zstd(std::io::Error),
    #[error(transparent)]
    Deflate(std::io::Error),
}

/// A decoded blob: which framing it had, and its body.
pub enum Body {
    Zstd(Vec<u8>),
    /// A raw deflate stream written before zstd, inflated.
    Legacy(Vec<u8>),
}

thread_local! {
    /// One zstd decoding context per thread, reused from blob to blob.
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

impl Framing {
    pub fn magic(&self) -> &'static [u8; 4] {
        self.magic
    }

    /// The framed form of `body`; `None` only if zstd fails (not expected
    /// when compressing into memory), for the caller to fall back on deflate.
    pub fn encode(&self, body: &[u8]) -> Option<Vec<u8>> {
        let frame = zstd::bulk::compress(body, self.level).ok()?;
        let mut out = Vec::with_capacity(self.magic.len() + 10 + frame.len());
        out.extend_from_slice(self.magic);
        if self.length_prefix {
            put_len(&mut out, body.len());
        }
        out.extend_from_slice(&frame);
        Some(out)
    }

    /// The body of a blob in this framing or in legacy deflate.
    pub fn decode(&self, blob: &[u8]) -> Result<Body, BlobError> {
        match blob.strip_prefix(self.magic) {
            Some(rest) => self.unzstd(rest).map(Body::Zstd),
            None => inflate(blob, self.max_body, self.reserve_ratio).map(Body::Legacy),
        }
    }

    fn unzstd(&self, rest: &[u8]) -> Result<Vec<u8>, BlobError> {
        let (recorded, frame) = if self.length_prefix {
            let (n, used) = get_len(rest)?;
            if n > self.max_body {
                return Err(BlobError::TooLarge);
            }
            (Some(n), &rest[used..])
        } else {
            (zstd::zstd_safe::get_frame_content_size(rest).ok().flatten(), rest)
        };
        let bound = (frame.len() as u64).saturating_mul(self.trusted_ratio).min(self.max_body);
        let mut body;
        match recorded.filter(|&n| n <= bound).and_then(|n| usize::try_from(n).ok()) {
            // The usual blob: one call into a buffer of the recorded size,
            // which fails if the frame holds more.
            Some(n) => {
                body = Vec::with_capacity(n);
                DECOMPRESSOR.with(|cell| {
                    let mut slot = cell.borrow_mut();
                    if slot.is_none() {
                        *slot = zstd::bulk::Decompressor::new().ok();
                    }
                    let d = slot.as_mut().ok_or(BlobError::NoDecoder)?;
                    d.decompress_to_buffer(frame, &mut body).map_err(BlobError::Zstd)
                })?;
            }
            // No recorded size, or an implausible one: grow as the data comes.
            None => {
                body = Vec::with_capacity(frame.len().saturating_mul(self.reserve_ratio));
                zstd::stream::read::Decoder::with_buffer(frame)
                    .map_err(BlobError::Zstd)?
                    .take(self.max_body)
                    .read_to_end(&mut body)
                    .map_err(BlobError::Zstd)?;
            }
        }
        if self.length_prefix && recorded != Some(body.len() as u64) {
            return Err(BlobError::LengthMismatch);
        }
        Ok(body)
    }
}

fn inflate(blob: &[u8], max: u64, reserve_ratio: usize) -> Result<Vec<u8>, BlobError> {
    let mut raw = Vec::with_capacity(blob.len().saturating_mul(reserve_ratio));
    flate2::read::DeflateDecoder::new(blob).take(max).read_to_end(&mut raw).map_err(BlobError::Deflate)?;
    Ok(raw)
}

/// A raw deflate stream (level 6): how blobs were stored before zstd, and
/// the fallback should zstd ever fail.
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// LEB128, as lengths are written in every blob.
pub fn put_len(out: &mut Vec<u8>, mut n: usize) {
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

/// A LEB128 length and the bytes it took.
pub fn get_len(data: &[u8]) -> Result<(u64, usize), BlobError> {
    let mut n: u64 = 0;
    for (i, shift) in (0..64).step_by(7).enumerate() {
        let b = *data.get(i).ok_or(BlobError::Truncated)?;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((n, i + 1));
        }
    }
    Err(BlobError::OverlongLength)
}

/// The stored form of a report's JSON.
pub fn compress_report(json: &[u8]) -> Vec<u8> {
    REPORT.encode(json).unwrap_or_else(|| deflate(json))
}

/// The stored form of a report.
pub fn encode_report(report: &Report) -> Vec<u8> {
    compress_report(&serde_json::to_vec(report).unwrap_or_default())
}

/// A stored report's JSON (either encoding).
pub fn report_json(blob: &[u8]) -> Result<Vec<u8>, String> {
    match REPORT.decode(blob) {
        Ok(Body::Zstd(raw) | Body::Legacy(raw)) => Ok(raw),
        Err(e) => Err(format!("stored report: {e}")),
    }
}

pub fn decode_report(blob: &[u8]) -> Result<Report, String> {
    let raw = report_json(blob)?;
    serde_json::from_slice(&raw).map_err(|e| format!("stored report: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json() -> Vec<u8> {
        let mut j = br#"{"schema":"x","items":["#.to_vec();
        for i in 0..500 {
            j.extend_from_slice(format!("\"item {i}\",").as_bytes());
        }
        j.extend_from_slice(b"\"end\"]}");
        j
    }

    #[test]
    fn reports_round_trip_in_both_encodings() {
        let j = json();
        let blob = compress_report(&j);
        assert!(blob.starts_with(REPORT.magic()));
        assert_eq!(report_json(&blob).unwrap(), j);
        // Rows written before zstd: raw deflate.
        assert_eq!(report_json(&deflate(&j)).unwrap(), j);
        assert_eq!(report_json(&compress_report(b"")).unwrap(), b"");
    }

    #[test]
    fn a_framed_blob_is_never_a_deflate_stream() {
        for framing in [&REPORT, &EVIDENCE] {
            let mut out = Vec::new();
            let blob = framing.encode(&json()).unwrap();
            assert!(flate2::read::DeflateDecoder::new(&blob[..]).read_to_end(&mut out).is_err());
        }
    }

    #[test]
    fn lengths_round_trip() {
        for n in [0, 1, 127, 128, 300, 1 << 20, usize::MAX] {
            let mut out = Vec::new();
            put_len(&mut out, n);
            assert_eq!(get_len(&out).unwrap(), (n as u64, out.len()));
            assert!(get_len(&out[..out.len() - 1]).is_err());
        }
        assert!(matches!(get_len(&[0x80; 10]), Err(BlobError::OverlongLength)));
    }

    #[test]
    fn damaged_reports_are_errors_not_panics() {
        let j = json();
        let blob = compress_report(&j);
        for cut in REPORT.magic().len()..blob.len() {
            assert!(report_json(&blob[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x55;
            if let Ok(raw) = report_json(&bad) {
                assert!(raw.len() as u64 <= REPORT.max_body);
            }
        }
        assert!(report_json(b"\x7fAR2garbage").is_err());
        assert!(decode_report(&compress_report(b"{not json")).is_err());
    }

    #[test]
    fn a_recorded_size_is_checked_not_trusted() {
        let j = json();
        let frame = zstd::bulk::compress(&j, 1).unwrap();
        // The frame header records the content size right after its magic
        // and descriptor; rewrite the recorded size to claim more or less.
        let header = zstd::zstd_safe::get_frame_content_size(&frame).unwrap();
        assert_eq!(header, Some(j.len() as u64));
        // Single segment, two-byte size field (size - 256) right after the descriptor.
        assert_eq!(frame[4] & 0xe0, 0x60, "{:x}", frame[4]);
        for claimed in [j.len() - 1, j.len() + 1, 256, 65791] {
            let mut lying = frame.clone();
            lying[5..7].copy_from_slice(&u16::try_from(claimed - 256).unwrap().to_le_bytes());
            let mut blob = REPORT.magic().to_vec();
            blob.extend_from_slice(&lying);
            assert!(report_json(&blob).is_err(), "claims {claimed}");
        }
        // Compresses far beyond the trusted ratio: decoded as a stream all the same.
        let zeros = vec![b'0'; 1 << 20];
        let blob = compress_report(&zeros);
        assert!(((blob.len() as u64) * REPORT.trusted_ratio) < zeros.len() as u64);
        assert_eq!(report_json(&blob).unwrap(), zeros);
        // A frame without a recorded size decodes as a stream.
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(false).unwrap();
        enc.write_all(&j).unwrap();
        let unsized_frame = enc.finish().unwrap();
        assert_eq!(zstd::zstd_safe::get_frame_content_size(&unsized_frame).unwrap(), None);
        let mut blob = REPORT.magic().to_vec();
        blob.extend_from_slice(&unsized_frame);
        assert_eq!(report_json(&blob).unwrap(), j);
    }

    #[test]
    fn a_length_prefix_is_checked_not_trusted() {
        let j = json();
        let frame = zstd::bulk::compress(&j, 1).unwrap();
        let framed = |claimed: usize| {
            let mut blob = EVIDENCE.magic().to_vec();
            put_len(&mut blob, claimed);
            blob.extend_from_slice(&frame);
            blob
        };
        assert!(matches!(EVIDENCE.decode(&framed(j.len())), Ok(Body::Zstd(b)) if b == j));
        assert!(EVIDENCE.decode(&framed(j.len() - 1)).is_err());
        assert!(EVIDENCE.decode(&framed(j.len() + 1)).is_err());
        assert!(matches!(EVIDENCE.decode(&framed(1 << 40)), Err(BlobError::TooLarge)));
    }
}
