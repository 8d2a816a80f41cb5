//! Binary XML (AXML) writer, the format of a compiled AndroidManifest.xml and
//! res/xml/*.xml files.
//!
//! Output: ResXMLTree header (0x0003), a string pool, a resource map (0x0180)
//! giving the framework attribute id of the first N pool strings, then
//! start/end namespace (0x0100/0x0101) and start/end element (0x0102/0x0103)
//! chunks. Attributes carry a raw string (for string values) and a typed
//! Res_value. Attribute ids come from [`android_attribute_id`], checked
//! against the platform's core/res/res/values/public.xml.

use crate::string_pool;
use crate::zip::{put_u16, put_u32};

pub const ANDROID_NS: &str = "http://schemas.android.com/apk/res/android";
const NO_INDEX: u32 = 0xffff_ffff;

// Res_value data types.
pub const TYPE_REFERENCE: u8 = 0x01;
pub const TYPE_STRING: u8 = 0x03;
pub const TYPE_INT_DEC: u8 = 0x10;
pub const TYPE_INT_HEX: u8 = 0x11;
pub const TYPE_INT_BOOLEAN: u8 = 0x12;

/// Framework ids of the `android:` attributes the samples use
/// (R.attr values; public.xml in frameworks/base).
const ANDROID_ATTRIBUTES: &[(&str, u32)] = &[
    ("theme", 0x0101_0000),
    ("label", 0x0101_0001),
    ("icon", 0x0101_0002),
    ("name", 0x0101_0003),
    ("permission", 0x0101_0006),
    ("protectionLevel", 0x0101_0009),
    ("hasCode", 0x0101_000c),
    ("enabled", 0x0101_000e),
    ("debuggable", 0x0101_000f),
    ("exported", 0x0101_0010),
    ("authorities", 0x0101_0018),
    ("grantUriPermissions", 0x0101_001b),
    ("priority", 0x0101_001c),
    ("value", 0x0101_0024),
    ("minSdkVersion", 0x0101_020c),
    ("versionCode", 0x0101_021b),
    ("versionName", 0x0101_021c),
    ("targetSdkVersion", 0x0101_0270),
    ("maxSdkVersion", 0x0101_0271),
    ("allowBackup", 0x0101_0280),
    ("usesCleartextTraffic", 0x0101_04ec),
    ("networkSecurityConfig", 0x0101_0527),
    ("isFeatureSplit", 0x0101_055b),
];

/// The framework resource id of `android:<name>`, if the writer knows it.
pub fn android_attribute_id(name: &str) -> Option<u32> {
    ANDROID_ATTRIBUTES.iter().find(|(known, _)| *known == name).map(|&(_, id)| id)
}

/// A typed attribute value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i32),
    Hex(u32),
    Bool(bool),
    /// `@type/name` as a resource id, e.g. 0x7f010000.
    Reference(u32),
}

#[derive(Clone, Debug)]
pub struct Attribute {
    /// True for `android:` attributes (namespace + framework resource id).
    pub android: bool,
    pub name: String,
    pub value: Value,
}

/// An element of the document tree to encode.
#[derive(Clone, Debug)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Element>,
}

impl Element {
    pub fn new(name: &str) -> Self {
        Element { name: name.to_string(), attributes: Vec::new(), children: Vec::new() }
    }

    /// Adds `android:<name>`; panics on an attribute missing from the id table.
    pub fn android(mut self, name: &str, value: Value) -> Self {
        assert!(android_attribute_id(name).is_some(), "unknown android attribute {name}");
        self.attributes.push(Attribute { android: true, name: name.to_string(), value });
        self
    }

    /// `android:<name>="<text>"`.
    pub fn android_str(self, name: &str, text: &str) -> Self {
        self.android(name, Value::Str(text.to_string()))
    }

    /// Adds an attribute without namespace (e.g. `package`, `split`).
    pub fn plain(mut self, name: &str, value: Value) -> Self {
        self.attributes.push(Attribute { android: false, name: name.to_string(), value });
        self
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    pub fn children(mut self, children: impl IntoIterator<Item = Element>) -> Self {
        self.children.extend(children);
        self
    }
}

/// Encoding options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// UTF-8 string pool instead of the usual UTF-16 one.
    pub utf8: bool,
}

/// Encodes `root` as a binary XML document declaring the `android` namespace.
pub fn encode(root: &Element, options: Options) -> Vec<u8> {
    let mut pool = Pool::default();
    // Strings with a resource id come first, in the order of the resource map.
    let mut ids: Vec<(u32, String)> = Vec::new();
    collect_attribute_ids(root, &mut ids);
    ids.sort();
    ids.dedup();
    for (_, name) in &ids {
        pool.intern(name);
    }
    let prefix = pool.intern("android");
    let uri = pool.intern(ANDROID_NS);

    let mut body = Vec::new();
    let mut line = 1u32;
    namespace_chunk(&mut body, 0x0100, line, prefix, uri);
    write_element(&mut body, root, &mut pool, uri, &mut line);
    namespace_chunk(&mut body, 0x0101, line, prefix, uri);

    let pool_chunk = string_pool::encode(&pool.strings, options.utf8);
    let mut resource_map = Vec::new();
    put_u16(&mut resource_map, 0x0180);
    put_u16(&mut resource_map, 8);
    put_u32(&mut resource_map, 8 + 4 * ids.len() as u32);
    for (id, _) in &ids {
        put_u32(&mut resource_map, *id);
    }

    let total = 8 + pool_chunk.len() + resource_map.len() + body.len();
    let mut out = Vec::with_capacity(total);
    put_u16(&mut out, 0x0003);
    put_u16(&mut out, 8);
    put_u32(&mut out, total as u32);
    out.extend_from_slice(&pool_chunk);
    out.extend_from_slice(&resource_map);
    out.extend_from_slice(&body);
    out
}

/// Makes the string pool of an encoded document bogus: a string count far
/// beyond the chunk and a string offset pointing outside it.
pub fn corrupt_string_pool(axml: &mut [u8]) {
    // File header (8) + pool header: stringCount at +8, first offset at +28.
    let pool = 8;
    axml[pool + 8..pool + 12].copy_from_slice(&0x0fff_ffffu32.to_le_bytes());
    axml[pool + 28 + 4..pool + 28 + 8].copy_from_slice(&0xffff_ff00u32.to_le_bytes());
}

#[derive(Default)]
struct Pool {
    strings: Vec<String>,
}

impl Pool {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(at) = self.strings.iter().position(|s| s == text) {
            return at as u32;
        }
        self.strings.push(text.to_string());
        (self.strings.len() - 1) as u32
    }
}

fn collect_attribute_ids(element: &Element, ids: &mut Vec<(u32, String)>) {
    for attribute in element.attributes.iter().filter(|a| a.android) {
        let id = android_attribute_id(&attribute.name).expect("checked when added");
        ids.push((id, attribute.name.clone()));
    }
    for child in &element.children {
        collect_attribute_ids(child, ids);
    }
}

fn namespace_chunk(out: &mut Vec<u8>, chunk_type: u16, line: u32, prefix: u32, uri: u32) {
    put_u16(out, chunk_type);
    put_u16(out, 16);
    put_u32(out, 24);
    put_u32(out, line);
    put_u32(out, NO_INDEX);
    put_u32(out, prefix);
    put_u32(out, uri);
}

fn write_element(out: &mut Vec<u8>, element: &Element, pool: &mut Pool, uri: u32, line: &mut u32) {
    // aapt orders attributes by resource id; plain ones follow in source order.
    let mut attributes: Vec<&Attribute> = element.attributes.iter().collect();
    attributes.sort_by_key(|a| {
        if a.android {
            (0, android_attribute_id(&a.name).unwrap_or(u32::MAX))
        } else {
            (1, 0)
        }
    });
    let name = pool.intern(&element.name);
    put_u16(out, 0x0102);
    put_u16(out, 16);
    put_u32(out, 36 + 20 * attributes.len() as u32);
    put_u32(out, *line);
    put_u32(out, NO_INDEX);
    put_u32(out, NO_INDEX); // element namespace
    put_u32(out, name);
    put_u16(out, 20); // attributeStart
    put_u16(out, 20); // attributeSize
    put_u16(out, attributes.len() as u16);
    put_u16(out, 0); // idIndex
    put_u16(out, 0); // classIndex
    put_u16(out, 0); // styleIndex
    for attribute in attributes {
        let attribute_name = pool.intern(&attribute.name);
        put_u32(out, if attribute.android { uri } else { NO_INDEX });
        put_u32(out, attribute_name);
        let (raw, data_type, data) = match &attribute.value {
            Value::Str(text) => {
                let index = pool.intern(text);
                (index, TYPE_STRING, index)
            }
            Value::Int(v) => (NO_INDEX, TYPE_INT_DEC, *v as u32),
            Value::Hex(v) => (NO_INDEX, TYPE_INT_HEX, *v),
            Value::Bool(v) => (NO_INDEX, TYPE_INT_BOOLEAN, if *v { NO_INDEX } else { 0 }),
            Value::Reference(id) => (NO_INDEX, TYPE_REFERENCE, *id),
        };
        put_u32(out, raw);
        put_u16(out, 8);
        out.push(0);
        out.push(data_type);
        put_u32(out, data);
    }
    *line += 1;
    for child in &element.children {
        write_element(out, child, pool, uri, line);
    }
    put_u16(out, 0x0103);
    put_u16(out, 16);
    put_u32(out, 24);
    put_u32(out, *line);
    put_u32(out, NO_INDEX);
    put_u32(out, NO_INDEX);
    put_u32(out, name);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_map_matches_leading_strings() {
        let doc = Element::new("manifest")
            .plain("package", Value::Str("a.b".into()))
            .android("versionCode", Value::Int(3))
            .child(Element::new("uses-sdk").android("minSdkVersion", Value::Int(24)));
        let bytes = encode(&doc, Options::default());
        assert_eq!(&bytes[..2], &[0x03, 0x00]);
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize, bytes.len());
        let pool_size = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
        let map = 8 + pool_size;
        assert_eq!(&bytes[map..map + 2], &[0x80, 0x01]);
        // minSdkVersion (0x0101020c) sorts before versionCode (0x0101021b).
        assert_eq!(&bytes[map + 8..map + 12], &0x0101_020cu32.to_le_bytes());
        assert_eq!(&bytes[map + 12..map + 16], &0x0101_021bu32.to_le_bytes());
    }
}
