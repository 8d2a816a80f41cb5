//! Deciding whether a candidate string is a network host: DNS shape, public
//! suffix, IP literals, and the heuristics that tell a hostname apart from the
//! Java package names, file names, property keys and version numbers that
//! share its dotted shape inside an app.
//!
//! Two levels of trust:
//! - **URL form** (`https://api.example.com/...`): the author wrote a network
//!   address, so only the shape is checked (labels, lengths, a TLD that is in
//!   the public suffix list, or an IP literal).
//! - **Bare form** (`api.example.com` alone or inside text): most dotted
//!   strings in an app are code identifiers, so a bare name must also pass
//!   every heuristic in [`reject_bare`], each of which names the decoy it
//!   exists for.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::words::{
    FILE_EXTENSIONS, HOSTING_CCTLDS, IDENTIFIER_ROOTS, IDENTIFIER_URL_PREFIXES, LEGACY_OR_POPULAR_TLDS,
    LOCAL_SCHEMES, NETWORK_SCHEMES, PACKAGE_ROOTS, WORD_CCTLDS,
};

/// RFC 1035: a name is at most 253 characters in text form.
const MAX_HOST_LEN: usize = 253;
/// RFC 1035: a label is at most 63 octets.
const MAX_LABEL_LEN: usize = 63;
/// Bound on the remembered package prefixes so a hostile DEX cannot grow it without limit.
const MAX_KNOWN_PACKAGES: usize = 500_000;

/// How a scheme's authority is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SchemeClass {
    /// A network protocol: the host is trusted.
    Network,
    /// A local or identifier scheme: skip.
    Local,
    /// An app-defined scheme (`myapp://`): its authority may be a host or a
    /// package, so it goes through the bare-name heuristics.
    Custom,
}

pub(super) fn classify_scheme(scheme_lower: &str) -> SchemeClass {
    if NETWORK_SCHEMES.contains(&scheme_lower) {
        SchemeClass::Network
    } else if LOCAL_SCHEMES.contains(&scheme_lower) {
        SchemeClass::Local
    } else {
        SchemeClass::Custom
    }
}

/// True when `host_and_path` (lower case, no scheme) is an identifier URL.
pub(super) fn is_identifier_url(host_and_path: &str) -> bool {
    IDENTIFIER_URL_PREFIXES.iter().any(|prefix| host_and_path.starts_with(prefix))
}

/// How a candidate was written, which decides how much it is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `scheme://host` with a network scheme.
    Url,
    /// `//host/path` (protocol-relative) or an e-mail domain: clearly a host,
    /// but still checked against file names.
    Addressed,
    /// A custom-scheme authority or a whole string that is just a name.
    BareWhole,
    /// A dotted token inside longer text.
    BareEmbedded,
}

/// A validated host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ValidHost {
    /// Lower case, no trailing dot; IPv6 without brackets.
    pub host: String,
    pub ip: bool,
    /// Registrable domain; None for IP literals and `localhost`.
    pub domain: Option<String>,
}

/// Prefixes of package and class names known to be code in this app.
#[derive(Debug, Default)]
pub(super) struct KnownPackages {
    prefixes: HashSet<String>,
}

impl KnownPackages {
    /// Remembers every dotted prefix of `name` with at least two labels, and
    /// the same with a reverse-DNS root dropped (`com.facebook.ads` also
    /// yields `facebook.ads`, the form a crude scan meets after the root).
    /// Accepts `com.foo.Bar`, `com/foo/Bar` and `Lcom/foo/Bar;`.
    pub fn add(&mut self, name: &str) {
        let trimmed = name.trim();
        let trimmed = match trimmed.strip_prefix('L').and_then(|rest| rest.strip_suffix(';')) {
            Some(inner) => inner,
            None => trimmed,
        };
        let dotted: String =
            trimmed.chars().map(|c| if c == '/' { '.' } else { c.to_ascii_lowercase() }).collect();
        let labels: Vec<&str> = dotted.split('.').filter(|l| !l.is_empty()).collect();
        self.add_prefixes(&labels);
        if labels.len() > 2 {
            if let Some(tail) = labels.get(1..) {
                self.add_prefixes(tail);
            }
        }
    }

    fn add_prefixes(&mut self, labels: &[&str]) {
        let mut prefix = String::new();
        for (index, label) in labels.iter().enumerate() {
            if self.prefixes.len() >= MAX_KNOWN_PACKAGES {
                return;
            }
            if index > 0 {
                prefix.push('.');
            }
            prefix.push_str(label);
            if index >= 1 {
                self.prefixes.insert(prefix.clone());
            }
        }
    }

    /// True when some prefix of `host` (two labels or more) is a known
    /// package or class prefix.
    pub fn covers(&self, host: &str) -> bool {
        if self.prefixes.is_empty() {
            return false;
        }
        let mut dots = host.match_indices('.').map(|(i, _)| i).skip(1);
        loop {
            match dots.next() {
                Some(end) => {
                    if host.get(..end).is_some_and(|p| self.prefixes.contains(p)) {
                        return true;
                    }
                }
                None => return host.contains('.') && self.prefixes.contains(host),
            }
        }
    }
}

/// Parses a dotted-quad IPv4 literal (no leading zeros, std's rules).
pub(super) fn parse_ipv4(text: &str) -> Option<Ipv4Addr> {
    text.parse::<Ipv4Addr>().ok()
}

/// Parses the inside of `[...]` in a URL.
pub(super) fn parse_ipv6(text: &str) -> Option<Ipv6Addr> {
    text.parse::<Ipv6Addr>().ok()
}

/// Addresses that never name a remote peer: `0.0.0.0` (bind-all) and the
/// limited broadcast. Loopback and private ranges are kept: a hard-coded
/// `127.0.0.1:8080` or `192.168.1.10` is something a reviewer wants to see.
pub(super) fn ipv4_is_never_a_host(ip: Ipv4Addr) -> bool {
    ip.is_unspecified() || ip.is_broadcast()
}

/// Dotted quads that, written bare, are probably not addresses: netmasks
/// (`255.255.255.0`), network addresses and version numbers ending in `.0`
/// (`1.0.0.0`), and X.509/ASN.1 object identifiers (`2.5.4.3`, `1.3.6.1`).
pub(super) fn bare_ipv4_is_suspect(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    let bits = u32::from(ip);
    let is_netmask = o[0] == 255 && bits.leading_ones() + bits.trailing_zeros() == 32;
    let is_oid = (o[0] == 2 && o[1] == 5) || (o[0] == 1 && o[1] == 3 && o[2] == 6);
    // Versions (`2.12.9.2`, `4.1.2.3`) start small; so do a few well-known
    // resolvers, which are kept.
    let is_version = o[0] < 10 && !WELL_KNOWN_LOW_IPS.contains(&o);
    is_netmask || o[3] == 0 || o[0] == 0 || is_oid || is_version
}

/// Public resolvers in the low ranges that apps hard-code for DNS or
/// connectivity checks.
const WELL_KNOWN_LOW_IPS: &[[u8; 4]] =
    &[[1, 1, 1, 1], [1, 0, 0, 1], [8, 8, 8, 8], [8, 8, 4, 4], [9, 9, 9, 9], [4, 2, 2, 1], [4, 2, 2, 2]];

/// ELF section names (`.data.rel.ro`, `.text.startup`) seen in native
/// string dumps; `.ro` is a country code.
pub(super) fn is_section_name(host: &str) -> bool {
    let first = host.split('.').next().unwrap_or_default();
    [
        "data", "rodata", "text", "bss", "rel", "rela", "init", "fini", "tdata", "tbss", "note", "gnu",
        "got", "plt", "debug", "eh_frame",
    ]
    .contains(&first)
}

/// Checks DNS shape: 2+ labels, lengths, characters, a non-numeric TLD.
/// `lenient` admits `_` and non-ASCII letters (URL form only: SRV-style
/// names and unconverted IDNs occur there).
fn dns_shape_ok(host: &str, lenient: bool) -> bool {
    if host.is_empty() || host.len() > MAX_HOST_LEN {
        return false;
    }
    let mut labels = 0usize;
    let mut last = "";
    for label in host.split('.') {
        labels += 1;
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return false;
        }
        if label.starts_with('-') || label.ends_with('-') {
            return false;
        }
        let chars_ok = label.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || c == '-'
                || (lenient && (c == '_' || (!c.is_ascii() && c.is_alphanumeric())))
        });
        if !chars_ok {
            return false;
        }
        last = label;
    }
    labels >= 2 && !last.bytes().all(|b| b.is_ascii_digit())
}

/// The public suffix of `host` when the list knows it.
fn known_suffix(host: &str) -> Option<(&str, psl::Type)> {
    let suffix = psl::suffix(host.as_bytes())?;
    let typ = suffix.typ()?;
    let text = std::str::from_utf8(suffix.trim().as_bytes()).ok()?;
    Some((text, typ))
}

/// Public suffix + 1 label, by the list's ICANN section only: private-section
/// entries (`googleapis.com`, `github.io`) name hosting platforms, and the
/// ownership stage needs the company's domain (`www.googleapis.com` ->
/// `googleapis.com`).
fn registrable_domain(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    for i in 1..labels.len() {
        let candidate = labels[i..].join(".");
        let is_icann_suffix = psl::suffix(candidate.as_bytes())
            .is_some_and(|s| s.typ() == Some(psl::Type::Icann) && s.as_bytes() == candidate.as_bytes());
        if is_icann_suffix {
            return labels[i - 1..].join(".");
        }
    }
    // The host is itself a public suffix: its own name is the grouping key.
    host.to_string()
}

/// Lower-cases and drops one trailing dot (an absolute name means the same host).
pub(super) fn normalize(raw: &str) -> String {
    let trimmed = raw.strip_suffix('.').unwrap_or(raw);
    trimmed.to_lowercase()
}

/// Validates a host name or IP literal (not bracketed) in `form`.
/// `original` keeps the case as written, for the class-name check.
pub(super) fn validate(original: &str, form: Form, known: &KnownPackages) -> Result<ValidHost, &'static str> {
    let host = normalize(original);
    if let Some(ip) = parse_ipv4(&host) {
        if ipv4_is_never_a_host(ip) {
            return Err("ipv4 unspecified or broadcast");
        }
        if matches!(form, Form::BareWhole | Form::BareEmbedded) && bare_ipv4_is_suspect(ip) {
            return Err("ipv4 looks like a mask, version or OID");
        }
        return Ok(ValidHost { host, ip: true, domain: None });
    }
    if host == "localhost" && form != Form::BareEmbedded {
        return Ok(ValidHost { host, ip: false, domain: None });
    }
    let lenient = form == Form::Url;
    if !dns_shape_ok(&host, lenient) {
        return Err("not a DNS name");
    }
    let Some((suffix, typ)) = known_suffix(&host) else {
        return Err("unknown TLD");
    };
    if suffix.len() >= host.len() && !suffix.contains('.') {
        return Err("TLD only");
    }
    if form != Form::Url {
        if let Some(reason) = reject_bare(original, &host, suffix, typ, form, known) {
            return Err(reason);
        }
    }
    let domain = Some(registrable_domain(&host));
    Ok(ValidHost { host, ip: false, domain })
}

/// The heuristics for names not written as URLs. Returns why a candidate
/// is rejected, or None when it is accepted as a host.
fn reject_bare(
    original: &str,
    host: &str,
    suffix: &str,
    typ: psl::Type,
    form: Form,
    known: &KnownPackages,
) -> Option<&'static str> {
    let labels: Vec<&str> = host.split('.').collect();
    let first = labels.first().copied().unwrap_or_default();
    let last = labels.last().copied().unwrap_or_default();
    if FILE_EXTENSIONS.contains(&last) {
        // `foo.png`, `libfoo.so`, `README.md`.
        return Some("file name");
    }
    if looks_like_class_name(original) || mixed_case(original) {
        // `com.example.MainActivity`, `Foo.app`, `Log.INFO`: hosts written
        // without a scheme are all lower case or all upper case.
        return Some("class name or constant");
    }
    if form != Form::Addressed && known.covers(host) {
        // The app's own package tree or an SDK's (`com.umeng.analytics.pro`).
        return Some("known code package");
    }
    if form != Form::Addressed && PACKAGE_ROOTS.contains(&first) {
        // `com.facebook.ads`, `android.intent.action.MAIN`, `ro.build.id`.
        return Some("package or property name");
    }
    if labels.iter().filter(|l| l.bytes().all(|b| b.is_ascii_digit())).count() >= 2 {
        // `1.2.3.beta`, `2.5.29.cn`: numbered versions and OIDs.
        return Some("version-like");
    }
    if labels.len() >= 3 && labels.iter().all(|l| l.len() <= 2) {
        // `a.b.cn`: obfuscated class names (ProGuard renames to short labels).
        return Some("obfuscated identifier");
    }
    if typ == psl::Type::Icann && suffix.len() >= host.len() {
        // The whole name is a public suffix (`co.uk`, or `press.jm` under
        // the `*.jm` wildcard): nothing is registered there.
        return Some("name is a public suffix");
    }
    // A private suffix (`web.app`, `github.io`, `pages.dev`) is a hosting
    // platform's namespace: a name under it is a host.
    let private_suffix = typ == psl::Type::Private && suffix.contains('.');
    if private_suffix {
        return None;
    }
    let tld = last;
    let is_cc = tld.len() == 2 && tld.bytes().all(|b| b.is_ascii_lowercase());
    let is_common = is_cc || LEGACY_OR_POPULAR_TLDS.contains(&tld);
    let registrable_labels = labels.len().saturating_sub(suffix.split('.').count());
    let first_is_tld = (first.len() == 2 && first.bytes().all(|b| b.is_ascii_lowercase()))
        || LEGACY_OR_POPULAR_TLDS.contains(&first);
    if first_is_tld && !is_common {
        // Reverse DNS ending in a word TLD: `cn.jpush.android`, `de.foo.app`.
        return Some("reverse-DNS package name");
    }
    if registrable_labels == 1 && WORD_CCTLDS.contains(&tld) {
        return Some("two-label name on a word-like country code");
    }
    if registrable_labels == 1 && is_cc && !HOSTING_CCTLDS.contains(&tld) {
        return Some("two-label name on a rarely used country code");
    }
    if registrable_labels == 1 && tld == "info" {
        // `patch.info`, `build.info`: metadata files.
        return Some("two-label .info name");
    }
    match form {
        Form::BareEmbedded => {
            if IDENTIFIER_ROOTS.contains(&first) {
                return Some("script member access");
            }
            if !is_common {
                return Some("word TLD inside text");
            }
            if registrable_labels == 1 && first.len() == 1 {
                // `R.cn`-like one-letter receivers; `t.cn` is seen as a URL.
                return Some("one-letter name inside text");
            }
            None
        }
        _ => {
            if !is_common && labels.len() < 3 {
                // `facebook.ads`, `user.name`, `e.target`: a word TLD needs a
                // subdomain (`api.example.app`) to be believed without a scheme.
                return Some("two-label name on a word TLD");
            }
            None
        }
    }
}

/// A label with a lower-to-upper transition (`MainActivity`, `getString`)
/// or a capitalised label after the first (`com.foo.Bar`, `Foo.app` has it
/// in the first label followed by a non-country TLD, handled by the TLD
/// rules) is a Java/Kotlin/ObjC identifier. All-capital hosts
/// (`API.EXAMPLE.COM`) pass.
fn looks_like_class_name(original: &str) -> bool {
    original.split('.').enumerate().any(|(index, label)| {
        let bytes = label.as_bytes();
        let camel = bytes.windows(2).any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
        let capitalised = index > 0
            && bytes.first().is_some_and(|b| b.is_ascii_uppercase())
            && bytes.iter().skip(1).any(|b| b.is_ascii_lowercase());
        camel || capitalised
    })
}

/// Both upper- and lower-case letters in one name.
fn mixed_case(original: &str) -> bool {
    let bytes = original.as_bytes();
    bytes.iter().any(u8::is_ascii_uppercase) && bytes.iter().any(u8::is_ascii_lowercase)
}

/// Whether a name that was seen only as a bare word in code text, and whose
/// domain the database does not know, still reads as a hostname on its own.
/// Property keys, intent extras and hidden file names share the dotted
/// shape and end in TLDs that are also words; hostnames of unknown services
/// end in the TLDs hosts are registered under.
/// - The TLD must be one services use for hosts: a legacy or popular gTLD or
///   a country code, but not a country code that is an English or code word
///   (`.id`, `.as`, `.is`: `tpns.msg.id`), nor `.info` / `.int`, which end
///   keys (`intent.extra.update.info`, `build.changelist.as.int`) far more
///   often than unknown hosts. Word gTLDs (`.name`, `.service`, `.app`)
///   already needed a subdomain to pass; alone in code they are key paths
///   (`tpush.running.service.name`).
/// - A whole string written with a leading dot (`.mid.world.ro`) is a hidden
///   file name or a key suffix as often as a cookie domain.
/// - A one-letter registrable label (`a.b.com`, `e.t.net`) is a minified
///   script's member chain.
pub(super) fn reads_as_hostname(host: &str, dotted_only: bool) -> bool {
    if dotted_only {
        return false;
    }
    let Some((suffix, typ)) = known_suffix(host) else {
        return false;
    };
    if typ == psl::Type::Private && suffix.contains('.') {
        // A hosting platform's namespace (`myproject.web.app`): only hosts live there.
        return true;
    }
    let tld = host.rsplit('.').next().unwrap_or_default();
    let is_cc = tld.len() == 2 && tld.bytes().all(|b| b.is_ascii_lowercase());
    let hosting_tld = if is_cc {
        !WORD_CCTLDS.contains(&tld)
    } else {
        LEGACY_OR_POPULAR_TLDS.contains(&tld) && !KEY_WORD_GTLDS.contains(&tld)
    };
    let registrable_label = host
        .strip_suffix(suffix)
        .and_then(|rest| rest.strip_suffix('.'))
        .and_then(|rest| rest.rsplit('.').next())
        .unwrap_or_default();
    hosting_tld && registrable_label.len() > 1
}

/// Legacy gTLDs that are words ending property keys and intent extras.
const KEY_WORD_GTLDS: &[&str] = &["info", "int"];
