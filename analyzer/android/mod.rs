//! Android: assembles the facts of an APK (or of every split of a bundle, or
//! of an AAB's modules) into the report and the evidence set.

pub mod bundle;
mod calls;
pub mod code;
pub mod entries;
pub mod manifest;
pub mod network_security;
pub mod signing;

use std::borrow::Cow;

use crate::archive::zip::{ZipArchive, ZipEntry};
use crate::context::Context;
use crate::formats::signing::jar::EntryDigests;
use crate::formats::{arsc, axml, proto_xml};
use crate::report::{Diagnostic, EmbeddedApp, EvidenceKind, InputKind, Permission, Platform, Split};
use entries::EntryRole;
use manifest::Manifest;

/// Text assets larger than this are scanned only up to this many bytes.
const MAX_TEXT_SCAN: usize = 4 << 20;
/// Opaque assets up to this size are inflated to look for hidden code.
const MAX_SNIFF: u64 = 32 << 20;

/// How an APK relates to the app being reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The app itself (a plain APK, or the base of a bundle).
    Base,
    /// A split of a bundle: its code and permissions join the app's.
    Split,
}

/// [`Context::read_entry`], also offering the whole entry to `digests` (the v1
/// signature check then need not inflate it again).
fn read_digested<'a>(
    ctx: &mut Context,
    zip: &ZipArchive<'a>,
    e: &ZipEntry,
    prefix: &str,
    digests: &mut EntryDigests,
) -> Option<Cow<'a, [u8]>> {
    let data = ctx.read_entry(zip, e, prefix)?;
    digests.offer(e.index, &data);
    Some(data)
}

/// Decodes the manifest and resource table of an APK.
fn read_manifest(ctx: &mut Context, zip: &ZipArchive, prefix: &str, is_aab: bool) -> Option<Manifest> {
    let arsc_table =
        zip.by_name("resources.arsc").cloned().and_then(|e| ctx.read_entry(zip, &e, prefix)).and_then(
            |data| {
                let parsed = arsc::parse(&data);
                ctx.diags_at(prefix, "resources.arsc", parsed.diagnostics);
                parsed.table
            },
        );
    let manifest_name = if is_aab { "base/manifest/AndroidManifest.xml" } else { "AndroidManifest.xml" };
    let Some(entry) = zip.by_name(manifest_name).cloned() else {
        ctx.diag(
            Diagnostic::error("manifest.missing", format!("no {manifest_name} in the archive"))
                .at(prefix.trim_end_matches('!').to_string()),
        );
        return None;
    };
    let data = ctx.read_entry(zip, &entry, prefix)?;
    let parsed = if is_aab { proto_xml::parse(&data) } else { axml::parse(&data) };
    ctx.diags_at(prefix, manifest_name, parsed.diagnostics);
    let Some(root) = parsed.root else {
        ctx.diag(
            Diagnostic::error("manifest.undecodable", "the manifest could not be decoded")
                .at(format!("{prefix}{manifest_name}")),
        );
        return None;
    };
    let mut diags = Vec::new();
    let m = manifest::read(&root, arsc_table.as_ref(), &mut diags);
    ctx.diags_at(prefix, manifest_name, diags);
    Some(m)
}

/// Analyses one APK (or AAB) archive. `prefix` is the path of the archive
/// inside the input (`""` for the input itself, `"base.apk!"` for a split).
pub fn analyze_apk(
    ctx: &mut Context,
    zip: &ZipArchive,
    prefix: &str,
    role: Role,
    is_aab: bool,
) -> Option<Manifest> {
    ctx.diags_at(prefix, "", zip.diagnostics.clone());
    let manifest = read_manifest(ctx, zip, prefix, is_aab);
    if let Some(m) = &manifest {
        ctx.hosts.add_code_packages(m.package.iter().map(String::as_str));
        apply_manifest(ctx, m, prefix, role);
    }
    let min_sdk = manifest.as_ref().and_then(|m| m.min_sdk.as_ref()).map(|l| l.api_or_preview());
    // v1 verification runs after the analysis so that it can reuse the
    // digests of the entries the analysis inflates; its diagnostics still
    // go where they always stood, right after the manifest's.
    let mut signing = signing::begin(zip, min_sdk, None);
    signing.plan_entry_digests(zip, &mut ctx.budget);
    let signing_at = ctx.report.diagnostics.len();

    if role == Role::Base {
        read_network_security(ctx, zip, prefix, signing.digests_mut());
    }
    for e in &zip.entries {
        ctx.evidence.entry_names.push(&format!("{prefix}{}", e.name));
    }
    read_code_and_assets(ctx, zip, prefix, is_aab, signing.digests_mut());

    let outcome = signing.finish(zip, &mut ctx.budget);
    let after = ctx.report.diagnostics.len();
    ctx.diags_at(prefix, "", outcome.diagnostics);
    let added = ctx.report.diagnostics.len() - after;
    if let Some(tail) = ctx.report.diagnostics.get_mut(signing_at..) {
        tail.rotate_right(added);
    }
    merge_signing(ctx, outcome.signing, role);
    manifest
}

/// Decodes the network security config the manifest names, if the archive has it.
fn read_network_security(ctx: &mut Context, zip: &ZipArchive, prefix: &str, digests: &mut EntryDigests) {
    let Some(path) = ctx.report.app.android.as_ref().and_then(|f| f.network_security_config.clone()) else {
        return;
    };
    if path.starts_with('@') {
        ctx.diag(
            Diagnostic::info(
                "network.config_unresolved",
                format!("network security config reference {path} could not be resolved to a file"),
            )
            .at(format!("{prefix}AndroidManifest.xml")),
        );
        return;
    }
    let Some(entry) = zip.by_name(&path).cloned() else {
        ctx.diag(
            Diagnostic::info(
                "network.config_missing",
                format!("network security config {path} is not in the archive"),
            )
            .at(prefix.trim_end_matches('!').to_string()),
        );
        return;
    };
    let Some(data) = read_digested(ctx, zip, &entry, prefix, digests) else { return };
    let parsed = axml::parse(&data);
    let location = format!("{prefix}{path}");
    ctx.diags_at(prefix, &path, parsed.diagnostics);
    if let Some(root) = parsed.root {
        let mut diags = Vec::new();
        let config = network_security::read(&root, &location, &mut diags);
        ctx.report.diagnostics.extend(diags);
        if let Some(facts) = ctx.report.app.android.as_mut() {
            facts.network_security = Some(config);
        }
    }
}

fn merge_signing(ctx: &mut Context, s: crate::report::Signing, role: Role) {
    let signing = &mut ctx.report.signing;
    match role {
        Role::Base => {
            signing.schemes = s.schemes;
            signing.verified = s.verified;
        }
        // A bundle installs only if every split verifies with the same signer.
        Role::Split => {
            signing.verified = match (signing.verified, s.verified) {
                (Some(a), Some(b)) => Some(a && b),
                (a, b) => a.or(b),
            };
        }
    }
    for c in s.certificates {
        if !signing.certificates.iter().any(|have| have.sha256 == c.sha256) {
            signing.certificates.push(c);
        }
    }
}

fn apply_manifest(ctx: &mut Context, m: &Manifest, prefix: &str, role: Role) {
    for (key, v) in &m.string_values {
        ctx.hosts.scan_keyed(&format!("{prefix}AndroidManifest.xml"), EvidenceKind::Manifest, key, v);
    }
    let source_prefix = if prefix.is_empty() { String::new() } else { prefix.to_string() };
    for p in &m.permissions {
        if ctx.report.permissions.iter().any(|have| have.name == p.name) {
            continue;
        }
        let source = match &p.implied_reason {
            Some(reason) => format!("{source_prefix}implied ({reason})"),
            None => format!("{source_prefix}{}", p.element),
        };
        ctx.report.permissions.push(Permission {
            name: p.name.clone(),
            protection: ctx.db.permission(&p.name).map(|i| i.protection_level.clone()),
            source,
            max_sdk_version: p.max_sdk_version,
            description: None,
        });
    }
    for md in &m.facts.meta_data {
        ctx.evidence.config_keys.push(crate::evidence::ConfigKey {
            source: format!("{prefix}AndroidManifest.xml"),
            key: md.name.clone(),
            value: md.value.clone(),
        });
    }
    let app = &mut ctx.report.app;
    app.splits.push(Split {
        entry: prefix.trim_end_matches('!').to_string(),
        split: m.split.clone(),
        package: m.package.clone(),
    });
    if role == Role::Base {
        app.platform = Some(Platform::Android);
        app.id = m.package.clone();
        app.name = m.label.clone();
        app.version = m.version_name.clone();
        app.version_code = m.version_code.clone();
        app.min_sdk = m.min_sdk.clone();
        app.target_sdk = m.target_sdk.clone();
        app.max_sdk = m.max_sdk;
        app.declared_permissions = m.declared_permissions.clone();
        app.android = Some(m.facts.clone());
    } else if let Some(facts) = app.android.as_mut() {
        // Feature splits may add components and metadata of their own.
        facts.components.extend(m.facts.components.iter().cloned());
        facts.meta_data.extend(m.facts.meta_data.iter().cloned());
    }
}

/// Walks every entry once, reading only those that can hold code or endpoints.
fn read_code_and_assets(
    ctx: &mut Context,
    zip: &ZipArchive,
    prefix: &str,
    is_aab: bool,
    digests: &mut EntryDigests,
) {
    let mut seen_dex = Vec::new();
    for e in &zip.entries {
        let role = entries::classify(&e.name, is_aab);
        let path = format!("{prefix}{}", e.name);
        match role {
            EntryRole::Skip => {}
            EntryRole::PrimaryDex | EntryRole::SecondaryDex => {
                // Android loads the first of duplicate names; later copies are a hiding trick.
                if seen_dex.contains(&e.name) {
                    continue;
                }
                seen_dex.push(e.name.clone());
                if let Some(data) = read_digested(ctx, zip, e, prefix, digests) {
                    let primary = role == EntryRole::PrimaryDex && ctx.depth == 0;
                    if role == EntryRole::SecondaryDex {
                        ctx.diag(Diagnostic::warning("code.secondary_dex", "DEX outside the primary classes*.dex set: loaded only by dynamic code loading").at(path.clone()));
                    }
                    code::add_dex(ctx, &path, &data, primary);
                }
            }
            EntryRole::NativeLib { abi } => {
                if let Some(data) = read_digested(ctx, zip, e, prefix, digests) {
                    code::add_native(ctx, &path, &data, Some(&abi));
                }
            }
            EntryRole::StrayNativeLib => {
                if let Some(data) = read_digested(ctx, zip, e, prefix, digests) {
                    ctx.diag(Diagnostic::warning("code.native_outside_lib", "native library outside lib/<abi>/: loaded manually (packers and plugin loaders do this)").at(path.clone()));
                    code::add_native(ctx, &path, &data, None);
                }
            }
            EntryRole::NestedArchive => {
                if let Some(data) = read_digested(ctx, zip, e, prefix, digests) {
                    analyze_nested(ctx, &data, &path);
                }
            }
            EntryRole::ResourceXml => {
                if let Some(data) = read_digested(ctx, zip, e, prefix, digests) {
                    let parsed = axml::parse(&data);
                    if let Some(root) = parsed.root {
                        scan_xml_values(ctx, &root, &path);
                    }
                }
            }
            EntryRole::TextAsset => {
                if let Some(data) = read_digested(ctx, zip, e, prefix, digests) {
                    if data.starts_with(b"\x03\x00\x08\x00") {
                        if let Some(root) = axml::parse(&data).root {
                            scan_xml_values(ctx, &root, &path);
                        }
                    } else {
                        let text = String::from_utf8_lossy(&data[..data.len().min(MAX_TEXT_SCAN)]);
                        ctx.hosts.scan(&path, EvidenceKind::Asset, &text);
                    }
                }
            }
            EntryRole::OpaqueAsset => sniff_opaque(ctx, zip, e, prefix, &path, digests),
            EntryRole::LibraryVersion => {
                if let Some(data) = read_digested(ctx, zip, e, prefix, digests) {
                    if let Some(v) = code::library_version(&e.name, &data, &path) {
                        ctx.report.code.library_versions.push(v);
                    }
                }
            }
        }
    }
}

fn scan_xml_values(ctx: &mut Context, e: &crate::formats::xml_tree::XmlElement, path: &str) {
    for a in &e.attributes {
        if let crate::formats::xml_tree::AttrValue::String(s) = &a.value {
            ctx.hosts.scan_keyed(path, EvidenceKind::Resource, &a.name, s);
        }
    }
    if let Some(text) = &e.text {
        ctx.hosts.scan_keyed(path, EvidenceKind::Resource, &e.name, text);
    }
    for c in &e.children {
        scan_xml_values(ctx, c, path);
    }
}

/// Bytes of an opaque asset inflated to recognise its content.
const SNIFF_PREFIX: usize = 64 << 10;

/// Code hidden under an innocent name (`assets/a.dat` that is a DEX or a
/// ZIP) is a packer or dropper technique: recognise it from the first bytes
/// and analyse it. An entry whose first bytes inflate far beyond the ratio
/// its header declares is lying about its size (a bomb in waiting).
fn sniff_opaque(
    ctx: &mut Context,
    zip: &ZipArchive,
    e: &ZipEntry,
    prefix: &str,
    path: &str,
    digests: &mut EntryDigests,
) {
    let Some((head, consumed)) = zip.read_prefix(e, SNIFF_PREFIX) else { return };
    // Header claims little compression, but the start inflates at >100:1.
    let declared_ratio = e.uncompressed_size / e.compressed_size.max(1);
    let local_ratio = head.len() as u64 / (consumed as u64).max(1);
    if head.len() == SNIFF_PREFIX && local_ratio > 100 && declared_ratio < 10 {
        ctx.diag(
            Diagnostic::warning(
                "zip.suspicious_ratio",
                format!(
                    "the first {} bytes inflate from {consumed} bytes ({local_ratio}:1) although the entry declares {declared_ratio}:1: its declared size is likely a lie (zip bomb); not inflated",
                    head.len()
                ),
            )
            .at(path.to_string()),
        );
        return;
    }
    let kind = crate::archive::sniff(&head);
    if kind == crate::archive::Sniffed::Unknown {
        note_payload(ctx, path, e.uncompressed_size, &head);
    }
    if kind == crate::archive::Sniffed::Unknown || e.uncompressed_size > MAX_SNIFF {
        return;
    }
    let Some(data) = read_digested(ctx, zip, e, prefix, digests) else { return };
    match kind {
        crate::archive::Sniffed::Dex => {
            ctx.diag(
                Diagnostic::warning("code.hidden_dex", "a DEX file under a non-DEX name")
                    .at(path.to_string()),
            );
            code::add_dex(ctx, path, &data, false);
        }
        crate::archive::Sniffed::Elf => {
            ctx.diag(
                Diagnostic::warning("code.hidden_native", "an ELF library under a non-library name")
                    .at(path.to_string()),
            );
            code::add_native(ctx, path, &data, None);
        }
        crate::archive::Sniffed::Zip => analyze_nested(ctx, &data, path),
        _ => {}
    }
}

/// Keeps an opaque entry of code size whose first bytes look encrypted: the
/// protections check weighs it with the rest (alone it may be compressed data).
fn note_payload(ctx: &mut Context, path: &str, size: u64, head: &[u8]) {
    use crate::evidence::{AppEvidence, Payload};
    if size < AppEvidence::PAYLOAD_MIN_SIZE {
        return;
    }
    let entropy_millibits = Payload::entropy_millibits(head);
    if entropy_millibits >= AppEvidence::payload_min_entropy(head.len()) {
        ctx.evidence.payloads.push(Payload { source: path.to_string(), size, entropy_millibits });
    }
}

/// A JAR, ZIP or APK inside the app: DEX inside is dynamically loadable
/// code; a whole APK is an embedded app (droppers install these).
fn analyze_nested(ctx: &mut Context, data: &[u8], path: &str) {
    if ctx.depth + 1 > ctx.limits.max_depth {
        ctx.diag(
            Diagnostic::warning(
                "archive.nesting_limit",
                format!("nested archive not opened: nesting depth limit {} reached", ctx.limits.max_depth),
            )
            .at(path.to_string()),
        );
        return;
    }
    let zip = match ZipArchive::parse(data, ctx.limits) {
        Ok(z) => z,
        Err(err) => {
            ctx.diag(
                Diagnostic::info("archive.nested_unreadable", format!("not a readable archive: {err}"))
                    .at(path.to_string()),
            );
            return;
        }
    };
    let prefix = format!("{path}!");
    if zip.by_name("AndroidManifest.xml").is_some() {
        ctx.diag(
            Diagnostic::warning(
                "archive.embedded_apk",
                "an APK embedded inside the app (installed or loaded at run time)",
            )
            .at(path.to_string()),
        );
        let mut child = ctx.child();
        let manifest = analyze_apk(&mut child, &zip, &prefix, Role::Base, false);
        let summary = EmbeddedApp {
            entry: path.to_string(),
            sha256: crate::context::sha256_hex(data),
            kind: InputKind::Apk,
            package: manifest.as_ref().and_then(|m| m.package.clone()),
            version: manifest.as_ref().and_then(|m| m.version_name.clone()),
            permissions: child.report.permissions.iter().map(|p| p.name.clone()).collect(),
            certificates: child.report.signing.certificates.iter().map(|c| c.sha256.clone()).collect(),
        };
        ctx.absorb_child(child);
        ctx.report.embedded.push(summary);
    } else {
        ctx.depth += 1;
        // Entries of a nested archive are not the outer APK's: nothing to digest.
        read_code_and_assets(ctx, &zip, &prefix, false, &mut EntryDigests::default());
        ctx.depth -= 1;
        ctx.diags_at(&prefix, "", zip.diagnostics);
    }
}

/// A bundle's (XAPK / APKS / APKM) base manifest: the first APK at the
/// archive's root, in the order `scan` tries them (`base.apk`, then names
/// that are not splits), whose manifest has no `split` attribute. Store
/// bundles name the base after the package (`com.example.app.apk`).
fn bundle_manifest_xml(
    zip: &ZipArchive<'_>,
    limits: &crate::archive::zip::Limits,
    budget: &mut crate::archive::zip::Budget,
) -> Result<String, String> {
    let mut apks: Vec<&ZipEntry> = zip
        .entries
        .iter()
        .filter(|e| !e.name.contains('/') && e.name.to_ascii_lowercase().ends_with(".apk"))
        .collect();
    if apks.is_empty() {
        return Err("no Android manifest found (not an APK, AAB or bundle of APKs)".into());
    }
    apks.sort_by_key(|e| (bundle::base_rank(&e.name), e.index));
    let inner_limits = crate::archive::zip::Limits { max_depth: 0, ..limits.clone() };
    let mut last_error = String::new();
    for e in apks {
        let xml = zip
            .read(e, budget)
            .map_err(|err| err.to_string())
            .and_then(|data| manifest_xml(&data, &inner_limits));
        match xml {
            Ok(xml) if !declares_split(&xml) => return Ok(xml),
            Ok(_) => last_error = "every APK in the bundle is a split".into(),
            Err(err) => last_error = format!("{}: {err}", e.name),
        }
    }
    Err(last_error)
}

/// Whether a manifest's root element carries `split="..."` (a split APK).
fn declares_split(xml: &str) -> bool {
    let root = xml.find("<manifest").map(|i| &xml[i..]).unwrap_or("");
    let tag = &root[..root.find('>').unwrap_or(root.len())];
    tag.contains(" split=\"")
}

/// The app's manifest as XML text (`appvet manifest`): the base APK's for a
/// bundle, the protobuf manifest for an AAB. Attribute names are resolved by
/// resource ID, so obfuscated names read as Android reads them.
pub fn manifest_xml(data: &[u8], limits: &crate::archive::zip::Limits) -> Result<String, String> {
    let zip = ZipArchive::parse(data, limits).map_err(|e| e.to_string())?;
    let mut budget = crate::archive::zip::Budget::new(limits);
    let read = |zip: &ZipArchive<'_>, name: &str, budget: &mut crate::archive::zip::Budget| {
        let entry = zip.by_name(name).ok_or_else(|| format!("no {name} in the archive"))?;
        zip.read(entry, budget).map(|d| d.into_owned()).map_err(|e| e.to_string())
    };
    let decoded = if zip.by_name("AndroidManifest.xml").is_some() {
        axml::parse(&read(&zip, "AndroidManifest.xml", &mut budget)?)
    } else if zip.by_name("base/manifest/AndroidManifest.xml").is_some() {
        proto_xml::parse(&read(&zip, "base/manifest/AndroidManifest.xml", &mut budget)?)
    } else {
        return bundle_manifest_xml(&zip, limits, &mut budget);
    };
    decoded
        .root
        .map(|root| axml::to_xml_text(&root))
        .ok_or_else(|| "the manifest could not be decoded".into())
}
