//! A small deterministic ZIP writer for the demo apps.
//!
//! Every header carries the same fixed DOS timestamp, deflate runs at a fixed
//! level, and stored entries are 4-byte aligned the way `zipalign` does it (an
//! Android alignment extra field, id 0xd935), so the output is byte-for-byte
//! reproducible. [`EntryQuirks`] lets the malformed samples lie in their
//! headers (bogus method, encrypted flag, sizes, CRC) without a second writer.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::{Compress, Compression as Level, FlushCompress, Status};

/// 2024-01-01 in MS-DOS date format; the time field is 00:00:00.
pub const DOS_DATE: u16 = ((2024 - 1980) << 9) | (1 << 5) | 1;
/// Midnight.
pub const DOS_TIME: u16 = 0;
/// Deflate level used for every compressed entry (fixed for reproducibility).
pub const DEFLATE_LEVEL: u32 = 9;
/// zipalign's extra-field id for alignment padding.
const ALIGNMENT_EXTRA_ID: u16 = 0xd935;

/// How an entry's data is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Stored,
    Deflated,
}

/// Deliberate lies written into an entry's headers (malformed samples only).
#[derive(Clone, Debug, Default)]
pub struct EntryQuirks {
    /// Compression method written in both headers instead of the real one.
    pub method_override: Option<u16>,
    /// Bits OR-ed into the general-purpose flags (bit 0 claims encryption).
    pub extra_flags: u16,
    /// Uncompressed size written in both headers instead of the real one.
    pub declared_uncompressed_size: Option<u32>,
}

/// Appends entries to an in-memory archive; [`ZipWriter::finish`] adds the
/// central directory and end-of-central-directory record.
pub struct ZipWriter {
    out: Vec<u8>,
    central_directory: Vec<u8>,
    entry_count: u16,
}

impl Default for ZipWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ZipWriter {
    pub fn new() -> Self {
        Self::with_prefix(Vec::new())
    }

    /// Starts the archive after `prefix` (Janus-style polyglots): every offset
    /// in the central directory and EOCD then already counts the prefix.
    pub fn with_prefix(prefix: Vec<u8>) -> Self {
        ZipWriter { out: prefix, central_directory: Vec::new(), entry_count: 0 }
    }

    /// Adds an entry with an ASCII/UTF-8 name and honest headers.
    pub fn add(&mut self, name: &str, data: &[u8], compression: Compression) {
        self.add_with_quirks(name.as_bytes(), data, compression, &EntryQuirks::default());
    }

    /// Adds an entry whose raw name and headers may be malformed on purpose.
    pub fn add_with_quirks(
        &mut self,
        name: &[u8],
        data: &[u8],
        compression: Compression,
        quirks: &EntryQuirks,
    ) {
        let payload = match compression {
            Compression::Stored => data.to_vec(),
            Compression::Deflated => deflate(data),
        };
        let crc = crc32fast::hash(data);
        self.add_encoded(name, &payload, compression, crc, len_u32(data.len()), quirks);
    }

    /// Adds an entry whose data is already encoded (e.g. a streamed deflate of
    /// far more bytes than fit in memory).
    pub fn add_encoded(
        &mut self,
        name: &[u8],
        payload: &[u8],
        compression: Compression,
        crc: u32,
        uncompressed_size: u32,
        quirks: &EntryQuirks,
    ) {
        let method = quirks.method_override.unwrap_or(match compression {
            Compression::Stored => 0,
            Compression::Deflated => 8,
        });
        let version_needed: u16 = if compression == Compression::Deflated { 20 } else { 10 };
        let flags = quirks.extra_flags;
        let declared_size = quirks.declared_uncompressed_size.unwrap_or(uncompressed_size);
        let local_offset = len_u32(self.out.len());
        let name_len = u16::try_from(name.len()).expect("entry name fits in u16");

        let extra = if compression == Compression::Stored {
            alignment_extra(self.out.len() + 30 + name.len())
        } else {
            Vec::new()
        };

        let out = &mut self.out;
        put_u32(out, 0x0403_4b50);
        put_u16(out, version_needed);
        put_u16(out, flags);
        put_u16(out, method);
        put_u16(out, DOS_TIME);
        put_u16(out, DOS_DATE);
        put_u32(out, crc);
        put_u32(out, len_u32(payload.len()));
        put_u32(out, declared_size);
        put_u16(out, name_len);
        put_u16(out, u16::try_from(extra.len()).expect("extra fits in u16"));
        out.extend_from_slice(name);
        out.extend_from_slice(&extra);
        out.extend_from_slice(payload);

        let cd = &mut self.central_directory;
        put_u32(cd, 0x0201_4b50);
        put_u16(cd, 20); // made by: MS-DOS, spec 2.0
        put_u16(cd, version_needed);
        put_u16(cd, flags);
        put_u16(cd, method);
        put_u16(cd, DOS_TIME);
        put_u16(cd, DOS_DATE);
        put_u32(cd, crc);
        put_u32(cd, len_u32(payload.len()));
        put_u32(cd, declared_size);
        put_u16(cd, name_len);
        put_u16(cd, 0); // extra
        put_u16(cd, 0); // comment
        put_u16(cd, 0); // disk number start
        put_u16(cd, 0); // internal attributes
        put_u32(cd, 0); // external attributes
        put_u32(cd, local_offset);
        cd.extend_from_slice(name);
        self.entry_count += 1;
    }

    /// Writes the central directory and EOCD (no archive comment, so the EOCD
    /// is always the last 22 bytes).
    pub fn finish(mut self) -> Vec<u8> {
        let cd_offset = len_u32(self.out.len());
        let cd_size = len_u32(self.central_directory.len());
        self.out.extend_from_slice(&self.central_directory);
        let out = &mut self.out;
        put_u32(out, 0x0605_4b50);
        put_u16(out, 0);
        put_u16(out, 0);
        put_u16(out, self.entry_count);
        put_u16(out, self.entry_count);
        put_u32(out, cd_size);
        put_u32(out, cd_offset);
        put_u16(out, 0);
        self.out
    }
}

/// Where the parts of a finished archive written by [`ZipWriter`] start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZipLayout {
    pub central_directory_offset: usize,
    pub eocd_offset: usize,
}

/// Locates the central directory of an archive this module wrote (the EOCD is
/// the last 22 bytes because the writer never adds a comment).
pub fn layout(zip: &[u8]) -> ZipLayout {
    let eocd_offset = zip.len().checked_sub(22).expect("archive has an EOCD");
    assert_eq!(read_u32(zip, eocd_offset), 0x0605_4b50, "EOCD signature");
    ZipLayout { central_directory_offset: read_u32(zip, eocd_offset + 16) as usize, eocd_offset }
}

/// Raw deflate (no zlib header) at [`DEFLATE_LEVEL`].
pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Level::new(DEFLATE_LEVEL));
    encoder.write_all(data).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// Raw deflate of `len` zero bytes, produced chunk by chunk so that a
/// gigabyte of input never exists in memory. Returns the stream and its CRC-32.
pub fn deflate_zeros(len: u64) -> (Vec<u8>, u32) {
    const CHUNK: usize = 1 << 20;
    let zeros = vec![0u8; CHUNK];
    let mut crc = crc32fast::Hasher::new();
    let mut compressor = Compress::new(Level::new(DEFLATE_LEVEL), false);
    let mut out = Vec::with_capacity((len / 1000) as usize + 1024);
    let mut remaining = len;
    loop {
        let take = remaining.min(CHUNK as u64) as usize;
        let input = &zeros[..take];
        crc.update(input);
        remaining -= take as u64;
        let flush = if remaining == 0 { FlushCompress::Finish } else { FlushCompress::None };
        let mut consumed = 0usize;
        loop {
            if out.capacity() - out.len() < 64 * 1024 {
                out.reserve(256 * 1024);
            }
            let before_in = compressor.total_in();
            let status = compressor
                .compress_vec(&input[consumed..], &mut out, flush)
                .expect("deflate of zeros cannot fail");
            consumed += (compressor.total_in() - before_in) as usize;
            let done = match flush {
                FlushCompress::Finish => status == Status::StreamEnd,
                _ => consumed == input.len(),
            };
            if done {
                break;
            }
        }
        if remaining == 0 {
            break;
        }
    }
    (out, crc.finalize())
}

/// The zipalign extra field that makes data starting after a local header
/// whose fixed part and name end at `header_end` land on a 4-byte boundary.
fn alignment_extra(header_end: usize) -> Vec<u8> {
    const ALIGN: usize = 4;
    let padding = (ALIGN - (header_end + 6) % ALIGN) % ALIGN;
    let mut extra = Vec::with_capacity(6 + padding);
    put_u16(&mut extra, ALIGNMENT_EXTRA_ID);
    put_u16(&mut extra, (2 + padding) as u16);
    put_u16(&mut extra, ALIGN as u16);
    extra.resize(6 + padding, 0);
    extra
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).expect("demo archives stay below 4 GiB")
}

pub(crate) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(crate) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(crate) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(crate) fn read_u32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::DeflateDecoder;
    use std::io::Read;

    #[test]
    fn stored_entries_are_four_byte_aligned() {
        let mut zip = ZipWriter::new();
        zip.add("a", b"x", Compression::Deflated);
        zip.add("odd-name.bin", b"aligned", Compression::Stored);
        let bytes = zip.finish();
        let at = bytes.windows(7).position(|w| w == b"aligned").expect("stored data present");
        assert_eq!(at % 4, 0);
        let layout = layout(&bytes);
        assert_eq!(layout.eocd_offset, bytes.len() - 22);
    }

    #[test]
    fn deflated_zeros_round_trip() {
        let (stream, crc) = deflate_zeros(3 << 20);
        let mut inflated = Vec::new();
        DeflateDecoder::new(&stream[..]).read_to_end(&mut inflated).expect("valid deflate");
        assert_eq!(inflated.len(), 3 << 20);
        assert!(inflated.iter().all(|&b| b == 0));
        assert_eq!(crc, crc32fast::hash(&inflated));
    }
}
