//! CycloneDX 1.6 JSON rendering (`--format cyclonedx`): the app as the BOM's
//! subject, its detected SDKs and native libraries / frameworks as
//! components, each SDK with its owner as supplier and the owner's and the
//! controlling parent's countries as properties, versions where the app
//! records them (`META-INF/*.version`, frameworks' Info.plist; Maven
//! coordinates as purls), so supply-chain tools
//! (Dependency-Track and the like) can take in what appvet found. The BOM is
//! deterministic: no timestamp, and the serial number derives from the
//! input's SHA-256, so the same app gives the same BOM.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{party_table, LibraryVersion, Report, Sdk};

pub const SPEC_VERSION: &str = "1.6";

/// One BOM as an indented document (single input).
pub fn render_pretty(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&bom(report)).unwrap_or_default();
    s.push('\n');
    s
}

/// One BOM on one line (several inputs: one line per app).
pub fn render_line(report: &Report) -> String {
    let mut s = serde_json::to_string(&bom(report)).unwrap_or_default();
    s.push('\n');
    s
}

/// The BOM of one report.
pub fn bom(r: &Report) -> Value {
    let app_ref = "app";
    let mut components = Vec::new();
    let mut refs = Vec::new();
    for sdk in &r.sdks {
        let c = sdk_component(sdk);
        refs.push(c["bom-ref"].clone());
        components.push(c);
    }
    for c in native_components(r) {
        // bom-refs must be unique; a library recorded twice (base and split) is one component.
        if refs.contains(&c["bom-ref"]) {
            continue;
        }
        refs.push(c["bom-ref"].clone());
        components.push(c);
    }
    let mut app = json!({
        "type": "application",
        "bom-ref": app_ref,
        "name": r.app.name.as_deref().or(r.app.id.as_deref()).unwrap_or(&r.input.path),
        "hashes": [{"alg": "SHA-256", "content": r.input.sha256}],
    });
    if let Some(v) = &r.app.version {
        app["version"] = json!(v);
    }
    let mut props = vec![prop("appvet:input.kind", r.input.kind.as_str())];
    if let Some(id) = &r.app.id {
        // The package / bundle id is what stores and MDM systems key apps by.
        app["group"] = json!(id);
        props.push(prop("appvet:app.id", id));
    }
    if let Some(p) = r.app.platform {
        props.push(prop("appvet:app.platform", p.as_str()));
    }
    if let Some(v) = &r.verdict {
        props.push(prop("appvet:verdict", v.decision.as_str()));
        props.push(prop("appvet:verdict.policy", &v.policy));
    }
    if let Some(publisher) = party_table::publisher(r) {
        if let Some(name) = &publisher.owner {
            app["supplier"] = json!({"name": name});
        }
        if let Some(c) = &publisher.country {
            props.push(prop("appvet:publisher.country", c));
        }
    }
    app["properties"] = Value::Array(props);
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial_number(&r.input.sha256),
        "version": 1,
        "metadata": {
            "tools": {"components": [{
                "type": "application",
                "name": r.tool.name,
                "version": r.tool.version,
                "properties": [prop("appvet:signatures_version", &r.tool.signatures_version)],
            }]},
            "component": app,
        },
        "components": components,
        "dependencies": [{"ref": app_ref, "dependsOn": refs}],
    })
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn sdk_component(sdk: &Sdk) -> Value {
    let mut c = json!({
        "type": "library",
        "bom-ref": format!("sdk:{}", sdk.id),
        "name": sdk.name,
    });
    let mut props = vec![prop("appvet:sdk.id", &sdk.id)];
    if let Some(owner) = &sdk.owner {
        c["supplier"] = json!({"name": owner});
    }
    if let Some(country) = &sdk.country {
        props.push(prop("appvet:owner.country", country));
    }
    if let Some(parent) = party_table::controlling_parent(&sdk.owner_chain) {
        props.push(prop("appvet:controlling_parent", &parent.name));
    }
    // The traced chain of control decides the country when there is one.
    let country = sdk
        .control
        .as_ref()
        .and_then(|c| c.country.as_ref())
        .or_else(|| party_table::controlling_parent(&sdk.owner_chain).and_then(|p| p.country.as_ref()));
    if let Some(country) = country {
        props.push(prop("appvet:controlling_country", country));
    }
    if let Some(control) = &sdk.control {
        props.push(prop("appvet:control_chain", &control.chain));
    }
    for cat in &sdk.categories {
        props.push(prop("appvet:category", cat));
    }
    if let Some(id) = sdk.exodus_id {
        props.push(prop("appvet:exodus_id", &id.to_string()));
    }
    if let Some(e) = sdk.evidence.first() {
        c["evidence"] =
            json!({"occurrences": [{"location": format!("{}: {} {}", e.source, e.kind.as_str(), e.value)}]});
    }
    c["properties"] = Value::Array(props);
    c
}

/// Native libraries by file name (one component for all ABIs of a library)
/// and embedded Mach-O dylibs / frameworks other than the main executable.
fn native_components(r: &Report) -> Vec<Value> {
    let mut libs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in &r.code.native {
        let name = n.entry.rsplit(['/', '!']).next().unwrap_or(&n.entry).to_string();
        libs.entry(name).or_default().push(n.entry.clone());
    }
    let main_exe = r.app.ios.as_ref().and_then(|i| i.executable.as_ref().map(|e| format!("{}{e}", i.bundle)));
    let mut frameworks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &r.code.macho {
        if Some(&m.entry) == main_exe.as_ref() || m.file_type.as_deref() == Some("EXECUTE") {
            continue;
        }
        let name = m.entry.rsplit('/').next().unwrap_or(&m.entry).to_string();
        frameworks.entry(name).or_default().push(m.entry.clone());
    }
    let mut out = Vec::new();
    let mut versioned_frameworks = Vec::new();
    for (kind, prefix, map) in [("library", "native", libs), ("framework", "macho", frameworks)] {
        for (name, entries) in map {
            let occurrences: Vec<Value> = entries.iter().map(|e| json!({"location": e})).collect();
            let mut c = json!({
                "type": kind,
                "bom-ref": format!("{prefix}:{name}"),
                "name": name,
                "evidence": {"occurrences": occurrences},
            });
            // An embedded framework's own Info.plist gives its version.
            if let Some(v) = r
                .code
                .library_versions
                .iter()
                .find(|v| kind == "framework" && v.bundle_id.is_some() && v.name == name)
            {
                c["version"] = json!(v.version);
                if let Some(id) = &v.bundle_id {
                    c["properties"] = json!([prop("appvet:bundle_id", id)]);
                }
                versioned_frameworks.push(v.name.clone());
            }
            out.push(c);
        }
    }
    for v in &r.code.library_versions {
        if v.bundle_id.is_some() && versioned_frameworks.contains(&v.name) {
            continue;
        }
        out.push(versioned_library(v));
    }
    out
}

/// A library the app records the version of: Maven coordinates get a purl,
/// which is what Dependency-Track matches vulnerabilities by.
fn versioned_library(v: &LibraryVersion) -> Value {
    let mut c = json!({
        "type": if v.bundle_id.is_some() { "framework" } else { "library" },
        "name": v.name,
        "version": v.version,
        "evidence": {"occurrences": [{"location": v.source}]},
    });
    match v.name.split_once(':') {
        Some((group, artifact)) if v.bundle_id.is_none() => {
            c["group"] = json!(group);
            c["name"] = json!(artifact);
            c["bom-ref"] = json!(format!("maven:{}", v.name));
            c["purl"] = json!(format!("pkg:maven/{group}/{artifact}@{}", v.version));
        }
        _ => c["bom-ref"] = json!(format!("version:{}", v.name)),
    }
    if let Some(id) = &v.bundle_id {
        c["properties"] = json!([prop("appvet:bundle_id", id)]);
    }
    c
}

/// `urn:uuid:` from the input's hash, shaped as a version-5-style UUID: the
/// same app always gets the same serial number.
fn serial_number(sha256: &str) -> String {
    let mut hex: Vec<char> = sha256.chars().filter(char::is_ascii_hexdigit).take(32).collect();
    hex.resize(32, '0');
    hex[12] = '5';
    // Variant bits 10xx: one of 8, 9, a, b.
    hex[16] = ['8', '9', 'a', 'b'][hex[16].to_digit(16).unwrap_or(0) as usize % 4];
    let s: String = hex.into_iter().collect::<String>().to_ascii_lowercase();
    format!("urn:uuid:{}-{}-{}-{}-{}", &s[..8], &s[8..12], &s[12..16], &s[16..20], &s[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serial_number_is_a_uuid_urn_derived_from_the_hash() {
        let s = serial_number(&"ab".repeat(32));
        assert_eq!(s, "urn:uuid:abababab-abab-5bab-abab-abababababab");
        assert_eq!(serial_number(&"0".repeat(64)), "urn:uuid:00000000-0000-5000-8000-000000000000");
    }

    #[test]
    fn recorded_versions_become_versioned_components_with_a_purl() {
        let mut r = crate::risk::tests_support::report();
        let v = LibraryVersion {
            name: "androidx.core:core".into(),
            version: "1.9.0".into(),
            bundle_id: None,
            source: "META-INF/androidx.core_core.version".into(),
        };
        r.code.library_versions = vec![v.clone(), v];
        let b = bom(&r);
        let comps = b["components"].as_array().unwrap();
        assert_eq!(comps.len(), 1, "recorded twice, listed once");
        assert_eq!(comps[0]["purl"], "pkg:maven/androidx.core/core@1.9.0");
        assert_eq!(
            (comps[0]["group"].as_str(), comps[0]["name"].as_str()),
            (Some("androidx.core"), Some("core"))
        );
    }

    #[test]
    fn sdks_become_components_with_their_owner_as_supplier() {
        let mut r = crate::risk::tests_support::report();
        r.sdks.push(Sdk {
            id: "umeng".into(),
            name: "Umeng Analytics".into(),
            owner: Some("Umeng".into()),
            country: Some("CN".into()),
            categories: vec!["analytics".into()],
            owner_chain: vec![
                crate::report::EntityRef {
                    id: "umeng".into(),
                    name: "Umeng".into(),
                    country: Some("CN".into()),
                    source: "s".into(),
                    ..Default::default()
                },
                crate::report::EntityRef {
                    id: "alibaba".into(),
                    name: "Alibaba Group".into(),
                    country: Some("CN".into()),
                    source: "s".into(),
                    ..Default::default()
                },
            ],
            ..Sdk::default()
        });
        let b = bom(&r);
        let c = &b["components"][0];
        assert_eq!(c["supplier"]["name"], "Umeng");
        let props = c["properties"].as_array().unwrap();
        assert!(props.contains(&prop("appvet:controlling_parent", "Alibaba Group")));
        assert!(props.contains(&prop("appvet:controlling_country", "CN")));
        assert_eq!(b["dependencies"][0]["dependsOn"][0], "sdk:umeng");
    }
}
