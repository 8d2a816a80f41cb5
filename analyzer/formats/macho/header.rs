//! The universal (fat) header with its per-architecture slices, the Mach
//! header of one slice, and Apple's names for CPU types, file types and
//! platforms.

use crate::diagnostic::Diagnostic;
use crate::reader::{u32_be_at, u64_be_at, ByteOrder};

use super::{parse_slice_guarded, MachoError, MachoFile};

pub const FAT_MAGIC: u32 = 0xcafe_babe;
pub const FAT_MAGIC_64: u32 = 0xcafe_babf;
pub(super) const MH_MAGIC: u32 = 0xfeed_face;
pub(super) const MH_MAGIC_64: u32 = 0xfeed_facf;
pub(super) const MH_CIGAM: u32 = 0xcefa_edfe;
pub(super) const MH_CIGAM_64: u32 = 0xcffa_edfe;

/// Most slices in a universal binary (real ones have two or three).
const MAX_SLICES: u32 = 32;

/// The fields of a Mach header that the load-command walk needs.
pub(super) struct MachHeader {
    pub(super) is_64: bool,
    pub(super) order: ByteOrder,
    /// 28 or 32 bytes; the load commands follow.
    pub(super) size: usize,
    pub(super) cpu_type: u32,
    pub(super) cpu_subtype: u32,
    pub(super) file_type: u32,
    pub(super) ncmds: u32,
    pub(super) sizeofcmds: u32,
    pub(super) flags: u32,
}

/// Reads the Mach header at the start of a slice.
pub(super) fn parse_header(data: &[u8]) -> Result<MachHeader, MachoError> {
    let magic = u32_be_at(data, 0).map_err(|_| MachoError::NotMacho)?;
    let (is_64, little) = match magic {
        MH_MAGIC => (false, false),
        MH_MAGIC_64 => (true, false),
        MH_CIGAM => (false, true),
        MH_CIGAM_64 => (true, true),
        _ => return Err(MachoError::NotMacho),
    };
    let order = if little { ByteOrder::Little } else { ByteOrder::Big };
    let header_size: usize = if is_64 { 32 } else { 28 };
    let field =
        |i: usize| order.u32_at(data, 4 * i).map_err(|_| MachoError::BadHeader("header truncated".into()));
    let cpu_type = field(1)?;
    let cpu_subtype = field(2)?;
    let file_type = field(3)?;
    let ncmds = field(4)?;
    let sizeofcmds = field(5)?;
    let flags = field(6)?;
    if data.len() < header_size {
        return Err(MachoError::BadHeader("header truncated".into()));
    }
    Ok(MachHeader {
        is_64,
        order,
        size: header_size,
        cpu_type,
        cpu_subtype,
        file_type,
        ncmds,
        sizeofcmds,
        flags,
    })
}

pub(super) fn parse_fat(data: &[u8], is_64: bool) -> Result<MachoFile, MachoError> {
    let count = u32_be_at(data, 4).map_err(|_| MachoError::BadHeader("universal header truncated".into()))?;
    let entry_size: usize = if is_64 { 32 } else { 20 };
    if count == 0 || count > MAX_SLICES {
        // 0xcafebabe is also a Java class file's magic (major version >= 45 here).
        return Err(MachoError::BadHeader(format!("universal header claims {count} architectures")));
    }
    let mut file = MachoFile { fat: true, ..MachoFile::default() };
    for i in 0..count as usize {
        let at = 8 + i * entry_size;
        let fields = (|| {
            let cpu_type = u32_be_at(data, at).ok()?;
            let cpu_subtype = u32_be_at(data, at + 4).ok()?;
            let (offset, size) = if is_64 {
                (u64_be_at(data, at + 8).ok()?, u64_be_at(data, at + 16).ok()?)
            } else {
                (u64::from(u32_be_at(data, at + 8).ok()?), u64::from(u32_be_at(data, at + 12).ok()?))
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

pub(super) fn file_type_name(t: u32) -> String {
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

pub(super) fn platform_name(p: u32) -> String {
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
pub(super) fn version_text(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}
