//! Mach-O executables and libraries (iOS app binaries, frameworks, dylibs),
//! thin or universal: per slice the CPU, file type, linked dylibs, rpaths,
//! minimum OS, FairPlay encryption state, code signature, imported symbols,
//! Objective-C class names and C strings.
//!
//! The universal header, the load-command walk and the sections are read
//! here through bounds-checked accessors; goblin decodes each load command
//! once its `cmdsize` has been checked against the load-command area, so a
//! broken command costs only itself. A panic inside goblin is caught and
//! reported as an error, as in `formats::elf`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use goblin::container::Endian;
use goblin::mach::load_command::{CommandVariant, LoadCommand};

use crate::diagnostic::Diagnostic;
use crate::formats::codesign::{self, CodeSignature};
use crate::formats::summary::{MachoSlice, MachoSummary};

pub const FAT_MAGIC: u32 = 0xcafe_babe;
pub const FAT_MAGIC_64: u32 = 0xcafe_babf;
const MH_MAGIC: u32 = 0xfeed_face;
const MH_MAGIC_64: u32 = 0xfeed_facf;
const MH_CIGAM: u32 = 0xcefa_edfe;
const MH_CIGAM_64: u32 = 0xcffa_edfe;

/// Most slices in a universal binary (real ones have two or three).
const MAX_SLICES: u32 = 32;
/// Most load commands walked per slice.
const MAX_LOAD_COMMANDS: u32 = 65_536;
/// Most sections read per segment.
const MAX_SECTIONS: u32 = 1024;
/// Most symbol table entries read per slice.
const MAX_SYMBOLS: u32 = 1 << 21;
/// Longest name read from a load command or the string table.
const MAX_NAME: usize = 4096;
/// At most this many C strings and class names are kept per slice.
pub const MAX_STRINGS: usize = 65_536;
/// At most this many bytes of C strings are kept per slice.
pub const MAX_STRINGS_BYTES: usize = 8 << 20;
/// Shortest C string kept (shorter ones cannot hold a host).
const MIN_STRING_LEN: usize = 4;

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

/// Apple's name for a CPU type and subtype.
pub fn arch_name(cpu_type: u32, cpu_subtype: u32) -> String {
    let sub = cpu_subtype & 0x00ff_ffff;
    match cpu_type {
        12 => match sub {
            6 => "armv6".into(),
            9 => "armv7".into(),
            10 => "armv7f".into(),
            11 => "armv7s".into(),
            12 => "armv7k".into(),
            14 => "armv6m".into(),
            15 => "armv7m".into(),
            16 => "armv7em".into(),
            _ => "arm".into(),
        },
        0x0100_000c => match sub {
            2 => "arm64e".into(),
            _ => "arm64".into(),
        },
        0x0200_000c => "arm64_32".into(),
        7 => "i386".into(),
        0x0100_0007 if sub == 8 => "x86_64h".into(),
        0x0100_0007 => "x86_64".into(),
        18 => "ppc".into(),
        0x0100_0012 => "ppc64".into(),
        other => format!("unknown({other:#x})"),
    }
}

fn file_type_name(t: u32) -> String {
    match t {
        1 => "OBJECT".into(),
        2 => "EXECUTE".into(),
        3 => "FVMLIB".into(),
        4 => "CORE".into(),
        5 => "PRELOAD".into(),
        6 => "DYLIB".into(),
        7 => "DYLINKER".into(),
        8 => "BUNDLE".into(),
        9 => "DYLIB_STUB".into(),
        10 => "DSYM".into(),
        11 => "KEXT_BUNDLE".into(),
        12 => "FILESET".into(),
        other => format!("UNKNOWN({other})"),
    }
}

fn platform_name(p: u32) -> String {
    match p {
        1 => "MACOS".into(),
        2 => "IOS".into(),
        3 => "TVOS".into(),
        4 => "WATCHOS".into(),
        5 => "BRIDGEOS".into(),
        6 => "MAC_CATALYST".into(),
        7 => "IOS_SIMULATOR".into(),
        8 => "TVOS_SIMULATOR".into(),
        9 => "WATCHOS_SIMULATOR".into(),
        10 => "DRIVERKIT".into(),
        11 => "VISIONOS".into(),
        12 => "VISIONOS_SIMULATOR".into(),
        other => format!("UNKNOWN({other})"),
    }
}

/// `xxxx.yy.zz` nibble-encoded version as `X.Y.Z`.
fn version_text(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

fn be32(data: &[u8], offset: usize) -> Option<u32> {
    let b: [u8; 4] = data.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn be64(data: &[u8], offset: usize) -> Option<u64> {
    let b: [u8; 8] = data.get(offset..offset.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// Whether `data` starts like a Mach-O file (thin or universal).
pub fn is_macho(data: &[u8]) -> bool {
    matches!(be32(data, 0), Some(MH_MAGIC | MH_MAGIC_64 | MH_CIGAM | MH_CIGAM_64 | FAT_MAGIC | FAT_MAGIC_64))
}

/// Parses a thin or universal Mach-O. Fails only when the file is not
/// Mach-O or its header is unreadable; everything else is a diagnostic.
pub fn parse(data: &[u8]) -> Result<MachoFile, MachoError> {
    let magic = be32(data, 0).ok_or(MachoError::NotMacho)?;
    match magic {
        FAT_MAGIC | FAT_MAGIC_64 => parse_fat(data, magic == FAT_MAGIC_64),
        MH_MAGIC | MH_MAGIC_64 | MH_CIGAM | MH_CIGAM_64 => {
            let slice = parse_slice_guarded(data, 0)?;
            Ok(MachoFile { fat: false, slices: vec![slice], diagnostics: Vec::new() })
        }
        _ => Err(MachoError::NotMacho),
    }
}

fn parse_fat(data: &[u8], is_64: bool) -> Result<MachoFile, MachoError> {
    let count = be32(data, 4).ok_or_else(|| MachoError::BadHeader("universal header truncated".into()))?;
    let entry_size: usize = if is_64 { 32 } else { 20 };
    if count == 0 || count > MAX_SLICES {
        // 0xcafebabe is also a Java class file's magic (major version >= 45 here).
        return Err(MachoError::BadHeader(format!("universal header claims {count} architectures")));
    }
    let mut file = MachoFile { fat: true, ..MachoFile::default() };
    for i in 0..count as usize {
        let at = 8 + i * entry_size;
        let fields = (|| {
            let cpu_type = be32(data, at)?;
            let cpu_subtype = be32(data, at + 4)?;
            let (offset, size) = if is_64 {
                (be64(data, at + 8)?, be64(data, at + 16)?)
            } else {
                (u64::from(be32(data, at + 8)?), u64::from(be32(data, at + 12)?))
            };
            Some((cpu_type, cpu_subtype, offset, size))
        })();
        let Some((cpu_type, cpu_subtype, offset, size)) = fields else {
            file.diagnostics.push(Diagnostic::error(
                "macho.fat_truncated",
                format!("universal header entry {i} runs past the end of the file"),
            ));
            break;
        };
        let arch = arch_name(cpu_type, cpu_subtype);
        let bytes = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(o, s)| data.get(o..o.checked_add(s)?));
        let Some(bytes) = bytes else {
            file.diagnostics.push(
                Diagnostic::error(
                    "macho.slice_out_of_bounds",
                    format!("{arch} slice ({size} bytes at {offset:#x}) runs past the end of the file"),
                )
                .at(format!("offset {offset:#x}")),
            );
            continue;
        };
        match parse_slice_guarded(bytes, offset) {
            Ok(mut slice) => {
                if slice.cpu_type != cpu_type || slice.cpu_subtype != cpu_subtype {
                    slice.diagnostics.push(Diagnostic::warning(
                        "macho.fat_cpu_mismatch",
                        format!("universal header says {arch}, the slice says {}", slice.arch),
                    ));
                }
                file.slices.push(slice);
            }
            Err(e) => file.diagnostics.push(
                Diagnostic::error("macho.bad_slice", format!("{arch} slice: {e}"))
                    .at(format!("offset {offset:#x}")),
            ),
        }
    }
    Ok(file)
}

fn parse_slice_guarded(data: &[u8], file_offset: u64) -> Result<Slice, MachoError> {
    match catch_unwind(AssertUnwindSafe(|| parse_slice(data, file_offset))) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(MachoError::BadHeader(format!("parser panicked: {message}")))
        }
    }
}

/// Byte-order aware reads within one slice.
#[derive(Clone, Copy)]
struct Order {
    little: bool,
}

impl Order {
    fn u32(self, data: &[u8], offset: usize) -> Option<u32> {
        let b: [u8; 4] = data.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }

    fn u64(self, data: &[u8], offset: usize) -> Option<u64> {
        let b: [u8; 8] = data.get(offset..offset.checked_add(8)?)?.try_into().ok()?;
        Some(if self.little { u64::from_le_bytes(b) } else { u64::from_be_bytes(b) })
    }
}

/// NUL-terminated text at `offset` inside `data` (bounded).
fn c_string(data: &[u8], offset: usize) -> Option<String> {
    let rest = data.get(offset..)?;
    let rest = rest.get(..rest.len().min(MAX_NAME)).unwrap_or(rest);
    let end = memchr::memchr(0, rest).unwrap_or(rest.len());
    Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
}

/// A section worth reading, located in the slice.
struct SectionRef {
    segment: String,
    name: String,
    offset: u32,
    size: u64,
    zerofill: bool,
}

fn fixed_name(bytes: &[u8]) -> String {
    let end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

fn parse_slice(data: &[u8], file_offset: u64) -> Result<Slice, MachoError> {
    let magic = be32(data, 0).ok_or(MachoError::NotMacho)?;
    let (is_64, little) = match magic {
        MH_MAGIC => (false, false),
        MH_MAGIC_64 => (true, false),
        MH_CIGAM => (false, true),
        MH_CIGAM_64 => (true, true),
        _ => return Err(MachoError::NotMacho),
    };
    let order = Order { little };
    let header_size: usize = if is_64 { 32 } else { 28 };
    let field =
        |i: usize| order.u32(data, 4 * i).ok_or_else(|| MachoError::BadHeader("header truncated".into()));
    let cpu_type = field(1)?;
    let cpu_subtype = field(2)?;
    let file_type = field(3)?;
    let ncmds = field(4)?;
    let sizeofcmds = field(5)?;
    let flags = field(6)?;
    if data.len() < header_size {
        return Err(MachoError::BadHeader("header truncated".into()));
    }
    let mut slice = Slice {
        offset: file_offset,
        size: data.len() as u64,
        cpu_type,
        cpu_subtype,
        arch: arch_name(cpu_type, cpu_subtype),
        bits: if is_64 { 64 } else { 32 },
        file_type: file_type_name(file_type),
        flags,
        ..Slice::default()
    };
    let commands_end = header_size.saturating_add(sizeofcmds as usize);
    let commands = match data.get(header_size..commands_end) {
        Some(c) => c,
        None => {
            slice.diagnostics.push(Diagnostic::error(
                "macho.load_commands_out_of_bounds",
                format!("{sizeofcmds} bytes of load commands do not fit in the file"),
            ));
            data.get(header_size..).unwrap_or_default()
        }
    };
    let mut ncmds = ncmds;
    if ncmds > MAX_LOAD_COMMANDS || ncmds as usize > commands.len() / 8 {
        slice.diagnostics.push(Diagnostic::error(
            "macho.bad_command_count",
            format!("{ncmds} load commands cannot fit in {} bytes", commands.len()),
        ));
        ncmds = ncmds.min((commands.len() / 8) as u32);
    }
    let endian = if little { Endian::Little } else { Endian::Big };
    let mut sections = Vec::new();
    let mut symtab = None;
    let mut code_signature = None;
    let mut pos = 0usize;
    for index in 0..ncmds {
        let (Some(cmd), Some(cmdsize)) = (order.u32(commands, pos), order.u32(commands, pos + 4)) else {
            slice.diagnostics.push(Diagnostic::error(
                "macho.load_commands_truncated",
                format!("load command {index} runs past the load-command area"),
            ));
            break;
        };
        let cmdsize = cmdsize as usize;
        let Some(bytes) = commands.get(pos..pos.saturating_add(cmdsize)).filter(|_| cmdsize >= 8) else {
            slice.diagnostics.push(
                Diagnostic::error(
                    "macho.bad_command_size",
                    format!("load command {index} ({cmd:#x}) has size {cmdsize}, which does not fit"),
                )
                .at(format!("offset {:#x}", header_size + pos)),
            );
            break;
        };
        let mut local = 0usize;
        match LoadCommand::parse(bytes, &mut local, endian) {
            Ok(lc) => read_command(
                &lc.command,
                bytes,
                order,
                &mut slice,
                &mut sections,
                &mut symtab,
                &mut code_signature,
            ),
            Err(e) => slice.diagnostics.push(
                Diagnostic::warning(
                    "macho.bad_load_command",
                    format!("load command {index} ({cmd:#x}): {e}"),
                )
                .at(format!("offset {:#x}", header_size + pos)),
            ),
        }
        pos += cmdsize;
    }
    if let Some((offset, size)) = code_signature {
        match data.get(offset as usize..(offset as usize).saturating_add(size as usize)) {
            Some(bytes) => slice.code_signature = Some(codesign::parse(bytes)),
            None => slice.diagnostics.push(Diagnostic::error(
                "macho.code_signature_out_of_bounds",
                format!("code signature ({size} bytes at {offset:#x}) runs past the end"),
            )),
        }
    }
    if let Some((symoff, nsyms, stroff, strsize)) = symtab {
        read_symbols(data, order, is_64, symoff, nsyms, stroff, strsize, &mut slice);
    }
    read_sections(data, &sections, &mut slice);
    Ok(slice)
}

#[allow(clippy::too_many_arguments)]
fn read_command(
    command: &CommandVariant,
    bytes: &[u8],
    order: Order,
    slice: &mut Slice,
    sections: &mut Vec<SectionRef>,
    symtab: &mut Option<(u32, u32, u32, u32)>,
    code_signature: &mut Option<(u32, u32)>,
) {
    let dylib =
        |name_offset: u32, kind: &'static str, slice: &mut Slice| match c_string(bytes, name_offset as usize)
        {
            Some(path) => slice.dylibs.push(DylibRef { path, kind }),
            None => slice.diagnostics.push(Diagnostic::warning(
                "macho.bad_dylib_name",
                format!("{kind} dylib name offset {name_offset} lies outside its command"),
            )),
        };
    match command {
        CommandVariant::LoadDylib(c) => dylib(c.dylib.name, "load", slice),
        CommandVariant::LoadWeakDylib(c) => dylib(c.dylib.name, "weak", slice),
        CommandVariant::ReexportDylib(c) => dylib(c.dylib.name, "reexport", slice),
        CommandVariant::LazyLoadDylib(c) => dylib(c.dylib.name, "lazy", slice),
        CommandVariant::LoadUpwardDylib(c) => dylib(c.dylib.name, "upward", slice),
        CommandVariant::IdDylib(c) => slice.id_dylib = c_string(bytes, c.dylib.name as usize),
        CommandVariant::Rpath(c) => {
            if let Some(p) = c_string(bytes, c.path as usize) {
                slice.rpaths.push(p);
            }
        }
        CommandVariant::EncryptionInfo32(c) => {
            slice.encryption =
                Some(Encryption { cryptoff: c.cryptoff, cryptsize: c.cryptsize, cryptid: c.cryptid })
        }
        CommandVariant::EncryptionInfo64(c) => {
            slice.encryption =
                Some(Encryption { cryptoff: c.cryptoff, cryptsize: c.cryptsize, cryptid: c.cryptid })
        }
        CommandVariant::CodeSignature(c) => *code_signature = Some((c.dataoff, c.datasize)),
        CommandVariant::Symtab(c) => *symtab = Some((c.symoff, c.nsyms, c.stroff, c.strsize)),
        CommandVariant::Uuid(c) => slice.uuid = Some(hex::encode(c.uuid)),
        CommandVariant::BuildVersion(c) => {
            slice.min_os = Some(MinOs {
                platform: platform_name(c.platform),
                version: version_text(c.minos),
                sdk: Some(version_text(c.sdk)),
                command: "BUILD_VERSION",
            })
        }
        CommandVariant::VersionMinIphoneos(c)
        | CommandVariant::VersionMinMacosx(c)
        | CommandVariant::VersionMinTvos(c)
        | CommandVariant::VersionMinWatchos(c) => {
            // LC_BUILD_VERSION wins when both are present (as dyld decides).
            if slice.min_os.as_ref().is_some_and(|m| m.command == "BUILD_VERSION") {
                return;
            }
            let (platform, name) = match command {
                CommandVariant::VersionMinIphoneos(_) => ("IOS", "VERSION_MIN_IPHONEOS"),
                CommandVariant::VersionMinMacosx(_) => ("MACOS", "VERSION_MIN_MACOSX"),
                CommandVariant::VersionMinTvos(_) => ("TVOS", "VERSION_MIN_TVOS"),
                _ => ("WATCHOS", "VERSION_MIN_WATCHOS"),
            };
            slice.min_os = Some(MinOs {
                platform: platform.into(),
                version: version_text(c.version),
                sdk: Some(version_text(c.sdk)),
                command: name,
            });
        }
        CommandVariant::Segment32(c) => segment(bytes, order, false, &c.segname, c.nsects, slice, sections),
        CommandVariant::Segment64(c) => segment(bytes, order, true, &c.segname, c.nsects, slice, sections),
        _ => {}
    }
}

fn segment(
    bytes: &[u8],
    order: Order,
    is_64: bool,
    segname: &[u8; 16],
    nsects: u32,
    slice: &mut Slice,
    sections: &mut Vec<SectionRef>,
) {
    let segment = fixed_name(segname);
    let (header, entry) = if is_64 { (72usize, 80usize) } else { (56, 68) };
    let fit = (bytes.len().saturating_sub(header) / entry) as u32;
    if nsects > fit.min(MAX_SECTIONS) {
        slice.diagnostics.push(Diagnostic::warning(
            "macho.bad_section_count",
            format!("segment {segment} claims {nsects} sections, its command holds {fit}"),
        ));
    }
    for i in 0..nsects.min(fit).min(MAX_SECTIONS) as usize {
        let at = header + i * entry;
        let Some(raw) = bytes.get(at..at + entry) else { break };
        let name = fixed_name(raw.get(0..16).unwrap_or_default());
        let seg = fixed_name(raw.get(16..32).unwrap_or_default());
        let (size, offset, flags) = if is_64 {
            (order.u64(raw, 40), order.u32(raw, 48), order.u32(raw, 64))
        } else {
            (order.u32(raw, 36).map(u64::from), order.u32(raw, 40), order.u32(raw, 56))
        };
        let section_type = flags.unwrap_or(0) & 0xff;
        sections.push(SectionRef {
            segment: seg,
            name,
            offset: offset.unwrap_or(0),
            size: size.unwrap_or(0),
            // S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL occupy no file space.
            zerofill: matches!(section_type, 0x1 | 0xc | 0x12),
        });
    }
    slice.segments.push(segment);
}

#[allow(clippy::too_many_arguments)]
fn read_symbols(
    data: &[u8],
    order: Order,
    is_64: bool,
    symoff: u32,
    nsyms: u32,
    stroff: u32,
    strsize: u32,
    slice: &mut Slice,
) {
    let entry = if is_64 { 16usize } else { 12 };
    let Some(strtab) = data.get(stroff as usize..(stroff as usize).saturating_add(strsize as usize)) else {
        slice
            .diagnostics
            .push(Diagnostic::error("macho.bad_string_table", "symbol string table runs past the end"));
        return;
    };
    let fits = (nsyms as usize)
        .checked_mul(entry)
        .and_then(|n| n.checked_add(symoff as usize))
        .is_some_and(|end| end <= data.len());
    if !fits || nsyms > MAX_SYMBOLS {
        slice.diagnostics.push(Diagnostic::error(
            "macho.bad_symbol_table",
            format!("{nsyms} symbols at {symoff:#x} do not fit in the file"),
        ));
        return;
    }
    for i in 0..nsyms as usize {
        let at = symoff as usize + i * entry;
        let (Some(strx), Some(&n_type), Some(&n_sect)) =
            (order.u32(data, at), data.get(at + 4), data.get(at + 5))
        else {
            break;
        };
        // Undefined, external, not a debugging entry: what the binary imports.
        if n_type & 0xe0 != 0 || n_type & 0x0e != 0 || n_type & 0x01 == 0 || n_sect != 0 {
            continue;
        }
        if let Some(name) = c_string(strtab, strx as usize).filter(|n| !n.is_empty()) {
            slice.imported_symbols.push(name);
        }
    }
    slice.imported_symbols.sort_unstable();
    slice.imported_symbols.dedup();
}

fn read_sections(data: &[u8], sections: &[SectionRef], slice: &mut Slice) {
    let encrypted = slice.encryption.filter(|e| e.cryptid != 0);
    let mut budget = StringBudget::default();
    let mut hidden = 0usize;
    for s in sections {
        let wanted = matches!(s.name.as_str(), "__objc_classname" | "__cstring");
        if !wanted || s.zerofill || s.size == 0 {
            continue;
        }
        let start = s.offset as usize;
        let end = usize::try_from(s.size).ok().and_then(|n| start.checked_add(n));
        let Some(bytes) = end.and_then(|end| data.get(start..end)) else {
            slice.diagnostics.push(Diagnostic::warning(
                "macho.section_out_of_bounds",
                format!("section {},{} runs past the end of the file", s.segment, s.name),
            ));
            continue;
        };
        if let Some(e) = encrypted {
            let (lo, hi) = (e.cryptoff as u64, u64::from(e.cryptoff) + u64::from(e.cryptsize));
            if (start as u64) < hi && (start as u64 + s.size) > lo {
                hidden += 1;
                continue;
            }
        }
        let classes = s.name == "__objc_classname";
        for raw in bytes.split(|&b| b == 0) {
            if raw.len() < if classes { 1 } else { MIN_STRING_LEN } {
                continue;
            }
            if !budget.take(raw.len()) {
                slice.diagnostics.push(Diagnostic::warning(
                    "macho.strings_truncated",
                    format!("string extraction stopped at {MAX_STRINGS} strings / {MAX_STRINGS_BYTES} bytes"),
                ));
                return;
            }
            let text = String::from_utf8_lossy(raw).into_owned();
            if classes {
                slice.objc_classes.push(demangle_swift_class(&text).unwrap_or(text));
            } else {
                slice.strings.push(text);
            }
        }
    }
    if hidden > 0 {
        slice.diagnostics.push(Diagnostic::warning(
            "macho.encrypted",
            format!(
                "{} slice is FairPlay-encrypted (cryptid {}): its class names and strings cannot be read \
                 ({hidden} sections hidden); linked libraries and imported symbols are still visible",
                slice.arch,
                encrypted.map(|e| e.cryptid).unwrap_or(0)
            ),
        ));
    }
}

#[derive(Default)]
struct StringBudget {
    count: usize,
    bytes: usize,
}

impl StringBudget {
    fn take(&mut self, len: usize) -> bool {
        if self.count >= MAX_STRINGS || self.bytes.saturating_add(len) > MAX_STRINGS_BYTES {
            return false;
        }
        self.count += 1;
        self.bytes += len;
        true
    }
}

/// `_TtC7MyModule9ClassName` -> `MyModule.ClassName` (the ObjC runtime name
/// of a Swift class); other mangled forms are left alone.
pub fn demangle_swift_class(name: &str) -> Option<String> {
    let rest = name.strip_prefix("_TtC")?;
    let mut parts = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() && parts.len() < 8 {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let len: usize = rest.get(..digits)?.parse().ok()?;
        let part = rest.get(digits..digits.checked_add(len)?)?;
        parts.push(part);
        rest = rest.get(digits + len..)?;
    }
    (parts.len() >= 2 && rest.is_empty()).then(|| parts.join("."))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A hand-built little-endian arm64 executable: a __TEXT segment with
    /// __cstring and __objc_classname, LC_LOAD_DYLIB + weak, LC_RPATH,
    /// LC_BUILD_VERSION, LC_ENCRYPTION_INFO_64 (cryptid 0), a symbol table
    /// with one import, and a code signature holding a CodeDirectory.
    pub(crate) fn sample() -> Vec<u8> {
        let cstrings = b"https://api.example.cn/track\0hi\0Loaded %@\0".to_vec();
        let classnames = b"AppDelegate\0_TtC4Demo14ViewController\0".to_vec();
        let strtab = b"\0_OBJC_CLASS_$_CLLocationManager\0_main\0".to_vec();
        let mut cmds: Vec<Vec<u8>> = Vec::new();
        let text_at = 0x400usize;
        let class_at = text_at + cstrings.len();
        let sym_at = 0x600usize;
        let str_at = sym_at + 32;
        let sig_at = 0x700usize;
        // segment with two sections
        let mut seg = Vec::new();
        seg.extend_from_slice(&0x19u32.to_le_bytes());
        seg.extend_from_slice(&(72u32 + 2 * 80).to_le_bytes());
        let mut name = [0u8; 16];
        name[..6].copy_from_slice(b"__TEXT");
        seg.extend_from_slice(&name);
        seg.extend_from_slice(&[0u8; 32]); // vmaddr, vmsize, fileoff, filesize
        seg.extend_from_slice(&[0u8; 8]); // maxprot, initprot
        seg.extend_from_slice(&2u32.to_le_bytes());
        seg.extend_from_slice(&0u32.to_le_bytes());
        for (sect, at, len) in
            [("__cstring", text_at, cstrings.len()), ("__objc_classname", class_at, classnames.len())]
        {
            let mut s = [0u8; 80];
            s[..sect.len()].copy_from_slice(sect.as_bytes());
            s[16..22].copy_from_slice(b"__TEXT");
            s[40..48].copy_from_slice(&(len as u64).to_le_bytes());
            s[48..52].copy_from_slice(&(at as u32).to_le_bytes());
            s[64..68].copy_from_slice(&2u32.to_le_bytes());
            seg.extend_from_slice(&s);
        }
        cmds.push(seg);
        let dylib = |cmd: u32, path: &str| {
            let mut c = Vec::new();
            let size = (24 + path.len() + 1).div_ceil(8) * 8;
            c.extend_from_slice(&cmd.to_le_bytes());
            c.extend_from_slice(&(size as u32).to_le_bytes());
            c.extend_from_slice(&24u32.to_le_bytes());
            c.extend_from_slice(&[0u8; 12]);
            c.extend_from_slice(path.as_bytes());
            c.resize(size, 0);
            c
        };
        cmds.push(dylib(0xc, "/System/Library/Frameworks/CoreLocation.framework/CoreLocation"));
        cmds.push(dylib(0x8000_0018, "@rpath/Tracker.framework/Tracker"));
        let mut rpath = Vec::new();
        rpath.extend_from_slice(&0x8000_001cu32.to_le_bytes());
        rpath.extend_from_slice(&40u32.to_le_bytes());
        rpath.extend_from_slice(&12u32.to_le_bytes());
        rpath.extend_from_slice(b"@executable_path/Frameworks\0");
        rpath.resize(40, 0);
        cmds.push(rpath);
        let mut build = Vec::new();
        for v in [0x32u32, 24, 2, 0x000e_0000, 0x0011_0200, 0] {
            build.extend_from_slice(&v.to_le_bytes());
        }
        cmds.push(build);
        let mut enc = Vec::new();
        for v in [0x2cu32, 24, 0x4000, 0x4000, 0, 0] {
            enc.extend_from_slice(&v.to_le_bytes());
        }
        cmds.push(enc);
        let mut symtab = Vec::new();
        for v in [2u32, 24, sym_at as u32, 2, str_at as u32, strtab.len() as u32] {
            symtab.extend_from_slice(&v.to_le_bytes());
        }
        cmds.push(symtab);
        let signature = {
            let ident = b"com.example.demo\0";
            let mut cd = vec![0u8; 48];
            cd[0..4].copy_from_slice(&0xfade_0c02u32.to_be_bytes());
            cd[4..8].copy_from_slice(&((48 + ident.len()) as u32).to_be_bytes());
            cd[8..12].copy_from_slice(&0x20100u32.to_be_bytes());
            cd[12..16].copy_from_slice(&2u32.to_be_bytes());
            cd[20..24].copy_from_slice(&48u32.to_be_bytes());
            cd[37] = 2;
            cd.extend_from_slice(ident);
            let mut sb = 0xfade_0cc0u32.to_be_bytes().to_vec();
            sb.extend_from_slice(&((20 + cd.len()) as u32).to_be_bytes());
            sb.extend_from_slice(&1u32.to_be_bytes());
            sb.extend_from_slice(&0u32.to_be_bytes());
            sb.extend_from_slice(&20u32.to_be_bytes());
            sb.extend(cd);
            sb
        };
        let mut cs = Vec::new();
        for v in [0x1du32, 16, sig_at as u32, signature.len() as u32] {
            cs.extend_from_slice(&v.to_le_bytes());
        }
        cmds.push(cs);

        let sizeofcmds: usize = cmds.iter().map(Vec::len).sum();
        let mut out = Vec::new();
        for v in [MH_MAGIC_64, 0x0100_000c, 0, 2, cmds.len() as u32, sizeofcmds as u32, 0x0020_0085, 0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for c in &cmds {
            out.extend_from_slice(c);
        }
        out.resize(text_at, 0);
        out.extend_from_slice(&cstrings);
        out.extend_from_slice(&classnames);
        out.resize(sym_at, 0);
        // nlist_64: strx, type, sect, desc, value
        let nlist = |strx: u32, n_type: u8, n_sect: u8| {
            let mut n = strx.to_le_bytes().to_vec();
            n.extend_from_slice(&[n_type, n_sect, 0, 0]);
            n.extend_from_slice(&0u64.to_le_bytes());
            n
        };
        out.extend(nlist(1, 0x01, 0));
        out.extend(nlist(33, 0x0f, 1));
        out.extend_from_slice(&strtab);
        out.resize(sig_at, 0);
        out.extend_from_slice(&signature);
        out
    }

    fn fat(slices: &[&[u8]]) -> Vec<u8> {
        let mut out = FAT_MAGIC.to_be_bytes().to_vec();
        out.extend_from_slice(&(slices.len() as u32).to_be_bytes());
        let mut offset = 0x1000usize;
        let mut body = Vec::new();
        for s in slices {
            for v in [0x0100_000cu32, 0, offset as u32, s.len() as u32, 12] {
                out.extend_from_slice(&v.to_be_bytes());
            }
            body.resize(offset - 0x1000, 0);
            body.extend_from_slice(s);
            offset = 0x1000 + body.len().div_ceil(0x1000) * 0x1000;
        }
        out.resize(0x1000, 0);
        out.extend(body);
        out
    }

    #[test]
    fn reads_a_thin_arm64_executable() {
        let file = parse(&sample()).unwrap();
        assert!(!file.fat);
        let s = &file.slices[0];
        assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
        assert_eq!(s.arch, "arm64");
        assert_eq!(s.file_type, "EXECUTE");
        assert_eq!(s.linked_dylibs().collect::<Vec<_>>().len(), 2);
        assert_eq!(s.dylibs[1].kind, "weak");
        assert_eq!(s.rpaths, ["@executable_path/Frameworks"]);
        let min = s.min_os.as_ref().unwrap();
        assert_eq!((min.platform.as_str(), min.version.as_str()), ("IOS", "14.0.0"));
        assert_eq!(min.sdk.as_deref(), Some("17.2.0"));
        assert!(!s.encrypted());
        assert_eq!(s.imported_symbols, ["_OBJC_CLASS_$_CLLocationManager"]);
        assert_eq!(s.objc_classes, ["AppDelegate", "Demo.ViewController"]);
        assert_eq!(s.strings, ["https://api.example.cn/track", "Loaded %@"]);
        let cd = s.code_signature.as_ref().unwrap().primary().unwrap();
        assert_eq!(cd.identifier.as_deref(), Some("com.example.demo"));
        let summary = file.summary("Payload/Demo.app/Demo");
        assert_eq!(summary.arch, ["arm64"]);
        assert_eq!(summary.min_os.as_deref(), Some("14.0.0"));
        assert_eq!(summary.adhoc_signed, Some(true));
    }

    #[test]
    fn reads_every_slice_of_a_universal_binary() {
        let thin = sample();
        let file = parse(&fat(&[&thin, &thin])).unwrap();
        assert!(file.fat);
        assert_eq!(file.slices.len(), 2);
        assert_eq!(file.slices[1].offset, 0x1000 + thin.len().div_ceil(0x1000) as u64 * 0x1000);
        assert_eq!(file.summary("x").dylibs.len(), 2);
    }

    #[test]
    fn encrypted_slices_hide_strings_with_a_diagnostic() {
        let mut bytes = sample();
        let pos = memchr::memmem::find(&bytes, &[0x2c, 0, 0, 0, 24, 0, 0, 0]).unwrap();
        bytes[pos + 16..pos + 20].copy_from_slice(&1u32.to_le_bytes());
        bytes[pos + 8..pos + 12].copy_from_slice(&0u32.to_le_bytes());
        let file = parse(&bytes).unwrap();
        let s = &file.slices[0];
        assert!(s.encrypted());
        assert!(s.strings.is_empty());
        assert!(s.diagnostics.iter().any(|d| d.code == "macho.encrypted"));
        assert!(file.summary("x").encrypted);
    }

    #[test]
    fn hostile_counts_and_truncation_are_survivable() {
        assert_eq!(parse(b"").unwrap_err(), MachoError::NotMacho);
        assert!(parse(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 45]).is_err());
        let mut bytes = sample();
        bytes[16..20].copy_from_slice(&0xffff_ffffu32.to_le_bytes());
        let file = parse(&bytes).unwrap();
        assert!(file.slices[0].diagnostics.iter().any(|d| d.code == "macho.bad_command_count"));
        let bytes = sample();
        for cut in 0..bytes.len() {
            let _ = parse(&bytes[..cut]);
        }
        for at in 0..bytes.len() {
            for v in [0u8, 0xff, 0x80] {
                let mut copy = bytes.clone();
                copy[at] = v;
                if let Err(MachoError::BadHeader(m)) = parse(&copy) {
                    assert!(!m.contains("panicked"), "byte {at} = {v:#x}: {m}");
                }
            }
        }
    }

    #[test]
    fn swift_class_names_demangle() {
        assert_eq!(demangle_swift_class("_TtC5MyApp11AppDelegate").as_deref(), Some("MyApp.AppDelegate"));
        assert_eq!(demangle_swift_class("_TtC5MyApp"), None);
        assert_eq!(demangle_swift_class("_TtC99x"), None);
        assert_eq!(demangle_swift_class("NSObject"), None);
    }
}
