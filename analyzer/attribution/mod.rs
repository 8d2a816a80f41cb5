//! Attribution: matches an app's evidence against the compiled database and
//! fills `sdks[]`, the owners of `hosts[]` and `publisher`, so that each
//! answer reads as a chain: class / library / host -> SDK or domain ->
//! company -> parent -> country.

mod control;
pub mod why;

mod components;
pub mod protections;

pub mod parties;

use std::collections::{BTreeMap, HashSet};

pub use control::{control, entity_ref};

use crate::database::entities::{Entities, PrefixKind};
use crate::database::Database;
use crate::evidence::{AppEvidence, UnitKind};
use crate::report::{
    Certificate, Diagnostic, EntityRef, Evidence, EvidenceKind, LinkConfidence, Platform, Publisher,
    PublisherLink, PublisherLinkKind, Report, Sdk,
};

/// Evidence items kept per SDK: enough to show why, not every class.
pub const MAX_EVIDENCE_PER_SDK: usize = 8;

#[derive(Default)]
struct Found {
    evidence: Vec<Evidence>,
    total: usize,
}

#[derive(Default)]
struct Collector {
    by_sdk: BTreeMap<usize, Found>,
}

impl Collector {
    fn add(&mut self, sdk: usize, source: &str, kind: EvidenceKind, value: String) {
        let f = self.by_sdk.entry(sdk).or_default();
        f.total += 1;
        if f.evidence.len() < MAX_EVIDENCE_PER_SDK
            && !f.evidence.iter().any(|e| e.value == value && e.kind == kind)
        {
            f.evidence.push(Evidence { source: source.to_string(), kind, value });
        }
    }
}

/// `[[Lcom/foo/Bar;` or `Lcom/foo/Bar;->m` -> `com/foo/Bar`; primitives and
/// malformed descriptors yield nothing.
pub fn slashed_class_name(descriptor: &str) -> Option<&str> {
    class_part(descriptor).map(|(_, name)| name)
}

/// `[[Lcom/foo/Bar;->m` -> (`[[Lcom/foo/Bar;`, `com/foo/Bar`): the text
/// through the first `;` and the class name in it.
fn class_part(descriptor: &str) -> Option<(&str, &str)> {
    // Every class name and API reference of an app passes through here: a
    // vectorised byte search, and byte offsets (`;`, `[` and `L` are ASCII,
    // so every cut is on a character boundary).
    let end = memchr::memchr(b';', descriptor.as_bytes())?;
    let head = descriptor.get(..=end)?;
    let dims = head.bytes().take_while(|&b| b == b'[').count();
    let name = head.get(dims..end)?.strip_prefix('L')?;
    (!name.is_empty()).then_some((head, name))
}

/// `@rpath/FBSDKCoreKit.framework/FBSDKCoreKit` -> `FBSDKCoreKit`.
fn framework_name(path: &str) -> Option<&str> {
    let (dir, _) = path.rsplit_once(".framework/")?;
    Some(dir.rsplit('/').next().unwrap_or(dir))
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '!']).next().unwrap_or(path)
}

/// Fills `report.sdks`, `report.hosts[].owner/country` and `report.publisher`.
pub fn attribute(db: &Database, report: &mut Report, evidence: &AppEvidence) {
    let m = &db.sdks;
    let mut found = Collector::default();
    // Every class name and API reference passes through here: FxHash, not SipHash.
    let mut seen: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
    let mut hits = Vec::new();
    let mut classes = m.class_matcher();
    for unit in &evidence.units {
        match unit.kind {
            UnitKind::Dex => {
                // API references are mostly to classes seen before; the set grows by the classes.
                seen.reserve(unit.classes.len() + unit.apis.len() / 4);
                let defined = unit.classes.iter().map(|c| (EvidenceKind::Class, c));
                let referenced = unit.apis.iter().map(|a| (EvidenceKind::Api, a));
                // The previous API reference's class part (`Lcom/foo/Bar;`), through its first `;`.
                let mut last_api_class = "";
                for (kind, text) in defined.chain(referenced) {
                    // API references are sorted: a run of them names one class, which the
                    // first of the run has already looked up (same text through the first
                    // `;` gives the same class name, so skipping changes nothing).
                    if kind == EvidenceKind::Api
                        && !last_api_class.is_empty()
                        && text.starts_with(last_api_class)
                    {
                        continue;
                    }
                    let Some((head, name)) = class_part(text) else { continue };
                    if kind == EvidenceKind::Api {
                        last_api_class = head;
                    }
                    if !seen.insert(name) {
                        continue;
                    }
                    hits.clear();
                    classes.match_class(name, &mut hits);
                    for h in &hits {
                        found.add(h.sdk, &unit.source, kind, format!("{head} ({})", h.rule));
                    }
                }
            }
            UnitKind::Native => {
                if let Some(i) = m.match_native_lib(file_name(&unit.source)) {
                    found.add(i, &unit.source, EvidenceKind::Library, file_name(&unit.source).to_string());
                }
                for lib in &unit.libraries {
                    if let Some(i) = m.match_native_lib(file_name(lib)) {
                        found.add(i, &unit.source, EvidenceKind::Library, lib.to_string());
                    }
                }
            }
            UnitKind::Macho => {
                for lib in &unit.libraries {
                    if let Some(i) = framework_name(lib).and_then(|f| m.match_framework(f)) {
                        found.add(i, &unit.source, EvidenceKind::Framework, lib.to_string());
                    }
                }
                for class in &unit.classes {
                    if let Some(i) = m.match_objc_class(class) {
                        found.add(i, &unit.source, EvidenceKind::Class, class.to_string());
                    }
                }
            }
        }
    }
    for key in &evidence.config_keys {
        if let Some(i) = m.match_meta_data(&key.key) {
            found.add(i, &key.source, EvidenceKind::Manifest, key.key.clone());
        }
    }
    components::match_signals(m, &mut classes, report, evidence, &mut found);
    for entry in &evidence.entry_names {
        if let Some(i) = m.match_entry(entry) {
            found.add(i, entry, EvidenceKind::Entry, entry.to_string());
        } else if entry.ends_with(".so") && !entry.starts_with("lib/") {
            // Packers hide their loaders under assets/; lib/ entries are already code units.
            if let Some(i) = m.match_native_lib(file_name(entry)) {
                found.add(i, entry, EvidenceKind::Entry, entry.to_string());
            }
        }
    }
    let ios_app = report.app.platform == Some(Platform::Ios);
    report.diagnostics.retain(|d| d.code != "code.packed");
    for host in &mut report.hosts {
        // An iOS-only SDK's domains say nothing about an Android app's SDKs (and vice versa).
        let platform_fits = |i: usize| m.defs.get(i).is_some_and(|d| ios_app || !d.is_ios_only());
        if let Some((i, rule)) = m.match_host(&host.host).filter(|(i, _)| platform_fits(*i)) {
            let source = host.evidence.first().map(|e| e.source.clone()).unwrap_or_default();
            found.add(i, &source, EvidenceKind::Host, format!("{} ({rule})", host.host));
        }
        // Attribution may run again over a stored report (rescore): start clean.
        host.owner = None;
        host.country = None;
        host.control = None;
        if let Some((_, owner)) = db.entities.domain_owner(&host.host) {
            if let Some(e) = db.entities.by_id.get(&owner.entity) {
                host.owner = Some(e.name.clone());
                host.country = e.country.clone();
                host.control = control(&db.entities, &e.id);
            }
        }
    }

    let mut sdks = Vec::new();
    let mut packer_ids = Vec::new();
    for (i, f) in merge_same_sdks(m, found.by_sdk) {
        let Some(def) = m.defs.get(i) else { continue };
        let chain = def.owner.as_deref().map(|o| chain_refs(&db.entities, o)).unwrap_or_default();
        let mut evidence = f.found.evidence;
        if f.found.total > evidence.len() {
            let more = f.found.total - evidence.len();
            evidence.push(Evidence {
                source: String::new(),
                kind: EvidenceKind::More,
                value: format!("{more} further matches not listed"),
            });
        }
        let mut categories = def.categories.clone();
        for c in f.categories {
            if !categories.contains(&c) {
                categories.push(c);
            }
        }
        if def.packer {
            packer_ids.push(def.id.clone());
            report.diagnostics.push(
                Diagnostic::warning(
                    "code.packed",
                    format!(
                        "packed with {}: the app's real code is encrypted or loaded at run time",
                        def.name
                    ),
                )
                .at(evidence.first().map(|e| e.source.clone()).unwrap_or_default()),
            );
        }
        sdks.push(Sdk {
            id: def.id.clone(),
            name: def.name.clone(),
            exodus_id: f.exodus_id,
            owner: chain.first().map(|e| e.name.clone()),
            country: chain.first().and_then(|e| e.country.clone()),
            categories,
            evidence,
            owner_chain: chain,
            control: def.owner.as_deref().and_then(|o| control(&db.entities, o)),
        });
    }
    sdks.sort_by(|a, b| a.id.cmp(&b.id));
    let packers: Vec<protections::FoundPacker> = sdks
        .iter()
        .filter(|s| packer_ids.contains(&s.id))
        .map(|s| protections::FoundPacker { name: &s.name, evidence: &s.evidence })
        .collect();
    protections::detect(report, evidence, &packers);
    report.sdks = sdks;
    report.publisher = publisher(db, report);
}

/// One SDK as the report lists it, possibly gathered from several definitions.
#[derive(Default)]
struct MergedSdk {
    found: Found,
    /// Set only when the Exodus tracker itself matched (its method would report it).
    exodus_id: Option<u32>,
    /// Categories of absorbed definitions (the listed definition's own come first).
    categories: Vec<String>,
}

/// Folds each matched Exodus tracker into the curated definition that declares
/// `same_as: ["exodus:N"]`, so that one SDK is listed once: the curated id,
/// name and owner, the Exodus id, and the union of categories and evidence.
fn merge_same_sdks(
    m: &crate::database::sdks::SdkMatcher,
    by_sdk: BTreeMap<usize, Found>,
) -> BTreeMap<usize, MergedSdk> {
    let mut merged: BTreeMap<usize, MergedSdk> = BTreeMap::new();
    for (i, f) in by_sdk {
        let Some(def) = m.defs.get(i) else { continue };
        let target = def.exodus_id.and_then(|x| m.exodus_claim(x)).unwrap_or(i);
        let entry = merged.entry(target).or_default();
        if def.exodus_id.is_some() {
            entry.exodus_id = def.exodus_id;
        }
        if target != i {
            for c in &def.categories {
                if !entry.categories.contains(c) {
                    entry.categories.push(c.clone());
                }
            }
        }
        // One class often matches both definitions: the larger count is a floor, not a double count.
        entry.found.total = entry.found.total.max(f.total);
        for e in f.evidence {
            // `Lcom/umeng/a/B; (com.umeng.a)` and `... (com.umeng.)` are the same class found twice.
            let subject = |v: &str| v.split(" (").next().unwrap_or(v).to_string();
            let dup = entry
                .found
                .evidence
                .iter()
                .any(|x| x.kind == e.kind && subject(&x.value) == subject(&e.value));
            if !dup && entry.found.evidence.len() < MAX_EVIDENCE_PER_SDK {
                entry.found.evidence.push(e);
            }
        }
        entry.found.total = entry.found.total.max(entry.found.evidence.len());
    }
    merged
}

/// Publisher links from the signing certificates and the app id.
fn publisher(db: &Database, report: &Report) -> Publisher {
    let mut links = Vec::new();
    let mut seen_subjects = HashSet::new();
    let certs = &report.signing.certificates;
    // A certificate that issued another one in the same signature is a CA
    // on the chain (Apple's root and WWDR intermediate in every IPA, a
    // company CA in some APKs), not the publisher: only the signers speak
    // for who publishes the app.
    let is_issuer = |c: &Certificate| certs.iter().any(|o| o.sha256 != c.sha256 && o.issuer == c.subject);
    for cert in certs {
        if cert.debug || is_issuer(cert) || !seen_subjects.insert(cert.subject.clone()) {
            continue;
        }
        let entity = cert.organization.as_deref().and_then(|o| db.entities.by_name(o));
        let chain = entity.map(|e| chain_refs(&db.entities, &e.id)).unwrap_or_default();
        let evidence = vec![Evidence {
            source: cert.source.clone(),
            kind: EvidenceKind::Certificate,
            value: cert.subject.clone(),
        }];
        if let Some(c) =
            cert.country.as_ref().filter(|c| c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase()))
        {
            links.push(PublisherLink {
                kind: PublisherLinkKind::Certificate,
                value: format!("C={c}"),
                entity: None,
                country: Some(c.clone()),
                confidence: LinkConfidence::Strong,
                owner_chain: Vec::new(),
                evidence: evidence.clone(),
                control: None,
            });
        }
        if let (Some(e), Some(o)) = (entity, &cert.organization) {
            links.push(PublisherLink {
                kind: PublisherLinkKind::Certificate,
                value: format!("O={o}"),
                entity: Some(e.name.clone()),
                country: e.country.clone(),
                confidence: LinkConfidence::Strong,
                owner_chain: chain,
                evidence,
                control: control(&db.entities, &e.id),
            });
        }
    }
    if let Some(id) = &report.app.id {
        let ios = report.app.platform == Some(Platform::Ios);
        let (kind, link_kind) = if ios {
            (PrefixKind::Bundle, PublisherLinkKind::BundlePrefix)
        } else {
            (PrefixKind::Package, PublisherLinkKind::PackagePrefix)
        };
        let source = if ios { "Info.plist" } else { "AndroidManifest.xml" };
        if let Some(p) = db.entities.publisher_prefix(id, kind) {
            let chain = chain_refs(&db.entities, &p.entity);
            // Anyone can choose an app id; a certificate naming the same entity confirms it.
            // A certificate of the same group (Douyin's prefix, a ByteDance certificate) confirms it too.
            let confirmed =
                links.iter().any(|l| l.owner_chain.iter().any(|e| chain.iter().any(|c| c.id == e.id)));
            links.push(PublisherLink {
                kind: link_kind,
                value: id.clone(),
                entity: chain.first().map(|e| e.name.clone()),
                country: chain.first().and_then(|e| e.country.clone()),
                confidence: if confirmed { LinkConfidence::Strong } else { LinkConfidence::Medium },
                owner_chain: chain,
                control: control(&db.entities, &p.entity),
                evidence: vec![Evidence {
                    source: source.into(),
                    kind: EvidenceKind::AppId,
                    value: format!("{id} (prefix {}: {})", p.prefix, p.source),
                }],
            });
        }
        // Reverse-DNS ids starting with a country-code TLD (cn.wps..., ru.sberbank...) hint weakly.
        if let Some(first) = id.split('.').next() {
            if first.len() == 2 && first.chars().all(|c| c.is_ascii_lowercase()) && id.contains('.') {
                let cc = first.to_ascii_uppercase();
                if !matches!(cc.as_str(), "IO" | "ME" | "TV" | "CO" | "AI" | "LY" | "FM" | "GG" | "TO" | "SH")
                {
                    links.push(PublisherLink {
                        kind: PublisherLinkKind::AppIdCctld,
                        value: id.clone(),
                        entity: None,
                        country: Some(cc),
                        confidence: LinkConfidence::Weak,
                        owner_chain: Vec::new(),
                        evidence: vec![Evidence {
                            source: source.into(),
                            kind: EvidenceKind::AppId,
                            value: id.clone(),
                        }],
                        control: None,
                    });
                }
            }
        }
    }
    Publisher { links }
}

/// `id`'s ownership chain as report references (minority holders included:
/// [`control`] says which links control).
pub fn chain_refs(entities: &Entities, id: &str) -> Vec<EntityRef> {
    entities.chain(id).into_iter().map(entity_ref).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{CodeUnit, ConfigKey};
    use crate::report::{Certificate, Host};

    fn report() -> Report {
        let db = Database::embedded();
        let input = crate::report::Input {
            path: "x".into(),
            sha256: String::new(),
            size: 0,
            kind: crate::report::InputKind::Apk,
        };
        let mut r: Report = serde_json::from_value(serde_json::json!({
            "schema": "appvet/report/v1",
            "tool": {"name": "appvet", "version": "0", "signatures_version": db.version},
            "input": input,
            "app": {"platform": null, "id": null, "name": null, "version": null, "version_code": null,
                    "min_sdk": null, "target_sdk": null, "max_sdk": null, "min_os": null,
                    "declared_permissions": [], "android": null, "splits": []},
            "permissions": [], "signing": {"schemes": [], "verified": null, "certificates": []},
            "code": {"dex": [], "native": [], "macho": []}, "sdks": [], "hosts": [], "capabilities": [],
            "risk": {"data_collection": {"score": 0, "factors": []}, "jurisdiction": {"score": 0, "factors": []}},
            "verdict": null, "embedded": [], "diagnostics": []
        }))
        .unwrap();
        r.app.platform = Some(Platform::Android);
        r
    }

    #[test]
    fn descriptors_become_slashed_names() {
        assert_eq!(slashed_class_name("Lcom/a/B;"), Some("com/a/B"));
        assert_eq!(slashed_class_name("[[Lcom/a/B;"), Some("com/a/B"));
        assert_eq!(slashed_class_name("Lcom/a/B;->run"), Some("com/a/B"));
        assert_eq!(slashed_class_name("I"), None);
        assert_eq!(slashed_class_name("L;"), None);
        assert_eq!(slashed_class_name("Lunterminated"), None);
        assert_eq!(slashed_class_name("[;"), None);
        assert_eq!(slashed_class_name(";L"), None);
        assert_eq!(class_part("[[Lcom/a/B;->x;"), Some(("[[Lcom/a/B;", "com/a/B")));
        assert_eq!(class_part("Lé;->x"), Some(("Lé;", "é")));
        assert_eq!(framework_name("@rpath/FBSDKCoreKit.framework/FBSDKCoreKit"), Some("FBSDKCoreKit"));
    }

    #[test]
    fn chinese_sdks_get_owner_chain_and_country() {
        let db = Database::embedded();
        let mut r = report();
        let mut unit = CodeUnit::new("classes.dex", UnitKind::Dex);
        unit.classes = [
            "Lcom/umeng/analytics/MobclickAgent;",
            "Lcom/tencent/bugly/crashreport/CrashReport;",
            "Lcom/facebook/appevents/AppEventsLogger;",
        ]
        .into();
        let ev = AppEvidence {
            units: vec![unit],
            config_keys: vec![ConfigKey {
                source: "AndroidManifest.xml".into(),
                key: "UMENG_APPKEY".into(),
                value: None,
            }],
            entry_names: ["assets/libjiagu.so"].into(),
            payloads: Vec::new(),
        };
        r.hosts.push(Host { host: "alog.umeng.com".into(), ..Default::default() });
        attribute(&db, &mut r, &ev);
        let ids: Vec<&str> = r.sdks.iter().map(|s| s.id.as_str()).collect();
        // Exodus #119 and #190 are the curated `umeng` and `tencent-bugly` (`same_as`): listed once.
        assert!(!ids.contains(&"exodus-119"), "{ids:?}");
        assert!(!ids.contains(&"exodus-190"), "{ids:?}");
        assert!(ids.contains(&"tencent-bugly"));
        assert!(ids.contains(&"exodus-66"));
        assert!(ids.contains(&"umeng"));
        assert!(ids.contains(&"packer-360-jiagu"));
        let umeng = r.sdks.iter().find(|s| s.id == "umeng").unwrap();
        assert_eq!(umeng.exodus_id, Some(119));
        assert!(umeng.evidence.iter().any(|e| e.value.contains("MobclickAgent")));
        assert_eq!(umeng.country.as_deref(), Some("CN"));
        assert_eq!(umeng.owner_chain.last().unwrap().id, "alibaba");
        let fb = r.sdks.iter().find(|s| s.id == "exodus-66").unwrap();
        assert_eq!(fb.country.as_deref(), Some("US"));
        assert_eq!(r.hosts[0].country.as_deref(), Some("CN"));
        assert!(r.diagnostics.iter().any(|d| d.code == "code.packed"));
    }

    #[test]
    fn publisher_links_from_certificate_and_prefix() {
        let db = Database::embedded();
        let mut r = report();
        r.app.id = Some("com.ss.android.ugc.aweme".into());
        r.signing.certificates.push(Certificate {
            subject: "C=CN, O=Beijing ByteDance Example, CN=x".into(),
            country: Some("CN".into()),
            organization: Some("ByteDance Ltd.".into()),
            source: "APK Signing Block v2".into(),
            ..Default::default()
        });
        attribute(&db, &mut r, &AppEvidence::default());
        let links = &r.publisher.links;
        assert!(links
            .iter()
            .any(|l| l.kind == PublisherLinkKind::Certificate && l.country.as_deref() == Some("CN")));
        let prefix = links.iter().find(|l| l.kind == PublisherLinkKind::PackagePrefix).unwrap();
        assert_eq!(prefix.country.as_deref(), Some("CN"));
        assert_eq!(prefix.confidence, LinkConfidence::Strong);
    }

    /// An IPA's CMS carries Apple's root and intermediate with the signer:
    /// the publisher is the signer (here C=KR), never Apple.
    #[test]
    fn the_publisher_is_the_leaf_signer_not_the_cas_that_issued_it() {
        let db = Database::embedded();
        let mut r = report();
        r.app.id = None;
        let cert = |sha: &str, subject: &str, issuer: &str, c: &str, o: &str| Certificate {
            sha256: sha.into(),
            subject: subject.into(),
            issuer: issuer.into(),
            country: Some(c.into()),
            organization: Some(o.into()),
            source: "LC_CODE_SIGNATURE CMS".into(),
            ..Default::default()
        };
        let root = "CN=Apple Root CA,O=Apple Inc.,C=US";
        let wwdr = "CN=Apple Worldwide Developer Relations Certification Authority,O=Apple Inc.,C=US";
        r.signing.certificates.push(cert("01", wwdr, root, "US", "Apple Inc."));
        r.signing.certificates.push(cert("02", root, root, "US", "Apple Inc."));
        r.signing.certificates.push(cert(
            "03",
            "C=KR,O=M8ZCXDJQW4,CN=iPhone Distribution: X",
            wwdr,
            "KR",
            "M8ZCXDJQW4",
        ));
        attribute(&db, &mut r, &AppEvidence::default());
        let countries: Vec<_> = r.publisher.links.iter().map(|l| l.country.as_deref()).collect();
        assert_eq!(countries, [Some("KR")], "{:?}", r.publisher.links);
        // A lone self-signed certificate (the usual APK signer) still speaks for the publisher.
        let mut apk = report();
        apk.app.id = None;
        apk.signing.certificates.push(cert("04", "C=CN,O=Example", "C=CN,O=Example", "CN", "Example"));
        attribute(&db, &mut apk, &AppEvidence::default());
        assert_eq!(apk.publisher.links[0].country.as_deref(), Some("CN"));
    }

    #[test]
    fn unconfirmed_prefix_is_medium_and_cctld_is_weak() {
        let db = Database::embedded();
        let mut r = report();
        r.app.id = Some("com.tencent.fake".into());
        attribute(&db, &mut r, &AppEvidence::default());
        assert_eq!(r.publisher.links[0].confidence, LinkConfidence::Medium);
        r.app.id = Some("cn.wps.moffice_eng".into());
        attribute(&db, &mut r, &AppEvidence::default());
        let l = r.publisher.links.iter().find(|l| l.kind == PublisherLinkKind::AppIdCctld).unwrap();
        assert_eq!((l.country.as_deref(), l.confidence), (Some("CN"), LinkConfidence::Weak));
    }

    #[test]
    fn runs_of_api_references_to_one_class_count_it_once() {
        let db = Database::embedded();
        let mut r = report();
        let mut unit = CodeUnit::new("classes.dex", UnitKind::Dex);
        unit.apis = [
            "Lcom/umeng/analytics/MobclickAgent;->a",
            "Lcom/umeng/analytics/MobclickAgent;->b",
            "Lcom/umeng/analytics/MobclickAgentX;->c",
            "[Lcom/umeng/analytics/MobclickAgentX;->clone",
            "[Lcom/umeng/analytics/MobclickAgentX;->d",
        ]
        .into();
        attribute(&db, &mut r, &AppEvidence { units: vec![unit], ..Default::default() });
        let s = r.sdks.iter().find(|s| s.id == "umeng").unwrap();
        let values: Vec<&str> = s.evidence.iter().map(|e| e.value.split(" (").next().unwrap()).collect();
        assert_eq!(values, ["Lcom/umeng/analytics/MobclickAgent;", "Lcom/umeng/analytics/MobclickAgentX;"]);
        assert!(s.evidence.iter().all(|e| e.kind == EvidenceKind::Api));
    }

    #[test]
    fn evidence_is_capped_per_sdk() {
        let db = Database::embedded();
        let mut r = report();
        let mut unit = CodeUnit::new("classes.dex", UnitKind::Dex);
        unit.classes = (0..50).map(|i| format!("Lcom/umeng/analytics/C{i};")).collect();
        attribute(&db, &mut r, &AppEvidence { units: vec![unit], ..Default::default() });
        let s = r.sdks.iter().find(|s| s.id == "umeng").unwrap();
        assert_eq!(s.evidence.len(), MAX_EVIDENCE_PER_SDK + 1);
        assert_eq!(s.evidence.last().unwrap().kind, EvidenceKind::More);
    }
}
