//! Info.plist facts: identity and versions, usage descriptions (iOS's
//! permissions), background modes, App Transport Security, URL schemes the
//! app handles and probes for, and the keys SDKs ask apps to set.

use plist::{Dictionary, Value};

use crate::formats::property_list::{string_of, strings_of};
use crate::report::{AppTransportSecurity, AtsException, PlistKey};

/// Info.plist key prefixes that SDKs require apps to set; their presence
/// names the SDK even when its code is obfuscated.
const SDK_KEY_PREFIXES: &[&str] = &[
    "Facebook",
    "GAD",
    "AppsFlyer",
    "UMENG",
    "Umeng",
    "Firebase",
    "branch_",
    "Branch",
    "Adjust",
    "Mixpanel",
    "Amplitude",
    "Bugly",
    "JPush",
    "Flurry",
    "AppLovin",
    "Tapjoy",
    "Vungle",
    "UnityAds",
    "BaiduMob",
    "Sentry",
    "OneSignal",
    "CleverTap",
    "Kochava",
    "Singular",
    "TencentAppId",
    "WeChat",
    "Weibo",
    "Pangle",
    "BUAd",
    "Yandex",
    "VK",
    "MyTarget",
];

/// What one bundle's Info.plist says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InfoFacts {
    pub bundle_id: Option<String>,
    pub display_name: Option<String>,
    pub bundle_name: Option<String>,
    pub executable: Option<String>,
    pub short_version: Option<String>,
    pub build: Option<String>,
    pub minimum_os: Option<String>,
    pub supported_platforms: Vec<String>,
    pub device_family: Vec<i64>,
    /// `(key, text)` of every `*UsageDescription` key, in key order.
    pub usage_descriptions: Vec<(String, String)>,
    pub background_modes: Vec<String>,
    pub ats: Option<AppTransportSecurity>,
    pub queried_schemes: Vec<String>,
    pub url_schemes: Vec<String>,
    pub sdk_keys: Vec<PlistKey>,
    /// NSExtension / NSExtensionPointIdentifier (app extensions).
    pub extension_point: Option<String>,
    /// Every string value, for host extraction.
    pub strings: Vec<String>,
}

/// Reads the facts of a parsed Info.plist found at `source`.
pub fn read(dict: &Dictionary, source: &str) -> InfoFacts {
    let mut facts = InfoFacts {
        bundle_id: string_of(dict, "CFBundleIdentifier"),
        display_name: string_of(dict, "CFBundleDisplayName"),
        bundle_name: string_of(dict, "CFBundleName"),
        executable: string_of(dict, "CFBundleExecutable"),
        short_version: string_of(dict, "CFBundleShortVersionString"),
        build: string_of(dict, "CFBundleVersion"),
        minimum_os: string_of(dict, "MinimumOSVersion").or_else(|| string_of(dict, "LSMinimumSystemVersion")),
        supported_platforms: strings_of(dict, "CFBundleSupportedPlatforms"),
        background_modes: strings_of(dict, "UIBackgroundModes"),
        queried_schemes: strings_of(dict, "LSApplicationQueriesSchemes"),
        ..InfoFacts::default()
    };
    if let Some(Value::Array(families)) = dict.get("UIDeviceFamily") {
        facts.device_family = families.iter().filter_map(|v| v.as_signed_integer()).collect();
    }
    for (key, value) in dict.iter() {
        if key.ends_with("UsageDescription") {
            let text = value.as_string().unwrap_or_default().to_string();
            facts.usage_descriptions.push((key.clone(), text));
        }
        if SDK_KEY_PREFIXES.iter().any(|p| key.starts_with(p)) {
            facts.sdk_keys.push(PlistKey {
                key: key.clone(),
                value: string_of(dict, key),
                source: source.to_string(),
            });
        }
    }
    facts.usage_descriptions.sort();
    if let Some(Value::Dictionary(ats)) = dict.get("NSAppTransportSecurity") {
        facts.ats = Some(read_ats(ats));
    }
    if let Some(Value::Array(types)) = dict.get("CFBundleURLTypes") {
        for t in types {
            if let Value::Dictionary(t) = t {
                facts.url_schemes.extend(strings_of(t, "CFBundleURLSchemes"));
            }
        }
    }
    if let Some(Value::Dictionary(ext)) = dict.get("NSExtension") {
        facts.extension_point = string_of(ext, "NSExtensionPointIdentifier");
    }
    collect_strings(&Value::Dictionary(dict.clone()), 0, &mut facts.strings);
    facts
}

fn bool_of(dict: &Dictionary, key: &str) -> Option<bool> {
    dict.get(key).and_then(Value::as_boolean)
}

fn read_ats(ats: &Dictionary) -> AppTransportSecurity {
    let mut out = AppTransportSecurity {
        allows_arbitrary_loads: bool_of(ats, "NSAllowsArbitraryLoads"),
        allows_arbitrary_loads_in_web_content: bool_of(ats, "NSAllowsArbitraryLoadsInWebContent"),
        allows_local_networking: bool_of(ats, "NSAllowsLocalNetworking"),
        exception_domains: Vec::new(),
    };
    if let Some(Value::Dictionary(domains)) = ats.get("NSExceptionDomains") {
        for (domain, settings) in domains.iter() {
            let settings = settings.as_dictionary();
            let flag = |k: &str| settings.and_then(|s| bool_of(s, k)).unwrap_or(false);
            out.exception_domains.push(AtsException {
                domain: domain.to_ascii_lowercase(),
                allows_insecure_http: flag("NSExceptionAllowsInsecureHTTPLoads")
                    || flag("NSThirdPartyExceptionAllowsInsecureHTTPLoads")
                    || flag("NSTemporaryExceptionAllowsInsecureHTTPLoads"),
                includes_subdomains: flag("NSIncludesSubdomains"),
                minimum_tls_version: settings.and_then(|s| {
                    string_of(s, "NSExceptionMinimumTLSVersion")
                        .or_else(|| string_of(s, "NSThirdPartyExceptionMinimumTLSVersion"))
                }),
            });
        }
    }
    out
}

/// Most plist strings collected for host extraction.
const MAX_STRINGS: usize = 16_384;

fn collect_strings(value: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > 64 || out.len() >= MAX_STRINGS {
        return;
    }
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, depth + 1, out)),
        Value::Dictionary(d) => d.values().for_each(|v| collect_strings(v, depth + 1, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::property_list;

    const PLIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>
<key>CFBundleIdentifier</key><string>com.example.demo</string>
<key>CFBundleShortVersionString</key><string>1.2</string>
<key>CFBundleVersion</key><string>7</string>
<key>MinimumOSVersion</key><string>14.0</string>
<key>NSLocationWhenInUseUsageDescription</key><string>To find stores near you</string>
<key>NSCameraUsageDescription</key><string>To scan codes</string>
<key>UIBackgroundModes</key><array><string>location</string></array>
<key>LSApplicationQueriesSchemes</key><array><string>weixin</string></array>
<key>FacebookAppID</key><string>1234</string>
<key>CFBundleURLTypes</key><array><dict><key>CFBundleURLSchemes</key><array><string>demo</string></array></dict></array>
<key>NSAppTransportSecurity</key><dict><key>NSAllowsArbitraryLoads</key><true/>
<key>NSExceptionDomains</key><dict><key>Tracker.Example.CN</key><dict>
<key>NSExceptionAllowsInsecureHTTPLoads</key><true/></dict></dict></dict>
</dict></plist>"#;

    #[test]
    fn reads_identity_permissions_and_network_settings() {
        let dict = property_list::parse_dict(PLIST.as_bytes()).unwrap();
        let f = read(&dict, "Payload/Demo.app/Info.plist");
        assert_eq!(f.bundle_id.as_deref(), Some("com.example.demo"));
        assert_eq!(f.minimum_os.as_deref(), Some("14.0"));
        assert_eq!(f.usage_descriptions.len(), 2);
        assert_eq!(f.usage_descriptions[0].0, "NSCameraUsageDescription");
        assert_eq!(f.background_modes, ["location"]);
        assert_eq!(f.queried_schemes, ["weixin"]);
        assert_eq!(f.url_schemes, ["demo"]);
        assert_eq!(f.sdk_keys[0].key, "FacebookAppID");
        let ats = f.ats.unwrap();
        assert_eq!(ats.allows_arbitrary_loads, Some(true));
        assert_eq!(ats.exception_domains[0].domain, "tracker.example.cn");
        assert!(ats.exception_domains[0].allows_insecure_http);
    }
}
