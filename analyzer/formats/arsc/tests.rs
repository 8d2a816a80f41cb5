//! Hand-built resource tables, including the aapt2 sparse / offset16 /
//! compact encodings and corrupt inputs.

use super::*;
use crate::formats::axml::string_pool::build_pool;
use crate::test_support::{each_flip, each_truncation};

fn chunk(ty: u16, header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&((8 + header.len()) as u16).to_le_bytes());
    out.extend_from_slice(&((8 + header.len() + body.len()) as u32).to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(body);
    out
}

fn config(language: Option<&[u8; 2]>) -> Vec<u8> {
    let mut c = vec![0u8; 64];
    c[0..4].copy_from_slice(&64u32.to_le_bytes());
    if let Some(l) = language {
        c[8..10].copy_from_slice(l);
    }
    c
}

/// Full entry (8 bytes) + Res_value.
fn full_entry(key: u32, data_type: u8, data: u32) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&8u16.to_le_bytes());
    e.extend_from_slice(&0u16.to_le_bytes());
    e.extend_from_slice(&key.to_le_bytes());
    e.extend_from_slice(&8u16.to_le_bytes());
    e.push(0);
    e.push(data_type);
    e.extend_from_slice(&data.to_le_bytes());
    e
}

fn compact_entry(key: u16, data_type: u8, data: u32) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&key.to_le_bytes());
    e.extend_from_slice(&((u16::from(data_type) << 8) | ENTRY_FLAG_COMPACT).to_le_bytes());
    e.extend_from_slice(&data.to_le_bytes());
    e
}

fn complex_entry(key: u32) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&16u16.to_le_bytes());
    e.extend_from_slice(&ENTRY_FLAG_COMPLEX.to_le_bytes());
    e.extend_from_slice(&key.to_le_bytes());
    e.extend_from_slice(&0u32.to_le_bytes()); // parent
    e.extend_from_slice(&0u32.to_le_bytes()); // count
    e
}

/// A type chunk. `entries[i] = None` is NO_ENTRY.
fn type_chunk(type_id: u8, flags: u8, cfg: &[u8], entries: &[Option<Vec<u8>>]) -> Vec<u8> {
    let mut offsets = Vec::new();
    let mut body = Vec::new();
    let mut present = 0u32;
    for (i, e) in entries.iter().enumerate() {
        match e {
            Some(bytes) => {
                let off = body.len();
                if flags & TYPE_FLAG_SPARSE != 0 {
                    offsets.extend_from_slice(&(i as u16).to_le_bytes());
                    offsets.extend_from_slice(&((off / 4) as u16).to_le_bytes());
                } else if flags & TYPE_FLAG_OFFSET16 != 0 {
                    offsets.extend_from_slice(&((off / 4) as u16).to_le_bytes());
                } else {
                    offsets.extend_from_slice(&(off as u32).to_le_bytes());
                }
                body.extend_from_slice(bytes);
                present += 1;
            }
            None if flags & TYPE_FLAG_SPARSE != 0 => {}
            None if flags & TYPE_FLAG_OFFSET16 != 0 => offsets.extend_from_slice(&0xffffu16.to_le_bytes()),
            None => offsets.extend_from_slice(&NO_ENTRY.to_le_bytes()),
        }
    }
    while offsets.len() % 4 != 0 {
        offsets.push(0);
    }
    let count = if flags & TYPE_FLAG_SPARSE != 0 { present } else { entries.len() as u32 };
    let header_len = 8 + 12 + cfg.len();
    let mut header = vec![type_id, flags, 0, 0];
    header.extend_from_slice(&count.to_le_bytes());
    header.extend_from_slice(&((header_len + offsets.len()) as u32).to_le_bytes());
    header.extend_from_slice(cfg);
    let mut rest = offsets;
    rest.extend_from_slice(&body);
    chunk(RES_TABLE_TYPE_TYPE, &header, &rest)
}

fn package(id: u32, name: &str, types: &[&str], keys: &[&str], chunks: &[Vec<u8>]) -> Vec<u8> {
    let type_pool = build_pool(types, false);
    let key_pool = build_pool(keys, true);
    let header_len = 288usize;
    let mut header = Vec::new();
    header.extend_from_slice(&id.to_le_bytes());
    let mut name16 = [0u8; 256];
    for (i, u) in name.encode_utf16().take(127).enumerate() {
        name16[i * 2..i * 2 + 2].copy_from_slice(&u.to_le_bytes());
    }
    header.extend_from_slice(&name16);
    header.extend_from_slice(&(header_len as u32).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&((header_len + type_pool.len()) as u32).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    let mut body = type_pool;
    body.extend_from_slice(&key_pool);
    for c in chunks {
        body.extend_from_slice(c);
    }
    chunk(RES_TABLE_PACKAGE_TYPE, &header, &body)
}

fn table(strings: &[&str], packages: &[Vec<u8>]) -> Vec<u8> {
    let mut body = build_pool(strings, true);
    for p in packages {
        body.extend_from_slice(p);
    }
    chunk(RES_TABLE_TYPE, &(packages.len() as u32).to_le_bytes(), &body)
}

const STR: u8 = 0x03;
const REF: u8 = 0x01;
const DEC: u8 = 0x10;

fn sample() -> Vec<u8> {
    let strings = ["Example", "Exemple", "res/xml/network_security_config.xml", "1.2.3"];
    let types = ["string", "xml", "integer", "style"];
    let keys = ["app_name", "alias", "nsc", "code", "AppTheme", "version"];
    let spec = chunk(RES_TABLE_TYPE_SPEC_TYPE, &[1, 0, 0, 0, 2, 0, 0, 0], &[0; 8]);
    let chunks = vec![
        spec,
        // A French string table listed before the default one: the default
        // must still win.
        type_chunk(1, 0, &config(Some(b"fr")), &[Some(full_entry(0, STR, 1)), None]),
        type_chunk(
            1,
            0,
            &config(None),
            &[
                Some(full_entry(0, STR, 0)),
                Some(full_entry(1, REF, 0x7f01_0000)),
                Some(full_entry(5, STR, 3)),
            ],
        ),
        type_chunk(2, TYPE_FLAG_SPARSE, &config(None), &[None, None, Some(full_entry(2, STR, 2))]),
        type_chunk(3, TYPE_FLAG_OFFSET16, &config(None), &[None, Some(compact_entry(3, DEC, 42))]),
        type_chunk(4, 0, &config(None), &[Some(complex_entry(4))]),
    ];
    table(&strings, &[package(0x7f, "com.example", &types, &keys, &chunks)])
}

#[test]
fn resolves_strings_references_sparse_and_compact_entries() {
    let p = parse(&sample());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let t = p.table.expect("table");
    assert_eq!(t.package_names(), vec!["com.example".to_string()]);
    assert_eq!(t.resolve_string(0x7f01_0000).as_deref(), Some("Example"));
    assert_eq!(t.resolve_string(0x7f01_0001).as_deref(), Some("Example"));
    assert_eq!(t.resolve_string(0x7f01_0002).as_deref(), Some("1.2.3"));
    assert_eq!(t.entry_name(0x7f01_0001).as_deref(), Some("string/alias"));
    assert_eq!(t.resolve_string(0x7f02_0002).as_deref(), Some("res/xml/network_security_config.xml"));
    assert_eq!(t.entry_name(0x7f02_0002).as_deref(), Some("xml/nsc"));
    assert_eq!(t.resolve(0x7f02_0001), None);
    assert_eq!(t.resolve(0x7f03_0001), Some(ResValue::Int(42)));
    assert_eq!(t.entry_name(0x7f03_0001).as_deref(), Some("integer/code"));
    assert_eq!(t.resolve(0x7f03_0000), None);
    // Map entries are skipped, but still named.
    assert_eq!(t.resolve(0x7f04_0000), None);
    assert_eq!(t.entry_name(0x7f04_0000).as_deref(), Some("style/AppTheme"));
    // Unknown package / type / entry.
    assert_eq!(t.resolve(0x0101_0000), None);
    assert_eq!(t.resolve(0x7f09_0000), None);
    assert_eq!(t.resolve(0x7f01_9999), None);
}

#[test]
fn reference_cycles_terminate() {
    let strings = ["x"];
    let types = ["string"];
    let keys = ["a", "b"];
    let chunks = vec![type_chunk(
        1,
        0,
        &config(None),
        &[Some(full_entry(0, REF, 0x7f01_0001)), Some(full_entry(1, REF, 0x7f01_0000))],
    )];
    let t = parse(&table(&strings, &[package(0x7f, "p", &types, &keys, &chunks)])).table.expect("table");
    assert!(matches!(t.resolve(0x7f01_0000), Some(ResValue::Reference(_))));
    assert_eq!(t.resolve_string(0x7f01_0000), None);
}

#[test]
fn truncation_and_corruption_never_panic() {
    let data = sample();
    each_truncation(&data, |cut| {
        if let Some(t) = parse(cut).table {
            for id in [0x7f01_0000, 0x7f01_0001, 0x7f02_0002, 0x7f03_0001, 0x7f04_0000] {
                let _ = t.resolve_string(id);
                let _ = t.entry_name(id);
            }
        }
    });
    each_flip(&data, &[0x00, 0x80, 0xff], |_, _, d| {
        if let Some(t) = parse(d).table {
            for id in [0x7f01_0000, 0x7f01_0001, 0x7f02_0002, 0x7f03_0001] {
                let _ = t.resolve_string(id);
                let _ = t.entry_name(id);
            }
        }
    });
    assert!(parse(&[]).table.is_none());
}
