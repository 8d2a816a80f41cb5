//! The stages of `analyzer/` depend on each other in one direction only
//! (see `analyzer/lib.rs` and DESIGN.md). This test reads every library
//! source file and fails when a module imports one it must not: a parser
//! that reaches for the report, a platform stage that reaches for the
//! scanner, iOS borrowing from Android. Code after a file's `#[cfg(test)]`
//! and `tests.rs` files are exempt: tests may build fixtures from anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Helpers without a stage of their own (a declaration macro), usable from any layer.
const UTILITIES: &[&str] = &["string_enum"];

/// The report model (the types every stage fills) as opposed to its renderers.
const REPORT_MODEL: &str = "report-model";

/// What each module of the library may import (besides itself).
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    const PARSING: &[&str] = &["reader", "diagnostic"];
    const PLATFORM: &[&str] =
        &["reader", "diagnostic", "database", "archive", "formats", REPORT_MODEL, "evidence", "context"];
    const STAGES_AND_SCAN: &[&str] = &[
        "reader",
        "diagnostic",
        "database",
        "archive",
        "formats",
        REPORT_MODEL,
        "evidence",
        "context",
        "android",
        "ios",
        "attribution",
        "risk",
        "policy",
        "report",
        "scan",
    ];
    // Every stage; `scan` drives them all, and only `store` sits above it.
    const ALL_STAGES: &[&str] = STAGES_AND_SCAN.split_at(STAGES_AND_SCAN.len() - 1).0;
    BTreeMap::from([
        ("reader", &[][..]),
        ("string_enum", &[][..]),
        ("diagnostic", &[][..]),
        ("database", &[][..]),
        ("archive", PARSING),
        ("formats", PARSING),
        (REPORT_MODEL, &["diagnostic", "formats"][..]),
        ("evidence", &["reader", "diagnostic", "database", "formats", REPORT_MODEL][..]),
        (
            "context",
            &["reader", "diagnostic", "database", "archive", "formats", REPORT_MODEL, "evidence"][..],
        ),
        ("android", PLATFORM),
        ("ios", PLATFORM),
        ("attribution", &["reader", "diagnostic", "database", REPORT_MODEL, "evidence"][..]),
        ("risk", &["reader", "diagnostic", "database", REPORT_MODEL, "evidence", "attribution"][..]),
        (
            "policy",
            &["reader", "diagnostic", "database", REPORT_MODEL, "evidence", "attribution", "risk"][..],
        ),
        (
            "report",
            &[
                "reader",
                "diagnostic",
                "database",
                "formats",
                REPORT_MODEL,
                "evidence",
                "attribution",
                "risk",
                "policy",
            ][..],
        ),
        ("scan", ALL_STAGES),
        ("store", STAGES_AND_SCAN),
    ])
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file belongs to: `analyzer/formats/dex/mod.rs` -> `formats`.
fn module_of(rel: &Path) -> String {
    let mut parts = rel.iter().map(|p| p.to_string_lossy().into_owned());
    let first = parts.next().unwrap();
    let first = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    if first == "report" {
        let file = rel.file_name().unwrap().to_string_lossy();
        if file == "model.rs" || file == "mod.rs" {
            return REPORT_MODEL.to_string();
        }
    }
    first
}

/// The module a `crate::` path names: `crate::report::html` is a renderer,
/// `crate::report::Diagnostic` the model.
fn target_of(path: &str) -> String {
    let mut segs = path.split("::").skip(1);
    let first = segs.next().unwrap_or_default().to_string();
    if first == "report" {
        return match segs.next() {
            Some("html" | "text" | "sarif" | "json" | "diff") => "report".into(),
            _ => REPORT_MODEL.into(),
        };
    }
    first
}

/// `crate::a::b` paths in the non-test part of `text`, with line numbers.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let tail = &rest[i..];
            let end =
                tail.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(tail.len());
            found.push((n + 1, tail[..end].trim_end_matches(':').to_string()));
            rest = &tail[end..];
        }
    }
    found
}

#[test]
fn stages_import_only_earlier_stages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("analyzer");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let allowed = allowed();
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let module = module_of(rel);
        // The binary (main.rs, cli/) sits on top and uses the library as a user would.
        if module == "main" || module == "cli" || module == "lib" {
            continue;
        }
        if rel.file_name().is_some_and(|f| f == "tests.rs" || f.to_string_lossy().starts_with("test_")) {
            continue;
        }
        let Some(ok) = allowed.get(module.as_str()) else {
            violations
                .push(format!("{}: module `{module}` has no place in the layering table", rel.display()));
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(file).unwrap();
        for (line, path) in crate_paths(&text) {
            let target = target_of(&path);
            if target == module || ok.contains(&target.as_str()) || UTILITIES.contains(&target.as_str()) {
                continue;
            }
            violations.push(format!("{}:{line}: `{module}` imports `{path}`", rel.display()));
        }
    }
    assert!(checked > 50, "only {checked} files checked: is analyzer/ where it was?");
    assert!(violations.is_empty(), "imports against the stage order:\n{}", violations.join("\n"));
}

#[test]
fn the_checker_sees_a_backward_import() {
    let text = "use crate::report::Diagnostic;\nfn f() { crate::report::html::render(); }\n#[cfg(test)]\nuse crate::scan;";
    let paths: Vec<String> = crate_paths(text).into_iter().map(|(_, p)| p).collect();
    assert_eq!(paths, ["crate::report::Diagnostic", "crate::report::html::render"]);
    assert_eq!(target_of(&paths[0]), REPORT_MODEL);
    assert_eq!(target_of(&paths[1]), "report");
    assert_eq!(module_of(Path::new("formats/dex/mod.rs")), "formats");
    assert_eq!(module_of(Path::new("report/model.rs")), REPORT_MODEL);
    assert!(!allowed()["formats"].contains(&REPORT_MODEL));
    assert!(!allowed()["ios"].contains(&"android"));
}

/// A file past 800 lines has grown past one job (tests excepted): split it
/// along its seams rather than raise the limit.
#[test]
fn no_library_file_over_800_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("analyzer");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "tests.rs"))
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > 800).then(|| format!("{}: {lines} lines", f.strip_prefix(&root).unwrap().display()))
        })
        .collect();
    assert!(long.is_empty(), "split these along their seams:\n{}", long.join("\n"));
}
