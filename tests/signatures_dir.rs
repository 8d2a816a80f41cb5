//! `--signatures DIR` replaces more than the signature database: the risk
//! tables (capability mappings and weights) and the policy presets come from
//! DIR too when it holds them. Each test works on its own temporary copy of
//! `signatures/`.

mod common;

use std::path::{Path, PathBuf};

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::scan::Scanner;
use assert_cmd::Command;

const DATAHUNGRY: &str = "samples/datahungry.apk";

/// A fresh copy of `signatures/` under the system temp dir, removed on drop.
struct SignatureCopy(PathBuf);

impl SignatureCopy {
    fn new(tag: &str) -> SignatureCopy {
        let dir = std::env::temp_dir().join(format!("appvet-sigs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&common::root().join("signatures"), &dir);
        SignatureCopy(dir)
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let path = self.0.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{rel} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

impl Drop for SignatureCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn data_collection(report: &appvet::report::Report) -> (u32, Option<u32>) {
    let s = &report.risk.data_collection;
    let location = s.factors.iter().find(|f| f.id == "data_collection.capability.location").map(|f| f.weight);
    (s.score, location)
}

#[test]
fn modified_weights_in_a_signature_dir_change_the_score() {
    let sigs = SignatureCopy::new("weights");
    sigs.edit("risk/weights.toml", "\nlocation = 12\n", "\nlocation = 2\n");
    let data = std::fs::read(common::root().join(DATAHUNGRY)).unwrap();

    let embedded = Scanner::new(Database::embedded(), Limits::default());
    let (base_score, base_location) =
        data_collection(&embedded.scan_bytes(&data, DATAHUNGRY).unwrap().report);
    assert_eq!(base_location, Some(12));

    let db = Database::load_dir(&sigs.0).unwrap();
    let overridden = Scanner::new(db, Limits::default()).with_signature_dir(Some(&sigs.0)).unwrap();
    let (score, location) = data_collection(&overridden.scan_bytes(&data, DATAHUNGRY).unwrap().report);
    assert_eq!(location, Some(2));
    // The score is capped at 100; the sample's stays below the cap either way.
    assert_eq!(score + 10, base_score);

    // The same through the command line.
    let out = Command::cargo_bin("appvet")
        .unwrap()
        .current_dir(common::root())
        .args(["scan", DATAHUNGRY, "--signatures"])
        .arg(&sigs.0)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["risk"]["data_collection"]["score"], score);
}

#[test]
fn a_directory_without_risk_tables_keeps_the_embedded_ones() {
    let empty = std::env::temp_dir().join(format!("appvet-sigs-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let scanner =
        Scanner::new(Database::embedded(), Limits::default()).with_signature_dir(Some(&empty)).unwrap();
    let data = std::fs::read(common::root().join(DATAHUNGRY)).unwrap();
    let got = data_collection(&scanner.scan_bytes(&data, DATAHUNGRY).unwrap().report);
    let embedded = Scanner::new(Database::embedded(), Limits::default());
    let want = data_collection(&embedded.scan_bytes(&data, DATAHUNGRY).unwrap().report);
    let _ = std::fs::remove_dir_all(&empty);
    assert_eq!(got, want);
}

#[test]
fn a_broken_weights_file_is_a_usage_error() {
    let sigs = SignatureCopy::new("broken");
    sigs.edit("risk/weights.toml", "[data_collection]", "[data_collection");
    let out = Command::cargo_bin("appvet")
        .unwrap()
        .current_dir(common::root())
        .args(["scan", DATAHUNGRY, "--signatures"])
        .arg(&sigs.0)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("weights.toml"));
}

#[test]
fn policy_presets_come_from_the_signature_dir() {
    let run = |sigs: Option<&Path>| {
        let mut c = Command::cargo_bin("appvet").unwrap();
        c.current_dir(common::root()).args(["scan", "--fail-on", "review", DATAHUNGRY]);
        if let Some(dir) = sigs {
            c.arg("--signatures").arg(dir);
        }
        let out = c.output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), report["verdict"]["decision"].as_str().map(str::to_string))
    };
    assert_eq!(run(None), (Some(10), Some("review".into())));
    // An office's edited baseline (the default policy) that blocks data-hungry apps.
    let sigs = SignatureCopy::new("policy");
    sigs.edit(
        "policies/baseline.toml",
        "id = \"data-hungry\"\ndecision = \"review\"",
        "id = \"data-hungry\"\ndecision = \"block\"",
    );
    assert_eq!(run(Some(&sigs.0)), (Some(11), Some("block".into())));
    // Named presets are looked up in DIR too; one DIR lacks falls back to the embedded copy.
    std::fs::remove_file(sigs.0.join("policies/nl-aivd.toml")).unwrap();
    let out = Command::cargo_bin("appvet")
        .unwrap()
        .current_dir(common::root())
        .args(["scan", DATAHUNGRY, "--fail-on", "block", "--policy", "nl-aivd", "--signatures"])
        .arg(&sigs.0)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(11));
}
