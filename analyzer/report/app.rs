//! What the app is, as its platform describes it: identity, Android
//! manifest facts, iOS bundle facts and privacy manifests. Split from
//! `model.rs` by job; the report re-exports every type from there.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::*;
use crate::string_enum::string_enum;

string_enum! {
    pub enum Platform {
        Android = "android",
        Ios = "ios",
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct App {
    /// android | ios | null when the input is a bare binary.
    pub platform: Option<Platform>,
    /// Package name / bundle id.
    pub id: Option<String>,
    /// Resolved label (default configuration).
    pub name: Option<String>,
    /// versionName / CFBundleShortVersionString.
    pub version: Option<String>,
    /// versionCode / CFBundleVersion, as text.
    pub version_code: Option<String>,
    pub min_sdk: Option<SdkLevel>,
    pub target_sdk: Option<SdkLevel>,
    pub max_sdk: Option<u32>,
    pub min_os: Option<String>,
    /// Permissions the app itself defines (`<permission>`).
    pub declared_permissions: Vec<DeclaredPermission>,
    /// Android manifest facts beyond the contract fields; null on iOS.
    pub android: Option<AndroidFacts>,
    /// iOS bundle facts beyond the contract fields; null on Android.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios: Option<IosFacts>,
    /// Split APKs merged into this report (XAPK / APKS / APKM), base first.
    pub splits: Vec<Split>,
}

/// An SDK level as written: a number, or a preview codename
/// (`minSdkVersion="VanillaIceCream"`), which the platform only accepts on a
/// matching preview build. Serialized as a number or a string.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum SdkLevel {
    Api(u32),
    Codename(String),
}

impl SdkLevel {
    /// API level to compare against; codenames count as newer than any
    /// released level, as the platform treats them as the development API.
    pub fn api_or_preview(&self) -> u32 {
        match self {
            SdkLevel::Api(v) => *v,
            SdkLevel::Codename(_) => 10_000,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct DeclaredPermission {
    pub name: String,
    pub protection_level: Option<String>,
    pub group: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Split {
    pub entry: String,
    /// `split` attribute of the split's manifest; null for the base.
    pub split: Option<String>,
    pub package: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AndroidFacts {
    pub debuggable: Option<bool>,
    pub allow_backup: Option<bool>,
    pub uses_cleartext_traffic: Option<bool>,
    /// Resource path of the network security config (`res/xml/...`), or the raw reference.
    pub network_security_config: Option<String>,
    pub test_only: Option<bool>,
    /// android:hasCode of `<application>` (absent means true: the app has code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_code: Option<bool>,
    /// android:name of `<application>` (custom Application class: packers live here).
    pub application_class: Option<String>,
    pub shared_user_id: Option<String>,
    pub components: Vec<Component>,
    /// `<queries>`: packages, intents and providers the app asks to see.
    pub queries: Queries,
    /// Every `<meta-data>` in the manifest (application and component level).
    pub meta_data: Vec<MetaData>,
    pub uses_features: Vec<String>,
    pub uses_libraries: Vec<String>,
    /// The network security config the manifest points to, decoded.
    pub network_security: Option<NetworkSecurity>,
}

/// What `res/xml/<network_security_config>.xml` allows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct NetworkSecurity {
    /// Entry path of the config.
    pub source: String,
    /// `cleartextTrafficPermitted` of `<base-config>`, when written.
    pub cleartext_default: Option<bool>,
    /// Domains whose `<domain-config>` permits cleartext (HTTP).
    pub cleartext_domains: Vec<String>,
    /// User-installed CAs are trusted outside `<debug-overrides>`: traffic can
    /// be intercepted by anyone who can add a CA to the device.
    pub trusts_user_certificates: bool,
    /// Domains with certificate pins.
    pub pinned_domains: Vec<String>,
    /// Every domain the config names (these are hosts too).
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Component {
    /// activity | activity-alias | service | receiver | provider
    pub kind: ComponentKind,
    pub name: String,
    /// Effective exported state (explicit attribute, else the implicit rule).
    pub exported: bool,
    /// Whether `exported` was written in the manifest.
    pub exported_explicit: bool,
    pub permission: Option<String>,
    pub enabled: Option<bool>,
    /// Provider authorities.
    pub authorities: Vec<String>,
    pub intent_filters: Vec<IntentFilter>,
}

string_enum! {
    /// The manifest element a component is declared with.
    #[derive(Default)]
    pub enum ComponentKind {
        // Only so that `Component` has a default (tests build components field by field).
        #[default]
        Activity = "activity",
        ActivityAlias = "activity-alias",
        Service = "service",
        Receiver = "receiver",
        Provider = "provider",
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct IntentFilter {
    pub actions: Vec<String>,
    pub categories: Vec<String>,
    /// `scheme://host:port/path` fragments of `<data>` elements, as written.
    pub data: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Queries {
    pub packages: Vec<String>,
    pub intents: Vec<IntentFilter>,
    pub providers: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct MetaData {
    pub name: String,
    pub value: Option<String>,
    pub resource: Option<String>,
    /// Component the entry sits in; null at application level.
    pub component: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Permission {
    pub name: String,
    /// AOSP protection level (normal, dangerous, signature, ...), or null if unknown.
    pub protection: Option<String>,
    /// Where the request comes from: `uses-permission`, `uses-permission-sdk-23`,
    /// with the split entry for bundles (`split_config.arm64_v8a.apk!uses-permission`).
    pub source: String,
    pub max_sdk_version: Option<u32>,
    /// The text shown to the user (iOS usage descriptions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Code {
    pub dex: Vec<DexSummary>,
    pub native: Vec<NativeSummary>,
    pub macho: Vec<MachoSummary>,
    /// Library versions the app records: `META-INF/<group>_<artifact>.version`
    /// files (AndroidX, Firebase, Play services, Kotlin coroutines ...) and
    /// the Info.plist of embedded frameworks. The SBOM's versions come from here.
    #[serde(default)]
    pub library_versions: Vec<LibraryVersion>,
}

/// iOS bundle facts (Info.plist, extensions, provisioning, privacy manifests).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct IosFacts {
    /// The app bundle's path in the archive (`Payload/App.app/`).
    pub bundle: String,
    /// CFBundleExecutable.
    pub executable: Option<String>,
    /// binary | xml
    pub info_plist_format: Option<String>,
    pub display_name: Option<String>,
    pub bundle_name: Option<String>,
    /// CFBundleSupportedPlatforms.
    pub supported_platforms: Vec<String>,
    /// UIDeviceFamily (1 iPhone, 2 iPad, ...).
    pub device_family: Vec<i64>,
    /// UIBackgroundModes (location, audio, voip, bluetooth-central ...).
    pub background_modes: Vec<String>,
    pub app_transport_security: Option<AppTransportSecurity>,
    /// LSApplicationQueriesSchemes: other apps this one probes for.
    pub queried_schemes: Vec<String>,
    /// CFBundleURLTypes schemes this app handles.
    pub url_schemes: Vec<String>,
    /// Info.plist keys that identify SDKs (FacebookAppID, GADApplicationIdentifier ...).
    pub sdk_keys: Vec<PlistKey>,
    /// App extensions (PlugIns/*.appex).
    pub extensions: Vec<AppExtension>,
    /// Embedded frameworks and dylibs (`Frameworks/...`).
    pub frameworks: Vec<String>,
    /// Entitlements of the main executable's code signature.
    pub entitlements: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    pub provisioning: Option<ProvisioningProfile>,
    pub privacy_manifests: Vec<PrivacyManifest>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AppTransportSecurity {
    pub allows_arbitrary_loads: Option<bool>,
    pub allows_arbitrary_loads_in_web_content: Option<bool>,
    pub allows_local_networking: Option<bool>,
    pub exception_domains: Vec<AtsException>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AtsException {
    pub domain: String,
    pub allows_insecure_http: bool,
    pub includes_subdomains: bool,
    pub minimum_tls_version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PlistKey {
    pub key: String,
    pub value: Option<String>,
    /// Entry path of the plist.
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AppExtension {
    /// Bundle path (`Payload/App.app/PlugIns/Keyboard.appex/`).
    pub entry: String,
    pub bundle_id: Option<String>,
    /// NSExtensionPointIdentifier (com.apple.keyboard-service, com.apple.widgetkit-extension ...).
    pub extension_point: Option<String>,
    pub executable: Option<String>,
    /// Usage-description keys the extension declares.
    pub usage_descriptions: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PrivacyManifest {
    pub entry: String,
    pub tracking: Option<bool>,
    pub tracking_domains: Vec<String>,
    pub collected_data: Vec<CollectedDataType>,
    pub accessed_apis: Vec<AccessedApi>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct CollectedDataType {
    pub data_type: String,
    pub linked: Option<bool>,
    pub tracking: Option<bool>,
    pub purposes: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AccessedApi {
    pub api_type: String,
    pub reasons: Vec<String>,
}
