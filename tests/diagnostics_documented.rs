//! Diagnostic codes are a contract: every code the sources can emit must be
//! listed in docs/DIAGNOSTICS.md (regenerate it with docs/gen_diagnostics.py).

mod common;

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") && p.file_name().is_some_and(|n| n != "tests.rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_diagnostic_code_is_documented() {
    let doc = std::fs::read_to_string(common::root().join("docs/DIAGNOSTICS.md")).unwrap();
    let code = regex::Regex::new(
        r#""((?:zip|axml|arsc|dex|elf|signing|manifest|code|archive|bundle|network|hosts|input|macho|plist|ios|codesign|provision|privacy|sigs|policy|risk)\.[a-z0-9_]+)""#,
    )
    .unwrap();
    let mut files = Vec::new();
    rust_files(&common::root().join("analyzer"), &mut files);
    let mut missing = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for c in code.captures_iter(&text) {
            let c = &c[1];
            if c != "manifest.json" && !doc.contains(&format!("`{c}`")) {
                missing.push(format!("{c} ({})", common::rel(&f)));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "undocumented codes (run python3 docs/gen_diagnostics.py > docs/DIAGNOSTICS.md):\n{}",
        missing.join("\n")
    );
}
