//! Expands command-line paths into the files to analyse.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Extensions of inputs appvet analyses when they are found in a directory.
const APP_EXTENSIONS: &[&str] = &["apk", "xapk", "apks", "apkm", "aab", "ipa", "dex", "so", "jar"];

/// Files named on the command line are always analysed; inside directories,
/// files are picked by extension or by content (magic bytes), recursively,
/// in sorted order so output is deterministic.
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut files, &mut errors, 0),
            Ok(_) => files.push(p.clone()),
            Err(e) => errors.push((p.clone(), format!("cannot read: {e}"))),
        }
    }
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, String)>, depth: u32) {
    if depth > 32 {
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            errors.push((dir.to_path_buf(), format!("cannot read directory: {e}")));
            return;
        }
    };
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, files, errors, depth + 1),
            Ok(m) if m.is_file() && looks_like_app(&p) => files.push(p),
            _ => {}
        }
    }
}

fn looks_like_app(p: &Path) -> bool {
    let ext = p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if APP_EXTENSIONS.contains(&ext.as_str()) {
        return true;
    }
    let mut magic = [0u8; 4];
    match std::fs::File::open(p).and_then(|mut f| f.read_exact(&mut magic)) {
        Ok(()) => {
            matches!(&magic, b"dex\n" | b"\x7fELF" | b"PK\x03\x04")
                || matches!(
                    magic,
                    [0xfe, 0xed, 0xfa, 0xce | 0xcf]
                        | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
                        | [0xca, 0xfe, 0xba, 0xbe]
                )
        }
        Err(_) => false,
    }
}
