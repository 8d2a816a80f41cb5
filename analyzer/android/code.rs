//! Code units: DEX files and native libraries, summarised for the report and
//! kept as evidence (classes, API references, linked libraries, strings).

use std::collections::HashSet;
use std::fmt::Write;

use super::calls;
use crate::context::Context;
use crate::evidence::calls::HOST_PREFIX;
use crate::evidence::{CodeUnit, Names, UnitKind};
use crate::formats::{dex, elf};
use crate::report::{Diagnostic, EvidenceKind, NativeSummary};

/// `Lcom/umeng/analytics/MobclickAgent;` -> `com.umeng.analytics`.
fn package_of(descriptor: &str) -> Option<String> {
    let inner = descriptor.strip_prefix('L')?.strip_suffix(';')?;
    let (pkg, _) = inner.rsplit_once('/')?;
    Some(pkg.replace('/', "."))
}

/// Reads one DEX: counts for the report, defined classes and references to
/// code defined elsewhere (framework and library APIs) for the evidence,
/// strings for host extraction.
pub fn add_dex(ctx: &mut Context, entry: &str, data: &[u8], primary: bool) {
    let file = match dex::parse(data) {
        Ok(f) => f,
        Err(e) => {
            ctx.diag(Diagnostic::error("dex.unreadable", e.to_string()).at(entry.to_string()));
            return;
        }
    };
    ctx.report.code.dex.push(file.summary(entry, primary));
    ctx.diags_at("", entry, file.diagnostics.clone());

    let mut unit = CodeUnit::new(entry, UnitKind::Dex);
    let mut packages = HashSet::new();
    for name in file.class_names() {
        if let Some(p) = package_of(&name) {
            packages.insert(p);
        }
        unit.classes.push(&name);
    }
    let defined: HashSet<&str> = unit.classes.iter().collect();
    let mut apis = Names::new();
    let mut targets = calls::Targets::default();
    // One reused buffer per reference instead of one string each.
    let mut text = String::new();
    for m in file.method_refs() {
        targets.add_loader(m.index, &m.class, &m.name);
        if !defined.contains(m.class.as_ref()) {
            text.clear();
            let _ = write!(text, "{m}");
            if (ctx.sensitive_apis)(&text) {
                targets.methods.insert(m.index, apis.len());
            }
            apis.push(&text);
        }
    }
    for f in file.field_refs() {
        if !defined.contains(f.class.as_ref()) {
            text.clear();
            let _ = write!(text, "{f}");
            if (ctx.sensitive_apis)(&text) {
                targets.fields.insert(f.index, apis.len());
            }
            apis.push(&text);
        }
    }
    drop(defined);

    let mut packages: Vec<String> = packages.into_iter().collect();
    packages.sort_unstable();
    ctx.hosts.add_code_packages(packages.iter().map(String::as_str));
    for idx in 0..file.string_count() {
        let Some(s) = file.string(idx) else { continue };
        let hosts = ctx.hosts.scan_hosts(entry, EvidenceKind::String, &s);
        if !hosts.is_empty() {
            let lines = hosts.iter().map(|h| format!("{HOST_PREFIX}{h}")).collect();
            targets.strings.insert(idx, lines);
        }
    }
    let (sites, capped) = calls::call_sites(&file, &apis, &targets);
    if capped {
        ctx.diag(
            Diagnostic::warning(
                "dex.code_walk_capped",
                "methods share code beyond the walk budget; call sites past it are not listed",
            )
            .at(entry.to_string()),
        );
    }
    unit.calls = sites;
    apis.sort_unstable_dedup();
    unit.apis = apis;
    ctx.evidence.units.push(unit);
}

/// Reads one native library: architecture, linked libraries and symbols for
/// the report and evidence, read-only strings for host extraction. The entry
/// is reported even when it is not a readable ELF (a fake `.so` is a finding).
pub fn add_native(ctx: &mut Context, entry: &str, data: &[u8], abi: Option<&str>) {
    match elf::parse(data) {
        Ok(info) => {
            let mut summary = info.summary(entry);
            summary.abi = abi.map(str::to_string).or(summary.abi);
            ctx.report.code.native.push(summary);
            ctx.diags_at("", entry, info.diagnostics);
            for s in &info.strings {
                ctx.hosts.scan(entry, EvidenceKind::NativeString, s);
            }
            let mut unit = CodeUnit::new(entry, UnitKind::Native);
            unit.libraries = info.needed.iter().collect();
            unit.apis = info.imported_symbols.iter().collect();
            unit.exports = info.exported_symbols.iter().collect();
            ctx.evidence.units.push(unit);
        }
        Err(e) => {
            ctx.report.code.native.push(NativeSummary {
                entry: entry.to_string(),
                abi: abi.map(str::to_string),
                ..NativeSummary::default()
            });
            ctx.diag(
                Diagnostic::warning("elf.unreadable", format!("not a readable ELF library: {e}"))
                    .at(entry.to_string()),
            );
        }
    }
}

/// A `META-INF/<group>_<artifact>.version` file: its one line is the
/// library's version. Anything that is not a short printable version is
/// ignored (the file is the app's to fill, so it is untrusted).
pub fn library_version(name: &str, data: &[u8], source: &str) -> Option<crate::report::LibraryVersion> {
    const MAX_VERSION: usize = 64;
    let file = name.rsplit('/').next()?.strip_suffix(".version")?;
    let version = std::str::from_utf8(data.get(..data.len().min(MAX_VERSION + 2))?).ok()?.trim();
    let printable =
        |s: &str| !s.is_empty() && s.len() <= MAX_VERSION && s.chars().all(|c| c.is_ascii_graphic());
    if !printable(version) || !printable(file) {
        return None;
    }
    // `androidx.core_core` -> `androidx.core:core` (the group holds no `_`).
    let name = match file.split_once('_') {
        Some((group, artifact)) => format!("{group}:{artifact}"),
        None => file.to_string(),
    };
    Some(crate::report::LibraryVersion {
        name,
        version: version.to_string(),
        bundle_id: None,
        source: source.to_string(),
    })
}

#[cfg(test)]
mod library_version_tests {
    use super::library_version;

    #[test]
    fn version_files_give_maven_coordinates_and_junk_is_ignored() {
        let v = library_version(
            "META-INF/androidx.core_core.version",
            b"1.9.0\n",
            "META-INF/androidx.core_core.version",
        )
        .unwrap();
        assert_eq!((v.name.as_str(), v.version.as_str()), ("androidx.core:core", "1.9.0"));
        assert!(library_version("META-INF/x_y.version", b"", "s").is_none());
        assert!(library_version("META-INF/x_y.version", b"1.0 with spaces", "s").is_none());
        assert!(library_version("META-INF/x_y.version", &[b'1'; 500], "s").is_none());
    }
}
