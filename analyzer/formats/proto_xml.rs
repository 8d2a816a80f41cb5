//! aapt2's protobuf XML (`aapt.pb.XmlNode` from `tools/aapt2/Resources.proto`),
//! the encoding of `base/manifest/AndroidManifest.xml` in an Android App
//! Bundle, decoded into the same [`XmlElement`] tree as binary XML.
//!
//! A small bounded wire-format reader replaces a protobuf dependency: only a
//! handful of messages matter and unknown fields must be skipped anyway.
//! Attribute names are resolved by resource ID like the binary XML reader.
//!
//! Field numbers used (Resources.proto):
//! `XmlNode{element=1, text=2, source=3}`,
//! `XmlElement{namespace_declaration=1, namespace_uri=2, name=3, attribute=4, child=5}`,
//! `XmlAttribute{namespace_uri=1, name=2, value=3, source=4, resource_id=5, compiled_item=6}`,
//! `SourcePosition{line_number=1}`,
//! `Item{ref=1, str=2, raw_str=3, styled_str=4, file=5, id=6, prim=7}`,
//! `Reference{type=1, id=2}`, `String/RawString/StyledString{value=1}`, `FileReference{path=1}`,
//! `Primitive{null=1, empty=2, float=3, int_decimal=6, int_hexadecimal=7, boolean=8,
//! color_argb8=9, color_rgb8=10, color_argb4=11, color_rgb4=12, dimension=13, fraction=14}`
//! (older aapt2 wrote `Primitive{type=1, data=2}` as two varints; both are read).

use crate::diagnostic::Diagnostic;
use crate::formats::android_attrs;
use crate::formats::axml::{XmlParse, MAX_ATTRIBUTES, MAX_DEPTH, MAX_DIAGNOSTICS, MAX_ELEMENTS};
use crate::formats::xml_tree::{AttrValue, XmlAttribute, XmlElement};
use crate::reader::Reader;

/// Decodes a serialized `aapt.pb.XmlNode`.
pub fn parse(data: &[u8]) -> XmlParse {
    let mut p = ProtoParser { diags: Vec::new(), elements: 0, limit_reported: false };
    let mut root = None;
    let mut line = None;
    for field in p.collect(data) {
        match field {
            (1, Value::Bytes(b)) if root.is_none() => root = p.element(b, 0),
            (3, Value::Bytes(b)) => line = p.source_line(b),
            _ => {}
        }
    }
    if let Some(r) = root.as_mut() {
        r.line = r.line.or(line);
    } else {
        p.diag(Diagnostic::error("proto_xml.no_root", "protobuf XML has no root element"));
    }
    XmlParse { root, diagnostics: p.diags }
}

#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    Fixed64,
}

/// Iterates the fields of one message; stops for good at the first malformed
/// field (reporting it), so corrupt input cannot loop.
struct Fields<'a, 'p> {
    reader: Reader<'a>,
    parser: &'p mut ProtoParser,
    done: bool,
}

impl<'a> Iterator for Fields<'a, '_> {
    type Item = (u64, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.reader.remaining() == 0 {
            return None;
        }
        match read_field(&mut self.reader) {
            Ok(f) => Some(f),
            Err(msg) => {
                self.done = true;
                self.parser.diag(
                    Diagnostic::warning("proto_xml.malformed", msg)
                        .at(format!("offset {:#x}", self.reader.pos())),
                );
                None
            }
        }
    }
}

fn read_field<'a>(r: &mut Reader<'a>) -> Result<(u64, Value<'a>), &'static str> {
    let key = r.uleb128().map_err(|_| "truncated field key")?;
    let field = key >> 3;
    let value = match key & 7 {
        0 => Value::Varint(r.uleb128().map_err(|_| "truncated varint")?),
        1 => {
            r.u64_le().map_err(|_| "truncated fixed64")?;
            Value::Fixed64
        }
        2 => {
            let len = r.uleb128().map_err(|_| "truncated length")?;
            let len = usize::try_from(len).map_err(|_| "length too large")?;
            Value::Bytes(r.bytes(len).map_err(|_| "length runs past the end")?)
        }
        5 => Value::Fixed32(r.u32_le().map_err(|_| "truncated fixed32")?),
        _ => return Err("unsupported wire type"),
    };
    if field == 0 {
        return Err("field number 0");
    }
    Ok((field, value))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

struct ProtoParser {
    diags: Vec<Diagnostic>,
    elements: usize,
    limit_reported: bool,
}

impl ProtoParser {
    fn diag(&mut self, d: Diagnostic) {
        if self.diags.len() < MAX_DIAGNOSTICS {
            self.diags.push(d);
        }
    }

    fn fields<'a, 'p>(&'p mut self, data: &'a [u8]) -> Fields<'a, 'p> {
        Fields { reader: Reader::new(data), parser: self, done: false }
    }

    /// Collects a message's fields first so nested decoding can borrow self.
    fn collect<'a>(&mut self, data: &'a [u8]) -> Vec<(u64, Value<'a>)> {
        self.fields(data).collect()
    }

    fn source_line(&mut self, data: &[u8]) -> Option<u32> {
        self.collect(data).into_iter().find_map(|f| match f {
            (1, Value::Varint(v)) => u32::try_from(v).ok(),
            _ => None,
        })
    }

    fn element(&mut self, data: &[u8], depth: usize) -> Option<XmlElement> {
        if depth >= MAX_DEPTH || self.elements >= MAX_ELEMENTS {
            if !self.limit_reported {
                self.limit_reported = true;
                self.diag(Diagnostic::warning(
                    "proto_xml.limit_reached",
                    "element depth or count limit reached; deeper elements skipped",
                ));
            }
            return None;
        }
        self.elements += 1;
        let mut e = XmlElement::default();
        for field in self.collect(data) {
            match field {
                (2, Value::Bytes(b)) if !b.is_empty() => e.namespace = Some(text(b)),
                (3, Value::Bytes(b)) => e.name = text(b),
                (4, Value::Bytes(b)) if e.attributes.len() < MAX_ATTRIBUTES => {
                    e.attributes.push(self.attribute(b));
                }
                (5, Value::Bytes(b)) => {
                    let mut child = None;
                    let mut line = None;
                    for f in self.collect(b) {
                        match f {
                            (1, Value::Bytes(cb)) if child.is_none() => child = self.element(cb, depth + 1),
                            (3, Value::Bytes(sb)) => line = self.source_line(sb),
                            _ => {}
                        }
                    }
                    if let Some(mut c) = child {
                        c.line = c.line.or(line);
                        e.children.push(c);
                    }
                }
                _ => {}
            }
        }
        Some(e)
    }

    fn attribute(&mut self, data: &[u8]) -> XmlAttribute {
        let mut namespace = None;
        let mut pool_name = String::new();
        let mut raw = String::new();
        let mut resource_id = None;
        let mut compiled = None;
        for field in self.collect(data) {
            match field {
                (1, Value::Bytes(b)) if !b.is_empty() => namespace = Some(text(b)),
                (2, Value::Bytes(b)) => pool_name = text(b),
                (3, Value::Bytes(b)) => raw = text(b),
                (5, Value::Varint(v)) => resource_id = u32::try_from(v).ok().filter(|&id| id != 0),
                (6, Value::Bytes(b)) => compiled = Some(b),
                _ => {}
            }
        }
        let name = resource_id
            .filter(|&id| android_attrs::is_framework_id(id))
            .and_then(android_attrs::name_for_id)
            .map(str::to_string)
            .unwrap_or(pool_name);
        let value = compiled.and_then(|b| self.item(b, &raw)).unwrap_or(AttrValue::String(raw));
        XmlAttribute { name, namespace, resource_id, value }
    }

    /// Decodes an `Item`; `raw` is the attribute's source text.
    fn item(&mut self, data: &[u8], raw: &str) -> Option<AttrValue> {
        for field in self.collect(data) {
            let (n, Value::Bytes(b)) = field else {
                continue;
            };
            return match n {
                1 => Some(self.reference(b, raw)),
                2..=5 => Some(AttrValue::String(self.string_value(b))),
                6 => Some(AttrValue::String(raw.to_string())),
                7 => self.primitive(b),
                _ => continue,
            };
        }
        None
    }

    fn string_value(&mut self, data: &[u8]) -> String {
        self.collect(data)
            .into_iter()
            .find_map(|f| match f {
                (1, Value::Bytes(b)) => Some(text(b)),
                _ => None,
            })
            .unwrap_or_default()
    }

    fn reference(&mut self, data: &[u8], raw: &str) -> AttrValue {
        let mut is_attr = false;
        let mut id = 0u32;
        for f in self.collect(data) {
            match f {
                (1, Value::Varint(t)) => is_attr = t == 1,
                (2, Value::Varint(v)) => id = v as u32,
                _ => {}
            }
        }
        match (id, is_attr) {
            (0, _) => AttrValue::String(raw.to_string()),
            (id, true) => AttrValue::AttributeRef(id),
            (id, false) => AttrValue::Reference(id),
        }
    }

    fn primitive(&mut self, data: &[u8]) -> Option<AttrValue> {
        let fields = self.collect(data);
        // Old aapt2: Primitive{type=1, data=2}, both varints, as in Res_value.
        let old_type = fields.iter().find_map(|f| match f {
            (1, Value::Varint(t)) => Some(*t as u8),
            _ => None,
        });
        if let Some(data_type) = old_type {
            let value = fields
                .iter()
                .find_map(|f| match f {
                    (2, Value::Varint(d)) => Some(*d as u32),
                    _ => None,
                })
                .unwrap_or(0);
            let pool = crate::formats::axml::StringPool::empty();
            return Some(crate::formats::axml::to_attr_value(data_type, value, &pool));
        }
        fields.into_iter().find_map(|f| {
            Some(match f {
                (1, Value::Bytes(_)) => AttrValue::Other { data_type: 0x00, data: 0 },
                (2, Value::Bytes(_)) => AttrValue::Other { data_type: 0x00, data: 1 },
                (3, Value::Fixed32(bits)) => AttrValue::Float(f32::from_bits(bits)),
                (6, Value::Varint(v)) => AttrValue::IntDec(v as i32),
                (7, Value::Varint(v)) => AttrValue::IntHex(v as u32),
                (8, Value::Varint(v)) => AttrValue::Bool(v != 0),
                (n @ 9..=12, Value::Varint(v)) => {
                    AttrValue::Other { data_type: 0x1c + (n - 9) as u8, data: v as u32 }
                }
                (13, Value::Varint(v)) => AttrValue::Other { data_type: 0x05, data: v as u32 },
                (14, Value::Varint(v)) => AttrValue::Other { data_type: 0x06, data: v as u32 },
                (4, Value::Fixed32(bits)) => AttrValue::Other { data_type: 0x05, data: bits },
                (5, Value::Fixed32(bits)) => AttrValue::Other { data_type: 0x06, data: bits },
                _ => return None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::xml_tree::ANDROID_NS;
    use crate::test_support::{each_flip, each_truncation};

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn bytes_field(n: u64, b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(n << 3 | 2, &mut out);
        varint(b.len() as u64, &mut out);
        out.extend_from_slice(b);
        out
    }

    fn varint_field(n: u64, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(n << 3, &mut out);
        varint(v, &mut out);
        out
    }

    fn attr(name: &str, value: &str, id: u32, item: Option<Vec<u8>>) -> Vec<u8> {
        let mut a = bytes_field(1, ANDROID_NS.as_bytes());
        a.extend(bytes_field(2, name.as_bytes()));
        a.extend(bytes_field(3, value.as_bytes()));
        a.extend(varint_field(5, u64::from(id)));
        if let Some(i) = item {
            a.extend(bytes_field(6, &i));
        }
        a
    }

    fn element(name: &str, attrs: &[Vec<u8>], children: &[Vec<u8>]) -> Vec<u8> {
        let mut e = bytes_field(3, name.as_bytes());
        for a in attrs {
            e.extend(bytes_field(4, a));
        }
        for c in children {
            let mut node = bytes_field(1, c);
            node.extend(bytes_field(3, &varint_field(1, 7)));
            e.extend(bytes_field(5, &node));
        }
        e
    }

    fn sample() -> Vec<u8> {
        let prim_int = bytes_field(7, &varint_field(6, 42));
        let prim_bool = bytes_field(7, &varint_field(8, 1));
        let reference = bytes_field(1, &varint_field(2, 0x7f01_0000));
        let perm =
            element("uses-permission", &[attr("zz", "android.permission.CAMERA", 0x0101_0003, None)], &[]);
        let app = element(
            "application",
            &[
                attr("debuggable", "true", 0x0101_000f, Some(prim_bool)),
                attr("label", "@string/app", 0x0101_0001, Some(reference)),
            ],
            &[],
        );
        let mut manifest =
            element("manifest", &[attr("versionCode", "42", 0x0101_021b, Some(prim_int))], &[perm, app]);
        manifest.extend(bytes_field(4, &{
            let mut a = bytes_field(2, b"package");
            a.extend(bytes_field(3, b"com.example"));
            a
        }));
        bytes_field(1, &manifest)
    }

    #[test]
    fn decodes_elements_attributes_and_compiled_items() {
        let p = parse(&sample());
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let root = p.root.expect("root");
        assert_eq!(root.name, "manifest");
        assert_eq!(root.attr("package"), Some(&AttrValue::String("com.example".into())));
        assert_eq!(root.android_attr("versionCode"), Some(&AttrValue::IntDec(42)));
        let perm = &root.children[0];
        assert_eq!(perm.line, Some(7));
        // Name comes from the resource ID, not the (renamed) string.
        assert_eq!(perm.android_attr("name"), Some(&AttrValue::String("android.permission.CAMERA".into())));
        let app = &root.children[1];
        assert_eq!(app.android_attr("debuggable"), Some(&AttrValue::Bool(true)));
        assert_eq!(app.android_attr("label"), Some(&AttrValue::Reference(0x7f01_0000)));
    }

    #[test]
    fn old_primitive_form_is_read() {
        let prim = bytes_field(7, &[varint_field(1, 0x10), varint_field(2, 5)].concat());
        let m = element("manifest", &[attr("versionCode", "5", 0x0101_021b, Some(prim))], &[]);
        let root = parse(&bytes_field(1, &m)).root.expect("root");
        assert_eq!(root.android_attr("versionCode"), Some(&AttrValue::IntDec(5)));
    }

    #[test]
    fn truncation_corruption_and_depth_never_panic() {
        let data = sample();
        each_truncation(&data, |cut| drop(parse(cut)));
        each_flip(&data, &[0x00, 0x7f, 0x80, 0xff], |_, _, d| drop(parse(d)));
        let mut nested = element("leaf", &[], &[]);
        for _ in 0..(MAX_DEPTH + 20) {
            nested = element("e", &[], &[nested]);
        }
        let p = parse(&bytes_field(1, &nested));
        assert!(p.root.is_some());
        assert!(p.diagnostics.iter().any(|d| d.code == "proto_xml.limit_reached"));
        assert!(parse(&[0xff; 16]).root.is_none());
    }
}
