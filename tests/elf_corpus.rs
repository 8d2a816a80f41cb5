//! ELF parser against the shared corpus: DT_NEEDED and SONAME must equal
//! what LIEF reported (reference JSON); every `lib/**/*.so` inside the corpus
//! APKs must parse without a panic. Skips silently without the corpus.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use appvet::formats::elf::{self, ElfError};
use serde_json::Value;

fn shared() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    root.join("corpus").is_dir().then_some(root)
}

fn reference(root: &Path, corpus_path: &str) -> Option<Value> {
    let path = root.join("reference").join(format!("{corpus_path}.json"));
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The `.so` entries of an APK.
fn zip_libraries(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    common::zip_entries(data).into_iter().filter(|(name, _)| name.ends_with(".so")).collect()
}

#[test]
fn needed_libraries_match_lief() {
    let Some(root) = shared() else { return };
    let mut files: Vec<_> =
        std::fs::read_dir(root.join("corpus/elf")).into_iter().flatten().flatten().collect();
    files.sort_by_key(|e| e.file_name());
    let mut compared = 0;
    for entry in files {
        let name = format!("elf/{}", entry.file_name().to_string_lossy());
        let bytes = std::fs::read(entry.path()).unwrap();
        let started = Instant::now();
        let info = elf::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let elapsed = started.elapsed();
        let Some(lief) = reference(&root, &name).map(|r| r["lief"].clone()) else {
            continue;
        };
        if lief["parsed"].as_bool() != Some(true) {
            continue;
        }
        let expected: Vec<String> = lief["needed_libraries"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        assert_eq!(info.needed, expected, "{name}: needed");
        assert_eq!(info.soname.as_deref(), lief["soname"].as_str(), "{name}: soname");
        let imported = lief["dynamic_symbol_imported_count"].as_u64();
        let exported = lief["dynamic_symbol_exported_count"].as_u64();
        assert_eq!(Some(info.imported_symbols.len() as u64), imported, "{name}: imports");
        assert_eq!(Some(info.exported_symbols.len() as u64), exported, "{name}: exports");
        let codes: Vec<_> = info.diagnostics.iter().map(|d| d.code.as_str()).collect();
        eprintln!(
            "{name}: {} {}-bit, imports {} (LIEF {}), exports {} (LIEF {}), {} strings, {:?}, {codes:?}, {:.1} ms",
            info.arch,
            info.bits,
            info.imported_symbols.len(),
            lief["dynamic_symbol_imported_count"],
            info.exported_symbols.len(),
            lief["dynamic_symbol_exported_count"],
            info.strings.len(),
            info.abi_dir(),
            elapsed.as_secs_f64() * 1e3
        );
        compared += 1;
    }
    eprintln!("ELF corpus: {compared} files compared with LIEF");
}

#[test]
fn libraries_inside_corpus_apks_never_panic() {
    let Some(root) = shared() else { return };
    let mut files: Vec<_> =
        std::fs::read_dir(root.join("corpus/apk")).into_iter().flatten().flatten().collect();
    files.sort_by_key(|e| e.file_name());
    let (mut parsed, mut failed) = (0, 0);
    for entry in files {
        let bytes = std::fs::read(entry.path()).unwrap();
        for (name, lib) in zip_libraries(&bytes) {
            match elf::parse(&lib) {
                Ok(_) => parsed += 1,
                Err(ElfError::Panicked(message)) => {
                    panic!("{:?}!{name}: goblin panicked: {message}", entry.file_name())
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("{:?}!{name}: {e}", entry.file_name());
                }
            }
        }
    }
    eprintln!("APK libraries: {parsed} parsed, {failed} rejected");
}
