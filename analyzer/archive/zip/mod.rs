//! Tolerant, bounded ZIP reading over an in-memory archive (APK, XAPK / APKS
//! / APKM, AAB, IPA and archives nested in them).
//!
//! Nothing is extracted to disk and entry names are never used as paths. The
//! reader accepts what Android's installer (libziparchive) accepts, even where
//! stricter libraries refuse, because malware relies on exactly those gaps;
//! every such anomaly becomes a [`Diagnostic`] with a stable code instead of
//! an error. [`ZipArchive::parse`] fails only when nothing ZIP-like is found.
//!
//! Reading the directory never touches entry data (only the central
//! directory and the 30-byte local headers). Entry data is inflated on
//! demand by [`ZipArchive::read`], under [`Limits`] and a shared [`Budget`]:
//! a zip bomb is refused from its declared sizes before inflating, and one
//! that lies about its sizes is cut off as soon as its output passes the
//! declared size.
//!
//! # Diagnostic codes
//!
//! | code | level | meaning |
//! |---|---|---|
//! | `zip.not_zip` | (error) | [`ZipError::NotZip`]: no end record and no local header found |
//! | `zip.eocd_missing` | warning | no usable End Of Central Directory record; entries were found by scanning local headers |
//! | `zip.eocd_comment_mismatch` | info | the end record's comment length does not reach the end of the data exactly (trailing bytes or a cut comment) |
//! | `zip.multi_disk` | warning | disk numbers are not zero (spanned archives are not supported; read as one disk) |
//! | `zip.zip64_malformed` | warning | a ZIP64 locator, end record or extra field is unreadable; 32-bit values were used |
//! | `zip.offsets_shifted` | warning | central directory offsets are relative to a later start (self-extractor style); they were shifted |
//! | `zip.prepended_data` | warning, error for DEX | bytes before the first local header (Janus, CVE-2017-13156, when they start with `dex\n`) |
//! | `zip.central_directory_damaged` | error | the central directory is truncated or corrupt; the listing was completed by scanning local headers |
//! | `zip.entry_count_mismatch` | warning | records found in the central directory differ from the end record's count |
//! | `zip.too_many_entries` | error | more entries than `Limits::max_entries`; the rest are ignored |
//! | `zip.local_header_missing` | error | no local file header where the central directory points; the entry cannot be read |
//! | `zip.local_header_mismatch` | warning | the local header disagrees with the central directory (name, method, flags, sizes, CRC); central values are used, like Android |
//! | `zip.encrypted_flag` | warning | general-purpose bit 0 set; ignored like Android, the data is read as is |
//! | `zip.unknown_method` | warning | compression method other than 0 / 8; read as DEFLATE like Android's `ExtractToWriter` |
//! | `zip.extra_field_malformed` | info | an extra field's length runs past the extra area |
//! | `zip.duplicate_name` | warning | two entries with the same name; [`ZipArchive::by_name`] returns the first, all are kept |
//! | `zip.suspicious_name` | warning | `..` component, absolute path, backslash, or control character / NUL / newline in a name |
//! | `zip.name_not_utf8` | info | a name is not valid UTF-8 (shown lossily in [`ZipEntry::name`]) |
//! | `zip.entry_truncated` | warning | an entry's data runs past the end of the archive |
//! | `zip.overlapping_entries` | error | entries share bytes with each other or with the central directory (overlap bomb technique) |
//! | `zip.recovered_entry` | warning | an entry was found by scanning local headers only ([`ZipEntry::recovered`]) |
//! | `zip.crc_mismatch` | warning | (on read) CRC-32 of the data differs from the central directory; Android refuses to install such an APK, the data is still returned so analysis continues |
//! | `zip.size_mismatch` | warning | (on read) data is shorter than its declared size, or a STORED entry's two declared sizes differ |
//! | `zip.bomb` | (error) | [`ZipError::Limit`]: declared ratio above `max_ratio`, or output past the declared size |
//! | `zip.entry_too_large` | (error) | [`ZipError::Limit`]: declared size above `max_entry_size` |
//! | `zip.budget_exhausted` | (error) | [`ZipError::Limit`]: the input's total inflate budget is spent |
//! | `zip.entry_unreadable` | (error) | [`ZipError::Entry`]: missing local header, data out of bounds, corrupt or truncated deflate stream |
//! | `zip.diagnostics_suppressed` | info | more than 20 diagnostics of one code; the rest were counted, not listed |
//!
//! Codes marked (error) are carried by [`ZipError`] (see [`ZipError::code`]);
//! a caller that turns an error into a diagnostic should use that code.

mod directory;
mod inflate;
mod names;
mod sink;

#[cfg(test)]
mod test_writer;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use crate::diagnostic::Diagnostic;

/// The stable diagnostic codes of this module (see the table above).
pub mod codes {
    pub const NOT_ZIP: &str = "zip.not_zip";
    pub const EOCD_MISSING: &str = "zip.eocd_missing";
    pub const EOCD_COMMENT_MISMATCH: &str = "zip.eocd_comment_mismatch";
    pub const MULTI_DISK: &str = "zip.multi_disk";
    pub const ZIP64_MALFORMED: &str = "zip.zip64_malformed";
    pub const OFFSETS_SHIFTED: &str = "zip.offsets_shifted";
    pub const PREPENDED_DATA: &str = "zip.prepended_data";
    pub const CENTRAL_DIRECTORY_DAMAGED: &str = "zip.central_directory_damaged";
    pub const ENTRY_COUNT_MISMATCH: &str = "zip.entry_count_mismatch";
    pub const TOO_MANY_ENTRIES: &str = "zip.too_many_entries";
    pub const LOCAL_HEADER_MISSING: &str = "zip.local_header_missing";
    pub const LOCAL_HEADER_MISMATCH: &str = "zip.local_header_mismatch";
    pub const ENCRYPTED_FLAG: &str = "zip.encrypted_flag";
    pub const UNKNOWN_METHOD: &str = "zip.unknown_method";
    pub const EXTRA_FIELD_MALFORMED: &str = "zip.extra_field_malformed";
    pub const DUPLICATE_NAME: &str = "zip.duplicate_name";
    pub const SUSPICIOUS_NAME: &str = "zip.suspicious_name";
    pub const NAME_NOT_UTF8: &str = "zip.name_not_utf8";
    pub const ENTRY_TRUNCATED: &str = "zip.entry_truncated";
    pub const OVERLAPPING_ENTRIES: &str = "zip.overlapping_entries";
    pub const RECOVERED_ENTRY: &str = "zip.recovered_entry";
    pub const CRC_MISMATCH: &str = "zip.crc_mismatch";
    pub const SIZE_MISMATCH: &str = "zip.size_mismatch";
    pub const BOMB: &str = "zip.bomb";
    pub const ENTRY_TOO_LARGE: &str = "zip.entry_too_large";
    pub const BUDGET_EXHAUSTED: &str = "zip.budget_exhausted";
    pub const ENTRY_UNREADABLE: &str = "zip.entry_unreadable";
    pub const DIAGNOSTICS_SUPPRESSED: &str = "zip.diagnostics_suppressed";
}

/// Compression method 0: the data is stored as is.
pub const METHOD_STORED: u16 = 0;
/// Compression method 8: raw DEFLATE.
pub const METHOD_DEFLATED: u16 = 8;

/// Limits that keep a hostile archive from exhausting memory or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Entries listed at most; the rest are ignored with `zip.too_many_entries`.
    pub max_entries: usize,
    /// Largest declared (and actual) uncompressed size of one entry.
    pub max_entry_size: u64,
    /// Initial [`Budget`]: bytes handed out by all reads of one input.
    pub max_total_inflated: u64,
    /// Largest declared uncompressed / compressed ratio accepted before inflating.
    pub max_ratio: u64,
    /// Nesting depth of archives inside archives (enforced by the caller).
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
///
/// Stored entries are charged too: they cost no memory, but overlapping
/// entries can hand the same bytes to the analysis many times.
#[derive(Debug, Clone)]
pub struct Budget {
    pub remaining: u64,
}

impl Budget {
    pub fn new(limits: &Limits) -> Self {
        Budget { remaining: limits.max_total_inflated }
    }

    fn charge(&mut self, bytes: u64) {
        self.remaining = self.remaining.saturating_sub(bytes);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("not a ZIP archive: {0}")]
    NotZip(String),
    #[error("entry {0}: {1}")]
    Entry(String, String),
    /// `reason` starts with the stable code (`zip.bomb: ...`).
    #[error("entry {name}: refused, {reason}")]
    Limit { name: String, reason: String },
}

impl ZipError {
    /// The stable diagnostic code for this error (see the module table).
    pub fn code(&self) -> &'static str {
        match self {
            ZipError::NotZip(_) => codes::NOT_ZIP,
            ZipError::Entry(..) => codes::ENTRY_UNREADABLE,
            ZipError::Limit { reason, .. } => [codes::ENTRY_TOO_LARGE, codes::BUDGET_EXHAUSTED]
                .into_iter()
                .find(|code| reason.starts_with(code))
                .unwrap_or(codes::BOMB),
        }
    }

    fn limit(entry: &ZipEntry, code: &str, detail: impl std::fmt::Display) -> Self {
        ZipError::Limit { name: entry.name.clone(), reason: format!("{code}: {detail}") }
    }

    fn entry(entry: &ZipEntry, detail: impl Into<String>) -> Self {
        ZipError::Entry(entry.name.clone(), detail.into())
    }
}

#[derive(Debug, Clone, Default)]
pub struct ZipEntry {
    /// Name as UTF-8 (lossy); never used as a filesystem path.
    pub name: String,
    pub raw_name: Vec<u8>,
    /// Central directory method; anything but 0 is read as DEFLATE.
    pub method: u16,
    pub flags: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// Absolute offset of the local file header in the data.
    pub local_header_offset: u64,
    /// Position in `ZipArchive::entries` (central directory order, then
    /// recovered entries in file order).
    pub index: usize,
    /// Absolute offset of the entry's data (after the local header, whose own
    /// name and extra lengths decide it, as in Android); `None` when no local
    /// header was found there.
    pub data_offset: Option<u64>,
    /// Found by scanning local headers, not listed in a readable central
    /// directory (sizes come from the local header or its data descriptor).
    pub recovered: bool,
}

impl ZipEntry {
    /// Directory entries end in `/` and carry no data.
    pub fn is_dir(&self) -> bool {
        self.raw_name.last() == Some(&b'/')
    }

    /// General-purpose bit 0 ("encrypted"), which Android ignores.
    pub fn has_encrypted_flag(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// Where the archive's structures sit (APK signature verification needs it).
#[derive(Debug, Clone, Default)]
pub struct ZipLayout {
    /// Absolute offset of the End Of Central Directory record (the data
    /// length when none was found).
    pub eocd_offset: u64,
    /// Absolute offset of the central directory (after any shift).
    pub cd_offset: u64,
    pub cd_size: u64,
    /// Bytes before the first local header (Janus-style prepended data).
    pub prefix_len: u64,
    /// A usable end record was found (false: listing from local headers only).
    pub eocd_found: bool,
    /// The ZIP64 end record was used.
    pub zip64: bool,
    /// Absolute offset of the ZIP64 end record, when used.
    pub eocd64_offset: Option<u64>,
    /// Entry count the end record declares (untrusted).
    pub declared_entries: u64,
    /// Added to every stored offset to get an absolute one (non-zero for
    /// self-extractor style archives).
    pub offset_shift: i64,
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
    /// Lists the archive. Fails only when nothing ZIP-like is found; damage
    /// yields a partial listing plus diagnostics.
    pub fn parse(data: &'a [u8], limits: &Limits) -> Result<Self, ZipError> {
        let directory = directory::read_directory(data, limits)?;
        Ok(ZipArchive {
            data,
            entries: directory.entries,
            layout: directory.layout,
            diagnostics: directory.diagnostics,
            limits: limits.clone(),
        })
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// First entry with this exact name.
    pub fn by_name(&self, name: &str) -> Option<&ZipEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Every entry with this exact name, in directory order (duplicates are
    /// how some attacks hide a second manifest or DEX).
    pub fn entries_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s ZipEntry> + 's {
        self.entries.iter().filter(move |e| e.name == name)
    }

    /// The entry's bytes as stored in the archive (compressed), clamped to
    /// the end of the data; `None` without a local header.
    pub fn raw_compressed(&self, entry: &ZipEntry) -> Option<&'a [u8]> {
        let start = usize::try_from(self.data_offset(entry)?).ok()?;
        let rest = self.data.get(start..)?;
        let len = usize::try_from(entry.compressed_size).unwrap_or(usize::MAX).min(rest.len());
        rest.get(..len)
    }

    /// The first `n` bytes of an entry (fewer if it is shorter), without
    /// inflating the rest: enough to recognise content by its magic. Also
    /// returns how many stored/compressed bytes produced them. Not charged to
    /// a budget: at most `n` bytes are ever produced.
    pub fn read_prefix(&self, entry: &ZipEntry, n: usize) -> Option<(Cow<'a, [u8]>, usize)> {
        let raw = self.raw_compressed(entry)?;
        if entry.method == METHOD_STORED {
            let len = n.min(raw.len()).min(usize::try_from(entry.uncompressed_size).unwrap_or(usize::MAX));
            return Some((Cow::Borrowed(raw.get(..len)?), len));
        }
        let mut out = Vec::with_capacity(n);
        let consumed = inflate::with_inflater(|inflater| {
            // Input is fed in small steps so `consumed` says how much input the
            // prefix really took (the inflater reads ahead otherwise).
            const STEP: usize = 64;
            loop {
                let at = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
                let Some(rest) = raw.get(at..) else { break };
                let chunk = rest.get(..STEP).unwrap_or(rest);
                let before = (inflater.total_in(), out.len());
                match inflater.decompress_vec(chunk, &mut out, flate2::FlushDecompress::None) {
                    Ok(flate2::Status::StreamEnd) | Err(_) => break,
                    Ok(_) => {}
                }
                if out.len() >= n || (inflater.total_in(), out.len()) == before {
                    break;
                }
            }
            usize::try_from(inflater.total_in()).unwrap_or(usize::MAX)
        });
        Some((Cow::Owned(out), consumed))
    }

    /// Inflates (or borrows, when stored) one entry, charging `budget`.
    /// Read-time anomalies (CRC or size mismatch) are dropped; use
    /// [`ZipArchive::read_with_diagnostics`] to keep them.
    pub fn read(&self, entry: &ZipEntry, budget: &mut Budget) -> Result<Cow<'a, [u8]>, ZipError> {
        let mut ignored = Vec::new();
        self.read_with_diagnostics(entry, budget, &mut ignored)
    }

    /// Like [`ZipArchive::read`], pushing `zip.crc_mismatch` and
    /// `zip.size_mismatch` to `diagnostics`. A CRC mismatch does not fail the
    /// read: Android would refuse the APK, but the analyst still wants to see
    /// what it contains.
    pub fn read_with_diagnostics(
        &self,
        entry: &ZipEntry,
        budget: &mut Budget,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<Cow<'a, [u8]>, ZipError> {
        let data_offset = self
            .data_offset(entry)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| ZipError::entry(entry, "no local file header where the directory points"))?;
        let declared = entry.uncompressed_size;
        if declared > self.limits.max_entry_size {
            return Err(ZipError::limit(
                entry,
                codes::ENTRY_TOO_LARGE,
                format_args!("declares {declared} bytes, limit {}", self.limits.max_entry_size),
            ));
        }
        if declared > budget.remaining {
            return Err(ZipError::limit(
                entry,
                codes::BUDGET_EXHAUSTED,
                format_args!("declares {declared} bytes, {} left for this input", budget.remaining),
            ));
        }
        // Within max_entry_size, so it fits in memory terms; on 32-bit
        // targets a failure here means it could never be read anyway.
        let declared_len = usize::try_from(declared)
            .map_err(|_| ZipError::limit(entry, codes::ENTRY_TOO_LARGE, "size does not fit in memory"))?;

        if entry.method == METHOD_STORED {
            // Android copies uncompressed_length bytes for STORED entries.
            let bytes = crate::reader::slice(self.data, data_offset, declared_len)
                .map_err(|_| ZipError::entry(entry, "stored data runs past the end of the archive"))?;
            budget.charge(declared);
            check_crc(entry, bytes, diagnostics);
            return Ok(Cow::Borrowed(bytes));
        }

        let ratio_ceiling = entry.compressed_size.saturating_mul(self.limits.max_ratio);
        if declared > ratio_ceiling {
            return Err(ZipError::limit(
                entry,
                codes::BOMB,
                format_args!(
                    "declares {declared} bytes from {} compressed (ratio limit {}:1)",
                    entry.compressed_size, self.limits.max_ratio
                ),
            ));
        }
        let input = self.raw_compressed(entry).unwrap_or_default();
        match inflate::inflate_bounded(input, declared_len) {
            Ok(out) => {
                budget.charge(out.len() as u64);
                if out.len() != declared_len {
                    diagnostics.push(
                        Diagnostic::warning(
                            codes::SIZE_MISMATCH,
                            format!("inflated to {} bytes, {} declared", out.len(), declared),
                        )
                        .at(entry.name.as_str()),
                    );
                }
                check_crc(entry, &out, diagnostics);
                Ok(Cow::Owned(out))
            }
            Err(inflate::InflateError::PastLimit) => {
                budget.charge(declared);
                Err(ZipError::limit(
                    entry,
                    codes::BOMB,
                    format_args!("inflates past its declared {declared} bytes; stopped"),
                ))
            }
            Err(inflate::InflateError::Truncated) => {
                Err(ZipError::entry(entry, "deflate stream ends before its end marker (truncated)"))
            }
            Err(inflate::InflateError::Corrupt(why)) => {
                let what = if entry.method == METHOD_DEFLATED {
                    String::new()
                } else {
                    format!(" (method {} read as DEFLATE)", entry.method)
                };
                Err(ZipError::entry(entry, format!("corrupt deflate data{what}: {why}")))
            }
        }
    }

    fn data_offset(&self, entry: &ZipEntry) -> Option<u64> {
        entry.data_offset.or_else(|| directory::local_data_offset(self.data, entry.local_header_offset))
    }
}

fn check_crc(entry: &ZipEntry, bytes: &[u8], diagnostics: &mut Vec<Diagnostic>) {
    let actual = crc32fast::hash(bytes);
    if actual != entry.crc32 {
        diagnostics.push(
            Diagnostic::warning(
                codes::CRC_MISMATCH,
                format!(
                    "CRC-32 is {actual:08x}, the directory says {:08x} (Android would refuse to install)",
                    entry.crc32
                ),
            )
            .at(entry.name.as_str()),
        );
    }
}
