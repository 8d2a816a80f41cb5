//! Hand-built binary XML documents, well-formed and hostile.

use super::string_pool::build_pool;
use super::*;
use crate::formats::xml_tree::ANDROID_NS;
use crate::test_support::{each_flip, each_truncation};

/// One attribute: (namespace index, name index, raw value index, type, data).
type Attr = (u32, u32, u32, u8, u32);

fn chunk(ty: u16, header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&((8 + header.len()) as u16).to_le_bytes());
    out.extend_from_slice(&((8 + header.len() + body.len()) as u32).to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(body);
    out
}

fn node_header(line: u32) -> Vec<u8> {
    let mut h = line.to_le_bytes().to_vec();
    h.extend_from_slice(&NO_INDEX.to_le_bytes());
    h
}

fn start_ns(prefix: u32, uri: u32) -> Vec<u8> {
    let mut body = prefix.to_le_bytes().to_vec();
    body.extend_from_slice(&uri.to_le_bytes());
    chunk(RES_XML_START_NAMESPACE_TYPE, &node_header(1), &body)
}

/// A start tag with a configurable attribute layout (Android honours
/// attributeStart and attributeSize, aapt always writes 20 and 20).
fn start_el_layout(name: u32, attrs: &[Attr], attr_start: u16, attr_size: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&NO_INDEX.to_le_bytes());
    body.extend_from_slice(&name.to_le_bytes());
    body.extend_from_slice(&attr_start.to_le_bytes());
    body.extend_from_slice(&attr_size.to_le_bytes());
    body.extend_from_slice(&(attrs.len() as u16).to_le_bytes());
    body.extend_from_slice(&[0u8; 6]);
    body.resize(usize::from(attr_start), 0);
    for &(ns, n, raw, ty, data) in attrs {
        let mut a = Vec::new();
        a.extend_from_slice(&ns.to_le_bytes());
        a.extend_from_slice(&n.to_le_bytes());
        a.extend_from_slice(&raw.to_le_bytes());
        a.extend_from_slice(&8u16.to_le_bytes());
        a.push(0);
        a.push(ty);
        a.extend_from_slice(&data.to_le_bytes());
        a.resize(usize::from(attr_size), 0xee);
        body.extend_from_slice(&a);
    }
    chunk(RES_XML_START_ELEMENT_TYPE, &node_header(2), &body)
}

fn start_el(name: u32, attrs: &[Attr]) -> Vec<u8> {
    start_el_layout(name, attrs, 20, 20)
}

fn end_el(name: u32) -> Vec<u8> {
    let mut body = NO_INDEX.to_le_bytes().to_vec();
    body.extend_from_slice(&name.to_le_bytes());
    chunk(RES_XML_END_ELEMENT_TYPE, &node_header(3), &body)
}

fn document(strings: &[&str], resource_map: &[u32], nodes: &[Vec<u8>], utf8: bool) -> Vec<u8> {
    let mut body = build_pool(strings, utf8);
    let map: Vec<u8> = resource_map.iter().flat_map(|id| id.to_le_bytes()).collect();
    body.extend_from_slice(&chunk(RES_XML_RESOURCE_MAP_TYPE, &[], &map));
    for n in nodes {
        body.extend_from_slice(n);
    }
    chunk(RES_XML_TYPE, &[], &body)
}

const STR: u8 = res_value::TYPE_STRING;
const DEC: u8 = res_value::TYPE_INT_DEC;

/// Strings: 0 name, 1 versionCode, 2 android, 3 ANDROID_NS, 4 manifest,
/// 5 package, 6 com.example, 7 uses-permission, 8 android.permission.INTERNET,
/// 9 versionName, 10 "1.0".
fn manifest(utf8: bool, name_str: &str) -> Vec<u8> {
    let strings = [
        name_str,
        "versionCode",
        "android",
        ANDROID_NS,
        "manifest",
        "package",
        "com.example",
        "uses-permission",
        "android.permission.INTERNET",
        "versionName",
        "1.0",
    ];
    let nodes = vec![
        start_ns(2, 3),
        start_el(4, &[(3, 1, NO_INDEX, DEC, 42), (3, 9, 10, STR, 10), (NO_INDEX, 5, 6, STR, 6)]),
        start_el(7, &[(3, 0, 8, STR, 8)]),
        end_el(7),
        end_el(4),
    ];
    document(&strings, &[0x0101_0003, 0x0101_021b], &nodes, utf8)
}

fn check_manifest(p: &XmlParse) {
    let root = p.root.as_ref().expect("root");
    assert_eq!(root.name, "manifest");
    assert_eq!(root.attr("package"), Some(&AttrValue::String("com.example".into())));
    assert_eq!(root.android_attr("versionCode"), Some(&AttrValue::IntDec(42)));
    assert_eq!(root.android_attr("versionName"), Some(&AttrValue::String("1.0".into())));
    let perm = root.children_named("uses-permission").next().expect("uses-permission");
    assert_eq!(perm.android_attr("name"), Some(&AttrValue::String("android.permission.INTERNET".into())));
    assert_eq!(perm.attributes[0].resource_id, Some(0x0101_0003));
}

#[test]
fn decodes_a_small_manifest_in_both_string_encodings() {
    for utf8 in [true, false] {
        let p = parse(&manifest(utf8, "name"));
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        check_manifest(&p);
    }
}

#[test]
fn attribute_names_come_from_resource_ids_not_the_string_pool() {
    // Obfuscators blank or rename pool names; Android only looks at the ID.
    for bogus in ["", "zzz", "versionCode"] {
        let p = parse(&manifest(true, bogus));
        check_manifest(&p);
    }
}

#[test]
fn honours_attribute_start_and_size_and_node_header_size() {
    let strings = ["name", ANDROID_NS, "activity", ".Main"];
    let mut el = start_el_layout(2, &[(1, 0, 3, STR, 3), (1, 0, 3, STR, 3)], 32, 28);
    // Grow the node header from 16 to 24 bytes: shift the extension by 8.
    let mut grown = el[..16].to_vec();
    grown.extend_from_slice(&[0u8; 8]);
    grown.extend_from_slice(&el[16..]);
    grown[2..4].copy_from_slice(&24u16.to_le_bytes());
    let size = grown.len() as u32;
    grown[4..8].copy_from_slice(&size.to_le_bytes());
    el = grown;
    let p = parse(&document(&strings, &[0x0101_0003], &[el, end_el(2)], true));
    let root = p.root.expect("root");
    assert_eq!(root.name, "activity");
    assert_eq!(root.attributes.len(), 2);
    assert_eq!(root.android_attr("name"), Some(&AttrValue::String(".Main".into())));
}

#[test]
fn unknown_chunks_are_skipped() {
    let strings = ["a"];
    let junk = chunk(0x7777, &[], &[1, 2, 3, 4]);
    let junk_node = chunk(0x0150, &node_header(0), &[0; 8]);
    let p = parse(&document(&strings, &[], &[junk, start_el(0, &[]), junk_node, end_el(0)], true));
    assert_eq!(p.root.expect("root").name, "a");
    assert!(p.diagnostics.iter().any(|d| d.code == "axml.unknown_chunk"));
}

#[test]
fn oversized_document_size_and_bad_type_are_tolerated() {
    let mut doc = manifest(true, "name");
    doc[0..2].copy_from_slice(&0x0000u16.to_le_bytes());
    doc[4..8].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let p = parse(&doc);
    check_manifest(&p);
    assert!(p.diagnostics.iter().any(|d| d.code == "axml.bad_chunk_size"));
    assert!(p.diagnostics.iter().any(|d| d.code == "axml.bad_magic"));
}

#[test]
fn truncation_and_corruption_never_panic() {
    let doc = manifest(false, "name");
    each_truncation(&doc, |cut| drop(parse(cut)));
    each_flip(&doc, &[0x00, 0x7f, 0x80, 0xff], |_, _, d| {
        assert!(parse(d).diagnostics.len() <= MAX_DIAGNOSTICS + 1);
    });
    assert!(parse(b"").root.is_none());
    assert_eq!(parse(b"<?xml version='1.0'?><a/>").diagnostics[0].code, "axml.text_xml");
}

#[test]
fn depth_is_capped_and_nesting_stays_balanced() {
    let strings = ["e", "after"];
    let mut nodes = Vec::new();
    for _ in 0..(MAX_DEPTH + 50) {
        nodes.push(start_el(0, &[]));
    }
    for _ in 0..(MAX_DEPTH + 50) {
        nodes.push(end_el(0));
    }
    let p = parse(&document(&strings, &[], &nodes, true));
    let mut depth = 0;
    let mut e = p.root.as_ref().expect("root");
    while let Some(c) = e.children.first() {
        e = c;
        depth += 1;
    }
    assert_eq!(depth, MAX_DEPTH - 1);
    assert!(p.diagnostics.iter().any(|d| d.code == "axml.limit_reached"));
}

#[test]
fn renders_real_xml_with_android_prefix() {
    let p = parse(&manifest(true, ""));
    let text = to_xml_text(p.root.as_ref().expect("root"));
    assert!(text.contains("xmlns:android=\"http://schemas.android.com/apk/res/android\""), "{text}");
    assert!(text.contains("android:name=\"android.permission.INTERNET\""), "{text}");
    assert!(text.contains("package=\"com.example\""), "{text}");
    // The output must be well-formed XML.
    let mut reader = quick_xml::Reader::from_str(&text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed: {e}\n{text}"),
        }
    }
}
