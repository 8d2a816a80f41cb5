//! The DEX `header_item`: magic and version, checksums, and the offset and
//! size of every ID table. Also recognises the two relatives of the classic
//! format: compact DEX (`cdex`, ART's on-device form) and the v41 container.

use crate::reader::{u32_le_at, Reader};

/// Size of `header_item` up to v40.
pub const HEADER_SIZE: usize = 0x70;
/// v41 adds `container_size` and `header_offset`.
pub const HEADER_SIZE_V41: usize = 0x78;
/// Compact DEX adds six words (feature flags, debug info and owned data).
pub const HEADER_SIZE_COMPACT: usize = 0x88;
pub const ENDIAN_CONSTANT: u32 = 0x1234_5678;
pub const REVERSE_ENDIAN_CONSTANT: u32 = 0x7856_3412;

/// Which member of the DEX family the magic names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DexKind {
    /// `dex\n0NN\0`, one DEX per file.
    Standard,
    /// `dex\n041\0`: several DEX files share one container.
    Container,
    /// `cdex001\0`: ART's compact DEX, found in `.vdex` files.
    Compact,
}

/// Every field of `header_item`, as stored. Counts are reported exactly as
/// written (like dexdump prints them), even when the tables they describe
/// are truncated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DexHeader {
    pub checksum: u32,
    pub signature: [u8; 20],
    pub file_size: u32,
    pub header_size: u32,
    pub endian_tag: u32,
    pub link_size: u32,
    pub link_off: u32,
    pub map_off: u32,
    pub string_ids_size: u32,
    pub string_ids_off: u32,
    pub type_ids_size: u32,
    pub type_ids_off: u32,
    pub proto_ids_size: u32,
    pub proto_ids_off: u32,
    pub field_ids_size: u32,
    pub field_ids_off: u32,
    pub method_ids_size: u32,
    pub method_ids_off: u32,
    pub class_defs_size: u32,
    pub class_defs_off: u32,
    pub data_size: u32,
    pub data_off: u32,
    /// v41 only: size of the whole container.
    pub container_size: Option<u32>,
    /// v41 only: offset of this header inside the container.
    pub header_offset: Option<u32>,
}

/// Reads the magic: `Some((kind, version))` for anything of the DEX family.
/// The version is the three characters after the prefix (`"035"`, `"001"`).
pub fn read_magic(data: &[u8]) -> Option<(DexKind, String)> {
    let magic = data.get(..8)?;
    let version = magic.get(4..7)?;
    if magic[7] != 0 || !version.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let version_text: String = version.iter().map(|&b| char::from(b)).collect();
    match &magic[..4] {
        b"dex\n" if version_text == "041" => Some((DexKind::Container, version_text)),
        b"dex\n" => Some((DexKind::Standard, version_text)),
        b"cdex" => Some((DexKind::Compact, version_text)),
        _ => None,
    }
}

/// Reads the header fields; `None` when fewer than [`HEADER_SIZE`] bytes exist.
pub fn read_header(data: &[u8], kind: DexKind) -> Option<DexHeader> {
    let mut r = Reader::at(data, 8);
    let mut word = || r.u32_le().ok();
    let checksum = word()?;
    let mut signature = [0u8; 20];
    signature.copy_from_slice(data.get(12..32)?);
    let mut r = Reader::at(data, 32);
    let mut word = || r.u32_le().ok();
    let mut header = DexHeader {
        checksum,
        signature,
        file_size: word()?,
        header_size: word()?,
        endian_tag: word()?,
        link_size: word()?,
        link_off: word()?,
        map_off: word()?,
        string_ids_size: word()?,
        string_ids_off: word()?,
        type_ids_size: word()?,
        type_ids_off: word()?,
        proto_ids_size: word()?,
        proto_ids_off: word()?,
        field_ids_size: word()?,
        field_ids_off: word()?,
        method_ids_size: word()?,
        method_ids_off: word()?,
        class_defs_size: word()?,
        class_defs_off: word()?,
        data_size: word()?,
        data_off: word()?,
        container_size: None,
        header_offset: None,
    };
    if kind == DexKind::Container && header.header_size as usize >= HEADER_SIZE_V41 {
        header.container_size = u32_le_at(data, HEADER_SIZE).ok();
        header.header_offset = u32_le_at(data, HEADER_SIZE + 4).ok();
    }
    Some(header)
}

/// Versions some Android release has accepted.
pub fn is_known_version(kind: DexKind, version: &str) -> bool {
    match kind {
        DexKind::Standard | DexKind::Container => {
            matches!(version, "035" | "036" | "037" | "038" | "039" | "040" | "041")
        }
        DexKind::Compact => version == "001",
    }
}
