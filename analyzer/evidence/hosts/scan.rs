//! Finding host candidates in one string: URLs (`scheme://authority`, also
//! JSON-escaped `:\/\/` and percent-encoded `%3A%2F%2F`), protocol-relative
//! `//host/...`, e-mail domains, and bare dotted names. Works on bytes and
//! only ever slices at ASCII delimiters, so every slice is valid UTF-8.

use memchr::{memchr2, memchr_iter, memmem};

use super::rules::{self, Form, KnownPackages, SchemeClass, ValidHost};

/// Longest scheme looked for before `://` (`mongodb+srv`, `android.resource`).
const MAX_SCHEME_LEN: usize = 32;

/// One host found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// Byte offset in the scanned string, for ordering.
    pub offset: usize,
    pub host: ValidHost,
    /// Lower-case scheme (`https`, `mailto` for e-mail domains); None for bare names.
    pub scheme: Option<String>,
    /// The URL, address or name as written.
    pub value: String,
    /// A bare name written the way hosts are: with a `:port`, a `/path`,
    /// as `//host` or an e-mail domain. (A URL needs no such context.)
    pub context: bool,
    /// A bare name written with a leading dot and nothing else
    /// (`.mid.world.ro`): a hidden file or a key suffix as often as a
    /// cookie domain.
    pub leading_dot: bool,
}

impl Found {
    /// A host written as a URL: it stands where hosts stand.
    fn url(offset: usize, host: ValidHost, scheme: String, value: String) -> Found {
        Found { offset, host, scheme: Some(scheme), value, context: true, leading_dot: false }
    }
}

/// Separators that introduce an authority, and whether the authority
/// itself is percent-encoded (then it ends at the next `%`).
const URL_SEPARATORS: &[(&[u8], bool)] =
    &[(b"://", false), (b":\\/\\/", false), (b"%3A%2F%2F", true), (b"%3a%2f%2f", true)];

/// Scans `text` and returns the hosts in it in order of appearance.
pub(super) fn scan(text: &str, known: &KnownPackages) -> Vec<Found> {
    let bytes = text.as_bytes();
    // Every host form has a '.' except `localhost` and IPv6, which only
    // count inside URLs (which have ':'). Most strings have neither.
    if memchr2(b'.', b':', bytes).is_none() {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut url_spans: Vec<(usize, usize)> = Vec::new();
    if memchr::memchr(b':', bytes).is_some() || memchr::memchr(b'%', bytes).is_some() {
        for (separator, encoded) in URL_SEPARATORS {
            for at in memmem::find_iter(bytes, separator) {
                scan_url(text, at, separator.len(), *encoded, known, &mut found, &mut url_spans);
            }
        }
    }
    url_spans.sort_unstable();
    scan_bare(text, known, &url_spans, &mut found);
    found.sort_by_key(|f| f.offset);
    found
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.'
}

/// Bytes that may appear in an authority (RFC 3986 unreserved, `%`, `:`,
/// `@`, brackets) plus `{}`/`$` so templates are seen whole and rejected.
fn is_authority_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b"-._~%:@[]{}$+!*".contains(&b)
}

/// Where a URL stops inside surrounding text.
fn is_url_end_byte(b: u8) -> bool {
    b.is_ascii_whitespace() || b.is_ascii_control() || b"\"'`<>\\^|)".contains(&b)
}

fn scan_url(
    text: &str,
    at: usize,
    separator_len: usize,
    encoded: bool,
    known: &KnownPackages,
    found: &mut Vec<Found>,
    url_spans: &mut Vec<(usize, usize)>,
) {
    let bytes = text.as_bytes();
    let mut scheme_start = at;
    while scheme_start > 0 && at - scheme_start < MAX_SCHEME_LEN {
        match bytes.get(scheme_start - 1) {
            Some(&b) if is_scheme_byte(b) => scheme_start -= 1,
            _ => break,
        }
    }
    // A scheme starts with a letter (`1https://` is not one).
    while scheme_start < at && !bytes.get(scheme_start).is_some_and(|b| b.is_ascii_alphabetic()) {
        scheme_start += 1;
    }
    let Some(scheme_written) = text.get(scheme_start..at) else {
        return;
    };
    if scheme_written.is_empty() {
        return;
    }
    let mut scheme = scheme_written.to_ascii_lowercase();
    let mut class = rules::classify_scheme(&scheme);
    if class == SchemeClass::Custom {
        // `foo.https://` or `x-https://` glued to text: the tail may be the real scheme.
        if let Some(cut) = scheme.rfind(['.', '-', '+']) {
            let tail = scheme.get(cut + 1..).unwrap_or_default().to_string();
            if rules::classify_scheme(&tail) == SchemeClass::Network {
                scheme_start += cut + 1;
                scheme = tail;
                class = SchemeClass::Network;
            }
        }
    }
    if class == SchemeClass::Custom {
        // String tables without separators (Hermes bytecode, packed
        // rodata) glue the scheme to the previous word: `Heighttps://`.
        for glued in ["https", "http"] {
            if scheme.len() > glued.len() && scheme.ends_with(glued) {
                scheme_start += scheme.len() - glued.len();
                scheme = glued.to_string();
                class = SchemeClass::Network;
                break;
            }
        }
    }
    let authority_start = at + separator_len;
    let mut authority_end = authority_start;
    while let Some(&b) = bytes.get(authority_end) {
        if !is_authority_byte(b) || (encoded && b == b'%') {
            break;
        }
        authority_end += 1;
    }
    let mut url_end = authority_end;
    while bytes.get(url_end).is_some_and(|&b| !is_url_end_byte(b)) {
        url_end += 1;
    }
    url_spans.push((scheme_start, authority_end));
    if class == SchemeClass::Local {
        return;
    }
    let Some(authority) = text.get(authority_start..authority_end) else {
        return;
    };
    let host_port = match authority.rfind('@') {
        Some(i) => authority.get(i + 1..).unwrap_or_default(),
        None => authority,
    };
    let value = clip(text.get(scheme_start..url_end).unwrap_or_default());
    let path = text.get(authority_end..url_end).unwrap_or_default();

    if let Some(inner) = host_port.strip_prefix('[') {
        let Some(close) = inner.find(']') else { return };
        let literal = inner.get(..close).unwrap_or_default();
        if let Some(ip) = rules::parse_ipv6(literal) {
            if !ip.is_unspecified() {
                let host = ValidHost { host: ip.to_string(), ip: true, domain: None };
                found.push(Found::url(scheme_start, host, scheme, value));
            }
        }
        return;
    }
    let host_written = match host_port.find(':') {
        Some(i) => host_port.get(..i).unwrap_or_default(),
        None => host_port,
    };
    // Templates (`https://%s.umeng.com`, `https://{region}.api.example.com`):
    // what follows the last placeholder still names the operator's domain.
    let host_written = match host_written.rfind(['%', '{', '}', '$']) {
        Some(i) => {
            // Skip the conversion letters of `%s` / `%1$s` up to the next dot.
            let rest = host_written.get(i + 1..).unwrap_or_default();
            match rest.find('.').and_then(|dot| if dot <= 2 { rest.get(dot + 1..) } else { None }) {
                Some(after) if after.contains('.') => after,
                _ => return,
            }
        }
        None => host_written,
    };
    if host_written.is_empty() {
        return;
    }
    let lower_host_path = format!("{}{}", host_written.to_lowercase(), path.to_lowercase());
    if rules::is_identifier_url(&lower_host_path) {
        return;
    }
    let form = if class == SchemeClass::Network { Form::Url } else { Form::BareWhole };
    if let Ok(host) = rules::validate(host_written, form, known) {
        found.push(Found::url(scheme_start, host, scheme, value));
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'
}

fn is_local_part_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-".contains(&b)
}

fn inside_spans(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    spans.iter().any(|&(s, e)| start < e && end > s)
}

fn scan_bare(text: &str, known: &KnownPackages, url_spans: &[(usize, usize)], found: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    let trimmed_start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let trimmed_end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |p| p + 1);
    let mut consumed = 0usize;
    for dot in memchr_iter(b'.', bytes) {
        if dot < consumed {
            continue;
        }
        let mut raw_start = dot;
        while raw_start > 0 && bytes.get(raw_start - 1).is_some_and(|&b| is_token_byte(b)) {
            raw_start -= 1;
        }
        let mut raw_end = dot;
        while bytes.get(raw_end).is_some_and(|&b| is_token_byte(b)) {
            raw_end += 1;
        }
        consumed = raw_end;
        if inside_spans(url_spans, raw_start, raw_end) {
            continue;
        }
        if let Some(f) = bare_candidate(text, raw_start, raw_end, (trimmed_start, trimmed_end), known) {
            found.push(f);
        }
    }
}

/// Judges the dotted token `text[raw_start..raw_end]` in its context.
fn bare_candidate(
    text: &str,
    raw_start: usize,
    raw_end: usize,
    trimmed: (usize, usize),
    known: &KnownPackages,
) -> Option<Found> {
    let bytes = text.as_bytes();
    let raw = text.get(raw_start..raw_end)?;
    if raw.starts_with('-') || raw.contains('_') {
        // `-Dfoo.bar` options; `foo_bar.baz` identifiers.
        return None;
    }
    let mut start = raw_start + (raw.len() - raw.trim_start_matches('.').len());
    let end = raw_start + raw.trim_end_matches('.').len();
    if start >= end {
        return None;
    }
    // Optional `:port`.
    let mut value_end = end;
    if end == raw_end && bytes.get(end) == Some(&b':') {
        let digits = bytes.get(end + 1..)?.iter().take_while(|b| b.is_ascii_digit()).count();
        if (1..=5).contains(&digits) {
            value_end = end + 1 + digits;
        }
    }
    let after = if value_end > end { bytes.get(value_end) } else { bytes.get(raw_end) };
    if after.is_some_and(|b| b"($[@".contains(b)) {
        // Method calls (`dialog.show(`), inner classes (`Foo.Bar$1`),
        // indexing, e-mail local parts and `icon@2x.png`.
        return None;
    }
    let before = raw_start.checked_sub(1).and_then(|i| bytes.get(i).copied());
    let mut form = None;
    let mut value_start = start;
    let mut scheme = None;
    match before {
        Some(b'@') => {
            let mut local_start = raw_start - 1;
            while local_start > 0 && bytes.get(local_start - 1).is_some_and(|&b| is_local_part_byte(b)) {
                local_start -= 1;
            }
            if local_start < raw_start - 1 {
                form = Some(Form::Addressed);
                value_start = local_start;
                scheme = Some("mailto".to_string());
            }
        }
        Some(b'/') => {
            // Only `//host` at a string or attribute start is a
            // protocol-relative URL; other slashes make a path component.
            let slashes = raw_start >= 2 && bytes.get(raw_start - 2) == Some(&b'/');
            let opener = raw_start.checked_sub(3).and_then(|i| bytes.get(i).copied());
            let opens = opener.is_none_or(|b| b.is_ascii_whitespace() || b"\"'=(,".contains(&b));
            if !(slashes && opens) {
                return None;
            }
            form = Some(Form::Addressed);
            value_start = raw_start - 2;
        }
        Some(b'%') => {
            // `%s.example.com`: drop the placeholder's letter label.
            let token = text.get(start..end)?;
            let dot = token.find('.')?;
            if dot > 2 {
                return None;
            }
            start += dot + 1;
        }
        Some(b'\\' | b'$' | b'#' | b'&' | b'*') => return None,
        _ => {}
    }
    let whole = raw_start <= trimmed.0
        && (value_end >= trimmed.1
            || (bytes.get(value_end) == Some(&b'/')
                && !bytes.get(value_end..trimmed.1)?.iter().any(|b| b.is_ascii_whitespace())));
    let form = form.unwrap_or(if whole { Form::BareWhole } else { Form::BareEmbedded });
    let written = text.get(start..end)?;
    if raw.starts_with('.') && rules::is_section_name(written) {
        return None;
    }
    let host = rules::validate(written, form, known).ok()?;
    let value_stop = if whole { trimmed.1 } else { value_end };
    let value = clip(text.get(value_start..value_stop).unwrap_or(written));
    let with_path = bytes.get(value_end) == Some(&b'/');
    let context = form == Form::Addressed || value_end > end || with_path;
    let leading_dot = whole && raw.starts_with('.');
    Some(Found { offset: value_start, host, scheme, value, context, leading_dot })
}

/// Evidence values are kept short: enough to recognise, bounded in memory.
pub(super) const MAX_VALUE_LEN: usize = 256;

pub(super) fn clip(value: &str) -> String {
    if value.len() <= MAX_VALUE_LEN {
        return value.to_string();
    }
    let mut cut = MAX_VALUE_LEN;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    value.get(..cut).unwrap_or_default().to_string()
}
