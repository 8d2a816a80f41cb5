//! Mach-O executables and libraries (iOS app binaries, frameworks, dylibs),
//! thin or universal: per slice the CPU, file type, linked dylibs, rpaths,
//! minimum OS, FairPlay encryption state, code signature, imported symbols,
//! Objective-C class names and C strings.
//!
//! The universal header, the load-command walk and the sections are read
//! through the bounds-checked [`crate::reader`]; goblin decodes each load
//! command once its `cmdsize` has been checked against the load-command
//! area, so a broken command costs only itself. A panic inside goblin is
//! caught and reported as an error, as in `formats::elf`.
//!
//! The stages, one file each: `header` (universal and Mach headers, CPU
//! and platform names), `load_commands` (the command walk and segments),
//! `symbols` (imported symbols), `sections` (Objective-C class names and
//! C strings, Swift class demangling).

mod header;
mod load_commands;
mod sections;
mod symbols;

#[cfg(test)]
pub(crate) mod tests;

use crate::diagnostic::Diagnostic;
use crate::formats::codesign::CodeSignature;
use crate::formats::panic_guard::catch_panic;
use crate::formats::summary::{MachoSlice, MachoSummary};
use crate::reader::u32_be_at;

pub use header::{arch_name, FAT_MAGIC, FAT_MAGIC_64};
use header::{MH_CIGAM, MH_CIGAM_64, MH_MAGIC, MH_MAGIC_64};
pub use sections::{demangle_swift_class, MAX_STRINGS, MAX_STRINGS_BYTES};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MachoError {
    #[error("not a Mach-O file")]
    NotMacho,
    #[error("Mach-O header truncated or invalid: {0}")]
    BadHeader(String),
}

/// A linked library and the load command naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DylibRef {
    pub path: String,
    /// load | weak | reexport | lazy | upward
    pub kind: &'static str,
}

/// `LC_ENCRYPTION_INFO(_64)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encryption {
    pub cryptoff: u32,
    pub cryptsize: u32,
    pub cryptid: u32,
}

/// Minimum OS from `LC_BUILD_VERSION` or `LC_VERSION_MIN_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinOs {
    /// IOS, IOS_SIMULATOR, MACOS, TVOS, WATCHOS, MAC_CATALYST, ... (LIEF's names).
    pub platform: String,
    /// `X.Y.Z`
    pub version: String,
    pub sdk: Option<String>,
    /// BUILD_VERSION or VERSION_MIN_IPHONEOS etc.
    pub command: &'static str,
}

/// One architecture of a Mach-O file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slice {
    /// Offset of the slice in the file (0 for a thin file).
    pub offset: u64,
    pub size: u64,
    pub cpu_type: u32,
    pub cpu_subtype: u32,
    /// arm64, arm64e, armv7, armv7s, x86_64, i386, ...
    pub arch: String,
    pub bits: u8,
    /// MH_EXECUTE -> EXECUTE, MH_DYLIB -> DYLIB, ... (LIEF's names).
    pub file_type: String,
    pub flags: u32,
    pub dylibs: Vec<DylibRef>,
    pub id_dylib: Option<String>,
    pub rpaths: Vec<String>,
    pub min_os: Option<MinOs>,
    pub encryption: Option<Encryption>,
    pub uuid: Option<String>,
    pub segments: Vec<String>,
    pub code_signature: Option<CodeSignature>,
    /// Offset and size in the slice of `__TEXT,__info_plist`, the Info.plist
    /// embedded in a binary without a bundle.
    pub info_plist_section: Option<(u64, u64)>,
    /// Undefined external symbols (`_OBJC_CLASS_$_CLLocationManager`).
    pub imported_symbols: Vec<String>,
    /// Objective-C class names (`__objc_classname`), Swift ones demangled
    /// where cheap (`_TtC7MyApp4Main` -> `MyApp.Main`).
    pub objc_classes: Vec<String>,
    /// C strings from `__cstring` (bounded).
    pub strings: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Slice {
    pub fn encrypted(&self) -> bool {
        self.encryption.is_some_and(|e| e.cryptid != 0)
    }

    /// LC_LOAD_DYLIB and LC_LOAD_WEAK_DYLIB paths (what LIEF calls load and weak dylibs).
    pub fn linked_dylibs(&self) -> impl Iterator<Item = &str> {
        self.dylibs.iter().filter(|d| d.kind == "load" || d.kind == "weak").map(|d| d.path.as_str())
    }
}

/// A parsed Mach-O file: one slice when thin, several when universal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MachoFile {
    pub fat: bool,
    pub slices: Vec<Slice>,
    /// File-level diagnostics (slice ones are in each slice).
    pub diagnostics: Vec<Diagnostic>,
}

impl MachoFile {
    /// The report's view of this binary.
    pub fn summary(&self, entry: &str) -> MachoSummary {
        let mut dylibs: Vec<String> = Vec::new();
        let mut rpaths: Vec<String> = Vec::new();
        for s in &self.slices {
            for d in s.linked_dylibs() {
                if !dylibs.iter().any(|have| have == d) {
                    dylibs.push(d.to_string());
                }
            }
            for r in &s.rpaths {
                if !rpaths.contains(r) {
                    rpaths.push(r.clone());
                }
            }
        }
        let first = self.slices.first();
        let signature = self.slices.iter().find_map(|s| s.code_signature.as_ref());
        let cd = signature.and_then(CodeSignature::primary);
        MachoSummary {
            entry: entry.to_string(),
            arch: self.slices.iter().map(|s| s.arch.clone()).collect(),
            dylibs,
            encrypted: self.slices.iter().any(Slice::encrypted),
            fat: self.fat,
            file_type: first.map(|s| s.file_type.clone()),
            min_os: first.and_then(|s| s.min_os.as_ref()).map(|m| m.version.clone()),
            platform: first.and_then(|s| s.min_os.as_ref()).map(|m| m.platform.clone()),
            rpaths,
            signed: signature.is_some(),
            adhoc_signed: signature.map(CodeSignature::adhoc),
            signing_identifier: cd.and_then(|c| c.identifier.clone()),
            team_id: cd.and_then(|c| c.team_id.clone()),
            entitlements: signature.and_then(|s| s.entitlements.clone()),
            slices: self.slices.iter().map(slice_summary).collect(),
        }
    }
}

fn slice_summary(s: &Slice) -> MachoSlice {
    let cd = s.code_signature.as_ref().and_then(CodeSignature::primary);
    MachoSlice {
        arch: s.arch.clone(),
        cpu_type: s.cpu_type,
        cpu_subtype: s.cpu_subtype,
        offset: s.offset,
        size: s.size,
        file_type: s.file_type.clone(),
        min_os: s.min_os.as_ref().map(|m| m.version.clone()),
        sdk: s.min_os.as_ref().and_then(|m| m.sdk.clone()),
        platform: s.min_os.as_ref().map(|m| m.platform.clone()),
        dylibs: s.dylibs.iter().map(|d| format!("{} ({})", d.path, d.kind)).collect(),
        cryptid: s.encryption.map(|e| e.cryptid),
        uuid: s.uuid.clone(),
        hash_type: cd.map(|c| c.hash_type.clone()),
        code_signature_flags: cd.map(|c| c.flags),
        entitlements_form: s.code_signature.as_ref().and_then(|c| c.entitlements_form.clone()),
        imported_symbols: u32::try_from(s.imported_symbols.len()).unwrap_or(u32::MAX),
        objc_classes: u32::try_from(s.objc_classes.len()).unwrap_or(u32::MAX),
    }
}

/// Whether `data` starts like a Mach-O file (thin or universal).
pub fn is_macho(data: &[u8]) -> bool {
    matches!(
        u32_be_at(data, 0).ok(),
        Some(MH_MAGIC | MH_MAGIC_64 | MH_CIGAM | MH_CIGAM_64 | FAT_MAGIC | FAT_MAGIC_64)
    )
}

/// Parses a thin or universal Mach-O. Fails only when the file is not
/// Mach-O or its header is unreadable; everything else is a diagnostic.
pub fn parse(data: &[u8]) -> Result<MachoFile, MachoError> {
    let magic = u32_be_at(data, 0).ok().ok_or(MachoError::NotMacho)?;
    match magic {
        FAT_MAGIC | FAT_MAGIC_64 => header::parse_fat(data, magic == FAT_MAGIC_64),
        MH_MAGIC | MH_MAGIC_64 | MH_CIGAM | MH_CIGAM_64 => {
            let slice = parse_slice_guarded(data, 0)?;
            Ok(MachoFile { fat: false, slices: vec![slice], diagnostics: Vec::new() })
        }
        _ => Err(MachoError::NotMacho),
    }
}

/// Parses one slice, turning a panic inside goblin into an error.
fn parse_slice_guarded(data: &[u8], file_offset: u64) -> Result<Slice, MachoError> {
    catch_panic(|| load_commands::parse_slice(data, file_offset))
        .unwrap_or_else(|message| Err(MachoError::BadHeader(format!("parser panicked: {message}"))))
}
