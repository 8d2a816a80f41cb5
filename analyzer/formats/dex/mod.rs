//! DEX (Dalvik executable) reader: the header, the ID tables (strings,
//! types, prototypes, fields, methods, class definitions) and the map list.
//!
//! Later stages need names, not bytecode: which classes an app ships and
//! which framework APIs and fields it references. Everything here is read
//! lazily from the borrowed bytes (a 10 MB DEX is never copied); `parse`
//! only checks the header, locates the tables and validates the indexes
//! they hold, turning every anomaly into a [`Diagnostic`].

mod code;
mod header;
mod mutf8;
#[cfg(test)]
mod tests;
mod validate;

use std::borrow::Cow;
use std::fmt;

use crate::diagnostic::Diagnostic;
use crate::formats::summary::DexSummary;
use crate::reader::{u16_le_at, u32_le_at, Reader};

pub use code::{
    walk as walk_code, EncodedMethod, Operand, MAX_ARGS, MAX_METHODS_PER_CLASS, MAX_METHOD_UNITS,
};
pub use header::{DexHeader, DexKind, HEADER_SIZE};
pub use mutf8::decode as decode_mutf8;

/// `superclass_idx` / `source_file_idx` value meaning "none".
pub const NO_INDEX: u32 = 0xffff_ffff;
/// Longest string returned; real DEX strings stay below 64 KiB.
pub const MAX_STRING_BYTES: usize = 1 << 20;

const STRING_ID_SIZE: usize = 4;
const TYPE_ID_SIZE: usize = 4;
const PROTO_ID_SIZE: usize = 12;
const FIELD_ID_SIZE: usize = 8;
const METHOD_ID_SIZE: usize = 8;
const CLASS_DEF_SIZE: usize = 32;

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
    ///
    /// The search for the NUL stops after three bytes per UTF-16 unit the
    /// string declares (`utf16_size`; MUTF-8 never takes more): an offset
    /// into garbage would otherwise scan up to the cap at every lookup of
    /// that string, and a damaged type table looks the same strings up
    /// thousands of times (a fuzzed DEX took 60x its original's time).
    pub fn string_bytes(&self, idx: u32) -> Option<&'a [u8]> {
        let pos = self.string_ids.entry(idx, STRING_ID_SIZE)?;
        let data_off = self.u32_at(pos)? as usize;
        let mut r = Reader::at(self.data, data_off);
        let utf16_size = r.uleb128().ok()? as usize;
        let start = r.pos();
        let max_len = utf16_size.saturating_mul(3).min(MAX_STRING_BYTES);
        let end = start.saturating_add(max_len).min(self.data.len());
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
