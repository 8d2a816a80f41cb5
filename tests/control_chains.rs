//! Control chains end to end on probe evidence (class names, hosts and app
//! ids as a scan extracts them): subsidiaries registered outside a country
//! of concern but controlled from one are attributed to the controlling
//! country in `risk.jurisdiction.factors[]` with the chain as evidence, and
//! are not approved under nl-aivd; Western SDKs show no country of concern;
//! every entity on a chain that ends in a country of concern has a source.

use appvet::attribution::attribute;
use appvet::database::Database;
use appvet::evidence::{AppEvidence, CodeUnit, UnitKind};
use appvet::policy::{Decision, ExceptionSet, Policy};
use appvet::report::{Host, Report};
use appvet::risk::{assess, RiskTables};

/// An empty Android report, read whole (a complete analysis can be approved).
fn empty_report(db: &Database) -> Report {
    use appvet::report::*;
    Report {
        schema: SCHEMA.into(),
        tool: Tool { name: "appvet".into(), version: "0".into(), signatures_version: db.version.clone() },
        input: Input { path: "probe.apk".into(), sha256: "00".into(), size: 1, kind: InputKind::Apk },
        app: App { platform: Some(Platform::Android), ..Default::default() },
        permissions: Vec::new(),
        signing: Signing::default(),
        code: Code::default(),
        sdks: Vec::new(),
        publisher: Publisher::default(),
        hosts: Vec::new(),
        capabilities: Vec::new(),
        risk: Risk::default(),
        analysis: Analysis { complete: true, gaps: Vec::new() },
        verdict: None,
        embedded: Vec::new(),
        diagnostics: Vec::new(),
    }
}

/// A probe app: its id, the classes its DEX defines, the hosts its strings name.
fn probe(app_id: &str, classes: &[&str], hosts: &[&str]) -> Report {
    let db = Database::embedded();
    let mut r = empty_report(&db);
    r.app.id = Some(app_id.into());
    let mut unit = CodeUnit::new("classes.dex", UnitKind::Dex);
    unit.classes = classes.iter().map(|c| format!("L{};", c.replace('.', "/"))).collect();
    for h in hosts {
        let domain =
            h.split('.').rev().take(2).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(".");
        r.hosts.push(Host { host: (*h).into(), domain: Some(domain), ..Default::default() });
    }
    let ev = AppEvidence { units: vec![unit], ..Default::default() };
    attribute(&db, &mut r, &ev);
    assess(&mut r, &ev, RiskTables::embedded());
    r
}

fn factor_countries(r: &Report) -> Vec<(String, String)> {
    r.risk
        .jurisdiction
        .factors
        .iter()
        .map(|f| (f.id.clone(), f.country.clone().unwrap_or_default()))
        .collect()
}

fn decision(r: &Report, policy: &str) -> Decision {
    Policy::preset(policy).unwrap().evaluate(r, &ExceptionSet::none()).decision
}

/// (what, probe, factor id expected, controlling country, text the chain evidence holds)
#[test]
fn subsidiaries_are_attributed_to_the_country_that_controls_them() {
    let cases: &[(&str, Report, &str, &str, &str)] = &[
        (
            "TikTok publisher",
            probe("com.zhiliaoapp.musically", &[], &[]),
            "jurisdiction.publisher.CN",
            "CN",
            "TikTok Pte. Ltd. (SG) -> ByteDance Ltd. (KY, run from CN)",
        ),
        (
            "CapCut publisher",
            probe("com.lemon.lvoverseas", &[], &[]),
            "jurisdiction.publisher.CN",
            "CN",
            "Bytedance Pte. Ltd. (SG) -> ByteDance Ltd. (KY, run from CN)",
        ),
        (
            "Pangle",
            probe("org.example.game", &["com.bytedance.sdk.openadsdk.TTAdSdk"], &[]),
            "jurisdiction.sdk_owner.pangle",
            "CN",
            "Pangle (Bytedance Pte. Ltd.) (SG)",
        ),
        (
            "Mintegral",
            probe("org.example.game", &["com.mbridge.msdk.MBridgeSDK"], &[]),
            "jurisdiction.sdk_owner.mobvista",
            "CN",
            "Mobvista Inc. (KY, run from CN)",
        ),
        (
            "NativeX",
            probe("org.example.game", &["com.nativex.monetization.MonetizationManager"], &[]),
            "jurisdiction.sdk_owner.nativex",
            "CN",
            "NativeX LLC (US) -> Mobvista Inc. (KY, run from CN)",
        ),
        (
            "Outfit7",
            probe("com.outfit7.mytalkingtom2", &[], &[]),
            "jurisdiction.publisher.CN",
            "CN",
            "Outfit7 Limited (CY, run from SI) -> Zhejiang Jinke Tom Culture Industry Co., Ltd. (CN)",
        ),
        (
            "Kaspersky",
            probe("com.kms.free", &[], &[]),
            "jurisdiction.publisher.RU",
            "RU",
            "AO Kaspersky Lab (RU) -> Kaspersky Labs Limited (GB, run from RU)",
        ),
        (
            "AppMetrica 6",
            probe("org.example.shop", &["io.appmetrica.analytics.AppMetrica"], &[]),
            "jurisdiction.sdk_owner.",
            "RU",
            "Yandex",
        ),
        (
            "myTracker",
            probe("org.example.shop", &["com.my.tracker.MyTracker"], &[]),
            "jurisdiction.sdk_owner.mytracker",
            "RU",
            "myTracker (VK) (RU) -> MKPAO VK (RU)",
        ),
        (
            "ByteDance API domain",
            probe("org.example.news", &[], &["api.zijieapi.com"]),
            "jurisdiction.host_owner.zijieapi.com",
            "CN",
            "ByteDance Ltd. (KY, run from CN)",
        ),
        (
            "TikTok CDN domain",
            probe("org.example.news", &[], &["p16-sign-va.tiktokcdn.com"]),
            "jurisdiction.host_owner.tiktokcdn.com",
            "CN",
            "TikTok Pte. Ltd. (SG) -> ByteDance Ltd.",
        ),
        (
            "Volcengine domain",
            probe("org.example.news", &[], &["open.volcengineapi.volces.com"]),
            "jurisdiction.host_owner.volces.com",
            "CN",
            "Volcengine",
        ),
    ];
    for (what, r, factor, country, chain) in cases {
        let f = r
            .risk
            .jurisdiction
            .factors
            .iter()
            .find(|f| f.id.starts_with(factor))
            .unwrap_or_else(|| panic!("{what}: no factor {factor} in {:?}", factor_countries(r)));
        assert_eq!(f.country.as_deref(), Some(*country), "{what}: {f:?}");
        assert!(
            f.evidence.iter().any(|e| e.kind.as_str() == "control" && e.value.contains(chain)),
            "{what}: chain {chain:?} not in {:?}",
            f.evidence
        );
        assert_ne!(decision(r, "nl-aivd"), Decision::Approve, "{what}");
        assert_ne!(decision(r, "us-foreign-adversaries"), Decision::Approve, "{what}");
    }
}

#[test]
fn western_sdks_show_no_country_of_concern() {
    let r = probe(
        "org.example.notes",
        &[
            "com.google.firebase.analytics.FirebaseAnalytics",
            "com.appsflyer.AppsFlyerLib",
            "com.adjust.sdk.Adjust",
            "com.mixpanel.android.mpmetrics.MixpanelAPI",
        ],
        &["app.adjust.com", "api.mixpanel.com"],
    );
    assert!(r.sdks.len() >= 4, "{:?}", r.sdks.iter().map(|s| &s.id).collect::<Vec<_>>());
    let concern = ["CN", "RU", "IR", "KP", "HK", "CU", "VE"];
    for s in &r.sdks {
        let c = s.control.as_ref().expect("owner known");
        assert!(c.countries.iter().all(|x| !concern.contains(&x.as_str())), "{}: {}", s.id, c.chain);
    }
    assert!(factor_countries(&r).iter().all(|(_, c)| !concern.contains(&c.as_str())));
    assert_eq!(decision(&r, "nl-aivd"), Decision::Approve);
    assert_eq!(decision(&r, "us-foreign-adversaries"), Decision::Approve);
}

#[test]
fn a_bytedance_library_is_not_pangle() {
    let r = probe(
        "org.example.tool",
        &["com.bytedance.shadowhook.ShadowHook", "com.bytedance.android.bytehook.ByteHook"],
        &[],
    );
    assert!(r.sdks.iter().all(|s| !s.name.contains("Pangle")), "{:?}", r.sdks);
}

#[test]
fn every_entity_on_a_chain_to_a_country_of_concern_has_a_source() {
    let db = Database::embedded();
    let concern: Vec<String> = ["CN", "RU", "IR", "KP", "HK", "CU", "VE"].map(String::from).to_vec();
    let mut checked = 0;
    for (id, _) in db.entities.by_id.iter() {
        let chain = db.entities.control_chain(id);
        if chain.countries().iter().any(|c| concern.iter().any(|x| x == c)) {
            for e in &chain.path {
                assert!(!e.source.trim().is_empty(), "{} on the chain of {id} has no source", e.id);
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}
