//! The Android manifest model: what `AndroidManifest.xml` says, read from the
//! decoded element tree the way the platform's package parser reads it.

use crate::formats::arsc::ResourceTable;
use crate::formats::xml_tree::{AttrValue, XmlElement};
use crate::report::{
    AndroidFacts, Component, ComponentKind, DeclaredPermission, Diagnostic, IntentFilter, MetaData, Queries,
    SdkLevel,
};

/// One requested permission with the element it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestedPermission {
    pub name: String,
    /// `uses-permission`, `uses-permission-sdk-23`, or `implied` (granted by
    /// the platform for compatibility; `implied_reason` says why).
    pub element: String,
    pub max_sdk_version: Option<u32>,
    pub implied_reason: Option<String>,
}

/// Everything later stages need from one manifest.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub package: Option<String>,
    /// `split` attribute: set on split APKs, absent on the base.
    pub split: Option<String>,
    pub version_code: Option<String>,
    pub version_name: Option<String>,
    pub min_sdk: Option<SdkLevel>,
    pub target_sdk: Option<SdkLevel>,
    pub max_sdk: Option<u32>,
    pub label: Option<String>,
    pub permissions: Vec<RequestedPermission>,
    pub declared_permissions: Vec<DeclaredPermission>,
    pub facts: AndroidFacts,
    /// Every string value in the manifest with the key it stands under (the
    /// attribute name; for `<meta-data>` its `android:name`): host
    /// extraction reads them, taking bare names only under host-valued keys.
    pub string_values: Vec<(String, String)>,
}

/// Resolves `@` references through resources.arsc when there is one.
struct Resolver<'a> {
    table: Option<&'a ResourceTable>,
}

impl Resolver<'_> {
    fn text(&self, v: &AttrValue) -> String {
        match v {
            AttrValue::Reference(id) => {
                self.table.and_then(|t| t.resolve_string(*id)).unwrap_or_else(|| v.display())
            }
            _ => v.display(),
        }
    }

    fn text_opt(&self, v: Option<&AttrValue>) -> Option<String> {
        v.map(|v| self.text(v))
    }
}

fn as_bool(v: Option<&AttrValue>) -> Option<bool> {
    match v? {
        AttrValue::Bool(b) => Some(*b),
        AttrValue::IntDec(i) => Some(*i != 0),
        AttrValue::IntHex(i) => Some(*i != 0),
        AttrValue::String(s) => match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn as_u32(v: Option<&AttrValue>) -> Option<u32> {
    match v? {
        AttrValue::IntDec(i) => u32::try_from(*i).ok(),
        AttrValue::IntHex(i) => Some(*i),
        AttrValue::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn sdk_level(v: Option<&AttrValue>, res: &Resolver) -> Option<SdkLevel> {
    let v = v?;
    if let Some(n) = as_u32(Some(v)) {
        return Some(SdkLevel::Api(n));
    }
    let text = res.text(v);
    match text.trim().parse::<u32>() {
        Ok(n) => Some(SdkLevel::Api(n)),
        Err(_) if !text.is_empty() => Some(SdkLevel::Codename(text)),
        Err(_) => None,
    }
}

/// Class names in the manifest may be relative to the package (`.Main`, `Main`).
fn qualify(name: &str, package: Option<&str>) -> String {
    match package {
        Some(p) if name.starts_with('.') => format!("{p}{name}"),
        Some(p) if !name.contains('.') && !name.is_empty() => format!("{p}.{name}"),
        _ => name.to_string(),
    }
}

/// Reads the manifest model from the decoded tree.
pub fn read(root: &XmlElement, table: Option<&ResourceTable>, diags: &mut Vec<Diagnostic>) -> Manifest {
    let res = Resolver { table };
    let mut m = Manifest::default();
    if root.name != "manifest" {
        diags.push(Diagnostic::warning(
            "manifest.unexpected_root",
            format!("root element is <{}>, not <manifest>", root.name),
        ));
    }
    m.package = root.attr("package").map(|v| res.text(v));
    m.split = root.attr("split").map(|v| res.text(v));
    m.version_code = root.android_attr("versionCode").map(|v| match v {
        AttrValue::IntHex(i) => i.to_string(),
        other => res.text(other),
    });
    m.version_name = res.text_opt(root.android_attr("versionName"));
    m.facts.shared_user_id = res.text_opt(root.android_attr("sharedUserId"));
    collect_strings(root, &res, &mut m.string_values);

    // The platform reads these only as direct children of <manifest>.
    for child in &root.children {
        match child.name.as_str() {
            "uses-sdk" => {
                m.min_sdk = sdk_level(child.android_attr("minSdkVersion"), &res).or(m.min_sdk.take());
                m.target_sdk =
                    sdk_level(child.android_attr("targetSdkVersion"), &res).or(m.target_sdk.take());
                m.max_sdk = as_u32(child.android_attr("maxSdkVersion")).or(m.max_sdk);
            }
            "uses-permission" | "uses-permission-sdk-23" | "uses-permission-sdk-m" => {
                let Some(name) = res.text_opt(child.android_attr("name")) else {
                    diags.push(Diagnostic::warning(
                        "manifest.permission_without_name",
                        format!("<{}> without android:name", child.name),
                    ));
                    continue;
                };
                let element = if child.name == "uses-permission" {
                    "uses-permission"
                } else {
                    "uses-permission-sdk-23"
                };
                m.permissions.push(RequestedPermission {
                    name,
                    element: element.to_string(),
                    max_sdk_version: as_u32(child.android_attr("maxSdkVersion")),
                    implied_reason: None,
                });
            }
            "permission" => {
                if let Some(name) = res.text_opt(child.android_attr("name")) {
                    m.declared_permissions.push(DeclaredPermission {
                        name,
                        protection_level: child.android_attr("protectionLevel").map(protection_level_text),
                        group: res.text_opt(child.android_attr("permissionGroup")),
                    });
                }
            }
            "uses-feature" => {
                if let Some(name) = res.text_opt(child.android_attr("name")) {
                    m.facts.uses_features.push(name);
                }
            }
            "queries" => read_queries(child, &res, &mut m.facts.queries),
            "application" => read_application(child, &res, &mut m, diags),
            _ => {}
        }
    }
    add_implied_permissions(&mut m);
    m
}

/// `protectionLevel` is a flag set; decoded to the names AOSP uses.
fn protection_level_text(v: &AttrValue) -> String {
    let bits = match v {
        AttrValue::IntDec(i) => *i as u32,
        AttrValue::IntHex(i) => *i,
        other => return other.display(),
    };
    let base = match bits & 0xf {
        0 => "normal",
        1 => "dangerous",
        2 => "signature",
        3 => "signatureOrSystem",
        4 => "internal",
        _ => "unknown",
    };
    const FLAGS: [(u32, &str); 12] = [
        (0x10, "privileged"),
        (0x20, "development"),
        (0x40, "appop"),
        (0x80, "pre23"),
        (0x100, "installer"),
        (0x200, "verifier"),
        (0x400, "preinstalled"),
        (0x800, "setup"),
        (0x1000, "instant"),
        (0x2000, "runtime"),
        (0x4000, "oem"),
        (0x2000000, "role"),
    ];
    let mut out = base.to_string();
    for (flag, name) in FLAGS {
        if bits & flag != 0 {
            out.push('|');
            out.push_str(name);
        }
    }
    out
}

fn collect_strings(e: &XmlElement, res: &Resolver, out: &mut Vec<(String, String)>) {
    // A meta-data value is keyed by the meta-data's name
    // (`com.example.API_HOST` -> `api.example.cn`).
    let meta_name = (e.name == "meta-data").then(|| res.text_opt(e.android_attr("name"))).flatten();
    for a in &e.attributes {
        let text = match &a.value {
            AttrValue::String(s) => s.clone(),
            AttrValue::Reference(_) => {
                let t = res.text(&a.value);
                if t.starts_with('@') {
                    continue;
                }
                t
            }
            _ => continue,
        };
        let key = match (&meta_name, a.name.as_str()) {
            (Some(name), "value" | "resource") => name.clone(),
            _ => a.name.clone(),
        };
        out.push((key, text));
    }
    for c in &e.children {
        collect_strings(c, res, out);
    }
}

fn read_application(app: &XmlElement, res: &Resolver, m: &mut Manifest, diags: &mut Vec<Diagnostic>) {
    let pkg = m.package.clone();
    m.label = res.text_opt(app.android_attr("label"));
    let f = &mut m.facts;
    f.debuggable = as_bool(app.android_attr("debuggable"));
    f.allow_backup = as_bool(app.android_attr("allowBackup"));
    f.uses_cleartext_traffic = as_bool(app.android_attr("usesCleartextTraffic"));
    f.test_only = as_bool(app.android_attr("testOnly"));
    f.has_code = as_bool(app.android_attr("hasCode"));
    f.network_security_config = res.text_opt(app.android_attr("networkSecurityConfig"));
    f.application_class = res.text_opt(app.android_attr("name")).map(|n| qualify(&n, pkg.as_deref()));
    let target = m.target_sdk.as_ref().or(m.min_sdk.as_ref()).map(SdkLevel::api_or_preview).unwrap_or(1);
    for child in &app.children {
        match child.name.as_str() {
            "activity" | "activity-alias" | "service" | "receiver" | "provider" => {
                let kind = ComponentKind::parse(&child.name).unwrap_or_default();
                let c = read_component(child, kind, res, pkg.as_deref(), target);
                for md in child.children_named("meta-data") {
                    f.meta_data.push(read_meta_data(md, res, Some(c.name.clone())));
                }
                f.components.push(c);
            }
            "meta-data" => f.meta_data.push(read_meta_data(child, res, None)),
            "uses-library" => {
                if let Some(n) = res.text_opt(child.android_attr("name")) {
                    f.uses_libraries.push(n);
                }
            }
            _ => {}
        }
    }
    if f.debuggable == Some(true) {
        diags.push(Diagnostic::warning(
            "manifest.debuggable",
            "android:debuggable is true: the app can be attached to by a debugger",
        ));
    }
}

fn read_component(
    e: &XmlElement,
    kind: ComponentKind,
    res: &Resolver,
    pkg: Option<&str>,
    target_sdk: u32,
) -> Component {
    let name_attr = if e.name == "activity-alias" { "targetActivity" } else { "name" };
    let name = res
        .text_opt(e.android_attr("name").or_else(|| e.android_attr(name_attr)))
        .map(|n| qualify(&n, pkg))
        .unwrap_or_default();
    let intent_filters: Vec<IntentFilter> =
        e.children_named("intent-filter").map(|f| read_intent_filter(f, res)).collect();
    let explicit = as_bool(e.android_attr("exported"));
    // Platform defaults: a component with an intent filter is exported;
    // a provider is exported by default only for apps targeting API <= 16.
    let implicit = if e.name == "provider" { target_sdk <= 16 } else { !intent_filters.is_empty() };
    let mut authorities = Vec::new();
    if let Some(a) = res.text_opt(e.android_attr("authorities")) {
        authorities = a.split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
    }
    Component {
        kind,
        name,
        exported: explicit.unwrap_or(implicit),
        exported_explicit: explicit.is_some(),
        permission: res.text_opt(e.android_attr("permission")),
        enabled: as_bool(e.android_attr("enabled")),
        authorities,
        intent_filters,
    }
}

fn read_intent_filter(f: &XmlElement, res: &Resolver) -> IntentFilter {
    let mut out = IntentFilter::default();
    for c in &f.children {
        match c.name.as_str() {
            "action" => out.actions.extend(res.text_opt(c.android_attr("name"))),
            "category" => out.categories.extend(res.text_opt(c.android_attr("name"))),
            "data" => {
                let get = |n: &str| res.text_opt(c.android_attr(n));
                let mut s = String::new();
                if let Some(scheme) = get("scheme") {
                    s.push_str(&scheme);
                    s.push_str("://");
                }
                if let Some(host) = get("host") {
                    s.push_str(&host);
                }
                if let Some(port) = get("port") {
                    s.push(':');
                    s.push_str(&port);
                }
                for p in ["path", "pathPrefix", "pathPattern", "pathAdvancedPattern", "pathSuffix"] {
                    if let Some(v) = get(p) {
                        s.push_str(&v);
                    }
                }
                if let Some(mime) = get("mimeType") {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    s.push_str(&mime);
                }
                if !s.is_empty() {
                    out.data.push(s);
                }
            }
            _ => {}
        }
    }
    out
}

fn read_queries(q: &XmlElement, res: &Resolver, out: &mut Queries) {
    for c in &q.children {
        match c.name.as_str() {
            "package" => out.packages.extend(res.text_opt(c.android_attr("name"))),
            "intent" => out.intents.push(read_intent_filter(c, res)),
            "provider" => out.providers.extend(res.text_opt(c.android_attr("authorities"))),
            _ => {}
        }
    }
}

fn read_meta_data(e: &XmlElement, res: &Resolver, component: Option<String>) -> MetaData {
    MetaData {
        name: res.text_opt(e.android_attr("name")).unwrap_or_default(),
        value: res.text_opt(e.android_attr("value")),
        resource: e.android_attr("resource").map(|v| res.text(v)),
        component,
    }
}

/// Permissions the platform grants for compatibility without the app naming
/// them (PackageParser's implied and split permissions; aapt reports the same).
fn add_implied_permissions(m: &mut Manifest) {
    // aapt and the platform take the target SDK from minSdkVersion when
    // targetSdkVersion is absent, and 0 (pre-Donut) when both are.
    let target = m.target_sdk.as_ref().or(m.min_sdk.as_ref()).map(SdkLevel::api_or_preview).unwrap_or(0);
    let has = |m: &Manifest, n: &str| m.permissions.iter().any(|p| p.name == n);
    let mut implied: Vec<(&str, &str)> = Vec::new();
    if target < 4 {
        if !has(m, "android.permission.WRITE_EXTERNAL_STORAGE") {
            implied.push(("android.permission.WRITE_EXTERNAL_STORAGE", "targetSdkVersion < 4"));
        }
        if !has(m, "android.permission.READ_PHONE_STATE") {
            implied.push(("android.permission.READ_PHONE_STATE", "targetSdkVersion < 4"));
        }
    }
    let writes = has(m, "android.permission.WRITE_EXTERNAL_STORAGE")
        || implied.iter().any(|(n, _)| n.ends_with("WRITE_EXTERNAL_STORAGE"));
    if writes && !has(m, "android.permission.READ_EXTERNAL_STORAGE") {
        implied.push(("android.permission.READ_EXTERNAL_STORAGE", "requested WRITE_EXTERNAL_STORAGE"));
    }
    if target < 16 {
        if has(m, "android.permission.READ_CONTACTS") && !has(m, "android.permission.READ_CALL_LOG") {
            implied.push((
                "android.permission.READ_CALL_LOG",
                "targetSdkVersion < 16 and requested READ_CONTACTS",
            ));
        }
        if has(m, "android.permission.WRITE_CONTACTS") && !has(m, "android.permission.WRITE_CALL_LOG") {
            implied.push((
                "android.permission.WRITE_CALL_LOG",
                "targetSdkVersion < 16 and requested WRITE_CONTACTS",
            ));
        }
    }
    for (name, reason) in implied {
        m.permissions.push(RequestedPermission {
            name: name.to_string(),
            element: "implied".to_string(),
            max_sdk_version: None,
            implied_reason: Some(reason.to_string()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::xml_tree::{XmlAttribute, ANDROID_NS};

    fn el(name: &str, attrs: Vec<(&str, AttrValue)>, children: Vec<XmlElement>) -> XmlElement {
        XmlElement {
            name: name.into(),
            namespace: None,
            attributes: attrs
                .into_iter()
                .map(|(n, v)| XmlAttribute {
                    name: n.into(),
                    namespace: (n != "package").then(|| ANDROID_NS.to_string()),
                    resource_id: None,
                    value: v,
                })
                .collect(),
            children,
            line: None,
            text: None,
        }
    }

    fn s(v: &str) -> AttrValue {
        AttrValue::String(v.into())
    }

    #[test]
    fn reads_versions_permissions_and_implied_ones() {
        let root = el(
            "manifest",
            vec![
                ("package", s("com.example")),
                ("versionCode", AttrValue::IntDec(7)),
                ("versionName", s("1.0")),
            ],
            vec![
                el("uses-sdk", vec![("minSdkVersion", AttrValue::IntDec(3))], vec![]),
                el("uses-permission", vec![("name", s("android.permission.READ_CONTACTS"))], vec![]),
            ],
        );
        let m = read(&root, None, &mut Vec::new());
        assert_eq!(m.package.as_deref(), Some("com.example"));
        assert_eq!(m.version_code.as_deref(), Some("7"));
        assert_eq!(m.min_sdk, Some(SdkLevel::Api(3)));
        let names: Vec<_> = m.permissions.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "android.permission.READ_CONTACTS",
                "android.permission.WRITE_EXTERNAL_STORAGE",
                "android.permission.READ_PHONE_STATE",
                "android.permission.READ_EXTERNAL_STORAGE",
                "android.permission.READ_CALL_LOG",
            ]
        );
    }

    #[test]
    fn exported_follows_the_implicit_intent_filter_rule() {
        let filter = el(
            "intent-filter",
            vec![],
            vec![el("action", vec![("name", s("android.intent.action.BOOT_COMPLETED"))], vec![])],
        );
        let root = el(
            "manifest",
            vec![("package", s("com.example"))],
            vec![
                el(
                    "uses-sdk",
                    vec![
                        ("minSdkVersion", AttrValue::IntDec(21)),
                        ("targetSdkVersion", AttrValue::IntDec(30)),
                    ],
                    vec![],
                ),
                el(
                    "application",
                    vec![],
                    vec![
                        el("receiver", vec![("name", s(".Boot"))], vec![filter]),
                        el("service", vec![("name", s("Sync"))], vec![]),
                        el("provider", vec![("name", s(".P")), ("authorities", s("a;b"))], vec![]),
                        el("activity", vec![("name", s(".A")), ("exported", AttrValue::Bool(true))], vec![]),
                    ],
                ),
            ],
        );
        let m = read(&root, None, &mut Vec::new());
        let c = &m.facts.components;
        assert_eq!(
            (c[0].name.as_str(), c[0].exported, c[0].exported_explicit),
            ("com.example.Boot", true, false)
        );
        assert_eq!((c[1].name.as_str(), c[1].exported), ("com.example.Sync", false));
        assert_eq!((c[2].exported, c[2].authorities.len()), (false, 2));
        assert!(c[3].exported && c[3].exported_explicit);
    }

    #[test]
    fn codename_sdk_levels_are_kept_as_text() {
        let root = el(
            "manifest",
            vec![],
            vec![el("uses-sdk", vec![("minSdkVersion", s("VanillaIceCream"))], vec![])],
        );
        let m = read(&root, None, &mut Vec::new());
        assert_eq!(m.min_sdk, Some(SdkLevel::Codename("VanillaIceCream".into())));
        assert_eq!(protection_level_text(&AttrValue::IntHex(0x12)), "signature|privileged");
    }
}
