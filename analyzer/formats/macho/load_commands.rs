//! The load-command walk of one slice: each command's size is checked
//! against the load-command area before goblin decodes it, then dylibs,
//! rpaths, minimum OS, encryption, UUID, segments and the places of the
//! symbol table and code signature are recorded.

use goblin::container::Endian;
use goblin::mach::load_command::{CommandVariant, LoadCommand};

use crate::diagnostic::Diagnostic;
use crate::formats::codesign;
use crate::reader::ByteOrder;

use super::header::{arch_name, file_type_name, parse_header, platform_name, version_text, MachHeader};
use super::sections::read_sections;
use super::symbols::read_symbols;
use super::{DylibRef, Encryption, MachoError, MinOs, Slice};

/// Most load commands walked per slice.
const MAX_LOAD_COMMANDS: u32 = 65_536;
/// Most sections read per segment.
const MAX_SECTIONS: u32 = 1024;
/// Longest name read from a load command or the string table.
const MAX_NAME: usize = 4096;

/// NUL-terminated text at `offset` inside `data` (bounded).
pub(super) fn c_string(data: &[u8], offset: usize) -> Option<String> {
    let rest = data.get(offset..)?;
    let rest = rest.get(..rest.len().min(MAX_NAME)).unwrap_or(rest);
    let end = memchr::memchr(0, rest).unwrap_or(rest.len());
    Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
}

/// A section worth reading, located in the slice.
pub(super) struct SectionRef {
    pub(super) segment: String,
    pub(super) name: String,
    pub(super) offset: u32,
    pub(super) size: u64,
    pub(super) zerofill: bool,
}

fn fixed_name(bytes: &[u8]) -> String {
    let end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

pub(super) fn parse_slice(data: &[u8], file_offset: u64) -> Result<Slice, MachoError> {
    let MachHeader {
        is_64,
        order,
        size: header_size,
        cpu_type,
        cpu_subtype,
        file_type,
        ncmds,
        sizeofcmds,
        flags,
    } = parse_header(data)?;
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
    let endian = if order.is_little() { Endian::Little } else { Endian::Big };
    let mut sections = Vec::new();
    let mut symtab = None;
    let mut code_signature = None;
    let mut pos = 0usize;
    for index in 0..ncmds {
        let (Some(cmd), Some(cmdsize)) =
            (order.u32_at(commands, pos).ok(), order.u32_at(commands, pos + 4).ok())
        else {
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
    order: ByteOrder,
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
    order: ByteOrder,
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
            (order.u64_at(raw, 40).ok(), order.u32_at(raw, 48).ok(), order.u32_at(raw, 64).ok())
        } else {
            (
                order.u32_at(raw, 36).ok().map(u64::from),
                order.u32_at(raw, 40).ok(),
                order.u32_at(raw, 56).ok(),
            )
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
