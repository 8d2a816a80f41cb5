//! The report: one typed model (`schema: "appvet/report/v1"`) that every
//! renderer reads. Field names listed in DESIGN.md are a contract; new fields
//! may be added, none renamed without a schema bump.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::party::{Party, Reach};
use crate::string_enum::string_enum;

// Parsers and the diagnostics they raise sit below the report: the model
// embeds their summaries as they are, so the JSON stays one document.
pub use crate::diagnostic::{Diagnostic, Level};
pub use crate::formats::summary::{
    Certificate, DexSummary, Distribution, LibraryVersion, MachoSlice, MachoSummary, NativeSummary,
    ProvisioningProfile, SchemeResult, Signing,
};

pub use super::app::*;

pub const SCHEMA: &str = "appvet/report/v1";

/// One analysed input.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Report {
    /// Always [`SCHEMA`].
    #[schemars(extend("const" = "appvet/report/v1"))]
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
    /// What could not be read. Every policy sends an incomplete analysis to
    /// review at least: what was not seen cannot be approved.
    #[serde(default)]
    pub analysis: Analysis,
    pub verdict: Option<Verdict>,
    /// APKs (or other archives) found inside this one, each analysed.
    pub embedded: Vec<EmbeddedApp>,
    /// Everything unusual seen while reading: anomalies are findings.
    pub diagnostics: Vec<Diagnostic>,
    /// Packers, protectors, obfuscators and anti-analysis code, each from
    /// the artefacts it leaves (filled by the signatures stage). A packer
    /// means the real code was not seen.
    #[serde(default)]
    pub protections: Vec<Protection>,
}

/// A packer, protector, obfuscator or anti-analysis technique and why it
/// is named.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Protection {
    pub kind: ProtectionKind,
    /// The product (`360 Jiagu`, `DexGuard`) or, for an unidentified one,
    /// what it does (`unidentified packer`).
    pub name: String,
    pub evidence: Vec<Evidence>,
}

string_enum! {
    /// What a protection does to the analysis.
    pub enum ProtectionKind {
        /// The real code is encrypted or loaded at run time (it was not seen).
        Packer = "packer",
        /// Code is hardened (encrypted strings or classes, tamper checks) but present.
        Protector = "protector",
        /// Names are renamed: SDKs are found from signals that survive renaming.
        Obfuscator = "obfuscator",
        /// Checks for debuggers, emulators or instrumentation.
        AntiAnalysis = "anti_analysis",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
    pub signatures_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Input {
    pub path: String,
    /// Lower-case hex SHA-256 of the whole file.
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: String,
    pub size: u64,
    /// apk | xapk | apks | aab | ipa | app | dex | elf | macho | unknown
    pub kind: InputKind,
}

string_enum! {
    /// What the input (or an embedded archive) was read as.
    pub enum InputKind {
        Apk = "apk",
        Xapk = "xapk",
        /// APKS or APKM: split APKs in one archive.
        Apks = "apks",
        Aab = "aab",
        Ipa = "ipa",
        /// A zipped `.app` bundle.
        App = "app",
        Dex = "dex",
        Elf = "elf",
        Macho = "macho",
        /// Not recognised (only while scanning; a report is never of this kind).
        Unknown = "unknown",
    }
}

/// Whether everything the verdict rests on was read (policy stage).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Analysis {
    /// No gap: the app's identity, its code and the archive were read whole.
    /// False until the completeness check ran (a report that never went
    /// through it is not complete).
    pub complete: bool,
    pub gaps: Vec<Gap>,
}

impl Analysis {
    /// What is missing, each kind once, in the order of its name.
    pub fn gap_kinds(&self) -> Vec<GapKind> {
        let mut kinds: Vec<GapKind> = self.gaps.iter().map(|g| g.what).collect();
        kinds.sort_unstable_by_key(|k| k.as_str());
        kinds.dedup();
        kinds
    }
}

/// One part of the app the analysis could not read, and why.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Gap {
    pub what: GapKind,
    /// In words, with the entry or file concerned.
    pub why: String,
    /// The diagnostic code that shows it, when one does.
    pub diagnostic: Option<String>,
}

string_enum! {
    /// What an incomplete analysis is missing.
    pub enum GapKind {
        /// AndroidManifest.xml, Info.plist or resources.arsc could not be read (whole): the app's identity, permissions, components or labels are unknown.
        Manifest = "manifest",
        /// An IPA or .app without an app bundle.
        AppBundle = "app_bundle",
        /// The main executable named by Info.plist is not in the bundle.
        MainExecutable = "main_executable",
        /// A DEX, Mach-O or native library could not be read, in whole or in part.
        Code = "code",
        /// Code that is FairPlay-encrypted: its classes, symbols and strings are unreadable.
        EncryptedCode = "encrypted_code",
        /// A packer hides the app's real code.
        PackedCode = "packed_code",
        /// The app declares code but carries none that could be read.
        NoCode = "no_code",
        /// An embedded APK or split that could not be opened.
        NestedArchive = "nested_archive",
        /// The ZIP's central directory is missing or damaged: entries may be missing from what was read.
        Archive = "archive",
        /// Part of the archive was left unread under the resource limits.
        ResourceLimits = "resource_limits",
    }
}

/// Where something was seen: entry path, kind, value.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Evidence {
    /// Entry path inside the archive.
    pub source: String,
    /// class | api | string | library | framework | manifest | certificate | ...
    pub kind: EvidenceKind,
    pub value: String,
}

string_enum! {
    /// What an evidence item's value is.
    pub enum EvidenceKind {
        /// A class defined in DEX code, or an Objective-C class.
        Class = "class",
        /// A method referenced from DEX code.
        Api = "api",
        /// An imported Mach-O symbol.
        Symbol = "symbol",
        /// A DEX string.
        String = "string",
        /// A string in a native library.
        NativeString = "native-string",
        /// A native library (file name or DT_NEEDED).
        Library = "library",
        /// A linked iOS framework.
        Framework = "framework",
        /// An archive entry by its path.
        Entry = "entry",
        /// A manifest or Info.plist value.
        Manifest = "manifest",
        Asset = "asset",
        Resource = "resource",
        Entitlement = "entitlement",
        PrivacyManifest = "privacy-manifest",
        Certificate = "certificate",
        Permission = "permission",
        UsageDescription = "usage-description",
        /// A manifest component (activity, service, receiver, provider) or provider authority.
        Component = "component",
        IntentAction = "intent-action",
        /// A JNI function exported by a native library (`Java_com_umeng_...`).
        JniExport = "jni_export",
        /// A package the manifest's `<queries>` asks to see.
        Query = "query",
        /// An opaque entry of high entropy: encrypted or compressed data.
        Payload = "payload",
        /// A statistic over the app's class names (share of renamed classes).
        ClassNames = "class_names",
        /// An Info.plist key (LSApplicationQueriesSchemes).
        Config = "config",
        /// The app id, matched to a publisher.
        AppId = "app_id",
        Sdk = "sdk",
        Host = "host",
        Capability = "capability",
        Dex = "dex",
        /// An embedded app.
        Embedded = "embedded",
        /// A count of further matches not listed.
        More = "more",
        /// A chain of control from the signature database.
        Control = "control",
        // A publisher link's own kind, for a link that carries no evidence.
        PackagePrefix = "package_prefix",
        BundlePrefix = "bundle_prefix",
        Team = "team",
        AppIdCctld = "app_id_cctld",
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Sdk {
    pub id: String,
    pub name: String,
    pub exodus_id: Option<u32>,
    pub owner: Option<String>,
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    pub categories: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// Owner, its parent, ... up to the ultimate parent, each with its country.
    #[serde(default)]
    pub owner_chain: Vec<EntityRef>,
    /// Who controls the owner, and from which country (null: owner unknown).
    #[serde(default)]
    pub control: Option<super::Control>,
}

/// One company in an ownership chain, as the signature database records it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct EntityRef {
    /// Entity id in the signature database (`bytedance`).
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// Where the database has this entity and its country from.
    pub source: String,
    /// Country it is run from when not where it is registered.
    #[serde(default)]
    pub run_from: Option<String>,
    /// How the next entity in the chain holds this one (`wholly owned`,
    /// `acquired 2016-08`, `minority`); null at the top.
    #[serde(default)]
    pub link: Option<String>,
    /// Day the database's facts on this entity were last checked.
    #[serde(default)]
    pub as_of: Option<String>,
    /// A company, an open-source project that no company controls (no
    /// country), or a vendor whose company could not be identified.
    #[serde(default)]
    pub kind: EntityKind,
}

string_enum! {
    /// What an entity in the signature database is.
    #[derive(Default)]
    pub enum EntityKind {
        #[default]
        Company = "company",
        /// An open-source project no company controls: no country controls it.
        OpenSource = "open_source",
        /// A vendor known by its product name only: company and country not established.
        Unknown = "unknown",
    }
}

/// Publisher attribution: every link found, conflicting ones included.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Publisher {
    pub links: Vec<PublisherLink>,
}

/// One piece of evidence about who publishes the app.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PublisherLink {
    /// certificate | package_prefix | bundle_prefix | team | app_id_cctld
    pub kind: PublisherLinkKind,
    /// What was seen: a certificate subject, the app id, a team id.
    pub value: String,
    /// Entity name when the value maps to a known entity.
    pub entity: Option<String>,
    pub country: Option<String>,
    /// strong | medium | weak
    pub confidence: LinkConfidence,
    pub owner_chain: Vec<EntityRef>,
    pub evidence: Vec<Evidence>,
    /// Who controls the entity, and from which country.
    #[serde(default)]
    pub control: Option<super::Control>,
}

string_enum! {
    /// What a publisher link was read from.
    pub enum PublisherLinkKind {
        /// The signing certificate's subject (C= or O=).
        Certificate = "certificate",
        PackagePrefix = "package_prefix",
        BundlePrefix = "bundle_prefix",
        /// The Apple team id.
        Team = "team",
        /// A reverse-DNS app id starting with a country-code TLD.
        AppIdCctld = "app_id_cctld",
    }
}

impl PublisherLinkKind {
    /// The evidence kind a link without evidence items is shown with.
    pub fn evidence_kind(self) -> EvidenceKind {
        match self {
            PublisherLinkKind::Certificate => EvidenceKind::Certificate,
            PublisherLinkKind::PackagePrefix => EvidenceKind::PackagePrefix,
            PublisherLinkKind::BundlePrefix => EvidenceKind::BundlePrefix,
            PublisherLinkKind::Team => EvidenceKind::Team,
            PublisherLinkKind::AppIdCctld => EvidenceKind::AppIdCctld,
        }
    }
}

string_enum! {
    /// How sure a publisher link is.
    pub enum LinkConfidence {
        Strong = "strong",
        Medium = "medium",
        Weak = "weak",
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Host {
    /// Lower-case host name or IP literal.
    pub host: String,
    /// Registrable domain (public suffix + 1); null for IP literals.
    pub domain: Option<String>,
    pub owner: Option<String>,
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    /// URL schemes it was seen with (https, http, ws, ...).
    pub schemes: Vec<String>,
    pub ip: bool,
    /// Where it was seen (capped per host; `evidence_total` counts all).
    pub evidence: Vec<Evidence>,
    pub evidence_total: u32,
    /// Who controls the owner, and from which country.
    #[serde(default)]
    pub control: Option<super::Control>,

    /// The parties whose DEX code loads the host as a string constant (at most 10).
    #[serde(default)]
    pub referenced_by: Vec<Party>,
    /// Seen only as a bare dotted word in code strings, native strings or
    /// assets: never as a URL or e-mail address, never where hosts stand (a
    /// host-valued manifest or resource key, a network security config,
    /// associated domains, a privacy manifest). Its shape is all that makes it
    /// a host, so it gives no country by its TLD (see [`Host::bare_text_only`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weak: bool,
}

impl Host {
    /// Whether the evidence shows the host only as a bare dotted word in code
    /// text (strings, native strings, assets): no scheme, no IP literal, no
    /// sighting in a place that holds hosts. Read from the evidence rather
    /// than from [`Host::weak`] so a report stored before the field existed
    /// is judged the same way on rescore.
    pub fn bare_text_only(&self) -> bool {
        self.schemes.is_empty()
            && !self.ip
            && !self.evidence.is_empty()
            && self.evidence.iter().all(|e| {
                matches!(e.kind, EvidenceKind::String | EvidenceKind::NativeString | EvidenceKind::Asset)
            })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Capability {
    pub id: String,
    /// A permission, usage description, manifest component or entitlement asks for it.
    pub declared: bool,
    /// Code (API references, imported symbols) or an embedded SDK's category reaches it.
    pub observed: bool,
    /// Declared evidence first (kind permission | component | intent-action |
    /// usage-description), then observed (api | symbol | sdk); capped per kind.
    pub evidence: Vec<Evidence>,
    /// Human label (`Location (precise or approximate)`).
    pub label: String,
    /// Group that policies name: location | contacts | microphone | camera |
    /// messages | identifiers | input | screen | personal | control.
    pub data_class: String,
    /// `declared_unused` (declared, no code reaches it) or `used_undeclared`
    /// (code reaches a permission-gated capability the app does not declare:
    /// often SDK code, or a permission obtained another way); null otherwise.
    pub finding: Option<CapabilityFinding>,
    /// Whose code reaches it: one entry per party holding call sites of its APIs.
    #[serde(default)]
    pub reached_by: Vec<Reach>,
}

string_enum! {
    /// A capability the manifest and the code disagree on.
    pub enum CapabilityFinding {
        DeclaredUnused = "declared_unused",
        UsedUndeclared = "used_undeclared",
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Risk {
    pub data_collection: Score,
    pub jurisdiction: Score,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Score {
    /// 0 to 100.
    #[schemars(range(max = 100))]
    pub score: u32,
    pub factors: Vec<Factor>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Factor {
    /// Stable id (`data_collection.capability.location`,
    /// `jurisdiction.publisher.CN`, `jurisdiction.sdk_owner.<owner entity id>`).
    pub id: String,
    /// Points this factor adds to the score (weights come from `signatures/risk/weights.toml`).
    pub weight: u32,
    pub description: String,
    pub evidence: Vec<Evidence>,
    /// Jurisdiction factors: ISO 3166-1 alpha-2 country; null otherwise.
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    /// Jurisdiction factors: publisher | sdk_owner | host_owner; null otherwise.
    pub subject: Option<Subject>,
    /// Jurisdiction factors: how the country was attributed:
    /// certificate | entity | package_prefix | cctld; null otherwise.
    pub confidence: Option<AttributionConfidence>,
}

string_enum! {
    /// Who a jurisdiction attribution is about.
    pub enum Subject {
        Publisher = "publisher",
        SdkOwner = "sdk_owner",
        HostOwner = "host_owner",
    }
}

string_enum! {
    /// How a country was attributed, strongest first (the order is used).
    pub enum AttributionConfidence {
        Certificate = "certificate",
        Entity = "entity",
        PackagePrefix = "package_prefix",
        Cctld = "cctld",
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Verdict {
    /// approve | review | block, after exceptions.
    pub decision: Decision,
    /// Name of the policy applied (`nl-aivd`, or the file's `name`).
    pub policy: String,
    /// The policy's spy-sensitive criteria hold; reported even when an
    /// exception approves the app.
    pub spy_sensitive: bool,
    /// Ids of the spy-sensitive criteria that matched (details in `matched_criteria`).
    pub criteria: Vec<String>,
    /// One sentence per matched rule, naming the factors it rests on.
    pub reasons: Vec<String>,
    /// The decision the rules reached before any exception.
    pub decision_before_exceptions: Decision,
    /// The rules that matched, each with the factors it rests on.
    pub rules: Vec<RuleMatch>,
    /// The spy-sensitive criteria that matched, with factors and evidence.
    pub matched_criteria: Vec<CriterionMatch>,
    /// Exceptions naming this app: applied, or why not (expired, signer mismatch).
    pub exceptions: Vec<ExceptionOutcome>,
    /// The policy's countries of concern (ISO 3166-1 alpha-2); empty: the
    /// policy has no country rules (`baseline`), so a party's country alone
    /// never changes the decision. Reports stored before this field read as empty.
    #[serde(default)]
    pub countries: Vec<String>,
}

string_enum! {
    /// What a policy decides; ordered: the strictest matching rule wins.
    #[derive(Default)]
    pub enum Decision {
        Approve = "approve",
        Review = "review",
        // Only `Verdict::default()` uses it: fail closed.
        #[default]
        Block = "block",
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct RuleMatch {
    pub id: String,
    /// approve | review | block
    pub decision: Decision,
    pub description: String,
    /// Ids of `risk.*.factors[]` (or capabilities) the rule matched on.
    pub factors: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct CriterionMatch {
    /// `spy.publisher`, `spy.sdk_owner`, `spy.host_owner`.
    pub id: String,
    pub description: String,
    /// Jurisdiction factor ids and capability ids that make the criterion hold.
    pub factors: Vec<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ExceptionOutcome {
    pub app_id: String,
    pub signer_sha256: String,
    pub justification: String,
    /// Last day the exception is valid (YYYY-MM-DD).
    pub expires: String,
    /// applied | expired | signer_mismatch | signature_not_verified
    pub status: ExceptionStatus,
    /// The date the exception was checked against (YYYY-MM-DD).
    pub checked_on: String,
}

string_enum! {
    /// Whether an exception applied, and why not.
    pub enum ExceptionStatus {
        Applied = "applied",
        Expired = "expired",
        SignerMismatch = "signer_mismatch",
        /// The exception's signer signed the app, but the signature does not verify.
        SignatureNotVerified = "signature_not_verified",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct EmbeddedApp {
    /// Path of the inner archive (`assets/payload.apk`, nested with `!`).
    pub entry: String,
    pub sha256: String,
    pub kind: InputKind,
    pub package: Option<String>,
    pub version: Option<String>,
    pub permissions: Vec<String>,
    pub certificates: Vec<String>,
}
