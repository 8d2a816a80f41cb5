//! Entities (companies with parents and countries), the domains they own and
//! the app-id prefixes they publish under: `signatures/entities/*.tsv`,
//! `signatures/domains/*.tsv`, `signatures/publishers.tsv`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::control::{EntityKind, ParentLink, SourceConfidence};
use crate::lazy::{put_framed, take_bytes, LazyMap};
use crate::snapshot::SnapshotError;
use crate::SignatureError;

/// Longest ownership chain followed; real chains have 2-4 links, and a cycle
/// in edited data must not loop.
const MAX_CHAIN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    /// Registered country: ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub aliases: Vec<String>,
    pub source: String,
    /// From `entities/curated.tsv` (hand-checked) rather than an imported data set.
    pub curated: bool,
    /// Country it is run from (headquarters, main operations) when that is
    /// not where it is registered: a Cayman holding run from Beijing.
    pub run_from: Option<String>,
    /// How `parent` holds this entity; `None` without a parent.
    pub link: Option<ParentLink>,
    /// Day the facts of this row were last checked against `source`.
    pub as_of: Option<String>,
    /// A company, an open-source project no company controls, or a vendor
    /// whose company is unknown (the last two have no country).
    pub kind: EntityKind,
    /// Lower than the links say when the row rests on the vendor's own
    /// site or a press report only.
    pub confidence: Option<SourceConfidence>,
}

impl Entity {
    /// The country it is run from, else where it is registered.
    pub fn run_country(&self) -> Option<&str> {
        self.run_from.as_deref().or(self.country.as_deref())
    }

    /// `ByteDance Ltd. (KY, run from CN)`; `ACRA (open-source project, no
    /// controlling company)`.
    pub fn describe(&self) -> String {
        match self.kind {
            EntityKind::OpenSource => {
                return format!("{} (open-source project, no controlling company)", self.name)
            }
            EntityKind::Unknown => return format!("{} (company or its country not established)", self.name),
            EntityKind::Company => {}
        }
        match (self.country.as_deref(), self.run_from.as_deref()) {
            (Some(c), Some(r)) if c != r => format!("{} ({c}, run from {r})", self.name),
            (Some(c), _) | (None, Some(c)) => format!("{} ({c})", self.name),
            (None, None) => format!("{} (country unknown)", self.name),
        }
    }
}

/// The chain of control above an entity (see `crate::control`).
#[derive(Debug, Clone, Default)]
pub struct ControlChain<'a> {
    /// The entity, then each parent that controls the one before it.
    pub path: Vec<&'a Entity>,
    /// The parent above the path that holds only a minority stake: shown,
    /// but it does not control.
    pub minority_holder: Option<&'a Entity>,
}

impl ControlChain<'_> {
    /// The entity at the top of the chain of control.
    pub fn controller(&self) -> Option<&Entity> {
        self.path.last().copied()
    }

    /// The country the chain is controlled from: where the top controller is run from.
    pub fn country(&self) -> Option<&str> {
        self.controller().and_then(Entity::run_country)
    }

    /// Every country on the chain of control (registered and run from), in
    /// chain order, each once: a country of concern anywhere here is a finding.
    pub fn countries(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in &self.path {
            for c in [e.country.as_deref(), e.run_from.as_deref()].into_iter().flatten() {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// `TikTok Pte. Ltd. (SG) -> ByteDance Ltd. (KY, run from CN)`, with a
    /// minority holder shown after `-/->` (it does not control).
    pub fn describe(&self) -> String {
        let mut out = self.path.iter().map(|e| e.describe()).collect::<Vec<_>>().join(" -> ");
        if let Some(m) = self.minority_holder {
            out.push_str(&format!(" -/-> {} [minority]", m.describe()));
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainOwner {
    pub entity: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrefixKind {
    Package,
    Bundle,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherPrefix {
    pub kind: PrefixKind,
    pub prefix: String,
    pub entity: String,
    pub source: String,
}

/// Entities, domains and publisher prefixes as parsed from the text files:
/// the form the build script encodes into the snapshot.
#[derive(Debug, Default)]
pub struct EntityTables {
    pub by_id: HashMap<String, Entity>,
    /// Registrable domain or host suffix -> owner.
    pub domains: HashMap<String, DomainOwner>,
    pub publishers: Vec<PublisherPrefix>,
    /// Normalised names and aliases -> entity id (certificate O= lookups).
    names: HashMap<String, String>,
}

/// Entities, domains and publisher prefixes, indexed for lookups; read
/// from snapshot bytes entry by entry (see `crate::lazy`).
#[derive(Debug, Default)]
pub struct Entities {
    pub by_id: LazyMap<Entity>,
    pub domains: LazyMap<DomainOwner>,
    pub publishers: Vec<PublisherPrefix>,
    names: LazyMap<String>,
}

fn syntax(path: &str, line: usize, message: impl Into<String>) -> SignatureError {
    SignatureError::Syntax { path: path.to_string(), line, message: message.into() }
}

/// Non-comment lines split on tabs, trimmed, with their 1-based line numbers.
fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').map(str::trim).collect()))
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Lower case, letters and digits only, legal-form words dropped, so that
/// `Tencent Holdings Ltd.` and `TENCENT HOLDINGS LIMITED` compare equal.
pub fn normalise_name(name: &str) -> String {
    const FORMS: &[&str] = &[
        "inc",
        "ltd",
        "llc",
        "limited",
        "co",
        "corp",
        "corporation",
        "company",
        "gmbh",
        "sa",
        "ag",
        "plc",
        "pte",
        "bv",
        "nv",
        "ab",
        "oy",
        "srl",
        "spa",
        "kk",
        "the",
    ];
    let lower = name.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FORMS.contains(w))
        .map(str::to_string)
        .collect();
    words.join(" ")
}

impl EntityTables {
    pub fn add_entities(&mut self, text: &str, path: &str, curated: bool) -> Result<(), SignatureError> {
        for (line, cols) in rows(text) {
            // Columns 7-11 (run from, link, as of, kind, confidence) are
            // optional: imported rows have none.
            let (head, rest) = cols.split_at(cols.len().min(6));
            let [id, name, parent, country, aliases, source] = head[..] else {
                return Err(syntax(
                    path,
                    line,
                    format!("expected 6 to 11 tab-separated columns, found {}", cols.len()),
                ));
            };
            if rest.len() > 5 {
                return Err(syntax(
                    path,
                    line,
                    format!("expected 6 to 11 tab-separated columns, found {}", cols.len()),
                ));
            }
            let extra = |i: usize| rest.get(i).copied().unwrap_or_default();
            let link = match (extra(1), parent.is_empty()) {
                ("", true) => None,
                ("", false) => Some(ParentLink { kind: crate::control::LinkKind::Unstated, date: None }),
                (_, true) => return Err(syntax(path, line, "a parent link without a parent")),
                (text, false) => Some(ParentLink::parse(text).map_err(|m| syntax(path, line, m))?),
            };
            let as_of = opt(extra(2));
            if as_of.as_deref().is_some_and(|d| !crate::control::is_date(d)) {
                return Err(syntax(path, line, "as-of date is not YYYY, YYYY-MM or YYYY-MM-DD"));
            }
            let kind = EntityKind::parse(extra(3)).ok_or_else(|| {
                syntax(
                    path,
                    line,
                    format!("unknown entity kind {:?} (company, open_source, unknown)", extra(3)),
                )
            })?;
            let confidence = SourceConfidence::parse(extra(4)).ok_or_else(|| {
                syntax(path, line, format!("unknown confidence {:?} (high, medium, low)", extra(4)))
            })?;
            if id.is_empty() || name.is_empty() {
                return Err(syntax(path, line, "empty id or name"));
            }
            if !curated && self.by_id.contains_key(id) {
                continue;
            }
            let entity = Entity {
                id: id.to_string(),
                name: name.to_string(),
                parent: opt(parent),
                country: opt(country),
                aliases: aliases
                    .split('|')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect(),
                source: source.to_string(),
                curated,
                run_from: opt(extra(0)),
                link,
                as_of,
                kind,
                confidence,
            };
            if curated && self.by_id.get(id).is_some_and(|e| e.curated) {
                return Err(syntax(path, line, format!("duplicate entity id {id}")));
            }
            for n in std::iter::once(&entity.name).chain(&entity.aliases) {
                let key = normalise_name(n);
                // The first curated entity to claim a name keeps it (`Bytedance Pte. Ltd.`
                // and `ByteDance Ltd.` normalise alike; the group's top entity comes first).
                let taken_by_curated =
                    self.names.get(&key).and_then(|id| self.by_id.get(id)).is_some_and(|e| e.curated);
                if !key.is_empty() && !taken_by_curated && (curated || !self.names.contains_key(&key)) {
                    self.names.insert(key, entity.id.clone());
                }
            }
            self.by_id.insert(entity.id.clone(), entity);
        }
        Ok(())
    }

    pub fn add_domains(&mut self, text: &str, path: &str) -> Result<(), SignatureError> {
        for (line, cols) in rows(text) {
            let [domain, entity, source] = cols[..] else {
                return Err(syntax(
                    path,
                    line,
                    format!("expected 3 tab-separated columns, found {}", cols.len()),
                ));
            };
            self.domains
                .entry(domain.to_ascii_lowercase())
                .or_insert(DomainOwner { entity: entity.to_string(), source: source.to_string() });
        }
        Ok(())
    }

    pub fn add_publishers(&mut self, text: &str, path: &str) -> Result<(), SignatureError> {
        for (line, cols) in rows(text) {
            let [kind, prefix, entity, source] = cols[..] else {
                return Err(syntax(
                    path,
                    line,
                    format!("expected 4 tab-separated columns, found {}", cols.len()),
                ));
            };
            let kind = match kind {
                "package_prefix" => PrefixKind::Package,
                "bundle_prefix" => PrefixKind::Bundle,
                other => return Err(syntax(path, line, format!("unknown prefix kind {other}"))),
            };
            self.publishers.push(PublisherPrefix {
                kind,
                prefix: prefix.to_string(),
                entity: entity.to_string(),
                source: source.to_string(),
            });
        }
        // Longest prefix first, so that com.sankuai.sailor wins over com.sankuai.
        self.publishers.sort_by(|a, b| b.prefix.len().cmp(&a.prefix.len()).then(a.prefix.cmp(&b.prefix)));
        Ok(())
    }

    /// The tables in the snapshot's encoding: four sections (ids, domains,
    /// names, publishers), each a `u32` length and its bytes.
    pub fn encode(&self) -> Result<Vec<u8>, postcard::Error> {
        let sections = [
            LazyMap::encode(&self.by_id)?,
            LazyMap::encode(&self.domains)?,
            LazyMap::encode(&self.names)?,
            postcard::to_stdvec(&self.publishers)?,
        ];
        let mut out = Vec::new();
        for s in &sections {
            put_framed(&mut out, s)?;
        }
        Ok(out)
    }

    /// Encodes the tables and opens them for lookups. The bytes are leaked
    /// (see `crate::snapshot`): a database lives as long as the process.
    pub fn into_lookup(self) -> Result<Entities, SnapshotError> {
        let bytes = self
            .encode()
            .map_err(|e| SnapshotError::Decode { section: "entities", message: e.to_string() })?;
        Entities::open(Box::leak(bytes.into_boxed_slice()))
    }
}

impl Entities {
    pub fn open(bytes: &'static [u8]) -> Result<Self, SnapshotError> {
        let mut rest = bytes;
        let mut parts: [&'static [u8]; 4] = [&[]; 4];
        for part in &mut parts {
            *part = take_bytes(&mut rest, "entities")?;
        }
        let [ids, domains, names, publishers] = parts;
        Ok(Entities {
            by_id: LazyMap::open(ids, "entities")?,
            domains: LazyMap::open(domains, "domains")?,
            names: LazyMap::open(names, "entity names")?,
            publishers: postcard::from_bytes(publishers)
                .map_err(|e| SnapshotError::Decode { section: "publishers", message: e.to_string() })?,
        })
    }

    /// Checks the three keyed tables in full (see [`LazyMap::verify`]).
    pub fn verify(&self) -> Result<(), SnapshotError> {
        self.by_id.verify("entities")?;
        self.domains.verify("domains")?;
        self.names.verify("entity names")
    }

    /// Owner of a host: the longest suffix of `host` (on a label boundary) with a known owner.
    pub fn domain_owner<'a>(&self, host: &'a str) -> Option<(&'a str, &DomainOwner)> {
        let host = host.trim_end_matches('.');
        let mut rest = host;
        loop {
            if let Some(o) = self.domains.get(rest) {
                return Some((rest, o));
            }
            let (_, tail) = rest.split_once('.')?;
            if !tail.contains('.') {
                return None;
            }
            rest = tail;
        }
    }

    /// The publisher prefix an app id falls under, longest first.
    pub fn publisher_prefix(&self, app_id: &str, kind: PrefixKind) -> Option<&PublisherPrefix> {
        self.publishers.iter().find(|p| {
            p.kind == kind
                && app_id
                    .strip_prefix(p.prefix.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    /// Entity whose name or alias equals `name` (legal forms and punctuation ignored).
    pub fn by_name(&self, name: &str) -> Option<&Entity> {
        let key = normalise_name(name);
        self.names.get(&key).and_then(|id| self.by_id.get(id))
    }

    /// `id`, its parent, ... up to the ultimate parent (cycles and dangling parents stop the walk).
    pub fn chain(&self, id: &str) -> Vec<&Entity> {
        let mut out: Vec<&Entity> = Vec::new();
        let mut next = Some(id);
        while let Some(cur) = next {
            if out.len() >= MAX_CHAIN || out.iter().any(|e| e.id == cur) {
                break;
            }
            let Some(e) = self.by_id.get(cur) else { break };
            out.push(e);
            next = e.parent.as_deref();
        }
        out
    }

    /// The chain of control above `id`: parents followed while their link
    /// transfers control (cycles and dangling parents stop the walk).
    pub fn control_chain(&self, id: &str) -> ControlChain<'_> {
        let mut out = ControlChain::default();
        let mut next = self.by_id.get(id);
        while let Some(e) = next {
            if out.path.len() >= MAX_CHAIN || out.path.iter().any(|x| x.id == e.id) {
                break;
            }
            out.path.push(e);
            let parent = e.parent.as_deref().and_then(|p| self.by_id.get(p));
            match (&e.link, parent) {
                (Some(l), Some(p)) if !l.kind.transfers_control() => {
                    out.minority_holder = Some(p);
                    break;
                }
                _ => next = parent,
            }
        }
        out
    }

    /// Ids that lie on an ownership cycle.
    pub fn cycles(&self) -> Vec<String> {
        let mut out = Vec::new();
        for id in self.by_id.keys() {
            let mut seen = vec![id];
            let mut cur = self.by_id.get(id).and_then(|e| e.parent.as_deref());
            while let Some(p) = cur {
                if p == id {
                    out.push(id.to_string());
                    break;
                }
                if seen.contains(&p) || seen.len() > MAX_CHAIN * 4 {
                    break;
                }
                seen.push(p);
                cur = self.by_id.get(p).and_then(|e| e.parent.as_deref());
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entities {
        let mut e = EntityTables::default();
        e.add_entities(
            "# c\nbytedance\tByteDance Ltd.\t\tCN\tByteDance\tsrc\ntiktok\tTikTok Pte. Ltd.\tbytedance\tSG\t\tsrc\n",
            "curated.tsv",
            true,
        )
        .unwrap();
        e.add_domains("tiktokv.com\ttiktok\txray\n", "d.tsv").unwrap();
        e.add_publishers("package_prefix\tcom.ss.android\tbytedance\ts\n", "p.tsv").unwrap();
        e.into_lookup().unwrap()
    }

    #[test]
    fn chain_walks_to_the_ultimate_parent() {
        let e = sample();
        let ids: Vec<_> = e.chain("tiktok").iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["tiktok", "bytedance"]);
        assert_eq!(e.chain("bytedance")[0].country.as_deref(), Some("CN"));
        assert!(e.cycles().is_empty());
    }

    #[test]
    fn control_follows_controlling_links_and_stops_at_a_minority_stake() {
        let mut e = EntityTables::default();
        e.add_entities(
            "bd\tByteDance Ltd.\t\tKY\t\ts\tCN\t\t2026-12-06\n\
             tt\tTikTok Pte. Ltd.\tbd\tSG\t\ts\t\twholly_owned\n\
             x\tX GmbH\ttt\tDE\t\ts\t\tminority\n\
             y\tY Ltd\tbd\tGB\t\ts\n",
            "c.tsv",
            true,
        )
        .unwrap();
        let e = e.into_lookup().unwrap();
        let c = e.control_chain("tt");
        assert_eq!(c.describe(), "TikTok Pte. Ltd. (SG) -> ByteDance Ltd. (KY, run from CN)");
        assert_eq!((c.country(), c.countries()), (Some("CN"), vec!["SG", "KY", "CN"]));
        let m = e.control_chain("x");
        assert_eq!(m.path.len(), 1);
        assert_eq!(m.country(), Some("DE"));
        assert!(m.describe().ends_with("-/-> TikTok Pte. Ltd. (SG) [minority]"), "{}", m.describe());
        // An imported parent without a stated link is still taken as control.
        assert_eq!(e.control_chain("y").country(), Some("CN"));
        assert_eq!(e.by_id.get("y").unwrap().link.as_ref().unwrap().kind, crate::control::LinkKind::Unstated);
        let mut bad = EntityTables::default();
        assert!(bad.add_entities("a\tA\t\tUS\t\ts\t\tminority\n", "x", true).is_err());
        assert!(bad.add_entities("a\tA\tb\tUS\t\ts\t\towned\n", "x", true).is_err());
        assert!(bad.add_entities("a\tA\t\tUS\t\ts\t\t\t26\n", "x", true).is_err());
    }

    #[test]
    fn open_source_and_unknown_entities_have_no_country_of_control() {
        let mut e = EntityTables::default();
        e.add_entities(
            "acra\tACRA\t\t\t\tgithub.com/ACRA/acra (Apache-2.0)\t\t\t2026-12-06\topen_source\n\
             tq\tTeleQuid\t\t\t\tnothing found\t\t\t\tunknown\n\
             pd\tPlaydigious SAS\t\tFR\t\tterms\t\t\t2017-03-30\t\tmedium\n",
            "c.tsv",
            true,
        )
        .unwrap();
        let e = e.into_lookup().unwrap();
        let c = e.control_chain("acra");
        assert_eq!((c.country(), c.countries()), (None, Vec::<&str>::new()));
        assert_eq!(c.describe(), "ACRA (open-source project, no controlling company)");
        assert_eq!(e.control_chain("tq").describe(), "TeleQuid (company or its country not established)");
        let pd = e.by_id.get("pd").unwrap();
        assert_eq!((pd.kind, pd.confidence), (EntityKind::Company, Some(SourceConfidence::Medium)));
        let mut bad = EntityTables::default();
        assert!(bad.add_entities("a\tA\t\tUS\t\ts\t\t\t\tfoundation\n", "x", true).is_err());
        assert!(bad.add_entities("a\tA\t\tUS\t\ts\t\t\t\t\tsure\n", "x", true).is_err());
        assert!(bad.add_entities("a\tA\t\tUS\t\ts\t\t\t\t\t\t\n", "x", true).is_err());
    }

    #[test]
    fn cycles_are_found_and_do_not_loop() {
        let mut e = EntityTables::default();
        e.add_entities("a\tA\tb\tUS\t\ts\nb\tB\ta\tUS\t\ts\n", "x", true).unwrap();
        let e = e.into_lookup().unwrap();
        assert_eq!(e.chain("a").len(), 2);
        assert_eq!(e.cycles(), ["a", "b"]);
    }

    #[test]
    fn domains_match_on_label_boundaries() {
        let e = sample();
        assert_eq!(e.domain_owner("api16.tiktokv.com").unwrap().1.entity, "tiktok");
        assert_eq!(e.domain_owner("tiktokv.com").unwrap().0, "tiktokv.com");
        assert!(e.domain_owner("nottiktokv.com").is_none());
        assert!(e.domain_owner("com").is_none());
    }

    #[test]
    fn publisher_prefixes_respect_dots() {
        let e = sample();
        assert!(e.publisher_prefix("com.ss.android.ugc.aweme", PrefixKind::Package).is_some());
        assert!(e.publisher_prefix("com.ss.android", PrefixKind::Package).is_some());
        assert!(e.publisher_prefix("com.ss.androidx", PrefixKind::Package).is_none());
        assert!(e.publisher_prefix("com.ss.android.x", PrefixKind::Bundle).is_none());
    }

    #[test]
    fn names_compare_without_legal_forms() {
        let e = sample();
        assert_eq!(e.by_name("BYTEDANCE LTD").unwrap().id, "bytedance");
        assert_eq!(e.by_name("TikTok Pte Ltd").unwrap().id, "tiktok");
        assert!(e.by_name("Example Ltd").is_none());
    }

    #[test]
    fn malformed_rows_are_errors() {
        let mut e = EntityTables::default();
        assert!(e.add_entities("only\ttwo\n", "x", true).is_err());
        assert!(e.add_publishers("team\tx\ty\tz\n", "p").is_err());
        assert!(e.add_domains("a.com\n", "d").is_err());
    }
}
