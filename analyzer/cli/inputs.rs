//! Expands command-line inputs into the files to analyse: files, directories
//! (recursive), glob patterns, list files (`@list.txt`) and `-` (a list of
//! paths on stdin, one per line).

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// Extensions that make a file in a directory an input even when its content
/// is not recognised, so a corrupt app becomes an error row instead of
/// silently vanishing from the run.
const APP_EXTENSIONS: &[&str] = &["apk", "xapk", "apks", "apkm", "aab", "ipa", "dex", "so", "jar"];

/// Directory nesting beyond which a walk stops (symlink loops are not
/// followed anyway; this bounds pathological trees).
const MAX_DEPTH: u32 = 32;

/// One file to analyse.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// What `--shard` hashes: the path relative to the directory argument it
    /// was found under (so shards on machines with different mount points
    /// agree), or the path as given for files named directly.
    pub shard_key: String,
}

/// Files to analyse, in a deterministic order, and the arguments that could
/// not be read (each becomes an error record).
pub fn expand(args: &[PathBuf]) -> (Vec<InputFile>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        let text = arg.to_string_lossy();
        if text == "-" {
            let stdin = std::io::stdin();
            read_list(stdin.lock(), &mut files, &mut errors);
        } else if let Some(list) = text.strip_prefix('@') {
            match std::fs::File::open(list) {
                Ok(f) => read_list(std::io::BufReader::new(f), &mut files, &mut errors),
                Err(e) => errors.push((PathBuf::from(list), format!("cannot read list file: {e}"))),
            }
        } else {
            add_path(arg, &mut files, &mut errors);
        }
    }
    (files, errors)
}

/// A list names one path per line; blank lines and `#` comments are skipped.
/// Entries are expanded like command-line arguments (directories, globs).
fn read_list(reader: impl BufRead, files: &mut Vec<InputFile>, errors: &mut Vec<(PathBuf, String)>) {
    for line in reader.lines() {
        let Ok(line) = line else { break };
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        add_path(Path::new(line), files, errors);
    }
}

fn add_path(p: &Path, files: &mut Vec<InputFile>, errors: &mut Vec<(PathBuf, String)>) {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => walk(p, p, files, errors, 0),
        Ok(_) => files.push(InputFile { path: p.to_path_buf(), shard_key: p.to_string_lossy().into_owned() }),
        Err(e) => {
            let text = p.to_string_lossy();
            if text.contains(['*', '?', '[']) {
                expand_glob(&text, files, errors);
            } else {
                errors.push((p.to_path_buf(), format!("cannot read: {e}")));
            }
        }
    }
}

fn expand_glob(pattern: &str, files: &mut Vec<InputFile>, errors: &mut Vec<(PathBuf, String)>) {
    let paths = match glob::glob(pattern) {
        Ok(paths) => paths,
        Err(e) => {
            errors.push((PathBuf::from(pattern), format!("bad glob pattern: {e}")));
            return;
        }
    };
    let mut matched = false;
    for entry in paths {
        match entry {
            Ok(p) => {
                matched = true;
                match std::fs::metadata(&p) {
                    Ok(m) if m.is_dir() => walk(&p, &p, files, errors, 0),
                    Ok(_) => files.push(InputFile { shard_key: p.to_string_lossy().into_owned(), path: p }),
                    Err(e) => errors.push((p, format!("cannot read: {e}"))),
                }
            }
            Err(e) => errors.push((e.path().to_path_buf(), format!("cannot read: {}", e.error()))),
        }
    }
    if !matched {
        errors.push((PathBuf::from(pattern), "no file matches this pattern".into()));
    }
}

fn walk(
    root: &Path,
    dir: &Path,
    files: &mut Vec<InputFile>,
    errors: &mut Vec<(PathBuf, String)>,
    depth: u32,
) {
    if depth > MAX_DEPTH {
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
        // Symlinks to files are followed (mirrors deduplicate with them);
        // symlinks to directories are not, so a loop cannot recurse.
        let is_link_dir =
            std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) && p.is_dir();
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() && !is_link_dir => walk(root, &p, files, errors, depth + 1),
            Ok(m) if m.is_file() && looks_like_app(&p) => {
                let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().into_owned();
                files.push(InputFile { path: p, shard_key: rel });
            }
            _ => {}
        }
    }
}

/// Content decides (ZIP, DEX, ELF, Mach-O magic); a known app extension
/// keeps a file whose content is damaged.
fn looks_like_app(p: &Path) -> bool {
    let mut magic = [0u8; 4];
    let sniffed = std::fs::File::open(p).and_then(|mut f| f.read_exact(&mut magic)).is_ok()
        && (matches!(&magic, b"dex\n" | b"\x7fELF" | b"PK\x03\x04")
            || matches!(
                magic,
                [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] | [0xca, 0xfe, 0xba, 0xbe]
            ));
    if sniffed {
        return true;
    }
    let ext = p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    APP_EXTENSIONS.contains(&ext.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("appvet-inputs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("sub")).unwrap();
        d
    }

    #[test]
    fn directories_are_walked_by_content_and_lists_and_globs_expand() {
        let d = temp_dir("walk");
        std::fs::write(d.join("a.bin"), b"PK\x03\x04rest").unwrap();
        std::fs::write(d.join("sub/b.apk"), b"junk").unwrap();
        std::fs::write(d.join("notes.txt"), b"hello").unwrap();
        std::fs::write(d.join("sub/lib"), b"\x7fELF....").unwrap();
        let (files, errors) = expand(std::slice::from_ref(&d));
        assert!(errors.is_empty());
        let keys: Vec<&str> = files.iter().map(|f| f.shard_key.as_str()).collect();
        assert_eq!(keys, ["a.bin", "sub/b.apk", "sub/lib"]);

        let list = d.join("list.txt");
        std::fs::write(
            &list,
            format!("# inputs\n{}\n\n{}\n", d.join("a.bin").display(), d.join("nope").display()),
        )
        .unwrap();
        let (files, errors) = expand(&[PathBuf::from(format!("@{}", list.display()))]);
        assert_eq!(files.len(), 1);
        assert_eq!(errors.len(), 1);

        let (files, errors) = expand(&[d.join("sub/*")]);
        assert_eq!(files.len(), 2, "{files:?} {errors:?}");
        let (files, errors) = expand(&[d.join("*.nothing")]);
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
