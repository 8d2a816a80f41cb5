//! Raw DEFLATE into memory with a hard output cap, so a bomb that lies
//! about its size is stopped after at most `cap + 1` bytes (plus one growth
//! step), never inflated in full.

use std::cell::RefCell;

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

thread_local! {
    /// One inflater per thread, reset between entries: setting one up costs
    /// more than inflating a typical small APK entry.
    static INFLATER: RefCell<Option<Decompress>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's raw-DEFLATE inflater, reset to a clean state.
pub(super) fn with_inflater<R>(f: impl FnOnce(&mut Decompress) -> R) -> R {
    INFLATER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            let inflater = slot.get_or_insert_with(|| Decompress::new(false));
            // A stream that failed leaves the inflater mid-way: always start clean.
            inflater.reset(false);
            f(inflater)
        }
        // Only a nested call could find it in use; it gets an inflater of its own.
        Err(_) => f(&mut Decompress::new(false)),
    })
}

/// Inflates `input` (raw DEFLATE, no zlib header), producing at most `cap`
/// bytes. Bytes after the stream's end marker are ignored.
pub(super) fn inflate_bounded(input: &[u8], cap: usize) -> Result<Vec<u8>, InflateError> {
    with_inflater(|inflater| inflate_with(inflater, input, cap))
}

fn inflate_with(inflater: &mut Decompress, input: &[u8], cap: usize) -> Result<Vec<u8>, InflateError> {
    let hard_cap = cap.saturating_add(1);
    let first =
        cap.min(input.len().saturating_mul(4).max(64 << 10)).min(FIRST_ALLOCATION_MAX).saturating_add(1);
    let mut out: Vec<u8> = Vec::with_capacity(first);
    loop {
        if out.len() == out.capacity() {
            let growth = out.capacity().max(64 << 10).min(hard_cap.saturating_sub(out.len()));
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
        assert!(matches!(inflate_bounded(&packed, 1000), Err(InflateError::PastLimit)));
        assert!(matches!(inflate_bounded(&packed, 0), Err(InflateError::PastLimit)));
        assert!(matches!(
            inflate_bounded(&packed[..packed.len() / 2], plain.len()),
            Err(InflateError::Truncated)
        ));
        assert!(inflate_bounded(&[0xff; 64], 100).is_err());
        assert!(inflate_bounded(&[], 100).is_err());
    }

    #[test]
    fn the_reused_inflater_starts_clean_after_a_failed_stream() {
        let plain = b"the same inflater serves every entry of an archive".repeat(50);
        let packed = deflate(&plain);
        assert!(inflate_bounded(&packed[..packed.len() / 2], plain.len()).is_err());
        assert!(inflate_bounded(&[0xff; 64], 100).is_err());
        assert!(matches!(inflate_bounded(&packed, 10), Err(InflateError::PastLimit)));
        assert_eq!(inflate_bounded(&packed, plain.len()).unwrap(), plain);
        assert_eq!(inflate_bounded(&packed, plain.len()).unwrap(), plain);
    }
}
