//! A tiny ZIP writer for unit tests: builds well-formed archives and the
//! malformed variants the reader must tolerate (lying sizes, mismatched
//! local headers, prefixes, ZIP64, data descriptors).

use std::io::Write;

pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[derive(Clone)]
pub struct TestEntry {
    pub name: Vec<u8>,
    pub method: u16,
    pub flags: u16,
    /// Bytes as written after the local header.
    pub payload: Vec<u8>,
    pub crc32: u32,
    pub uncompressed_size: u64,
    /// Overrides for the local header only.
    pub local_name: Option<Vec<u8>>,
    pub local_method: Option<u16>,
    /// Point this central record at another entry's local header.
    pub local_header_of: Option<usize>,
}

impl TestEntry {
    pub fn stored(name: &str, data: &[u8]) -> Self {
        TestEntry {
            name: name.as_bytes().to_vec(),
            method: 0,
            flags: 0,
            payload: data.to_vec(),
            crc32: crc32fast::hash(data),
            uncompressed_size: data.len() as u64,
            local_name: None,
            local_method: None,
            local_header_of: None,
        }
    }

    pub fn deflated(name: &str, data: &[u8]) -> Self {
        TestEntry {
            method: 8,
            payload: deflate(data),
            ..TestEntry::stored(name, data)
        }
    }
}

#[derive(Default)]
pub struct ZipBuilder {
    pub entries: Vec<TestEntry>,
    pub prefix: Vec<u8>,
    /// Offsets written relative to the end of the prefix (self-extractor style).
    pub offsets_relative_to_prefix: bool,
    pub zip64: bool,
    pub comment: Vec<u8>,
    /// Overrides the end record's entry count.
    pub declared_entries: Option<u16>,
}

impl ZipBuilder {
    pub fn with(entries: Vec<TestEntry>) -> Self {
        ZipBuilder {
            entries,
            ..ZipBuilder::default()
        }
    }

    pub fn build(&self) -> Vec<u8> {
        let mut out = self.prefix.clone();
        let base = if self.offsets_relative_to_prefix {
            self.prefix.len() as u64
        } else {
            0
        };
        let mut local_offsets = Vec::new();
        for e in &self.entries {
            local_offsets.push(out.len() as u64 - base);
            let descriptor = e.flags & 8 != 0;
            let name = e.local_name.clone().unwrap_or_else(|| e.name.clone());
            let mut extra = Vec::new();
            let (csize, usize_, crc) = if descriptor {
                (0u32, 0u32, 0u32)
            } else if self.zip64 {
                extra.extend_from_slice(&1u16.to_le_bytes());
                extra.extend_from_slice(&16u16.to_le_bytes());
                extra.extend_from_slice(&e.uncompressed_size.to_le_bytes());
                extra.extend_from_slice(&(e.payload.len() as u64).to_le_bytes());
                (u32::MAX, u32::MAX, e.crc32)
            } else {
                (e.payload.len() as u32, e.uncompressed_size as u32, e.crc32)
            };
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&e.flags.to_le_bytes());
            out.extend_from_slice(&e.local_method.unwrap_or(e.method).to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&csize.to_le_bytes());
            out.extend_from_slice(&usize_.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            out.extend_from_slice(&name);
            out.extend_from_slice(&extra);
            out.extend_from_slice(&e.payload);
            if descriptor {
                out.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
                out.extend_from_slice(&e.crc32.to_le_bytes());
                out.extend_from_slice(&(e.payload.len() as u32).to_le_bytes());
                out.extend_from_slice(&(e.uncompressed_size as u32).to_le_bytes());
            }
        }
        let cd_start = out.len() as u64;
        for (i, e) in self.entries.iter().enumerate() {
            let lho = local_offsets[e.local_header_of.unwrap_or(i)];
            let mut extra = Vec::new();
            let (csize, usize_, offset) = if self.zip64 {
                extra.extend_from_slice(&1u16.to_le_bytes());
                extra.extend_from_slice(&24u16.to_le_bytes());
                extra.extend_from_slice(&e.uncompressed_size.to_le_bytes());
                extra.extend_from_slice(&(e.payload.len() as u64).to_le_bytes());
                extra.extend_from_slice(&lho.to_le_bytes());
                (u32::MAX, u32::MAX, u32::MAX)
            } else {
                (
                    e.payload.len() as u32,
                    e.uncompressed_size as u32,
                    lho as u32,
                )
            };
            out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&e.flags.to_le_bytes());
            out.extend_from_slice(&e.method.to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&e.crc32.to_le_bytes());
            out.extend_from_slice(&csize.to_le_bytes());
            out.extend_from_slice(&usize_.to_le_bytes());
            out.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            out.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0; 2 + 2 + 2 + 4]);
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&e.name);
            out.extend_from_slice(&extra);
        }
        let cd_size = out.len() as u64 - cd_start;
        let count = self.entries.len() as u64;
        let cd_offset = cd_start - base;
        if self.zip64 {
            let record = out.len() as u64 - base;
            out.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
            out.extend_from_slice(&44u64.to_le_bytes());
            out.extend_from_slice(&[45, 0, 45, 0]);
            out.extend_from_slice(&[0; 8]);
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&cd_size.to_le_bytes());
            out.extend_from_slice(&cd_offset.to_le_bytes());
            out.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&record.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
        }
        let declared =
            self.declared_entries
                .unwrap_or(if self.zip64 { 0xffff } else { count as u16 });
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&declared.to_le_bytes());
        out.extend_from_slice(&declared.to_le_bytes());
        let (size32, offset32) = if self.zip64 {
            (u32::MAX, u32::MAX)
        } else {
            (cd_size as u32, cd_offset as u32)
        };
        out.extend_from_slice(&size32.to_le_bytes());
        out.extend_from_slice(&offset32.to_le_bytes());
        out.extend_from_slice(&(self.comment.len() as u16).to_le_bytes());
        out.extend_from_slice(&self.comment);
        out
    }
}
