//! What changed between two versions of an app: permissions, capabilities,
//! SDKs, hosts, owners and countries, signer (a changed signer is a red
//! flag), scores and verdict. Computed from two reports; rendered as JSON
//! (`schema: "appvet/diff/v1"`) or text.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::{Decision, Report, Subject};

pub const DIFF_SCHEMA: &str = "appvet/diff/v1";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Side {
    pub path: String,
    pub sha256: String,
    pub id: Option<String>,
    pub version: Option<String>,
    pub version_code: Option<String>,
}

/// Items present in only one of the two versions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SetChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl SetChange {
    fn of(old: BTreeSet<String>, new: BTreeSet<String>) -> SetChange {
        SetChange {
            added: new.difference(&old).cloned().collect(),
            removed: old.difference(&new).cloned().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ValueChange<T> {
    pub old: T,
    pub new: T,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReportDiff {
    /// Always [`DIFF_SCHEMA`].
    pub schema: String,
    pub old: Side,
    pub new: Side,
    pub permissions: SetChange,
    /// Capabilities as `id (declared|observed|declared+observed)`.
    pub capabilities: SetChange,
    /// SDKs as `name (owner, country)`.
    pub sdks: SetChange,
    pub hosts: SetChange,
    /// Parties (SDK owners, host owners, publisher organisation) as `name (country)`.
    pub owners: SetChange,
    pub countries: SetChange,
    /// Signer certificate SHA-256 fingerprints.
    pub signers: SetChange,
    pub signer_changed: bool,
    pub data_collection: ValueChange<u32>,
    pub jurisdiction: ValueChange<u32>,
    pub decision: ValueChange<Option<Decision>>,
    pub spy_sensitive: ValueChange<Option<bool>>,
    /// What a reviewer must look at first (changed signer, new countries, a lost
    /// protection, stricter verdict).
    pub red_flags: Vec<String>,
}

fn set<I: IntoIterator<Item = String>>(items: I) -> BTreeSet<String> {
    items.into_iter().collect()
}

fn capabilities(r: &Report) -> BTreeSet<String> {
    set(r.capabilities.iter().map(|c| {
        let how = match (c.declared, c.observed) {
            (true, true) => "declared+observed",
            (true, false) => "declared",
            _ => "observed",
        };
        format!("{} ({how})", c.id)
    }))
}

fn owners(r: &Report) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in r.signing.certificates.iter().filter(|c| !c.debug) {
        if let Some(o) = &c.organization {
            out.insert(format!("{o} ({})", c.country.as_deref().unwrap_or("?")));
        }
    }
    for s in &r.sdks {
        if let Some(o) = &s.owner {
            out.insert(format!("{o} ({})", s.country.as_deref().unwrap_or("?")));
        }
    }
    for h in &r.hosts {
        if let Some(o) = &h.owner {
            out.insert(format!("{o} ({})", h.country.as_deref().unwrap_or("?")));
        }
    }
    out
}

fn countries(r: &Report) -> BTreeSet<String> {
    let certs = r.signing.certificates.iter().filter_map(|c| c.country.clone());
    let sdks = r.sdks.iter().filter_map(|s| s.country.clone());
    let hosts = r.hosts.iter().filter_map(|h| h.country.clone());
    let factors = r.risk.jurisdiction.factors.iter().filter_map(|f| f.country.clone());
    set(certs.chain(sdks).chain(hosts).chain(factors).map(|c| c.to_ascii_uppercase()))
}

fn side(r: &Report) -> Side {
    Side {
        path: r.input.path.clone(),
        sha256: r.input.sha256.clone(),
        id: r.app.id.clone(),
        version: r.app.version.clone(),
        version_code: r.app.version_code.clone(),
    }
}

fn rank(decision: Option<Decision>) -> u8 {
    match decision {
        None | Some(Decision::Approve) => 0,
        Some(Decision::Review) => 1,
        Some(Decision::Block) => 2,
    }
}

/// The differences from `old` to `new`, with the risk tables' countries of
/// concern (the union of the presets' lists).
pub fn diff(old: &Report, new: &Report) -> ReportDiff {
    let tables = crate::risk::RiskTables::embedded();
    diff_under(old, new, &tables.weights.jurisdiction.countries)
}

/// The differences from `old` to `new`; `concern` are the countries whose
/// new parties are a red flag (a policy's `countries`).
pub fn diff_under(old: &Report, new: &Report, concern: &[String]) -> ReportDiff {
    let signers = SetChange::of(
        set(old.signing.certificates.iter().map(|c| c.sha256.clone())),
        set(new.signing.certificates.iter().map(|c| c.sha256.clone())),
    );
    let signer_changed = !signers.is_empty();
    let d = ReportDiff {
        schema: DIFF_SCHEMA.into(),
        old: side(old),
        new: side(new),
        permissions: SetChange::of(
            set(old.permissions.iter().map(|p| p.name.clone())),
            set(new.permissions.iter().map(|p| p.name.clone())),
        ),
        capabilities: SetChange::of(capabilities(old), capabilities(new)),
        sdks: SetChange::of(set(old.sdks.iter().map(sdk_label)), set(new.sdks.iter().map(sdk_label))),
        hosts: SetChange::of(
            set(old.hosts.iter().map(|h| h.host.clone())),
            set(new.hosts.iter().map(|h| h.host.clone())),
        ),
        owners: SetChange::of(owners(old), owners(new)),
        countries: SetChange::of(countries(old), countries(new)),
        signers,
        signer_changed,
        data_collection: ValueChange {
            old: old.risk.data_collection.score,
            new: new.risk.data_collection.score,
        },
        jurisdiction: ValueChange { old: old.risk.jurisdiction.score, new: new.risk.jurisdiction.score },
        decision: ValueChange {
            old: old.verdict.as_ref().map(|v| v.decision),
            new: new.verdict.as_ref().map(|v| v.decision),
        },
        spy_sensitive: ValueChange {
            old: old.verdict.as_ref().map(|v| v.spy_sensitive),
            new: new.verdict.as_ref().map(|v| v.spy_sensitive),
        },
        red_flags: Vec::new(),
    };
    let mut flags = Vec::new();
    if d.signer_changed && !old.signing.certificates.is_empty() && !new.signing.certificates.is_empty() {
        let old_signers = signing_certificates(old);
        let added: Vec<String> = signing_certificates(new)
            .into_iter()
            .filter(|c| !old_signers.iter().any(|o| o.sha256 == c.sha256))
            .map(|c| format!("{} (C={})", c.subject, c.country.as_deref().unwrap_or("?")))
            .collect();
        if added.is_empty() {
            flags.push("the signer changed: a different key signed the new version".to_string());
        } else {
            flags.push(format!("a new signer: {}", added.join("; ")));
        }
    }
    flags.extend(party_flags(old, new, concern));
    if old.signing.verified == Some(true) && new.signing.verified != Some(true) {
        flags.push(match new.signing.verified {
            Some(false) => "the signature no longer verifies".to_string(),
            _ => "the new version is not signed (the old one verified)".to_string(),
        });
    }
    flags.extend(super::diff_protections::lost_protections(old, new));
    if old.app.id != new.app.id {
        flags.push(format!(
            "the app id changed: {} -> {}",
            old.app.id.as_deref().unwrap_or("(none)"),
            new.app.id.as_deref().unwrap_or("(none)")
        ));
    }
    if old.analysis.complete && !new.analysis.complete {
        let what: Vec<&str> = new.analysis.gap_kinds().into_iter().map(|k| k.as_str()).collect();
        flags.push(format!("the new version could not be read whole: {}", what.join(", ")));
    }
    if !d.countries.added.is_empty() {
        flags.push(format!("new countries: {}", d.countries.added.join(", ")));
    }
    if rank(d.decision.new) > rank(d.decision.old) {
        flags.push(format!(
            "stricter verdict: {} -> {}",
            d.decision.old.map_or("-", Decision::as_str),
            d.decision.new.map_or("-", Decision::as_str)
        ));
    }
    if d.spy_sensitive.new == Some(true) && d.spy_sensitive.old != Some(true) {
        flags.push("now spy-sensitive".into());
    }
    let newly_observed: Vec<&str> = d
        .capabilities
        .added
        .iter()
        .filter(|c| c.contains("observed"))
        .filter_map(|c| c.split(' ').next())
        .collect();
    if !newly_observed.is_empty() {
        flags.push(format!("code newly reaches: {}", newly_observed.join(", ")));
    }
    ReportDiff { red_flags: flags, ..d }
}

/// The certificates that sign (named by a scheme as signer, and issuing no
/// other certificate of the report: Apple's CAs travel in iOS signatures).
fn signing_certificates(r: &Report) -> Vec<&super::Certificate> {
    let certs = &r.signing.certificates;
    certs
        .iter()
        .filter(|c| r.signing.schemes.iter().any(|s| s.signers.contains(&c.sha256)))
        .filter(|c| !certs.iter().any(|other| other.sha256 != c.sha256 && other.issuer == c.subject))
        .collect()
}

/// Parties of the new version in a country of concern that the old one did
/// not have, and capabilities the new version's code reaches through an SDK
/// whose owner is foreign to the publisher, which the old version did not.
fn party_flags(old: &Report, new: &Report, concern: &[String]) -> Vec<String> {
    use crate::risk::jurisdiction::{attributions, publisher};
    let tables = crate::risk::RiskTables::embedded();
    let weights = &tables.weights.jurisdiction;
    let known: BTreeSet<(Subject, String)> =
        attributions(old, weights).into_iter().map(|a| (a.subject, a.key)).collect();
    let mut flags = Vec::new();
    for a in attributions(new, weights) {
        if concern.iter().any(|c| c.eq_ignore_ascii_case(&a.country))
            && !known.contains(&(a.subject, a.key.clone()))
        {
            flags.push(match a.subject {
                // A publisher attribution is named by its evidence (`C=CN`, a prefix).
                Subject::Publisher => {
                    format!(
                        "a new party in a country of concern: the publisher ({}, from {})",
                        a.country, a.name
                    )
                }
                _ => format!(
                    "a new party in a country of concern: {} ({}, {})",
                    a.name,
                    a.subject.as_str().replace('_', " "),
                    a.country
                ),
            });
        }
    }
    let home = publisher(new).map(|p| p.country);
    let reached = |r: &Report| -> BTreeSet<(String, String)> {
        let foreign: Vec<&super::Sdk> = r
            .sdks
            .iter()
            .filter(|s| s.country.as_deref().is_some_and(|c| Some(c.to_ascii_uppercase()) != home))
            .collect();
        let mut out = BTreeSet::new();
        for cap in &r.capabilities {
            for e in cap.evidence.iter().filter(|e| e.kind == super::EvidenceKind::Sdk) {
                if let Some(sdk) = foreign.iter().find(|s| e.value.starts_with(&format!("{} (", s.name))) {
                    let owner = sdk.owner.clone().unwrap_or_else(|| sdk.name.clone());
                    out.insert((
                        cap.id.clone(),
                        format!("{owner}, {}", sdk.country.as_deref().unwrap_or("?")),
                    ));
                }
            }
        }
        out
    };
    let before = reached(old);
    let mut by_party: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (cap, party) in reached(new).into_iter().filter(|k| !before.contains(k)) {
        by_party.entry(party).or_default().push(cap);
    }
    for (party, caps) in by_party {
        flags.push(format!("a foreign party newly reaches {}: {party}", caps.join(", ")));
    }
    flags
}

fn sdk_label(s: &super::Sdk) -> String {
    format!("{} ({}, {})", s.name, s.owner.as_deref().unwrap_or("?"), s.country.as_deref().unwrap_or("?"))
}

/// The diff as indented JSON.
pub fn render_json(d: &ReportDiff) -> String {
    let mut s = serde_json::to_string_pretty(d).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// The diff for a person: red flags first, then each changed section.
pub fn render_text(d: &ReportDiff) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
            .collect()
    };
    let mut o = String::new();
    let name = |s: &Side| {
        format!(
            "{} {} ({})",
            clean(s.id.as_deref().unwrap_or("-")),
            clean(s.version.as_deref().unwrap_or("-")),
            clean(&s.path)
        )
    };
    let _ = writeln!(o, "old  {}\nnew  {}", name(&d.old), name(&d.new));
    if d.red_flags.is_empty() {
        let _ = writeln!(o, "red flags: none");
    } else {
        let _ = writeln!(o, "red flags:");
        for f in &d.red_flags {
            let _ = writeln!(o, "  ! {}", clean(f));
        }
    }
    let _ = writeln!(
        o,
        "verdict          {} -> {}",
        d.decision.old.map_or("-", Decision::as_str),
        d.decision.new.map_or("-", Decision::as_str)
    );
    let _ = writeln!(o, "data collection  {} -> {}", d.data_collection.old, d.data_collection.new);
    let _ = writeln!(o, "jurisdiction     {} -> {}", d.jurisdiction.old, d.jurisdiction.new);
    for (title, c) in [
        ("permissions", &d.permissions),
        ("capabilities", &d.capabilities),
        ("sdks", &d.sdks),
        ("hosts", &d.hosts),
        ("owners", &d.owners),
        ("countries", &d.countries),
        ("signers", &d.signers),
    ] {
        if c.is_empty() {
            continue;
        }
        let _ = writeln!(o, "{title}");
        for a in &c.added {
            let _ = writeln!(o, "  + {}", clean(a));
        }
        for r in &c.removed {
            let _ = writeln!(o, "  - {}", clean(r));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Certificate, Host, Permission, Verdict};

    #[test]
    fn a_signature_that_no_longer_verifies_and_an_incomplete_read_are_red_flags_in_plain_words() {
        let mut old = crate::risk::tests_support::report();
        old.signing.verified = Some(true);
        let mut new = old.clone();
        new.signing.verified = Some(false);
        new.app.id = Some("com.example.other".into());
        new.analysis.complete = false;
        new.analysis.gaps.push(crate::report::Gap {
            what: crate::report::GapKind::Code,
            why: "classes.dex: bad checksum".into(),
            diagnostic: Some("dex.bad_checksum".into()),
        });
        let d = diff(&old, &new);
        assert_eq!(
            d.red_flags,
            [
                "the signature no longer verifies",
                "the app id changed: com.example.t -> com.example.other",
                "the new version could not be read whole: code",
            ]
        );
        assert!(!render_text(&d).contains("Some("));
        // The same version against itself raises nothing.
        assert!(diff(&old, &old).red_flags.is_empty());
    }

    #[test]
    fn changed_signer_new_country_and_stricter_verdict_are_red_flags() {
        let mut old = crate::risk::tests_support::report();
        old.signing.certificates.push(Certificate { sha256: "aa".into(), ..Default::default() });
        old.verdict = Some(Verdict { decision: Decision::Approve, ..Default::default() });
        let mut new = old.clone();
        new.signing.certificates[0].sha256 = "bb".into();
        new.permissions.push(Permission { name: "android.permission.CAMERA".into(), ..Default::default() });
        new.hosts.push(Host {
            host: "x.example.ru".into(),
            owner: Some("X".into()),
            country: Some("RU".into()),
            ..Default::default()
        });
        new.verdict = Some(Verdict { decision: Decision::Block, ..Default::default() });
        let d = diff(&old, &new);
        assert!(d.signer_changed);
        assert_eq!(d.permissions.added, ["android.permission.CAMERA"]);
        assert_eq!(d.countries.added, ["RU"]);
        assert_eq!(d.owners.added, ["X (RU)"]);
        assert_eq!(d.red_flags.len(), 4, "{:?}", d.red_flags);
        assert!(d.red_flags.contains(&"a new party in a country of concern: X (host owner, RU)".to_string()));
        let text = render_text(&d);
        assert!(text.contains("! the signer changed"), "{text}");
        // Under a policy whose countries do not include RU, the host is no concern.
        let d = diff_under(&old, &new, &["CN".to_string()]);
        assert!(!d.red_flags.iter().any(|f| f.contains("country of concern")), "{:?}", d.red_flags);
        assert!(render_json(&d).contains("\"schema\": \"appvet/diff/v1\""));
    }

    #[test]
    fn a_new_signer_is_named_and_a_foreign_sdk_newly_reaching_a_capability_is_flagged() {
        use crate::report::{Capability, Evidence, EvidenceKind, SchemeResult, Sdk};
        let ca = Certificate {
            sha256: "ca".into(),
            subject: "CN=Root".into(),
            issuer: "CN=Root".into(),
            ..Default::default()
        };
        let leaf = |sha: &str, cn: &str, c: &str| Certificate {
            sha256: sha.into(),
            subject: format!("CN={cn}"),
            issuer: "CN=Root".into(),
            country: Some(c.into()),
            ..Default::default()
        };
        let mut old = crate::risk::tests_support::report();
        old.signing.certificates = vec![leaf("aa", "Old", "NL"), ca.clone()];
        old.signing.schemes = vec![SchemeResult {
            scheme: "apple-codesign".into(),
            signers: vec!["aa".into(), "ca".into()],
            ..Default::default()
        }];
        let mut new = old.clone();
        new.signing.certificates = vec![leaf("bb", "New", "KR"), ca];
        new.signing.schemes[0].signers = vec!["bb".into(), "ca".into()];
        new.sdks.push(Sdk {
            id: "kit".into(),
            name: "Kit".into(),
            owner: Some("Kit Corp".into()),
            country: Some("US".into()),
            ..Default::default()
        });
        new.capabilities.push(Capability {
            id: "location".into(),
            observed: true,
            evidence: vec![Evidence {
                source: "x".into(),
                kind: EvidenceKind::Sdk,
                value: "Kit (Analytics)".into(),
            }],
            ..Default::default()
        });
        let d = diff_under(&old, &new, &[]);
        assert!(d.red_flags.contains(&"a new signer: CN=New (C=KR)".to_string()), "{:?}", d.red_flags);
        assert!(
            d.red_flags.contains(&"a foreign party newly reaches location: Kit Corp, US".to_string()),
            "{:?}",
            d.red_flags
        );
        // Reached already in the old version: no flag.
        let mut old2 = new.clone();
        old2.signing = old.signing.clone();
        let d = diff_under(&old2, &new, &[]);
        assert!(!d.red_flags.iter().any(|f| f.contains("newly reaches")), "{:?}", d.red_flags);
    }

    #[test]
    fn identical_reports_have_no_changes() {
        let r = crate::risk::tests_support::report();
        let d = diff(&r, &r);
        assert!(d.red_flags.is_empty() && d.permissions.is_empty() && !d.signer_changed);
    }
}
