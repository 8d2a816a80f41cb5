//! Golden reports for the bundled samples: scan each one and compare the
//! JSON with `tests/golden/<name>.json`. `APPVET_BLESS=1 cargo test --test
//! golden` rewrites them; review the diff like code.

mod common;

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::report::json;
use appvet::scan::Scanner;

#[test]
fn sample_reports_match_golden_files() {
    let samples = common::sample_files();
    assert!(!samples.is_empty(), "no samples: run `cargo run -p appvet-samples`");
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let bless = std::env::var_os("APPVET_BLESS").is_some();
    let mut failures = Vec::new();
    for path in samples {
        let rel = common::rel(&path);
        let data = std::fs::read(&path).unwrap();
        let got = match scanner.scan_bytes(&data, &rel) {
            Ok(o) => json::render_pretty(&o.report),
            Err(e) => json::render_error_line(&rel, &e.to_string()),
        };
        let golden = common::root().join("tests/golden").join(rel.replace('/', "__") + ".json");
        if bless {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(want) if want == got => {}
            Ok(_) => failures.push(format!("{rel}: report differs from {}", golden.display())),
            Err(_) => failures.push(format!("{rel}: no golden file {}", golden.display())),
        }
    }
    assert!(failures.is_empty(), "{}\n(run with APPVET_BLESS=1 to accept)", failures.join("\n"));
}
