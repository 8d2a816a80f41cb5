//! Locating the APK Signing Block (the region between the last ZIP entry and
//! the central directory) and splitting it into its ID-value pairs.
//!
//! The rules follow apksig's `ApkSigningBlockUtils.findApkSigningBlock`: any
//! inconsistency (bad magic, sizes at the two ends differing, offsets out of
//! range, CD not followed by the EOCD) means "no block", so Android falls back
//! to JAR signature verification rather than rejecting the APK.

use thiserror::Error;

use crate::reader::{slice, u16_le_at, u32_le_at, u64_le_at, Reader};

pub const MAGIC: &[u8; 16] = b"APK Sig Block 42";
pub const ID_V2: u32 = 0x7109_871a;
pub const ID_V3: u32 = 0xf053_68c0;
pub const ID_V31: u32 = 0x1b93_ad61;
pub const ID_VERITY_PADDING: u32 = 0x4272_6577;
pub const ID_SOURCE_STAMP_V1: u32 = 0x2b09_189e;
pub const ID_SOURCE_STAMP_V2: u32 = 0x6dff_800d;
pub const ID_DEPENDENCY_INFO: u32 = 0x504b_4453;
pub const ID_PLAY_FROSTING: u32 = 0x2146_444e;

/// Pairs beyond this are ignored (a real block has a handful).
const MAX_PAIRS: usize = 4096;

/// A short, human-readable name for a known pair ID.
pub fn pair_name(id: u32) -> Option<&'static str> {
    Some(match id {
        ID_V2 => "APK Signature Scheme v2",
        ID_V3 => "APK Signature Scheme v3",
        ID_V31 => "APK Signature Scheme v3.1",
        ID_VERITY_PADDING => "verity padding",
        ID_SOURCE_STAMP_V1 => "source stamp (v1)",
        ID_SOURCE_STAMP_V2 => "source stamp (v2)",
        ID_DEPENDENCY_INFO => "dependency info (Play)",
        ID_PLAY_FROSTING => "Play frosting",
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    #[error("APK Signing Block size out of range: {0}")]
    SizeOutOfRange(u64),
    #[error("APK Signing Block offset out of range")]
    OffsetOutOfRange,
    #[error("APK Signing Block sizes in header ({header}) and footer ({footer}) do not match")]
    SizeMismatch { header: u64, footer: u64 },
    #[error("ZIP central directory is not immediately followed by the end of central directory")]
    CdNotFollowedByEocd,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EocdError {
    #[error("no end of central directory record")]
    NotFound,
    #[error("central directory lies outside the file or overlaps the EOCD")]
    CdOutOfRange,
}

/// Where the ZIP structures after the entries sit, as absolute file offsets:
/// all that locating the signing block and computing v2/v3 content digests
/// need to know of the archive. The caller reads them from its own ZIP
/// reader (or from [`find_eocd`]), so these parsers never see an archive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZipSections {
    /// Start of the central directory (as stored, no prefix correction).
    pub cd_offset: u64,
    pub cd_size: u64,
    /// Start of the End of Central Directory record.
    pub eocd_offset: u64,
}

/// Finds the End of Central Directory record the way apksig does (no comment
/// first, then a backward scan whose comment length reaches exactly the end).
pub fn find_eocd(data: &[u8]) -> Result<ZipSections, EocdError> {
    const EOCD_LEN: usize = 22;
    if data.len() < EOCD_LEN {
        return Err(EocdError::NotFound);
    }
    let last = data.len() - EOCD_LEN;
    let max_comment = (u16::MAX as usize).min(last);
    let mut found = None;
    for comment_len in 0..=max_comment {
        let pos = last - comment_len;
        if u32_le_at(data, pos) == Ok(0x0605_4b50)
            && u16_le_at(data, pos + 20).map(usize::from) == Ok(comment_len)
        {
            found = Some(pos);
            break;
        }
    }
    let eocd = found.ok_or(EocdError::NotFound)?;
    let cd_size = u64::from(u32_le_at(data, eocd + 12).map_err(|_| EocdError::NotFound)?);
    let cd_offset = u64::from(u32_le_at(data, eocd + 16).map_err(|_| EocdError::NotFound)?);
    let eocd_offset = eocd as u64;
    if cd_offset > eocd_offset || cd_offset.checked_add(cd_size).is_none_or(|end| end > eocd_offset) {
        return Err(EocdError::CdOutOfRange);
    }
    Ok(ZipSections { eocd_offset, cd_offset, cd_size })
}

/// One ID-value pair of the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<'a> {
    pub id: u32,
    pub value: &'a [u8],
    /// Absolute file offset of the pair's length field.
    pub offset: usize,
}

/// The APK Signing Block as found before the central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningBlock<'a> {
    /// Absolute offset of the block (its leading size field).
    pub offset: usize,
    /// Total size including both size fields and the magic.
    pub size: usize,
    /// Pairs read before the first malformed one.
    pub pairs: Vec<Pair<'a>>,
    /// Why pair parsing stopped early, if it did (apksig: pairs after this
    /// point are "not found").
    pub pairs_error: Option<String>,
}

impl<'a> SigningBlock<'a> {
    /// Value of the first pair with this ID.
    pub fn find(&self, id: u32) -> Option<&'a [u8]> {
        self.pairs.iter().find(|p| p.id == id).map(|p| p.value)
    }
}

/// Locates the block for a ZIP whose structures sit at `layout`.
/// `Ok(None)`: no block (no magic before the CD). `Err`: a block-like
/// structure that is invalid, which Android treats as absent too.
pub fn locate<'a>(data: &'a [u8], layout: &ZipSections) -> Result<Option<SigningBlock<'a>>, BlockError> {
    let cd_offset = usize::try_from(layout.cd_offset).map_err(|_| BlockError::OffsetOutOfRange)?;
    if cd_offset < 32 {
        return Ok(None);
    }
    let Ok(magic) = slice(data, cd_offset - 16, 16) else {
        return Ok(None);
    };
    if magic != MAGIC {
        return Ok(None);
    }
    if layout.cd_offset.checked_add(layout.cd_size) != Some(layout.eocd_offset) {
        return Err(BlockError::CdNotFollowedByEocd);
    }
    let footer_size = u64_le_at(data, cd_offset - 24).map_err(|_| BlockError::OffsetOutOfRange)?;
    if footer_size < 24 || footer_size > (i32::MAX as u64) - 8 {
        return Err(BlockError::SizeOutOfRange(footer_size));
    }
    let total = (footer_size + 8) as usize;
    let offset = cd_offset.checked_sub(total).ok_or(BlockError::OffsetOutOfRange)?;
    let header_size = u64_le_at(data, offset).map_err(|_| BlockError::OffsetOutOfRange)?;
    if header_size != footer_size {
        return Err(BlockError::SizeMismatch { header: header_size, footer: footer_size });
    }
    let pairs_area = slice(data, offset + 8, total - 8 - 24).map_err(|_| BlockError::OffsetOutOfRange)?;
    let (pairs, pairs_error) = parse_pairs(pairs_area, offset + 8);
    Ok(Some(SigningBlock { offset, size: total, pairs, pairs_error }))
}

/// Splits the pair area (`base` = its absolute offset) into pairs.
pub fn parse_pairs(area: &[u8], base: usize) -> (Vec<Pair<'_>>, Option<String>) {
    let mut pairs = Vec::new();
    let mut r = Reader::new(area);
    let mut index = 0usize;
    while r.remaining() > 0 {
        index += 1;
        if pairs.len() >= MAX_PAIRS {
            return (pairs, Some(format!("more than {MAX_PAIRS} entries")));
        }
        let start = r.pos();
        let Ok(len) = r.u64_le() else {
            return (pairs, Some(format!("insufficient data to read size of entry #{index}")));
        };
        if !(4..=i32::MAX as u64).contains(&len) || len as usize > r.remaining() {
            return (pairs, Some(format!("entry #{index} size out of range: {len}")));
        }
        let Ok(body) = r.bytes(len as usize) else {
            return (pairs, Some(format!("entry #{index} truncated")));
        };
        let id = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
        pairs.push(Pair { id, value: &body[4..], offset: base + start });
    }
    (pairs, None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds `prefix | block(pairs) | cd | eocd` and returns the file and its layout.
    pub(crate) fn build_apk(prefix: &[u8], pairs: &[(u32, Vec<u8>)], cd: &[u8]) -> (Vec<u8>, ZipSections) {
        let mut body = Vec::new();
        for (id, value) in pairs {
            body.extend_from_slice(&((value.len() + 4) as u64).to_le_bytes());
            body.extend_from_slice(&id.to_le_bytes());
            body.extend_from_slice(value);
        }
        let size = (body.len() + 24) as u64;
        let mut data = prefix.to_vec();
        data.extend_from_slice(&size.to_le_bytes());
        data.extend_from_slice(&body);
        data.extend_from_slice(&size.to_le_bytes());
        data.extend_from_slice(MAGIC);
        let cd_offset = data.len();
        data.extend_from_slice(cd);
        let eocd_offset = data.len();
        data.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        data.extend_from_slice(&[0; 8]);
        data.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        data.extend_from_slice(&(cd_offset as u32).to_le_bytes());
        data.extend_from_slice(&0u16.to_le_bytes());
        let layout = ZipSections {
            eocd_offset: eocd_offset as u64,
            cd_offset: cd_offset as u64,
            cd_size: cd.len() as u64,
        };
        (data, layout)
    }

    #[test]
    fn finds_block_and_pairs() {
        let (data, layout) =
            build_apk(b"PK-local-data", &[(ID_V2, vec![1, 2, 3]), (ID_VERITY_PADDING, vec![0; 8])], b"CDCD");
        assert_eq!(find_eocd(&data).unwrap().cd_offset, layout.cd_offset);
        let block = locate(&data, &layout).unwrap().unwrap();
        assert_eq!(block.offset, 13);
        assert_eq!(block.pairs.len(), 2);
        assert_eq!(block.find(ID_V2), Some(&[1u8, 2, 3][..]));
        assert!(block.pairs_error.is_none());
    }

    #[test]
    fn size_mismatch_is_an_error() {
        let (mut data, layout) = build_apk(b"0123456789abcdef", &[(ID_V2, vec![9; 10])], b"");
        data[16] ^= 1; // header size field
        assert!(matches!(locate(&data, &layout), Err(BlockError::SizeMismatch { .. })));
    }

    #[test]
    fn malformed_pairs_stop_parsing() {
        let mut area = Vec::new();
        area.extend_from_slice(&8u64.to_le_bytes());
        area.extend_from_slice(&ID_V2.to_le_bytes());
        area.extend_from_slice(&[0; 4]);
        area.extend_from_slice(&u64::MAX.to_le_bytes());
        let (pairs, err) = parse_pairs(&area, 0);
        assert_eq!(pairs.len(), 1);
        assert!(err.is_some());
        let (pairs, err) = parse_pairs(&[1, 2, 3], 0);
        assert!(pairs.is_empty() && err.is_some());
        let (pairs, err) = parse_pairs(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0);
        assert!(pairs.is_empty() && err.is_some());
    }

    #[test]
    fn no_block_and_truncated_inputs() {
        assert!(find_eocd(b"short").is_err());
        let layout = ZipSections { eocd_offset: 100, cd_offset: 40, cd_size: 60 };
        assert_eq!(locate(&[0u8; 10], &layout), Ok(None));
        let huge = ZipSections { eocd_offset: u64::MAX, cd_offset: u64::MAX - 1, cd_size: 1 };
        assert!(locate(&[0u8; 10], &huge).unwrap_or(None).is_none());
    }
}
