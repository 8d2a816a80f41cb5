//! Mach-O code signatures (the `LC_CODE_SIGNATURE` blob): the SuperBlob
//! index, CodeDirectory (identifier, team id, hash type, flags), the
//! entitlements in XML and DER form, and the certificates of the CMS
//! signature. All integers in these blobs are big-endian, unlike the Mach-O
//! around them.
//!
//! `parse` only reads: who signed the binary and what it is entitled to.
//! `verify` checks the signature against the binary's bytes (page hashes,
//! the data the special slots bind, the CMS signature over the
//! CodeDirectory) and `chain` the signer's certificates up to Apple's roots.
//! Ad-hoc and unsigned binaries are findings the caller reports.

pub mod chain;
pub mod dates;
pub mod seal;
pub mod verify;

use std::collections::BTreeMap;

use crate::diagnostic::Diagnostic;
use crate::formats::property_list;
use crate::formats::signing::der::{self, Tlv};
use crate::formats::signing::{certificate, pkcs7};
use crate::formats::summary::Certificate;
use crate::reader::u32_be_at;

pub const MAGIC_SUPERBLOB: u32 = 0xfade_0cc0;
pub const MAGIC_CODE_DIRECTORY: u32 = 0xfade_0c02;
pub const MAGIC_REQUIREMENTS: u32 = 0xfade_0c01;
pub const MAGIC_ENTITLEMENTS: u32 = 0xfade_7171;
pub const MAGIC_DER_ENTITLEMENTS: u32 = 0xfade_7172;
pub const MAGIC_BLOB_WRAPPER: u32 = 0xfade_0b01;

pub const SLOT_CODE_DIRECTORY: u32 = 0;
pub const SLOT_REQUIREMENTS: u32 = 2;
pub const SLOT_ENTITLEMENTS: u32 = 5;
pub const SLOT_DER_ENTITLEMENTS: u32 = 7;
pub const SLOT_ALTERNATE_CODE_DIRECTORIES: u32 = 0x1000;
pub const SLOT_CMS_SIGNATURE: u32 = 0x10000;

/// CodeDirectory flag: signed without an identity.
pub const CS_ADHOC: u32 = 0x2;
/// CodeDirectory flag: hardened runtime.
pub const CS_RUNTIME: u32 = 0x1_0000;
/// CodeDirectory flag: the linker's automatic ad-hoc signature.
pub const CS_LINKER_SIGNED: u32 = 0x2_0000;

/// Most blobs indexed in one SuperBlob (real ones have under ten).
const MAX_BLOBS: u32 = 64;
/// Longest identifier or team id read.
const MAX_NAME: usize = 1024;
/// Deepest DER entitlement nesting followed.
const MAX_DER_DEPTH: usize = 32;

/// One CodeDirectory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeDirectory {
    pub slot: u32,
    pub version: u32,
    pub flags: u32,
    pub identifier: Option<String>,
    pub team_id: Option<String>,
    /// sha1 | sha256 | sha256-truncated | sha384 | unknown(N)
    pub hash_type: String,
    pub code_slots: u32,
    pub special_slots: u32,
    pub page_size: u32,
    /// Raw hash type (1 sha1, 2 sha256, 3 sha256 truncated to 20 bytes, 4 sha384).
    pub hash_type_id: u8,
    pub hash_size: u8,
    /// Offset of code slot 0 in the blob; special slot N lies N hashes before it.
    pub hash_offset: u32,
    /// Bytes of the binary the code slots cover (`codeLimit64` when set).
    pub code_limit: u64,
    /// The blob as stored, header included: what the CMS signature and the
    /// CDHashes attribute hash.
    pub raw: Vec<u8>,
}

impl CodeDirectory {
    pub fn adhoc(&self) -> bool {
        self.flags & CS_ADHOC != 0
    }
}

/// What a code signature says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodeSignature {
    /// The primary CodeDirectory first, then alternates.
    pub code_directories: Vec<CodeDirectory>,
    /// Entitlements from the XML blob, else from the DER blob.
    pub entitlements: Option<BTreeMap<String, serde_json::Value>>,
    /// `xml`, `der`, or both (`xml+der`), when present.
    pub entitlements_form: Option<String>,
    pub has_cms: bool,
    /// The CMS SignedData (empty for most ad-hoc signatures).
    pub cms: Vec<u8>,
    /// Blobs a special slot may hash, by slot (requirements, entitlements),
    /// as stored with their header.
    pub slot_blobs: BTreeMap<u32, Vec<u8>>,
    /// Certificates carried by the CMS signature (empty for ad-hoc).
    pub certificates: Vec<Certificate>,
    pub diagnostics: Vec<Diagnostic>,
}

impl CodeSignature {
    pub fn primary(&self) -> Option<&CodeDirectory> {
        self.code_directories.first()
    }

    /// Ad-hoc: the CodeDirectory says so, or no CMS signer certificate exists.
    pub fn adhoc(&self) -> bool {
        self.primary().is_some_and(CodeDirectory::adhoc) || self.certificates.is_empty()
    }
}

/// A blob's bytes (header included) if its declared length fits.
fn blob_at(data: &[u8], offset: usize) -> Option<(u32, &[u8])> {
    let magic = u32_be_at(data, offset).ok()?;
    let length = u32_be_at(data, offset.checked_add(4)?).ok()? as usize;
    if length < 8 {
        return None;
    }
    Some((magic, data.get(offset..offset.checked_add(length)?)?))
}

fn name_at(blob: &[u8], offset: u32) -> Option<String> {
    let rest = blob.get(offset as usize..)?;
    let rest = rest.get(..rest.len().min(MAX_NAME)).unwrap_or(rest);
    let end = memchr::memchr(0, rest)?;
    Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
}

fn hash_type_name(t: u8) -> String {
    match t {
        1 => "sha1".into(),
        2 => "sha256".into(),
        3 => "sha256-truncated".into(),
        4 => "sha384".into(),
        other => format!("unknown({other})"),
    }
}

/// Parses the bytes `LC_CODE_SIGNATURE` points at.
pub fn parse(data: &[u8]) -> CodeSignature {
    let mut sig = CodeSignature::default();
    let Some(magic) = u32_be_at(data, 0).ok() else {
        sig.diagnostics
            .push(Diagnostic::error("codesign.truncated", "code signature shorter than its header"));
        return sig;
    };
    if magic != MAGIC_SUPERBLOB {
        sig.diagnostics.push(Diagnostic::error(
            "codesign.bad_magic",
            format!("code signature magic {magic:#010x} is not an embedded-signature SuperBlob"),
        ));
        return sig;
    }
    let declared = u32_be_at(data, 4).ok().unwrap_or(0) as usize;
    let data = if declared >= 12 && declared <= data.len() {
        data.get(..declared).unwrap_or(data)
    } else {
        sig.diagnostics.push(Diagnostic::warning(
            "codesign.bad_length",
            format!("SuperBlob length {declared} does not fit the {} bytes given", data.len()),
        ));
        data
    };
    let count = u32_be_at(data, 8).ok().unwrap_or(0);
    if count > MAX_BLOBS || (count as usize).saturating_mul(8).saturating_add(12) > data.len() {
        sig.diagnostics.push(Diagnostic::error(
            "codesign.bad_blob_count",
            format!("SuperBlob claims {count} blobs, more than fit"),
        ));
        return sig;
    }
    let mut xml_entitlements = None;
    let mut der_entitlements = None;
    for i in 0..count as usize {
        let index_at = 12 + i * 8;
        let (Some(slot), Some(offset)) = (u32_be_at(data, index_at).ok(), u32_be_at(data, index_at + 4).ok())
        else {
            break;
        };
        let Some((magic, blob)) = blob_at(data, offset as usize) else {
            sig.diagnostics.push(
                Diagnostic::error(
                    "codesign.blob_out_of_bounds",
                    format!("blob in slot {slot:#x} runs past the end"),
                )
                .at(format!("code signature offset {offset:#x}")),
            );
            continue;
        };
        match (slot, magic) {
            (SLOT_CODE_DIRECTORY, MAGIC_CODE_DIRECTORY) => {
                sig.code_directories.insert(0, code_directory(slot, blob, &mut sig.diagnostics))
            }
            (s, MAGIC_CODE_DIRECTORY)
                if (SLOT_ALTERNATE_CODE_DIRECTORIES..SLOT_ALTERNATE_CODE_DIRECTORIES + 5).contains(&s) =>
            {
                sig.code_directories.push(code_directory(slot, blob, &mut sig.diagnostics))
            }
            (SLOT_ENTITLEMENTS, MAGIC_ENTITLEMENTS) => {
                xml_entitlements = blob.get(8..);
                sig.slot_blobs.insert(slot, blob.to_vec());
            }
            (SLOT_DER_ENTITLEMENTS, MAGIC_DER_ENTITLEMENTS) => {
                der_entitlements = blob.get(8..);
                sig.slot_blobs.insert(slot, blob.to_vec());
            }
            (SLOT_REQUIREMENTS, MAGIC_REQUIREMENTS) => {
                sig.slot_blobs.insert(slot, blob.to_vec());
            }
            (SLOT_CMS_SIGNATURE, MAGIC_BLOB_WRAPPER) => {
                sig.has_cms = true;
                sig.cms = blob.get(8..).unwrap_or_default().to_vec();
                cms_certificates(blob.get(8..).unwrap_or_default(), &mut sig);
            }
            (_, MAGIC_CODE_DIRECTORY | MAGIC_ENTITLEMENTS | MAGIC_DER_ENTITLEMENTS | MAGIC_BLOB_WRAPPER) => {
                sig.diagnostics.push(Diagnostic::warning(
                    "codesign.unexpected_slot",
                    format!("blob with magic {magic:#010x} in slot {slot:#x}"),
                ));
            }
            _ => {}
        }
    }
    if let Some(xml) = xml_entitlements {
        match property_list::parse_dict(xml) {
            Ok(dict) => {
                sig.entitlements =
                    Some(dict.iter().map(|(k, v)| (k.clone(), property_list::to_json(v))).collect());
                sig.entitlements_form = Some("xml".into());
            }
            Err(e) => sig.diagnostics.push(Diagnostic::error(
                "codesign.bad_entitlements",
                format!("entitlements blob is not a readable plist: {e}"),
            )),
        }
    }
    if let Some(der_bytes) = der_entitlements {
        match der_entitlements_map(der_bytes) {
            Some(map) => {
                if sig.entitlements.is_none() {
                    sig.entitlements = Some(map);
                    sig.entitlements_form = Some("der".into());
                } else {
                    sig.entitlements_form = Some("xml+der".into());
                }
            }
            None => sig.diagnostics.push(Diagnostic::error(
                "codesign.bad_der_entitlements",
                "DER entitlements blob could not be decoded",
            )),
        }
    }
    if sig.code_directories.is_empty() {
        sig.diagnostics
            .push(Diagnostic::error("codesign.no_code_directory", "code signature has no CodeDirectory"));
    }
    sig
}

fn code_directory(slot: u32, blob: &[u8], diagnostics: &mut Vec<Diagnostic>) -> CodeDirectory {
    let field = |offset: usize| u32_be_at(blob, offset).ok().unwrap_or(0);
    let version = field(8);
    let mut cd = CodeDirectory {
        slot,
        version,
        flags: field(12),
        special_slots: field(24),
        code_slots: field(28),
        hash_type: hash_type_name(blob.get(37).copied().unwrap_or(0)),
        page_size: blob.get(39).map(|&p| if p == 0 || p >= 32 { 0 } else { 1u32 << p }).unwrap_or(0),
        hash_type_id: blob.get(37).copied().unwrap_or(0),
        hash_size: blob.get(36).copied().unwrap_or(0),
        hash_offset: field(16),
        code_limit: u64::from(field(32)),
        raw: blob.to_vec(),
        ..CodeDirectory::default()
    };
    if blob.len() < 44 {
        diagnostics.push(Diagnostic::error("codesign.bad_code_directory", "CodeDirectory truncated"));
        return cd;
    }
    if version >= 0x20300 {
        // codeLimit64 (offset 56) replaces the 32-bit limit when non-zero.
        let high = u64::from(field(56));
        let low = u64::from(field(60));
        let limit64 = (high << 32) | low;
        if limit64 != 0 {
            cd.code_limit = limit64;
        }
    }
    cd.identifier = name_at(blob, field(20));
    if cd.identifier.is_none() {
        diagnostics
            .push(Diagnostic::error("codesign.bad_identifier", "CodeDirectory identifier out of bounds"));
    }
    if version >= 0x20200 {
        let team_offset = field(48);
        if team_offset != 0 {
            cd.team_id = name_at(blob, team_offset);
        }
    }
    cd
}

fn cms_certificates(cms: &[u8], sig: &mut CodeSignature) {
    if cms.is_empty() {
        // Ad-hoc signatures often carry an empty wrapper.
        return;
    }
    match pkcs7::parse(cms) {
        Ok(signed) => {
            for cert in signed.certificates {
                sig.certificates.push(certificate::describe(cert, "LC_CODE_SIGNATURE CMS"));
            }
        }
        Err(e) => sig.diagnostics.push(Diagnostic::error("codesign.bad_cms", e.to_string())),
    }
}

/// Decodes DER entitlements: `[APPLICATION 16] { INTEGER version, SET of
/// SEQUENCE { UTF8String key, value } }`, values being BOOLEAN, INTEGER,
/// UTF8String, SEQUENCE (array) or SET (dictionary).
pub fn der_entitlements_map(data: &[u8]) -> Option<BTreeMap<String, serde_json::Value>> {
    let root = der::parse(data).ok()?;
    if root.tag != 0x70 {
        return None;
    }
    let mut kids = root.children();
    let _version = kids.next_tlv().ok()?.expect(der::TAG_INTEGER).ok()?;
    let dict = kids.next_tlv().ok()?;
    match der_value(dict, 0)? {
        serde_json::Value::Object(map) => Some(map.into_iter().collect()),
        _ => None,
    }
}

fn der_value(tlv: Tlv<'_>, depth: usize) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    if depth > MAX_DER_DEPTH {
        return None;
    }
    Some(match tlv.tag {
        0x01 => J::Bool(tlv.content.iter().any(|&b| b != 0)),
        0x02 => {
            let mut v: i64 = if tlv.content.first().is_some_and(|b| b & 0x80 != 0) { -1 } else { 0 };
            for &b in tlv.content.iter().take(8) {
                v = (v << 8) | i64::from(b);
            }
            J::from(v)
        }
        0x0c => J::String(String::from_utf8_lossy(tlv.content).into_owned()),
        0x30 => {
            let mut items = Vec::new();
            for kid in tlv.children() {
                items.push(der_value(kid.ok()?, depth + 1)?);
            }
            J::Array(items)
        }
        0x31 => {
            let mut map = serde_json::Map::new();
            for kid in tlv.children() {
                let pair = kid.ok()?.expect(der::TAG_SEQUENCE).ok()?;
                let mut parts = pair.children();
                let key = parts.next_tlv().ok()?;
                let value = parts.next_tlv().ok()?;
                map.insert(String::from_utf8_lossy(key.content).into_owned(), der_value(value, depth + 1)?);
            }
            J::Object(map)
        }
        _ => J::Null,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::test_support::{each_flip, each_truncation};

    pub(crate) fn blob(magic: u32, body: &[u8]) -> Vec<u8> {
        let mut b = magic.to_be_bytes().to_vec();
        b.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
        b.extend_from_slice(body);
        b
    }

    fn code_directory_blob(identifier: &str, team: &str, flags: u32) -> Vec<u8> {
        // Version 0x20400 header is 88 bytes; identifier and team follow it.
        let mut body = vec![0u8; 80];
        let ident_offset = 88u32;
        let team_offset = ident_offset + identifier.len() as u32 + 1;
        body[0..4].copy_from_slice(&0x20400u32.to_be_bytes());
        body[4..8].copy_from_slice(&flags.to_be_bytes());
        body[12..16].copy_from_slice(&ident_offset.to_be_bytes());
        body[16..20].copy_from_slice(&2u32.to_be_bytes());
        body[20..24].copy_from_slice(&1u32.to_be_bytes());
        body[28] = 32;
        body[29] = 2;
        body[31] = 12;
        body[40..44].copy_from_slice(&team_offset.to_be_bytes());
        body.extend_from_slice(identifier.as_bytes());
        body.push(0);
        body.extend_from_slice(team.as_bytes());
        body.push(0);
        blob(MAGIC_CODE_DIRECTORY, &body)
    }

    pub(crate) fn superblob(blobs: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut payload = Vec::new();
        let header = 12 + 8 * blobs.len();
        for (slot, b) in blobs {
            index.extend_from_slice(&slot.to_be_bytes());
            index.extend_from_slice(&((header + payload.len()) as u32).to_be_bytes());
            payload.extend_from_slice(b);
        }
        let mut out = MAGIC_SUPERBLOB.to_be_bytes().to_vec();
        out.extend_from_slice(&((header + payload.len()) as u32).to_be_bytes());
        out.extend_from_slice(&(blobs.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(payload);
        out
    }

    const ENTITLEMENTS: &str = "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>\
        <key>application-identifier</key><string>ABCDE12345.com.example</string>\
        <key>get-task-allow</key><true/></dict></plist>";

    fn sample() -> Vec<u8> {
        let der = [
            0x70, 0x1a, 0x02, 0x01, 0x01, 0x31, 0x15, 0x30, 0x13, 0x0c, 0x0e, b'g', b'e', b't', b'-', b't',
            b'a', b's', b'k', b'-', b'a', b'l', b'l', b'o', b'w', 0x01, 0x01, 0xff,
        ];
        superblob(&[
            (SLOT_CODE_DIRECTORY, code_directory_blob("com.example", "ABCDE12345", CS_ADHOC)),
            (SLOT_ENTITLEMENTS, blob(MAGIC_ENTITLEMENTS, ENTITLEMENTS.as_bytes())),
            (SLOT_DER_ENTITLEMENTS, blob(MAGIC_DER_ENTITLEMENTS, &der)),
            (SLOT_CMS_SIGNATURE, blob(MAGIC_BLOB_WRAPPER, &[])),
        ])
    }

    #[test]
    fn reads_code_directory_and_entitlements() {
        let sig = parse(&sample());
        assert!(sig.diagnostics.is_empty(), "{:?}", sig.diagnostics);
        let cd = sig.primary().unwrap();
        assert_eq!(cd.identifier.as_deref(), Some("com.example"));
        assert_eq!(cd.team_id.as_deref(), Some("ABCDE12345"));
        assert_eq!(cd.hash_type, "sha256");
        assert_eq!(cd.page_size, 4096);
        assert!(sig.adhoc());
        let ent = sig.entitlements.unwrap();
        assert_eq!(ent["get-task-allow"], true);
        assert_eq!(sig.entitlements_form.as_deref(), Some("xml+der"));
        assert!(sig.has_cms);
    }

    #[test]
    fn der_entitlements_decode_alone() {
        let der = [0x70, 0x0a, 0x02, 0x01, 0x01, 0x31, 0x05, 0x30, 0x03, 0x0c, 0x01, b'k'];
        // A pair without a value is malformed.
        assert!(der_entitlements_map(&der).is_none());
        let der = [0x70, 0x0d, 0x02, 0x01, 0x01, 0x31, 0x08, 0x30, 0x06, 0x0c, 0x01, b'k', 0x02, 0x01, 0x05];
        assert_eq!(der_entitlements_map(&der).unwrap()["k"], 5);
    }

    #[test]
    fn malformed_signatures_give_diagnostics() {
        assert_eq!(parse(b"").diagnostics[0].code, "codesign.truncated");
        assert_eq!(parse(&[0u8; 12]).diagnostics[0].code, "codesign.bad_magic");
        let mut many = sample();
        many[8..12].copy_from_slice(&0xffff_ffffu32.to_be_bytes());
        assert_eq!(parse(&many).diagnostics[0].code, "codesign.bad_blob_count");
        let bytes = sample();
        each_truncation(&bytes, |cut| drop(parse(cut)));
        each_flip(&bytes, &[0x00, 0x7f, 0x80, 0xff], |_, _, copy| drop(parse(copy)));
    }
}
