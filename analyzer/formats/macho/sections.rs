//! Objective-C class names (`__objc_classname`) and C strings (`__cstring`),
//! read under a budget and skipped where FairPlay encryption covers them;
//! Swift class names are demangled where cheap.

use crate::diagnostic::Diagnostic;

use super::load_commands::SectionRef;
use super::Slice;

/// At most this many C strings and class names are kept per slice.
pub const MAX_STRINGS: usize = 65_536;
/// At most this many bytes of C strings are kept per slice.
pub const MAX_STRINGS_BYTES: usize = 8 << 20;
/// Shortest C string kept (shorter ones cannot hold a host).
const MIN_STRING_LEN: usize = 4;

pub(super) fn read_sections(data: &[u8], sections: &[SectionRef], slice: &mut Slice) {
    let encrypted = slice.encryption.filter(|e| e.cryptid != 0);
    let mut budget = StringBudget::default();
    let mut hidden = 0usize;
    for s in sections {
        if s.segment == "__TEXT" && s.name == "__info_plist" && !s.zerofill {
            // What a bundle-less binary's code signature binds in its Info.plist slot.
            slice.info_plist_section = Some((u64::from(s.offset), s.size));
        }
        let wanted = matches!(s.name.as_str(), "__objc_classname" | "__cstring");
        if !wanted || s.zerofill || s.size == 0 {
            continue;
        }
        let start = s.offset as usize;
        let end = usize::try_from(s.size).ok().and_then(|n| start.checked_add(n));
        let Some(bytes) = end.and_then(|end| data.get(start..end)) else {
            slice.diagnostics.push(Diagnostic::warning(
                "macho.section_out_of_bounds",
                format!("section {},{} runs past the end of the file", s.segment, s.name),
            ));
            continue;
        };
        if let Some(e) = encrypted {
            let (lo, hi) = (e.cryptoff as u64, u64::from(e.cryptoff) + u64::from(e.cryptsize));
            if (start as u64) < hi && (start as u64 + s.size) > lo {
                hidden += 1;
                continue;
            }
        }
        let classes = s.name == "__objc_classname";
        for raw in bytes.split(|&b| b == 0) {
            if raw.len() < if classes { 1 } else { MIN_STRING_LEN } {
                continue;
            }
            if !budget.take(raw.len()) {
                slice.diagnostics.push(Diagnostic::warning(
                    "macho.strings_truncated",
                    format!("string extraction stopped at {MAX_STRINGS} strings / {MAX_STRINGS_BYTES} bytes"),
                ));
                return;
            }
            let text = String::from_utf8_lossy(raw).into_owned();
            if classes {
                slice.objc_classes.push(demangle_swift_class(&text).unwrap_or(text));
            } else {
                slice.strings.push(text);
            }
        }
    }
    if hidden > 0 {
        slice.diagnostics.push(Diagnostic::warning(
            "macho.encrypted",
            format!(
                "{} slice is FairPlay-encrypted (cryptid {}): its class names and strings cannot be read \
                 ({hidden} sections hidden); linked libraries and imported symbols are still visible",
                slice.arch,
                encrypted.map(|e| e.cryptid).unwrap_or(0)
            ),
        ));
    }
}

#[derive(Default)]
struct StringBudget {
    count: usize,
    bytes: usize,
}

impl StringBudget {
    fn take(&mut self, len: usize) -> bool {
        if self.count >= MAX_STRINGS || self.bytes.saturating_add(len) > MAX_STRINGS_BYTES {
            return false;
        }
        self.count += 1;
        self.bytes += len;
        true
    }
}

/// `_TtC7MyModule9ClassName` -> `MyModule.ClassName` (the ObjC runtime name
/// of a Swift class); other mangled forms are left alone.
pub fn demangle_swift_class(name: &str) -> Option<String> {
    let rest = name.strip_prefix("_TtC")?;
    let mut parts = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() && parts.len() < 8 {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let len: usize = rest.get(..digits)?.parse().ok()?;
        let part = rest.get(digits..digits.checked_add(len)?)?;
        parts.push(part);
        rest = rest.get(digits + len..)?;
    }
    (parts.len() >= 2 && rest.is_empty()).then(|| parts.join("."))
}
