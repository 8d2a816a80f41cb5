//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The generated demo apps under `samples/` (the crate's own sources excluded).
pub fn sample_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(&root().join("samples"), &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if name != "src" && name != "keys" && name != "target" {
                collect(&p, out);
            }
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("apk" | "apks" | "xapk" | "aab" | "dex" | "so" | "ipa" | "macho")
        ) {
            out.push(p);
        }
    }
}

/// Path relative to the repository root, with `/` separators, for reports
/// that must not depend on where the checkout lives.
pub fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// `../shared/corpus` beside the checkout, when present.
pub fn corpus_dir() -> Option<PathBuf> {
    let d = root().join("../shared/corpus");
    d.is_dir().then_some(d)
}

/// Deterministic xorshift64* generator: the mutation test must be replayable from its seed.
pub struct Rng(pub u64);

impl Rng {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Every readable entry of a ZIP held in memory, read with appvet's own
/// reader (the corpus tests compare parsers, not ZIP readers).
pub fn zip_entries(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    use appvet::archive::zip::{Budget, Limits, ZipArchive};
    let limits = Limits::default();
    let Ok(zip) = ZipArchive::parse(data, &limits) else { return Vec::new() };
    let mut budget = Budget::new(&limits);
    zip.entries
        .iter()
        .filter_map(|e| zip.read(e, &mut budget).ok().map(|d| (e.name.clone(), d.into_owned())))
        .collect()
}

/// One entry of a ZIP held in memory, by name.
pub fn zip_entry(data: &[u8], name: &str) -> Option<Vec<u8>> {
    use appvet::archive::zip::{Budget, Limits, ZipArchive};
    let limits = Limits::default();
    let zip = ZipArchive::parse(data, &limits).ok()?;
    let e = zip.by_name(name)?;
    zip.read(e, &mut Budget::new(&limits)).ok().map(|d| d.into_owned())
}
