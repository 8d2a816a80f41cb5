//! Every corpus IPA, zipped .app and Mach-O against the references
//! (plistlib for Info.plist, LIEF for Mach-O): bundle id, versions, minimum
//! OS, usage descriptions; per binary the LC_LOAD_DYLIB + weak dylib set,
//! slice count, file types and encryption. Skips when ../shared is absent.

mod common;

use std::collections::BTreeSet;

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::report::MachoSummary;
use appvet::scan::Scanner;
use serde_json::Value;

fn lief_dylibs(lief: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in lief["slices"].as_array().into_iter().flatten() {
        for key in ["load_dylibs", "weak_dylibs"] {
            for d in s[key].as_array().into_iter().flatten() {
                out.insert(d.as_str().unwrap_or_default().to_string());
            }
        }
    }
    out
}

fn compare_macho(name: &str, lief: &Value, mine: Option<&MachoSummary>, failures: &mut Vec<String>) {
    let slices = lief["slices"].as_array().cloned().unwrap_or_default();
    if lief["parsed"] != Value::Bool(true) || slices.is_empty() {
        return;
    }
    let Some(m) = mine else {
        failures.push(format!("{name}: no code.macho entry"));
        return;
    };
    let got: BTreeSet<String> = m.dylibs.iter().cloned().collect();
    if got != lief_dylibs(lief) {
        failures.push(format!("{name}: dylibs differ"));
    }
    if m.slices.len() != slices.len() {
        failures.push(format!("{name}: {} slices, LIEF {}", m.slices.len(), slices.len()));
    }
    for (mine, theirs) in m.slices.iter().zip(&slices) {
        if Some(mine.file_type.as_str()) != theirs["file_type"].as_str() {
            failures.push(format!("{name}: file type {} != {}", mine.file_type, theirs["file_type"]));
        }
        let want_min = theirs["min_os"]["version_min"]["version"]
            .as_str()
            .or(theirs["min_os"]["build_version"]["minos"].as_str());
        if mine.min_os.as_deref() != want_min {
            failures.push(format!("{name}: min_os {:?} != {want_min:?}", mine.min_os));
        }
        let want_crypt = theirs["encryption_info"]["cryptid"].as_u64().map(|c| c as u32);
        if mine.cryptid != want_crypt {
            failures.push(format!("{name}: cryptid {:?} != {want_crypt:?}", mine.cryptid));
        }
    }
}

#[test]
fn ios_corpus_matches_references() {
    let Some(corpus) = common::corpus_dir() else { return };
    let reference = corpus.join("../reference");
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let mut failures = Vec::new();
    for sub in ["ipa", "macho"] {
        let Ok(rd) = std::fs::read_dir(corpus.join(sub)) else { continue };
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            let Ok(text) = std::fs::read_to_string(reference.join(format!("{name}.json"))) else { continue };
            let reference: Value = serde_json::from_str(&text).unwrap();
            let data = std::fs::read(&path).unwrap();
            let Ok(out) = scanner.scan_bytes(&data, &name) else {
                failures.push(format!("{name}: no report"));
                continue;
            };
            let report = out.report;
            if sub == "macho" {
                compare_macho(&name, &reference["lief"], report.code.macho.first(), &mut failures);
                continue;
            }
            let Some(app) = reference["apps"].get(0) else { continue };
            let info = &app["info_plist"];
            for (key, got) in [
                ("CFBundleIdentifier", &report.app.id),
                ("CFBundleShortVersionString", &report.app.version),
                ("CFBundleVersion", &report.app.version_code),
                ("MinimumOSVersion", &report.app.min_os),
            ] {
                if let Some(want) = info[key].as_str() {
                    if got.as_deref() != Some(want) {
                        failures.push(format!("{name}: {key} {got:?} != {want:?}"));
                    }
                }
            }
            let usage: BTreeSet<&str> = app["usage_descriptions"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .collect();
            let got: BTreeSet<&str> = report.permissions.iter().map(|p| p.name.as_str()).collect();
            if !usage.is_subset(&got) {
                failures.push(format!("{name}: usage descriptions {usage:?} not all in {got:?}"));
            }
            if let Some(exe) = app["main_executable"]["entry"].as_str() {
                let mine = report.code.macho.iter().find(|m| m.entry.ends_with(&format!("/{exe}")));
                compare_macho(&name, &app["main_executable"]["lief"], mine, &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
