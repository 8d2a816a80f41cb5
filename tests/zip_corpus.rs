//! Runs the ZIP reader over the shared corpus: where Python's `zipfile`
//! opened a sample, the entry count must match its `infolist()`; every
//! entry of every ZIP-like sample is read without panicking. Skips silently
//! when `../shared/corpus` is absent.

use std::path::{Path, PathBuf};

use appvet::archive::zip::{Budget, Limits, ZipArchive};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else { return };
    for entry in read.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `(opens_with_zipfile, total_entries)` from the sample's reference file.
fn zipfile_reference(reference: &Path) -> Option<(bool, Option<u64>)> {
    let text = std::fs::read_to_string(reference).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
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
    for path in &files {
        let Ok(relative) = path.strip_prefix(&corpus) else { continue };
        if relative == Path::new("MANIFEST.tsv") {
            continue;
        }
        let Ok(data) = std::fs::read(path) else { continue };
        let reference = shared.join("reference").join(format!("{}.json", relative.display()));
        let expected = zipfile_reference(&reference);
        let Ok(archive) = ZipArchive::parse(&data, &limits) else {
            if let Some((true, _)) = expected {
                mismatches.push(format!("{}: zipfile opens it, we do not", relative.display()));
            }
            continue;
        };
        parsed += 1;
        diagnostics += archive.diagnostics.len();
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
        for entry in &archive.entries {
            entries_read += 1;
            if archive.read(entry, &mut budget).is_err() {
                read_errors += 1;
            }
        }
    }
    eprintln!(
        "zip corpus: {} files, {parsed} parsed as ZIP, {compared} compared with zipfile, \
         {entries_read} entries read ({read_errors} read errors), {diagnostics} diagnostics",
        files.len()
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
