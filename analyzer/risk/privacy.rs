//! iOS privacy manifests, declared versus observed: what an app's
//! `PrivacyInfo.xcprivacy` files say about tracking and collected data,
//! held against the tracking SDKs, hosts and capabilities found in its code.
//! A manifest that understates what the code does is itself a finding: the
//! App Store privacy report is built from these declarations.

use crate::report::{Diagnostic, Evidence, EvidenceKind, Factor, PrivacyManifest, Report};

use super::tables::DataCollectionWeights;

/// Capability -> the `NSPrivacyCollectedDataType*` values that declare it.
/// Source: Apple, "Describing data use in privacy manifests"
/// (developer.apple.com/documentation/bundleresources/describing-data-use-in-privacy-manifests).
const CAPABILITY_DATA_TYPES: &[(&str, &[&str])] = &[
    ("location", &["NSPrivacyCollectedDataTypePreciseLocation", "NSPrivacyCollectedDataTypeCoarseLocation"]),
    (
        "location_background",
        &["NSPrivacyCollectedDataTypePreciseLocation", "NSPrivacyCollectedDataTypeCoarseLocation"],
    ),
    ("contacts", &["NSPrivacyCollectedDataTypeContacts"]),
    ("camera", &["NSPrivacyCollectedDataTypePhotosorVideos"]),
    ("photos", &["NSPrivacyCollectedDataTypePhotosorVideos"]),
    ("microphone", &["NSPrivacyCollectedDataTypeAudioData"]),
    ("health", &["NSPrivacyCollectedDataTypeHealth", "NSPrivacyCollectedDataTypeFitness"]),
    ("advertising_id", &["NSPrivacyCollectedDataTypeDeviceID"]),
    ("device_identifiers", &["NSPrivacyCollectedDataTypeDeviceID"]),
];

/// The manifest that speaks for an entry: the one in the innermost bundle
/// (`X.framework/`, `Y.appex/`, the app) that contains it.
fn covering_manifest<'a>(manifests: &'a [PrivacyManifest], source: &str) -> Option<&'a PrivacyManifest> {
    manifests
        .iter()
        .filter_map(|m| {
            let dir = m.entry.rsplit_once('/').map_or("", |(d, _)| d);
            let inside = dir.is_empty() || source.starts_with(&format!("{dir}/"));
            inside.then_some((dir.len(), m))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, m)| m)
}

fn declares_tracking(m: &PrivacyManifest) -> bool {
    m.tracking == Some(true) || !m.tracking_domains.is_empty()
}

/// Factors for the data-collection score and the matching diagnostics.
/// Nothing for apps without privacy manifests: no declaration, nothing to contradict.
pub fn declared_vs_observed(report: &Report, w: &DataCollectionWeights) -> (Vec<Factor>, Vec<Diagnostic>) {
    let mut factors = Vec::new();
    let mut diagnostics = Vec::new();
    let Some(manifests) = report.app.ios.as_ref().map(|i| &i.privacy_manifests).filter(|m| !m.is_empty())
    else {
        return (factors, diagnostics);
    };

    let mut tracking: Vec<Evidence> = Vec::new();
    for sdk in &report.sdks {
        let is_tracking = sdk
            .categories
            .iter()
            .any(|c| w.tracking_sdk_categories.iter().any(|t| t.eq_ignore_ascii_case(c)));
        let Some(first) = sdk.evidence.iter().find(|e| !e.source.is_empty()) else { continue };
        let Some(m) = covering_manifest(manifests, &first.source).filter(|_| is_tracking) else { continue };
        if !declares_tracking(m) {
            tracking.push(Evidence {
                source: m.entry.clone(),
                kind: EvidenceKind::Sdk,
                value: format!(
                    "{} ({}) at {}, but NSPrivacyTracking is not true and no tracking domain is listed",
                    sdk.name,
                    sdk.categories.join(", "),
                    first.source
                ),
            });
        }
    }
    // A host on the registrable domain of a declared tracking domain tracks too,
    // unless it is itself declared.
    let declared: Vec<&str> =
        manifests.iter().flat_map(|m| m.tracking_domains.iter().map(String::as_str)).collect();
    let tracking_sites: Vec<&str> = report
        .hosts
        .iter()
        .filter(|h| declared.iter().any(|d| d.eq_ignore_ascii_case(&h.host)))
        .filter_map(|h| h.domain.as_deref())
        .collect();
    for h in &report.hosts {
        let Some(domain) = h.domain.as_deref() else { continue };
        if !tracking_sites.contains(&domain) || declared.iter().any(|d| d.eq_ignore_ascii_case(&h.host)) {
            continue;
        }
        let at = h.evidence.first().map(|e| e.source.clone()).unwrap_or_default();
        tracking.push(Evidence {
            source: at.clone(),
            kind: EvidenceKind::Host,
            value: format!(
                "{} (same site as a declared tracking domain) is not in any NSPrivacyTrackingDomains",
                h.host
            ),
        });
    }
    if !tracking.is_empty() {
        tracking.truncate(8);
        diagnostics.push(
            Diagnostic::warning(
                "privacy.undeclared_tracking",
                format!(
                    "the privacy manifest does not declare tracking, but {} tracking SDK(s) or host(s) are present",
                    tracking.len()
                ),
            )
            .at(tracking.first().map(|e| e.source.clone()).unwrap_or_default()),
        );
        if w.undeclared_tracking > 0 {
            factors.push(Factor {
                id: "data_collection.undeclared_tracking".into(),
                weight: w.undeclared_tracking,
                description: "tracking present in code or hosts but not declared in the privacy manifest"
                    .into(),
                evidence: tracking,
                ..Default::default()
            });
        }
    }

    let declared_types: Vec<&str> =
        manifests.iter().flat_map(|m| m.collected_data.iter().map(|c| c.data_type.as_str())).collect();
    let mut collection: Vec<Evidence> = Vec::new();
    for cap in report.capabilities.iter().filter(|c| c.observed) {
        let Some((_, types)) = CAPABILITY_DATA_TYPES.iter().find(|(id, _)| *id == cap.id) else { continue };
        if types.iter().any(|t| declared_types.contains(t)) {
            continue;
        }
        let code = cap
            .evidence
            .iter()
            .find(|e| {
                matches!(
                    e.kind,
                    EvidenceKind::Api | EvidenceKind::Symbol | EvidenceKind::Sdk | EvidenceKind::Class
                )
            })
            .or(cap.evidence.first());
        collection.push(Evidence {
            source: code.map(|e| e.source.clone()).unwrap_or_default(),
            kind: EvidenceKind::Capability,
            value: format!(
                "{} reached in code ({}), no collected-data type declared ({})",
                cap.id,
                code.map(|e| e.value.as_str()).unwrap_or("?"),
                types.join(" or ")
            ),
        });
    }
    if !collection.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                "privacy.undeclared_collection",
                format!(
                    "code reaches {} capability(ies) for which the privacy manifests declare no collected-data type",
                    collection.len()
                ),
            )
            .at(collection.first().map(|e| e.source.clone()).unwrap_or_default()),
        );
        if w.undeclared_collection > 0 {
            factors.push(Factor {
                id: "data_collection.undeclared_collection".into(),
                weight: w.undeclared_collection,
                description: "data reached in code but not declared as collected in the privacy manifests"
                    .into(),
                evidence: collection,
                ..Default::default()
            });
        }
    }
    (factors, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Capability, CollectedDataType, Evidence, Host, IosFacts, Sdk};
    use crate::risk::RiskTables;

    fn ev(source: &str, kind: &str, value: &str) -> Evidence {
        Evidence { source: source.into(), kind: EvidenceKind::parse(kind).unwrap(), value: value.into() }
    }

    fn ios_report() -> Report {
        let mut r = crate::risk::tests_support::report();
        r.app.platform = Some(crate::report::Platform::Ios);
        r.app.ios = Some(IosFacts {
            privacy_manifests: vec![
                PrivacyManifest {
                    entry: "Payload/A.app/PrivacyInfo.xcprivacy".into(),
                    tracking: Some(false),
                    collected_data: vec![CollectedDataType {
                        data_type: "NSPrivacyCollectedDataTypePreciseLocation".into(),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
                PrivacyManifest {
                    entry: "Payload/A.app/Frameworks/T.framework/PrivacyInfo.xcprivacy".into(),
                    tracking: Some(true),
                    tracking_domains: vec!["collect.t.cn".into()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        });
        r
    }

    #[test]
    fn no_manifest_no_finding() {
        let mut r = crate::risk::tests_support::report();
        r.sdks.push(Sdk { categories: vec!["advertising".into()], ..Default::default() });
        let (f, d) = declared_vs_observed(&r, &RiskTables::embedded().weights.data_collection);
        assert!(f.is_empty() && d.is_empty());
    }

    #[test]
    fn tracking_sdk_under_a_no_tracking_manifest() {
        let mut r = ios_report();
        r.sdks.push(Sdk {
            id: "ads".into(),
            name: "Ads".into(),
            categories: vec!["advertising".into()],
            evidence: vec![ev("Payload/A.app/A", "class", "AdsManager")],
            ..Default::default()
        });
        // Inside the framework whose own manifest declares tracking: covered.
        r.sdks.push(Sdk {
            id: "t".into(),
            name: "T".into(),
            categories: vec!["analytics".into()],
            evidence: vec![ev("Payload/A.app/Frameworks/T.framework/T", "framework", "T")],
            ..Default::default()
        });
        for host in ["collect.t.cn", "push.t.cn", "api.example.com"] {
            let domain = host.split_once('.').map(|(_, d)| d.to_string());
            r.hosts.push(Host {
                host: host.into(),
                domain,
                evidence: vec![ev("Payload/A.app/A", "string", host)],
                ..Default::default()
            });
        }
        let (f, d) = declared_vs_observed(&r, &RiskTables::embedded().weights.data_collection);
        assert_eq!(d.iter().filter(|d| d.code == "privacy.undeclared_tracking").count(), 1);
        let factor = f.iter().find(|f| f.id == "data_collection.undeclared_tracking").unwrap();
        assert_eq!(factor.evidence.len(), 2, "{:?}", factor.evidence);
        assert!(factor.evidence[0].value.starts_with("Ads"));
        assert!(factor.evidence[1].value.starts_with("push.t.cn"));
    }

    #[test]
    fn collection_reached_but_not_declared() {
        let mut r = ios_report();
        for (id, observed) in [("location", true), ("contacts", true), ("camera", false)] {
            r.capabilities.push(Capability {
                id: id.into(),
                observed,
                evidence: vec![ev("Payload/A.app/A", "class", "X")],
                ..Default::default()
            });
        }
        let (f, d) = declared_vs_observed(&r, &RiskTables::embedded().weights.data_collection);
        assert!(d.iter().any(|d| d.code == "privacy.undeclared_collection"));
        let factor = f.iter().find(|f| f.id == "data_collection.undeclared_collection").unwrap();
        assert_eq!(factor.evidence.len(), 1);
        assert!(factor.evidence[0].value.starts_with("contacts"));
    }
}
