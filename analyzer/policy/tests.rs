//! Policy evaluation over hand-built reports.

use super::*;
use crate::evidence::{AppEvidence, CodeUnit, UnitKind};
use crate::report::{Certificate, Evidence, EvidenceKind, Host, Permission};
use crate::risk::{assess, tests_support};

fn location_app() -> (Report, AppEvidence) {
    let mut r = tests_support::report();
    r.permissions
        .push(Permission { name: "android.permission.ACCESS_FINE_LOCATION".into(), ..Default::default() });
    let mut u = CodeUnit::new("classes.dex", UnitKind::Dex);
    u.apis = ["Landroid/location/LocationManager;->getLastKnownLocation"].into();
    (r, AppEvidence { units: vec![u], ..Default::default() })
}

fn judged(mut r: Report, ev: &AppEvidence, policy: &str) -> Verdict {
    assess(&crate::database::Database::embedded(), &mut r, ev, RiskTables::embedded());
    Policy::preset(policy).unwrap().evaluate(&r, &ExceptionSet::none())
}

#[test]
fn presets_parse_and_cite_sources() {
    for name in Policy::preset_names() {
        let p = Policy::preset(name).unwrap_or_else(|| panic!("preset {name} does not parse"));
        assert_eq!(p.name, name);
        assert!(!p.sources.is_empty(), "{name} cites no source");
    }
    assert_eq!(Policy::preset("nl-aivd").unwrap().countries, ["CN", "RU", "IR", "KP"]);
}

#[test]
fn native_library_talking_to_a_cn_owned_host_with_location_is_spy_sensitive() {
    let (mut r, ev) = location_app();
    r.hosts.push(Host {
        host: "sdk.tracker.example.com".into(),
        domain: Some("example.com".into()),
        owner: Some("Example Tracker Co.".into()),
        country: Some("CN".into()),
        evidence: vec![Evidence {
            source: "lib/arm64-v8a/libtracker.so".into(),
            kind: EvidenceKind::NativeString,
            value: "https://sdk.tracker.example.com/v1".into(),
        }],
        ..Default::default()
    });
    let v = judged(r.clone(), &ev, "nl-aivd");
    assert!(v.spy_sensitive);
    assert_eq!(v.criteria, ["spy.host_owner"]);
    let c = &v.matched_criteria[0];
    assert!(c.factors.contains(&"jurisdiction.host_owner.example.com".to_string()));
    assert!(c.factors.contains(&"capability.location".to_string()));
    assert!(c.evidence.iter().any(|e| e.source == "lib/arm64-v8a/libtracker.so"));
    assert_eq!(v.decision, Decision::Block);
    // The baseline names no countries: never spy-sensitive.
    let b = judged(r, &ev, "baseline");
    assert!(!b.spy_sensitive);
    assert_eq!(b.decision, Decision::Approve);
}

#[test]
fn a_calculator_from_a_country_of_concern_is_blocked_but_not_spy_sensitive() {
    let mut r = tests_support::report();
    r.signing.certificates.push(Certificate {
        subject: "C=RU".into(),
        country: Some("RU".into()),
        ..Default::default()
    });
    let v = judged(r, &AppEvidence::default(), "nl-aivd");
    assert!(!v.spy_sensitive);
    assert_eq!(v.decision, Decision::Block);
    assert_eq!(v.rules[0].id, "publisher-country-of-concern");
    assert_eq!(v.rules[0].factors, ["jurisdiction.publisher.RU"]);
    assert!(v.reasons[0].contains("jurisdiction.publisher.RU"), "{:?}", v.reasons);
}

#[test]
fn us_list_includes_hong_kong_and_aivd_does_not() {
    let mut r = tests_support::report();
    r.signing.certificates.push(Certificate {
        subject: "C=HK".into(),
        country: Some("HK".into()),
        ..Default::default()
    });
    assert_eq!(
        judged(r.clone(), &AppEvidence::default(), "us-foreign-adversaries").decision,
        Decision::Block
    );
    assert_eq!(judged(r, &AppEvidence::default(), "nl-aivd").decision, Decision::Approve);
}

#[test]
fn exception_flips_block_to_approve_only_while_valid_and_keeps_the_spy_flag() {
    let (mut r, ev) = location_app();
    r.signing.verified = Some(true);
    let sha = "12".repeat(32);
    r.signing.certificates.push(Certificate {
        subject: "C=CN".into(),
        country: Some("CN".into()),
        sha256: sha.clone(),
        ..Default::default()
    });
    assess(&crate::database::Database::embedded(), &mut r, &ev, RiskTables::embedded());
    let policy = Policy::preset("nl-aivd").unwrap();
    let text = format!(
        "[[exceptions]]\napp_id = \"com.example.t\"\nsigner_sha256 = \"{sha}\"\njustification = \"China desk\"\nexpires = \"2026-12-31\"\n"
    );
    let valid = ExceptionSet::parse(&text, "e.toml", Date::parse("2026-12-31").unwrap()).unwrap();
    let v = policy.evaluate(&r, &valid);
    assert_eq!((v.decision, v.decision_before_exceptions), (Decision::Approve, Decision::Block));
    assert!(v.spy_sensitive);
    assert_eq!(v.exceptions[0].status, ExceptionStatus::Applied);
    let expired = ExceptionSet::parse(&text, "e.toml", Date::parse("2027-01-01").unwrap()).unwrap();
    let v = policy.evaluate(&r, &expired);
    assert_eq!(v.decision, Decision::Block);
    assert_eq!(v.exceptions[0].status, ExceptionStatus::Expired);
    assert!(v.reasons.iter().any(|r| r.contains("exception not applied (expired")));
}

#[test]
fn bad_policies_are_refused() {
    let base = "name = \"x\"\ntitle = \"t\"\nsources = [\"s\"]\n";
    assert!(Policy::parse(
        &format!("{base}[[rules]]\nid = \"a\"\ndecision = \"block\"\ndescription = \"d\"\n"),
        "p"
    )
    .is_err());
    assert!(Policy::parse(&format!("{base}countries = [\"cn\"]\n"), "p").is_err());
    assert!(Policy::parse(
        &format!(
            "{base}[[rules]]\nid = \"a\"\ndecision = \"deny\"\ndescription = \"d\"\nspy_sensitive = true\n"
        ),
        "p"
    )
    .is_err());
    assert!(Policy::parse(
        &format!(
            "{base}[[rules]]\nid = \"a\"\ndecision = \"block\"\ndescription = \"d\"\nsubjects = [\"ceo\"]\n"
        ),
        "p"
    )
    .is_err());
    assert!(Policy::parse(&format!("{base}typo = 1\n"), "p").is_err());
    assert!(Policy::load("no-such-policy").is_err());
}

#[test]
fn a_country_code_domain_alone_sends_to_review_without_the_spy_flag() {
    let (mut r, ev) = location_app();
    r.hosts.push(Host {
        host: "t.example.cn".into(),
        domain: Some("example.cn".into()),
        ..Default::default()
    });
    let v = judged(r, &ev, "nl-aivd");
    assert!(!v.spy_sensitive);
    assert_eq!(v.decision, Decision::Review);
    assert_eq!(v.rules[0].factors, ["jurisdiction.host_owner.example.cn"]);
}

/// What could not be read is never approved: under every preset, and not by
/// an exception either.
#[test]
fn an_incomplete_analysis_is_sent_to_review_by_every_policy_and_no_exception_approves_it() {
    use crate::report::{Gap, GapKind};
    let mut r = tests_support::report();
    r.analysis.complete = false;
    r.analysis.gaps.push(Gap {
        what: GapKind::MainExecutable,
        why: "CFBundleExecutable \"App\" is not in the bundle".into(),
        diagnostic: Some("ios.main_executable_missing".into()),
    });
    for name in Policy::preset_names() {
        let v = Policy::preset(name).unwrap().evaluate(&r, &ExceptionSet::none());
        assert_eq!(v.decision, Decision::Review, "{name}");
        let rule = v.rules.iter().find(|m| m.id == INCOMPLETE_ANALYSIS_RULE).unwrap();
        assert_eq!(rule.factors, ["analysis.main_executable"]);
        assert!(v.reasons.iter().any(|t| t.contains("main_executable could not be read")), "{:?}", v.reasons);
    }
    // A valid exception for the app does not approve what was not read.
    let sha = "12".repeat(32);
    r.signing.verified = Some(true);
    r.signing.certificates.push(Certificate { sha256: sha.clone(), ..Default::default() });
    let text = format!(
        "[[exceptions]]\napp_id = \"com.example.t\"\nsigner_sha256 = \"{sha}\"\njustification = \"j\"\nexpires = \"2026-12-31\"\n"
    );
    let valid = ExceptionSet::parse(&text, "e.toml", Date::parse("2026-12-31").unwrap()).unwrap();
    let v = Policy::baseline().evaluate(&r, &valid);
    assert_eq!(v.exceptions[0].status, ExceptionStatus::Applied);
    assert_eq!(v.decision, Decision::Review);
    // The same report read whole is approved by the baseline.
    let mut whole = r.clone();
    whole.analysis = crate::report::Analysis { complete: true, gaps: Vec::new() };
    assert_eq!(Policy::baseline().evaluate(&whole, &ExceptionSet::none()).decision, Decision::Approve);
}

/// A provisioning profile of `distribution`, expiring on `expires`.
fn profile(
    distribution: crate::report::Distribution,
    expires: Option<&str>,
) -> crate::report::ProvisioningProfile {
    crate::report::ProvisioningProfile {
        entry: "Payload/A.app/embedded.mobileprovision".into(),
        name: None,
        uuid: None,
        team_ids: Vec::new(),
        team_name: None,
        app_id_name: None,
        application_identifier: None,
        creation_date: None,
        expiration_date: expires.map(String::from),
        distribution,
        provisioned_devices: 0,
        provisions_all_devices: distribution == crate::report::Distribution::Enterprise,
        entitlements: None,
        developer_certificates: Vec::new(),
    }
}

/// An office's own policy: debuggable builds, enterprise provisioning,
/// custom keyboards and advertising SDKs to review.
const OFFICE_POLICY: &str = r#"
name = "office"
title = "t"
sources = ["s"]

[[rules]]
id = "debuggable"
decision = "review"
description = "a debuggable build"
diagnostics = ["manifest.debuggable"]

[[rules]]
id = "enterprise"
decision = "review"
description = "installed outside App Store review"
provisioning = ["enterprise", "ad-hoc"]

[[rules]]
id = "keyboard"
decision = "block"
description = "a custom keyboard reads what the user types"
app_extensions = ["com.apple.keyboard-service"]

[[rules]]
id = "ads"
decision = "review"
description = "an advertising SDK"
sdk_categories = ["Advertisement"]

[[rules]]
id = "umeng"
decision = "review"
description = "Umeng"
sdks = ["umeng"]

[[rules]]
id = "zip-tricks"
decision = "review"
description = "ZIP anomalies"
diagnostics = ["zip.*"]
"#;

fn office_verdict(r: &Report) -> Verdict {
    Policy::parse(OFFICE_POLICY, "office.toml").unwrap().evaluate(r, &ExceptionSet::none())
}

fn rule_ids(v: &Verdict) -> Vec<&str> {
    v.rules.iter().map(|m| m.id.as_str()).collect()
}

#[test]
fn policy_rules_over_diagnostics_sdks_provisioning_and_extensions_fire_only_when_they_hold() {
    use crate::report::{AppExtension, Diagnostic, Distribution, IosFacts, Sdk};
    let plain = tests_support::report();
    let v = office_verdict(&plain);
    assert!(v.rules.is_empty(), "{:?}", rule_ids(&v));
    assert_eq!(v.decision, Decision::Approve);

    let mut debuggable = plain.clone();
    debuggable.diagnostics.push(Diagnostic::warning("manifest.debuggable", "android:debuggable is true"));
    let v = office_verdict(&debuggable);
    assert_eq!(rule_ids(&v), ["debuggable"]);
    assert_eq!(v.rules[0].factors, ["diagnostic.manifest.debuggable"]);
    assert_eq!(v.decision, Decision::Review);

    let mut zip = plain.clone();
    zip.diagnostics.push(Diagnostic::error("zip.prepended_data", "Janus"));
    assert_eq!(rule_ids(&office_verdict(&zip)), ["zip-tricks"]);

    let ios = |distribution: Distribution, extension: &str| {
        let mut r = plain.clone();
        r.app.ios = Some(IosFacts {
            provisioning: Some(profile(distribution, None)),
            extensions: vec![AppExtension {
                entry: "Payload/A.app/PlugIns/X.appex/".into(),
                extension_point: Some(extension.into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        r
    };
    let v = office_verdict(&ios(Distribution::Enterprise, "com.apple.keyboard-service"));
    assert_eq!(rule_ids(&v), ["enterprise", "keyboard"]);
    assert_eq!(v.decision, Decision::Block);
    assert!(v.rules[1].factors.contains(&"extension.com.apple.keyboard-service".to_string()));
    let v = office_verdict(&ios(Distribution::AppStore, "com.apple.widgetkit-extension"));
    assert!(v.rules.is_empty(), "{:?}", rule_ids(&v));

    let mut ads = plain.clone();
    ads.sdks.push(Sdk {
        id: "umeng".into(),
        name: "Umeng".into(),
        categories: vec!["Analytics".into()],
        ..Default::default()
    });
    assert_eq!(rule_ids(&office_verdict(&ads)), ["umeng"]);
    ads.sdks[0].categories.push("Advertisement".into());
    assert_eq!(rule_ids(&office_verdict(&ads)), ["ads", "umeng"]);
}

#[test]
fn a_policy_naming_an_unknown_diagnostic_code_or_field_is_refused() {
    let head = "name = \"x\"\ntitle = \"t\"\nsources = [\"s\"]\n[[rules]]\nid = \"a\"\ndecision = \"review\"\ndescription = \"d\"\n";
    assert!(Policy::parse(&format!("{head}diagnostics = [\"manifest.debuggable\"]\n"), "p").is_ok());
    assert!(Policy::parse(&format!("{head}diagnostics = [\"ios.*\"]\n"), "p").is_ok());
    let err = Policy::parse(&format!("{head}diagnostics = [\"manifest.debugable\"]\n"), "p").unwrap_err();
    assert!(err.to_string().contains("unknown diagnostic code"), "{err}");
    assert!(err.to_string().contains("did you mean \"manifest.debuggable\"?"), "{err}");
    assert!(Policy::parse(&format!("{head}diagnostics = [\"nosuch.*\"]\n"), "p").is_err());
    let err = Policy::parse(&format!("{head}diagnostics = [\"manifes.*\"]\n"), "p").unwrap_err();
    assert!(err.to_string().contains("did you mean \"manifest.*\"?"), "{err}");
    let err = Policy::parse(&format!("{head}diagnostic = [\"manifest.debuggable\"]\n"), "p").unwrap_err();
    assert!(err.to_string().contains("did you mean \"diagnostics\"?"), "{err}");
    let err = Policy::load("nl-aivdd").unwrap_err();
    assert!(err.to_string().contains("did you mean \"nl-aivd\"?"), "{err}");
    assert!(Policy::parse(&format!("{head}provisioning = [\"in-house\"]\n"), "p").is_err());
    assert!(Policy::parse(&format!("{head}debuggable = true\n"), "p").is_err());
}

#[test]
fn target_sdk_and_entitlement_rules_fire_only_when_they_hold() {
    use crate::report::{IosFacts, Platform, SdkLevel};
    let policy = Policy::parse(
        r#"
name = "x"
title = "t"
sources = ["s"]
[[rules]]
id = "old-target"
decision = "review"
description = "targets an old API level"
target_sdk_below = 30
[[rules]]
id = "debug-build"
decision = "review"
description = "get-task-allow"
entitlements = ["get-task-allow"]
"#,
        "p",
    )
    .unwrap();
    let ids = |r: &Report| -> Vec<String> {
        policy.evaluate(r, &ExceptionSet::none()).rules.iter().map(|m| m.id.clone()).collect()
    };
    let mut r = tests_support::report();
    r.app.target_sdk = Some(SdkLevel::Api(28));
    assert_eq!(ids(&r), ["old-target"]);
    r.app.target_sdk = Some(SdkLevel::Api(34));
    assert!(ids(&r).is_empty());
    r.app.target_sdk = Some(SdkLevel::Codename("VanillaIceCream".into()));
    assert!(ids(&r).is_empty());

    let mut ios = tests_support::report();
    ios.app.platform = Some(Platform::Ios);
    let mut ents = std::collections::BTreeMap::new();
    ents.insert("get-task-allow".to_string(), serde_json::Value::Bool(false));
    ios.app.ios = Some(IosFacts { entitlements: Some(ents.clone()), ..Default::default() });
    assert!(ids(&ios).is_empty(), "an iOS app has no target SDK, and get-task-allow is false");
    ents.insert("get-task-allow".to_string(), serde_json::Value::Bool(true));
    ios.app.ios = Some(IosFacts { entitlements: Some(ents), ..Default::default() });
    assert_eq!(ids(&ios), ["debug-build"]);
}

#[test]
fn an_expired_provisioning_profile_is_sent_to_review_on_the_day_the_verdict_is_given() {
    use crate::report::{Distribution, IosFacts, Platform};
    let mut r = tests_support::report();
    r.app.platform = Some(Platform::Ios);
    r.app.ios = Some(IosFacts {
        provisioning: Some(profile(Distribution::AdHoc, Some("2012-03-01T00:00:00Z"))),
        ..Default::default()
    });
    let on = |day: &str| ExceptionSet::on(Date::parse(day).unwrap());
    for name in Policy::preset_names() {
        let policy = Policy::preset(name).unwrap();
        let v = policy.evaluate(&r, &on("2026-12-06"));
        assert!(v.rules.iter().any(|m| m.id == "provisioning-expired"), "{name}: {:?}", v.reasons);
        assert_eq!(v.decision, Decision::Review, "{name}");
        // Still valid on the day: no match.
        let v = policy.evaluate(&r, &on("2012-02-29"));
        assert!(!v.rules.iter().any(|m| m.id == "provisioning-expired"), "{name}");
        // A verdict given without a day (the scan's own) never depends on the date.
        let v = policy.evaluate(&r, &ExceptionSet::none());
        assert!(!v.rules.iter().any(|m| m.id == "provisioning-expired"), "{name}");
    }
}

#[test]
fn a_spy_criterion_says_what_the_partys_own_code_reaches() {
    let (mut r, mut ev) = location_app();
    r.app.id = Some("com.example.notes".into());
    r.signing.certificates.push(Certificate {
        country: Some("CN".into()),
        subject: "C=CN".into(),
        ..Default::default()
    });
    let publisher = |r: &Report, ev: &AppEvidence| {
        let v = judged(r.clone(), ev, "nl-aivd");
        v.matched_criteria.into_iter().find(|c| c.id == "spy.publisher").expect("spy.publisher").description
    };
    // The only location call is AndroidX night mode: not the publisher's own code.
    ev.units[0].calls =
        ["Landroid/location/LocationManager;->getLastKnownLocation\tLandroidx/appcompat/app/TwilightManager;->a()V"].into();
    let d = publisher(&r, &ev);
    assert!(d.contains("whose own code reaches none of it"), "{d}");
    ev.units[0].calls =
        ["Landroid/location/LocationManager;->getLastKnownLocation\tLcom/example/notes/Map;->where()V"]
            .into();
    let d = publisher(&r, &ev);
    assert!(d.contains("whose own code reaches location"), "{d}");
    // Without call sites (no DEX read, iOS) nothing is claimed either way.
    ev.units[0].calls = Default::default();
    let d = publisher(&r, &ev);
    assert!(!d.contains("own code"), "{d}");
}

#[test]
fn an_expired_signing_certificate_matches_on_the_day_the_verdict_is_given() {
    use crate::report::Platform;
    let policy = Policy::parse(
        "name = \"x\"\ntitle = \"t\"\nsources = [\"s\"]\n[[rules]]\nid = \"cert-expired\"\ndecision = \"review\"\ndescription = \"d\"\ncertificate_expired = true\n",
        "p.toml",
    )
    .unwrap();
    let cert = |subject: &str, issuer: &str, until: &str| Certificate {
        subject: subject.into(),
        issuer: issuer.into(),
        not_after: Some(until.into()),
        ..Default::default()
    };
    let mut r = tests_support::report();
    r.app.platform = Some(Platform::Ios);
    r.signing.certificates = vec![
        cert("CN=iPhone Distribution: X", "CN=Apple WWDR", "2020-05-01T00:00:00Z"),
        // An expired root is Apple's business, not the app's.
        cert("CN=Apple Root CA", "CN=Apple Root CA", "2010-01-01T00:00:00Z"),
    ];
    let on = |day: &str| ExceptionSet::on(Date::parse(day).unwrap());
    let v = policy.evaluate(&r, &on("2026-12-06"));
    assert_eq!(rule_ids(&v), ["cert-expired"]);
    assert!(v
        .reasons
        .iter()
        .chain(v.rules.iter().flat_map(|m| m.factors.iter()))
        .any(|f| f.contains("certificate.expired (2020-05-01 < 2026-12-06): CN=iPhone Distribution: X")));
    // Still valid on the day, or no day given (the scan's own verdict): no match.
    assert!(rule_ids(&policy.evaluate(&r, &on("2020-04-30"))).is_empty());
    assert!(rule_ids(&policy.evaluate(&r, &ExceptionSet::none())).is_empty());
    // Android ignores certificate dates: no match.
    r.app.platform = Some(Platform::Android);
    assert!(rule_ids(&policy.evaluate(&r, &on("2026-12-06"))).is_empty());
}
