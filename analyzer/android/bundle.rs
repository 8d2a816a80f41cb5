//! XAPK / APKS / APKM bundles: an archive holding a base APK and split APKs.
//! Every split is analysed and merged into one app report: ABI splits carry
//! the native code, feature splits carry code of their own.

use crate::archive::zip::ZipArchive;
use crate::context::Context;
use crate::report::{Diagnostic, EvidenceKind};

use super::{analyze_apk, Role};

/// Orders splits so the base comes first: its manifest names the app.
pub(super) fn base_rank(name: &str) -> u8 {
    let lower = name.to_ascii_lowercase();
    if lower == "base.apk" {
        0
    } else if lower.starts_with("split_") || lower.starts_with("config.") || lower.contains("split_config") {
        2
    } else {
        1
    }
}

pub fn analyze_bundle(ctx: &mut Context, zip: &ZipArchive) {
    ctx.diags_at("", "", zip.diagnostics.clone());
    let mut apks: Vec<_> = zip
        .entries
        .iter()
        .filter(|e| !e.name.contains('/') && e.name.to_ascii_lowercase().ends_with(".apk"))
        .collect();
    apks.sort_by_key(|e| (base_rank(&e.name), e.index));
    let mut have_base = false;
    for e in apks {
        let Some(data) = ctx.read_entry(zip, e, "") else {
            continue;
        };
        let inner = match ZipArchive::parse(&data, ctx.limits) {
            Ok(z) => z,
            Err(err) => {
                ctx.diag(
                    Diagnostic::error(
                        "bundle.split_unreadable",
                        format!("split APK is not a readable ZIP: {err}"),
                    )
                    .at(e.name.clone()),
                );
                continue;
            }
        };
        let prefix = format!("{}!", e.name);
        // The base is the first APK whose manifest has no `split` attribute.
        let role = if have_base { Role::Split } else { Role::Base };
        let manifest = analyze_apk(ctx, &inner, &prefix, role, false);
        if role == Role::Base {
            match &manifest {
                Some(m) if m.split.is_none() => have_base = true,
                Some(m) => {
                    ctx.diag(
                        Diagnostic::warning(
                            "bundle.no_base",
                            format!("first split is '{}', not a base APK", m.split.as_deref().unwrap_or("")),
                        )
                        .at(e.name.clone()),
                    );
                }
                None => {}
            }
        }
    }
    if !have_base {
        ctx.diag(Diagnostic::error("bundle.no_base", "no base APK found in the bundle"));
    }
    // The archive's own listing (e.g. manifest.json of an XAPK) may hold endpoints too.
    for e in &zip.entries {
        if e.name == "manifest.json" || e.name == "info.json" {
            if let Some(data) = ctx.read_entry(zip, e, "") {
                scan_listing(ctx, &e.name, &data);
            }
        }
    }
}

/// The bundle's own listing is JSON that names splits (`"id": "config.ru"`):
/// bare names count as hosts only under host-valued keys, URLs anywhere.
fn scan_listing(ctx: &mut Context, source: &str, data: &[u8]) {
    fn walk(ctx: &mut Context, source: &str, key: &str, v: &serde_json::Value, depth: u32) {
        match v {
            serde_json::Value::String(s) => ctx.hosts.scan_keyed(source, EvidenceKind::Asset, key, s),
            // Nesting is bounded by serde_json's own recursion limit; this only keeps the walk shallow.
            serde_json::Value::Array(items) if depth < 32 => {
                for item in items {
                    walk(ctx, source, key, item, depth + 1);
                }
            }
            serde_json::Value::Object(map) if depth < 32 => {
                for (k, item) in map {
                    walk(ctx, source, k, item, depth + 1);
                }
            }
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(v) => walk(ctx, source, "", &v, 0),
        Err(_) => ctx.hosts.scan_urls(source, EvidenceKind::Asset, &String::from_utf8_lossy(data)),
    }
}
