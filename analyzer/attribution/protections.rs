//! Protections: packers, protectors, obfuscators and anti-analysis code,
//! recognised from the artefacts each leaves (stub classes, loader
//! libraries, encrypted payloads, renamed classes, components the manifest
//! names that no DEX defines), never from the packer's own claims. Runs over
//! the stored report and evidence, so `rescore` finds the same.
//!
//! Names and signals come from `signatures/protections.toml`; commercial
//! packers are SDK definitions with `packer: true` (their owners matter to
//! jurisdiction) and are named here from the SDKs attribution found.

use std::sync::OnceLock;

use rustc_hash::FxHashSet;
use serde::Deserialize;

use crate::evidence::{AppEvidence, UnitKind};
use crate::report::{ComponentKind, Diagnostic, Evidence, EvidenceKind, Protection, ProtectionKind, Report};

const TABLE_TEXT: &str = include_str!("../../signatures/protections.toml");

/// A statistic that recognises a protection without a fixed artefact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Signal {
    UnicodeShortNames,
    AsciiShortNames,
    MissingAppCode,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    name: String,
    kind: ProtectionKind,
    source: String,
    #[serde(default)]
    signal: Option<Signal>,
    #[serde(default)]
    class_prefixes: Vec<String>,
    #[serde(default)]
    native_libs: Vec<String>,
    #[serde(default)]
    entries: Vec<String>,
    #[serde(default)]
    apis: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Thresholds {
    min_classes: usize,
    ascii_short_share: f64,
    unicode_short_share: f64,
    missing_component_share: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    signals: Thresholds,
    protection: Vec<Rule>,
}

/// The embedded table; a unit test proves it parses, so `None` is never seen in practice.
fn table() -> Option<&'static Table> {
    static TABLE: OnceLock<Option<Table>> = OnceLock::new();
    TABLE.get_or_init(|| toml::from_str(TABLE_TEXT).ok()).as_ref()
}

/// A stub loader is small: an app whose DEX defines more classes than this
/// is not hiding its code, whatever its manifest names.
const MAX_STUB_CLASSES: usize = 300;
/// Calls a stub makes to load the code it decrypts.
const LOADER_APIS: &[&str] = &[
    "Ldalvik/system/DexClassLoader;-><init>",
    "Ldalvik/system/InMemoryDexClassLoader;-><init>",
    "Ldalvik/system/DexFile;->loadDex",
    "Ldalvik/system/DexFile;->openDexFile",
];
/// Examples kept per statistic.
const EXAMPLES: usize = 3;

/// What the class names of the app's DEX files say.
#[derive(Default)]
struct ClassStats<'e> {
    total: usize,
    ascii_short: Vec<&'e str>,
    ascii_short_count: usize,
    unicode_short: Vec<&'e str>,
    unicode_short_count: usize,
}

/// `Lcom/x/a$b;` -> `a`: the simple name of the outermost class.
fn simple_name(descriptor: &str) -> &str {
    let inner = descriptor.strip_prefix('L').and_then(|d| d.strip_suffix(';')).unwrap_or(descriptor);
    let simple = inner.rsplit('/').next().unwrap_or(inner);
    simple.split('$').next().unwrap_or(simple)
}

fn class_stats(evidence: &AppEvidence) -> ClassStats<'_> {
    let mut s = ClassStats::default();
    for unit in evidence.units.iter().filter(|u| u.kind == UnitKind::Dex) {
        for class in &unit.classes {
            s.total += 1;
            let name = simple_name(class);
            let chars = name.chars().count();
            if (1..=2).contains(&chars) && name.bytes().all(|b| b.is_ascii_lowercase()) {
                s.ascii_short_count += 1;
                if s.ascii_short.len() < EXAMPLES {
                    s.ascii_short.push(class);
                }
            } else if (1..=3).contains(&chars) && !name.is_ascii() {
                s.unicode_short_count += 1;
                if s.unicode_short.len() < EXAMPLES {
                    s.unicode_short.push(class);
                }
            }
        }
    }
    s
}

/// `com.x.Main` -> `Lcom/x/Main;`.
fn descriptor(dotted: &str) -> String {
    format!("L{};", dotted.replace('.', "/"))
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '!']).next().unwrap_or(path)
}

/// An archive path inside a nested archive or split (`base.apk!assets/x`) -> `assets/x`.
fn inner_path(path: &str) -> &str {
    path.rsplit('!').next().unwrap_or(path)
}

fn ev(source: &str, kind: EvidenceKind, value: String) -> Evidence {
    Evidence { source: source.to_string(), kind, value }
}

/// Evidence of a share statistic, if it passes its threshold.
fn share_evidence(
    count: usize,
    total: usize,
    share: f64,
    examples: &[&str],
    what: &str,
) -> Option<Vec<Evidence>> {
    // Integer comparison of count / total >= share, share given in the table as a fraction.
    let needed = (share * total as f64).ceil() as usize;
    if total == 0 || count < needed.max(1) {
        return None;
    }
    let percent = count.saturating_mul(100) / total;
    let mut out = vec![ev(
        "",
        EvidenceKind::ClassNames,
        format!("{count} of {total} classes ({percent}%) have {what}"),
    )];
    out.extend(examples.iter().map(|c| ev("", EvidenceKind::Class, (*c).to_string())));
    Some(out)
}

/// Components and the Application class the manifest names that no DEX
/// defines, when the DEX looks like a stub and something hides the rest.
fn missing_app_code(
    report: &Report,
    evidence: &AppEvidence,
    stats: &ClassStats,
    share: f64,
) -> Option<Vec<Evidence>> {
    // An undecodable manifest names nothing, but a stub that loads code still shows.
    let no_facts = crate::report::AndroidFacts::default();
    let facts = report.app.android.as_ref().unwrap_or(&no_facts);
    if facts.has_code == Some(false) || stats.total == 0 || stats.total > MAX_STUB_CLASSES {
        return None;
    }
    // Only a stub-sized DEX gets here: its class set is small to build.
    let defined: FxHashSet<&str> =
        evidence.units.iter().filter(|u| u.kind == UnitKind::Dex).flat_map(|u| u.classes.iter()).collect();
    let manifest = "AndroidManifest.xml";
    let mut out = Vec::new();
    let app_missing =
        facts.application_class.as_deref().filter(|c| !defined.contains(descriptor(c).as_str()));
    if let Some(app) = app_missing {
        out.push(ev(
            manifest,
            EvidenceKind::Manifest,
            format!("application class {app} is defined in no DEX"),
        ));
    }
    let named: Vec<&str> = facts
        .components
        .iter()
        .filter(|c| c.kind != ComponentKind::ActivityAlias)
        .map(|c| c.name.as_str())
        .collect();
    let missing: Vec<&str> =
        named.iter().copied().filter(|c| !defined.contains(descriptor(c).as_str())).collect();
    let needed = (share * named.len() as f64).ceil() as usize;
    if !missing.is_empty() && missing.len() >= needed {
        out.push(ev(
            manifest,
            EvidenceKind::Component,
            format!(
                "{} of {} manifest components are defined in no DEX (e.g. {})",
                missing.len(),
                named.len(),
                missing.first().copied().unwrap_or_default()
            ),
        ));
    }
    // With nothing named to miss, a stub that loads code is the sign.
    if out.is_empty() {
        let loader = evidence
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Dex)
            .flat_map(|u| u.apis.iter().map(move |a| (u, a)))
            .find(|(_, a)| LOADER_APIS.iter().any(|l| a.starts_with(l)));
        let (unit, api) = loader?;
        out.push(ev(
            &unit.source,
            EvidenceKind::Api,
            format!("a stub DEX of {} classes calls {api}", stats.total),
        ));
    }
    // Something must hold the real code: an encrypted payload or a DEX-named file Android ignores.
    let before = out.len();
    for p in &evidence.payloads {
        out.push(ev(
            &p.source,
            EvidenceKind::Payload,
            format!(
                "{} ({} bytes, {}.{:03} bits of entropy per byte)",
                p.source,
                p.size,
                p.entropy_millibits / 1000,
                p.entropy_millibits % 1000
            ),
        ));
    }
    for e in &evidence.entry_names {
        let path = inner_path(e);
        let dex_named = !path.contains('/') && path.starts_with("classes") && !path.ends_with(".dex");
        if dex_named && !out.iter().any(|x| x.source == e) {
            out.push(ev(e, EvidenceKind::Entry, format!("{path}: a DEX-named file Android does not load")));
        }
    }
    (out.len() > before).then_some(out)
}

/// Evidence of the fixed artefacts of `rule`.
fn artefacts(rule: &Rule, evidence: &AppEvidence) -> Vec<Evidence> {
    let mut out = Vec::new();
    let prefixes: Vec<String> =
        rule.class_prefixes.iter().map(|p| format!("L{}", p.replace('.', "/"))).collect();
    let apis: FxHashSet<&str> = rule.apis.iter().map(String::as_str).collect();
    for unit in &evidence.units {
        match unit.kind {
            UnitKind::Dex => {
                if !prefixes.is_empty() {
                    if let Some(c) =
                        unit.classes.iter().find(|c| prefixes.iter().any(|p| c.starts_with(p.as_str())))
                    {
                        out.push(ev(&unit.source, EvidenceKind::Class, c.to_string()));
                    }
                }
                if !apis.is_empty() {
                    if let Some(a) = unit.apis.iter().find(|a| apis.contains(a)) {
                        out.push(ev(&unit.source, EvidenceKind::Api, a.to_string()));
                    }
                }
            }
            UnitKind::Native if rule.native_libs.iter().any(|l| l == file_name(&unit.source)) => {
                out.push(ev(&unit.source, EvidenceKind::Library, file_name(&unit.source).to_string()));
            }
            _ => {}
        }
    }
    for e in &evidence.entry_names {
        let path = inner_path(e);
        let entry_hit =
            rule.entries
                .iter()
                .any(|r| if r.ends_with('/') { path.starts_with(r.as_str()) } else { path == r });
        // Loader libraries hidden outside lib/ are entries, not code units.
        let stray_lib = !path.starts_with("lib/") && rule.native_libs.iter().any(|l| l == file_name(path));
        if (entry_hit || stray_lib) && !out.iter().any(|x| x.source == e) {
            out.push(ev(e, EvidenceKind::Entry, e.to_string()));
        }
    }
    out
}

/// A packer SDK attribution found: its name and evidence.
pub struct FoundPacker<'a> {
    pub name: &'a str,
    pub evidence: &'a [Evidence],
}

/// Fills `report.protections` and adds a `code.packed` diagnostic for each
/// packer not already reported as one (packer SDKs report themselves).
pub fn detect(report: &mut Report, evidence: &AppEvidence, packer_sdks: &[FoundPacker]) {
    let mut found: Vec<Protection> = packer_sdks
        .iter()
        .map(|p| Protection {
            kind: ProtectionKind::Packer,
            name: p.name.trim_end_matches(" (packer)").to_string(),
            evidence: p.evidence.iter().filter(|e| e.kind != EvidenceKind::More).cloned().collect(),
        })
        .collect();
    let Some(table) = table() else {
        report.protections = found;
        return;
    };
    let stats = class_stats(evidence);
    let t = &table.signals;
    let enough = stats.total >= t.min_classes;
    let mut new_packers = Vec::new();
    for rule in &table.protection {
        let evidence = match rule.signal {
            Some(Signal::UnicodeShortNames) if enough => share_evidence(
                stats.unicode_short_count,
                stats.total,
                t.unicode_short_share,
                &stats.unicode_short,
                "short names with non-ASCII look-alike letters",
            ),
            Some(Signal::AsciiShortNames) if enough => share_evidence(
                stats.ascii_short_count,
                stats.total,
                t.ascii_short_share,
                &stats.ascii_short,
                "one- or two-letter names",
            ),
            // A named packer already explains hidden code.
            Some(Signal::MissingAppCode) if found.iter().all(|p| p.kind != ProtectionKind::Packer) => {
                missing_app_code(report, evidence, &stats, t.missing_component_share)
            }
            Some(_) => None,
            None => Some(artefacts(rule, evidence)).filter(|e| !e.is_empty()),
        };
        let Some(mut evidence) = evidence else { continue };
        evidence.push(ev("", EvidenceKind::Sdk, format!("rule: {}", rule.source)));
        if rule.kind == ProtectionKind::Packer {
            new_packers
                .push((rule.name.clone(), evidence.first().map(|e| e.source.clone()).unwrap_or_default()));
        }
        found.push(Protection { kind: rule.kind, name: rule.name.clone(), evidence });
    }
    // DexGuard's renaming also passes the short-name test of R8: name the specific one.
    if found.iter().any(|p| p.name == "DexGuard") {
        found.retain(|p| p.name != "R8 / ProGuard");
    }
    for (name, at) in new_packers {
        report.diagnostics.push(
            Diagnostic::warning(
                "code.packed",
                format!("packed ({name}): the app's real code is encrypted or loaded at run time"),
            )
            .at(at),
        );
    }
    found.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    report.protections = found;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{CodeUnit, Payload};
    use crate::report::{AndroidFacts, Component};

    fn dex(classes: &[&str]) -> CodeUnit {
        let mut u = CodeUnit::new("classes.dex", UnitKind::Dex);
        u.classes = classes.iter().copied().collect();
        u
    }

    fn android(report: &mut Report, app: Option<&str>, components: &[&str]) {
        report.app.android = Some(AndroidFacts {
            application_class: app.map(str::to_string),
            components: components
                .iter()
                .map(|n| Component { name: n.to_string(), ..Default::default() })
                .collect(),
            ..Default::default()
        });
    }

    fn names(r: &Report) -> Vec<(ProtectionKind, &str)> {
        r.protections.iter().map(|p| (p.kind, p.name.as_str())).collect()
    }

    #[test]
    fn the_embedded_table_parses() {
        let t = table().expect("signatures/protections.toml parses");
        assert!(t.protection.iter().all(|r| !r.source.is_empty()));
        assert!(t.protection.iter().any(|r| r.signal == Some(Signal::MissingAppCode)));
    }

    #[test]
    fn r8_and_dexguard_renaming_are_told_apart() {
        let mut r = crate::risk::tests_support::report();
        let mut classes: Vec<String> = (0..30).map(|i| format!("Lcom/app/Screen{i};")).collect();
        classes.extend(
            [
                "La;",
                "Lb;",
                "Lc$a;",
                "Lcom/x/ab;",
                "Lcom/x/b;",
                "Lcom/x/c;",
                "Lcom/x/d;",
                "Lcom/x/e;",
                "Lcom/x/f;",
            ]
            .map(String::from),
        );
        let refs: Vec<&str> = classes.iter().map(String::as_str).collect();
        let ev = AppEvidence { units: vec![dex(&refs)], ..Default::default() };
        detect(&mut r, &ev, &[]);
        assert!(r.protections.is_empty(), "9 of 39 is under 30%: {:?}", names(&r));
        classes.extend(
            (0..10).map(|i| format!("Lo/{}{};", ['a', 'b', 'c'][i % 3], ['d', 'e', 'f', 'g'][i % 4])),
        );
        let refs: Vec<&str> = classes.iter().map(String::as_str).collect();
        detect(&mut r, &AppEvidence { units: vec![dex(&refs)], ..Default::default() }, &[]);
        assert_eq!(names(&r), [(ProtectionKind::Obfuscator, "R8 / ProGuard")]);
        assert!(r.protections[0].evidence[0].value.contains("classes"));
        let guarded: Vec<String> = (0..30).map(|i| format!("Lo/ﭔ{i}$ˊ;")).collect();
        let mut all = refs.clone();
        all.extend(guarded.iter().map(String::as_str));
        detect(&mut r, &AppEvidence { units: vec![dex(&all)], ..Default::default() }, &[]);
        assert_eq!(names(&r), [(ProtectionKind::Obfuscator, "DexGuard")]);
    }

    #[test]
    fn components_missing_from_a_stub_dex_with_a_payload_are_a_packer() {
        let mut r = crate::risk::tests_support::report();
        android(&mut r, Some("com.shell.StubApp"), &["com.app.MainActivity", "com.app.Sync"]);
        let stub = dex(&["Lcom/shell/StubApp;"]);
        let payload = Payload { source: "assets/code.bin".into(), size: 90_000, entropy_millibits: 7_990 };
        // Missing components but no payload: not enough to say packed.
        detect(&mut r, &AppEvidence { units: vec![stub.clone()], ..Default::default() }, &[]);
        assert!(r.protections.is_empty());
        let ev = AppEvidence { units: vec![stub], payloads: vec![payload], ..Default::default() };
        detect(&mut r, &ev, &[]);
        assert_eq!(names(&r), [(ProtectionKind::Packer, "unidentified packer")]);
        let p = &r.protections[0];
        assert!(p.evidence.iter().any(|e| e.value.starts_with("2 of 2 manifest components")));
        assert!(p.evidence.iter().any(|e| e.kind == EvidenceKind::Payload && e.value.contains("7.990")));
        assert!(r.diagnostics.iter().any(|d| d.code == "code.packed"));
    }

    #[test]
    fn a_dex_named_file_android_ignores_is_a_payload_and_a_missing_application_class_counts() {
        let mut r = crate::risk::tests_support::report();
        android(&mut r, Some("com.app.RealApp"), &["com.proxy.Main"]);
        let ev = AppEvidence {
            units: vec![dex(&["Lcom/proxy/Main;"])],
            entry_names: ["classes.dex", "classes.xed"].into(),
            ..Default::default()
        };
        detect(&mut r, &ev, &[]);
        let p = &r.protections[0];
        assert_eq!(p.name, "unidentified packer");
        assert!(p.evidence.iter().any(|e| e.value.contains("application class com.app.RealApp")));
        assert!(p.evidence.iter().any(|e| e.source == "classes.xed"));
    }

    #[test]
    fn an_app_with_its_code_is_not_packed_and_a_named_packer_comes_first() {
        let mut r = crate::risk::tests_support::report();
        android(&mut r, Some("com.app.App"), &["com.app.Main"]);
        let ev = AppEvidence {
            units: vec![dex(&["Lcom/app/App;", "Lcom/app/Main;"])],
            entry_names: ["classes.xed"].into(),
            ..Default::default()
        };
        detect(&mut r, &ev, &[]);
        assert!(r.protections.is_empty());
        let sdk_ev = [ev_lib()];
        detect(&mut r, &ev, &[FoundPacker { name: "Bangcle / SecNeo (packer)", evidence: &sdk_ev }]);
        assert_eq!(names(&r), [(ProtectionKind::Packer, "Bangcle / SecNeo")]);
    }

    fn ev_lib() -> Evidence {
        ev("lib/armeabi/libsecexe.so", EvidenceKind::Library, "libsecexe.so".into())
    }

    #[test]
    fn artefacts_of_protectors_and_anti_analysis() {
        let mut r = crate::risk::tests_support::report();
        let mut unit = dex(&["Lcom/app/Main;"]);
        unit.apis = ["Landroid/os/Debug;->isDebuggerConnected"].into();
        let ev = AppEvidence {
            units: vec![unit],
            entry_names: ["assets/dp.arm-v7.so.dat", "assets/libdexprotector.so"].into(),
            ..Default::default()
        };
        detect(&mut r, &ev, &[]);
        assert_eq!(
            names(&r),
            [(ProtectionKind::Protector, "DexProtector"), (ProtectionKind::AntiAnalysis, "debugger check")]
        );
        assert_eq!(r.protections[0].evidence.len(), 3, "two entries and the rule");
    }
}
