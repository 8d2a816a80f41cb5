//! Checks an embedded code signature against the binary it signs, the way
//! `codesign --verify` and the iOS kernel do:
//!
//! - every CodeDirectory's code slots against the pages of the binary up to
//!   its code limit, and the special slots against what they bind when that
//!   is present (Info.plist, the resource seal `_CodeSignature/CodeResources`,
//!   the requirements and entitlement blobs);
//! - the CMS SignedData over the first CodeDirectory (the signed
//!   messageDigest attribute equals its hash, and the signer's RSA or ECDSA
//!   signature over the attributes verifies), alternate CodeDirectories
//!   through Apple's CDHashes attributes;
//! - the signer's chain to one of Apple's roots (`chain`).
//!
//! The resource seal's per-file hashes are checked by `seal` against the
//! bundle's files (the caller holds the archive); the designated
//! requirement is not evaluated.

use crate::formats::signing::crypto::HashAlg;
use crate::formats::signing::der::{self, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE};
use crate::formats::signing::pkcs7::{self, SignerCheck};

use super::chain::{self, ChainOutcome};
use super::{CodeDirectory, CodeSignature, SLOT_DER_ENTITLEMENTS, SLOT_ENTITLEMENTS, SLOT_REQUIREMENTS};

/// Special slot of the bundle's Info.plist.
const SPECIAL_INFO_PLIST: u32 = 1;
/// Special slot of the resource seal (`_CodeSignature/CodeResources`).
const SPECIAL_RESOURCES: u32 = 3;
/// Most special slots looked at (seven are defined).
const MAX_SPECIAL: u32 = 16;
/// Page mismatches named one by one before the rest are only counted.
const NAMED_PAGES: usize = 3;
/// Apple's CDHashes signed attribute (a plist of truncated hashes).
const OID_CDHASHES_PLIST: &str = "1.2.840.113635.100.9.1";
/// Apple's CDHashes2 signed attribute (algorithm and full hash per directory).
const OID_CDHASHES2: &str = "1.2.840.113635.100.9.2";
/// CDHashes compare the first 20 bytes of each CodeDirectory's hash.
const CDHASH_LEN: usize = 20;

/// Files of the bundle a signature may bind through its special slots.
#[derive(Debug, Clone, Copy, Default)]
pub struct BoundFiles<'a> {
    pub info_plist: Option<&'a [u8]>,
    pub code_resources: Option<&'a [u8]>,
    /// The bundle around the binary was read, so a bound file it lacks is a
    /// failure; for a bare binary such a file cannot be checked.
    pub in_bundle: bool,
}

/// The verdict on one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Verified,
    Failed,
    /// Nothing contradicts the signature, but a part could not be checked.
    NotVerifiable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub outcome: Outcome,
    /// Why it fails (empty unless `Failed`).
    pub errors: Vec<String>,
    /// What could not be checked.
    pub unverifiable: Vec<String>,
    /// The Apple root the signer chains to.
    pub root: Option<&'static str>,
}

/// Verifies `sig`, read from `binary` (one slice of a Mach-O: the code
/// limit counts from its start). `encrypted` is the FairPlay-encrypted byte
/// range of the slice, whose pages hash the plaintext and cannot be checked.
pub fn verify(
    binary: &[u8],
    sig: &CodeSignature,
    files: &BoundFiles<'_>,
    encrypted: Option<(u64, u64)>,
) -> Verification {
    let mut v =
        Verification { outcome: Outcome::Verified, errors: Vec::new(), unverifiable: Vec::new(), root: None };
    if sig.code_directories.is_empty() {
        v.errors.push("the signature has no CodeDirectory".into());
    }
    for cd in &sig.code_directories {
        check_directory(binary, cd, sig, files, encrypted, &mut v);
    }
    check_cms(sig, &mut v);
    v.outcome = if !v.errors.is_empty() {
        Outcome::Failed
    } else if !v.unverifiable.is_empty() {
        Outcome::NotVerifiable
    } else {
        Outcome::Verified
    };
    v
}

fn hash_alg(cd: &CodeDirectory) -> Option<(HashAlg, usize)> {
    Some(match cd.hash_type_id {
        1 => (HashAlg::Sha1, 20),
        2 => (HashAlg::Sha256, 32),
        3 => (HashAlg::Sha256, 20),
        4 => (HashAlg::Sha384, 48),
        _ => return None,
    })
}

/// `alg` digest of `data`, truncated to `len` bytes.
fn digest(alg: HashAlg, len: usize, data: &[u8]) -> Vec<u8> {
    let mut d = alg.digest(data).unwrap_or_default();
    d.truncate(len);
    d
}

fn check_directory(
    binary: &[u8],
    cd: &CodeDirectory,
    sig: &CodeSignature,
    files: &BoundFiles<'_>,
    encrypted: Option<(u64, u64)>,
    v: &mut Verification,
) {
    let label =
        if cd.slot == 0 { "CodeDirectory".to_string() } else { format!("{} CodeDirectory", cd.hash_type) };
    let Some((alg, len)) = hash_alg(cd) else {
        v.unverifiable.push(format!("{label}: hash type {} is not supported", cd.hash_type));
        return;
    };
    if usize::from(cd.hash_size) != len {
        v.errors.push(format!("{label}: hash size {} does not fit {}", cd.hash_size, cd.hash_type));
        return;
    }
    let Ok(limit) = usize::try_from(cd.code_limit) else {
        v.errors.push(format!("{label}: code limit {} is out of range", cd.code_limit));
        return;
    };
    if limit > binary.len() {
        v.errors.push(format!(
            "{label}: code limit {limit} is past the end of the binary ({} bytes)",
            binary.len()
        ));
        return;
    }
    let page = if cd.page_size == 0 { limit.max(1) } else { cd.page_size as usize };
    let pages = limit.div_ceil(page);
    if cd.code_slots as usize != pages {
        v.errors.push(format!("{label}: {} code slots for {pages} pages of the binary", cd.code_slots));
        return;
    }
    let slot_at = |index: i64| -> Option<&[u8]> {
        let offset = i64::from(cd.hash_offset).checked_add(index.checked_mul(len as i64)?)?;
        let start = usize::try_from(offset).ok()?;
        cd.raw.get(start..start.checked_add(len)?)
    };
    let mut differing = Vec::new();
    let mut skipped = 0usize;
    for index in 0..pages {
        let start = index * page;
        let end = start.saturating_add(page).min(limit);
        if encrypted.is_some_and(|(from, to)| (start as u64) < to && (end as u64) > from) {
            skipped += 1;
            continue;
        }
        let Some(expected) = slot_at(index as i64) else {
            v.errors.push(format!("{label}: code slot {index} lies outside the CodeDirectory"));
            return;
        };
        if digest(alg, len, binary.get(start..end).unwrap_or_default()) != expected {
            differing.push(index);
        }
    }
    if !differing.is_empty() {
        let named: Vec<String> = differing.iter().take(NAMED_PAGES).map(|p| p.to_string()).collect();
        v.errors.push(format!(
            "{label}: {} of {pages} pages differ from their signed hashes (page {}{})",
            differing.len(),
            named.join(", "),
            if differing.len() > NAMED_PAGES { ", ..." } else { "" }
        ));
    }
    if skipped > 0 {
        v.unverifiable.push(format!(
            "{label}: {skipped} FairPlay-encrypted pages cannot be checked (their hashes are of the decrypted code)"
        ));
    }
    for special in 1..=cd.special_slots.min(MAX_SPECIAL) {
        let Some(expected) = slot_at(-i64::from(special)) else {
            v.errors.push(format!("{label}: special slot {special} lies outside the CodeDirectory"));
            return;
        };
        if expected.iter().all(|&b| b == 0) {
            continue; // nothing bound in this slot
        }
        let (what, data) = match special {
            SPECIAL_INFO_PLIST => ("Info.plist", files.info_plist),
            SPECIAL_RESOURCES => ("_CodeSignature/CodeResources", files.code_resources),
            SLOT_REQUIREMENTS => ("requirements", sig.slot_blobs.get(&special).map(Vec::as_slice)),
            SLOT_ENTITLEMENTS => ("entitlements", sig.slot_blobs.get(&special).map(Vec::as_slice)),
            SLOT_DER_ENTITLEMENTS => ("DER entitlements", sig.slot_blobs.get(&special).map(Vec::as_slice)),
            // Application- and representation-specific slots bind data
            // outside the bundle's files.
            _ => continue,
        };
        match data {
            Some(data) if digest(alg, len, data) == expected => {}
            Some(_) => v.errors.push(format!("{label}: {what} differs from the signed hash")),
            None if files.in_bundle || special > SPECIAL_RESOURCES => {
                v.errors.push(format!("{label}: {what} is signed but missing"))
            }
            None => v.unverifiable.push(format!("{label}: the signed {what} is outside this file")),
        }
    }
}

fn check_cms(sig: &CodeSignature, v: &mut Verification) {
    let Some(primary) = sig.primary() else { return };
    if sig.cms.is_empty() {
        v.errors.push("signed ad hoc: no signer identity (iOS runs it only on jailbroken devices)".into());
        return;
    }
    let sd = match pkcs7::parse(&sig.cms) {
        Ok(sd) => sd,
        Err(e) => {
            v.errors.push(format!("CMS signature: {e}"));
            return;
        }
    };
    if sd.signer_infos.is_empty() {
        v.errors.push("the CMS signature has no signer".into());
        return;
    }
    let mut failures = Vec::new();
    let mut unsupported = Vec::new();
    for info in &sd.signer_infos {
        // SDK levels are an Android notion: 24.. asks for the strict checks
        // (content type and message digest in the signed attributes).
        match pkcs7::verify_signer_info(&sd, info, &primary.raw, 24, u32::MAX) {
            SignerCheck::Verified(leaf) => {
                check_alternates(sig, info.signed_attrs, v);
                match chain::check(&sd, leaf) {
                    ChainOutcome::Apple(root) => v.root = Some(root),
                    ChainOutcome::Untrusted(why) => v.errors.push(why),
                    ChainOutcome::Unsupported(what) => {
                        v.unverifiable.push(format!("certificate chain: {what} is not supported"))
                    }
                }
                return;
            }
            SignerCheck::NotVerified => {
                failures.push("the CMS signature does not match the CodeDirectory".to_string())
            }
            SignerCheck::Fatal(e) => failures.push(format!("CMS signature: {e}")),
            SignerCheck::Unsupported(what) => {
                unsupported.push(format!("CMS signature: {what} is not supported"))
            }
        }
    }
    if unsupported.is_empty() {
        v.errors.extend(failures);
    } else {
        v.unverifiable.extend(unsupported);
    }
}

/// Alternate CodeDirectories (SHA-256 beside a SHA-1 primary) are bound by
/// the CDHashes signed attributes, not by the message digest.
fn check_alternates(sig: &CodeSignature, signed_attrs: Option<&[u8]>, v: &mut Verification) {
    let alternates: Vec<&CodeDirectory> = sig.code_directories.iter().skip(1).collect();
    if alternates.is_empty() {
        return;
    }
    let listed = signed_attrs.map(cdhashes).unwrap_or_default();
    for cd in alternates {
        let Some((alg, _)) = hash_alg(cd) else { continue };
        let hash = digest(alg, CDHASH_LEN, &cd.raw);
        if !listed.iter().any(|h| h.get(..CDHASH_LEN) == Some(hash.as_slice())) {
            v.errors.push(format!("the {} CodeDirectory is not bound by the CMS signature", cd.hash_type));
        }
    }
}

/// The CodeDirectory hashes listed in the CDHashes and CDHashes2 attributes.
fn cdhashes(signed_attrs: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(set) = der::parse(signed_attrs) else { return out };
    for attr in set.children().flatten() {
        let mut parts = attr.children();
        let Ok(oid) = parts.next_tlv().and_then(|t| t.expect(TAG_OID)) else { continue };
        let Ok(values) = parts.next_tlv() else { continue };
        match der::oid_to_string(oid.content).as_deref() {
            Some(OID_CDHASHES_PLIST) => {
                for value in values.children().flatten().filter(|t| t.tag == TAG_OCTET_STRING) {
                    out.extend(plist_cdhashes(value.content));
                }
            }
            Some(OID_CDHASHES2) => {
                for value in values.children().flatten().filter(|t| t.tag == TAG_SEQUENCE) {
                    let mut f = value.children();
                    let _alg = f.next_tlv();
                    if let Ok(hash) = f.next_tlv().and_then(|t| t.expect(TAG_OCTET_STRING)) {
                        out.push(hash.content.to_vec());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn plist_cdhashes(xml: &[u8]) -> Vec<Vec<u8>> {
    let Ok(dict) = crate::formats::property_list::parse_dict(xml) else { return Vec::new() };
    let Some(plist::Value::Array(items)) = dict.get("cdhashes") else { return Vec::new() };
    items.iter().filter_map(|i| i.as_data().map(<[u8]>::to_vec)).collect()
}

#[cfg(test)]
mod tests;
