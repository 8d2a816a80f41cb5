//! The report: one typed model (`schema: "appvet/report/v1"`) that every
//! renderer reads. Field names listed in DESIGN.md are a contract; new fields
//! may be added, none renamed without a schema bump.

use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "appvet/report/v1";

/// One analysed input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    pub tool: Tool,
    pub input: Input,
    pub app: App,
    /// What the app requests (uses-permission, uses-permission-sdk-23).
    pub permissions: Vec<Permission>,
    pub signing: Signing,
    pub code: Code,
    /// SDKs found by the signature database (filled by the signatures stage).
    pub sdks: Vec<Sdk>,
    /// Network endpoints found in code, resources and manifest values.
    pub hosts: Vec<Host>,
    /// Who publishes the app: certificate subject, app-id prefix, Apple team,
    /// each a link to an entity / country with its confidence (signatures stage).
    #[serde(default)]
    pub publisher: Publisher,
    /// Data the app can reach (filled by the risk stage).
    pub capabilities: Vec<Capability>,
    pub risk: Risk,
    pub verdict: Option<Verdict>,
    /// APKs (or other archives) found inside this one, each analysed.
    pub embedded: Vec<EmbeddedApp>,
    /// Everything unusual seen while reading: anomalies are findings.
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
    pub signatures_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Input {
    pub path: String,
    /// Lower-case hex SHA-256 of the whole file.
    pub sha256: String,
    pub size: u64,
    /// apk | xapk | apks | aab | ipa | app | dex | elf | macho | unknown
    pub kind: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct App {
    /// android | ios | null when the input is a bare binary.
    pub platform: Option<String>,
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
    /// Split APKs merged into this report (XAPK / APKS / APKM), base first.
    pub splits: Vec<Split>,
}

/// An SDK level as written: a number, or a preview codename
/// (`minSdkVersion="VanillaIceCream"`), which the platform only accepts on a
/// matching preview build. Serialized as a number or a string.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DeclaredPermission {
    pub name: String,
    pub protection_level: Option<String>,
    pub group: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Split {
    pub entry: String,
    /// `split` attribute of the split's manifest; null for the base.
    pub split: Option<String>,
    pub package: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AndroidFacts {
    pub debuggable: Option<bool>,
    pub allow_backup: Option<bool>,
    pub uses_cleartext_traffic: Option<bool>,
    /// Resource path of the network security config (`res/xml/...`), or the raw reference.
    pub network_security_config: Option<String>,
    pub test_only: Option<bool>,
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
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Component {
    /// activity | activity-alias | service | receiver | provider
    pub kind: String,
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IntentFilter {
    pub actions: Vec<String>,
    pub categories: Vec<String>,
    /// `scheme://host:port/path` fragments of `<data>` elements, as written.
    pub data: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Queries {
    pub packages: Vec<String>,
    pub intents: Vec<IntentFilter>,
    pub providers: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MetaData {
    pub name: String,
    pub value: Option<String>,
    pub resource: Option<String>,
    /// Component the entry sits in; null at application level.
    pub component: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Permission {
    pub name: String,
    /// AOSP protection level (normal, dangerous, signature, ...), or null if unknown.
    pub protection: Option<String>,
    /// Where the request comes from: `uses-permission`, `uses-permission-sdk-23`,
    /// with the split entry for bundles (`split_config.arm64_v8a.apk!uses-permission`).
    pub source: String,
    pub max_sdk_version: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Signing {
    /// One record per scheme found or required: v1, v2, v3, v3.1.
    pub schemes: Vec<SchemeResult>,
    /// Overall verdict as Android would install it for the app's SDK range;
    /// null when there is nothing to verify (not a signed container).
    pub verified: Option<bool>,
    pub certificates: Vec<Certificate>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SchemeResult {
    pub scheme: String,
    pub verified: bool,
    /// Why it does not verify.
    pub errors: Vec<String>,
    /// SHA-256 fingerprints of this scheme's signer certificates.
    pub signers: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Certificate {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub key_algorithm: Option<String>,
    pub key_bits: Option<u32>,
    pub signature_algorithm: Option<String>,
    /// Lower-case hex SHA-256 of the DER certificate.
    pub sha256: String,
    pub sha1: String,
    /// Subject C, upper case.
    pub country: Option<String>,
    /// Subject O.
    pub organization: Option<String>,
    /// Android debug certificate (`CN=Android Debug`).
    pub debug: bool,
    /// Where it was found (`META-INF/CERT.RSA`, `APK Signing Block v2`).
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Code {
    pub dex: Vec<DexSummary>,
    pub native: Vec<NativeSummary>,
    pub macho: Vec<MachoSummary>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DexSummary {
    /// Entry path; nested paths joined with `!` (`assets/a.jar!classes.dex`).
    pub entry: String,
    pub version: Option<String>,
    pub strings: u32,
    pub types: u32,
    pub protos: u32,
    pub fields: u32,
    pub methods: u32,
    pub classes: u32,
    /// Loaded by the platform (`classes*.dex` at the root) or found elsewhere
    /// (dynamic code loading).
    pub primary: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NativeSummary {
    pub entry: String,
    pub arch: Option<String>,
    pub abi: Option<String>,
    pub needed: Vec<String>,
    pub imported_symbols: u32,
    pub exported_symbols: u32,
    pub soname: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MachoSummary {
    pub entry: String,
    pub arch: Vec<String>,
    pub dylibs: Vec<String>,
    pub encrypted: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    /// Entry path inside the archive.
    pub source: String,
    /// class | api | string | library | framework | manifest | certificate | url | ...
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Sdk {
    pub id: String,
    pub name: String,
    pub exodus_id: Option<u32>,
    pub owner: Option<String>,
    pub country: Option<String>,
    pub categories: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// Owner, its parent, ... up to the ultimate parent, each with its country.
    #[serde(default)]
    pub owner_chain: Vec<EntityRef>,
}

/// One company in an ownership chain, as the signature database records it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EntityRef {
    /// Entity id in the signature database (`bytedance`).
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// Where the database has this entity and its country from.
    pub source: String,
}

/// Publisher attribution: every link found, conflicting ones included.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Publisher {
    pub links: Vec<PublisherLink>,
}

/// One piece of evidence about who publishes the app.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PublisherLink {
    /// certificate | package_prefix | bundle_prefix | team | app_id_cctld
    pub kind: String,
    /// What was seen: a certificate subject, the app id, a team id.
    pub value: String,
    /// Entity name when the value maps to a known entity.
    pub entity: Option<String>,
    pub country: Option<String>,
    /// strong | medium | weak
    pub confidence: String,
    pub owner_chain: Vec<EntityRef>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Host {
    /// Lower-case host name or IP literal.
    pub host: String,
    /// Registrable domain (public suffix + 1); null for IP literals.
    pub domain: Option<String>,
    pub owner: Option<String>,
    pub country: Option<String>,
    /// URL schemes it was seen with (https, http, ws, ...).
    pub schemes: Vec<String>,
    pub ip: bool,
    /// Where it was seen (capped per host; `evidence_total` counts all).
    pub evidence: Vec<Evidence>,
    pub evidence_total: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Capability {
    pub id: String,
    pub declared: bool,
    pub observed: bool,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Risk {
    pub data_collection: Score,
    pub jurisdiction: Score,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Score {
    pub score: u32,
    pub factors: Vec<Factor>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Factor {
    pub id: String,
    pub weight: u32,
    pub description: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    /// approve | review | block
    pub decision: String,
    pub policy: String,
    pub spy_sensitive: bool,
    pub criteria: Vec<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmbeddedApp {
    /// Path of the inner archive (`assets/payload.apk`, nested with `!`).
    pub entry: String,
    pub sha256: String,
    pub kind: String,
    pub package: Option<String>,
    pub version: Option<String>,
    pub permissions: Vec<String>,
    pub certificates: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Diagnostic {
    pub level: Level,
    /// Stable dotted code (`zip.janus_prefix`, `axml.bad_chunk_size`), documented in the README.
    pub code: String,
    pub message: String,
    /// Entry path and/or offset, when known.
    pub location: Option<String>,
}

impl Diagnostic {
    pub fn new(level: Level, code: &str, message: impl Into<String>) -> Self {
        Diagnostic { level, code: code.to_string(), message: message.into(), location: None }
    }

    pub fn info(code: &str, message: impl Into<String>) -> Self {
        Self::new(Level::Info, code, message)
    }

    pub fn warning(code: &str, message: impl Into<String>) -> Self {
        Self::new(Level::Warning, code, message)
    }

    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self::new(Level::Error, code, message)
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}
