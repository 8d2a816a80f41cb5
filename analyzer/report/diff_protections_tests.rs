//! Each lost protection firing, and not firing when nothing was lost.

use super::*;
use crate::report::app::{AtsException, ComponentKind, IosFacts, NetworkSecurity};
use crate::report::{Evidence, Platform, Protection, SchemeResult, SdkLevel};

fn android() -> Report {
    let mut r = crate::risk::tests_support::report();
    r.app.target_sdk = Some(SdkLevel::Api(34));
    r.app.android = Some(AndroidFacts::default());
    r
}

fn facts(r: &mut Report) -> &mut AndroidFacts {
    r.app.android.get_or_insert_with(Default::default)
}

fn ios() -> Report {
    let mut r = crate::risk::tests_support::report();
    r.app.platform = Some(Platform::Ios);
    r.app.ios = Some(IosFacts::default());
    r
}

#[track_caller]
fn one_flag(old: &Report, new: &Report, expected: &str) {
    assert_eq!(lost_protections(old, new), [expected.to_string()]);
    // The same change the other way round is a protection gained, not lost.
    assert!(lost_protections(new, old).is_empty(), "{:?}", lost_protections(new, old));
    // And through `diff`: a red flag, in plain words.
    let d = crate::report::diff::diff(old, new);
    assert!(d.red_flags.contains(&expected.to_string()), "{:?}", d.red_flags);
    assert!(crate::report::diff::render_text(&d).contains(&format!("! {expected}")));
}

#[test]
fn nothing_lost_between_equal_versions() {
    for r in [android(), ios(), crate::risk::tests_support::report()] {
        assert!(lost_protections(&r, &r).is_empty());
    }
}

#[test]
fn debuggable_and_backup() {
    let old = android();
    let mut new = old.clone();
    facts(&mut new).debuggable = Some(true);
    one_flag(&old, &new, "debuggable newly turned on (android:debuggable=\"true\")");

    let mut old = android();
    facts(&mut old).allow_backup = Some(false);
    let mut new = old.clone();
    facts(&mut new).allow_backup = None;
    one_flag(
        &old,
        &new,
        "backup newly allowed: the app's data can be copied off the device (android:allowBackup)",
    );
    // Backup allowed by default in both: nothing was lost.
    let mut older = old.clone();
    facts(&mut older).allow_backup = None;
    assert!(lost_protections(&older, &new).is_empty());
}

#[test]
fn cleartext_by_attribute_config_and_target_sdk() {
    let old = android();
    let mut new = old.clone();
    facts(&mut new).uses_cleartext_traffic = Some(true);
    one_flag(&old, &new, "cleartext (HTTP) traffic newly permitted: android:usesCleartextTraffic=\"true\"");

    let mut new = old.clone();
    new.app.target_sdk = Some(SdkLevel::Api(27));
    one_flag(
        &old,
        &new,
        "cleartext (HTTP) traffic newly permitted: targets API 27, below 28, where cleartext is the default",
    );

    let mut new = old.clone();
    facts(&mut new).network_security = Some(NetworkSecurity {
        cleartext_default: Some(true),
        trusts_user_certificates: false,
        ..Default::default()
    });
    one_flag(
        &old,
        &new,
        "cleartext (HTTP) traffic newly permitted: the network security config's base-config permits it",
    );

    let mut new = old.clone();
    facts(&mut new).network_security =
        Some(NetworkSecurity { cleartext_domains: vec!["cdn.example.com".into()], ..Default::default() });
    one_flag(&old, &new, "cleartext (HTTP) newly permitted for: cdn.example.com");
    // An old version that allowed cleartext everywhere lost nothing to one domain.
    let mut open = old.clone();
    facts(&mut open).uses_cleartext_traffic = Some(true);
    let mut both = new.clone();
    facts(&mut both).uses_cleartext_traffic = Some(true);
    assert!(lost_protections(&open, &both).is_empty());
    // A report that does not say (no target SDK, no attribute) proves nothing.
    let mut unknown = old.clone();
    unknown.app.target_sdk = None;
    let mut new = unknown.clone();
    facts(&mut new).uses_cleartext_traffic = Some(true);
    assert!(lost_protections(&unknown, &new).is_empty());
}

#[test]
fn user_cas_and_pinning() {
    let pinned = NetworkSecurity {
        pinned_domains: vec!["api.example.com".into(), "pay.example.com".into()],
        ..Default::default()
    };
    let mut old = android();
    facts(&mut old).network_security = Some(pinned.clone());
    let mut new = old.clone();
    facts(&mut new).network_security =
        Some(NetworkSecurity { pinned_domains: vec!["pay.example.com".into()], ..pinned.clone() });
    one_flag(&old, &new, "certificate pinning removed for: api.example.com");
    let mut new = old.clone();
    facts(&mut new).network_security = None;
    assert_eq!(
        lost_protections(&old, &new),
        ["certificate pinning removed for: api.example.com, pay.example.com"]
    );

    let mut new = old.clone();
    facts(&mut new).network_security = Some(NetworkSecurity { trusts_user_certificates: true, ..pinned });
    one_flag(
        &old,
        &new,
        "user-installed CA certificates newly trusted (network security config): traffic can be intercepted",
    );
    // Before API 24 an app without a config trusted user CAs already.
    let mut legacy = android();
    legacy.app.target_sdk = Some(SdkLevel::Api(23));
    facts(&mut legacy).uses_cleartext_traffic = Some(true);
    let mut new = legacy.clone();
    facts(&mut new).network_security =
        Some(NetworkSecurity { trusts_user_certificates: true, ..Default::default() });
    assert!(lost_protections(&legacy, &new).is_empty(), "{:?}", lost_protections(&legacy, &new));
}

#[test]
fn component_newly_exported_without_permission() {
    let component = |exported: bool, permission: Option<&str>| Component {
        kind: ComponentKind::Provider,
        name: "com.example.t.Files".into(),
        exported,
        permission: permission.map(str::to_string),
        ..Default::default()
    };
    let mut old = android();
    facts(&mut old).components = vec![component(true, Some("com.example.t.READ"))];
    let mut new = old.clone();
    facts(&mut new).components = vec![component(true, None)];
    one_flag(&old, &new, "newly exported without a permission: provider com.example.t.Files");
    facts(&mut old).components = vec![component(false, None)];
    one_flag(&old, &new, "newly exported without a permission: provider com.example.t.Files");
    // A component the old version did not have is new, not a lost protection.
    facts(&mut old).components.clear();
    assert!(lost_protections(&old, &new).is_empty());
}

#[test]
fn signing_downgraded_to_v1_only() {
    let scheme = |s: &str| SchemeResult { scheme: s.into(), verified: true, ..Default::default() };
    let mut old = android();
    old.signing.schemes = vec![scheme("v2"), scheme("v1")];
    let mut new = old.clone();
    new.signing.schemes = vec![scheme("v1")];
    one_flag(
        &old,
        &new,
        "whole-file signing dropped: the old version verified with v2, the new one with v1 only",
    );
    // v3 -> v2 still signs the whole file.
    old.signing.schemes = vec![scheme("v3")];
    new.signing.schemes = vec![scheme("v2")];
    assert!(lost_protections(&old, &new).is_empty());
}

#[test]
fn app_transport_security_and_get_task_allow() {
    let old = ios();
    let mut new = old.clone();
    new.app.ios.as_mut().unwrap().app_transport_security =
        Some(AppTransportSecurity { allows_arbitrary_loads: Some(true), ..Default::default() });
    one_flag(&old, &new, "App Transport Security newly disabled (NSAllowsArbitraryLoads)");

    let exception = |tls: Option<&str>, http: bool| AtsException {
        domain: "api.example.com".into(),
        allows_insecure_http: http,
        includes_subdomains: false,
        minimum_tls_version: tls.map(str::to_string),
    };
    let mut old = ios();
    old.app.ios.as_mut().unwrap().app_transport_security =
        Some(AppTransportSecurity { exception_domains: vec![exception(None, false)], ..Default::default() });
    let mut new = old.clone();
    new.app.ios.as_mut().unwrap().app_transport_security = Some(AppTransportSecurity {
        exception_domains: vec![exception(Some("TLSv1.0"), false)],
        ..Default::default()
    });
    one_flag(
        &old,
        &new,
        "App Transport Security newly accepts an older TLS for api.example.com: default -> TLSv1.0",
    );
    new.app.ios.as_mut().unwrap().app_transport_security =
        Some(AppTransportSecurity { exception_domains: vec![exception(None, true)], ..Default::default() });
    one_flag(
        &old,
        &new,
        "App Transport Security newly allows HTTP for: api.example.com (NSExceptionAllowsInsecureHTTPLoads)",
    );

    let mut old = ios();
    old.app.ios.as_mut().unwrap().entitlements = Some(Default::default());
    let mut new = old.clone();
    new.app.ios.as_mut().unwrap().entitlements =
        Some([("get-task-allow".to_string(), serde_json::Value::Bool(true))].into_iter().collect());
    one_flag(&old, &new, "debugging newly allowed: the get-task-allow entitlement is granted");
}

#[test]
fn anti_analysis_and_protectors_that_disappear() {
    let protection =
        |kind, name: &str| Protection { kind, name: name.into(), evidence: Vec::<Evidence>::new() };
    let mut old = android();
    old.protections = vec![
        protection(ProtectionKind::Protector, "DexGuard"),
        protection(ProtectionKind::AntiAnalysis, "root and debugger checks"),
        protection(ProtectionKind::Obfuscator, "ProGuard"),
    ];
    let mut new = old.clone();
    new.protections.retain(|p| p.kind == ProtectionKind::Obfuscator);
    one_flag(&old, &new, "protection gone: DexGuard (protector), root and debugger checks (anti-analysis)");
    // An obfuscator that goes away hides less from the reviewer: no flag.
    new.protections.clear();
    old.protections.retain(|p| p.kind == ProtectionKind::Obfuscator);
    assert!(lost_protections(&old, &new).is_empty());
}
