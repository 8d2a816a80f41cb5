//! Renders a decoded element tree as real XML text (for analysts and the
//! `appvet manifest` command), declaring the namespace prefixes it uses.

use std::collections::BTreeMap;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};
use quick_xml::Writer;

use crate::formats::xml_tree::{XmlElement, ANDROID_NS};

const WELL_KNOWN_PREFIXES: &[(&str, &str)] = &[
    (ANDROID_NS, "android"),
    ("http://schemas.android.com/apk/res-auto", "app"),
    ("http://schemas.android.com/tools", "tools"),
];

/// The tree as indented XML text with an XML declaration.
pub fn to_xml_text(root: &XmlElement) -> String {
    let mut prefixes = BTreeMap::new();
    collect_namespaces(root, &mut prefixes, 0);
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 4);
    // Writing into a Vec cannot fail; errors are ignored rather than unwrapped.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    write_element(&mut writer, root, &prefixes, true, 0);
    String::from_utf8_lossy(&writer.into_inner()).into_owned()
}

fn collect_namespaces(e: &XmlElement, out: &mut BTreeMap<String, String>, depth: usize) {
    if depth > 1024 {
        return;
    }
    let mut add = |uri: &str| {
        if uri.is_empty() || out.contains_key(uri) {
            return;
        }
        let prefix = WELL_KNOWN_PREFIXES
            .iter()
            .find(|(u, _)| *u == uri)
            .map(|(_, p)| p.to_string())
            .unwrap_or_else(|| format!("ns{}", out.len()));
        out.insert(uri.to_string(), prefix);
    };
    if let Some(ns) = &e.namespace {
        add(ns);
    }
    for a in &e.attributes {
        if let Some(ns) = &a.namespace {
            add(ns);
        } else if a.resource_id.is_some_and(|id| id >> 24 == 0x01) {
            // Namespace stripped by an obfuscator: still an android: attribute.
            add(ANDROID_NS);
        }
    }
    for c in &e.children {
        collect_namespaces(c, out, depth + 1);
    }
}

fn qualified(ns: Option<&str>, name: &str, prefixes: &BTreeMap<String, String>) -> String {
    let local = xml_name(name);
    match ns.and_then(|n| prefixes.get(n)) {
        Some(p) => format!("{p}:{local}"),
        None => local,
    }
}

fn write_element(
    w: &mut Writer<Vec<u8>>,
    e: &XmlElement,
    prefixes: &BTreeMap<String, String>,
    is_root: bool,
    depth: usize,
) {
    if depth > 1024 {
        return;
    }
    let name = qualified(e.namespace.as_deref(), &e.name, prefixes);
    let mut start = BytesStart::new(name.as_str());
    if is_root {
        for (uri, prefix) in prefixes {
            start.push_attribute((format!("xmlns:{prefix}").as_str(), xml_value(uri).as_str()));
        }
    }
    for a in &e.attributes {
        let ns = match a.namespace.as_deref() {
            Some(n) if !n.is_empty() => Some(n),
            _ if a.resource_id.is_some_and(|id| id >> 24 == 0x01) => Some(ANDROID_NS),
            _ => None,
        };
        let key = qualified(ns, &a.name, prefixes);
        start.push_attribute((key.as_str(), xml_value(&a.value.display()).as_str()));
    }
    if e.children.is_empty() {
        let _ = w.write_event(Event::Empty(start));
        return;
    }
    let _ = w.write_event(Event::Start(start));
    for c in &e.children {
        write_element(w, c, prefixes, false, depth + 1);
    }
    let _ = w.write_event(Event::End(BytesEnd::new(name.as_str())));
}

/// Obfuscated names may hold characters XML forbids in names; replace them
/// so the output stays well-formed.
fn xml_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
        out.insert(0, '_');
    }
    out
}

/// Control characters are not allowed in XML 1.0 text even when escaped.
fn xml_value(v: &str) -> String {
    v.chars()
        .map(|c| if c.is_control() && !matches!(c, '\t' | '\n' | '\r') { '\u{fffd}' } else { c })
        .collect()
}
