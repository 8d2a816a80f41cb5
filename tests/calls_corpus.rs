//! Call sites against androguard 4.1.4's cross-references on the shared
//! corpus (`reference/calls/apk/*.json`): for every API the reference lists
//! (`sensitive-apis.json`), every (API, caller class) pair androguard finds
//! must be among appvet's call sites, and appvet must find no pair in a
//! primary `classes*.dex` that androguard does not. Native libraries loaded
//! by a constant name must be ones the app ships. Skips silently without
//! the corpus.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::evidence::calls::CallSite;
use appvet::scan::Scanner;
use serde_json::Value;

fn shared() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    root.join("corpus").is_dir().then_some(root)
}

/// The files of a directory, sorted (none when it cannot be read).
fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    files
}

/// `classes.dex`, `classes2.dex` ... at the root of the APK (what androguard loads).
fn is_primary_dex(source: &str) -> bool {
    source
        .strip_prefix("classes")
        .and_then(|r| r.strip_suffix(".dex"))
        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
}

#[test]
fn call_sites_match_androguard_cross_references() {
    let Some(root) = shared() else { return };
    let refs = root.join("reference/calls");
    let Ok(text) = std::fs::read(refs.join("sensitive-apis.json")) else { return };
    let apis: BTreeSet<String> = serde_json::from_slice(&text).expect("sensitive-apis.json");
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let tables = scanner.risk_tables();
    let untabled: Vec<&String> = apis.iter().filter(|a| !tables.apis.contains_key(a.as_str())).collect();
    assert!(untabled.is_empty(), "APIs of the reference missing from the capability tables: {untabled:?}");

    let files = sorted_files(&refs.join("apk"));
    let (mut compared, mut pairs) = (0, 0);
    let mut problems = Vec::new();
    for reference in files {
        let Ok(json) = serde_json::from_slice::<Value>(&std::fs::read(&reference).unwrap_or_default()) else {
            continue;
        };
        let Some(want_map) = json["apis"].as_object() else { continue };
        let name = reference.file_name().unwrap().to_string_lossy();
        let Some(apk) = name.strip_suffix(".json") else { continue };
        let path = root.join("corpus/apk").join(apk);
        if !path.is_file() {
            continue;
        }
        let want: BTreeSet<(String, String)> = want_map
            .iter()
            .flat_map(|(api, callers)| {
                callers
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(move |c| Some((api.clone(), c.as_str()?.to_string())))
            })
            .collect();
        let out = match scanner.scan_path(&path) {
            Ok(o) => o,
            Err(e) => {
                if !want.is_empty() {
                    problems.push(format!("{apk}: no report ({e})"));
                }
                continue;
            }
        };
        // (api, caller class) -> whether it was seen in a primary DEX.
        let mut got: BTreeMap<(String, String), bool> = BTreeMap::new();
        for unit in &out.evidence.units {
            for site in unit.calls.iter().filter_map(CallSite::parse).filter(|s| apis.contains(s.api)) {
                let primary = got.entry((site.api.to_string(), site.caller_class().to_string())).or_default();
                *primary |= is_primary_dex(&unit.source);
            }
        }
        compared += 1;
        pairs += want.len();
        for pair in want.iter().filter(|p| !got.contains_key(*p)) {
            problems.push(format!("{apk}: missing {} called by {}", pair.0, pair.1));
        }
        for (pair, _) in got.iter().filter(|(p, primary)| **primary && !want.contains(*p)) {
            problems.push(format!("{apk}: extra {} called by {}", pair.0, pair.1));
        }
    }
    eprintln!("calls: {compared} APKs, {pairs} reference pairs, {} differences", problems.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Libraries of the platform an app may load without shipping them
/// (the NDK's stable system libraries).
const PLATFORM_LIBRARIES: &[&str] = &[
    "libandroid.so",
    "libc.so",
    "libdl.so",
    "libEGL.so",
    "libGLESv1_CM.so",
    "libGLESv2.so",
    "libGLESv3.so",
    "libjnigraphics.so",
    "liblog.so",
    "libm.so",
    "libmediandk.so",
    "libOpenMAXAL.so",
    "libOpenSLES.so",
    "libstdc++.so",
    "libvulkan.so",
    "libz.so",
];

/// Every native library a DEX of a corpus APK loads by a constant name (or
/// through a helper method) is one the APK ships, the platform has or the
/// database gives to an SDK: the register pairing of the walker finds the
/// argument, not a stray string.
#[test]
fn native_library_loads_name_libraries_the_app_ships() {
    let Some(root) = shared() else { return };
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let apks = sorted_files(&root.join("corpus/apk"));
    let (mut loads, mut shipped) = (0, 0);
    let mut strays = Vec::new();
    for path in apks {
        let Ok(out) = scanner.scan_path(&path) else { continue };
        let files: BTreeSet<String> = out
            .report
            .code
            .native
            .iter()
            .map(|n| n.entry.rsplit('/').next().unwrap_or(&n.entry).to_string())
            .collect();
        for unit in &out.evidence.units {
            for lib in unit.calls.iter().filter_map(CallSite::parse).filter_map(|s| s.library()) {
                loads += 1;
                // An SDK may load a name it does not ship (Bugly falls back
                // to its older library's name): the database knows those.
                let known = scanner.db.sdks.match_native_lib(lib).is_some();
                if files.contains(lib) || PLATFORM_LIBRARIES.contains(&lib) || known {
                    shipped += 1;
                } else {
                    strays.push(format!("{}: {} loads {lib}", path.display(), unit.source));
                }
            }
        }
    }
    eprintln!(
        "native library loads: {loads}, {shipped} of libraries the app ships, the platform has or an SDK has"
    );
    for s in &strays {
        eprintln!("  not shipped: {s}");
    }
    // Test APKs may omit a library their code loads (a lone stray is such),
    // but the pairing must name shipped libraries nearly always, and the
    // corpus's apps with JNI code must show some loads.
    assert!(loads > 0, "no native library load found on the corpus");
    assert!(shipped * 10 >= loads * 8, "{} of {loads} loads name no shipped library", strays.len());
}
