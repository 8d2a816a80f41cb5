//! Anomalies visible from the directory alone, reported once the listing
//! is known: the end record's comment and disk numbers, per-entry flags,
//! methods and names, bytes before the first entry (Janus), duplicate names
//! and entries that share bytes (overlap bombs).

use crate::diagnostic::Diagnostic;

use super::super::names::suspicious_name_reason;
use super::super::sink::DiagnosticSink;
use super::super::{codes, ZipEntry, ZipLayout, METHOD_DEFLATED, METHOD_STORED};
use super::{EndRecord, EOCD_LEN};

pub(super) fn report_end_record(data: &[u8], end: &EndRecord, sink: &mut DiagnosticSink) {
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

/// Per-entry anomalies visible from the directory alone.
pub(super) fn note_entry(entry: &ZipEntry, sink: &mut DiagnosticSink) {
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

pub(super) fn report_prefix(
    data: &[u8],
    entries: &[ZipEntry],
    layout: &mut ZipLayout,
    sink: &mut DiagnosticSink,
) {
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

pub(super) fn report_duplicates(entries: &[ZipEntry], sink: &mut DiagnosticSink) {
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
pub(super) fn report_overlaps(
    data: &[u8],
    entries: &[ZipEntry],
    layout: &ZipLayout,
    sink: &mut DiagnosticSink,
) {
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
