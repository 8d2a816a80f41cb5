//! Finds and walks the archive's directory: the End Of Central Directory
//! record (and its ZIP64 form), the central directory, the local headers it
//! points at, and, when the central directory is damaged or missing, a
//! bounded scan of local headers that salvages a partial listing
//! (`salvage`). What the listing shows is reported by `anomalies`.
//!
//! Only structure is read here, never entry data.

mod anomalies;
mod salvage;

use memchr::memmem;

use crate::diagnostic::Diagnostic;
use crate::reader::{slice, u16_le_at, u32_le_at, u64_le_at};

use super::sink::DiagnosticSink;
use super::{codes, Limits, ZipEntry, ZipError, ZipLayout, METHOD_STORED};
use anomalies::{note_entry, report_duplicates, report_end_record, report_overlaps, report_prefix};
use salvage::scan_local_headers;

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const LOCATOR_SIG: u32 = 0x0706_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;

const LOCAL_LEN: usize = 30;
const CENTRAL_LEN: usize = 46;
const EOCD_LEN: usize = 22;
const LOCATOR_LEN: usize = 20;
const EOCD64_LEN: usize = 56;
const MAX_COMMENT: usize = 0xffff;
const ZIP64_EXTRA_ID: u16 = 0x0001;
const U32_SATURATED: u32 = 0xffff_ffff;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;

/// End records tried (from the end backwards) before giving up; a comment
/// stuffed with fake signatures cannot make the search long.
const MAX_EOCD_CANDIDATES: usize = 32;

pub(super) struct Directory {
    pub entries: Vec<ZipEntry>,
    pub layout: ZipLayout,
    pub diagnostics: Vec<Diagnostic>,
}

/// The end record and where it says the central directory is.
struct EndRecord {
    offset: usize,
    disk: u32,
    cd_disk: u32,
    comment_len: usize,
    declared_entries: u64,
    cd_size: u64,
    /// As stored (before any shift).
    cd_offset: u64,
    zip64: Option<usize>,
    zip64_problem: Option<&'static str>,
}

/// The central directory once located in the data.
struct CentralLocation {
    start: usize,
    shift: i64,
}

pub(super) fn read_directory(data: &[u8], limits: &Limits) -> Result<Directory, ZipError> {
    let mut sink = DiagnosticSink::default();
    let mut entries: Vec<ZipEntry> = Vec::new();
    let mut layout = ZipLayout { eocd_offset: data.len() as u64, ..ZipLayout::default() };

    let found = find_end_record(data);
    let mut damaged = found.is_none();
    if let Some((end, location)) = found {
        layout.eocd_found = true;
        layout.eocd_offset = end.offset as u64;
        layout.zip64 = end.zip64.is_some();
        layout.eocd64_offset = end.zip64.map(|o| o as u64);
        layout.declared_entries = end.declared_entries;
        layout.cd_size = end.cd_size;
        report_end_record(data, &end, &mut sink);
        match location {
            Some(location) => {
                layout.cd_offset = location.start as u64;
                layout.offset_shift = location.shift;
                if location.shift != 0 {
                    sink.emit(codes::OFFSETS_SHIFTED, || {
                        Diagnostic::warning(
                            codes::OFFSETS_SHIFTED,
                            format!(
                                "central directory found {} bytes from where the end record says; \
                                 offsets are relative to a shifted start (self-extractor style)",
                                location.shift
                            ),
                        )
                    });
                }
                damaged = !walk_central_directory(data, &end, &location, limits, &mut entries, &mut sink);
            }
            None => {
                layout.cd_offset = end.cd_offset;
                sink.emit(codes::CENTRAL_DIRECTORY_DAMAGED, || {
                    Diagnostic::error(
                        codes::CENTRAL_DIRECTORY_DAMAGED,
                        format!(
                            "no central directory at offset {:#x} (end record at {:#x}); listing from local headers",
                            end.cd_offset, end.offset
                        ),
                    )
                });
            }
        }
    } else {
        sink.emit(codes::EOCD_MISSING, || {
            Diagnostic::warning(
                codes::EOCD_MISSING,
                "no End Of Central Directory record (truncated or not a plain ZIP); listing from local headers",
            )
        });
    }

    for entry in entries.iter_mut() {
        entry.data_offset = inspect_local_header(data, entry, &mut sink);
    }
    if damaged {
        scan_local_headers(data, limits, &mut entries, &mut sink);
    }
    if !layout.eocd_found && entries.is_empty() {
        return Err(ZipError::NotZip("no end of central directory record and no local file header".into()));
    }

    report_prefix(data, &entries, &mut layout, &mut sink);
    report_duplicates(&entries, &mut sink);
    report_overlaps(data, &entries, &layout, &mut sink);
    Ok(Directory { entries, layout, diagnostics: sink.finish() })
}

/// Scans back from the end for the end record, as libziparchive does, and
/// takes the last one whose central directory can be located; if none can,
/// the last candidate is returned without a location.
fn find_end_record(data: &[u8]) -> Option<(EndRecord, Option<CentralLocation>)> {
    let lowest = data.len().saturating_sub(EOCD_LEN + MAX_COMMENT);
    let mut search_end = data.len();
    let mut fallback: Option<EndRecord> = None;
    let finder = memmem::FinderRev::new(b"PK\x05\x06");
    for _ in 0..MAX_EOCD_CANDIDATES {
        let window = data.get(lowest..search_end)?;
        let Some(rel) = finder.rfind(window) else {
            break;
        };
        let offset = lowest + rel;
        search_end = offset + 3;
        let Some(end) = parse_end_record(data, offset) else {
            continue;
        };
        if let Some(location) = locate_central_directory(data, &end) {
            return Some((end, Some(location)));
        }
        if fallback.is_none() {
            fallback = Some(end);
        }
    }
    fallback.map(|end| (end, None))
}

fn parse_end_record(data: &[u8], offset: usize) -> Option<EndRecord> {
    let rec = slice(data, offset, EOCD_LEN).ok()?;
    let u16_at = |o: usize| u16_le_at(rec, o).unwrap_or(0);
    let u32_at = |o: usize| u32_le_at(rec, o).unwrap_or(0);
    let mut end = EndRecord {
        offset,
        disk: u32::from(u16_at(4)),
        cd_disk: u32::from(u16_at(6)),
        declared_entries: u64::from(u16_at(10)),
        cd_size: u64::from(u32_at(12)),
        cd_offset: u64::from(u32_at(16)),
        comment_len: usize::from(u16_at(20)),
        zip64: None,
        zip64_problem: None,
    };
    read_zip64_end(data, &mut end);
    Some(end)
}

/// Applies the ZIP64 end record when a locator precedes the end record.
fn read_zip64_end(data: &[u8], end: &mut EndRecord) {
    let Some(locator) = end.offset.checked_sub(LOCATOR_LEN) else {
        return;
    };
    if u32_le_at(data, locator) != Ok(LOCATOR_SIG) {
        if end.cd_offset == u64::from(U32_SATURATED) || end.cd_size == u64::from(U32_SATURATED) {
            end.zip64_problem = Some("end record values are saturated but no ZIP64 locator precedes it");
        }
        return;
    }
    let stated = u64_le_at(data, locator + 8).ok().and_then(|o| usize::try_from(o).ok());
    // The record normally sits right before the locator; a prefix added
    // without fixing offsets moves it, so try there too.
    let adjacent = locator.checked_sub(EOCD64_LEN);
    let record = [stated, adjacent]
        .into_iter()
        .flatten()
        .find(|&o| u32_le_at(data, o) == Ok(EOCD64_SIG) && slice(data, o, EOCD64_LEN).is_ok());
    let Some(record) = record else {
        end.zip64_problem = Some("ZIP64 locator points at no ZIP64 end record");
        return;
    };
    let u32_at = |o: usize| u32_le_at(data, record + o).unwrap_or(0);
    let u64_at = |o: usize| u64_le_at(data, record + o).unwrap_or(0);
    end.disk = u32_at(16);
    end.cd_disk = u32_at(20);
    end.declared_entries = u64_at(32);
    end.cd_size = u64_at(40);
    end.cd_offset = u64_at(48);
    end.zip64 = Some(record);
}

fn shifted(offset: u64, shift: i64) -> Option<u64> {
    if shift >= 0 {
        offset.checked_add(shift.unsigned_abs())
    } else {
        offset.checked_sub(shift.unsigned_abs())
    }
}

/// Finds the central directory at its stated offset, or where it must be
/// when it directly precedes the end record (shifted offsets).
fn locate_central_directory(data: &[u8], end: &EndRecord) -> Option<CentralLocation> {
    let structure_end = end.zip64.unwrap_or(end.offset) as u64;
    let expected = structure_end.checked_sub(end.cd_size);
    if end.cd_size == 0 {
        // An empty archive: nothing to find, but the record must be sane.
        return (end.declared_entries == 0).then_some(CentralLocation {
            start: usize::try_from(end.cd_offset.min(structure_end)).ok()?,
            shift: 0,
        });
    }
    let is_central = |o: u64| usize::try_from(o).ok().filter(|&o| u32_le_at(data, o) == Ok(CENTRAL_SIG));
    if let Some(start) = is_central(end.cd_offset) {
        return Some(CentralLocation { start, shift: 0 });
    }
    let expected = expected?;
    let start = is_central(expected)?;
    let shift = i64::try_from(expected).ok()?.checked_sub(i64::try_from(end.cd_offset).ok()?)?;
    Some(CentralLocation { start, shift })
}

/// Walks the central directory records; returns false when it is damaged
/// (a record is cut or a signature is wrong before the directory's end).
fn walk_central_directory(
    data: &[u8],
    end: &EndRecord,
    location: &CentralLocation,
    limits: &Limits,
    entries: &mut Vec<ZipEntry>,
    sink: &mut DiagnosticSink,
) -> bool {
    let structure_end = end.zip64.unwrap_or(end.offset);
    let stated_end = (location.start as u64).saturating_add(end.cd_size);
    let cd_end = usize::try_from(stated_end).unwrap_or(usize::MAX).min(structure_end).min(data.len());
    let mut intact = true;
    if stated_end > cd_end as u64 {
        intact = false;
        sink.emit(codes::CENTRAL_DIRECTORY_DAMAGED, || {
            Diagnostic::error(
                codes::CENTRAL_DIRECTORY_DAMAGED,
                format!(
                    "central directory ({} bytes at {:#x}) runs into the end record at {:#x}",
                    end.cd_size, location.start, structure_end
                ),
            )
        });
    }
    let Some(directory) = data.get(..cd_end) else {
        return false;
    };
    let mut pos = location.start;
    while pos < cd_end {
        if entries.len() >= limits.max_entries {
            sink.emit(codes::TOO_MANY_ENTRIES, || {
                Diagnostic::error(
                    codes::TOO_MANY_ENTRIES,
                    format!("more than {} entries; the rest are ignored", limits.max_entries),
                )
            });
            return intact;
        }
        match parse_central_record(directory, pos, location.shift, entries.len(), sink) {
            Ok((entry, next)) => {
                note_entry(&entry, sink);
                entries.push(entry);
                pos = next;
            }
            Err(why) => {
                sink.emit(codes::CENTRAL_DIRECTORY_DAMAGED, || {
                    Diagnostic::error(
                        codes::CENTRAL_DIRECTORY_DAMAGED,
                        format!(
                            "central directory record {} at {pos:#x} {why}; listing completed from local headers",
                            entries.len()
                        ),
                    )
                });
                return false;
            }
        }
    }
    let found = entries.len() as u64;
    // A 16-bit count wraps past 65535 entries in archives written without ZIP64.
    let wrapped = end.zip64.is_none() && found > 0xffff && found % 0x1_0000 == end.declared_entries;
    if intact && found != end.declared_entries && !wrapped {
        sink.emit(codes::ENTRY_COUNT_MISMATCH, || {
            Diagnostic::warning(
                codes::ENTRY_COUNT_MISMATCH,
                format!(
                    "end record declares {} entries, the central directory holds {found} \
                     (Android walks only the declared count)",
                    end.declared_entries
                ),
            )
        });
    }
    intact
}

/// Parses the central record at `pos`; `directory` ends where the central
/// directory ends so a record cannot borrow bytes from the end record.
fn parse_central_record(
    directory: &[u8],
    pos: usize,
    shift: i64,
    index: usize,
    sink: &mut DiagnosticSink,
) -> Result<(ZipEntry, usize), &'static str> {
    if u32_le_at(directory, pos) != Ok(CENTRAL_SIG) {
        return Err("has no central header signature");
    }
    let fixed = slice(directory, pos, CENTRAL_LEN).map_err(|_| "is cut short")?;
    let u16_at = |o: usize| u16_le_at(fixed, o).unwrap_or(0);
    let u32_at = |o: usize| u32_le_at(fixed, o).unwrap_or(0);
    let name_len = usize::from(u16_at(28));
    let extra_len = usize::from(u16_at(30));
    let comment_len = usize::from(u16_at(32));
    let raw_name = slice(directory, pos + CENTRAL_LEN, name_len).map_err(|_| "has a name cut short")?;
    let extra =
        slice(directory, pos + CENTRAL_LEN + name_len, extra_len).map_err(|_| "has extra data cut short")?;
    let next = pos + CENTRAL_LEN + name_len + extra_len + comment_len;
    if next > directory.len() {
        return Err("has a comment cut short");
    }

    let mut uncompressed = u64::from(u32_at(24));
    let mut compressed = u64::from(u32_at(20));
    let mut local_offset = u64::from(u32_at(42));
    let name = String::from_utf8_lossy(raw_name).into_owned();
    let zip64_ok = apply_zip64_extra(extra, &mut [&mut uncompressed, &mut compressed, &mut local_offset]);
    match zip64_ok {
        ExtraOutcome::Ok => {}
        ExtraOutcome::Malformed => sink.emit(codes::EXTRA_FIELD_MALFORMED, || {
            Diagnostic::info(codes::EXTRA_FIELD_MALFORMED, "an extra field runs past the extra area")
                .at(name.as_str())
        }),
        ExtraOutcome::Zip64Short => sink.emit(codes::ZIP64_MALFORMED, || {
            Diagnostic::warning(
                codes::ZIP64_MALFORMED,
                "ZIP64 extra field lacks a saturated value; 32-bit value kept",
            )
            .at(name.as_str())
        }),
    }
    let local_header_offset = shifted(local_offset, shift).unwrap_or(local_offset);
    let entry = ZipEntry {
        raw_name: raw_name.to_vec(),
        name,
        method: u16_at(10),
        flags: u16_at(8),
        crc32: u32_at(16),
        compressed_size: compressed,
        uncompressed_size: uncompressed,
        local_header_offset,
        index,
        data_offset: None,
        recovered: false,
    };
    Ok((entry, next))
}

enum ExtraOutcome {
    Ok,
    Malformed,
    Zip64Short,
}

/// Replaces each saturated (0xFFFFFFFF) value in `values`, in order, with
/// the next 64-bit value of the ZIP64 extra field.
fn apply_zip64_extra(extra: &[u8], values: &mut [&mut u64]) -> ExtraOutcome {
    let mut pos = 0;
    while pos + 4 <= extra.len() {
        let id = u16_le_at(extra, pos).unwrap_or(0);
        let size = usize::from(u16_le_at(extra, pos + 2).unwrap_or(0));
        let Ok(body) = slice(extra, pos + 4, size) else {
            return ExtraOutcome::Malformed;
        };
        if id == ZIP64_EXTRA_ID {
            let mut at = 0;
            for value in values.iter_mut() {
                if **value != u64::from(U32_SATURATED) {
                    continue;
                }
                match u64_le_at(body, at) {
                    Ok(v) => **value = v,
                    Err(_) => return ExtraOutcome::Zip64Short,
                }
                at += 8;
            }
            return ExtraOutcome::Ok;
        }
        pos += 4 + size;
    }
    ExtraOutcome::Ok
}

/// The fixed part of a local header.
struct LocalHeader {
    flags: u16,
    method: u16,
    crc32: u32,
    compressed: u64,
    uncompressed: u64,
    name: std::ops::Range<usize>,
    data_offset: usize,
}

fn parse_local_header(data: &[u8], offset: usize) -> Option<LocalHeader> {
    if u32_le_at(data, offset) != Ok(LOCAL_SIG) {
        return None;
    }
    let fixed = slice(data, offset, LOCAL_LEN).ok()?;
    let u16_at = |o: usize| u16_le_at(fixed, o).unwrap_or(0);
    let u32_at = |o: usize| u32_le_at(fixed, o).unwrap_or(0);
    let name_len = usize::from(u16_at(26));
    let extra_len = usize::from(u16_at(28));
    let name_start = offset.checked_add(LOCAL_LEN)?;
    let extra_start = name_start.checked_add(name_len)?;
    let data_offset = extra_start.checked_add(extra_len)?;
    let mut uncompressed = u64::from(u32_at(22));
    let mut compressed = u64::from(u32_at(18));
    if let Ok(extra) = slice(data, extra_start, extra_len) {
        // Local ZIP64 extras hold both sizes, uncompressed first.
        let _ = apply_zip64_extra(extra, &mut [&mut uncompressed, &mut compressed]);
    }
    Some(LocalHeader {
        flags: u16_at(6),
        method: u16_at(8),
        crc32: u32_at(14),
        compressed,
        uncompressed,
        name: name_start..extra_start,
        data_offset,
    })
}

/// Where the entry's data starts, from its local header.
pub(super) fn local_data_offset(data: &[u8], local_header_offset: u64) -> Option<u64> {
    let offset = usize::try_from(local_header_offset).ok()?;
    parse_local_header(data, offset).map(|h| h.data_offset as u64)
}

/// Checks the local header against the central record and returns the data
/// offset. Central values win, as in Android's libziparchive.
fn inspect_local_header(data: &[u8], entry: &ZipEntry, sink: &mut DiagnosticSink) -> Option<u64> {
    let header = usize::try_from(entry.local_header_offset).ok().and_then(|o| parse_local_header(data, o));
    let Some(header) = header else {
        sink.emit(codes::LOCAL_HEADER_MISSING, || {
            Diagnostic::error(
                codes::LOCAL_HEADER_MISSING,
                format!("no local file header at {:#x}; entry cannot be read", entry.local_header_offset),
            )
            .at(entry.name.as_str())
        });
        return None;
    };
    let mut differ: [&str; 6] = [""; 6];
    let mut n = 0;
    let mut note = |what: &'static str| {
        if let Some(slot) = differ.get_mut(n) {
            *slot = what;
            n += 1;
        }
    };
    if data.get(header.name.clone()) != Some(entry.raw_name.as_slice()) {
        note("name");
    }
    if header.method != entry.method {
        note("method");
    }
    if header.flags != entry.flags {
        note("flags");
    }
    if header.flags & FLAG_DATA_DESCRIPTOR == 0 {
        if header.compressed != entry.compressed_size || header.uncompressed != entry.uncompressed_size {
            note("sizes");
        }
        if header.crc32 != entry.crc32 {
            note("crc32");
        }
    }
    if n > 0 {
        sink.emit(codes::LOCAL_HEADER_MISMATCH, || {
            Diagnostic::warning(
                codes::LOCAL_HEADER_MISMATCH,
                format!(
                    "local header disagrees with the central directory on {}; central values used, like Android",
                    differ[..n].join(", ")
                ),
            )
            .at(entry.name.as_str())
        });
    }
    let stored_len =
        if entry.method == METHOD_STORED { entry.uncompressed_size } else { entry.compressed_size };
    let data_end = (header.data_offset as u64).checked_add(stored_len);
    if data_end.is_none_or(|end| end > data.len() as u64) {
        sink.emit(codes::ENTRY_TRUNCATED, || {
            Diagnostic::warning(
                codes::ENTRY_TRUNCATED,
                format!(
                    "data ({stored_len} bytes at {:#x}) runs past the end of the archive",
                    header.data_offset
                ),
            )
            .at(entry.name.as_str())
        });
    }
    Some(header.data_offset as u64)
}
