//! DEX (version 035) writer for code-less demo dex files.
//!
//! Writes the header, string_ids, type_ids, proto_ids, field_ids, method_ids
//! and class_defs, then a data section of type_lists, string_data (MUTF-8)
//! and the map_list. Classes have no class_data (no code), which the format
//! allows. Tables are sorted the way the ART verifier demands; the Adler-32
//! checksum and SHA-1 signature are filled in last.

use sha1::{Digest, Sha1};

use crate::zip::{put_u16, put_u32};

const HEADER_SIZE: u32 = 0x70;
const NO_INDEX: u32 = 0xffff_ffff;
pub const ACC_PUBLIC: u32 = 0x1;
pub const ACC_FINAL: u32 = 0x10;

/// A class defined in the dex (without code).
#[derive(Clone, Debug)]
pub struct ClassDef {
    pub descriptor: String,
    pub superclass: String,
    pub access_flags: u32,
    pub source_file: Option<String>,
}

/// A method referenced or declared: `class->name(params)return`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MethodRef {
    pub class: String,
    pub name: String,
    pub params: Vec<String>,
    pub return_type: String,
}

/// A field referenced or declared: `class->name:type`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldRef {
    pub class: String,
    pub name: String,
    pub field_type: String,
}

/// What goes into one dex file.
#[derive(Clone, Debug, Default)]
pub struct DexSpec {
    pub classes: Vec<ClassDef>,
    pub methods: Vec<MethodRef>,
    pub fields: Vec<FieldRef>,
    /// Extra constant strings (URLs, keys ...).
    pub strings: Vec<String>,
}

impl DexSpec {
    pub fn class(&mut self, descriptor: &str, superclass: &str) -> &mut Self {
        self.classes.push(ClassDef {
            descriptor: descriptor.to_string(),
            superclass: superclass.to_string(),
            access_flags: ACC_PUBLIC,
            source_file: None,
        });
        self
    }

    /// Adds a method reference written as `Lcls;->name(params)ret`.
    pub fn method(&mut self, signature: &str) -> &mut Self {
        self.methods.push(parse_method(signature));
        self
    }

    /// Adds a field reference written as `Lcls;->name:type`.
    pub fn field(&mut self, signature: &str) -> &mut Self {
        let (class, rest) = signature.split_once("->").expect("Lcls;->name:type");
        let (name, field_type) = rest.split_once(':').expect("name:type");
        self.fields.push(FieldRef {
            class: class.to_string(),
            name: name.to_string(),
            field_type: field_type.to_string(),
        });
        self
    }

    pub fn string(&mut self, text: &str) -> &mut Self {
        self.strings.push(text.to_string());
        self
    }
}

fn parse_method(signature: &str) -> MethodRef {
    let (class, rest) = signature.split_once("->").expect("Lcls;->name(...)R");
    let (name, rest) = rest.split_once('(').expect("parameter list");
    let (params, return_type) = rest.split_once(')').expect("closing paren");
    MethodRef {
        class: class.to_string(),
        name: name.to_string(),
        params: split_descriptors(params),
        return_type: return_type.to_string(),
    }
}

fn split_descriptors(mut list: &str) -> Vec<String> {
    let mut out = Vec::new();
    while !list.is_empty() {
        let dims = list.bytes().take_while(|&b| b == b'[').count();
        let end = if list.as_bytes()[dims] == b'L' {
            list.find(';').expect("class descriptor ends with ;") + 1
        } else {
            dims + 1
        };
        out.push(list[..end].to_string());
        list = &list[end..];
    }
    out
}

fn shorty_char(descriptor: &str) -> char {
    match descriptor.as_bytes()[0] {
        b'L' | b'[' => 'L',
        other => other as char,
    }
}

/// Orders strings the way dex requires: by UTF-16 code units.
fn utf16_key(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// Modified UTF-8: NUL as C0 80, supplementary characters as two 3-byte
/// surrogates.
pub fn mutf8(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for unit in s.encode_utf16() {
        match unit {
            0x0001..=0x007f => out.push(unit as u8),
            0x0000 | 0x0080..=0x07ff => {
                out.push(0xc0 | (unit >> 6) as u8);
                out.push(0x80 | (unit & 0x3f) as u8);
            }
            _ => {
                out.push(0xe0 | (unit >> 12) as u8);
                out.push(0x80 | ((unit >> 6) & 0x3f) as u8);
                out.push(0x80 | (unit & 0x3f) as u8);
            }
        }
    }
    out
}

fn uleb128(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Proto {
    return_type: u32,
    params: Vec<u32>,
    shorty: u32,
}

/// Builds a complete dex file from `spec`.
pub fn build(spec: &DexSpec) -> Vec<u8> {
    // Every type and string that the tables will reference.
    let mut types: Vec<String> = Vec::new();
    for class in &spec.classes {
        types.push(class.descriptor.clone());
        types.push(class.superclass.clone());
    }
    for method in &spec.methods {
        types.push(method.class.clone());
        types.push(method.return_type.clone());
        types.extend(method.params.iter().cloned());
    }
    for field in &spec.fields {
        types.push(field.class.clone());
        types.push(field.field_type.clone());
    }
    let shorty = |m: &MethodRef| -> String {
        std::iter::once(shorty_char(&m.return_type)).chain(m.params.iter().map(|p| shorty_char(p))).collect()
    };
    let mut strings: Vec<String> = types.clone();
    strings.extend(spec.methods.iter().map(|m| m.name.clone()));
    strings.extend(spec.methods.iter().map(shorty));
    strings.extend(spec.fields.iter().map(|f| f.name.clone()));
    strings.extend(spec.strings.iter().cloned());
    strings.extend(spec.classes.iter().filter_map(|c| c.source_file.clone()));
    strings.sort_by_key(|s| utf16_key(s));
    strings.dedup();
    types.sort_by_key(|s| utf16_key(s));
    types.dedup();

    let string_index = |s: &str| -> u32 {
        strings.binary_search_by_key(&utf16_key(s), |x| utf16_key(x)).expect("string collected") as u32
    };
    // Types sorted by descriptor are also sorted by string index.
    let type_index = |s: &str| -> u32 {
        types.binary_search_by_key(&utf16_key(s), |x| utf16_key(x)).expect("type collected") as u32
    };

    let mut protos: Vec<Proto> = spec
        .methods
        .iter()
        .map(|m| Proto {
            return_type: type_index(&m.return_type),
            params: m.params.iter().map(|p| type_index(p)).collect(),
            shorty: string_index(&shorty(m)),
        })
        .collect();
    protos.sort();
    protos.dedup();
    let proto_index = |m: &MethodRef| -> u32 {
        let return_type = type_index(&m.return_type);
        let params: Vec<u32> = m.params.iter().map(|p| type_index(p)).collect();
        protos
            .iter()
            .position(|p| p.return_type == return_type && p.params == params)
            .expect("proto collected") as u32
    };

    let mut fields: Vec<(u32, u32, u32)> = spec
        .fields
        .iter()
        .map(|f| (type_index(&f.class), string_index(&f.name), type_index(&f.field_type)))
        .collect();
    fields.sort();
    fields.dedup();

    let mut methods: Vec<(u32, u32, u32)> =
        spec.methods.iter().map(|m| (type_index(&m.class), string_index(&m.name), proto_index(m))).collect();
    methods.sort();
    methods.dedup();

    let mut classes: Vec<&ClassDef> = spec.classes.iter().collect();
    classes.sort_by_key(|c| type_index(&c.descriptor));

    // Layout of the fixed-size tables.
    let string_ids_off = HEADER_SIZE;
    let type_ids_off = string_ids_off + 4 * strings.len() as u32;
    let proto_ids_off = type_ids_off + 4 * types.len() as u32;
    let field_ids_off = proto_ids_off + 12 * protos.len() as u32;
    let method_ids_off = field_ids_off + 8 * fields.len() as u32;
    let class_defs_off = method_ids_off + 8 * methods.len() as u32;
    let data_off = class_defs_off + 32 * classes.len() as u32;

    // Data section: type_lists (4-aligned), string data, map_list.
    let mut data = Vec::new();
    let mut type_list_offsets = Vec::with_capacity(protos.len());
    let mut type_list_count = 0u32;
    for proto in &protos {
        if proto.params.is_empty() {
            type_list_offsets.push(0);
            continue;
        }
        while !data.len().is_multiple_of(4) {
            data.push(0);
        }
        type_list_offsets.push(data_off + data.len() as u32);
        type_list_count += 1;
        put_u32(&mut data, proto.params.len() as u32);
        for &param in &proto.params {
            put_u16(&mut data, param as u16);
        }
    }
    let type_lists_off = if type_list_count > 0 {
        type_list_offsets.iter().copied().find(|&o| o != 0).unwrap_or(0)
    } else {
        0
    };
    let string_data_off = data_off + data.len() as u32;
    let mut string_data_offsets = Vec::with_capacity(strings.len());
    for s in &strings {
        string_data_offsets.push(data_off + data.len() as u32);
        uleb128(&mut data, s.encode_utf16().count() as u32);
        data.extend_from_slice(&mutf8(s));
        data.push(0);
    }
    while !data.len().is_multiple_of(4) {
        data.push(0);
    }
    let map_off = data_off + data.len() as u32;

    let mut map_items: Vec<(u16, u32, u32)> = vec![(0x0000, 1, 0)];
    let tables = [
        (0x0001, strings.len(), string_ids_off),
        (0x0002, types.len(), type_ids_off),
        (0x0003, protos.len(), proto_ids_off),
        (0x0004, fields.len(), field_ids_off),
        (0x0005, methods.len(), method_ids_off),
        (0x0006, classes.len(), class_defs_off),
    ];
    for (kind, count, offset) in tables {
        if count > 0 {
            map_items.push((kind, count as u32, offset));
        }
    }
    if type_list_count > 0 {
        map_items.push((0x1001, type_list_count, type_lists_off));
    }
    if !strings.is_empty() {
        map_items.push((0x2002, strings.len() as u32, string_data_off));
    }
    map_items.push((0x1000, 1, map_off));
    put_u32(&mut data, map_items.len() as u32);
    for (kind, count, offset) in &map_items {
        put_u16(&mut data, *kind);
        put_u16(&mut data, 0);
        put_u32(&mut data, *count);
        put_u32(&mut data, *offset);
    }

    let file_size = data_off + data.len() as u32;
    let mut out = Vec::with_capacity(file_size as usize);
    out.extend_from_slice(b"dex\n035\0");
    out.resize(32, 0); // checksum and signature, filled in below
    let offset_or_zero = |count: usize, offset: u32| if count == 0 { 0 } else { offset };
    for value in [
        file_size,
        HEADER_SIZE,
        0x1234_5678, // endian tag
        0,
        0, // link
        map_off,
        strings.len() as u32,
        offset_or_zero(strings.len(), string_ids_off),
        types.len() as u32,
        offset_or_zero(types.len(), type_ids_off),
        protos.len() as u32,
        offset_or_zero(protos.len(), proto_ids_off),
        fields.len() as u32,
        offset_or_zero(fields.len(), field_ids_off),
        methods.len() as u32,
        offset_or_zero(methods.len(), method_ids_off),
        classes.len() as u32,
        offset_or_zero(classes.len(), class_defs_off),
        file_size - data_off,
        data_off,
    ] {
        put_u32(&mut out, value);
    }
    debug_assert_eq!(out.len() as u32, HEADER_SIZE);
    for offset in &string_data_offsets {
        put_u32(&mut out, *offset);
    }
    for t in &types {
        put_u32(&mut out, string_index(t));
    }
    for (proto, type_list) in protos.iter().zip(&type_list_offsets) {
        put_u32(&mut out, proto.shorty);
        put_u32(&mut out, proto.return_type);
        put_u32(&mut out, *type_list);
    }
    for &(class, name, field_type) in &fields {
        put_u16(&mut out, class as u16);
        put_u16(&mut out, field_type as u16);
        put_u32(&mut out, name);
    }
    for &(class, name, proto) in &methods {
        put_u16(&mut out, class as u16);
        put_u16(&mut out, proto as u16);
        put_u32(&mut out, name);
    }
    for class in classes {
        put_u32(&mut out, type_index(&class.descriptor));
        put_u32(&mut out, class.access_flags);
        put_u32(&mut out, type_index(&class.superclass));
        put_u32(&mut out, 0); // interfaces
        put_u32(&mut out, class.source_file.as_deref().map_or(NO_INDEX, &string_index));
        put_u32(&mut out, 0); // annotations
        put_u32(&mut out, 0); // class_data: none, the class has no code
        put_u32(&mut out, 0); // static values
    }
    debug_assert_eq!(out.len() as u32, data_off);
    out.extend_from_slice(&data);
    fix_checksums(&mut out);
    out
}

/// Recomputes the SHA-1 signature (over bytes 32..) and then the Adler-32
/// checksum (over bytes 12..) of a dex file, in that order since the checksum
/// covers the signature.
pub fn fix_checksums(dex: &mut [u8]) {
    let signature = Sha1::digest(&dex[32..]);
    dex[12..32].copy_from_slice(&signature);
    let checksum = adler32(&dex[12..]);
    dex[8..12].copy_from_slice(&checksum.to_le_bytes());
}

pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Header field offsets used by the malformed samples.
pub mod header {
    pub const FILE_SIZE: usize = 0x20;
    pub const STRING_IDS_SIZE: usize = 0x38;
    pub const STRING_IDS_OFF: usize = 0x3c;
    pub const METHOD_IDS_SIZE: usize = 0x58;
    pub const METHOD_IDS_OFF: usize = 0x5c;
    pub const CLASS_DEFS_SIZE: usize = 0x60;
    pub const CLASS_DEFS_OFF: usize = 0x64;
    pub const DATA_SIZE: usize = 0x68;
    pub const DATA_OFF: usize = 0x6c;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adler32_known_value() {
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn mutf8_encodes_nul_and_supplementary() {
        assert_eq!(mutf8("a\0"), vec![b'a', 0xc0, 0x80]);
        assert_eq!(mutf8("\u{1F600}").len(), 6);
    }

    #[test]
    fn builds_sorted_tables() {
        let mut spec = DexSpec::default();
        spec.class("Lb/B;", "Ljava/lang/Object;")
            .class("La/A;", "Ljava/lang/Object;")
            .method("La/A;->run(ILjava/lang/String;)V")
            .field("La/A;->x:I")
            .string("https://example.org");
        let dex = build(&spec);
        assert_eq!(&dex[..8], b"dex\n035\0");
        let file_size = u32::from_le_bytes(dex[0x20..0x24].try_into().unwrap());
        assert_eq!(file_size as usize, dex.len());
        assert_eq!(u32::from_le_bytes(dex[8..12].try_into().unwrap()), adler32(&dex[12..]));
    }
}
