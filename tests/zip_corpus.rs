//! Runs the ZIP reader over the shared corpus: where Python's `zipfile`
//! opened a sample, the entry count must match its `infolist()`; every
//! entry of every ZIP-like sample is read without panicking. Skips silently
//! when `../shared/corpus` is absent.

use std::path::{Path, PathBuf};

use appvet::archive::zip::{Budget, Limits, ZipArchive};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn load_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// `(opens_with_zipfile, total_entries)` from a reference object.
fn zipfile_reference(json: &serde_json::Value) -> Option<(bool, Option<u64>)> {
    let zip = json.get("zip")?;
    let opens = zip.get("opens_with_zipfile")?.as_bool()?;
    Some((opens, zip.get("total_entries").and_then(|v| v.as_u64())))
}

#[test]
fn entry_counts_match_python_zipfile_and_reads_never_panic() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let corpus = shared.join("corpus");
    if !corpus.is_dir() {
        return;
    }
    let mut files = Vec::new();
    files_under(&corpus, &mut files);
    files.sort();
    let limits = Limits::default();
    let (mut compared, mut parsed, mut entries_read, mut read_errors, mut diagnostics) = (0, 0, 0, 0, 0);
    let mut mismatches = Vec::new();
    let mut parse_time = std::time::Duration::ZERO;
    for path in &files {
        let Ok(relative) = path.strip_prefix(&corpus) else {
            continue;
        };
        if relative == Path::new("MANIFEST.tsv") {
            continue;
        }
        let Ok(data) = std::fs::read(path) else {
            continue;
        };
        let reference = shared.join("reference").join(format!("{}.json", relative.display()));
        let reference = load_json(&reference);
        let expected = reference.as_ref().and_then(zipfile_reference);
        let started = std::time::Instant::now();
        let parsed_archive = ZipArchive::parse(&data, &limits);
        parse_time += started.elapsed();
        let Ok(archive) = parsed_archive else {
            if let Some((true, _)) = expected {
                mismatches.push(format!("{}: zipfile opens it, we do not", relative.display()));
            }
            continue;
        };
        parsed += 1;
        diagnostics += archive.diagnostics.len();
        for d in &archive.diagnostics {
            eprintln!("  {}: {} {}", relative.display(), d.code, d.message);
        }
        if let Some((true, Some(total))) = expected {
            compared += 1;
            if archive.entries.len() as u64 != total {
                mismatches.push(format!(
                    "{}: {} entries, zipfile lists {total}",
                    relative.display(),
                    archive.entries.len()
                ));
            }
        }
        let mut budget = Budget::new(&limits);
        // APKs inside an XAPK: the reference lists zipfile's view of each.
        let inner = reference.as_ref().and_then(|r| r.get("inner_apks")).and_then(|v| v.as_array());
        for inner in inner.into_iter().flatten() {
            let (Some(name), Some((true, Some(total)))) =
                (inner.get("entry").and_then(|v| v.as_str()), zipfile_reference(inner))
            else {
                continue;
            };
            let Some(entry) = archive.by_name(name) else {
                mismatches.push(format!("{}: no inner entry {name}", relative.display()));
                continue;
            };
            let nested = archive.read(entry, &mut budget).ok();
            let count =
                nested.as_deref().and_then(|d| ZipArchive::parse(d, &limits).ok()).map(|a| a.entries.len());
            compared += 1;
            if count != Some(total as usize) {
                mismatches
                    .push(format!("{}!{name}: {count:?} entries, zipfile lists {total}", relative.display()));
            }
        }
        let mut read_diagnostics = Vec::new();
        for entry in &archive.entries {
            entries_read += 1;
            if let Err(e) = archive.read_with_diagnostics(entry, &mut budget, &mut read_diagnostics) {
                eprintln!("  {}: {e}", relative.display());
                read_errors += 1;
            }
        }
        for d in &read_diagnostics {
            eprintln!("  {}: {} {} at {:?}", relative.display(), d.code, d.message, d.location);
        }
        diagnostics += read_diagnostics.len();
    }
    eprintln!(
        "zip corpus: {} files, {parsed} parsed as ZIP, {compared} compared with zipfile, \
         {entries_read} entries read ({read_errors} read errors), {diagnostics} diagnostics, \
         directory parsing took {parse_time:?} in all",
        files.len()
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// Python's zipfile cannot open this one (its last central record runs into
/// the end record); the listing must still hold all three entries.
#[test]
fn truncated_central_directory_sample_lists_every_entry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../shared/corpus/apk/androguard__androguard__tests__data__APK__apksig__v2-only-truncated-cd.apk",
    );
    let Ok(data) = std::fs::read(path) else {
        return;
    };
    let archive = ZipArchive::parse(&data, &Limits::default()).expect("zip-like");
    let names: Vec<&str> = archive.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["resources.arsc", "AndroidManifest.xml", "classes.dex"]);
    assert!(archive.diagnostics.iter().any(|d| d.code == "zip.central_directory_damaged"));
    let mut budget = Budget::new(&Limits::default());
    for entry in &archive.entries {
        assert!(archive.read(entry, &mut budget).is_ok(), "{}", entry.name);
    }
}
