//! Raw DEFLATE into memory with a hard output cap, so a bomb that lies
//! about its size is stopped after at most `cap + 1` bytes (plus one growth
//! step), never inflated in full.

use flate2::{Decompress, FlushDecompress, Status};

#[derive(Debug)]
pub(super) enum InflateError {
    /// The stream produces more than `cap` bytes.
    PastLimit,
    /// Input ran out before the stream's end marker.
    Truncated,
    Corrupt(String),
}

/// Largest first allocation; the vector grows by doubling after that, so a
/// lying declared size costs at most this much before data backs it.
const FIRST_ALLOCATION_MAX: usize = 8 << 20;

/// Inflates `input` (raw DEFLATE, no zlib header), producing at most `cap`
/// bytes. Bytes after the stream's end marker are ignored.
pub(super) fn inflate_bounded(input: &[u8], cap: usize) -> Result<Vec<u8>, InflateError> {
    let hard_cap = cap.saturating_add(1);
    let first = cap
        .min(input.len().saturating_mul(4).max(64 << 10))
        .min(FIRST_ALLOCATION_MAX)
        .saturating_add(1);
    let mut out: Vec<u8> = Vec::with_capacity(first);
    let mut inflater = Decompress::new(false);
    loop {
        if out.len() == out.capacity() {
            let growth = out
                .capacity()
                .max(64 << 10)
                .min(hard_cap.saturating_sub(out.len()));
            if growth == 0 {
                return Err(InflateError::PastLimit);
            }
            out.reserve_exact(growth);
        }
        let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or_default();
        let out_before = out.len();
        let status = inflater
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(|e| InflateError::Corrupt(e.to_string()))?;
        if out.len() > cap {
            return Err(InflateError::PastLimit);
        }
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => {
                let consumed_now = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
                if consumed_now == consumed && out.len() == out_before {
                    // No progress with output space available: the input is used up.
                    return Err(if consumed_now >= input.len() {
                        InflateError::Truncated
                    } else {
                        InflateError::Corrupt("inflater made no progress".into())
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_exact_size_and_stops_past_cap() {
        let plain: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let packed = deflate(&plain);
        assert_eq!(inflate_bounded(&packed, plain.len()).unwrap(), plain);
        assert!(matches!(
            inflate_bounded(&packed, 1000),
            Err(InflateError::PastLimit)
        ));
        assert!(matches!(
            inflate_bounded(&packed, 0),
            Err(InflateError::PastLimit)
        ));
        assert!(matches!(
            inflate_bounded(&packed[..packed.len() / 2], plain.len()),
            Err(InflateError::Truncated)
        ));
        assert!(inflate_bounded(&[0xff; 64], 100).is_err());
        assert!(inflate_bounded(&[], 100).is_err());
    }
}
