//! Host and URL extraction: the evidence for *where an app talks to*.
//!
//! One [`HostExtractor`] is built per app and fed every string worth
//! scanning (DEX strings, ELF rodata strings, manifest values, text assets);
//! [`HostExtractor::finish`] returns the report's `hosts[]`, sorted by host.
//! Pure and deterministic: no I/O, no clocks, evidence kept in scan order.
//!
//! What counts as a host, and why (details in `rules.rs`):
//! - **URLs** with a network scheme (`https`, `wss`, `rtmp`, `mqtt`, ...) are
//!   trusted; only the name's shape and TLD are checked. Local schemes
//!   (`content://`, `file://`, `android.resource://`, `market://`) are
//!   skipped: their authority is a provider or package. App-defined schemes
//!   (`myapp://x.y`) go through the bare-name rules. XML namespace, DTD and
//!   licence URLs (`http://schemas.android.com/apk/res/android`) are
//!   identifiers, not endpoints, and are dropped.
//! - **Bare names** (`api.umeng.com`, `log.example.cn:8080`) need a real
//!   public suffix and must not look like a package, class, file, property
//!   key, version or script member access. A whole string that is just a
//!   name is trusted more than a name inside text.
//! - **E-mail domains** count, with scheme `mailto`: they name who runs a
//!   service (support and abuse contacts, SDK vendors) even when the app
//!   never connects there. The evidence kind stays the caller's kind so the
//!   place it was found is not lost.
//! - **IP literals**: IPv4 anywhere, IPv6 only bracketed in URLs. `0.0.0.0`
//!   and `255.255.255.255` are dropped; loopback and private addresses are
//!   kept (a hard-coded `127.0.0.1:8080` or LAN address is a finding).
//!   Bare quads that read as netmasks, `x.x.x.0` versions or OIDs
//!   (`2.5.4.3`) are dropped; in URL form they are kept.
//! - Internationalised names are kept as written (lower-cased) in URL form;
//!   they are not converted to punycode (no IDNA dependency); punycode
//!   (`xn--`) names are ordinary ASCII names.

mod rules;
mod scan;
mod words;

use std::collections::{BTreeSet, HashMap};

use crate::report::{Diagnostic, Evidence, EvidenceKind, Host};
use rules::KnownPackages;

/// Distinct hosts kept per app: a hostile app could otherwise carry a
/// million generated names.
pub const MAX_HOSTS: usize = 20_000;
/// Evidence items kept per host (`evidence_total` counts all sightings).
pub const MAX_EVIDENCE_PER_HOST: usize = 5;

#[derive(Debug)]
struct HostEntry {
    domain: Option<String>,
    ip: bool,
    schemes: BTreeSet<String>,
    evidence: Vec<Evidence>,
    total: u32,
    /// Every sighting was a bare name (no scheme): such a host is dropped at
    /// the end if a code package learnt after the sighting covers it.
    bare_only: bool,
    /// Every sighting was in code text (DEX strings, native strings, assets)
    /// rather than under a host-valued key of a manifest or resource.
    code_text_only: bool,
    /// Some sighting stood where hosts stand: a URL, `:port`, `/path`,
    /// `//host`, an e-mail domain, or a string that is a list of hosts.
    contextual: bool,
    /// Every sighting was a whole string written with a leading dot.
    dotted_only: bool,
}

/// Collects hosts from the strings of one app.
#[derive(Debug)]
pub struct HostExtractor {
    known: KnownPackages,
    hosts: HashMap<String, HostEntry>,
    dropped_hosts: u64,
}

impl HostExtractor {
    /// `own_packages`: the app's package name and its code package prefixes
    /// (`com.example.app`, `com.umeng.analytics`), used to reject Java
    /// package and class names that look like domains.
    pub fn new(own_packages: &[String]) -> Self {
        let mut extractor =
            HostExtractor { known: KnownPackages::default(), hosts: HashMap::new(), dropped_hosts: 0 };
        extractor.add_code_packages(own_packages.iter().map(String::as_str));
        extractor
    }

    /// Adds package or class names seen in code (dotted, slashed or DEX
    /// descriptors). Strings scanned before this call are not re-judged,
    /// so feed class names first when possible.
    pub fn add_code_packages<'a>(&mut self, packages: impl IntoIterator<Item = &'a str>) {
        for package in packages {
            self.known.add(package);
        }
    }

    /// Scans one string found at `source` (archive entry path) with evidence
    /// kind `kind` (`string`, `native-string`, `manifest`, `asset`, `resource`).
    pub fn scan(&mut self, source: &str, kind: EvidenceKind, text: &str) {
        self.scan_keeping(source, kind, text, |_| true, |_| {});
    }

    /// Like [`HostExtractor::scan`], also returning the host names found
    /// (so the code that loads the string can be tied to them).
    pub fn scan_hosts(&mut self, source: &str, kind: EvidenceKind, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.scan_keeping(source, kind, text, |_| true, |h| out.push(h.to_string()));
        out
    }

    /// Scans the value of `key` (an XML attribute or element name, a JSON
    /// key, a meta-data name): fully when the key says it holds a host,
    /// otherwise for URLs only (see [`holds_host`]).
    pub fn scan_keyed(&mut self, source: &str, kind: EvidenceKind, key: &str, value: &str) {
        if holds_host(key) {
            self.scan(source, kind, value);
        } else {
            self.scan_urls(source, kind, value);
        }
    }

    /// Like [`HostExtractor::scan`], keeping only hosts written as URLs,
    /// e-mail addresses or IP literals: for text where a bare dotted word
    /// is more likely a key, a split name or a file name than a host (an
    /// XML attribute that does not hold a host, say `split="config.ru"`).
    pub fn scan_urls(&mut self, source: &str, kind: EvidenceKind, text: &str) {
        self.scan_keeping(source, kind, text, |found| found.scheme.is_some() || found.host.ip, |_| {});
    }

    fn scan_keeping(
        &mut self,
        source: &str,
        kind: EvidenceKind,
        text: &str,
        keep: impl Fn(&scan::Found) -> bool,
        mut seen: impl FnMut(&str),
    ) {
        let mut found: Vec<scan::Found> =
            scan::scan(text, &self.known).into_iter().filter(|f| keep(f)).collect();
        if found.len() >= 2 && is_host_list(text, &found) {
            // `"a.example.com,b.example.net"`: a string of nothing but names is a host list.
            for f in &mut found {
                f.context = true;
            }
        }
        for found in found {
            seen(&found.host.host);
            self.record(source, kind, found);
        }
    }

    fn record(&mut self, source: &str, kind: EvidenceKind, found: scan::Found) {
        let at_capacity = self.hosts.len() >= MAX_HOSTS;
        let entry = match self.hosts.get_mut(&found.host.host) {
            Some(entry) => entry,
            None if at_capacity => {
                self.dropped_hosts = self.dropped_hosts.saturating_add(1);
                return;
            }
            None => self.hosts.entry(found.host.host.clone()).or_insert(HostEntry {
                domain: found.host.domain.clone(),
                ip: found.host.ip,
                schemes: BTreeSet::new(),
                evidence: Vec::new(),
                total: 0,
                bare_only: true,
                code_text_only: true,
                contextual: false,
                dotted_only: true,
            }),
        };
        entry.total = entry.total.saturating_add(1);
        entry.code_text_only &=
            matches!(kind, EvidenceKind::String | EvidenceKind::NativeString | EvidenceKind::Asset);
        entry.contextual |= found.context;
        entry.dotted_only &= found.leading_dot;
        if let Some(scheme) = found.scheme {
            entry.schemes.insert(scheme);
            entry.bare_only = false;
        }
        if entry.evidence.len() < MAX_EVIDENCE_PER_HOST
            && !entry.evidence.iter().any(|e| e.source == source && e.kind == kind && e.value == found.value)
        {
            entry.evidence.push(Evidence { source: scan::clip(source), kind, value: found.value });
        }
    }

    /// The hosts, sorted by host name, judged with no signature database
    /// (no registrable domain is known).
    pub fn finish(self) -> Vec<Host> {
        self.finish_with_diagnostics(|_| false).0
    }

    /// The hosts, plus a `hosts.capped` warning when more than
    /// [`MAX_HOSTS`] distinct names were seen and a `hosts.not_hosts` note
    /// naming the dotted words set aside as not hosts.
    ///
    /// `known` says whether the signature database knows a host's domain (an
    /// owner or an SDK's host rule). A name seen only as a bare dotted word
    /// in code text, never where hosts stand (a URL, `:port`, `/path`,
    /// `//host`, an e-mail domain, a list of hosts), is a host only when the
    /// database knows it or when it reads as a hostname on its own (a
    /// hosting TLD, no leading dot, a registrable label longer than one
    /// letter); otherwise it is an SDK property key, an intent extra or a
    /// hidden file name that happens to end in a real TLD
    /// (`tpush.running.service.name`, `.mid.world.ro`).
    pub fn finish_with_diagnostics(self, known: impl Fn(&str) -> bool) -> (Vec<Host>, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        if self.dropped_hosts > 0 {
            diagnostics.push(Diagnostic::warning(
                "hosts.capped",
                format!(
                    "more than {MAX_HOSTS} distinct hosts; {} later sightings of new hosts ignored",
                    self.dropped_hosts
                ),
            ));
        }
        let packages = self.known;
        let mut not_hosts: Vec<String> = Vec::new();
        let mut hosts: Vec<Host> = self
            .hosts
            .into_iter()
            // Strings are scanned as they come, before every class of the app
            // is known; a bare name that turned out to be a package is not a host.
            .filter(|(host, entry)| !(entry.bare_only && packages.covers(host)))
            .filter(|(host, entry)| {
                let stands_alone =
                    entry.bare_only && entry.code_text_only && !entry.contextual && entry.domain.is_some();
                let kept = !stands_alone || known(host) || rules::reads_as_hostname(host, entry.dotted_only);
                if !kept {
                    not_hosts.push(host.clone());
                }
                kept
            })
            .map(|(host, entry)| Host {
                host,
                domain: entry.domain,
                owner: None,
                country: None,
                schemes: entry.schemes.into_iter().collect(),
                ip: entry.ip,
                evidence: entry.evidence,
                evidence_total: entry.total,
                control: None,
                referenced_by: Vec::new(),
                weak: false,
            })
            .collect();
        for h in &mut hosts {
            h.weak = h.bare_text_only();
        }
        hosts.sort_by(|a, b| a.host.cmp(&b.host));
        if !not_hosts.is_empty() {
            not_hosts.sort();
            let total = not_hosts.len();
            let mut listed = not_hosts.into_iter().take(MAX_NOT_HOSTS_LISTED).collect::<Vec<_>>().join(", ");
            if total > MAX_NOT_HOSTS_LISTED {
                listed.push_str(&format!(" and {} more", total - MAX_NOT_HOSTS_LISTED));
            }
            diagnostics.push(Diagnostic::info(
                "hosts.not_hosts",
                format!(
                    "{total} dotted words end in a real TLD but were not taken as hosts (seen only bare in code \
                     text, unknown to the database, not shaped like a hostname): {listed}"
                ),
            ));
        }
        (hosts, diagnostics)
    }
}

/// Longest string judged as a list of hosts.
const MAX_HOST_LIST_LEN: usize = 4096;

/// Names listed in the `hosts.not_hosts` diagnostic (the count covers all).
const MAX_NOT_HOSTS_LISTED: usize = 50;

/// Whether `text` holds nothing but the names and URLs found in it, joined
/// by separators (`a.example.com, b.example.net`): such a string is a list
/// of hosts, so each bare name in it stands where hosts stand.
fn is_host_list(text: &str, found: &[scan::Found]) -> bool {
    // A list of hosts is short; a script or text asset with a URL in it is not one.
    if text.len() > MAX_HOST_LIST_LEN {
        return false;
    }
    let mut rest = text.to_string();
    for f in found {
        rest = rest.replacen(f.value.as_str(), " ", 1);
    }
    rest.chars().all(|c| c.is_whitespace() || ",;|\"'[](){}".contains(c))
}

/// Entry point for the `hosts` fuzz target: scans `data` as one string
/// (lossy UTF-8) with a package context and finishes.
#[doc(hidden)]
pub fn fuzz_one(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut extractor = HostExtractor::new(&["com.example.app".to_string()]);
    extractor.add_code_packages(text.split(['\n', ' ']).take(8));
    extractor.scan("fuzz", EvidenceKind::String, &text);
    let _ = extractor.finish_with_diagnostics(|host| host.ends_with(".com"));
}

#[cfg(test)]
mod tests;

/// Whether a value stored under this key (an XML attribute or element name,
/// a JSON key, a meta-data name) holds a host: a bare dotted word counts as
/// a host only where hosts stand (`android:host`, `<domain>` of a network
/// security config, a `serverUrl` key). Elsewhere only URLs, e-mail
/// addresses and IP literals count: `split="config.ru"` in a bundle names a
/// language split, not a Russian host.
pub fn holds_host(key: &str) -> bool {
    // Case-insensitive without allocating: every XML attribute of every
    // resource file passes through here.
    let key = key.as_bytes();
    ["host", "domain", "url", "uri", "server", "endpoint", "href", "address"]
        .iter()
        .any(|w| key.windows(w.len()).any(|win| win.eq_ignore_ascii_case(w.as_bytes())))
}
