//! DEX (Dalvik executable) reader: the header, the ID tables (strings,
//! types, prototypes, fields, methods, class definitions) and the map list.
//!
//! Later stages need names, not bytecode: which classes an app ships and
//! which framework APIs and fields it references. Everything here is read
//! lazily from the borrowed bytes (a 10 MB DEX is never copied); `parse`
//! only checks the header, locates the tables and validates the indexes
//! they hold, turning every anomaly into a [`Diagnostic`].

mod header;
mod mutf8;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

use crate::diagnostic::Diagnostic;
use crate::formats::summary::DexSummary;
use crate::reader::{u16_le_at, u32_le_at, Reader};

pub use header::{DexHeader, DexKind, HEADER_SIZE};
pub use mutf8::decode as decode_mutf8;

/// `superclass_idx` / `source_file_idx` value meaning "none".
pub const NO_INDEX: u32 = 0xffff_ffff;
/// Longest string returned; real DEX strings stay below 64 KiB.
pub const MAX_STRING_BYTES: usize = 1 << 20;
/// Sub-DEX headers walked in a v41 container before giving up.
const MAX_CONTAINER_DEXES: u32 = 4096;
/// Map items inspected; real files have about twenty.
const MAX_MAP_ITEMS: u32 = 1024;

const STRING_ID_SIZE: usize = 4;
const TYPE_ID_SIZE: usize = 4;
const PROTO_ID_SIZE: usize = 12;
const FIELD_ID_SIZE: usize = 8;
const METHOD_ID_SIZE: usize = 8;
const CLASS_DEF_SIZE: usize = 32;
const MAP_ITEM_SIZE: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DexError {
    #[error("not a DEX file (no dex/cdex magic)")]
    NotDex,
    #[error("DEX header truncated: {len} bytes, the header needs {needed}")]
    TruncatedHeader { len: usize, needed: usize },
}

/// What `parse_with` verifies beyond the structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Compare the header's Adler-32 with the file (cheap).
    pub verify_checksum: bool,
    /// Compare the header's SHA-1 signature with the file (costs a hash pass).
    pub verify_signature: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { verify_checksum: true, verify_signature: false }
    }
}

/// One ID table as located in the file: `count` is how many entries are
/// actually inside the data, which may be fewer than the header says.
#[derive(Debug, Clone, Copy, Default)]
struct Table {
    offset: usize,
    count: u32,
}

impl Table {
    fn entry(&self, idx: u32, item_size: usize) -> Option<usize> {
        if idx >= self.count {
            return None;
        }
        (idx as usize).checked_mul(item_size)?.checked_add(self.offset)
    }
}

/// `proto_id_item`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtoId {
    pub shorty_idx: u32,
    pub return_type_idx: u32,
    pub parameters_off: u32,
}

/// `field_id_item`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldId {
    pub class_idx: u16,
    pub type_idx: u16,
    pub name_idx: u32,
}

/// `method_id_item`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodId {
    pub class_idx: u16,
    pub proto_idx: u16,
    pub name_idx: u32,
}

/// `class_def_item`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassDef {
    pub class_idx: u32,
    pub access_flags: u32,
    /// [`NO_INDEX`] for `java.lang.Object`.
    pub superclass_idx: u32,
    pub interfaces_off: u32,
    pub source_file_idx: u32,
    pub annotations_off: u32,
    pub class_data_off: u32,
    pub static_values_off: u32,
}

/// A resolved method reference; displays as `Lcls;->name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodRef<'a> {
    /// Index into `method_ids`.
    pub index: u32,
    /// Descriptor of the declaring class (`Landroid/location/LocationManager;`).
    pub class: Cow<'a, str>,
    pub name: Cow<'a, str>,
    /// Index into `proto_ids`; see [`DexFile::proto_descriptor`].
    pub proto_idx: u16,
}

impl fmt::Display for MethodRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{}", self.class, self.name)
    }
}

/// A resolved field reference; displays as `Lcls;->name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef<'a> {
    /// Index into `field_ids`.
    pub index: u32,
    pub class: Cow<'a, str>,
    pub name: Cow<'a, str>,
    /// Index into `type_ids` of the field's type.
    pub type_idx: u16,
}

impl fmt::Display for FieldRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{}", self.class, self.name)
    }
}

/// A parsed DEX file borrowing its bytes.
#[derive(Debug, Clone)]
pub struct DexFile<'a> {
    data: &'a [u8],
    pub kind: DexKind,
    /// The three version digits of the magic (`"035"`, `"039"`, `"001"` for cdex).
    pub version: String,
    /// The header as written (counts exactly as dexdump prints them).
    pub header: DexHeader,
    /// DEX files in a v41 container (1 otherwise); only the first is read.
    pub container_dex_count: u32,
    pub diagnostics: Vec<Diagnostic>,
    string_ids: Table,
    type_ids: Table,
    proto_ids: Table,
    field_ids: Table,
    method_ids: Table,
    class_defs: Table,
}

/// Parses with the default options (Adler-32 checked, SHA-1 not).
pub fn parse(data: &[u8]) -> Result<DexFile<'_>, DexError> {
    parse_with(data, &ParseOptions::default())
}

/// Parses a DEX file. Fails only when the bytes are not DEX at all or the
/// header cannot be read; everything else becomes a diagnostic.
pub fn parse_with<'a>(data: &'a [u8], options: &ParseOptions) -> Result<DexFile<'a>, DexError> {
    let (kind, version) = header::read_magic(data).ok_or(DexError::NotDex)?;
    let header = header::read_header(data, kind)
        .ok_or(DexError::TruncatedHeader { len: data.len(), needed: HEADER_SIZE })?;
    let mut dex = DexFile {
        data,
        kind,
        version,
        header,
        container_dex_count: 1,
        diagnostics: Vec::new(),
        string_ids: Table::default(),
        type_ids: Table::default(),
        proto_ids: Table::default(),
        field_ids: Table::default(),
        method_ids: Table::default(),
        class_defs: Table::default(),
    };
    if !header::is_known_version(kind, &dex.version) {
        dex.diagnostics.push(Diagnostic::warning(
            "dex.unknown_version",
            format!("DEX version {:?} is not one Android has shipped", dex.version),
        ));
    }
    dex.check_header_size();
    let file_end = dex.check_file_size();
    dex.check_integrity(file_end, options);
    if dex.header.link_size != 0 {
        dex.diagnostics.push(Diagnostic::info(
            "dex.link_section",
            format!("statically linked DEX: link section of {} bytes", dex.header.link_size),
        ));
    }
    match dex.header.endian_tag {
        header::ENDIAN_CONSTANT => {}
        header::REVERSE_ENDIAN_CONSTANT => {
            dex.diagnostics.push(Diagnostic::error(
                "dex.big_endian",
                "byte-swapped DEX (reverse endian tag); tables are not read",
            ));
            return Ok(dex);
        }
        other => dex.diagnostics.push(
            Diagnostic::warning(
                "dex.bad_endian_tag",
                format!("endian tag {other:#010x}, expected 0x12345678; reading as little-endian"),
            )
            .at("offset 0x28"),
        ),
    }
    if kind == DexKind::Compact {
        // Compact DEX resolves string data against a section shared by the
        // whole .vdex; without that section the tables cannot be trusted.
        dex.diagnostics.push(Diagnostic::warning(
            "dex.compact_dex",
            "compact DEX (cdex): counts reported, tables not read",
        ));
        return Ok(dex);
    }
    if kind == DexKind::Container {
        dex.count_container_dexes();
    }
    dex.locate_tables();
    dex.check_map(file_end);
    dex.validate_references();
    Ok(dex)
}

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

impl<'a> DexFile<'a> {
    /// The bytes this file was parsed from.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    fn u32_at(&self, pos: usize) -> Option<u32> {
        u32_le_at(self.data, pos).ok()
    }

    fn u16_at(&self, pos: usize) -> Option<u16> {
        u16_le_at(self.data, pos).ok()
    }

    fn expected_header_size(&self) -> usize {
        match self.kind {
            DexKind::Standard => HEADER_SIZE,
            DexKind::Container => header::HEADER_SIZE_V41,
            DexKind::Compact => header::HEADER_SIZE_COMPACT,
        }
    }

    fn check_header_size(&mut self) {
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
    fn check_file_size(&mut self) -> usize {
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

    fn check_integrity(&mut self, file_end: usize, options: &ParseOptions) {
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

    fn count_container_dexes(&mut self) {
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

    fn locate_tables(&mut self) {
        let h = self.header.clone();
        self.string_ids = self.locate("string_ids", h.string_ids_size, h.string_ids_off, STRING_ID_SIZE);
        self.type_ids = self.locate("type_ids", h.type_ids_size, h.type_ids_off, TYPE_ID_SIZE);
        self.proto_ids = self.locate("proto_ids", h.proto_ids_size, h.proto_ids_off, PROTO_ID_SIZE);
        self.field_ids = self.locate("field_ids", h.field_ids_size, h.field_ids_off, FIELD_ID_SIZE);
        self.method_ids = self.locate("method_ids", h.method_ids_size, h.method_ids_off, METHOD_ID_SIZE);
        self.class_defs = self.locate("class_defs", h.class_defs_size, h.class_defs_off, CLASS_DEF_SIZE);
    }

    fn check_map(&mut self, file_end: usize) {
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
    fn validate_references(&mut self) {
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

    /// Entries of `string_ids` inside the file (at most the header's count).
    pub fn string_count(&self) -> u32 {
        self.string_ids.count
    }

    /// Entries of `type_ids` inside the file.
    pub fn type_count(&self) -> u32 {
        self.type_ids.count
    }

    /// Entries of `proto_ids` inside the file.
    pub fn proto_count(&self) -> u32 {
        self.proto_ids.count
    }

    /// Entries of `field_ids` inside the file.
    pub fn field_count(&self) -> u32 {
        self.field_ids.count
    }

    /// Entries of `method_ids` inside the file.
    pub fn method_count(&self) -> u32 {
        self.method_ids.count
    }

    /// Entries of `class_defs` inside the file.
    pub fn class_count(&self) -> u32 {
        self.class_defs.count
    }

    /// Raw MUTF-8 bytes of string `idx` (without the NUL), at most
    /// [`MAX_STRING_BYTES`]; a string running off the end is cut there.
    pub fn string_bytes(&self, idx: u32) -> Option<&'a [u8]> {
        let pos = self.string_ids.entry(idx, STRING_ID_SIZE)?;
        let data_off = self.u32_at(pos)? as usize;
        let mut r = Reader::at(self.data, data_off);
        r.uleb128().ok()?;
        let start = r.pos();
        let end = start.saturating_add(MAX_STRING_BYTES).min(self.data.len());
        let window = self.data.get(start..end)?;
        let len = memchr::memchr(0, window).unwrap_or(window.len());
        window.get(..len)
    }

    /// String `idx`, decoded from MUTF-8 (borrowed when it is plain UTF-8).
    pub fn string(&self, idx: u32) -> Option<Cow<'a, str>> {
        self.string_bytes(idx).map(mutf8::decode)
    }

    /// Every readable string, in table order (sorted, as DEX requires).
    pub fn strings(&self) -> impl Iterator<Item = Cow<'a, str>> + '_ {
        (0..self.string_ids.count).filter_map(|idx| self.string(idx))
    }

    /// Descriptor of type `idx` (`Ljava/lang/String;`, `[I`).
    pub fn type_descriptor(&self, idx: u32) -> Option<Cow<'a, str>> {
        let pos = self.type_ids.entry(idx, TYPE_ID_SIZE)?;
        self.string(self.u32_at(pos)?)
    }

    /// Every readable type descriptor, in table order.
    pub fn type_descriptors(&self) -> impl Iterator<Item = Cow<'a, str>> + '_ {
        (0..self.type_ids.count).filter_map(|idx| self.type_descriptor(idx))
    }

    pub fn proto(&self, idx: u32) -> Option<ProtoId> {
        let pos = self.proto_ids.entry(idx, PROTO_ID_SIZE)?;
        Some(ProtoId {
            shorty_idx: self.u32_at(pos)?,
            return_type_idx: self.u32_at(pos + 4)?,
            parameters_off: self.u32_at(pos + 8)?,
        })
    }

    /// Type indexes of a `type_list` at `offset` (0 means empty), capped to
    /// the entries inside the file.
    pub fn type_list(&self, offset: u32) -> impl Iterator<Item = u32> + 'a {
        let data = self.data;
        let base = offset as usize;
        let declared = if offset == 0 { 0 } else { u32_le_at(data, base).unwrap_or(0) as usize };
        let fit = data.len().saturating_sub(base.saturating_add(4)) / 2;
        (0..declared.min(fit)).filter_map(move |i| {
            let pos = base.checked_add(4)?.checked_add(i.checked_mul(2)?)?;
            u16_le_at(data, pos).ok().map(u32::from)
        })
    }

    /// Method descriptor of prototype `idx`: `(ILjava/lang/String;)V`.
    pub fn proto_descriptor(&self, idx: u32) -> Option<String> {
        let proto = self.proto(idx)?;
        let mut out = String::from("(");
        for type_idx in self.type_list(proto.parameters_off) {
            out.push_str(&self.type_descriptor(type_idx)?);
        }
        out.push(')');
        out.push_str(&self.type_descriptor(proto.return_type_idx)?);
        Some(out)
    }

    pub fn field_id(&self, idx: u32) -> Option<FieldId> {
        let pos = self.field_ids.entry(idx, FIELD_ID_SIZE)?;
        Some(FieldId {
            class_idx: self.u16_at(pos)?,
            type_idx: self.u16_at(pos + 2)?,
            name_idx: self.u32_at(pos + 4)?,
        })
    }

    /// Field `idx` with its class and name resolved; `None` if any index is bad.
    pub fn field_ref(&self, idx: u32) -> Option<FieldRef<'a>> {
        let id = self.field_id(idx)?;
        Some(FieldRef {
            index: idx,
            class: self.type_descriptor(u32::from(id.class_idx))?,
            name: self.string(id.name_idx)?,
            type_idx: id.type_idx,
        })
    }

    /// Every resolvable field reference, in table order.
    pub fn field_refs(&self) -> impl Iterator<Item = FieldRef<'a>> + '_ {
        (0..self.field_ids.count).filter_map(|idx| self.field_ref(idx))
    }

    pub fn method_id(&self, idx: u32) -> Option<MethodId> {
        let pos = self.method_ids.entry(idx, METHOD_ID_SIZE)?;
        Some(MethodId {
            class_idx: self.u16_at(pos)?,
            proto_idx: self.u16_at(pos + 2)?,
            name_idx: self.u32_at(pos + 4)?,
        })
    }

    /// Method `idx` with its class and name resolved; `None` if any index is bad.
    pub fn method_ref(&self, idx: u32) -> Option<MethodRef<'a>> {
        let id = self.method_id(idx)?;
        Some(MethodRef {
            index: idx,
            class: self.type_descriptor(u32::from(id.class_idx))?,
            name: self.string(id.name_idx)?,
            proto_idx: id.proto_idx,
        })
    }

    /// Every resolvable method reference (defined here or called), in table order.
    pub fn method_refs(&self) -> impl Iterator<Item = MethodRef<'a>> + '_ {
        (0..self.method_ids.count).filter_map(|idx| self.method_ref(idx))
    }

    pub fn class_def(&self, idx: u32) -> Option<ClassDef> {
        let pos = self.class_defs.entry(idx, CLASS_DEF_SIZE)?;
        let word = |i: usize| self.u32_at(pos + 4 * i);
        Some(ClassDef {
            class_idx: word(0)?,
            access_flags: word(1)?,
            superclass_idx: word(2)?,
            interfaces_off: word(3)?,
            source_file_idx: word(4)?,
            annotations_off: word(5)?,
            class_data_off: word(6)?,
            static_values_off: word(7)?,
        })
    }

    /// Every readable class definition, in table order.
    pub fn class_defs(&self) -> impl Iterator<Item = ClassDef> + '_ {
        (0..self.class_defs.count).filter_map(|idx| self.class_def(idx))
    }

    /// Descriptors of the classes this file defines (`Lcom/umeng/analytics/MobclickAgent;`).
    pub fn class_names(&self) -> impl Iterator<Item = Cow<'a, str>> + '_ {
        self.class_defs().filter_map(|c| self.type_descriptor(c.class_idx))
    }

    /// Superclass descriptor; `None` for `java.lang.Object` or a bad index.
    pub fn superclass(&self, class: &ClassDef) -> Option<Cow<'a, str>> {
        if class.superclass_idx == NO_INDEX {
            return None;
        }
        self.type_descriptor(class.superclass_idx)
    }

    /// Descriptors of the interfaces a class implements.
    pub fn interfaces(&self, class: &ClassDef) -> impl Iterator<Item = Cow<'a, str>> + '_ {
        self.type_list(class.interfaces_off).filter_map(|idx| self.type_descriptor(idx))
    }

    /// Source file name recorded for a class (`SourceFile` attribute).
    pub fn source_file(&self, class: &ClassDef) -> Option<Cow<'a, str>> {
        if class.source_file_idx == NO_INDEX {
            return None;
        }
        self.string(class.source_file_idx)
    }

    /// The report's view of this file: counts as the header states them.
    pub fn summary(&self, entry: &str, primary: bool) -> DexSummary {
        DexSummary {
            entry: entry.to_string(),
            version: Some(self.version.clone()),
            strings: self.header.string_ids_size,
            types: self.header.type_ids_size,
            protos: self.header.proto_ids_size,
            fields: self.header.field_ids_size,
            methods: self.header.method_ids_size,
            classes: self.header.class_defs_size,
            primary,
        }
    }
}

fn is_known_map_type(kind: u16) -> bool {
    matches!(kind, 0x0000..=0x0008 | 0x1000..=0x1003 | 0x2000..=0x2006 | 0xf000)
}
