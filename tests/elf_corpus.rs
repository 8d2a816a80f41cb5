//! ELF parser against the shared corpus: DT_NEEDED and SONAME must equal
//! what LIEF reported (reference JSON); every `lib/**/*.so` inside the corpus
//! APKs must parse without a panic. Skips silently without the corpus.

use std::io::Read;
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

/// Minimal reader for the test only: the `.so` entries of a zip in memory.
fn zip_libraries(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |p: usize| data.get(p..p + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |p: usize| data.get(p..p + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let search_from = data.len().saturating_sub(65_557);
    let Some(eocd) = (search_from..data.len().saturating_sub(21))
        .rev()
        .find(|&p| data.get(p..p + 4) == Some(b"PK\x05\x06".as_slice()))
    else {
        return Vec::new();
    };
    let (Some(count), Some(mut pos)) = (u16_at(eocd + 10), u32_at(eocd + 16)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for _ in 0..count {
        if data.get(pos..pos + 4) != Some(b"PK\x01\x02".as_slice()) {
            break;
        }
        let fields = (
            u16_at(pos + 10),
            u32_at(pos + 20),
            u16_at(pos + 28),
            u16_at(pos + 30),
            u16_at(pos + 32),
            u32_at(pos + 42),
        );
        let (Some(method), Some(csize), Some(n), Some(e), Some(c), Some(local)) = fields else {
            break;
        };
        let name = String::from_utf8_lossy(data.get(pos + 46..pos + 46 + n).unwrap_or_default()).into_owned();
        pos += 46 + n + e + c;
        if !name.ends_with(".so") {
            continue;
        }
        let (Some(ln), Some(le)) = (u16_at(local + 26), u16_at(local + 28)) else {
            continue;
        };
        let start = local + 30 + ln + le;
        let Some(raw) = data.get(start..start + csize) else {
            continue;
        };
        let bytes = match method {
            0 => raw.to_vec(),
            8 => {
                let mut inflated = Vec::new();
                let decoder = flate2::read::DeflateDecoder::new(raw);
                if decoder.take(256 << 20).read_to_end(&mut inflated).is_err() {
                    continue;
                }
                inflated
            }
            _ => continue,
        };
        out.push((name, bytes));
    }
    out
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
