//! Tolerant, bounded ZIP reading over an in-memory archive.
//!
//! API CONTRACT (implementation in progress; other modules code against it).

use std::borrow::Cow;

use crate::report::Diagnostic;

/// Limits that keep a hostile archive from exhausting memory or time.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_entries: usize,
    pub max_entry_size: u64,
    pub max_total_inflated: u64,
    pub max_ratio: u64,
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 200_000,
            max_entry_size: 512 << 20,
            max_total_inflated: 4 << 30,
            max_ratio: 1000,
            max_depth: 3,
        }
    }
}

/// Bytes still allowed to be inflated for one input (shared by all its entries).
#[derive(Debug, Clone)]
pub struct Budget {
    pub remaining: u64,
}

impl Budget {
    pub fn new(limits: &Limits) -> Self {
        Budget {
            remaining: limits.max_total_inflated,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("not a ZIP archive: {0}")]
    NotZip(String),
    #[error("entry {0}: {1}")]
    Entry(String, String),
    #[error("entry {name}: refused, {reason}")]
    Limit { name: String, reason: String },
}

#[derive(Debug, Clone, Default)]
pub struct ZipEntry {
    /// Name as UTF-8 (lossy); never used as a filesystem path.
    pub name: String,
    pub raw_name: Vec<u8>,
    pub method: u16,
    pub flags: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// Absolute offset of the local file header in the data.
    pub local_header_offset: u64,
    /// Position in the central directory.
    pub index: usize,
}

/// Where the archive's structures sit (APK signature verification needs it).
#[derive(Debug, Clone, Default)]
pub struct ZipLayout {
    pub eocd_offset: u64,
    pub cd_offset: u64,
    pub cd_size: u64,
    /// Bytes before the first local header (Janus-style prepended data).
    pub prefix_len: u64,
}

pub struct ZipArchive<'a> {
    data: &'a [u8],
    pub entries: Vec<ZipEntry>,
    pub layout: ZipLayout,
    /// Anomalies found while reading the directory (stable codes `zip.*`).
    pub diagnostics: Vec<Diagnostic>,
    pub limits: Limits,
}

impl<'a> ZipArchive<'a> {
    pub fn parse(data: &'a [u8], limits: &Limits) -> Result<Self, ZipError> {
        let _ = data;
        let _ = limits;
        Err(ZipError::NotZip("unimplemented".into()))
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// First entry with this exact name.
    pub fn by_name(&self, name: &str) -> Option<&ZipEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Inflates (or borrows, when stored) one entry, charging `budget`.
    pub fn read(&self, entry: &ZipEntry, budget: &mut Budget) -> Result<Cow<'a, [u8]>, ZipError> {
        let _ = budget;
        Err(ZipError::Entry(entry.name.clone(), "unimplemented".into()))
    }
}
