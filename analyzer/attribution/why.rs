//! `sigs why`: how a target (a domain, a package prefix, an SDK id or an
//! entity id) resolves in the signature database, link by link, with the
//! source and date of each link.

use serde::Serialize;

use crate::database::entities::PrefixKind;
use crate::database::Database;
use crate::report::{Control, EntityKind, EntityRef};

use super::control::control;
use super::slashed_class_name;

/// One way the target resolved to an entity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Resolution {
    /// entity | sdk | domain | publisher_prefix | class
    pub kind: &'static str,
    /// What matched: the domain suffix, the prefix, the SDK id.
    pub matched: String,
    /// The entity it resolves to (null: an SDK without an owner).
    pub entity: Option<String>,
    /// Where the database has this link from.
    pub source: String,
    /// The entity and its parents up to the top, minority holders included.
    pub chain: Vec<EntityRef>,
    /// The chain of control and the country it ends in.
    pub control: Option<Control>,
}

/// Everything `target` resolves to; empty when the database knows nothing of it.
pub fn why(db: &Database, target: &str) -> Vec<Resolution> {
    let target = target.trim();
    let mut out = Vec::new();
    let mut push = |kind, matched: String, entity: Option<&str>, source: String| {
        out.push(Resolution {
            kind,
            matched,
            entity: entity.map(str::to_string),
            source,
            chain: entity.map(|e| super::chain_refs(&db.entities, e)).unwrap_or_default(),
            control: entity.and_then(|e| control(&db.entities, e)),
        })
    };
    if let Some(e) = db.entities.by_id.get(target) {
        push("entity", e.id.clone(), Some(&e.id), e.source.clone());
    }
    for d in db.sdks.defs.iter().filter(|d| d.id == target) {
        push("sdk", d.id.clone(), d.owner.as_deref(), d.source.clone());
    }
    if target.contains('.') {
        let lower = target.to_ascii_lowercase();
        if let Some((suffix, owner)) = db.entities.domain_owner(&lower) {
            push("domain", suffix.to_string(), Some(&owner.entity), owner.source.clone());
        }
        for kind in [PrefixKind::Package, PrefixKind::Bundle] {
            if let Some(p) = db.entities.publisher_prefix(target, kind) {
                let what = if kind == PrefixKind::Package { "package_prefix" } else { "bundle_prefix" };
                push("publisher_prefix", format!("{what} {}", p.prefix), Some(&p.entity), p.source.clone());
            }
        }
        // A class or package name: the SDKs whose signatures match it.
        let descriptor = format!("L{};", target.replace('.', "/"));
        if let Some(name) = slashed_class_name(&descriptor) {
            let mut hits = Vec::new();
            db.sdks.match_class(name, &mut hits);
            // Host rules too: a domain an SDK talks to.
            let host = db.sdks.match_host(&lower);
            let class_hits = hits.into_iter().map(|h| ("class", h.sdk, h.rule));
            let host_hits = host.into_iter().map(|(i, rule)| ("sdk_host", i, rule));
            for (kind, i, rule) in class_hits.chain(host_hits) {
                if let Some(d) = db.sdks.defs.get(i) {
                    push(kind, format!("{} ({rule})", d.id), d.owner.as_deref(), d.source.clone());
                }
            }
        }
    }
    out.dedup();
    out
}

/// `why` as text: each resolution, then the chain link by link.
pub fn render(target: &str, found: &[Resolution]) -> String {
    if found.is_empty() {
        return format!("{target}: not in the signature database\n");
    }
    let mut out = String::new();
    for r in found {
        out.push_str(&format!(
            "{target}: {} {} -> {}\n",
            r.kind,
            r.matched,
            r.entity.as_deref().unwrap_or("no owner")
        ));
        out.push_str(&format!("  source: {}\n", r.source));
        for (i, e) in r.chain.iter().enumerate() {
            let country = match (&e.country, &e.run_from, e.kind) {
                (_, _, EntityKind::OpenSource) => "open-source project, no controlling company".into(),
                (_, _, EntityKind::Unknown) => "company or its country not established".into(),
                (Some(c), Some(run), _) if c != run => format!("{c}, run from {run}"),
                (Some(c), _, _) => c.clone(),
                (None, _, _) => "country unknown".into(),
            };
            let as_of = e.as_of.as_deref().map(|d| format!(", as of {d}")).unwrap_or_default();
            out.push_str(&format!("  {}{} ({country}): {}{as_of}\n", "  ".repeat(i), e.name, e.source));
            if let (Some(link), true) = (&e.link, i + 1 < r.chain.len()) {
                out.push_str(&format!("  {}  held by the next: {link}\n", "  ".repeat(i)));
            }
        }
        if let Some(c) = &r.control {
            let from = match (c.controller_kind, c.country.as_deref()) {
                (EntityKind::OpenSource, _) => "controlled by no company or country",
                (_, Some(country)) => country,
                _ => "controlled from unknown",
            };
            let from = if c.country.is_some() { format!("controlled from {from}") } else { from.to_string() };
            out.push_str(&format!("  {from} ({} confidence): {}\n", c.confidence, c.chain));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_prefixes_sdks_and_entities_resolve_to_their_controller() {
        let db = Database::embedded();
        let tiktok = why(&db, "com.zhiliaoapp.musically");
        let p = tiktok.iter().find(|r| r.kind == "publisher_prefix").unwrap();
        assert_eq!(p.control.as_ref().unwrap().country.as_deref(), Some("CN"));
        let text = render("com.zhiliaoapp.musically", &tiktok);
        assert!(text.contains("TikTok Pte. Ltd. (SG)"), "{text}");
        assert!(text.contains("held by the next: wholly owned"), "{text}");
        let host = why(&db, "api16-normal-c-useast1a.tiktokv.com");
        assert!(host.iter().any(|r| r.kind == "domain" && r.entity.as_deref() == Some("tiktok")));
        assert!(why(&db, "bytedance").iter().any(|r| r.kind == "entity"));
        assert!(why(&db, "umeng").iter().any(|r| r.kind == "sdk"));
        assert!(why(&db, "nothing-known-here").is_empty());
        assert!(render("x", &[]).contains("not in the signature database"));
    }

    #[test]
    fn an_open_source_library_resolves_to_no_country() {
        let db = Database::embedded();
        let acra = why(&db, "org.acra.ACRA");
        let class = acra.iter().find(|r| r.kind == "class").expect("ACRA's classes match Exodus #444");
        let control = class.control.as_ref().unwrap();
        assert_eq!((control.country.as_deref(), control.controller_kind), (None, EntityKind::OpenSource));
        let text = render("org.acra.ACRA", &acra);
        assert!(text.contains("open-source project, no controlling company"), "{text}");
        assert!(text.contains("controlled by no company or country"), "{text}");
    }
}
