//! Exodus comparison on the shared corpus: for every APK and bundle whose
//! reference JSON has an `exodus` section (exodus-core 1.3.15 with the same
//! 432-tracker list), appvet must report every tracker exodus-core found
//! (zero misses). Extra trackers are printed with their evidence, so each one
//! can be checked. Skips silently without the corpus.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::scan::Scanner;
use serde_json::Value;

fn shared() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    root.join("corpus").is_dir().then_some(root)
}

#[test]
fn appvet_finds_every_tracker_exodus_finds() {
    let Some(root) = shared() else { return };
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["apk", "bundle"] {
        if let Ok(rd) = std::fs::read_dir(root.join("reference").join(dir)) {
            files.extend(
                rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")),
            );
        }
    }
    files.sort();
    let (mut compared, mut exodus_total, mut extras_total) = (0, 0, 0);
    let mut misses = Vec::new();
    for reference in files {
        let Ok(text) = std::fs::read(&reference) else { continue };
        let Ok(json) = serde_json::from_slice::<Value>(&text) else { continue };
        let Some(trackers) = json["exodus"]["trackers"].as_array() else { continue };
        let Some(rel) = json["sample"]["file"].as_str() else { continue };
        let Ok(data) = std::fs::read(root.join("corpus").join(rel)) else { continue };
        let want: BTreeSet<u64> = trackers.iter().filter_map(|t| t["id"].as_u64()).collect();
        let report = match scanner.scan_bytes(&data, rel) {
            Ok(o) => o.report,
            Err(e) => {
                if !want.is_empty() {
                    misses.push(format!("{rel}: no report ({e}), exodus found {want:?}"));
                }
                continue;
            }
        };
        compared += 1;
        exodus_total += want.len();
        let got: BTreeSet<u64> = report.sdks.iter().filter_map(|s| s.exodus_id.map(u64::from)).collect();
        for id in want.difference(&got) {
            misses.push(format!("{rel}: exodus tracker #{id} not found"));
        }
        for sdk in report.sdks.iter().filter(|s| s.exodus_id.is_some_and(|id| !want.contains(&u64::from(id))))
        {
            extras_total += 1;
            let ev: Vec<String> =
                sdk.evidence.iter().take(3).map(|e| format!("{} {} {}", e.source, e.kind, e.value)).collect();
            println!("extra  {rel}: {} ({}) <- {}", sdk.name, sdk.id, ev.join("; "));
        }
    }
    println!("exodus comparison: {compared} samples, {exodus_total} exodus detections, {} misses, {extras_total} extra exodus trackers", misses.len());
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}
