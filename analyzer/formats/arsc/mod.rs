//! resources.arsc (`ResTable`): the compiled resource table of an APK, used
//! to resolve `@0x7f......` references in the manifest (app label, version
//! name, network security config file, ...).
//!
//! Parsing only indexes chunk positions; entries and strings are decoded when
//! a resource is asked for, so a table with 100k+ resources costs one walk
//! over its chunks. The entry encodings of newer aapt2 are understood: sparse
//! types (`FLAG_SPARSE`), 16-bit entry offsets (`FLAG_OFFSET16`) and compact
//! entries (`FLAG_COMPACT`). Map (complex) entries are recognised and skipped.

use crate::diagnostic::Diagnostic;
use crate::formats::axml::{StringPool, MAX_DIAGNOSTICS, RES_STRING_POOL_TYPE};
use crate::reader::{slice, u16_le_at, u32_le_at};

const RES_TABLE_TYPE: u16 = 0x0002;
const RES_TABLE_PACKAGE_TYPE: u16 = 0x0200;
const RES_TABLE_TYPE_TYPE: u16 = 0x0201;
const RES_TABLE_TYPE_SPEC_TYPE: u16 = 0x0202;

/// `ResTable_type::flags`.
const TYPE_FLAG_SPARSE: u8 = 0x01;
const TYPE_FLAG_OFFSET16: u8 = 0x02;
/// `ResTable_entry::flags`.
const ENTRY_FLAG_COMPLEX: u16 = 0x0001;
const ENTRY_FLAG_COMPACT: u16 = 0x0008;
const NO_ENTRY: u32 = 0xffff_ffff;
/// Fixed part of `ResTable_type` before its `ResTable_config`.
const TYPE_HEADER_FIXED: usize = 20;
/// `ResTable_package` up to and including `lastPublicKey`.
const PACKAGE_HEADER_MIN: usize = 284;

/// Type chunks indexed per table; more than any real app ships.
const MAX_TYPE_CHUNKS: usize = 500_000;
const MAX_PACKAGES: usize = 256;
const MAX_CHUNKS: usize = 2_000_000;
/// Reference chains followed before giving up (cycles are legal input).
const MAX_REFERENCE_DEPTH: usize = 16;

/// Result of parsing a resources.arsc.
#[derive(Debug, Clone, Default)]
pub struct ArscParse {
    pub table: Option<ResourceTable>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A resolved resource value.
#[derive(Debug, Clone, PartialEq)]
pub enum ResValue {
    /// A string; for file resources (`@xml/...`, `@drawable/...`) the path
    /// inside the APK, e.g. `res/xml/network_security_config.xml`.
    String(String),
    /// Decimal or hexadecimal integer.
    Int(i64),
    Bool(bool),
    /// A reference that could not be followed (framework resource, missing
    /// entry, or a chain too long).
    Reference(u32),
    /// Anything else: raw `Res_value` type and data.
    Other {
        data_type: u8,
        data: u32,
    },
}

/// Byte range of a chunk inside the table's data.
#[derive(Debug, Clone, Copy, Default)]
struct Range {
    start: usize,
    end: usize,
}

#[derive(Debug, Clone)]
struct TypeChunk {
    /// The whole chunk.
    range: Range,
    flags: u8,
    entry_count: u32,
    /// Absolute position of the entry offset array.
    offsets_at: usize,
    /// Absolute position entry offsets are relative to.
    entries_start: usize,
    is_default_config: bool,
}

#[derive(Debug, Clone, Default)]
struct TypeInfo {
    /// Chunks of this type, default configuration(s) first, then file order.
    chunks: Vec<TypeChunk>,
}

#[derive(Debug, Clone)]
struct Package {
    id: u32,
    name: String,
    type_strings: Option<Range>,
    key_strings: Option<Range>,
    type_id_offset: u32,
    /// Indexed by type ID (1..=255).
    types: Vec<TypeInfo>,
}

/// An indexed resource table. Owns a copy of the table bytes so it can be
/// kept after the archive entry buffer is gone.
#[derive(Debug, Clone)]
pub struct ResourceTable {
    data: Vec<u8>,
    global_strings: Option<Range>,
    packages: Vec<Package>,
}

/// Parses resources.arsc bytes.
pub fn parse(data: &[u8]) -> ArscParse {
    let mut diags = Diags::default();
    let table = parse_table(data, &mut diags);
    ArscParse { table, diagnostics: diags.finish() }
}

#[derive(Default)]
struct Diags {
    list: Vec<Diagnostic>,
    dropped: usize,
}

impl Diags {
    fn push(&mut self, d: Diagnostic) {
        if self.list.len() < MAX_DIAGNOSTICS {
            self.list.push(d);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        if self.dropped > 0 {
            let n = self.dropped;
            self.list
                .push(Diagnostic::info("arsc.more_diagnostics", format!("{n} further diagnostics omitted")));
        }
        self.list
    }
}

struct ChunkHeader {
    chunk_type: u16,
    header_size: usize,
    /// Chunk end, clamped to the enclosing range.
    end: usize,
    /// The declared size ran past the enclosing range.
    truncated: bool,
}

/// Reads the chunk header at `pos` inside `[.., limit)`; `None` when no chunk
/// can be read or the size cannot advance the walk.
fn chunk_at(data: &[u8], pos: usize, limit: usize, diags: &mut Diags) -> Option<ChunkHeader> {
    let chunk_type = u16_le_at(data, pos).ok()?;
    let header_size = usize::from(u16_le_at(data, pos + 2).ok()?);
    let size = u32_le_at(data, pos + 4).ok()? as usize;
    if size < 8 {
        diags.push(
            Diagnostic::error(
                "arsc.bad_chunk_size",
                format!("chunk {chunk_type:#06x} has size {size}; cannot continue"),
            )
            .at(format!("offset {pos:#x}")),
        );
        return None;
    }
    let (end, truncated) = match pos.checked_add(size) {
        Some(e) if e <= limit => (e, false),
        _ => {
            diags.push(
                Diagnostic::warning(
                    "arsc.truncated_chunk",
                    format!("chunk {chunk_type:#06x} runs past its container"),
                )
                .at(format!("offset {pos:#x}")),
            );
            (limit, true)
        }
    };
    let header_size = if (8..=end - pos).contains(&header_size) { header_size } else { 8 };
    Some(ChunkHeader { chunk_type, header_size, end, truncated })
}

fn parse_table(data: &[u8], diags: &mut Diags) -> Option<ResourceTable> {
    let Ok(table_type) = u16_le_at(data, 0) else {
        diags.push(Diagnostic::error("arsc.truncated", "file is shorter than a chunk header"));
        return None;
    };
    if table_type != RES_TABLE_TYPE {
        diags.push(Diagnostic::warning(
            "arsc.bad_magic",
            format!("table chunk type is {table_type:#06x}, expected 0x0002"),
        ));
    }
    let outer = chunk_at(data, 0, data.len(), diags)?;
    // Trailing bytes after the declared table are ignored, as Android does;
    // a declared size past the end is clamped (reported by chunk_at).
    let end = outer.end;
    let mut table = ResourceTable { data: data[..end].to_vec(), global_strings: None, packages: Vec::new() };
    let data = &data[..end];
    let mut pos = outer.header_size.max(12).min(end);
    let mut chunks = 0usize;
    let mut type_chunks = 0usize;
    while pos.saturating_add(8) <= end && chunks < MAX_CHUNKS {
        chunks += 1;
        let Some(ch) = chunk_at(data, pos, end, diags) else {
            break;
        };
        match ch.chunk_type {
            RES_STRING_POOL_TYPE => {
                if table.global_strings.is_none() {
                    let mut d = Vec::new();
                    let _ = StringPool::parse(&data[pos..ch.end], "arsc", &mut d);
                    for x in d {
                        diags.push(x);
                    }
                    table.global_strings = Some(Range { start: pos, end: ch.end });
                } else {
                    diags
                        .push(Diagnostic::info("arsc.extra_string_pool", "extra global string pool ignored"));
                }
            }
            RES_TABLE_PACKAGE_TYPE => {
                if table.packages.len() >= MAX_PACKAGES {
                    diags.push(Diagnostic::warning("arsc.too_many_packages", "package limit reached"));
                } else if let Some(p) = parse_package(data, pos, &ch, diags, &mut type_chunks) {
                    table.packages.push(p);
                }
            }
            other => diags.push(
                Diagnostic::info("arsc.unknown_chunk", format!("unknown chunk type {other:#06x} skipped"))
                    .at(format!("offset {pos:#x}")),
            ),
        }
        if ch.truncated {
            break;
        }
        pos = ch.end;
    }
    if table.packages.is_empty() {
        diags.push(Diagnostic::warning("arsc.no_packages", "resource table has no package"));
    }
    Some(table)
}

fn parse_package(
    data: &[u8],
    pos: usize,
    ch: &ChunkHeader,
    diags: &mut Diags,
    type_chunks: &mut usize,
) -> Option<Package> {
    let at = |o: usize| u32_le_at(data, pos + o).ok();
    let Some(id) = at(8) else {
        diags.push(Diagnostic::warning("arsc.truncated_package", "package header is truncated"));
        return None;
    };
    let name_bytes = slice(data, pos + 12, 256).unwrap_or(&[]);
    let name: String = char::decode_utf16(
        name_bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0),
    )
    .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
    .collect();
    let header_size = if ch.header_size >= PACKAGE_HEADER_MIN { ch.header_size } else { PACKAGE_HEADER_MIN };
    let type_strings_off = at(268).map(|v| v as usize);
    let key_strings_off = at(276).map(|v| v as usize);
    let type_id_offset = if ch.header_size >= PACKAGE_HEADER_MIN + 4 { at(284).unwrap_or(0) } else { 0 };

    let mut pkg = Package {
        id,
        name,
        type_strings: None,
        key_strings: None,
        type_id_offset,
        types: vec![TypeInfo::default(); 256],
    };
    let mut pools: Vec<Range> = Vec::new();
    let mut sub = pos.saturating_add(header_size);
    let mut chunks = 0usize;
    while sub.saturating_add(8) <= ch.end && chunks < MAX_CHUNKS {
        chunks += 1;
        let Some(sc) = chunk_at(data, sub, ch.end, diags) else {
            break;
        };
        match sc.chunk_type {
            RES_STRING_POOL_TYPE => pools.push(Range { start: sub, end: sc.end }),
            RES_TABLE_TYPE_TYPE => {
                *type_chunks += 1;
                if *type_chunks > MAX_TYPE_CHUNKS {
                    if *type_chunks == MAX_TYPE_CHUNKS + 1 {
                        diags.push(Diagnostic::warning("arsc.too_many_types", "type chunk limit reached"));
                    }
                } else if let Some((type_id, tc)) = parse_type_chunk(data, sub, &sc, diags) {
                    let info = &mut pkg.types[usize::from(type_id)];
                    if tc.is_default_config {
                        let first_other = info.chunks.iter().position(|c| !c.is_default_config);
                        match first_other {
                            Some(i) => info.chunks.insert(i, tc),
                            None => info.chunks.push(tc),
                        }
                    } else {
                        info.chunks.push(tc);
                    }
                }
            }
            // Type specs only carry configuration-change flags; libraries,
            // overlayables and staged aliases do not affect lookups here.
            RES_TABLE_TYPE_SPEC_TYPE | 0x0203..=0x0206 => {}
            other => diags.push(
                Diagnostic::info("arsc.unknown_chunk", format!("unknown package chunk {other:#06x} skipped"))
                    .at(format!("offset {sub:#x}")),
            ),
        }
        if sc.truncated {
            break;
        }
        sub = sc.end;
    }
    // The header names its pools by offset; fall back to the order aapt
    // writes them (types, then keys) when the offsets are bogus.
    let by_offset = |off: Option<usize>| {
        off.and_then(|o| pos.checked_add(o)).and_then(|abs| pools.iter().copied().find(|r| r.start == abs))
    };
    pkg.type_strings = by_offset(type_strings_off).or_else(|| pools.first().copied());
    pkg.key_strings = by_offset(key_strings_off).or_else(|| pools.get(1).copied());
    if pkg.type_strings.is_none() || pkg.key_strings.is_none() {
        diags.push(Diagnostic::warning(
            "arsc.missing_pool",
            format!("package {id:#04x} lacks its type or key strings"),
        ));
    }
    Some(pkg)
}

fn parse_type_chunk(data: &[u8], pos: usize, ch: &ChunkHeader, diags: &mut Diags) -> Option<(u8, TypeChunk)> {
    let type_id = *data.get(pos + 8)?;
    let flags = *data.get(pos + 9)?;
    let entry_count = u32_le_at(data, pos + 12).ok()?;
    let entries_start = u32_le_at(data, pos + 16).ok()? as usize;
    if type_id == 0 {
        diags.push(
            Diagnostic::warning("arsc.bad_type_id", "type chunk with ID 0 skipped")
                .at(format!("offset {pos:#x}")),
        );
        return None;
    }
    let config_at = pos + TYPE_HEADER_FIXED;
    let config_size = u32_le_at(data, config_at).map(|s| s as usize).unwrap_or(0);
    // The default configuration is all zeros apart from its size field.
    let config_end = config_at.saturating_add(config_size).min(ch.end);
    let is_default_config = data.get(config_at + 4..config_end).is_some_and(|c| c.iter().all(|&b| b == 0));
    let header_size =
        if ch.header_size >= TYPE_HEADER_FIXED { ch.header_size } else { TYPE_HEADER_FIXED + config_size };
    Some((
        type_id,
        TypeChunk {
            range: Range { start: pos, end: ch.end },
            flags,
            entry_count,
            offsets_at: pos.saturating_add(header_size),
            entries_start: pos.saturating_add(entries_start),
            is_default_config,
        },
    ))
}

/// The raw value of one entry in one configuration.
enum RawEntry {
    Value { key: u32, data_type: u8, data: u32 },
    Complex { key: u32 },
}

impl RawEntry {
    fn key(&self) -> u32 {
        match *self {
            RawEntry::Value { key, .. } | RawEntry::Complex { key } => key,
        }
    }
}

impl ResourceTable {
    fn pool(&self, range: Option<Range>) -> StringPool<'_> {
        match range.and_then(|r| self.data.get(r.start..r.end)) {
            Some(chunk) => StringPool::parse(chunk, "arsc", &mut Vec::new()),
            None => StringPool::empty(),
        }
    }

    /// Calls `f` with every string of the global value pool (string resources
    /// of all configurations: endpoints often live in `strings.xml`).
    pub fn for_each_value_string(&self, mut f: impl FnMut(&str)) {
        let pool = self.pool(self.global_strings);
        for i in 0..u32::try_from(pool.len()).unwrap_or(u32::MAX) {
            if let Some(s) = pool.get(i) {
                f(&s);
            }
        }
    }

    /// Names of the packages in the table (e.g. `com.example.app`).
    pub fn package_names(&self) -> Vec<String> {
        self.packages.iter().map(|p| p.name.clone()).collect()
    }

    /// `(package ID, package name)` pairs.
    pub fn packages(&self) -> Vec<(u32, String)> {
        self.packages.iter().map(|p| (p.id, p.name.clone())).collect()
    }

    fn package(&self, id: u32) -> Option<&Package> {
        let pkg_id = id >> 24;
        self.packages.iter().find(|p| p.id == pkg_id)
    }

    /// Entries for `id`, default configuration first, then file order.
    fn entries(&self, id: u32) -> impl Iterator<Item = RawEntry> + '_ {
        let type_id = ((id >> 16) & 0xff) as usize;
        let entry = id & 0xffff;
        self.package(id)
            .and_then(|p| p.types.get(type_id))
            .map(|t| t.chunks.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(move |c| self.entry_in(c, entry))
    }

    fn entry_in(&self, c: &TypeChunk, index: u32) -> Option<RawEntry> {
        let data = self.data.get(..c.range.end)?;
        let offset = if c.flags & TYPE_FLAG_SPARSE != 0 {
            sparse_offset(data, c, index)?
        } else {
            if index >= c.entry_count {
                return None;
            }
            if c.flags & TYPE_FLAG_OFFSET16 != 0 {
                let v = u16_le_at(data, c.offsets_at.checked_add(index as usize * 2)?).ok()?;
                if v == 0xffff {
                    return None;
                }
                usize::from(v) * 4
            } else {
                let v = u32_le_at(data, c.offsets_at.checked_add(index as usize * 4)?).ok()?;
                if v == NO_ENTRY {
                    return None;
                }
                v as usize
            }
        };
        let at = c.entries_start.checked_add(offset)?;
        let size = usize::from(u16_le_at(data, at).ok()?);
        let flags = u16_le_at(data, at + 2).ok()?;
        if flags & ENTRY_FLAG_COMPACT != 0 {
            // Compact: u16 key, u16 flags with the value type in the high
            // byte, u32 data; no separate Res_value.
            let key = u32::from(u16_le_at(data, at).ok()?);
            let data_word = u32_le_at(data, at + 4).ok()?;
            return Some(RawEntry::Value { key, data_type: (flags >> 8) as u8, data: data_word });
        }
        let key = u32_le_at(data, at + 4).ok()?;
        if flags & ENTRY_FLAG_COMPLEX != 0 {
            return Some(RawEntry::Complex { key });
        }
        let value_at = at.checked_add(size.max(8))?;
        let data_type = *data.get(value_at + 3)?;
        let value = u32_le_at(data, value_at + 4).ok()?;
        Some(RawEntry::Value { key, data_type, data: value })
    }

    fn value_of(&self, data_type: u8, data: u32) -> ResValue {
        use crate::formats::xml_tree::AttrValue;
        match crate::formats::axml::to_attr_value(data_type, data, &self.pool(self.global_strings)) {
            AttrValue::String(s) => ResValue::String(s),
            AttrValue::Reference(r) => ResValue::Reference(r),
            AttrValue::IntDec(v) => ResValue::Int(i64::from(v)),
            AttrValue::IntHex(v) => ResValue::Int(i64::from(v)),
            AttrValue::Bool(b) => ResValue::Bool(b),
            _ => ResValue::Other { data_type, data },
        }
    }

    /// The value of resource `id`, preferring the default configuration and
    /// following references within the table (bounded). `None` when the
    /// table has no simple value for it (missing, or a map such as a style).
    pub fn resolve(&self, id: u32) -> Option<ResValue> {
        let mut current = id;
        let mut last = None;
        for _ in 0..MAX_REFERENCE_DEPTH {
            let found = self.entries(current).find_map(|e| match e {
                RawEntry::Value { data_type, data, .. } => Some((data_type, data)),
                RawEntry::Complex { .. } => None,
            });
            let Some((data_type, data)) = found else {
                return last;
            };
            let value = self.value_of(data_type, data);
            match value {
                ResValue::Reference(next) if next != 0 && next != current => {
                    last = Some(ResValue::Reference(next));
                    current = next;
                }
                other => return Some(other),
            }
        }
        last
    }

    /// The resource as text, the way aapt shows it: strings as they are,
    /// numbers and booleans formatted.
    pub fn resolve_string(&self, id: u32) -> Option<String> {
        match self.resolve(id)? {
            ResValue::String(s) => Some(s),
            ResValue::Int(v) => Some(v.to_string()),
            ResValue::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// `type/name` of resource `id`, e.g. `string/app_name`.
    pub fn entry_name(&self, id: u32) -> Option<String> {
        let pkg = self.package(id)?;
        let type_id = (id >> 16) & 0xff;
        let key = self.entries(id).next()?.key();
        let type_index = type_id.checked_sub(1)?.checked_sub(pkg.type_id_offset)?;
        let type_name = self.pool(pkg.type_strings).get(type_index)?;
        let key_name = self.pool(pkg.key_strings).get(key)?;
        Some(format!("{type_name}/{key_name}"))
    }
}

/// Sparse types list `(u16 entry index, u16 offset / 4)` pairs sorted by index.
fn sparse_offset(data: &[u8], c: &TypeChunk, index: u32) -> Option<usize> {
    let index = u16::try_from(index).ok()?;
    let available = c.range.end.saturating_sub(c.offsets_at) / 4;
    let count = (c.entry_count as usize).min(available);
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let at = c.offsets_at + mid * 4;
        let idx = u16_le_at(data, at).ok()?;
        match idx.cmp(&index) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(usize::from(u16_le_at(data, at + 2).ok()?) * 4),
        }
    }
    None
}

#[cfg(test)]
mod tests;
