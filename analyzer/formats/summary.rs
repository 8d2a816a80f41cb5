//! What the parsers hand up: the serde summaries of a DEX file, an ELF
//! library, a Mach-O binary, a provisioning profile, a signature and a
//! library version an app records. The report embeds them as they are
//! (`report::model` re-exports them), so the parsers never import the report.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::string_enum::string_enum;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Signing {
    /// One record per scheme found or required: v1, v2, v3, v3.1.
    pub schemes: Vec<SchemeResult>,
    /// Overall verdict as Android would install it for the app's SDK range,
    /// or as iOS would run it (every signed binary's code signature intact
    /// and chained to Apple's roots); null when there is nothing to verify
    /// (not a signed container) or, with `not_verifiable`, when it could not
    /// be checked.
    pub verified: Option<bool>,
    /// Why the signature could not be checked either way (FairPlay-encrypted
    /// code, an algorithm this build lacks, an unreadable main executable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_verifiable: Option<String>,
    pub certificates: Vec<Certificate>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SchemeResult {
    pub scheme: String,
    pub verified: bool,
    /// Why it does not verify.
    pub errors: Vec<String>,
    /// SHA-256 fingerprints of this scheme's signer certificates.
    pub signers: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
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
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    /// Subject O.
    pub organization: Option<String>,
    /// Android debug certificate (`CN=Android Debug`).
    pub debug: bool,
    /// Where it was found (`META-INF/CERT.RSA`, `APK Signing Block v2`).
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct NativeSummary {
    pub entry: String,
    pub arch: Option<String>,
    pub abi: Option<String>,
    pub needed: Vec<String>,
    pub imported_symbols: u32,
    pub exported_symbols: u32,
    pub soname: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct MachoSummary {
    /// Entry path (`Payload/App.app/App`), or the file name of a bare Mach-O.
    pub entry: String,
    /// One architecture per slice (arm64, armv7, x86_64 ...).
    pub arch: Vec<String>,
    /// LC_LOAD_DYLIB and LC_LOAD_WEAK_DYLIB paths over all slices (re-exported,
    /// lazy and upward ones are listed per slice).
    pub dylibs: Vec<String>,
    /// Any slice FairPlay-encrypted (cryptid != 0): its code and strings are unreadable.
    pub encrypted: bool,
    /// Universal (fat) file.
    #[serde(default)]
    pub fat: bool,
    /// EXECUTE | DYLIB | BUNDLE | ... of the first slice.
    #[serde(default)]
    pub file_type: Option<String>,
    /// Minimum OS of the first slice (`X.Y.Z`).
    #[serde(default)]
    pub min_os: Option<String>,
    /// IOS | IOS_SIMULATOR | MACOS | ... of the first slice.
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub rpaths: Vec<String>,
    /// Has an LC_CODE_SIGNATURE.
    #[serde(default)]
    pub signed: bool,
    /// Signed ad hoc (no signer certificate); null when unsigned.
    #[serde(default)]
    pub adhoc_signed: Option<bool>,
    /// CodeDirectory identifier.
    #[serde(default)]
    pub signing_identifier: Option<String>,
    /// CodeDirectory team identifier.
    #[serde(default)]
    pub team_id: Option<String>,
    /// Entitlements embedded in the code signature.
    #[serde(default)]
    pub entitlements: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub slices: Vec<MachoSlice>,
}

/// One architecture of a Mach-O file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct MachoSlice {
    pub arch: String,
    pub cpu_type: u32,
    pub cpu_subtype: u32,
    /// Offset and size in the file (0 and the file size when thin).
    pub offset: u64,
    pub size: u64,
    pub file_type: String,
    pub min_os: Option<String>,
    pub sdk: Option<String>,
    pub platform: Option<String>,
    /// Every linked library with its load command kind: `path (load|weak|reexport|lazy|upward)`.
    pub dylibs: Vec<String>,
    /// LC_ENCRYPTION_INFO(_64) cryptid; null when the command is absent.
    pub cryptid: Option<u32>,
    pub uuid: Option<String>,
    pub hash_type: Option<String>,
    pub code_signature_flags: Option<u32>,
    /// xml | der | xml+der
    pub entitlements_form: Option<String>,
    pub imported_symbols: u32,
    pub objc_classes: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ProvisioningProfile {
    pub entry: String,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub team_ids: Vec<String>,
    pub team_name: Option<String>,
    pub app_id_name: Option<String>,
    pub application_identifier: Option<String>,
    pub creation_date: Option<String>,
    pub expiration_date: Option<String>,
    /// app-store | ad-hoc | enterprise | development
    pub distribution: Distribution,
    pub provisioned_devices: u32,
    pub provisions_all_devices: bool,
    pub entitlements: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    pub developer_certificates: Vec<Certificate>,
}

string_enum! {
    /// How a provisioning profile lets the app be installed.
    pub enum Distribution {
        AppStore = "app-store",
        AdHoc = "ad-hoc",
        /// ProvisionsAllDevices: any device, no App Store review.
        Enterprise = "enterprise",
        Development = "development",
    }
}

/// One library version as the app records it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct LibraryVersion {
    /// Maven coordinates `group:artifact` (Android), or the framework's
    /// name (iOS, `TrackKit`).
    pub name: String,
    pub version: String,
    /// The framework's CFBundleIdentifier (iOS); null on Android.
    pub bundle_id: Option<String>,
    /// The entry it was read from.
    pub source: String,
}
