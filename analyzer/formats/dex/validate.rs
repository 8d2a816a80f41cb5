//! The checks `parse_with` runs once the header is read: header and file
//! sizes, checksums, container sub-headers, where each ID table lies, the
//! map list, and that every index the tables hold points inside its table.
//! Each problem becomes a [`Diagnostic`]; none stops the parse.

use crate::diagnostic::Diagnostic;

use super::header::{self, DexKind, HEADER_SIZE};
use super::{
    DexFile, ParseOptions, Table, CLASS_DEF_SIZE, FIELD_ID_SIZE, METHOD_ID_SIZE, NO_INDEX, PROTO_ID_SIZE,
    STRING_ID_SIZE, TYPE_ID_SIZE,
};

/// Sub-DEX headers walked in a v41 container before giving up.
const MAX_CONTAINER_DEXES: u32 = 4096;
/// Map items inspected; real files have about twenty.
const MAX_MAP_ITEMS: u32 = 1024;
const MAP_ITEM_SIZE: usize = 12;

/// Counts problems of one kind so a hostile file yields one diagnostic per
/// kind rather than one per entry.
#[derive(Default)]
struct Tally {
    count: u64,
    first: Option<String>,
}

impl Tally {
    fn add(&mut self, what: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some(what());
        }
        self.count += 1;
    }

    fn report(self, diagnostics: &mut Vec<Diagnostic>, code: &str, table: &str) {
        if let Some(first) = self.first {
            diagnostics.push(
                Diagnostic::error(code, format!("{} bad entries in {table} (first: {first})", self.count))
                    .at(table),
            );
        }
    }
}

impl DexFile<'_> {
    fn expected_header_size(&self) -> usize {
        match self.kind {
            DexKind::Standard => HEADER_SIZE,
            DexKind::Container => header::HEADER_SIZE_V41,
            DexKind::Compact => header::HEADER_SIZE_COMPACT,
        }
    }

    pub(super) fn check_header_size(&mut self) {
        let expected = self.expected_header_size();
        if self.header.header_size as usize != expected {
            self.diagnostics.push(
                Diagnostic::warning(
                    "dex.bad_header_size",
                    format!("header_size {:#x}, expected {expected:#x}", self.header.header_size),
                )
                .at("offset 0x24"),
            );
        }
    }

    /// Returns the end of the DEX inside `data` (file_size, clamped).
    pub(super) fn check_file_size(&mut self) -> usize {
        let len = self.data.len();
        let declared = self.header.file_size as usize;
        // A v41 header's file_size covers one DEX; the container covers all.
        let whole = match (self.kind, self.header.container_size) {
            (DexKind::Container, Some(container)) => container as usize,
            _ => declared,
        };
        if declared < HEADER_SIZE {
            self.diagnostics.push(Diagnostic::error(
                "dex.bad_file_size",
                format!("file_size {declared} is smaller than the header"),
            ));
            return len;
        }
        if whole > len {
            self.diagnostics.push(Diagnostic::warning(
                "dex.truncated",
                format!("header says {whole} bytes, only {len} present; reading what is there"),
            ));
        } else if whole < len {
            self.diagnostics.push(Diagnostic::warning(
                "dex.trailing_data",
                format!("{} bytes follow the {whole}-byte DEX", len - whole),
            ));
        }
        declared.min(len)
    }

    pub(super) fn check_integrity(&mut self, file_end: usize, options: &ParseOptions) {
        let truncated = (self.header.file_size as usize) > self.data.len();
        if truncated {
            return;
        }
        if options.verify_checksum {
            if let Some(covered) = self.data.get(12..file_end) {
                let actual = adler2::adler32_slice(covered);
                if actual != self.header.checksum {
                    self.diagnostics.push(
                        Diagnostic::warning(
                            "dex.bad_checksum",
                            format!("Adler-32 is {actual:08x}, header says {:08x}", self.header.checksum),
                        )
                        .at("offset 0x8"),
                    );
                }
            }
        }
        if options.verify_signature {
            use sha1::{Digest, Sha1};
            if let Some(covered) = self.data.get(32..file_end) {
                let actual = Sha1::digest(covered);
                if actual[..] != self.header.signature[..] {
                    self.diagnostics.push(
                        Diagnostic::warning(
                            "dex.bad_signature",
                            format!(
                                "SHA-1 is {}, header says {}",
                                hex::encode(actual),
                                hex::encode(self.header.signature)
                            ),
                        )
                        .at("offset 0xc"),
                    );
                }
            }
        }
    }

    pub(super) fn count_container_dexes(&mut self) {
        let limit = match self.header.container_size {
            Some(size) => (size as usize).min(self.data.len()),
            None => self.data.len(),
        };
        let mut pos = 0usize;
        let mut count = 0u32;
        while count < MAX_CONTAINER_DEXES {
            count += 1;
            let Some(size) = self.u32_at(pos.saturating_add(32)) else {
                break;
            };
            if (size as usize) < HEADER_SIZE {
                break;
            }
            pos = pos.saturating_add(size as usize);
            if pos >= limit {
                break;
            }
            if header::read_magic(self.data.get(pos..).unwrap_or_default()).is_none() {
                self.diagnostics.push(
                    Diagnostic::warning("dex.container_bad_member", "container member without DEX magic")
                        .at(format!("offset {pos:#x}")),
                );
                break;
            }
        }
        self.container_dex_count = count;
        self.diagnostics.push(Diagnostic::info(
            "dex.container",
            format!("DEX v41 container with {count} DEX file(s); only the first is read"),
        ));
    }

    fn locate(&mut self, name: &str, count: u32, offset: u32, item_size: usize) -> Table {
        if count == 0 {
            return Table::default();
        }
        let offset = offset as usize;
        let fit = self.data.len().checked_sub(offset).map_or(0, |rest| rest / item_size);
        let usable = (count as usize).min(fit);
        if usable < count as usize {
            self.diagnostics.push(
                Diagnostic::error(
                    "dex.table_out_of_bounds",
                    format!("{name}: {count} entries declared, {usable} inside the file"),
                )
                .at(format!("offset {offset:#x}")),
            );
        }
        if offset < HEADER_SIZE {
            self.diagnostics.push(
                Diagnostic::warning("dex.table_overlaps_header", format!("{name} starts inside the header"))
                    .at(format!("offset {offset:#x}")),
            );
        } else if !offset.is_multiple_of(4) {
            self.diagnostics.push(
                Diagnostic::warning("dex.misaligned_table", format!("{name} is not 4-byte aligned"))
                    .at(format!("offset {offset:#x}")),
            );
        }
        // `usable` fits in u32 because it is at most `count`.
        Table { offset, count: usable as u32 }
    }

    pub(super) fn locate_tables(&mut self) {
        let h = self.header.clone();
        self.string_ids = self.locate("string_ids", h.string_ids_size, h.string_ids_off, STRING_ID_SIZE);
        self.type_ids = self.locate("type_ids", h.type_ids_size, h.type_ids_off, TYPE_ID_SIZE);
        self.proto_ids = self.locate("proto_ids", h.proto_ids_size, h.proto_ids_off, PROTO_ID_SIZE);
        self.field_ids = self.locate("field_ids", h.field_ids_size, h.field_ids_off, FIELD_ID_SIZE);
        self.method_ids = self.locate("method_ids", h.method_ids_size, h.method_ids_off, METHOD_ID_SIZE);
        self.class_defs = self.locate("class_defs", h.class_defs_size, h.class_defs_off, CLASS_DEF_SIZE);
    }

    pub(super) fn check_map(&mut self, file_end: usize) {
        let map_off = self.header.map_off as usize;
        if map_off == 0 {
            self.diagnostics.push(Diagnostic::warning("dex.no_map", "header has no map_list"));
            return;
        }
        let Some(declared) = self.u32_at(map_off) else {
            self.diagnostics.push(
                Diagnostic::error("dex.map_out_of_bounds", "map_list lies outside the file")
                    .at(format!("offset {map_off:#x}")),
            );
            return;
        };
        let fit = self.data.len().saturating_sub(map_off.saturating_add(4)) / MAP_ITEM_SIZE;
        let mut usable = (declared as usize).min(fit);
        if usable < declared as usize {
            self.diagnostics.push(
                Diagnostic::error(
                    "dex.map_truncated",
                    format!("map_list declares {declared} items, {usable} inside the file"),
                )
                .at(format!("offset {map_off:#x}")),
            );
        }
        if usable > MAX_MAP_ITEMS as usize {
            self.diagnostics.push(Diagnostic::warning(
                "dex.map_too_large",
                format!("map_list declares {declared} items; inspecting the first {MAX_MAP_ITEMS}"),
            ));
            usable = MAX_MAP_ITEMS as usize;
        }
        let h = &self.header;
        let id_tables: [(u16, &str, u32, u32); 6] = [
            (0x0001, "string_ids", h.string_ids_size, h.string_ids_off),
            (0x0002, "type_ids", h.type_ids_size, h.type_ids_off),
            (0x0003, "proto_ids", h.proto_ids_size, h.proto_ids_off),
            (0x0004, "field_ids", h.field_ids_size, h.field_ids_off),
            (0x0005, "method_ids", h.method_ids_size, h.method_ids_off),
            (0x0006, "class_defs", h.class_defs_size, h.class_defs_off),
        ];
        let mut mismatches = Tally::default();
        let mut outside = Tally::default();
        let mut unknown = Tally::default();
        for i in 0..usable {
            let pos = map_off + 4 + i * MAP_ITEM_SIZE;
            let (Some(kind), Some(size), Some(offset)) =
                (self.u16_at(pos), self.u32_at(pos + 4), self.u32_at(pos + 8))
            else {
                break;
            };
            if !is_known_map_type(kind) {
                unknown.add(|| format!("type {kind:#06x}"));
            }
            if size > 0 && offset as usize >= file_end.max(1) {
                outside.add(|| format!("type {kind:#06x} at {offset:#x}"));
            }
            if let Some((_, name, count, table_off)) = id_tables.iter().find(|t| t.0 == kind) {
                if size != *count || (size > 0 && offset != *table_off) {
                    mismatches.add(|| {
                        format!("{name}: map says {size} at {offset:#x}, header {count} at {table_off:#x}")
                    });
                }
            }
        }
        mismatches.report(&mut self.diagnostics, "dex.map_mismatch", "map_list");
        outside.report(&mut self.diagnostics, "dex.map_item_out_of_bounds", "map_list");
        if let Some(first) = unknown.first {
            self.diagnostics.push(Diagnostic::warning(
                "dex.map_unknown_type",
                format!("{} map items of unknown type (first: {first})", unknown.count),
            ));
        }
        // The map list and the data section normally end the file; bytes
        // after both are a payload something appended (packers do this).
        let map_end = map_off + 4 + usable * MAP_ITEM_SIZE;
        let data_end = (self.header.data_off as usize).saturating_add(self.header.data_size as usize);
        if data_end > file_end {
            self.diagnostics.push(Diagnostic::warning(
                "dex.data_out_of_bounds",
                format!("data section ends at {data_end:#x}, past the end of the file ({file_end:#x})"),
            ));
        }
        let used_end = map_end.max(data_end);
        if used_end < file_end {
            self.diagnostics.push(
                Diagnostic::warning(
                    "dex.data_past_map",
                    format!("{} bytes after the map list and data section", file_end - used_end),
                )
                .at(format!("offset {used_end:#x}")),
            );
        }
    }

    /// Checks every index stored in the ID tables and class definitions so
    /// that later lookups can simply return `None`; costs one pass over tables
    /// that are read anyway.
    pub(super) fn validate_references(&mut self) {
        let strings = self.header.string_ids_size;
        let types = self.header.type_ids_size;
        let protos = self.header.proto_ids_size;
        let len = self.data.len();

        let mut bad = Tally::default();
        for idx in 0..self.string_ids.count {
            let off = self.string_ids.entry(idx, STRING_ID_SIZE).and_then(|p| self.u32_at(p));
            if off.is_none_or(|off| off as usize >= len) {
                bad.add(|| format!("string {idx} data at {:#x}", off.unwrap_or(0)));
            }
        }
        bad.report(&mut self.diagnostics, "dex.bad_string_offset", "string_ids");

        let mut bad = Tally::default();
        for idx in 0..self.type_ids.count {
            let descriptor = self.type_ids.entry(idx, TYPE_ID_SIZE).and_then(|p| self.u32_at(p));
            if descriptor.is_none_or(|d| d >= strings) {
                bad.add(|| format!("type {idx} descriptor string {}", descriptor.unwrap_or(0)));
            }
        }
        bad.report(&mut self.diagnostics, "dex.bad_index", "type_ids");

        let mut bad = Tally::default();
        for idx in 0..self.proto_ids.count {
            match self.proto(idx) {
                Some(p) if p.shorty_idx < strings && p.return_type_idx < types => {}
                p => bad.add(|| format!("proto {idx}: {p:?}")),
            }
        }
        bad.report(&mut self.diagnostics, "dex.bad_index", "proto_ids");

        let mut bad = Tally::default();
        for idx in 0..self.field_ids.count {
            match self.field_id(idx) {
                Some(f)
                    if u32::from(f.class_idx) < types
                        && u32::from(f.type_idx) < types
                        && f.name_idx < strings => {}
                f => bad.add(|| format!("field {idx}: {f:?}")),
            }
        }
        bad.report(&mut self.diagnostics, "dex.bad_index", "field_ids");

        let mut bad = Tally::default();
        for idx in 0..self.method_ids.count {
            match self.method_id(idx) {
                Some(m)
                    if u32::from(m.class_idx) < types
                        && u32::from(m.proto_idx) < protos
                        && m.name_idx < strings => {}
                m => bad.add(|| format!("method {idx}: {m:?}")),
            }
        }
        bad.report(&mut self.diagnostics, "dex.bad_index", "method_ids");

        let mut bad = Tally::default();
        let mut bad_offsets = Tally::default();
        let in_file = |off: u32| off == 0 || (off as usize) < len;
        for idx in 0..self.class_defs.count {
            let Some(c) = self.class_def(idx) else {
                bad.add(|| format!("class_def {idx} unreadable"));
                continue;
            };
            let indexes_ok = c.class_idx < types
                && (c.superclass_idx == NO_INDEX || c.superclass_idx < types)
                && (c.source_file_idx == NO_INDEX || c.source_file_idx < strings);
            if !indexes_ok {
                bad.add(|| {
                    format!(
                        "class_def {idx}: class {} superclass {:#x} source file {:#x}",
                        c.class_idx, c.superclass_idx, c.source_file_idx
                    )
                });
            }
            let offsets_ok = in_file(c.interfaces_off)
                && in_file(c.annotations_off)
                && in_file(c.class_data_off)
                && in_file(c.static_values_off);
            if !offsets_ok {
                bad_offsets.add(|| format!("class_def {idx}: {c:?}"));
            }
        }
        bad.report(&mut self.diagnostics, "dex.bad_index", "class_defs");
        bad_offsets.report(&mut self.diagnostics, "dex.bad_offset", "class_defs");
    }
}

fn is_known_map_type(kind: u16) -> bool {
    matches!(kind, 0x0000..=0x0008 | 0x1000..=0x1003 | 0x2000..=0x2006 | 0xf000)
}
