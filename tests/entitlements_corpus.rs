//! Entitlements in Mach-O code signatures against the reference (LIEF's walk
//! of the `0xfade7171` blob, read with plistlib): for every corpus Mach-O and
//! IPA main executable that has them, appvet reports the same keys.

mod common;

use std::collections::BTreeSet;

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::scan::Scanner;

fn keys_of_slices(slices: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in slices.as_array().into_iter().flatten() {
        for k in s["entitlements_keys"].as_array().into_iter().flatten() {
            out.extend(k.as_str().map(String::from));
        }
    }
    out
}

#[test]
fn entitlement_keys_match_the_reference() {
    let Some(corpus) = common::corpus_dir() else { return };
    let reference = corpus.join("../reference");
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for sub in ["macho", "ipa"] {
        let Ok(rd) = std::fs::read_dir(reference.join(sub)) else { continue };
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let (want, entry) = if sub == "macho" {
                (keys_of_slices(&r["lief"]["slices"]), None)
            } else {
                let exe = &r["apps"][0]["main_executable"];
                (keys_of_slices(&exe["lief"]["slices"]), exe["entry"].as_str().map(|e| format!("/{e}")))
            };
            if want.is_empty() {
                continue;
            }
            let sample = corpus.join(r["sample"]["file"].as_str().unwrap());
            let data = std::fs::read(&sample).unwrap();
            let report = scanner.scan_bytes(&data, &sample.display().to_string()).unwrap().report;
            let macho =
                report.code.macho.iter().find(|m| entry.as_ref().is_none_or(|e| m.entry.ends_with(e)));
            let mut got = BTreeSet::new();
            if let Some(m) = macho {
                got.extend(m.entitlements.iter().flat_map(|e| e.keys().cloned()));
            }
            checked += 1;
            if got != want {
                mismatches.push(format!("{}: reference {want:?}, appvet {got:?}", sample.display()));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(checked >= 10, "only {checked} files with entitlements checked");
}
