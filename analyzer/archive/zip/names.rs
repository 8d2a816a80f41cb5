//! Checks entry names for what would be dangerous if someone used them as
//! paths (appvet never does, but the attempt is evidence worth reporting).

/// Why a name looks crafted, or `None` when it is ordinary.
pub(super) fn suspicious_name_reason(raw: &[u8]) -> Option<&'static str> {
    if raw.contains(&0) {
        return Some("contains a NUL byte");
    }
    if raw.iter().any(|&b| b == b'\n' || b == b'\r') {
        return Some("contains a line break");
    }
    if raw.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Some("contains a control character");
    }
    if raw.first() == Some(&b'/') || raw.first() == Some(&b'\\') {
        return Some("is an absolute path");
    }
    if raw.len() >= 2 && raw[0].is_ascii_alphabetic() && raw[1] == b':' {
        return Some("starts with a drive letter");
    }
    if raw.split(|&b| b == b'/' || b == b'\\').any(|part| part == b"..") {
        return Some("has a `..` component (path traversal)");
    }
    if raw.contains(&b'\\') {
        return Some("contains a backslash");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_traversal_absolute_and_control_names() {
        assert_eq!(suspicious_name_reason(b"classes.dex"), None);
        assert_eq!(suspicious_name_reason(b"res/..foo/a..b"), None);
        assert!(suspicious_name_reason(b"../../etc/passwd").is_some());
        assert!(suspicious_name_reason(b"assets/..\\x").is_some());
        assert!(suspicious_name_reason(b"/data/x").is_some());
        assert!(suspicious_name_reason(b"C:x").is_some());
        assert!(suspicious_name_reason(b"a\\b").is_some());
        assert!(suspicious_name_reason(b"a\nb").is_some());
        assert!(suspicious_name_reason(b"a\0b").is_some());
        assert!(suspicious_name_reason(b"a\x1bb").is_some());
    }
}
