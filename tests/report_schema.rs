//! The shipped JSON Schema (`schemas/report.schema.json`) is the one the
//! report model generates; every sample's report, under every policy preset,
//! validates against it, and its SARIF log
//! against SARIF 2.1.0 (`../shared/schemas/sarif-schema-2.1.0.json`, skipped
//! silently when absent).

mod common;

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::policy::{ExceptionSet, Policy};
use appvet::report::{sarif, Report};
use appvet::scan::Scanner;
use serde_json::Value;

fn reports() -> Vec<(String, Report)> {
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let mut out = Vec::new();
    for path in common::sample_files() {
        let rel = common::rel(&path);
        let Ok(o) = scanner.scan_bytes(&std::fs::read(&path).unwrap(), &rel) else {
            continue;
        };
        for name in Policy::preset_names() {
            let mut r = o.report.clone();
            r.verdict = Some(Policy::preset(name).unwrap().evaluate(&r, &ExceptionSet::none()));
            out.push((format!("{rel} [{name}]"), r));
        }
    }
    assert!(!out.is_empty(), "no samples");
    out
}

fn validator(path: &std::path::Path) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn check(v: &jsonschema::Validator, name: &str, doc: &Value, failures: &mut Vec<String>) {
    for e in v.iter_errors(doc).take(5) {
        failures.push(format!("{name}: {} at {}", e, e.instance_path));
    }
}

/// The shipped schema is the one the model generates: a changed model field
/// shows up here as a diff to review. `APPVET_BLESS=1` rewrites the file.
#[test]
fn the_shipped_schema_is_generated_from_the_model() {
    let path = common::root().join("schemas/report.schema.json");
    let generated = appvet::report::schema::render();
    if std::env::var_os("APPVET_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the schema the model generates (run with APPVET_BLESS=1 to accept)",
        path.display()
    );
}

#[test]
fn sample_reports_validate_against_the_shipped_schema() {
    let v = validator(&common::root().join("schemas/report.schema.json"));
    let mut failures = Vec::new();
    for (name, r) in reports() {
        check(&v, &name, &serde_json::to_value(&r).unwrap(), &mut failures);
    }
    // The golden files are reports too (error records aside).
    for entry in std::fs::read_dir(common::root().join("tests/golden")).unwrap().flatten() {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
        if doc["schema"] == "appvet/report/v1" {
            check(&v, &entry.path().display().to_string(), &doc, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_schema_rejects_what_the_contract_forbids() {
    let v = validator(&common::root().join("schemas/report.schema.json"));
    let (_, r) = reports().remove(0);
    let mut doc = serde_json::to_value(&r).unwrap();
    assert!(v.is_valid(&doc));
    doc["verdict"]["decision"] = "maybe".into();
    assert!(!v.is_valid(&doc));
    doc["verdict"] = Value::Null;
    doc["hosts"] =
        serde_json::json!([{ "host": "a", "domain": null, "owner": null, "country": "cn", "evidence": [] }]);
    assert!(!v.is_valid(&doc), "lower-case country accepted");
}

#[test]
fn sarif_logs_validate_against_sarif_2_1_0() {
    let path = common::root().join("../shared/schemas/sarif-schema-2.1.0.json");
    if !path.exists() {
        return;
    }
    let v = validator(&path);
    let mut failures = Vec::new();
    let all = reports();
    for (name, r) in &all {
        check(&v, name, &sarif::to_value(r), &mut failures);
    }
    let refs: Vec<&Report> = all.iter().map(|(_, r)| r).collect();
    let log: Value = serde_json::from_str(&sarif::render_all(&refs)).unwrap();
    check(&v, "all samples", &log, &mut failures);
    assert!(log["runs"].as_array().unwrap().len() == all.len());
    let mut broken = log.clone();
    broken["runs"][0]["results"] = serde_json::json!([{ "level": "fatal", "message": { "text": "x" } }]);
    assert!(!v.is_valid(&broken), "the SARIF schema is not being applied");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
