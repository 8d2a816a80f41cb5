//! The two scores. Each point is a [`Factor`] with its weight and evidence;
//! a score is the sum of its factors' weights, capped at 100. Weights come
//! from `signatures/risk/weights.toml`.

use crate::evidence::AppEvidence;
use crate::report::{Evidence, EvidenceKind, Factor, PartyKind, Report, Score};

use super::jurisdiction::{attributions, Attribution, Confidence, Subject};
use super::tables::RiskTables;

/// Runtime code loaders: code that arrives later is code no one reviewed.
const CODE_LOADERS: [&str; 4] = [
    "Ldalvik/system/DexClassLoader;-><init>",
    "Ldalvik/system/InMemoryDexClassLoader;-><init>",
    "Ldalvik/system/PathClassLoader;-><init>",
    "Ldalvik/system/BaseDexClassLoader;-><init>",
];

fn total(factors: Vec<Factor>) -> Score {
    let sum: u32 = factors.iter().map(|f| f.weight).fold(0, u32::saturating_add);
    Score { score: sum.min(100), factors }
}

fn percent(weight: u32, pct: u32) -> u32 {
    // Rounded half up; weights and percentages are small.
    (weight.saturating_mul(pct) + 50) / 100
}

/// What the app can collect: its capabilities, tracking SDKs and hidden code.
pub fn data_collection(report: &Report, evidence: &AppEvidence, tables: &RiskTables) -> Score {
    let w = &tables.weights.data_collection;
    let mut factors = Vec::new();
    for cap in &report.capabilities {
        let full = w.capabilities.get(&cap.id).copied().unwrap_or(0);
        let (weight, how) = match (cap.declared, cap.observed) {
            (true, true) => (full, "declared and reached in code"),
            (false, true) => (full, "reached in code without being declared"),
            (true, false) => (percent(full, w.declared_only_percent), "declared, not seen in code"),
            (false, false) => continue,
        };
        if weight == 0 {
            continue;
        }
        factors.push(Factor {
            id: format!("data_collection.capability.{}", cap.id),
            weight,
            description: format!("{}: {how}", cap.label),
            evidence: cap.evidence.iter().take(6).cloned().collect(),
            ..Default::default()
        });
    }
    let mut tracking_points = 0u32;
    for sdk in &report.sdks {
        let tracking = sdk
            .categories
            .iter()
            .any(|c| w.tracking_sdk_categories.iter().any(|t| t.eq_ignore_ascii_case(c)));
        if !tracking
            || tracking_points.saturating_add(w.tracking_sdk) > w.tracking_sdk_max
            || w.tracking_sdk == 0
        {
            continue;
        }
        tracking_points += w.tracking_sdk;
        factors.push(Factor {
            id: format!("data_collection.tracking_sdk.{}", sdk.id),
            weight: w.tracking_sdk,
            description: format!("tracking SDK {} ({})", sdk.name, sdk.categories.join(", ")),
            evidence: sdk.evidence.iter().take(3).cloned().collect(),
            ..Default::default()
        });
    }
    let mut hidden: Vec<Evidence> = report
        .code
        .dex
        .iter()
        .filter(|d| !d.primary)
        .map(|d| Evidence {
            source: d.entry.clone(),
            kind: EvidenceKind::Dex,
            value: "DEX outside the primary set".into(),
        })
        .collect();
    for unit in &evidence.units {
        for api in unit.apis.iter().filter(|a| CODE_LOADERS.contains(a)) {
            hidden.push(Evidence {
                source: unit.source.clone(),
                kind: EvidenceKind::Api,
                value: api.to_string(),
            });
        }
    }
    hidden.extend(report.embedded.iter().map(|e| Evidence {
        source: e.entry.clone(),
        kind: EvidenceKind::Embedded,
        value: format!("embedded {}", e.kind),
    }));
    if !hidden.is_empty() && w.dynamic_code > 0 {
        hidden.truncate(6);
        factors.push(Factor {
            id: "data_collection.dynamic_code".into(),
            weight: w.dynamic_code,
            description: "code loaded at run time or hidden outside the primary DEX files".into(),
            evidence: hidden,
            ..Default::default()
        });
    }
    total(factors)
}

/// Who could be compelled to hand over what the app collects: publisher,
/// SDK owners and host owners in the countries of `weights.toml`, weighted
/// by how sure the attribution is and whether the app reaches sensitive data.
pub fn jurisdiction(report: &Report, tables: &RiskTables) -> Score {
    let w = &tables.weights.jurisdiction;
    let sensitive: Vec<&str> = report
        .capabilities
        .iter()
        .filter(|c| w.reach.sensitive_data_classes.contains(&c.data_class))
        .map(|c| c.id.as_str())
        .collect();
    let reach = if sensitive.is_empty() { w.reach.no_sensitive_data_percent } else { 100 };
    let mut factors = Vec::new();
    for a in attributions(report, w) {
        if !w.countries.contains(&a.country) {
            continue;
        }
        let subject = match a.subject {
            Subject::Publisher => w.subject.publisher,
            Subject::SdkOwner => w.subject.sdk_owner,
            Subject::HostOwner => w.subject.host_owner,
        };
        let confidence = match a.confidence {
            Confidence::Certificate => w.confidence.certificate,
            Confidence::Entity => w.confidence.entity,
            Confidence::PackagePrefix => w.confidence.package_prefix,
            Confidence::Cctld => w.confidence.cctld,
        };
        // Where the report holds call sites, a publisher or SDK owner is
        // weighed by what its own code reaches (AndroidX's night-mode
        // location call is not the publisher's); else by the whole app.
        let own = own_reach(report, &a, &w.reach.sensitive_data_classes);
        let party_reach = match &own {
            Some(own) if own.is_empty() => w.reach.no_sensitive_data_percent,
            _ => reach,
        };
        let weight = percent(percent(subject, confidence), party_reach);
        if weight == 0 {
            continue;
        }
        let mut reach_text = if sensitive.is_empty() {
            "app reaches no sensitive data".to_string()
        } else {
            format!("app reaches {}", sensitive.join(", "))
        };
        let place = match &a.registered {
            Some(r) => format!("controlled from {} (registered in {r})", a.country),
            None => format!("in {}", a.country),
        };
        if let Some(own) = own {
            let own = if own.is_empty() { "no sensitive data".to_string() } else { own.join(", ") };
            reach_text.push_str(&format!("; its own code reaches {own}"));
        }
        let description = format!(
            "{} {} {place} (by {}; {reach_text})",
            a.subject.as_str().replace('_', " "),
            a.name,
            a.confidence.as_str().replace('_', " ")
        );
        factors.push(Factor {
            id: a.factor_id(),
            weight,
            description,
            evidence: a.evidence,
            country: Some(a.country),
            subject: Some(a.subject),
            confidence: Some(a.confidence),
        });
    }
    total(factors)
}

/// The sensitive capabilities the attributed party's own code calls into
/// (`capabilities[].reached_by`): for the publisher its package and the
/// code no signature places (obfuscated code is most often the app's own,
/// so hiding it cannot lower the publisher's weight), for an SDK owner the
/// SDKs it owns. `None` when the report holds no call sites at all (no DEX
/// read, or iOS) and for host owners (which code sends them data is unknown).
pub fn own_reach<'r>(report: &'r Report, a: &Attribution, classes: &[String]) -> Option<Vec<&'r str>> {
    if a.subject == Subject::HostOwner || report.capabilities.iter().all(|c| c.reached_by.is_empty()) {
        return None;
    }
    let owns = |p: &crate::report::Party| match a.subject {
        Subject::Publisher => matches!(p.kind, PartyKind::App | PartyKind::Unattributed),
        Subject::SdkOwner => p.kind == PartyKind::Sdk && p.owner.as_deref() == Some(a.name.as_str()),
        Subject::HostOwner => false,
    };
    Some(
        report
            .capabilities
            .iter()
            .filter(|c| classes.contains(&c.data_class) && c.reached_by.iter().any(|r| owns(&r.party)))
            .map(|c| c.id.as_str())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{CodeUnit, UnitKind};
    use crate::report::{Certificate, Permission, Sdk};
    use crate::risk::{assess, tests_support};

    fn spyware() -> (Report, AppEvidence) {
        let mut r = tests_support::report();
        for p in
            ["READ_SMS", "READ_CALL_LOG", "READ_CONTACTS", "ACCESS_FINE_LOCATION", "RECORD_AUDIO", "CAMERA"]
        {
            r.permissions.push(Permission { name: format!("android.permission.{p}"), ..Default::default() });
        }
        r.app.android = Some(crate::report::AndroidFacts {
            components: vec![crate::report::Component {
                kind: crate::report::ComponentKind::Service,
                name: "a.Spy".into(),
                permission: Some("android.permission.BIND_ACCESSIBILITY_SERVICE".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        let mut u = CodeUnit::new("classes.dex", UnitKind::Dex);
        u.apis = [
            "Landroid/location/LocationManager;->getLastKnownLocation",
            "Landroid/media/AudioRecord;->startRecording",
            "Landroid/provider/CallLog$Calls;->CONTENT_URI",
            "Landroid/provider/Telephony$Sms;->CONTENT_URI",
            "Landroid/provider/ContactsContract$Contacts;->CONTENT_URI",
            "Landroid/hardware/camera2/CameraManager;->openCamera",
        ]
        .into();
        (r, AppEvidence { units: vec![u], ..Default::default() })
    }

    #[test]
    fn spyware_scores_high_with_every_factor_evidenced() {
        let (mut r, ev) = spyware();
        assess(&crate::database::Database::embedded(), &mut r, &ev, RiskTables::embedded());
        let dc = &r.risk.data_collection;
        assert!(dc.score >= 60, "{dc:?}");
        assert!(dc.factors.iter().all(|f| f.weight > 0 && !f.evidence.is_empty()));
        let sum: u32 = dc.factors.iter().map(|f| f.weight).sum();
        assert_eq!(dc.score, sum.min(100));
        for cap in ["sms", "call_log", "contacts", "location", "microphone", "camera", "input_monitoring"] {
            assert!(dc.factors.iter().any(|f| f.id == format!("data_collection.capability.{cap}")), "{cap}");
        }
    }

    #[test]
    fn a_cn_sdk_weighs_more_in_an_app_with_location_than_in_a_calculator() {
        let sdk = Sdk {
            id: "umeng".into(),
            name: "Umeng".into(),
            owner: Some("Alibaba".into()),
            country: Some("CN".into()),
            ..Default::default()
        };
        let (mut with_location, ev) = spyware();
        with_location.sdks.push(sdk.clone());
        assess(&crate::database::Database::embedded(), &mut with_location, &ev, RiskTables::embedded());
        let mut calculator = tests_support::report();
        calculator.sdks.push(sdk);
        assess(
            &crate::database::Database::embedded(),
            &mut calculator,
            &AppEvidence::default(),
            RiskTables::embedded(),
        );
        let a = &with_location.risk.jurisdiction;
        let b = &calculator.risk.jurisdiction;
        assert!(a.score > b.score && b.score > 0, "{a:?} {b:?}");
        assert_eq!(a.factors[0].id, "jurisdiction.sdk_owner.umeng");
        assert_eq!(a.factors[0].country.as_deref(), Some("CN"));
    }

    #[test]
    fn publisher_outranks_sdk_owner() {
        let mut r = tests_support::report();
        r.signing.certificates.push(Certificate {
            country: Some("RU".into()),
            subject: "C=RU".into(),
            ..Default::default()
        });
        r.sdks.push(Sdk {
            id: "s".into(),
            name: "S".into(),
            country: Some("RU".into()),
            ..Default::default()
        });
        assess(
            &crate::database::Database::embedded(),
            &mut r,
            &AppEvidence::default(),
            RiskTables::embedded(),
        );
        let f = &r.risk.jurisdiction.factors;
        assert!(f[0].id == "jurisdiction.publisher.RU" && f[0].weight > f[1].weight, "{f:?}");
    }

    #[test]
    fn a_publisher_is_weighed_by_what_its_own_code_reaches() {
        use crate::report::{Capability, Party, Reach};
        let by = |kind: PartyKind, id: &str| Reach {
            party: Party { kind, id: id.into(), name: id.into(), ..Default::default() },
            apis: vec!["Landroid/location/LocationManager;->getLastKnownLocation".into()],
            callers_total: 1,
            callers: vec!["Lx/Y;".into()],
        };
        let report_with = |reach: Reach| {
            let mut r = tests_support::report();
            r.signing.certificates.push(Certificate {
                country: Some("CN".into()),
                subject: "C=CN".into(),
                ..Default::default()
            });
            r.capabilities.push(Capability {
                id: "location".into(),
                data_class: "location".into(),
                observed: true,
                reached_by: vec![reach],
                ..Default::default()
            });
            r
        };
        let tables = RiskTables::embedded();
        let publisher = |r: &Report| {
            jurisdiction(r, tables).factors.into_iter().find(|f| f.id == "jurisdiction.publisher.CN").unwrap()
        };
        // AndroidX night mode's location call is not the publisher's.
        let library = publisher(&report_with(by(PartyKind::Library, "androidx")));
        assert!(library.description.contains("its own code reaches no sensitive data"), "{library:?}");
        let own = publisher(&report_with(by(PartyKind::App, "com.example")));
        assert!(own.description.contains("its own code reaches location"), "{own:?}");
        assert!(own.weight > library.weight, "{own:?} {library:?}");
        // Code no signature places counts as the publisher's: renaming it cannot lower the weight.
        let hidden = publisher(&report_with(by(PartyKind::Unattributed, "a.b")));
        assert_eq!(hidden.weight, own.weight);
    }

    #[test]
    fn no_factors_no_points() {
        let mut r = tests_support::report();
        assess(
            &crate::database::Database::embedded(),
            &mut r,
            &AppEvidence::default(),
            RiskTables::embedded(),
        );
        assert_eq!(r.risk.data_collection.score, 0);
        assert_eq!(r.risk.jurisdiction.score, 0);
    }
}
