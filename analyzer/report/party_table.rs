//! The parties of a report, one row each: the publisher, every SDK, and the
//! owner of every contacted domain that no SDK row already covers. Each
//! party carries its ownership chain up to the controlling parent, the
//! jurisdiction points it adds, the data its code reaches and the hosts it
//! talks to. The HTML page's party table, the CycloneDX suppliers and the
//! batch summary's owner roll-up all read parties from here, so a new
//! source of attribution (per-party call sites, control chains) is added
//! once, in [`parties`], and every renderer shows it. (The parties whose code
//! makes a call, `capabilities[].reached_by[].party`, are [`super::Party`].)

use std::collections::BTreeMap;

use super::{Capability, Control, EntityRef, Evidence, EvidenceKind, Factor, Report, Sdk, Subject};

/// What kind of party a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Publisher,
    Sdk,
    HostOwner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Publisher => "publisher",
            Role::Sdk => "sdk",
            Role::HostOwner => "host owner",
        }
    }
}

/// One row of the party table.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyRow {
    pub kind: Role,
    /// The SDK's name, the publisher as seen (entity or certificate
    /// subject), or the host owner (entity or registrable domain).
    pub name: String,
    /// The owning entity, when known.
    pub owner: Option<String>,
    /// Owner, its parent, ... up to the controlling parent.
    pub chain: Vec<EntityRef>,
    /// Who controls the owner and from which country, when the signature
    /// database traces it (it outranks `chain` for the country).
    pub control: Option<Control>,
    /// The owner's country.
    pub country: Option<String>,
    /// How the country was attributed (`certificate`, `entity`, `cctld` ...).
    pub attributed_by: Option<String>,
    /// SDK categories.
    pub categories: Vec<String>,
    /// Jurisdiction points this party adds, and the factor ids.
    pub points: u32,
    pub factors: Vec<String>,
    /// Labels of the capabilities this party's own code reaches.
    pub data: Vec<String>,
    /// Hosts this party talks to (owned by it, or held by its code).
    pub hosts: Vec<String>,
    pub evidence: Vec<Evidence>,
}

impl PartyRow {
    /// The party at the top of the ownership chain and its country: what a
    /// country rule is about.
    pub fn controlling_country(&self) -> Option<&str> {
        self.control
            .as_ref()
            .and_then(|c| c.country.as_deref())
            .or_else(|| controlling_parent(&self.chain).and_then(|p| p.country.as_deref()))
            .or(self.country.as_deref())
    }
}

/// The controlling parent of an ownership chain: its last link (the chain
/// runs owner -> parent -> ... -> ultimate parent); `None` for an empty chain.
pub fn controlling_parent(chain: &[EntityRef]) -> Option<&EntityRef> {
    chain.last()
}

/// The name an SDK owner rolls up to: its controlling parent's, else its own.
pub fn rolled_up_owner(sdk: &Sdk) -> Option<String> {
    controlling_parent(&sdk.owner_chain).map(|p| p.name.clone()).or_else(|| sdk.owner.clone())
}

/// The publisher: the strongest link that names an entity, else the
/// strongest link with a country.
pub fn publisher(r: &Report) -> Option<PartyRow> {
    let links = &r.publisher.links;
    let best = links
        .iter()
        .filter(|l| l.entity.is_some())
        .min_by_key(|l| l.confidence)
        .or_else(|| links.iter().filter(|l| l.country.is_some()).min_by_key(|l| l.confidence))?;
    let (points, factors) = points_of(r, |f| f.subject == Some(Subject::Publisher));
    // A certificate link reads best as the subject's organisation.
    let organisation = best.evidence.iter().find_map(|e| {
        r.signing.certificates.iter().find(|c| c.subject == e.value).and_then(|c| c.organization.clone())
    });
    let name = best
        .entity
        .clone()
        .or(organisation)
        .or_else(|| best.evidence.first().map(|e| e.value.clone()))
        .unwrap_or_else(|| best.value.clone());
    let mut evidence: Vec<Evidence> = Vec::new();
    for l in links {
        evidence.extend(l.evidence.iter().cloned());
    }
    Some(PartyRow {
        kind: Role::Publisher,
        name,
        owner: best.entity.clone(),
        chain: best.owner_chain.clone(),
        control: best.control.clone(),
        country: best.country.clone(),
        attributed_by: Some(best.kind.as_str().to_string()),
        categories: Vec::new(),
        points,
        factors,
        data: Vec::new(),
        hosts: Vec::new(),
        evidence,
    })
}

/// Every party, publisher first, then by jurisdiction points (highest
/// first) and name.
pub fn parties(r: &Report) -> Vec<PartyRow> {
    let mut out: Vec<PartyRow> = publisher(r).into_iter().collect();
    let others_from = out.len();
    let mut sdk_owners: Vec<&str> = Vec::new();
    for sdk in &r.sdks {
        let owner_id = sdk.owner_chain.first().map(|e| e.id.as_str());
        let (points, factors) = match owner_id {
            Some(id) => points_of(r, |f| f.id == format!("jurisdiction.sdk_owner.{id}")),
            None => (0, Vec::new()),
        };
        let hosts: Vec<String> = r
            .hosts
            .iter()
            .filter(|h| h.owner.is_some() && h.owner == sdk.owner)
            .map(|h| h.host.clone())
            .collect();
        if let Some(o) = &sdk.owner {
            sdk_owners.push(o);
        }
        out.push(PartyRow {
            kind: Role::Sdk,
            name: sdk.name.clone(),
            owner: sdk.owner.clone(),
            chain: sdk.owner_chain.clone(),
            control: sdk.control.clone(),
            country: sdk.country.clone(),
            attributed_by: sdk.owner.as_ref().map(|_| "entity".to_string()),
            categories: sdk.categories.clone(),
            points,
            factors,
            data: reached_by_sdk(&r.capabilities, sdk),
            hosts,
            evidence: sdk.evidence.clone(),
        });
    }
    out.extend(host_owners(r, &sdk_owners));
    out[others_from..].sort_by(|a, b| b.points.cmp(&a.points).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Capabilities an SDK's own code reaches: its call sites
/// (`capabilities[].reached_by[]`), else `sdk` evidence (an SDK whose
/// category reaches it, on reports without call sites).
fn reached_by_sdk(capabilities: &[Capability], sdk: &Sdk) -> Vec<String> {
    capabilities
        .iter()
        .filter(|c| {
            c.reached_by.iter().any(|x| x.party.kind == super::PartyKind::Sdk && x.party.id == sdk.id)
                || c.evidence
                    .iter()
                    .any(|e| e.kind == EvidenceKind::Sdk && (e.value == sdk.name || e.value == sdk.id))
        })
        .map(|c| c.label.clone())
        .collect()
}

/// One row per host owner (entity, or registrable domain when only its
/// country-code TLD places it), skipping owners an SDK row already shows.
fn host_owners(r: &Report, sdk_owners: &[&str]) -> Vec<PartyRow> {
    let mut rows: BTreeMap<String, PartyRow> = BTreeMap::new();
    for h in &r.hosts {
        let factor_id = h.domain.as_ref().map(|d| format!("jurisdiction.host_owner.{d}"));
        let factor =
            factor_id.as_ref().and_then(|id| r.risk.jurisdiction.factors.iter().find(|f| &f.id == id));
        let (name, owner) = match (&h.owner, &h.domain) {
            (Some(o), _) if sdk_owners.contains(&o.as_str()) => continue,
            (Some(o), _) => (o.clone(), Some(o.clone())),
            // A domain placed only by its ccTLD: a party when it adds points.
            (None, Some(d)) if factor.is_some() => (d.clone(), None),
            _ => continue,
        };
        let row = rows.entry(name.clone()).or_insert_with(|| PartyRow {
            kind: Role::HostOwner,
            name,
            owner,
            chain: Vec::new(),
            control: h.control.clone(),
            country: h.country.clone().or_else(|| factor.and_then(|f| f.country.clone())),
            attributed_by: factor
                .and_then(|f| f.confidence.map(|c| c.as_str().to_string()))
                .or_else(|| h.owner.as_ref().map(|_| "entity".to_string())),
            categories: Vec::new(),
            points: 0,
            factors: Vec::new(),
            data: Vec::new(),
            hosts: Vec::new(),
            evidence: Vec::new(),
        });
        if let Some(f) = factor {
            if !row.factors.contains(&f.id) {
                row.points += f.weight;
                row.factors.push(f.id.clone());
            }
        }
        row.hosts.push(h.host.clone());
        row.evidence.extend(h.evidence.iter().take(2).cloned());
    }
    rows.into_values().collect()
}

/// Jurisdiction points and factor ids of the factors `pick` selects.
fn points_of(r: &Report, pick: impl Fn(&Factor) -> bool) -> (u32, Vec<String>) {
    let picked: Vec<&Factor> = r.risk.jurisdiction.factors.iter().filter(|f| pick(f)).collect();
    (picked.iter().map(|f| f.weight).sum(), picked.iter().map(|f| f.id.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{AttributionConfidence, Host};

    fn entity(id: &str, name: &str, country: &str) -> EntityRef {
        EntityRef {
            id: id.into(),
            name: name.into(),
            country: Some(country.into()),
            source: "s".into(),
            ..EntityRef::default()
        }
    }

    #[test]
    fn sdks_roll_up_to_their_controlling_parent_and_cctld_hosts_get_a_country() {
        let mut r = crate::risk::tests_support::report();
        r.sdks.push(Sdk {
            id: "umeng".into(),
            name: "Umeng".into(),
            owner: Some("Umeng (Alibaba)".into()),
            country: Some("CN".into()),
            owner_chain: vec![entity("umeng", "Umeng", "CN"), entity("alibaba", "Alibaba Group", "CN")],
            ..Sdk::default()
        });
        r.hosts.push(Host {
            host: "alog.umeng.com".into(),
            domain: Some("umeng.com".into()),
            owner: Some("Umeng (Alibaba)".into()),
            ..Host::default()
        });
        r.hosts.push(Host {
            host: "cmd.example.cn".into(),
            domain: Some("example.cn".into()),
            ..Host::default()
        });
        r.hosts.push(Host {
            host: "cdn.example.org".into(),
            domain: Some("example.org".into()),
            ..Host::default()
        });
        r.risk.jurisdiction.factors = vec![
            Factor { id: "jurisdiction.sdk_owner.umeng".into(), weight: 25, ..Factor::default() },
            Factor {
                id: "jurisdiction.host_owner.example.cn".into(),
                weight: 5,
                country: Some("CN".into()),
                confidence: Some(AttributionConfidence::Cctld),
                ..Factor::default()
            },
        ];
        assert_eq!(rolled_up_owner(&r.sdks[0]).as_deref(), Some("Alibaba Group"));
        let all = parties(&r);
        let sdk = all.iter().find(|p| p.kind == Role::Sdk).unwrap();
        assert_eq!((sdk.points, sdk.hosts.clone()), (25, vec!["alog.umeng.com".to_string()]));
        assert_eq!(sdk.controlling_country(), Some("CN"));
        let hosts: Vec<&PartyRow> = all.iter().filter(|p| p.kind == Role::HostOwner).collect();
        assert_eq!(hosts.len(), 1, "umeng.com is on the SDK row; example.org adds nothing: {hosts:?}");
        assert_eq!((hosts[0].name.as_str(), hosts[0].country.as_deref()), ("example.cn", Some("CN")));
        assert_eq!(hosts[0].attributed_by.as_deref(), Some("cctld"));
        assert_eq!(all[0].kind, Role::Sdk, "no publisher link: parties by points");
    }
}
