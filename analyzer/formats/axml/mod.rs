//! Android binary XML (`ResXMLTree`), the format of AndroidManifest.xml and
//! res/xml/*.xml inside an APK, decoded into the shared [`XmlElement`] tree.
//!
//! The reader follows what Android's own parser tolerates, not what aapt or
//! apktool expect, because malware shapes its manifests to break the tools
//! while still installing: attribute names are resolved by resource ID (the
//! string pool name may be blanked or renamed), node and attribute layouts
//! follow `headerSize`, `attributeStart` and `attributeSize` instead of the
//! usual constants, unknown chunks are skipped, and bogus string pool counts
//! or offsets only lose the strings they touch. Anything out of the ordinary
//! becomes an `axml.*` diagnostic.

mod res_value;
pub(crate) mod string_pool;
mod xml_text;

pub(crate) use res_value::to_attr_value;
pub use string_pool::StringPool;
pub use xml_text::to_xml_text;

use crate::diagnostic::Diagnostic;
use crate::formats::android_attrs;
use crate::formats::xml_tree::{AttrValue, XmlAttribute, XmlElement};
use crate::reader::{u16_le_at, u32_le_at};

/// Result of decoding one XML document (binary or proto): the root element if
/// any was found, and what was odd about the input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct XmlParse {
    pub root: Option<XmlElement>,
    pub diagnostics: Vec<Diagnostic>,
}

pub(crate) const RES_STRING_POOL_TYPE: u16 = 0x0001;
const RES_XML_TYPE: u16 = 0x0003;
const RES_XML_START_NAMESPACE_TYPE: u16 = 0x0100;
const RES_XML_END_NAMESPACE_TYPE: u16 = 0x0101;
const RES_XML_START_ELEMENT_TYPE: u16 = 0x0102;
const RES_XML_END_ELEMENT_TYPE: u16 = 0x0103;
const RES_XML_CDATA_TYPE: u16 = 0x0104;
const RES_XML_LAST_CHUNK_TYPE: u16 = 0x017f;
const RES_XML_RESOURCE_MAP_TYPE: u16 = 0x0180;

/// `ResXMLTree_node`: chunk header, line number, comment index.
const NODE_HEADER_SIZE: usize = 16;
/// `ResXMLTree_attribute`: ns, name, rawValue, Res_value.
const ATTRIBUTE_SIZE: usize = 20;
const NO_INDEX: u32 = 0xffff_ffff;

/// Deeper nesting than any real manifest; bounds recursion in consumers.
pub const MAX_DEPTH: usize = 256;
/// Elements kept per document.
pub const MAX_ELEMENTS: usize = 200_000;
/// Attributes kept per element.
pub const MAX_ATTRIBUTES: usize = 4096;
/// Chunks walked per document, so a stream of tiny chunks cannot run long.
const MAX_CHUNKS: usize = 2_000_000;
/// Diagnostics kept per document; a broken file must not flood the report.
pub(crate) const MAX_DIAGNOSTICS: usize = 64;

/// Decodes a binary XML document.
pub fn parse(data: &[u8]) -> XmlParse {
    let mut parser = Parser::new(data);
    parser.run();
    parser.finish()
}

struct Parser<'a> {
    data: &'a [u8],
    diags: Vec<Diagnostic>,
    dropped_diags: usize,
    pool: StringPool<'a>,
    /// Raw `u32` array of the resource map chunk.
    resource_map: &'a [u8],
    stack: Vec<XmlElement>,
    root: Option<XmlElement>,
    elements: usize,
    /// Start tags beyond the depth or element cap whose end tags must be
    /// swallowed rather than closing kept elements.
    skipped_open: usize,
    seen_node: bool,
}

impl<'a> Parser<'a> {
    fn new(data: &'a [u8]) -> Self {
        Parser {
            data,
            diags: Vec::new(),
            dropped_diags: 0,
            pool: StringPool::empty(),
            resource_map: &[],
            stack: Vec::new(),
            root: None,
            elements: 0,
            skipped_open: 0,
            seen_node: false,
        }
    }

    fn diag(&mut self, d: Diagnostic) {
        if self.diags.len() < MAX_DIAGNOSTICS {
            self.diags.push(d);
        } else {
            self.dropped_diags += 1;
        }
    }

    fn run(&mut self) {
        let data = self.data;
        let (Ok(doc_type), Ok(header_size), Ok(size)) =
            (u16_le_at(data, 0), u16_le_at(data, 2), u32_le_at(data, 4))
        else {
            self.diag(Diagnostic::error("axml.truncated", "file is shorter than a chunk header"));
            return;
        };
        if data.first() == Some(&b'<') || data.starts_with(b"\xef\xbb\xbf<") {
            self.diag(Diagnostic::error("axml.text_xml", "document is plain-text XML, not binary XML"));
            return;
        }
        if doc_type != RES_XML_TYPE {
            // Android's ResXMLTree does not check the document type either.
            self.diag(Diagnostic::warning(
                "axml.bad_magic",
                format!("document chunk type is {doc_type:#06x}, expected 0x0003"),
            ));
        }
        let size = size as usize;
        let end = if (8..=data.len()).contains(&size) {
            size
        } else {
            self.diag(Diagnostic::warning(
                "axml.bad_chunk_size",
                format!("document size {size} does not match the {} bytes present", data.len()),
            ));
            data.len()
        };
        let header_size = usize::from(header_size);
        let start = if (8..=end).contains(&header_size) {
            header_size
        } else {
            self.diag(Diagnostic::warning(
                "axml.bad_header_size",
                format!("document header size {header_size} is invalid; assuming 8"),
            ));
            8
        };
        self.walk_chunks(start, end);
    }

    fn walk_chunks(&mut self, start: usize, end: usize) {
        let all: &'a [u8] = self.data;
        let Some(data) = all.get(..end) else { return };
        let mut pos = start;
        let mut chunks = 0usize;
        while pos.saturating_add(8) <= end {
            chunks += 1;
            if chunks > MAX_CHUNKS {
                self.diag(Diagnostic::warning("axml.too_many_chunks", "chunk limit reached"));
                break;
            }
            let (Ok(chunk_type), Ok(header_size), Ok(chunk_size)) =
                (u16_le_at(data, pos), u16_le_at(data, pos + 2), u32_le_at(data, pos + 4))
            else {
                break;
            };
            let chunk_size = chunk_size as usize;
            if chunk_size < 8 {
                self.diag(
                    Diagnostic::error(
                        "axml.bad_chunk_size",
                        format!("chunk of type {chunk_type:#06x} has size {chunk_size}; cannot continue"),
                    )
                    .at(format!("offset {pos:#x}")),
                );
                break;
            }
            let chunk_end = match pos.checked_add(chunk_size) {
                Some(e) if e <= end => e,
                _ => {
                    self.diag(
                        Diagnostic::warning(
                            "axml.truncated_chunk",
                            format!("chunk of type {chunk_type:#06x} runs past the end of the document"),
                        )
                        .at(format!("offset {pos:#x}")),
                    );
                    end
                }
            };
            let chunk = &data[pos..chunk_end];
            let header_size = usize::from(header_size);
            match chunk_type {
                RES_STRING_POOL_TYPE => {
                    if self.seen_node {
                        // Android fixes its pool before the first node.
                        self.diag(Diagnostic::info(
                            "axml.late_string_pool",
                            "string pool after first node ignored",
                        ));
                    } else {
                        if !self.pool.is_empty() {
                            self.diag(Diagnostic::info(
                                "axml.duplicate_string_pool",
                                "later string pool replaces earlier one",
                            ));
                        }
                        let mut d = Vec::new();
                        self.pool = StringPool::parse(chunk, "axml", &mut d);
                        for x in d {
                            self.diag(x);
                        }
                    }
                }
                RES_XML_RESOURCE_MAP_TYPE => {
                    if !self.seen_node {
                        let h = if (8..=chunk.len()).contains(&header_size) { header_size } else { 8 };
                        self.resource_map = &chunk[h..];
                    }
                }
                RES_XML_START_NAMESPACE_TYPE..=RES_XML_LAST_CHUNK_TYPE => {
                    self.seen_node = true;
                    let ext = if header_size < NODE_HEADER_SIZE || header_size > chunk_size {
                        self.diag(
                            Diagnostic::warning(
                                "axml.bad_header_size",
                                format!("node header size {header_size} is invalid; assuming 16"),
                            )
                            .at(format!("offset {pos:#x}")),
                        );
                        pos + NODE_HEADER_SIZE
                    } else {
                        pos + header_size
                    };
                    let line = u32_le_at(data, pos + 8).ok();
                    match chunk_type {
                        RES_XML_START_ELEMENT_TYPE => self.start_element(data, pos, ext, line),
                        RES_XML_END_ELEMENT_TYPE => self.end_element(),
                        RES_XML_CDATA_TYPE => self.cdata(data, ext),
                        RES_XML_START_NAMESPACE_TYPE | RES_XML_END_NAMESPACE_TYPE => {}
                        other => self.diag(
                            Diagnostic::info(
                                "axml.unknown_chunk",
                                format!("unknown XML node type {other:#06x} skipped"),
                            )
                            .at(format!("offset {pos:#x}")),
                        ),
                    }
                }
                other => self.diag(
                    Diagnostic::info(
                        "axml.unknown_chunk",
                        format!("unknown chunk type {other:#06x} skipped"),
                    )
                    .at(format!("offset {pos:#x}")),
                ),
            }
            if chunk_end < pos + chunk_size {
                break;
            }
            pos = chunk_end;
        }
    }

    fn string(&mut self, index: u32, what: &str) -> Option<String> {
        if index == NO_INDEX {
            return None;
        }
        let s = self.pool.get(index);
        if s.is_none() {
            self.diag(Diagnostic::warning(
                "axml.bad_string_index",
                format!("{what} string index {index} is not in the string pool"),
            ));
        }
        s
    }

    fn resource_id(&self, name_index: u32) -> Option<u32> {
        let at = (name_index as usize).checked_mul(4)?;
        u32_le_at(self.resource_map, at).ok().filter(|&id| id != 0)
    }

    fn start_element(&mut self, data: &[u8], node: usize, ext: usize, line: Option<u32>) {
        if self.stack.len() >= MAX_DEPTH || self.elements >= MAX_ELEMENTS || self.skipped_open > 0 {
            if self.skipped_open == 0 {
                self.diag(Diagnostic::warning(
                    "axml.limit_reached",
                    "element depth or count limit reached; deeper elements skipped",
                ));
            }
            self.skipped_open += 1;
            return;
        }
        let (Ok(ns), Ok(name), Ok(attr_start), Ok(attr_size), Ok(attr_count)) = (
            u32_le_at(data, ext),
            u32_le_at(data, ext + 4),
            u16_le_at(data, ext + 8),
            u16_le_at(data, ext + 10),
            u16_le_at(data, ext + 12),
        ) else {
            self.diag(
                Diagnostic::warning("axml.truncated_element", "start tag is truncated")
                    .at(format!("offset {node:#x}")),
            );
            // Keep the nesting balanced for the end tag that follows.
            self.skipped_open += 1;
            return;
        };
        let name = self.string(name, "element name").unwrap_or_default();
        let namespace = self.string(ns, "element namespace");
        let mut attributes = Vec::new();
        let count = usize::from(attr_count).min(MAX_ATTRIBUTES);
        for i in 0..count {
            let Some(at) = usize::from(attr_size)
                .checked_mul(i)
                .and_then(|o| o.checked_add(usize::from(attr_start)))
                .and_then(|o| o.checked_add(ext))
            else {
                break;
            };
            match self.attribute(data, at) {
                Some(a) => attributes.push(a),
                None => {
                    self.diag(
                        Diagnostic::warning(
                            "axml.truncated_attribute",
                            format!("attribute {i} of <{name}> lies outside the document"),
                        )
                        .at(format!("offset {at:#x}")),
                    );
                    break;
                }
            }
        }
        self.elements += 1;
        self.stack.push(XmlElement { name, namespace, attributes, children: Vec::new(), line, text: None });
    }

    /// ResXMLTree_cdataExt: a string-pool reference to the text, which joins
    /// the text of the innermost open element.
    fn cdata(&mut self, data: &[u8], ext: usize) {
        let Ok(index) = u32_le_at(data, ext) else { return };
        let Some(text) = self.string(index, "character data") else { return };
        if let Some(top) = self.stack.last_mut() {
            let have = top.text.get_or_insert_with(String::new);
            if have.len() < 1 << 20 {
                have.push_str(&text);
            }
        }
    }

    fn attribute(&mut self, data: &[u8], at: usize) -> Option<XmlAttribute> {
        crate::reader::slice(data, at, ATTRIBUTE_SIZE).ok()?;
        let ns = u32_le_at(data, at).ok()?;
        let name_index = u32_le_at(data, at + 4).ok()?;
        let raw = u32_le_at(data, at + 8).ok()?;
        let data_type = *data.get(at + 15)?;
        let value_data = u32_le_at(data, at + 16).ok()?;

        let resource_id = self.resource_id(name_index);
        let framework_name =
            resource_id.filter(|&id| android_attrs::is_framework_id(id)).and_then(android_attrs::name_for_id);
        let name = match framework_name {
            Some(n) => n.to_string(),
            None => match self.string(name_index, "attribute name") {
                Some(n) => n,
                None => resource_id.map(|id| format!("attr_{id:08x}")).unwrap_or_default(),
            },
        };
        let namespace = self.string(ns, "attribute namespace");
        let value = match data_type {
            res_value::TYPE_STRING => match self.pool.get(value_data) {
                Some(s) => AttrValue::String(s),
                // Android falls back to the raw string for untyped access.
                None => match self.pool.get(raw) {
                    Some(s) => AttrValue::String(s),
                    None => AttrValue::Other { data_type, data: value_data },
                },
            },
            res_value::TYPE_NULL if raw != NO_INDEX => match self.pool.get(raw) {
                Some(s) => AttrValue::String(s),
                None => AttrValue::Other { data_type, data: value_data },
            },
            _ => to_attr_value(data_type, value_data, &self.pool),
        };
        Some(XmlAttribute { name, namespace, resource_id, value })
    }

    fn end_element(&mut self) {
        if self.skipped_open > 0 {
            self.skipped_open -= 1;
            return;
        }
        match self.stack.pop() {
            Some(e) => self.attach(e),
            None => self.diag(Diagnostic::warning("axml.unbalanced", "end tag without a start tag")),
        }
    }

    fn attach(&mut self, e: XmlElement) {
        if let Some(parent) = self.stack.last_mut() {
            parent.children.push(e);
        } else if self.root.is_none() {
            self.root = Some(e);
        } else {
            self.diag(Diagnostic::warning("axml.multiple_roots", "extra top-level element ignored"));
        }
    }

    fn finish(mut self) -> XmlParse {
        if !self.stack.is_empty() {
            self.diag(Diagnostic::warning(
                "axml.unclosed",
                format!("{} element(s) not closed at end of document", self.stack.len()),
            ));
            while let Some(e) = self.stack.pop() {
                self.attach(e);
            }
        }
        if self.root.is_none()
            && !self.diags.iter().any(|d| d.code == "axml.truncated" || d.code == "axml.text_xml")
        {
            self.diag(Diagnostic::error("axml.no_root", "document has no element"));
        }
        if self.dropped_diags > 0 {
            let n = self.dropped_diags;
            self.diags
                .push(Diagnostic::info("axml.more_diagnostics", format!("{n} further diagnostics omitted")));
        }
        XmlParse { root: self.root, diagnostics: self.diags }
    }
}

#[cfg(test)]
mod tests;
