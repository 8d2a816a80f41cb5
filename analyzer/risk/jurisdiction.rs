//! Jurisdiction attribution: who behind the app stands in which country, and
//! how sure we are. Publisher (signing certificate subject) > SDK owner >
//! host owner; certificate/entity > package prefix > ccTLD.

use std::collections::BTreeMap;

use crate::report::{Control, Evidence, EvidenceKind, LinkConfidence, PublisherLinkKind, Report};

use super::tables::JurisdictionWeights;

// Who and how sure: closed sets the report carries (`risk.*.factors[]`).
pub use crate::report::{AttributionConfidence as Confidence, Subject};

/// One party placed in one country.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub subject: Subject,
    pub confidence: Confidence,
    /// ISO 3166-1 alpha-2, upper case: the country the party is controlled
    /// from when its chain of control is known, else the one it is placed in.
    pub country: String,
    /// The party: organisation, SDK owner, or host / domain.
    pub name: String,
    /// Stable key for the factor id (`CN`, an SDK id, a domain).
    pub key: String,
    pub evidence: Vec<Evidence>,
    /// Country the party is registered in, when it differs from `country`.
    pub registered: Option<String>,
    /// Every country on the chain of control (empty without a known chain).
    pub chain_countries: Vec<String>,
}

impl Attribution {
    /// A party placed in `country` with no chain of control known.
    fn placed(subject: Subject, confidence: Confidence, country: String, name: String, key: String) -> Self {
        Attribution {
            subject,
            confidence,
            country,
            name,
            key,
            evidence: Vec::new(),
            registered: None,
            chain_countries: Vec::new(),
        }
    }

    /// A party placed by its owner: controlled from `control.country` when
    /// the chain is known (the chain becomes the first evidence), else `country`.
    fn owned(
        subject: Subject,
        country: &str,
        control: Option<&Control>,
        name: String,
        key: String,
    ) -> Attribution {
        let registered = country.to_ascii_uppercase();
        let Some(c) = control.filter(|c| c.country.is_some()) else {
            return Attribution::placed(subject, Confidence::Entity, registered, name, key);
        };
        let controlled = c.country.clone().unwrap_or_default();
        let mut a = Attribution::placed(subject, Confidence::Entity, controlled.clone(), name, key);
        a.registered = (registered != controlled).then_some(registered);
        a.chain_countries = c.countries.clone();
        a.evidence.push(Evidence {
            source: "signatures".into(),
            kind: EvidenceKind::Control,
            value: format!("controlled from {controlled}: {} ({} confidence)", c.chain, c.confidence),
        });
        a
    }

    /// The first of `countries` this party falls under: the controlling
    /// country, else (`by_registration`) where it is registered, else
    /// (`by_control`) any country on its chain of control.
    pub fn country_in(&self, countries: &[String], by_control: bool, by_registration: bool) -> Option<&str> {
        let registered = self.registered.as_deref().unwrap_or(&self.country);
        if (by_control || self.chain_countries.is_empty()) && countries.contains(&self.country) {
            return Some(&self.country);
        }
        if by_registration && countries.iter().any(|c| c == registered) {
            return Some(registered);
        }
        if by_control {
            return self.chain_countries.iter().find(|c| countries.contains(c)).map(String::as_str);
        }
        None
    }

    /// The jurisdiction factor id this attribution scores as.
    pub fn factor_id(&self) -> String {
        format!("jurisdiction.{}.{}", self.subject.as_str(), self.key)
    }
}

/// The publisher's country. Until the signature stage reports a publisher
/// attribution of its own, this reads the subject C of the first non-debug
/// signing certificate; swap the body for the publisher field when it lands.
pub fn publisher(report: &Report) -> Option<Attribution> {
    publishers(report).into_iter().next()
}

/// Every country the publisher evidence points to, strongest first, one
/// attribution per country: a certificate naming one country and a package
/// prefix owned in another are both kept (conflicting evidence is shown,
/// and each is weighed by its own confidence).
pub fn publishers(report: &Report) -> Vec<Attribution> {
    // Strongest first: a certificate's C= (or a known entity), then a
    // package / bundle prefix, then a ccTLD.
    let rank = |l: &crate::report::PublisherLink| match (l.kind, l.confidence) {
        (PublisherLinkKind::Certificate, _) => (0, Confidence::Certificate),
        (_, LinkConfidence::Strong) => (1, Confidence::Entity),
        (PublisherLinkKind::PackagePrefix | PublisherLinkKind::BundlePrefix | PublisherLinkKind::Team, _) => {
            (2, Confidence::PackagePrefix)
        }
        (PublisherLinkKind::AppIdCctld, LinkConfidence::Medium | LinkConfidence::Weak) => {
            (3, Confidence::Cctld)
        }
    };
    let mut links: Vec<_> = report
        .publisher
        .links
        .iter()
        .filter(|l| l.country.as_deref().is_some_and(|c| !c.is_empty()))
        .collect();
    if links.is_empty() {
        return certificate_publisher(report).into_iter().collect();
    }
    links.sort_by_key(|l| rank(l).0);
    let mut out: Vec<Attribution> = Vec::new();
    for link in links {
        let country = link.country.as_deref().unwrap_or_default().to_ascii_uppercase();
        let mut evidence = link.evidence.clone();
        if evidence.is_empty() {
            evidence.push(Evidence {
                source: "publisher".into(),
                kind: link.kind.evidence_kind(),
                value: link.value.clone(),
            });
        }
        let name = link.entity.clone().unwrap_or_else(|| link.value.clone());
        let mut a = match (&link.control, link.kind) {
            (Some(c), _) if c.country.is_some() => {
                let mut a = Attribution::owned(Subject::Publisher, &country, Some(c), name, String::new());
                a.confidence = rank(link).1;
                a
            }
            _ => Attribution::placed(Subject::Publisher, rank(link).1, country, name, String::new()),
        };
        if out.iter().any(|x| x.country == a.country) {
            continue;
        }
        a.key = a.country.clone();
        a.evidence.extend(evidence);
        out.push(a);
    }
    out
}

/// Without the signature stage's links (reports built by hand, or an old
/// stored report), the signing certificate's subject C= is the publisher.
fn certificate_publisher(report: &Report) -> Option<Attribution> {
    let cert = report.signing.certificates.iter().find(|c| !c.debug && c.country.is_some())?;
    let country = cert.country.as_deref()?.to_ascii_uppercase();
    let name = cert.organization.clone().unwrap_or_else(|| cert.subject.clone());
    let mut a =
        Attribution::placed(Subject::Publisher, Confidence::Certificate, country.clone(), name, country);
    a.evidence.push(Evidence {
        source: cert.source.clone(),
        kind: EvidenceKind::Certificate,
        value: format!("{} (sha256 {})", cert.subject, cert.sha256),
    });
    Some(a)
}

/// Every attribution the report supports, publisher first, then SDKs, then
/// hosts grouped by registrable domain; deterministic order.
pub fn attributions(report: &Report, weights: &JurisdictionWeights) -> Vec<Attribution> {
    let mut out: Vec<Attribution> = publishers(report);
    // One factor per owning entity: two SDKs of one company are one party in one country.
    let mut by_owner: BTreeMap<String, Attribution> = BTreeMap::new();
    for sdk in &report.sdks {
        let Some(country) = sdk.country.as_deref().filter(|c| !c.is_empty()) else {
            continue;
        };
        let owner = sdk.owner.clone().unwrap_or_else(|| sdk.name.clone());
        let key = sdk.owner_chain.first().map(|e| e.id.clone()).unwrap_or_else(|| sdk.id.clone());
        let a = by_owner.entry(key.clone()).or_insert_with(|| {
            Attribution::owned(Subject::SdkOwner, country, sdk.control.as_ref(), owner.clone(), key)
        });
        a.evidence.push(Evidence {
            source: "signatures".into(),
            kind: EvidenceKind::Sdk,
            value: format!("{} owned by {owner}", sdk.name),
        });
        a.evidence.extend(sdk.evidence.iter().take(3).cloned());
    }
    out.extend(by_owner.into_values());
    let mut by_domain: BTreeMap<String, Attribution> = BTreeMap::new();
    for h in &report.hosts {
        let domain = h.domain.clone().unwrap_or_else(|| h.host.clone());
        let attribution = match (h.country.as_deref().filter(|c| !c.is_empty()), &h.owner) {
            (Some(c), owner) => {
                let name = owner.clone().unwrap_or_else(|| domain.clone());
                Attribution::owned(Subject::HostOwner, c, h.control.as_ref(), name, domain.clone())
            }
            // A name the database does not know, seen only as a dotted word in
            // free text, is no evidence of a party: SDK property keys
            // (`tpns.msg.id`) share its shape, and its ccTLD would be a false country.
            (None, _) if h.bare_text_only() => continue,
            (None, _) => {
                let tld = h.host.rsplit('.').next().unwrap_or_default().to_lowercase();
                match weights.cctld.get(&tld) {
                    Some(c) if !h.ip => Attribution::placed(
                        Subject::HostOwner,
                        Confidence::Cctld,
                        c.to_ascii_uppercase(),
                        domain.clone(),
                        domain.clone(),
                    ),
                    _ => continue,
                }
            }
        };
        let a = by_domain.entry(domain).or_insert(attribution);
        if a.evidence.len() < 6 {
            let first = h.evidence.first();
            a.evidence.push(Evidence {
                source: first.map(|e| e.source.clone()).unwrap_or_default(),
                kind: EvidenceKind::Host,
                value: match first {
                    Some(e) => format!("{} ({})", h.host, e.value),
                    None => h.host.clone(),
                },
            });
        }
    }
    out.extend(by_domain.into_values());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Certificate, Host};
    use crate::risk::RiskTables;

    #[test]
    fn certificate_country_sdk_owner_and_cctld_hosts() {
        let mut r = crate::risk::tests_support::report();
        r.signing.certificates.push(Certificate {
            subject: "CN=x,C=cn".into(),
            country: Some("cn".into()),
            organization: Some("X Ltd".into()),
            ..Default::default()
        });
        for host in ["a.example.cn", "b.example.cn", "example.com", "1.2.3.4"] {
            r.hosts.push(Host {
                host: host.into(),
                domain: (host != "1.2.3.4")
                    .then(|| host.trim_start_matches("a.").trim_start_matches("b.").into()),
                ip: host == "1.2.3.4",
                ..Default::default()
            });
        }
        r.hosts.push(Host {
            host: "t.owned.com".into(),
            domain: Some("owned.com".into()),
            owner: Some("Owner".into()),
            country: Some("RU".into()),
            ..Default::default()
        });
        let a = attributions(&r, &RiskTables::embedded().weights.jurisdiction);
        let ids: Vec<_> = a.iter().map(|a| (a.factor_id(), a.confidence)).collect();
        assert_eq!(
            ids,
            vec![
                ("jurisdiction.publisher.CN".to_string(), Confidence::Certificate),
                ("jurisdiction.host_owner.example.cn".to_string(), Confidence::Cctld),
                ("jurisdiction.host_owner.owned.com".to_string(), Confidence::Entity),
            ]
        );
        assert_eq!(a[1].evidence.len(), 2);
    }

    #[test]
    fn a_cctld_name_seen_only_as_a_dotted_word_in_code_is_no_party() {
        let mut r = crate::risk::tests_support::report();
        r.hosts.clear();
        let seen = |kind| vec![Evidence { source: "classes.dex".into(), kind, value: "push.msg.cn".into() }];
        r.hosts.push(Host {
            host: "push.msg.cn".into(),
            domain: Some("msg.cn".into()),
            evidence: seen(EvidenceKind::String),
            ..Default::default()
        });
        let weights = &RiskTables::embedded().weights.jurisdiction;
        assert!(attributions(&r, weights).is_empty());
        // Written as a URL, or in a network security config, it is a host.
        r.hosts[0].schemes = vec!["https".into()];
        assert_eq!(attributions(&r, weights)[0].country, "CN");
        r.hosts[0].schemes.clear();
        r.hosts[0].evidence = seen(EvidenceKind::Resource);
        assert_eq!(attributions(&r, weights)[0].country, "CN");
    }

    #[test]
    fn two_sdks_of_one_owner_are_one_party() {
        use crate::report::{EntityRef, Sdk};
        let mut r = crate::risk::tests_support::report();
        let tencent = EntityRef {
            id: "tencent".into(),
            name: "Tencent".into(),
            country: Some("CN".into()),
            ..Default::default()
        };
        for id in ["tencent-bugly", "tencent-gdt"] {
            r.sdks.push(Sdk {
                id: id.into(),
                name: id.into(),
                owner: Some("Tencent".into()),
                country: Some("CN".into()),
                owner_chain: vec![tencent.clone()],
                ..Default::default()
            });
        }
        let a = attributions(&r, &RiskTables::embedded().weights.jurisdiction);
        let sdk: Vec<_> = a.iter().filter(|a| a.subject == Subject::SdkOwner).collect();
        assert_eq!(sdk.len(), 1);
        assert_eq!(sdk[0].factor_id(), "jurisdiction.sdk_owner.tencent");
        assert_eq!(sdk[0].evidence.iter().filter(|e| e.kind == EvidenceKind::Sdk).count(), 2);
    }

    #[test]
    fn debug_certificates_name_no_publisher() {
        let mut r = crate::risk::tests_support::report();
        r.signing.certificates.push(Certificate {
            country: Some("US".into()),
            debug: true,
            ..Default::default()
        });
        assert!(publisher(&r).is_none());
    }
}
