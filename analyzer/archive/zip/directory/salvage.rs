//! Salvage of a damaged or missing central directory: a bounded forward
//! scan of local headers that lists the entries the directory did not,
//! with sizes taken from the header or from the data descriptor after the
//! data.

use memchr::memmem;

use crate::diagnostic::Diagnostic;
use crate::reader::{u32_le_at, u64_le_at};

use super::super::sink::DiagnosticSink;
use super::super::{codes, Limits, ZipEntry, METHOD_STORED};
use super::anomalies::note_entry;
use super::{
    parse_local_header, LocalHeader, CENTRAL_SIG, DESCRIPTOR_SIG, EOCD_SIG, FLAG_DATA_DESCRIPTOR, LOCAL_SIG,
};

/// Salvages entries from local headers that the central directory did not
/// list (it is missing or damaged). Bounded: one forward pass, entries
/// capped, each search stops at the next header signature.
pub(super) fn scan_local_headers(
    data: &[u8],
    limits: &Limits,
    entries: &mut Vec<ZipEntry>,
    sink: &mut DiagnosticSink,
) {
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
