//! Checks the binary XML and resources.arsc decoders against what aapt
//! reported for every corpus APK it could read (shared/reference/apk/*.json):
//! package, versionCode, versionName (resolved through resources.arsc like
//! aapt does), uses-permission set, and the application label.
//!
//! Skips silently when the shared corpus is absent. Known disagreements
//! where aapt is wrong are listed in `AAPT_IS_WRONG` with the reason.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use appvet::formats::arsc::{self, ResourceTable};
use appvet::formats::axml;
use appvet::formats::xml_tree::{AttrValue, XmlElement};

/// `(apk file name fragment, check, why aapt's answer is not the truth)`.
const AAPT_IS_WRONG: &[(&str, &str, &str)] = &[];

fn shared_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    dir.join("corpus").is_dir().then_some(dir)
}

fn zip_entry(zip: &[u8], wanted: &str) -> Option<Vec<u8>> {
    common::zip_entry(zip, wanted)
}

fn json_str(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An attribute value as text, resolving references through the table.
fn resolved_text(v: &AttrValue, table: Option<&ResourceTable>) -> Option<String> {
    match v {
        AttrValue::String(s) => Some(s.clone()),
        AttrValue::IntDec(n) => Some(n.to_string()),
        AttrValue::IntHex(n) => Some(n.to_string()),
        AttrValue::Reference(id) => table.and_then(|t| t.resolve_string(*id)),
        other => Some(other.display()),
    }
}

#[derive(Default)]
struct Tally {
    checked: usize,
    passed: usize,
}

#[test]
fn manifests_match_aapt() {
    let Some(shared) = shared_dir() else { return };
    let mut refs: Vec<_> = std::fs::read_dir(shared.join("reference/apk"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    refs.sort();
    let names = ["root", "package", "versionCode", "versionName", "permissions", "label"];
    let mut tallies: Vec<Tally> = names.iter().map(|_| Tally::default()).collect();
    let mut failures = Vec::new();
    for reference in refs {
        let Ok(text) = std::fs::read_to_string(&reference) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let badging = &json["aapt_badging"];
        if badging["exit"].as_i64() != Some(0) {
            continue;
        }
        let Some(file) = json["sample"]["file"].as_str() else {
            continue;
        };
        let Ok(apk) = std::fs::read(shared.join("corpus").join(file)) else {
            continue;
        };
        let Some(manifest_bytes) = zip_entry(&apk, "AndroidManifest.xml") else {
            failures.push(format!("{file}: could not read AndroidManifest.xml"));
            continue;
        };
        let parsed = axml::parse(&manifest_bytes);
        let table = zip_entry(&apk, "resources.arsc").and_then(|b| arsc::parse(&b).table);
        let root = parsed.root.clone().unwrap_or_default();
        let mut check = |i: usize, ok: bool, detail: String| {
            let known = AAPT_IS_WRONG.iter().any(|(f, c, _)| file.contains(f) && *c == names[i]);
            tallies[i].checked += 1;
            if ok || known {
                tallies[i].passed += 1;
            } else {
                failures.push(format!("{file}: {}: {detail}", names[i]));
            }
        };
        check(0, root.name == "manifest", format!("root is {:?}; {:?}", root.name, parsed.diagnostics));

        let package = root.attr("package").and_then(|v| resolved_text(v, table.as_ref()));
        check(
            1,
            package == json_str(&badging["package"]),
            format!("{package:?} vs {:?}", badging["package"]),
        );

        let code = root.android_attr("versionCode").and_then(|v| resolved_text(v, table.as_ref()));
        let want_code = json_str(&badging["version_code"]).filter(|s| !s.is_empty());
        check(
            2,
            code == want_code || (want_code.is_none() && code.is_none()),
            format!("{code:?} vs {want_code:?}"),
        );

        let name = root.android_attr("versionName").and_then(|v| resolved_text(v, table.as_ref()));
        let want_name = json_str(&badging["version_name"]).filter(|s| !s.is_empty());
        check(3, name.clone().filter(|s| !s.is_empty()) == want_name, format!("{name:?} vs {want_name:?}"));

        let perms: BTreeSet<String> = root
            .children_named("uses-permission")
            .filter_map(|e: &XmlElement| {
                e.android_attr("name").and_then(|v| resolved_text(v, table.as_ref()))
            })
            .collect();
        let want_perms: BTreeSet<String> = json["aapt_permissions"]["uses_permissions"]
            .as_array()
            .map(|a| a.iter().filter_map(json_str).collect())
            .unwrap_or_default();
        check(
            4,
            perms == want_perms,
            format!(
                "ours-only {:?}, aapt-only {:?}",
                perms.difference(&want_perms).collect::<Vec<_>>(),
                want_perms.difference(&perms).collect::<Vec<_>>()
            ),
        );

        if let Some(want_label) = json_str(&badging["application_label"]).filter(|s| !s.is_empty()) {
            let label = root
                .children_named("application")
                .next()
                .and_then(|a| a.android_attr("label"))
                .and_then(|v| resolved_text(v, table.as_ref()));
            check(5, label.as_deref() == Some(want_label.as_str()), format!("{label:?} vs {want_label:?}"));
        }
    }
    for (n, t) in names.iter().zip(&tallies) {
        eprintln!("axml corpus check {n}: {}/{} agree with aapt", t.passed, t.checked);
    }
    for f in &failures {
        eprintln!("MISMATCH {f}");
    }
    assert!(failures.is_empty(), "{} mismatches with aapt (see stderr)", failures.len());
}

#[test]
fn aab_proto_manifest_decodes() {
    let Some(shared) = shared_dir() else { return };
    let Ok(aab) = std::fs::read(shared.join("corpus/bundle/skylot__jadx__app-release.aab")) else {
        return;
    };
    let manifest = zip_entry(&aab, "base/manifest/AndroidManifest.xml").expect("manifest entry");
    let parsed = appvet::formats::proto_xml::parse(&manifest);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let root = parsed.root.expect("root");
    assert_eq!(root.name, "manifest");
    assert_eq!(root.attr("package"), Some(&AttrValue::String("com.example.dummyjadx".into())));
    assert_eq!(root.android_attr("versionCode"), Some(&AttrValue::IntDec(1)));
    let sdk = root.children_named("uses-sdk").next().expect("uses-sdk");
    assert_eq!(sdk.android_attr("minSdkVersion"), Some(&AttrValue::IntDec(26)));
    assert_eq!(sdk.android_attr("targetSdkVersion"), Some(&AttrValue::IntDec(34)));
    let app = root.children_named("application").next().expect("application");
    assert_eq!(app.android_attr("label"), Some(&AttrValue::Reference(0x7f0f_001c)));
    let text = axml::to_xml_text(&root);
    assert!(text.contains("android:name=\"com.example.dummyjadx.MainActivity\""), "{text}");
}
