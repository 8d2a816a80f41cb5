//! Every packer, protector and obfuscator APKiD names on the shared corpus
//! (`reference/apkid/`) is named in appvet's `protections[]`. Names differ
//! between the tools (APKiD writes `newer-style Bangcle/SecNeo (UPX)`), so
//! a name matches when one contains the other's first word. Skips silently
//! without the corpus.

use std::path::{Path, PathBuf};

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::report::ProtectionKind;
use appvet::scan::Scanner;
use serde_json::Value;

fn first_word(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.len() > 2)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

#[test]
fn appvet_names_every_packer_protector_and_obfuscator_apkid_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let Ok(rd) = std::fs::read_dir(root.join("reference/apkid/apk")) else { return };
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let mut references: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    references.sort();
    let (mut expected, mut missed) = (0, Vec::new());
    for reference in references {
        let Ok(json) = serde_json::from_slice::<Value>(&std::fs::read(&reference).unwrap()) else { continue };
        let mut names: Vec<(String, String)> = Vec::new();
        for entry in json["matches"].as_object().into_iter().flat_map(|m| m.values()) {
            for kind in ["packer", "protector", "obfuscator"] {
                for n in entry[kind].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    names.push((kind.to_string(), n.to_string()));
                }
            }
        }
        if names.is_empty() {
            continue;
        }
        let file = reference.file_name().unwrap().to_string_lossy().trim_end_matches(".json").to_string();
        let Ok(data) = std::fs::read(root.join("corpus/apk").join(&file)) else { continue };
        let report = scanner.scan_bytes(&data, &file).unwrap().report;
        for (kind, name) in names {
            expected += 1;
            let word = first_word(&name);
            let hit = report.protections.iter().any(|p| {
                let ours = p.name.to_ascii_lowercase();
                let kind_fits = p.kind.as_str() == kind
                    || kind == "obfuscator" && p.kind == ProtectionKind::Protector
                    || kind == "protector" && p.kind == ProtectionKind::Obfuscator;
                kind_fits
                    && (ours.contains(&word) || name.to_ascii_lowercase().contains(&first_word(&p.name)))
            });
            if !hit {
                missed.push(format!("{file}: {kind} {name} (appvet: {:?})", report.protections));
            }
        }
    }
    eprintln!("APKiD names {expected} packers / protectors / obfuscators; appvet misses {}", missed.len());
    assert!(missed.is_empty(), "{missed:#?}");
}
