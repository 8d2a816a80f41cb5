//! Unit tests over hand-built DEX files: a tiny builder writes a valid file,
//! and the malformed cases are made by corrupting its bytes.

use super::*;
use crate::test_support::{each_flip, each_truncation};

/// Writes a minimal but structurally valid DEX.
#[derive(Default)]
struct DexBuilder {
    strings: Vec<Vec<u8>>,
    types: Vec<u32>,
    /// (shorty, return type, parameter types)
    protos: Vec<(u32, u32, Vec<u16>)>,
    /// (class, type, name)
    fields: Vec<(u16, u16, u32)>,
    /// (class, proto, name)
    methods: Vec<(u16, u16, u32)>,
    /// (class, superclass, interfaces)
    classes: Vec<(u32, u32, Vec<u16>)>,
    /// 0 for the classic 0x70 bytes; v41 needs 0x78.
    header_len: usize,
}

fn put_u32(out: &mut [u8], at: usize, value: u32) {
    out[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

fn uleb(mut value: u32, out: &mut Vec<u8>) {
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

impl DexBuilder {
    fn string(&mut self, s: &str) -> u32 {
        self.strings.push(s.as_bytes().to_vec());
        (self.strings.len() - 1) as u32
    }

    fn ty(&mut self, descriptor: &str) -> u32 {
        let s = self.string(descriptor);
        self.types.push(s);
        (self.types.len() - 1) as u32
    }

    fn build(&self) -> Vec<u8> {
        let header_len = self.header_len.max(HEADER_SIZE);
        let mut out = vec![0u8; header_len];
        out[..8].copy_from_slice(b"dex\n035\0");
        let table = |out: &mut Vec<u8>, count: usize, size: usize| {
            let off = out.len();
            out.resize(off + count * size, 0);
            off
        };
        let string_ids = table(&mut out, self.strings.len(), 4);
        let type_ids = table(&mut out, self.types.len(), 4);
        let proto_ids = table(&mut out, self.protos.len(), 12);
        let field_ids = table(&mut out, self.fields.len(), 8);
        let method_ids = table(&mut out, self.methods.len(), 8);
        let class_defs = table(&mut out, self.classes.len(), 32);
        let data_off = out.len();
        for (i, s) in self.strings.iter().enumerate() {
            let at = out.len() as u32;
            put_u32(&mut out, string_ids + 4 * i, at);
            uleb(s.len() as u32, &mut out);
            out.extend_from_slice(s);
            out.push(0);
        }
        for (i, &t) in self.types.iter().enumerate() {
            put_u32(&mut out, type_ids + 4 * i, t);
        }
        let type_list = |out: &mut Vec<u8>, items: &[u16]| -> u32 {
            if items.is_empty() {
                return 0;
            }
            while !out.len().is_multiple_of(4) {
                out.push(0);
            }
            let at = out.len();
            out.extend_from_slice(&(items.len() as u32).to_le_bytes());
            for item in items {
                out.extend_from_slice(&item.to_le_bytes());
            }
            at as u32
        };
        for (i, (shorty, ret, params)) in self.protos.iter().enumerate() {
            let params_off = type_list(&mut out, params);
            let at = proto_ids + 12 * i;
            put_u32(&mut out, at, *shorty);
            put_u32(&mut out, at + 4, *ret);
            put_u32(&mut out, at + 8, params_off);
        }
        for (i, (a, b, name)) in self.fields.iter().enumerate() {
            let at = field_ids + 8 * i;
            out[at..at + 2].copy_from_slice(&a.to_le_bytes());
            out[at + 2..at + 4].copy_from_slice(&b.to_le_bytes());
            put_u32(&mut out, at + 4, *name);
        }
        for (i, (a, b, name)) in self.methods.iter().enumerate() {
            let at = method_ids + 8 * i;
            out[at..at + 2].copy_from_slice(&a.to_le_bytes());
            out[at + 2..at + 4].copy_from_slice(&b.to_le_bytes());
            put_u32(&mut out, at + 4, *name);
        }
        for (i, (class, superclass, interfaces)) in self.classes.iter().enumerate() {
            let interfaces_off = type_list(&mut out, interfaces);
            let at = class_defs + 32 * i;
            put_u32(&mut out, at, *class);
            put_u32(&mut out, at + 4, 1);
            put_u32(&mut out, at + 8, *superclass);
            put_u32(&mut out, at + 12, interfaces_off);
            put_u32(&mut out, at + 16, NO_INDEX);
        }
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        let map_off = out.len();
        let items: Vec<(u16, usize, usize)> = vec![
            (0x0000, 1, 0),
            (0x0001, self.strings.len(), string_ids),
            (0x0002, self.types.len(), type_ids),
            (0x0003, self.protos.len(), proto_ids),
            (0x0004, self.fields.len(), field_ids),
            (0x0005, self.methods.len(), method_ids),
            (0x0006, self.classes.len(), class_defs),
            (0x1000, 1, map_off),
        ];
        let items: Vec<_> = items.into_iter().filter(|i| i.1 > 0).collect();
        out.extend_from_slice(&(items.len() as u32).to_le_bytes());
        for (kind, size, off) in &items {
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(*size as u32).to_le_bytes());
            out.extend_from_slice(&(*off as u32).to_le_bytes());
        }
        let len = out.len();
        let fields: [(usize, usize); 13] = [
            (32, len),
            (36, header_len),
            (40, 0x1234_5678),
            (52, map_off),
            (56, self.strings.len()),
            (64, self.types.len()),
            (72, self.protos.len()),
            (80, self.fields.len()),
            (88, self.methods.len()),
            (96, self.classes.len()),
            (104, len - data_off),
            (108, data_off),
            (0, 0),
        ];
        for (at, value) in fields.iter().filter(|f| f.0 != 0) {
            put_u32(&mut out, *at, *value as u32);
        }
        let offsets = [
            (60, string_ids, self.strings.len()),
            (68, type_ids, self.types.len()),
            (76, proto_ids, self.protos.len()),
            (84, field_ids, self.fields.len()),
            (92, method_ids, self.methods.len()),
            (100, class_defs, self.classes.len()),
        ];
        for (at, off, count) in offsets {
            put_u32(&mut out, at, if count == 0 { 0 } else { off as u32 });
        }
        fix_checksums(&mut out);
        out
    }
}

fn fix_checksums(out: &mut [u8]) {
    use sha1::{Digest, Sha1};
    let signature = Sha1::digest(&out[32..]);
    out[12..32].copy_from_slice(&signature);
    let checksum = adler2::adler32_slice(&out[12..]);
    put_u32(out, 8, checksum);
}

/// A small app-like DEX: one tracker class calling a location API.
fn sample() -> Vec<u8> {
    sample_with_header(HEADER_SIZE)
}

fn sample_with_header(header_len: usize) -> Vec<u8> {
    let mut b = DexBuilder { header_len, ..DexBuilder::default() };
    let object = b.ty("Ljava/lang/Object;");
    let agent = b.ty("Lcom/umeng/analytics/MobclickAgent;");
    let location_manager = b.ty("Landroid/location/LocationManager;");
    let location = b.ty("Landroid/location/Location;");
    let string = b.ty("Ljava/lang/String;");
    let runnable = b.ty("Ljava/lang/Runnable;");
    let shorty = b.string("LL");
    let get_last = b.string("getLastKnownLocation");
    let field_name = b.string("sKey");
    let nul_name = b.string("");
    b.strings[nul_name as usize] = vec![b'a', 0xc0, 0x80, b'b'];
    b.protos.push((shorty, location, vec![string as u16]));
    b.methods.push((location_manager as u16, 0, get_last));
    b.fields.push((agent as u16, string as u16, field_name));
    b.classes.push((agent, object, vec![runnable as u16]));
    b.build()
}

fn codes<'d>(dex: &'d DexFile<'_>) -> Vec<&'d str> {
    dex.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn reads_a_well_formed_file() {
    let bytes = sample();
    let opts = ParseOptions { verify_checksum: true, verify_signature: true };
    let dex = parse_with(&bytes, &opts).unwrap();
    assert!(dex.diagnostics.is_empty(), "{:?}", dex.diagnostics);
    assert_eq!(dex.version, "035");
    assert_eq!(dex.kind, DexKind::Standard);
    assert_eq!(dex.header.string_ids_size, 10);
    assert_eq!(dex.header.type_ids_size, 6);
    assert_eq!(dex.header.method_ids_size, 1);
    assert_eq!(dex.header.class_defs_size, 1);
    let classes: Vec<_> = dex.class_names().collect();
    assert_eq!(classes, ["Lcom/umeng/analytics/MobclickAgent;"]);
    let methods: Vec<String> = dex.method_refs().map(|m| m.to_string()).collect();
    assert_eq!(methods, ["Landroid/location/LocationManager;->getLastKnownLocation"]);
    assert_eq!(dex.proto_descriptor(0).as_deref(), Some("(Ljava/lang/String;)Landroid/location/Location;"));
    let fields: Vec<String> = dex.field_refs().map(|f| f.to_string()).collect();
    assert_eq!(fields, ["Lcom/umeng/analytics/MobclickAgent;->sKey"]);
    let class = dex.class_def(0).unwrap();
    assert_eq!(dex.superclass(&class).as_deref(), Some("Ljava/lang/Object;"));
    let interfaces: Vec<_> = dex.interfaces(&class).collect();
    assert_eq!(interfaces, ["Ljava/lang/Runnable;"]);
    assert_eq!(dex.source_file(&class), None);
    assert_eq!(dex.string(9).as_deref(), Some("a\0b"));
    assert_eq!(dex.strings().count(), 10);
    assert_eq!(dex.summary("classes.dex", true).methods, 1);
}

#[test]
fn rejects_non_dex_and_unreadable_headers() {
    assert_eq!(parse(b"PK\x03\x04").unwrap_err(), DexError::NotDex);
    assert_eq!(parse(b"").unwrap_err(), DexError::NotDex);
    assert_eq!(parse(b"dex\n03x\0").unwrap_err(), DexError::NotDex);
    let bytes = sample();
    assert!(matches!(parse(&bytes[..0x40]), Err(DexError::TruncatedHeader { .. })));
}

#[test]
fn flags_bad_checksum_and_signature() {
    let mut bytes = sample();
    let last = bytes.len() - 20;
    bytes[last] ^= 0xff;
    let opts = ParseOptions { verify_checksum: true, verify_signature: true };
    let dex = parse_with(&bytes, &opts).unwrap();
    let codes = codes(&dex);
    assert!(codes.contains(&"dex.bad_checksum"));
    assert!(codes.contains(&"dex.bad_signature"));
}

#[test]
fn truncated_file_keeps_counts_and_reads_what_is_there() {
    let bytes = sample();
    // Cut inside the string data: tables survive, some strings do not.
    for cut in [HEADER_SIZE, HEADER_SIZE + 8, 200, 300, bytes.len() - 1] {
        let dex = parse(&bytes[..cut]).unwrap();
        assert_eq!(dex.header.string_ids_size, 10, "cut {cut}");
        assert!(codes(&dex).contains(&"dex.truncated"), "cut {cut}");
        let _ = dex.strings().count();
        let _ = dex.method_refs().count();
        let _ = dex.field_refs().count();
        let _ = dex.class_names().count();
        for c in dex.class_defs() {
            let _ = dex.interfaces(&c).count();
        }
    }
    let dex = parse(&bytes[..HEADER_SIZE + 8]).unwrap();
    assert_eq!(dex.string_count(), 2);
    assert!(codes(&dex).contains(&"dex.table_out_of_bounds"));
}

#[test]
fn dex_inside_a_larger_buffer_warns() {
    let mut bytes = sample();
    bytes.extend_from_slice(&[0xaa; 64]);
    let dex = parse(&bytes).unwrap();
    assert_eq!(codes(&dex), ["dex.trailing_data"]);
    assert_eq!(dex.class_names().count(), 1);
}

#[test]
fn bogus_indexes_give_diagnostics_not_panics() {
    let mut b = DexBuilder::default();
    let object = b.ty("Ljava/lang/Object;");
    let name = b.string("run");
    b.methods.push((40_000, 7, 999));
    b.fields.push((500, 0, name));
    b.protos.push((500, 600, vec![9000]));
    b.classes.push((1234, 4321, vec![5555]));
    b.classes.push((object, NO_INDEX, vec![]));
    b.types.push(99_999);
    let bytes = b.build();
    let dex = parse(&bytes).unwrap();
    let bad: Vec<_> = dex
        .diagnostics
        .iter()
        .filter(|d| d.code == "dex.bad_index")
        .filter_map(|d| d.location.as_deref())
        .collect();
    assert_eq!(bad, ["type_ids", "proto_ids", "field_ids", "method_ids", "class_defs"]);
    assert_eq!(dex.method_refs().count(), 0);
    assert_eq!(dex.field_refs().count(), 0);
    assert_eq!(dex.proto_descriptor(0), None);
    assert_eq!(dex.type_descriptor(1), None);
    let classes: Vec<_> = dex.class_names().collect();
    assert_eq!(classes, ["Ljava/lang/Object;"]);
    let first = dex.class_def(0).unwrap();
    assert_eq!(dex.superclass(&first), None);
    assert_eq!(dex.interfaces(&first).count(), 0);
}

#[test]
fn hostile_header_counts_are_capped_by_the_file() {
    let mut bytes = sample();
    for at in [56, 64, 72, 80, 88, 96] {
        put_u32(&mut bytes, at, u32::MAX);
    }
    put_u32(&mut bytes, 60, u32::MAX - 2);
    let dex = parse(&bytes).unwrap();
    assert_eq!(dex.header.method_ids_size, u32::MAX);
    assert_eq!(dex.string_count(), 0);
    assert!(dex.method_count() < 1000);
    let _ = dex.method_refs().count();
    let _ = dex.class_names().count();
    assert!(codes(&dex).contains(&"dex.table_out_of_bounds"));
    assert!(codes(&dex).contains(&"dex.map_mismatch"));
}

#[test]
fn string_without_terminator_is_cut_at_end_of_data() {
    let mut b = DexBuilder::default();
    b.string("abc");
    let mut bytes = b.build();
    // Point string 0 at the last byte of the file, beyond any NUL.
    let last = bytes.len() as u32 - 2;
    put_u32(&mut bytes, HEADER_SIZE, last);
    let dex = parse(&bytes).unwrap();
    assert!(dex.string(0).is_some());
    put_u32(&mut bytes, HEADER_SIZE, u32::MAX);
    let dex = parse(&bytes).unwrap();
    assert_eq!(dex.string(0), None);
    assert!(codes(&dex).contains(&"dex.bad_string_offset"));
}

/// Found by fuzzing (a mutated DEX whose string offsets point into code):
/// every lookup of such a string scanned up to the 1 MiB cap for a NUL. The
/// declared UTF-16 length bounds the search, as MUTF-8 takes at most three
/// bytes per unit.
#[test]
fn string_search_stops_at_three_bytes_per_declared_unit() {
    let mut b = DexBuilder::default();
    b.string("abc");
    let mut bytes = b.build();
    // Append a string that declares 2 units and is followed by 4 KiB with no NUL.
    let at = bytes.len() as u32;
    bytes.push(2);
    bytes.extend(std::iter::repeat_n(b'x', 4096));
    put_u32(&mut bytes, HEADER_SIZE, at);
    let dex = parse(&bytes).unwrap();
    assert_eq!(dex.string_bytes(0), Some(&b"xxxxxx"[..]));
    // A well-formed string is read to its NUL as before.
    let dex_ok = b.build();
    assert_eq!(parse(&dex_ok).unwrap().string(0).as_deref(), Some("abc"));
}

#[test]
fn unknown_version_bad_endian_and_map_problems() {
    let mut bytes = sample();
    bytes[4..7].copy_from_slice(b"099");
    put_u32(&mut bytes, 40, 0xdead_beef);
    put_u32(&mut bytes, 52, 0);
    fix_checksums(&mut bytes);
    let dex = parse(&bytes).unwrap();
    assert_eq!(dex.version, "099");
    assert_eq!(codes(&dex), ["dex.unknown_version", "dex.bad_endian_tag", "dex.no_map"]);

    let mut bytes = sample();
    put_u32(&mut bytes, 40, header::REVERSE_ENDIAN_CONSTANT);
    fix_checksums(&mut bytes);
    let dex = parse(&bytes).unwrap();
    assert_eq!(codes(&dex), ["dex.big_endian"]);
    assert_eq!(dex.class_names().count(), 0);

    let mut bytes = sample();
    let map_off = u32::from_le_bytes(bytes[52..56].try_into().unwrap()) as usize;
    put_u32(&mut bytes, map_off, 100_000);
    fix_checksums(&mut bytes);
    assert!(codes(&parse(&bytes).unwrap()).contains(&"dex.map_truncated"));
}

#[test]
fn appended_payload_after_map_is_reported() {
    let mut bytes = sample();
    bytes.extend_from_slice(&[0x55; 100]);
    let len = bytes.len() as u32;
    put_u32(&mut bytes, 32, len);
    fix_checksums(&mut bytes);
    let dex = parse(&bytes).unwrap();
    assert_eq!(codes(&dex), ["dex.data_past_map"]);
}

#[test]
fn compact_and_container_formats_are_recognised() {
    let mut bytes = sample();
    bytes[..8].copy_from_slice(b"cdex001\0");
    let dex = parse(&bytes).unwrap();
    assert_eq!(dex.kind, DexKind::Compact);
    assert_eq!(dex.header.string_ids_size, 10);
    assert!(codes(&dex).contains(&"dex.compact_dex"));

    // Two v41 DEX files back to back form a container.
    let mut one = sample_with_header(header::HEADER_SIZE_V41);
    one[4..7].copy_from_slice(b"041");
    let size = one.len();
    let mut container = one.clone();
    container.extend_from_slice(&one);
    for (start, header_offset) in [(0, 0), (size, size)] {
        put_u32(&mut container, start + 0x70, 2 * size as u32);
        put_u32(&mut container, start + 0x74, header_offset as u32);
    }
    fix_checksums(&mut container[..size]);
    let dex = parse(&container).unwrap();
    assert_eq!(dex.kind, DexKind::Container);
    assert_eq!(dex.header.container_size, Some(2 * size as u32));
    assert_eq!(dex.container_dex_count, 2);
    assert_eq!(codes(&dex), ["dex.container"]);
    assert_eq!(dex.class_names().count(), 1);
}

#[test]
fn every_prefix_and_byte_flip_is_survivable() {
    let bytes = sample();
    each_truncation(&bytes, |cut| {
        if let Ok(dex) = parse(cut) {
            let _ = dex.strings().count();
            let _ = dex.method_refs().count();
            let _ = dex.class_names().count();
        }
    });
    each_flip(&bytes, &[0x00, 0xff, 0x80], |_, _, copy| {
        if let Ok(dex) = parse(copy) {
            let _ = dex.strings().count();
            dex.method_refs().for_each(|m| drop(m.to_string()));
            let _ = dex.field_refs().count();
            for c in dex.class_defs() {
                let _ = dex.interfaces(&c).count();
                let _ = dex.superclass(&c);
            }
            for p in 0..dex.proto_count() {
                let _ = dex.proto_descriptor(p);
            }
        }
    });
}
