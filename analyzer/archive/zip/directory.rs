//! Finds and walks the archive's directory: the End Of Central Directory
//! record (and its ZIP64 form), the central directory, the local headers it
//! points at, and, when the central directory is damaged or missing, a
//! bounded scan of local headers that salvages a partial listing.
//!
//! Only structure is read here, never entry data.

use memchr::memmem;

use crate::diagnostic::Diagnostic;
use crate::reader::{slice, u16_le_at, u32_le_at, u64_le_at};

use super::names::suspicious_name_reason;
use super::sink::DiagnosticSink;
use super::{codes, Limits, ZipEntry, ZipError, ZipLayout, METHOD_DEFLATED, METHOD_STORED};

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

fn report_end_record(data: &[u8], end: &EndRecord, sink: &mut DiagnosticSink) {
    let record_end = end.offset.saturating_add(EOCD_LEN).saturating_add(end.comment_len);
    if record_end != data.len() {
        sink.emit(codes::EOCD_COMMENT_MISMATCH, || {
            Diagnostic::info(
                codes::EOCD_COMMENT_MISMATCH,
                format!(
                    "end record at {:#x} with a {}-byte comment ends at {:#x}, data ends at {:#x}",
                    end.offset,
                    end.comment_len,
                    record_end,
                    data.len()
                ),
            )
        });
    }
    if end.disk != 0 || end.cd_disk != 0 {
        sink.emit(codes::MULTI_DISK, || {
            Diagnostic::warning(
                codes::MULTI_DISK,
                format!("disk numbers {} / {} (spanned archive); read as one disk", end.disk, end.cd_disk),
            )
        });
    }
    if let Some(problem) = end.zip64_problem {
        sink.emit(codes::ZIP64_MALFORMED, || Diagnostic::warning(codes::ZIP64_MALFORMED, problem));
    }
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

/// Per-entry anomalies visible from the directory alone.
fn note_entry(entry: &ZipEntry, sink: &mut DiagnosticSink) {
    if entry.flags & 1 != 0 {
        sink.emit(codes::ENCRYPTED_FLAG, || {
            Diagnostic::warning(
                codes::ENCRYPTED_FLAG,
                "\"encrypted\" flag set; ignored like Android, data read as is",
            )
            .at(entry.name.as_str())
        });
    }
    if entry.method != METHOD_STORED && entry.method != METHOD_DEFLATED {
        sink.emit(codes::UNKNOWN_METHOD, || {
            Diagnostic::warning(
                codes::UNKNOWN_METHOD,
                format!("compression method {}; read as DEFLATE like Android's installer", entry.method),
            )
            .at(entry.name.as_str())
        });
    }
    if entry.method == METHOD_STORED && entry.compressed_size != entry.uncompressed_size && !entry.recovered {
        sink.emit(codes::SIZE_MISMATCH, || {
            Diagnostic::warning(
                codes::SIZE_MISMATCH,
                format!(
                    "stored entry declares {} compressed and {} uncompressed bytes; the latter is read, like Android",
                    entry.compressed_size, entry.uncompressed_size
                ),
            )
            .at(entry.name.as_str())
        });
    }
    if let Some(reason) = suspicious_name_reason(&entry.raw_name) {
        sink.emit(codes::SUSPICIOUS_NAME, || {
            Diagnostic::warning(codes::SUSPICIOUS_NAME, format!("entry name {reason}: {:?}", entry.name))
                .at(entry.name.as_str())
        });
    }
    if std::str::from_utf8(&entry.raw_name).is_err() {
        sink.emit(codes::NAME_NOT_UTF8, || {
            Diagnostic::info(codes::NAME_NOT_UTF8, "entry name is not valid UTF-8").at(entry.name.as_str())
        });
    }
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

/// Salvages entries from local headers that the central directory did not
/// list (it is missing or damaged). Bounded: one forward pass, entries
/// capped, each search stops at the next header signature.
fn scan_local_headers(data: &[u8], limits: &Limits, entries: &mut Vec<ZipEntry>, sink: &mut DiagnosticSink) {
    let mut known: Vec<u64> = entries.iter().map(|e| e.local_header_offset).collect();
    known.sort_unstable();
    let finder = memmem::Finder::new(b"PK\x03\x04");
    let mut pos = 0usize;
    while let Some(rel) = data.get(pos..).and_then(|rest| finder.find(rest)) {
        let offset = pos + rel;
        pos = offset + 4;
        let Some(header) = parse_local_header(data, offset) else {
            continue;
        };
        let Some(raw_name) = data.get(header.name.clone()) else {
            break;
        };
        let (compressed, uncompressed, crc32, data_end) = recovered_extent(data, &header);
        if data_end > pos {
            pos = data_end;
        }
        if known.binary_search(&(offset as u64)).is_ok() {
            continue;
        }
        if entries.len() >= limits.max_entries {
            sink.emit(codes::TOO_MANY_ENTRIES, || {
                Diagnostic::error(
                    codes::TOO_MANY_ENTRIES,
                    format!("more than {} entries; the rest are ignored", limits.max_entries),
                )
            });
            break;
        }
        let entry = ZipEntry {
            name: String::from_utf8_lossy(raw_name).into_owned(),
            raw_name: raw_name.to_vec(),
            method: header.method,
            flags: header.flags,
            crc32,
            compressed_size: compressed,
            uncompressed_size: uncompressed,
            local_header_offset: offset as u64,
            index: entries.len(),
            data_offset: Some(header.data_offset as u64),
            recovered: true,
        };
        sink.emit(codes::RECOVERED_ENTRY, || {
            Diagnostic::warning(
                codes::RECOVERED_ENTRY,
                format!("entry at {offset:#x} found from its local header only"),
            )
            .at(entry.name.as_str())
        });
        note_entry(&entry, sink);
        entries.push(entry);
    }
}

/// Sizes, CRC and end of a local-header-only entry. With a data descriptor
/// the sizes are in the descriptor after the data, found by looking at each
/// `PK` up to the next header signature.
fn recovered_extent(data: &[u8], header: &LocalHeader) -> (u64, u64, u32, usize) {
    let start = header.data_offset;
    let sizes_known = header.flags & FLAG_DATA_DESCRIPTOR == 0 || header.compressed != 0;
    if sizes_known {
        let stored = if header.method == METHOD_STORED { header.uncompressed } else { header.compressed };
        let end =
            usize::try_from(stored).ok().and_then(|n| start.checked_add(n)).filter(|&e| e <= data.len());
        // A size running past the data is not trusted to skip ahead.
        return (header.compressed, header.uncompressed, header.crc32, end.unwrap_or(start));
    }
    let Some(rest) = data.get(start..) else {
        return (0, 0, 0, data.len());
    };
    for rel in memmem::find_iter(rest, b"PK") {
        let at = start + rel;
        let sig = u32_le_at(data, at).unwrap_or(0);
        if sig == DESCRIPTOR_SIG {
            if let Some(found) = descriptor_at(data, at + 4, rel) {
                return found;
            }
        } else if sig == LOCAL_SIG || sig == CENTRAL_SIG || sig == EOCD_SIG {
            // Descriptor without its optional signature, 32- or 64-bit sizes.
            for (len, wide) in [(12usize, false), (20, true)] {
                if let Some(found) =
                    rel.checked_sub(len).and_then(|d| descriptor_fields(data, start + d, d, wide))
                {
                    return found;
                }
            }
            return (rel as u64, 0, 0, at);
        }
    }
    (rest.len() as u64, 0, 0, data.len())
}

fn descriptor_at(data: &[u8], fields: usize, data_len: usize) -> Option<(u64, u64, u32, usize)> {
    descriptor_fields(data, fields, data_len, false)
        .or_else(|| descriptor_fields(data, fields, data_len, true))
}

/// A descriptor's fields at `at` (crc, compressed, uncompressed) if its
/// compressed size equals the bytes between the data start and it.
fn descriptor_fields(data: &[u8], at: usize, data_len: usize, wide: bool) -> Option<(u64, u64, u32, usize)> {
    let crc = u32_le_at(data, at).ok()?;
    let (compressed, uncompressed, len) = if wide {
        (u64_le_at(data, at + 4).ok()?, u64_le_at(data, at + 12).ok()?, 20)
    } else {
        (u64::from(u32_le_at(data, at + 4).ok()?), u64::from(u32_le_at(data, at + 8).ok()?), 12)
    };
    (compressed == data_len as u64).then_some((compressed, uncompressed, crc, at + len))
}

fn report_prefix(data: &[u8], entries: &[ZipEntry], layout: &mut ZipLayout, sink: &mut DiagnosticSink) {
    let first = entries.iter().map(|e| e.local_header_offset).min();
    let first = match first {
        Some(first) => first,
        None if layout.eocd_found => layout.cd_offset,
        None => 0,
    };
    layout.prefix_len = first.min(data.len() as u64);
    if layout.prefix_len == 0 {
        return;
    }
    let dex = data.starts_with(b"dex\n");
    let (level, what) = if dex {
        (crate::diagnostic::Level::Error, " starting with a DEX header (Janus, CVE-2017-13156)")
    } else if data.starts_with(b"MZ") {
        (crate::diagnostic::Level::Warning, " starting with a Windows executable header (self-extractor)")
    } else {
        (crate::diagnostic::Level::Warning, "")
    };
    let len = layout.prefix_len;
    sink.emit(codes::PREPENDED_DATA, || {
        Diagnostic::new(
            level,
            codes::PREPENDED_DATA,
            format!("{len} bytes before the first local header{what}"),
        )
    });
}

fn report_duplicates(entries: &[ZipEntry], sink: &mut DiagnosticSink) {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_unstable_by(|&a, &b| entries[a].raw_name.cmp(&entries[b].raw_name).then(a.cmp(&b)));
    let mut first_of_run = None;
    for pair in order.windows(2) {
        let (a, b) = (&entries[pair[0]], &entries[pair[1]]);
        if a.raw_name != b.raw_name {
            first_of_run = None;
            continue;
        }
        let first = *first_of_run.get_or_insert(a.index);
        sink.emit(codes::DUPLICATE_NAME, || {
            Diagnostic::warning(
                codes::DUPLICATE_NAME,
                format!(
                    "entry {} repeats the name of entry {first}; lookups by name return the first",
                    b.index
                ),
            )
            .at(b.name.as_str())
        });
    }
}

/// Entries sharing bytes let a small archive expand many times (overlap
/// bombs) or show different tools different contents.
fn report_overlaps(data: &[u8], entries: &[ZipEntry], layout: &ZipLayout, sink: &mut DiagnosticSink) {
    let mut spans: Vec<(u64, u64, usize)> = entries
        .iter()
        .filter_map(|e| {
            let data_offset = e.data_offset?;
            let stored = if e.method == METHOD_STORED { e.uncompressed_size } else { e.compressed_size };
            let end = data_offset.saturating_add(stored).min(data.len() as u64);
            Some((e.local_header_offset, end.max(data_offset), e.index))
        })
        .collect();
    spans.sort_unstable();
    let mut reach: Option<(u64, usize)> = None;
    for &(start, end, index) in &spans {
        if let Some((reach_end, other)) = reach {
            if start < reach_end {
                sink.emit(codes::OVERLAPPING_ENTRIES, || {
                    Diagnostic::error(
                        codes::OVERLAPPING_ENTRIES,
                        format!(
                            "entry {index} at {start:#x} overlaps entry {other} (overlap bomb technique)"
                        ),
                    )
                    .at(entries.get(index).map(|e| e.name.as_str()).unwrap_or_default())
                });
            }
        }
        if reach.is_none_or(|(reach_end, _)| end > reach_end) {
            reach = Some((end, index));
        }
    }
    if !layout.eocd_found || layout.cd_size == 0 {
        return;
    }
    let cd_start = layout.cd_offset;
    let cd_end = cd_start.saturating_add(layout.cd_size);
    for &(start, end, index) in &spans {
        if start < cd_end && end > cd_start {
            sink.emit(codes::OVERLAPPING_ENTRIES, || {
                Diagnostic::error(
                    codes::OVERLAPPING_ENTRIES,
                    format!("entry {index} at {start:#x} overlaps the central directory"),
                )
                .at(entries.get(index).map(|e| e.name.as_str()).unwrap_or_default())
            });
        }
    }
}
