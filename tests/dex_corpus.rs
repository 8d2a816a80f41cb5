//! DEX parser against the shared corpus: header counts must equal what
//! dexdump printed (reference JSON), for raw DEX files and for every
//! `*.dex` entry of the corpus APKs, AABs and XAPK inner APKs; fuzzed files
//! must parse without crashing. Skips silently without the corpus.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use appvet::formats::dex::{self, DexFile};
use serde_json::Value;

fn shared() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    root.join("corpus").is_dir().then_some(root)
}

fn reference(root: &Path, corpus_path: &str) -> Option<Value> {
    let path = root.join("reference").join(format!("{corpus_path}.json"));
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Walks every table the way later stages will, so a crash anywhere shows.
fn exercise(dex: &DexFile<'_>) -> (usize, usize, usize, usize) {
    let strings = dex.strings().count();
    let methods = dex.method_refs().inspect(|m| drop(m.to_string())).count();
    let fields = dex.field_refs().count();
    let mut classes = 0;
    for class in dex.class_defs() {
        let _ = dex.type_descriptor(class.class_idx);
        let _ = dex.superclass(&class);
        let _ = dex.interfaces(&class).count();
        classes += 1;
    }
    for proto in 0..dex.proto_count() {
        let _ = dex.proto_descriptor(proto);
    }
    (strings, methods, fields, classes)
}

/// Compares one parsed file with a dexdump record (`header`, `dex_version`).
fn check_against_dexdump(label: &str, dex: &DexFile<'_>, record: &Value) -> bool {
    let header = &record["header"];
    if !header.is_object() {
        return false;
    }
    let ours = [
        ("string_ids_size", dex.header.string_ids_size),
        ("type_ids_size", dex.header.type_ids_size),
        ("proto_ids_size", dex.header.proto_ids_size),
        ("field_ids_size", dex.header.field_ids_size),
        ("method_ids_size", dex.header.method_ids_size),
        ("class_defs_size", dex.header.class_defs_size),
        ("file_size", dex.header.file_size),
    ];
    for (field, value) in ours {
        assert_eq!(header[field].as_u64(), Some(u64::from(value)), "{label}: {field}");
    }
    if let Some(version) = record["dex_version"].as_str() {
        assert_eq!(dex.version, version, "{label}: version");
    }
    if let Some(count) = record["class_descriptor_count"].as_u64() {
        assert_eq!(dex.class_names().count() as u64, count, "{label}: class descriptors");
    }
    // dexdump -f verified the checksum, so we must not call it bad.
    let bad_checksum = dex.diagnostics.iter().any(|d| d.code == "dex.bad_checksum");
    assert!(!bad_checksum || record["exit"].as_i64() != Some(0), "{label}: checksum");
    true
}

fn zip_entries(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    common::zip_entries(data)
}

#[derive(Default)]
struct Totals {
    files: usize,
    compared: usize,
    bytes: usize,
    strings: usize,
    methods: usize,
    classes: usize,
    seconds: f64,
    /// Size, label, seconds to parse, seconds to parse and walk everything.
    largest: (usize, String, f64, f64),
}

impl Totals {
    fn add(&mut self, label: &str, bytes: &[u8], record: Option<&Value>) {
        let started = Instant::now();
        let parsed = dex::parse(bytes);
        let parse_seconds = started.elapsed().as_secs_f64();
        let counts = parsed.as_ref().map(exercise).ok();
        let total_seconds = started.elapsed().as_secs_f64();
        self.seconds += total_seconds;
        self.files += 1;
        self.bytes += bytes.len();
        if bytes.len() > self.largest.0 {
            self.largest = (bytes.len(), label.to_string(), parse_seconds, total_seconds);
        }
        if let Some((strings, methods, _, classes)) = counts {
            self.strings += strings;
            self.methods += methods;
            self.classes += classes;
        }
        match (&parsed, record) {
            (Ok(dex), Some(record)) => {
                if check_against_dexdump(label, dex, record) {
                    self.compared += 1;
                }
                let codes: Vec<_> = dex.diagnostics.iter().map(|d| d.code.as_str()).collect();
                if !codes.is_empty() {
                    eprintln!("{label}: {codes:?}");
                }
            }
            (Err(e), Some(record)) => {
                assert!(record["header"].is_null(), "{label}: dexdump read it but we failed: {e}");
                eprintln!("{label}: {e}");
            }
            (Ok(dex), None) => {
                let codes: Vec<_> = dex.diagnostics.iter().map(|d| d.code.as_str()).collect();
                eprintln!("{label}: no reference; {codes:?}");
            }
            (Err(e), None) => eprintln!("{label}: {e}"),
        }
    }
}

fn dex_records(apk_reference: &Value) -> Vec<Value> {
    apk_reference["dex"].as_array().cloned().unwrap_or_default()
}

fn check_apk(totals: &mut Totals, label: &str, bytes: &[u8], apk_reference: Option<&Value>) {
    let records = apk_reference.map(dex_records).unwrap_or_default();
    for (name, entry) in zip_entries(bytes) {
        if !name.to_ascii_lowercase().ends_with(".dex") {
            continue;
        }
        let record = records.iter().find(|r| r["entry"].as_str() == Some(name.as_str()));
        totals.add(&format!("{label}!{name}"), &entry, record);
    }
}

#[test]
fn dex_counts_match_dexdump_across_the_corpus() {
    let Some(root) = shared() else { return };
    let corpus = root.join("corpus");
    let mut totals = Totals::default();

    let mut raw: Vec<_> = std::fs::read_dir(corpus.join("dex")).into_iter().flatten().flatten().collect();
    raw.sort_by_key(|e| e.file_name());
    for entry in raw {
        let name = format!("dex/{}", entry.file_name().to_string_lossy());
        let bytes = std::fs::read(entry.path()).unwrap();
        let reference = reference(&root, &name);
        let record = reference.as_ref().map(|r| r["dexdump"].clone());
        totals.add(&name, &bytes, record.as_ref());
    }

    for folder in ["apk", "bundle"] {
        let mut files: Vec<_> =
            std::fs::read_dir(corpus.join(folder)).into_iter().flatten().flatten().collect();
        files.sort_by_key(|e| e.file_name());
        for entry in files {
            let name = format!("{folder}/{}", entry.file_name().to_string_lossy());
            let bytes = std::fs::read(entry.path()).unwrap();
            let reference = reference(&root, &name);
            check_apk(&mut totals, &name, &bytes, reference.as_ref());
            // XAPK: the APKs inside carry their own dexdump records.
            let inner = reference.as_ref().and_then(|r| r["inner_apks"].as_array().cloned());
            for inner_ref in inner.unwrap_or_default() {
                let Some(inner_name) = inner_ref["entry"].as_str() else {
                    continue;
                };
                for (entry_name, inner_bytes) in zip_entries(&bytes) {
                    if entry_name == inner_name {
                        check_apk(
                            &mut totals,
                            &format!("{name}!{inner_name}"),
                            &inner_bytes,
                            Some(&inner_ref),
                        );
                    }
                }
            }
        }
    }

    eprintln!(
        "DEX corpus: {} files ({} compared with dexdump), {:.1} MB, {} strings, {} method refs, {} classes; \
         parse + full walk {:.3}s; largest {} ({} bytes): parse {:.1} ms, parse + walk {:.1} ms",
        totals.files,
        totals.compared,
        totals.bytes as f64 / 1e6,
        totals.strings,
        totals.methods,
        totals.classes,
        totals.seconds,
        totals.largest.1,
        totals.largest.0,
        totals.largest.2 * 1e3,
        totals.largest.3 * 1e3
    );
    assert!(totals.compared > 0 || totals.files == 0);
}
