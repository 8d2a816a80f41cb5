//! Builds obfuscated and packed variants of an APK, to measure which SDKs
//! appvet still finds (tests/variants.rs on the generated samples,
//! `cargo run --example variants -- DIR` on a corpus). Test code: inputs
//! are trusted, errors are strings.
//!
//! - [`renamed`]: R8-style name obfuscation. Classes the manifest and the
//!   layouts name are kept, with their packages; every other class and
//!   package defined in the app's DEX files is renamed (consistently across
//!   DEX files); strings, native libraries and assets are untouched. Names
//!   are rewritten in place with names of the same length, so the DEX
//!   layout stays valid.
//! - [`packed`]: what a DEX packer does. The DEX files are encrypted into
//!   one asset and replaced by a stub DEX whose loader Application would
//!   decrypt and load them; the manifest is left as it was.

use std::collections::{HashMap, HashSet};

use appvet::archive::zip::{Budget, Limits, ZipArchive};
use appvet::formats::axml;
use appvet::formats::xml_tree::{AttrValue, XmlElement};
use appvet_samples::zip::{Compression, ZipWriter};

/// Entries of `apk` with their content, in order (signature files dropped:
/// a variant is unsigned).
fn entries(apk: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let limits = Limits::default();
    let zip = ZipArchive::parse(apk, &limits).map_err(|e| e.to_string())?;
    let mut budget = Budget::new(&limits);
    let mut out = Vec::new();
    for e in &zip.entries {
        let signature = e.name.starts_with("META-INF/")
            && [".SF", ".RSA", ".DSA", ".EC", "MANIFEST.MF"].iter().any(|s| e.name.ends_with(s));
        if signature || e.name.ends_with('/') || out.iter().any(|(n, _)| n == &e.name) {
            continue;
        }
        let data = zip.read(e, &mut budget).map_err(|err| format!("{}: {err}", e.name))?;
        out.push((e.name.clone(), data.into_owned()));
    }
    Ok(out)
}

fn write(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = ZipWriter::new();
    for (name, data) in entries {
        // Android wants resources.arsc stored; the rest compress.
        let method = if name == "resources.arsc" { Compression::Stored } else { Compression::Deflated };
        w.add(name, data, method);
    }
    w.finish()
}

fn is_primary_dex(name: &str) -> bool {
    !name.contains('/') && name.starts_with("classes") && name.ends_with(".dex")
}

/// Class names (dotted) that the manifest and the layouts name: R8 keeps these.
fn kept_classes(entries: &[(String, Vec<u8>)]) -> HashSet<String> {
    let mut kept = HashSet::new();
    let mut package = String::new();
    fn walk(e: &XmlElement, package: &mut String, kept: &mut HashSet<String>, manifest: bool) {
        if manifest && e.name == "manifest" {
            if let Some(AttrValue::String(p)) =
                e.attributes.iter().find(|a| a.name == "package").map(|a| &a.value)
            {
                *package = p.clone();
            }
        }
        // Custom views are elements named by their class.
        if e.name.contains('.') {
            kept.insert(e.name.clone());
        }
        for a in &e.attributes {
            if let AttrValue::String(v) = &a.value {
                if matches!(a.name.as_str(), "name" | "class" | "targetActivity" | "backupAgent") {
                    let full = if v.starts_with('.') { format!("{package}{v}") } else { v.clone() };
                    kept.insert(full);
                }
            }
        }
        for c in &e.children {
            walk(c, package, kept, manifest);
        }
    }
    for (name, data) in entries {
        let manifest = name == "AndroidManifest.xml";
        if manifest || name.starts_with("res/") && name.ends_with(".xml") {
            if let Some(root) = axml::parse(data).root {
                walk(&root, &mut package, &mut kept, manifest);
            }
        }
    }
    kept
}

/// A bounds-checked DEX view: the string and type tables.
struct DexTables {
    /// (offset of the MUTF-8 bytes, byte length) per string.
    strings: Vec<(usize, usize)>,
    /// String index of each class_def's descriptor.
    class_descriptors: Vec<usize>,
}

fn u32_at(d: &[u8], off: usize) -> Option<usize> {
    Some(u32::from_le_bytes(d.get(off..off.checked_add(4)?)?.try_into().ok()?) as usize)
}

fn dex_tables(d: &[u8]) -> Option<DexTables> {
    let (sid_n, sid_off) = (u32_at(d, 0x38)?, u32_at(d, 0x3c)?);
    let (tid_off, cd_n, cd_off) = (u32_at(d, 0x44)?, u32_at(d, 0x60)?, u32_at(d, 0x64)?);
    let mut strings = Vec::with_capacity(sid_n.min(1 << 22));
    for i in 0..sid_n {
        let mut p = u32_at(d, sid_off + 4 * i)?;
        // Skip the ULEB128 UTF-16 length.
        while *d.get(p)? & 0x80 != 0 {
            p += 1;
        }
        p += 1;
        let len = d.get(p..)?.iter().position(|&b| b == 0)?;
        strings.push((p, len));
    }
    let mut class_descriptors = Vec::new();
    for i in 0..cd_n {
        let type_idx = u32_at(d, cd_off + 32 * i)?;
        class_descriptors.push(u32_at(d, tid_off + 4 * type_idx)?);
    }
    Some(DexTables { strings, class_descriptors })
}

/// A lower-case token of `len` letters, fixed by `seed` (FNV-1a).
fn token(seed: &str, len: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|i| {
            h = h.rotate_left(5) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            h = h.wrapping_mul(0x0100_0000_01b3);
            char::from(b'a' + (h % 26) as u8)
        })
        .collect()
}

/// `com/umeng/analytics/Agent$1` -> a name of the same length: kept
/// packages stay, other segments and the class name become tokens, numeric
/// inner-class parts stay.
fn rename(class: &str, kept_packages: &HashSet<String>) -> String {
    let (pkg, simple) = class.rsplit_once('/').unwrap_or(("", class));
    let mut out = String::with_capacity(class.len());
    let mut prefix = String::new();
    for seg in pkg.split('/').filter(|s| !pkg.is_empty() || !s.is_empty()) {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(seg);
        let new = if kept_packages.contains(&prefix) { seg.to_string() } else { token(&prefix, seg.len()) };
        out.push_str(&new);
        out.push('/');
    }
    let parts: Vec<String> = simple
        .split('$')
        .enumerate()
        .map(|(i, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() {
                p.to_string()
            } else {
                token(&format!("{class}#{i}"), p.len())
            }
        })
        .collect();
    out.push_str(&parts.join("$"));
    out
}

/// R8-style renaming of every class the manifest and layouts do not name.
pub fn renamed(apk: &[u8]) -> Result<Vec<u8>, String> {
    let mut entries = entries(apk)?;
    let kept = kept_classes(&entries);
    let kept_slashed: HashSet<String> = kept.iter().map(|c| c.replace('.', "/")).collect();
    let mut kept_packages = HashSet::new();
    for c in &kept_slashed {
        let mut p = c.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            kept_packages.insert(parent.to_string());
            p = parent;
        }
    }
    // Every ASCII class defined in any DEX, except the kept ones, gets a new name.
    let mut map: HashMap<String, String> = HashMap::new();
    for (name, data) in &entries {
        if !is_primary_dex(name) {
            continue;
        }
        let t = dex_tables(data).ok_or(format!("{name}: unreadable DEX tables"))?;
        for &s in &t.class_descriptors {
            let Some(&(off, len)) = t.strings.get(s) else { continue };
            let Some(desc) = data.get(off..off + len).and_then(|b| std::str::from_utf8(b).ok()) else {
                continue;
            };
            let Some(class) = desc.strip_prefix('L').and_then(|d| d.strip_suffix(';')) else { continue };
            if class.is_ascii() && !kept_slashed.contains(class) {
                map.insert(class.to_string(), rename(class, &kept_packages));
            }
        }
    }
    for (name, data) in entries.iter_mut() {
        if !is_primary_dex(name) {
            continue;
        }
        let t = dex_tables(data).ok_or(format!("{name}: unreadable DEX tables"))?;
        for &(off, len) in &t.strings {
            let Some(text) = data.get(off..off + len).and_then(|b| std::str::from_utf8(b).ok()) else {
                continue;
            };
            // Type descriptors, arrays of them included: `[[Lcom/x/Y;`.
            let dims = text.bytes().take_while(|&b| b == b'[').count();
            let Some(class) = text[dims..].strip_prefix('L').and_then(|d| d.strip_suffix(';')) else {
                continue;
            };
            if let Some(new) = map.get(class) {
                let start = off + dims + 1;
                data[start..start + new.len()].copy_from_slice(new.as_bytes());
            }
        }
        appvet_samples::dex::fix_checksums(data);
    }
    Ok(write(&entries))
}

/// A keystream (xorshift64*) that makes the payload look like ciphertext.
fn encrypt(data: &mut [u8], mut state: u64) {
    for chunk in data.chunks_mut(8) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let k = state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
        for (b, k) in chunk.iter_mut().zip(k) {
            *b ^= k;
        }
    }
}

/// The stub a packer leaves: a loader Application that decrypts the payload
/// and hands it to a DexClassLoader.
fn stub_dex() -> Vec<u8> {
    let mut spec = appvet_samples::dex::DexSpec::default();
    spec.class("Lcom/variant/shell/LoaderApplication;", "Landroid/app/Application;")
        .method("Landroid/content/Context;->getAssets()Landroid/content/res/AssetManager;")
        .method("Landroid/content/res/AssetManager;->open(Ljava/lang/String;)Ljava/io/InputStream;")
        .method("Ldalvik/system/DexClassLoader;-><init>(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/ClassLoader;)V")
        .string("payload.bin");
    appvet_samples::dex::build(&spec)
}

/// The DEX files encrypted into `assets/payload.bin` behind a stub DEX.
pub fn packed(apk: &[u8]) -> Result<Vec<u8>, String> {
    let entries = entries(apk)?;
    let mut payload = Vec::new();
    let mut out = Vec::new();
    for (name, data) in entries {
        if is_primary_dex(&name) {
            payload.extend_from_slice(&(data.len() as u32).to_le_bytes());
            payload.extend_from_slice(&data);
        } else {
            out.push((name, data));
        }
    }
    if payload.is_empty() {
        return Err("no DEX to pack".into());
    }
    encrypt(&mut payload, 0x9e37_79b9_7f4a_7c15);
    out.insert(0, ("classes.dex".to_string(), stub_dex()));
    out.push(("assets/payload.bin".to_string(), payload));
    Ok(write(&out))
}

/// What a scan of a variant keeps of the original's SDKs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Kept {
    pub original: usize,
    pub found: usize,
}

/// SDK ids of a report, packers left out (they are not the app's SDKs).
pub fn sdk_ids(report: &appvet::report::Report) -> HashSet<String> {
    report.sdks.iter().filter(|s| !s.categories.iter().any(|c| c == "packer")).map(|s| s.id.clone()).collect()
}

pub fn kept(original: &HashSet<String>, variant: &HashSet<String>) -> Kept {
    Kept { original: original.len(), found: original.intersection(variant).count() }
}

/// (capability, SDK id) of every SDK party whose own code reaches a
/// capability, with how the party was placed: `None` by its class names,
/// else the `inferred` basis (a namespace, a host, a native library).
pub fn sdk_reach(
    report: &appvet::report::Report,
) -> std::collections::HashMap<(String, String), Option<String>> {
    use appvet::report::PartyKind;
    let mut out = std::collections::HashMap::new();
    for c in &report.capabilities {
        for r in c.reached_by.iter().filter(|r| r.party.kind == PartyKind::Sdk) {
            let basis = r.party.inferred.clone();
            out.entry((c.id.clone(), r.party.id.clone()))
                .and_modify(|b: &mut Option<String>| {
                    // Placed by name anywhere counts as by name.
                    if basis.is_none() {
                        *b = None;
                    }
                })
                .or_insert(basis);
        }
    }
    out
}

/// Whether a report says its code is hidden: a packer protection or a
/// `packed_code` gap.
pub fn says_code_hidden(report: &appvet::report::Report) -> bool {
    use appvet::report::{GapKind, ProtectionKind};
    report.protections.iter().any(|p| p.kind == ProtectionKind::Packer)
        || report.analysis.gaps.iter().any(|g| g.what == GapKind::PackedCode)
}
