//! Property lists (Info.plist, entitlements, privacy manifests, the payload
//! of embedded.mobileprovision) in binary or XML form, read through the
//! `plist` crate's event stream so that nesting depth and object count are
//! bounded here: a hostile plist nested a million levels deep must not
//! overflow the stack of a recursive builder.

use std::io::Cursor;

use plist::stream::{Event, Reader};
use plist::{Dictionary, Value};

use crate::formats::panic_guard::catch_panic;

/// Largest plist read (Info.plist files are kilobytes; provisioning
/// profiles with device lists reach a few hundred).
pub const MAX_PLIST_BYTES: usize = 16 << 20;
/// Deepest nesting of arrays and dictionaries accepted.
pub const MAX_DEPTH: usize = 128;
/// Most values (events) read from one plist.
pub const MAX_EVENTS: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlistError {
    #[error("property list of {0} bytes exceeds the {MAX_PLIST_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("property list nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("property list holds more than {MAX_EVENTS} values")]
    TooManyValues,
    #[error("malformed property list: {0}")]
    Malformed(String),
    #[error("property list parser panicked: {0}")]
    Panicked(String),
}

impl PlistError {
    /// Stable diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            PlistError::TooLarge(_) => "plist.too_large",
            PlistError::TooDeep => "plist.too_deep",
            PlistError::TooManyValues => "plist.too_many_values",
            PlistError::Malformed(_) => "plist.malformed",
            PlistError::Panicked(_) => "plist.parser_panicked",
        }
    }
}

/// `binary` or `xml` (by magic), as the report names the form.
pub fn format_name(data: &[u8]) -> &'static str {
    if data.starts_with(b"bplist") {
        "binary"
    } else {
        "xml"
    }
}

/// Parses a binary or XML plist into a value.
pub fn parse(data: &[u8]) -> Result<Value, PlistError> {
    if data.len() > MAX_PLIST_BYTES {
        return Err(PlistError::TooLarge(data.len()));
    }
    catch_panic(|| parse_unguarded(data)).unwrap_or_else(|message| Err(PlistError::Panicked(message)))
}

/// Parses a plist whose root must be a dictionary.
pub fn parse_dict(data: &[u8]) -> Result<Dictionary, PlistError> {
    match parse(data)? {
        Value::Dictionary(d) => Ok(d),
        _ => Err(PlistError::Malformed("root is not a dictionary".into())),
    }
}

enum Frame {
    Array(Vec<Value>),
    Dict(Dictionary, Option<String>),
}

fn parse_unguarded(data: &[u8]) -> Result<Value, PlistError> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut events = 0usize;
    for event in Reader::new(Cursor::new(data)) {
        let event = event.map_err(|e| PlistError::Malformed(e.to_string()))?;
        events += 1;
        if events > MAX_EVENTS {
            return Err(PlistError::TooManyValues);
        }
        let value = match event {
            Event::StartArray(_) => {
                push_frame(&mut stack, Frame::Array(Vec::new()))?;
                continue;
            }
            Event::StartDictionary(_) => {
                push_frame(&mut stack, Frame::Dict(Dictionary::new(), None))?;
                continue;
            }
            Event::EndCollection => match stack.pop() {
                Some(Frame::Array(items)) => Value::Array(items),
                Some(Frame::Dict(dict, None)) => Value::Dictionary(dict),
                Some(Frame::Dict(_, Some(key))) => {
                    return Err(PlistError::Malformed(format!("key {key:?} has no value")))
                }
                None => return Err(PlistError::Malformed("unbalanced end of collection".into())),
            },
            Event::Boolean(b) => Value::Boolean(b),
            Event::Data(d) => Value::Data(d.into_owned()),
            Event::Date(d) => Value::Date(d),
            Event::Integer(i) => Value::Integer(i),
            Event::Real(r) => Value::Real(r),
            Event::String(s) => Value::String(s.into_owned()),
            Event::Uid(u) => Value::Uid(u),
            #[allow(unreachable_patterns)]
            _ => return Err(PlistError::Malformed("unsupported plist event".into())),
        };
        match stack.last_mut() {
            None => return Ok(value),
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Dict(dict, key)) => match key.take() {
                Some(k) => {
                    dict.insert(k, value);
                }
                None => match value {
                    Value::String(k) => *key = Some(k),
                    _ => return Err(PlistError::Malformed("dictionary key is not a string".into())),
                },
            },
        }
    }
    Err(PlistError::Malformed("empty or unterminated property list".into()))
}

fn push_frame(stack: &mut Vec<Frame>, frame: Frame) -> Result<(), PlistError> {
    if stack.len() >= MAX_DEPTH {
        return Err(PlistError::TooDeep);
    }
    stack.push(frame);
    Ok(())
}

/// JSON view of a plist value for the report: data as lower-case hex
/// (capped), dates as RFC 3339 text, UIDs as numbers.
pub fn to_json(value: &Value) -> serde_json::Value {
    to_json_at(value, 0)
}

/// Longest data value rendered in a report, in bytes.
const MAX_DATA_RENDERED: usize = 256;

fn to_json_at(value: &Value, depth: usize) -> serde_json::Value {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return J::Null;
    }
    match value {
        Value::Array(items) => J::Array(items.iter().map(|v| to_json_at(v, depth + 1)).collect()),
        Value::Dictionary(d) => {
            J::Object(d.iter().map(|(k, v)| (k.clone(), to_json_at(v, depth + 1))).collect())
        }
        Value::Boolean(b) => J::Bool(*b),
        Value::Data(d) => {
            let shown = d.get(..MAX_DATA_RENDERED).unwrap_or(d);
            J::String(hex::encode(shown))
        }
        Value::Date(d) => J::String(d.to_xml_format()),
        Value::Real(r) => serde_json::Number::from_f64(*r).map(J::Number).unwrap_or(J::Null),
        Value::Integer(i) => match (i.as_signed(), i.as_unsigned()) {
            (Some(v), _) => J::from(v),
            (None, Some(v)) => J::from(v),
            _ => J::Null,
        },
        Value::String(s) => J::String(s.clone()),
        Value::Uid(u) => J::from(u.get()),
        _ => J::Null,
    }
}

/// A string value of `dict[key]`, also accepting numbers (CFBundleVersion
/// is sometimes written as an integer or real).
pub fn string_of(dict: &Dictionary, key: &str) -> Option<String> {
    match dict.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(r) => Some(r.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The string elements of an array value (others skipped).
pub fn strings_of(dict: &Dictionary, key: &str) -> Vec<String> {
    match dict.get(key) {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_string().map(str::to_string)).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{each_flip, each_truncation};

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>CFBundleIdentifier</key><string>com.example.app</string>
<key>CFBundleVersion</key><integer>42</integer>
<key>UIBackgroundModes</key><array><string>location</string><string>audio</string></array>
<key>Nested</key><dict><key>flag</key><true/><key>blob</key><data>AAEC</data></dict>
</dict></plist>"#;

    #[test]
    fn reads_xml_and_binary_forms() {
        let dict = parse_dict(XML.as_bytes()).unwrap();
        assert_eq!(string_of(&dict, "CFBundleIdentifier").as_deref(), Some("com.example.app"));
        assert_eq!(string_of(&dict, "CFBundleVersion").as_deref(), Some("42"));
        assert_eq!(strings_of(&dict, "UIBackgroundModes"), ["location", "audio"]);
        let json = to_json(&Value::Dictionary(dict.clone()));
        assert_eq!(json["Nested"]["blob"], "000102");
        assert_eq!(json["Nested"]["flag"], true);

        let mut binary = Vec::new();
        plist::to_writer_binary(&mut binary, &Value::Dictionary(dict.clone())).unwrap();
        assert_eq!(format_name(&binary), "binary");
        assert_eq!(parse_dict(&binary).unwrap(), dict);
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert!(parse(b"").is_err());
        assert!(parse(b"bplist00").is_err());
        assert!(parse(b"<plist><dict><key>a</key></dict></plist>").is_err());
        assert!(parse_dict(b"<plist><array/></plist>").is_err());
        let xml = XML.as_bytes();
        each_truncation(xml, |cut| drop(parse(cut)));
        let mut binary = Vec::new();
        plist::to_writer_binary(&mut binary, &parse(xml).unwrap()).unwrap();
        each_truncation(&binary, |cut| drop(parse(cut)));
        each_flip(&binary, &[0x00, 0xff, 0x7f], |at, _, copy| {
            if let Err(PlistError::Panicked(m)) = parse(copy) {
                panic!("plist panicked at byte {at}: {m}");
            }
        });
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("<plist>{}{}</plist>", "<array>".repeat(10_000), "</array>".repeat(10_000));
        assert_eq!(parse(deep.as_bytes()), Err(PlistError::TooDeep));
    }
}
