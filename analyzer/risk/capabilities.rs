//! Capabilities: what data the app can reach, each `declared` (permissions,
//! usage descriptions, bound components, intent actions) and/or `observed`
//! (API references in DEX, imported symbols, SDK categories), with evidence
//! and the declared-versus-observed finding.

use std::collections::BTreeMap;

use crate::evidence::{AppEvidence, UnitKind};
use crate::report::{Capability, CapabilityFinding, Evidence, EvidenceKind, Platform, Report};

use super::tables::RiskTables;

/// Evidence items kept per capability and per kind: enough to check, small
/// enough for a report over an app with thousands of references.
const EVIDENCE_PER_KIND: usize = 8;

#[derive(Default)]
struct Found {
    declared: Vec<Evidence>,
    observed: Vec<Evidence>,
}

fn push_capped(list: &mut Vec<Evidence>, e: Evidence) {
    if list.len() < EVIDENCE_PER_KIND * 4
        && list.iter().filter(|x| x.kind == e.kind).count() < EVIDENCE_PER_KIND
        && !list.contains(&e)
    {
        list.push(e);
    }
}

/// Capabilities an API reference or imported symbol reaches: exact
/// `Lclass;->member` or symbol names for DEX and ELF, substrings of the
/// symbol for Mach-O (selectors and mangled names carry the API inside).
pub(super) fn api_capabilities<'t>(kind: UnitKind, api: &str, tables: &'t RiskTables) -> Vec<&'t str> {
    match kind {
        UnitKind::Dex | UnitKind::Native => {
            tables.apis.get(api).into_iter().flatten().map(|r| r.capability.as_str()).collect()
        }
        UnitKind::Macho => tables
            .ios_symbols
            .iter()
            .filter(|(needle, _)| api.contains(needle.as_str()))
            .map(|(_, r)| r.capability.as_str())
            .collect(),
    }
}

/// The capabilities the app declares or reaches, in table order.
pub fn assess(report: &Report, evidence: &AppEvidence, tables: &RiskTables) -> Vec<Capability> {
    let mut found: BTreeMap<&str, Found> = BTreeMap::new();
    let ios = report.app.platform == Some(Platform::Ios);
    let manifest = if ios { "Info.plist" } else { "AndroidManifest.xml" };

    for p in &report.permissions {
        for r in tables.declarations.get(&p.name).into_iter().flatten() {
            let kind = if ios { EvidenceKind::UsageDescription } else { EvidenceKind::Permission };
            let e = Evidence { source: manifest.into(), kind, value: p.name.clone() };
            push_capped(&mut found.entry(&r.capability).or_default().declared, e);
        }
    }
    if let Some(android) = &report.app.android {
        for c in &android.components {
            let bound = c.permission.iter().flat_map(|p| tables.declarations.get(p)).flatten();
            for r in bound {
                let value =
                    format!("{} {} ({})", c.kind, c.name, c.permission.as_deref().unwrap_or_default());
                let e = Evidence { source: manifest.into(), kind: EvidenceKind::Component, value };
                push_capped(&mut found.entry(&r.capability).or_default().declared, e);
            }
            for action in c.intent_filters.iter().flat_map(|f| &f.actions) {
                for r in tables.declarations.get(action).into_iter().flatten() {
                    let value = format!("{} {} listens for {action}", c.kind, c.name);
                    let e = Evidence { source: manifest.into(), kind: EvidenceKind::IntentAction, value };
                    push_capped(&mut found.entry(&r.capability).or_default().declared, e);
                }
            }
        }
    }
    // iOS: asking which URL schemes open is how apps inventory installed apps.
    for k in evidence.config_keys.iter().filter(|k| k.key == "LSApplicationQueriesSchemes") {
        let e = Evidence { source: k.source.clone(), kind: EvidenceKind::Config, value: k.key.clone() };
        push_capped(&mut found.entry("installed_apps").or_default().declared, e);
    }

    for unit in &evidence.units {
        for api in &unit.apis {
            let refs = api_capabilities(unit.kind, api, tables);
            for cap in refs {
                let kind =
                    if unit.kind == UnitKind::Macho { EvidenceKind::Symbol } else { EvidenceKind::Api };
                let e = Evidence { source: unit.source.clone(), kind, value: api.to_string() };
                push_capped(&mut found.entry(cap).or_default().observed, e);
            }
        }
    }
    for sdk in &report.sdks {
        for cat in &sdk.categories {
            for r in tables.sdk_categories.get(&cat.to_lowercase()).into_iter().flatten() {
                let source = sdk.evidence.first().map(|e| e.source.clone()).unwrap_or_else(|| "sdk".into());
                let e = Evidence { source, kind: EvidenceKind::Sdk, value: format!("{} ({cat})", sdk.name) };
                push_capped(&mut found.entry(&r.capability).or_default().observed, e);
            }
        }
    }

    let mut out = Vec::new();
    for info in &tables.capabilities {
        let Some(f) = found.remove(info.id.as_str()) else {
            continue;
        };
        let declared = !f.declared.is_empty();
        let observed = !f.observed.is_empty();
        let finding = match (declared, observed) {
            (true, false) => Some(CapabilityFinding::DeclaredUnused),
            (false, true) if info.needs_permission => Some(CapabilityFinding::UsedUndeclared),
            _ => None,
        };
        let mut evidence = f.declared;
        evidence.extend(f.observed);
        out.push(Capability {
            id: info.id.clone(),
            declared,
            observed,
            evidence,
            label: info.label.clone(),
            data_class: info.data_class.clone(),
            finding,
            reached_by: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::CodeUnit;
    use crate::report::{AndroidFacts, Component, IntentFilter, Permission, Sdk};

    fn report_with(perms: &[&str]) -> Report {
        let mut r = crate::risk::tests_support::report();
        r.app.platform = Some(Platform::Android);
        r.permissions = perms
            .iter()
            .map(|p| Permission {
                name: p.to_string(),
                source: "uses-permission".into(),
                ..Default::default()
            })
            .collect();
        r
    }

    fn dex(apis: &[&str]) -> AppEvidence {
        let mut u = CodeUnit::new("classes.dex", UnitKind::Dex);
        u.apis = apis.iter().collect();
        AppEvidence { units: vec![u], ..Default::default() }
    }

    #[test]
    fn declared_and_observed_location_has_both_kinds_of_evidence() {
        let r = report_with(&["android.permission.ACCESS_FINE_LOCATION"]);
        let ev = dex(&["Landroid/location/LocationManager;->getLastKnownLocation"]);
        let caps = assess(&r, &ev, RiskTables::embedded());
        let loc = caps.iter().find(|c| c.id == "location").unwrap();
        assert!(loc.declared && loc.observed && loc.finding.is_none());
        assert_eq!(loc.evidence[0].kind, EvidenceKind::Permission);
        assert_eq!(loc.evidence[1].source, "classes.dex");
    }

    #[test]
    fn declared_unused_and_used_undeclared_are_findings() {
        let r = report_with(&["android.permission.READ_CONTACTS"]);
        let ev = dex(&[
            "Landroid/telephony/TelephonyManager;->getDeviceId",
            "Landroid/content/ClipboardManager;->getPrimaryClip",
        ]);
        let caps = assess(&r, &ev, RiskTables::embedded());
        let find = |id: &str| caps.iter().find(|c| c.id == id).unwrap().finding;
        assert_eq!(find("contacts"), Some(CapabilityFinding::DeclaredUnused));
        assert_eq!(find("phone_identity"), Some(CapabilityFinding::UsedUndeclared));
        // The clipboard needs no permission: reaching it is not a mismatch.
        assert_eq!(find("clipboard"), None);
    }

    #[test]
    fn accessibility_service_and_sdk_categories_count() {
        let mut r = report_with(&[]);
        r.app.android = Some(AndroidFacts {
            components: vec![Component {
                kind: crate::report::ComponentKind::Service,
                name: "a.Keys".into(),
                permission: Some("android.permission.BIND_ACCESSIBILITY_SERVICE".into()),
                intent_filters: vec![IntentFilter {
                    actions: vec!["android.accessibilityservice.AccessibilityService".into()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        });
        r.sdks.push(Sdk {
            id: "x".into(),
            name: "X Ads".into(),
            categories: vec!["Advertisement".into()],
            ..Default::default()
        });
        let caps = assess(&r, &AppEvidence::default(), RiskTables::embedded());
        let input = caps.iter().find(|c| c.id == "input_monitoring").unwrap();
        assert_eq!(input.evidence.len(), 2);
        assert_eq!(input.data_class, "input");
        assert!(caps.iter().any(|c| c.id == "advertising_id" && c.observed));
    }

    #[test]
    fn ios_usage_keys_and_symbols() {
        let mut r = report_with(&["NSCameraUsageDescription"]);
        r.app.platform = Some(Platform::Ios);
        let mut u = CodeUnit::new("Payload/A.app/A", UnitKind::Macho);
        u.apis = ["_OBJC_CLASS_$_AVCaptureDevice"].into();
        let ev = AppEvidence { units: vec![u], ..Default::default() };
        let caps = assess(&r, &ev, RiskTables::embedded());
        let cam = caps.iter().find(|c| c.id == "camera").unwrap();
        assert!(cam.declared && cam.observed);
        assert_eq!(cam.evidence[0].kind, EvidenceKind::UsageDescription);
    }
}
