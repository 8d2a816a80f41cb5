//! iOS: assembles an IPA or zipped `.app` (main app, app extensions,
//! embedded frameworks and dylibs) or a bare Mach-O into the report and the
//! evidence set. Submodules: `layout` finds bundles by entry name,
//! `info_plist` reads Info.plist facts, `binary` adds one Mach-O,
//! `privacy` reads privacy manifests.

pub mod binary;
pub mod info_plist;
pub mod layout;
pub mod privacy;
pub mod signature;

use std::collections::BTreeMap;

use crate::archive::zip::ZipArchive;
use crate::context::Context;
use crate::formats::{mobileprovision, property_list};
use crate::report::{
    AppExtension, Diagnostic, Distribution, EvidenceKind, IosFacts, LibraryVersion, Permission, Platform,
};
use info_plist::InfoFacts;
use layout::NestedKind;

/// Entitlements that grant access to personal data or device identity;
/// reported in `permissions[]` with source `entitlements`.
const DATA_ENTITLEMENTS: &[&str] = &[
    "com.apple.developer.healthkit",
    "com.apple.developer.healthkit.access",
    "com.apple.developer.homekit",
    "com.apple.developer.contacts.notes",
    "com.apple.developer.networking.wifi-info",
    "com.apple.developer.nfc.readersession.formats",
    "com.apple.developer.siri",
    "com.apple.developer.family-controls",
    "com.apple.developer.location.push",
    "com.apple.developer.usernotifications.filtering",
    "com.apple.developer.kernel.increased-memory-limit",
    "com.apple.developer.networking.networkextension",
    "com.apple.developer.networking.vpn.api",
    "com.apple.developer.icloud-services",
    "com.apple.developer.ubiquity-kvstore-identifier",
    "com.apple.developer.device-information.user-assigned-device-name",
    "com.apple.security.personal-information.location",
    "com.apple.security.personal-information.addressbook",
    "com.apple.security.personal-information.calendars",
    "com.apple.security.personal-information.photos-library",
    "com.apple.security.device.camera",
    "com.apple.security.device.microphone",
    "com.apple.security.device.audio-input",
    "com.apple.security.device.bluetooth",
];

/// Analyses an IPA or a zipped `.app` bundle.
/// The main app bundle's Info.plist as XML text (`appvet manifest` on an
/// IPA or zipped .app), whatever form it is stored in (binary or XML).
pub fn info_plist_xml(data: &[u8], limits: &crate::archive::zip::Limits) -> Result<String, String> {
    let zip = ZipArchive::parse(data, limits).map_err(|e| e.to_string())?;
    let roots = layout::app_roots(zip.entries.iter().map(|e| e.name.as_str()));
    let root = roots.first().ok_or("no .app bundle in the archive")?;
    let mut budget = crate::archive::zip::Budget::new(limits);
    let entry = [format!("{root}Info.plist"), format!("{root}Contents/Info.plist")]
        .iter()
        .find_map(|name| zip.by_name(name))
        .ok_or_else(|| format!("{root} has no Info.plist"))?;
    let raw = zip.read(entry, &mut budget).map_err(|e| e.to_string())?;
    let dict = property_list::parse_dict(&raw).map_err(|e| format!("{}: {e}", entry.name))?;
    let mut xml = Vec::new();
    plist::Value::Dictionary(dict).to_writer_xml(&mut xml).map_err(|e| e.to_string())?;
    xml.push(b'\n');
    String::from_utf8(xml).map_err(|e| e.to_string())
}

pub fn analyze_zip(ctx: &mut Context, zip: &ZipArchive) {
    ctx.report.app.platform = Some(Platform::Ios);
    ctx.diags_at("", "", zip.diagnostics.clone());
    for e in &zip.entries {
        ctx.evidence.entry_names.push(&e.name);
    }
    let roots = layout::app_roots(zip.entries.iter().map(|e| e.name.as_str()));
    let Some(root) = roots.first().cloned() else {
        ctx.diag(Diagnostic::error("ios.no_app_bundle", "no .app bundle in the archive"));
        ctx.report.signing.not_verifiable = Some("no .app bundle in the archive".into());
        return;
    };
    if roots.len() > 1 {
        ctx.diag(Diagnostic::warning(
            "ios.several_apps",
            format!("{} app bundles; analysed {root}, not {}", roots.len(), roots[1..].join(", ")),
        ));
    }
    let mut facts = IosFacts { bundle: root.clone(), ..IosFacts::default() };
    let info = read_info_plist(ctx, zip, &root, &mut facts);
    apply_main_info(ctx, &info, &root, &mut facts);

    // Main executable.
    let exe_name = info.executable.clone().unwrap_or_else(|| bundle_stem(&root));
    facts.executable = Some(exe_name.clone());
    let exe_path = [format!("{root}{exe_name}"), format!("{root}Contents/MacOS/{exe_name}")]
        .into_iter()
        .find(|p| zip.by_name(p).is_some());
    let mut tally = signature::Tally::default();
    let mut main_signature = None;
    match exe_path {
        Some(path) => {
            // A macOS-style bundle keeps Info.plist and _CodeSignature in Contents/.
            let contents = if path.starts_with(&format!("{root}Contents/")) {
                format!("{root}Contents/")
            } else {
                root.clone()
            };
            let at = signature::Placement {
                path: &path,
                bundle_dir: Some(&contents),
                main: true,
                in_bundle: true,
            };
            if let Some(file) = read_and_add_macho(ctx, zip, &at, &mut tally) {
                if let Some(sig) = binary::signature(&file) {
                    facts.entitlements = sig.entitlements.clone();
                    main_signature = Some(sig.clone());
                }
            }
        }
        None => ctx.diag(
            Diagnostic::error(
                "ios.main_executable_missing",
                format!("CFBundleExecutable {exe_name:?} is not in the bundle"),
            )
            .at(root.clone()),
        ),
    }
    if let Some(ent) = facts.entitlements.clone() {
        apply_entitlements(ctx, &ent, &format!("{root}{exe_name}"));
    }

    // Nested bundles: extensions, frameworks, watch apps.
    let names = || zip.entries.iter().map(|e| e.name.as_str());
    for nested in layout::nested_bundles(&root, names()) {
        let plist_path = format!("{}Info.plist", nested.dir);
        let nested_info = read_plist_facts(ctx, zip, &plist_path);
        let exe = nested_info
            .as_ref()
            .and_then(|i| i.executable.clone())
            .unwrap_or_else(|| nested.default_executable());
        let exe_path = format!("{}{exe}", nested.dir);
        if zip.by_name(&exe_path).is_some() {
            let at = signature::Placement {
                path: &exe_path,
                bundle_dir: Some(&nested.dir),
                main: false,
                in_bundle: true,
            };
            read_and_add_macho(ctx, zip, &at, &mut tally);
        } else if nested.kind != NestedKind::Framework || nested_info.is_some() {
            ctx.diag(
                Diagnostic::warning("ios.nested_executable_missing", format!("no executable {exe:?}"))
                    .at(nested.dir.clone()),
            );
        }
        match nested.kind {
            NestedKind::Framework => {
                facts.frameworks.push(nested.dir.clone());
                if let Some(version) = nested_info.as_ref().and_then(|i| i.short_version.clone()) {
                    ctx.report.code.library_versions.push(LibraryVersion {
                        name: exe.clone(),
                        version,
                        bundle_id: nested_info.as_ref().and_then(|i| i.bundle_id.clone()),
                        source: plist_path.clone(),
                    });
                }
            }
            NestedKind::Extension | NestedKind::App => {
                let relative = nested.dir.strip_prefix(&root).unwrap_or(&nested.dir);
                let mut ext = AppExtension {
                    entry: nested.dir.clone(),
                    executable: Some(exe),
                    ..AppExtension::default()
                };
                if let Some(i) = &nested_info {
                    ext.bundle_id = i.bundle_id.clone();
                    ext.extension_point = i.extension_point.clone();
                    ext.usage_descriptions = i.usage_descriptions.iter().map(|(k, _)| k.clone()).collect();
                    add_usage_permissions(ctx, i, &format!("{relative}Info.plist"));
                    scan_plist_strings(ctx, i, &plist_path);
                }
                if ext.extension_point.as_deref() == Some("com.apple.keyboard-service") {
                    ctx.diag(
                        Diagnostic::warning(
                            "ios.keyboard_extension",
                            "custom keyboard extension: it can read what the user types",
                        )
                        .at(nested.dir.clone()),
                    );
                }
                facts.extensions.push(ext);
            }
        }
    }
    for dylib in layout::dylibs(&root, names()) {
        let at = signature::Placement { path: &dylib, bundle_dir: None, main: false, in_bundle: true };
        read_and_add_macho(ctx, zip, &at, &mut tally);
        facts.frameworks.push(dylib);
    }
    signature::conclude(ctx, &tally, main_signature.as_ref());

    read_privacy_manifests(ctx, zip, &root, &mut facts);
    read_provisioning(ctx, zip, &root, &mut facts);
    ctx.report.app.ios = Some(facts);
}

/// Analyses a bare Mach-O file (thin or universal).
pub fn analyze_bare_macho(ctx: &mut Context, file_name: &str, data: &[u8]) {
    let Some(file) = binary::add_macho(ctx, file_name, data) else { return };
    let mut tally = signature::Tally::default();
    let at = signature::Placement { path: file_name, bundle_dir: None, main: true, in_bundle: false };
    signature::check_binary(ctx, None, &mut tally, &at, &file, data);
    signature::conclude(ctx, &tally, binary::signature(&file));
    if let Some(min) = file.slices.first().and_then(|s| s.min_os.as_ref()) {
        ctx.report.app.min_os = Some(min.version.clone());
    }
    if let Some(sig) = binary::signature(&file) {
        if let Some(id) = sig.primary().and_then(|c| c.identifier.clone()) {
            ctx.report.app.id = Some(id);
        }
        if let Some(ent) = sig.entitlements.clone() {
            apply_entitlements(ctx, &ent, file_name);
        }
    }
}

fn bundle_stem(root: &str) -> String {
    let base = root.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    base.strip_suffix(".app").unwrap_or(base).to_string()
}

/// Adds the Mach-O at `at.path` and verifies its code signature.
fn read_and_add_macho(
    ctx: &mut Context,
    zip: &ZipArchive,
    at: &signature::Placement<'_>,
    tally: &mut signature::Tally,
) -> Option<crate::formats::macho::MachoFile> {
    let entry = zip.by_name(at.path)?.clone();
    let data = ctx.read_entry(zip, &entry, "")?;
    let file = binary::add_macho(ctx, at.path, &data)?;
    signature::check_binary(ctx, Some(zip), tally, at, &file, &data);
    Some(file)
}

fn read_plist_facts(ctx: &mut Context, zip: &ZipArchive, path: &str) -> Option<InfoFacts> {
    let entry = zip.by_name(path)?.clone();
    let data = ctx.read_entry(zip, &entry, "")?;
    match property_list::parse_dict(&data) {
        Ok(dict) => Some(info_plist::read(&dict, path)),
        Err(e) => {
            ctx.diag(Diagnostic::error(e.code(), e.to_string()).at(path));
            None
        }
    }
}

fn read_info_plist(ctx: &mut Context, zip: &ZipArchive, root: &str, facts: &mut IosFacts) -> InfoFacts {
    for candidate in [format!("{root}Info.plist"), format!("{root}Contents/Info.plist")] {
        let Some(entry) = zip.by_name(&candidate).cloned() else { continue };
        let Some(data) = ctx.read_entry(zip, &entry, "") else { continue };
        facts.info_plist_format = Some(property_list::format_name(&data).into());
        match property_list::parse_dict(&data) {
            Ok(dict) => return info_plist::read(&dict, &candidate),
            Err(e) => {
                ctx.diag(Diagnostic::error(e.code(), e.to_string()).at(candidate));
                return InfoFacts::default();
            }
        }
    }
    ctx.diag(Diagnostic::error("ios.info_plist_missing", "the app bundle has no Info.plist").at(root));
    InfoFacts::default()
}

fn apply_main_info(ctx: &mut Context, info: &InfoFacts, root: &str, facts: &mut IosFacts) {
    let app = &mut ctx.report.app;
    app.id = info.bundle_id.clone();
    app.name = info.display_name.clone().or_else(|| info.bundle_name.clone());
    app.version = info.short_version.clone();
    app.version_code = info.build.clone();
    app.min_os = info.minimum_os.clone();
    facts.display_name = info.display_name.clone();
    facts.bundle_name = info.bundle_name.clone();
    facts.supported_platforms = info.supported_platforms.clone();
    facts.device_family = info.device_family.clone();
    facts.background_modes = info.background_modes.clone();
    facts.app_transport_security = info.ats.clone();
    facts.queried_schemes = info.queried_schemes.clone();
    facts.url_schemes = info.url_schemes.clone();
    facts.sdk_keys = info.sdk_keys.clone();
    if let Some(id) = &info.bundle_id {
        ctx.hosts.add_code_packages(std::iter::once(id.as_str()));
    }
    add_usage_permissions(ctx, info, "Info.plist");
    let plist_path = format!("{root}Info.plist");
    scan_plist_strings(ctx, info, &plist_path);
    if let Some(ats) = &info.ats {
        for d in &ats.exception_domains {
            ctx.hosts.scan(&plist_path, EvidenceKind::Manifest, &d.domain);
        }
        if ats.allows_arbitrary_loads == Some(true) {
            ctx.diag(
                Diagnostic::warning(
                    "ios.ats_arbitrary_loads",
                    "App Transport Security is off (NSAllowsArbitraryLoads)",
                )
                .at(plist_path.clone()),
            );
        }
    }
    for k in &info.sdk_keys {
        ctx.evidence.config_keys.push(crate::evidence::ConfigKey {
            source: k.source.clone(),
            key: k.key.clone(),
            value: k.value.clone(),
        });
    }
}

fn scan_plist_strings(ctx: &mut Context, info: &InfoFacts, source: &str) {
    for s in &info.strings {
        ctx.hosts.scan(source, EvidenceKind::Manifest, s);
    }
}

fn add_usage_permissions(ctx: &mut Context, info: &InfoFacts, source: &str) {
    for (key, text) in &info.usage_descriptions {
        if ctx.report.permissions.iter().any(|p| &p.name == key) {
            continue;
        }
        ctx.report.permissions.push(Permission {
            name: key.clone(),
            protection: None,
            source: source.to_string(),
            max_sdk_version: None,
            description: Some(text.clone()),
        });
    }
}

fn truthy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Null => false,
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn apply_entitlements(ctx: &mut Context, ent: &BTreeMap<String, serde_json::Value>, source: &str) {
    for (key, value) in ent {
        if DATA_ENTITLEMENTS.contains(&key.as_str())
            && truthy(value)
            && !ctx.report.permissions.iter().any(|p| &p.name == key)
        {
            ctx.report.permissions.push(Permission {
                name: key.clone(),
                protection: None,
                source: "entitlements".into(),
                max_sdk_version: None,
                description: None,
            });
        }
    }
    // applinks:/webcredentials: domains are servers the app is bound to.
    if let Some(serde_json::Value::Array(domains)) = ent.get("com.apple.developer.associated-domains") {
        for d in domains.iter().filter_map(|d| d.as_str()) {
            let host = d.split_once(':').map(|(_, h)| h).unwrap_or(d);
            let host = host.split('?').next().unwrap_or(host).trim_start_matches("*.");
            ctx.hosts.scan(source, EvidenceKind::Entitlement, host);
        }
    }
    if ent.get("get-task-allow").is_some_and(truthy) {
        ctx.diag(
            Diagnostic::warning(
                "ios.get_task_allow",
                "get-task-allow entitlement: a development build that debuggers can attach to",
            )
            .at(source),
        );
    }
}

fn read_privacy_manifests(ctx: &mut Context, zip: &ZipArchive, root: &str, facts: &mut IosFacts) {
    let paths: Vec<String> = zip
        .entries
        .iter()
        .filter(|e| {
            e.name.starts_with(root)
                && e.name.ends_with("PrivacyInfo.xcprivacy")
                && !layout::is_debris(&e.name)
        })
        .map(|e| e.name.clone())
        .collect();
    for path in &paths {
        let Some(entry) = zip.by_name(path).cloned() else { continue };
        let Some(data) = ctx.read_entry(zip, &entry, "") else { continue };
        match property_list::parse_dict(&data) {
            Ok(dict) => {
                let manifest = privacy::read(&dict, path);
                for d in &manifest.tracking_domains {
                    ctx.hosts.scan(path, EvidenceKind::PrivacyManifest, d);
                }
                facts.privacy_manifests.push(manifest);
            }
            Err(e) => ctx.diag(Diagnostic::error(e.code(), e.to_string()).at(path.clone())),
        }
    }
    for framework in &facts.frameworks {
        if let Some(name) = privacy::listed_sdk(framework) {
            if !paths.iter().any(|p| p.starts_with(framework.as_str())) {
                ctx.diag(
                    Diagnostic::info(
                        "ios.sdk_privacy_manifest_missing",
                        format!("{name} is on Apple's list of SDKs that must ship a privacy manifest, and has none"),
                    )
                    .at(framework.clone()),
                );
            }
        }
    }
}

fn read_provisioning(ctx: &mut Context, zip: &ZipArchive, root: &str, facts: &mut IosFacts) {
    let path = format!("{root}embedded.mobileprovision");
    let Some(entry) = zip.by_name(&path).cloned() else { return };
    let Some(data) = ctx.read_entry(zip, &entry, "") else { return };
    let (profile, diags) = mobileprovision::parse(&data, &path);
    ctx.diags_at("", &path, diags);
    let Some(profile) = profile else { return };
    match profile.distribution {
        Distribution::Enterprise => ctx.diag(
            Diagnostic::warning(
                "ios.enterprise_distribution",
                "enterprise provisioning (ProvisionsAllDevices): installs on any device without App Store review",
            )
            .at(path.clone()),
        ),
        Distribution::AdHoc | Distribution::Development => ctx.diag(
            Diagnostic::warning(
                "ios.adhoc_distribution",
                format!(
                    "{} provisioning for {} devices: distributed outside App Store review",
                    profile.distribution, profile.provisioned_devices
                ),
            )
            .at(path.clone()),
        ),
        Distribution::AppStore => {}
    }
    for c in &profile.developer_certificates {
        if !ctx.report.signing.certificates.iter().any(|have| have.sha256 == c.sha256) {
            ctx.report.signing.certificates.push(c.clone());
        }
    }
    facts.provisioning = Some(profile);
}
