//! APK Signature Scheme v2 / v3 / v3.1: signer parsing and verification.
//!
//! Mirrors apksig's `V2SchemeVerifier` / `V3SchemeVerifier`: each signer's
//! signed data must verify with its public key (best signature per platform
//! level), the key must equal the first certificate's SubjectPublicKeyInfo,
//! the signatures and digests records must list the same algorithms, and the
//! content digests (1 MiB chunks over the entries, the central directory and
//! the EOCD) must match the file. Content digests are computed streaming,
//! once per algorithm, and shared between schemes.

use std::collections::HashMap;

use crate::reader::{slice, Reader};

use super::block::ZipSections;
use super::certificate::{self, cert_fields};
use super::crypto::{self, CryptoError, HashAlg, Hasher, PublicKey, SigPadding};

/// Android N (24): first platform with APK Signature Scheme v2.
pub const SDK_N: u32 = 24;
/// Android P (28): first platform with v3 and the verity signature variants.
pub const SDK_P: u32 = 28;
/// Android T (33): first platform reading the v3.1 block.
pub const SDK_T: u32 = 33;

const ATTR_STRIPPING_PROTECTION: u32 = 0xbeef_f00d;
const ATTR_PROOF_OF_ROTATION: u32 = 0x3ba0_6f8c;
const ATTR_ROTATION_MIN_SDK: u32 = 0x559f_8b02;

/// Caps for counts read from the block (real blocks hold a handful).
const MAX_SIGNERS: usize = 32;
const MAX_ITEMS: usize = 256;

const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    V2,
    V3,
    V31,
}

impl Scheme {
    pub fn label(self) -> &'static str {
        match self {
            Scheme::V2 => "v2",
            Scheme::V3 => "v3",
            Scheme::V31 => "v3.1",
        }
    }

    /// The scheme ID used in stripping-protection attributes and `X-Android-APK-Signed`.
    pub fn id(self) -> u32 {
        match self {
            Scheme::V2 => 2,
            Scheme::V3 | Scheme::V31 => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentDigest {
    ChunkedSha256,
    VerityChunkedSha256,
    ChunkedSha512,
}

/// One APK signature algorithm ID and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigAlgorithm {
    pub id: u32,
    pub padding: SigPadding,
    pub hash: HashAlg,
    pub content: ContentDigest,
    pub min_sdk: u32,
}

pub fn signature_algorithm(id: u32) -> Option<SigAlgorithm> {
    use ContentDigest::*;
    use SigPadding::*;
    let (padding, hash, content, min_sdk) = match id {
        0x0101 => (RsaPss, HashAlg::Sha256, ChunkedSha256, SDK_N),
        0x0102 => (RsaPss, HashAlg::Sha512, ChunkedSha512, SDK_N),
        0x0103 => (RsaPkcs1, HashAlg::Sha256, ChunkedSha256, SDK_N),
        0x0104 => (RsaPkcs1, HashAlg::Sha512, ChunkedSha512, SDK_N),
        0x0201 => (Ecdsa, HashAlg::Sha256, ChunkedSha256, SDK_N),
        0x0202 => (Ecdsa, HashAlg::Sha512, ChunkedSha512, SDK_N),
        0x0301 => (Dsa, HashAlg::Sha256, ChunkedSha256, SDK_N),
        0x0421 => (RsaPkcs1, HashAlg::Sha256, VerityChunkedSha256, SDK_P),
        0x0423 => (Ecdsa, HashAlg::Sha256, VerityChunkedSha256, SDK_P),
        0x0425 => (Dsa, HashAlg::Sha256, VerityChunkedSha256, SDK_P),
        _ => return None,
    };
    Some(SigAlgorithm { id, padding, hash, content, min_sdk })
}

/// apksig's preference order: stronger content digest first, then PSS over PKCS#1.
fn preference(alg: &SigAlgorithm) -> (ContentDigest, u8) {
    let padding_rank = match alg.padding {
        SigPadding::RsaPss => 1,
        _ => 0,
    };
    (alg.content, padding_rank)
}

/// What the caller knows when verifying one scheme block.
#[derive(Debug, Clone)]
pub struct VerifyParams {
    pub min_sdk: u32,
    pub max_sdk: u32,
    /// Scheme IDs already found (and verified) in this APK, for stripping checks.
    pub found_scheme_ids: Vec<u32>,
    /// For v3.0 when a v3.1 block verified: the lowest v3.1 signer SDK.
    pub rotation_min_sdk: Option<u32>,
}

impl VerifyParams {
    /// Every SDK level, nothing found yet: for reading a block outside a full
    /// verification (fuzzing, damaged archives).
    pub fn every_sdk() -> Self {
        VerifyParams {
            min_sdk: 1,
            max_sdk: i32::MAX as u32,
            found_scheme_ids: vec![],
            rotation_min_sdk: None,
        }
    }
}

/// One signer of a v2/v3 block.
#[derive(Debug, Clone, Default)]
pub struct SignerResult {
    pub index: usize,
    /// DER certificates, the signer's own first.
    pub certificates: Vec<Vec<u8>>,
    /// v3 only: the signer's platform range.
    pub min_sdk: Option<i64>,
    pub max_sdk: Option<i64>,
    /// Proof-of-rotation certificates, oldest first (v3).
    pub lineage: Vec<Vec<u8>>,
    /// (signature algorithm ID, expected content digest).
    pub content_digests: Vec<(u32, Vec<u8>)>,
    /// Scheme IDs named by the v2 stripping-protection attribute.
    pub stripping_protection: Vec<u32>,
    pub rotation_min_sdk: Option<u32>,
    pub errors: Vec<String>,
}

/// Outcome of one scheme block.
#[derive(Debug, Clone)]
pub struct SchemeVerification {
    pub scheme: Scheme,
    pub signers: Vec<SignerResult>,
    /// Problems that make the scheme fail (block-level and per-signer).
    pub errors: Vec<String>,
    /// Checks this build cannot perform (unsupported key or algorithm).
    pub unsupported: Vec<String>,
    /// A content digest did not match (the file was modified after signing).
    pub digest_mismatch: bool,
    /// Content digests not computed (verity tree), reported as information.
    pub skipped_digests: Vec<String>,
}

impl SchemeVerification {
    /// `Some(true)` verified, `Some(false)` failed, `None` cannot tell.
    pub fn verdict(&self) -> Option<bool> {
        if !self.errors.is_empty() {
            Some(false)
        } else if !self.unsupported.is_empty() {
            None
        } else {
            Some(true)
        }
    }
}

/// The three regions that content digests cover.
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    pub data: &'a [u8],
    pub layout: &'a ZipSections,
    pub block_offset: usize,
}

/// Content digests computed so far, shared by all schemes of one APK.
#[derive(Debug, Default)]
pub struct DigestCache {
    computed: HashMap<ContentDigest, Option<Vec<u8>>>,
}

impl DigestCache {
    fn get(&mut self, alg: ContentDigest, input: &DigestInput<'_>) -> Option<Vec<u8>> {
        self.computed.entry(alg).or_insert_with(|| compute_content_digest(alg, input)).clone()
    }
}

/// CHUNKED_SHA256 / CHUNKED_SHA512 over [0, block), CD, and the EOCD with its
/// CD offset replaced by the block offset. `None` for the verity digest (not
/// computed here) or when the regions do not lie inside the file.
pub fn compute_content_digest(alg: ContentDigest, input: &DigestInput<'_>) -> Option<Vec<u8>> {
    let hash = match alg {
        ContentDigest::ChunkedSha256 => HashAlg::Sha256,
        ContentDigest::ChunkedSha512 => HashAlg::Sha512,
        ContentDigest::VerityChunkedSha256 => return None,
    };
    let cd_offset = usize::try_from(input.layout.cd_offset).ok()?;
    let eocd_offset = usize::try_from(input.layout.eocd_offset).ok()?;
    let before = slice(input.data, 0, input.block_offset).ok()?;
    let cd = slice(input.data, cd_offset, eocd_offset.checked_sub(cd_offset)?).ok()?;
    let mut eocd = input.data.get(eocd_offset..)?.to_vec();
    let block_offset = u32::try_from(input.block_offset).ok()?;
    eocd.get_mut(16..20)?.copy_from_slice(&block_offset.to_le_bytes());
    let sections: [&[u8]; 3] = [before, cd, &eocd];
    let chunks: usize = sections.iter().map(|s| s.len().div_ceil(CHUNK)).sum();
    let mut top = Hasher::new(hash)?;
    top.update(&[0x5a]);
    top.update(&u32::try_from(chunks).ok()?.to_le_bytes());
    for section in sections {
        for chunk in section.chunks(CHUNK) {
            let mut h = Hasher::new(hash)?;
            h.update(&[0xa5]);
            h.update(&(chunk.len() as u32).to_le_bytes());
            h.update(chunk);
            top.update(&h.finish());
        }
    }
    Some(top.finish())
}

/// Reads a u32-length-prefixed slice.
fn length_prefixed<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], String> {
    let len = r.u32_le().map_err(|e| e.to_string())?;
    r.bytes(len as usize).map_err(|e| e.to_string())
}

/// Iterates a sequence of length-prefixed items, capped.
fn items<'a>(data: &'a [u8], what: &str) -> Result<Vec<&'a [u8]>, String> {
    let mut r = Reader::new(data);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        if out.len() >= MAX_ITEMS {
            return Err(format!("too many {what}"));
        }
        out.push(length_prefixed(&mut r).map_err(|e| format!("malformed {what} #{}: {e}", out.len() + 1))?);
    }
    Ok(out)
}

/// Verifies one scheme block (`value` = the pair's value).
pub fn verify_scheme(
    scheme: Scheme,
    value: &[u8],
    input: &DigestInput<'_>,
    params: &VerifyParams,
    cache: &mut DigestCache,
) -> SchemeVerification {
    let mut out = SchemeVerification {
        scheme,
        signers: Vec::new(),
        errors: Vec::new(),
        unsupported: Vec::new(),
        digest_mismatch: false,
        skipped_digests: Vec::new(),
    };
    let mut r = Reader::new(value);
    let signers_area = match length_prefixed(&mut r) {
        Ok(s) => s,
        Err(e) => {
            out.errors.push(format!("malformed signers: {e}"));
            return out;
        }
    };
    let signer_blobs = match items(signers_area, "signers") {
        Ok(s) => s,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    if signer_blobs.is_empty() {
        out.errors.push("no signers".into());
        return out;
    }
    if signer_blobs.len() > MAX_SIGNERS {
        out.errors.push(format!("{} signers exceed the maximum", signer_blobs.len()));
        return out;
    }
    let (scheme_min, scheme_max) = match scheme {
        Scheme::V2 => (params.min_sdk.max(SDK_N), params.max_sdk),
        Scheme::V3 => (params.min_sdk.max(SDK_P), params.max_sdk),
        Scheme::V31 => (params.min_sdk.max(SDK_T), params.max_sdk),
    };
    let mut digests_to_verify: Vec<ContentDigest> = Vec::new();
    for (index, blob) in signer_blobs.iter().enumerate() {
        let mut signer = SignerResult { index, ..SignerResult::default() };
        let verified_digests =
            parse_signer(scheme, blob, scheme_min, scheme_max, params, &mut signer, &mut out.unsupported);
        for d in verified_digests {
            if !digests_to_verify.contains(&d) {
                digests_to_verify.push(d);
            }
        }
        for e in &signer.errors {
            out.errors.push(format!("signer #{}: {e}", index + 1));
        }
        if scheme == Scheme::V2 {
            for id in &signer.stripping_protection {
                let supported = *id == 3 && params.max_sdk >= SDK_P;
                if supported && !params.found_scheme_ids.contains(id) {
                    out.errors.push(format!(
                        "signer #{}: v2 signature says the APK is also signed with scheme v{id}, which was not found (stripped?)",
                        index + 1
                    ));
                }
            }
        }
        out.signers.push(signer);
    }
    if !out.errors.is_empty() {
        return out;
    }

    // Integrity of the whole file against every signer's digests.
    for alg in &digests_to_verify {
        let Some(actual) = cache.get(*alg, input) else {
            if *alg == ContentDigest::VerityChunkedSha256 {
                out.skipped_digests.push("VERITY_CHUNKED_SHA256".into());
            } else {
                out.errors.push(format!("cannot compute {alg:?} digest (layout out of range)"));
            }
            continue;
        };
        for signer in &out.signers {
            for (sig_id, expected) in &signer.content_digests {
                if signature_algorithm(*sig_id).map(|a| a.content) != Some(*alg) {
                    continue;
                }
                if *expected != actual {
                    out.digest_mismatch = true;
                    out.errors.push(format!(
                        "signer #{}: APK integrity check failed, {alg:?} digest mismatch (expected {}, actual {})",
                        signer.index + 1,
                        hex::encode(expected),
                        hex::encode(&actual)
                    ));
                }
            }
        }
    }

    if matches!(scheme, Scheme::V3 | Scheme::V31) {
        check_sdk_coverage(scheme, scheme_min, scheme_max, params, &mut out);
    }
    out
}

/// v3: the signers' platform ranges must be contiguous and cover the APK's range.
fn check_sdk_coverage(
    scheme: Scheme,
    min: u32,
    max: u32,
    params: &VerifyParams,
    out: &mut SchemeVerification,
) {
    let mut ranges: Vec<(i64, i64)> =
        out.signers.iter().filter_map(|s| Some((s.min_sdk?, s.max_sdk?))).collect();
    ranges.sort();
    let Some(first) = ranges.first() else { return };
    let first_min = first.0;
    let mut last_max = first.1;
    for (lo, hi) in ranges.iter().skip(1) {
        if *lo != last_max + 1 {
            out.errors.push("inconsistent SDK versions between signers".into());
            return;
        }
        last_max = *hi;
    }
    let needed_max = match (scheme, params.rotation_min_sdk) {
        (Scheme::V3, Some(rot)) => i64::from(rot) - 1,
        _ => i64::from(max),
    };
    if first_min > i64::from(min) || last_max < needed_max {
        out.errors
            .push(format!("signers cover SDK {first_min}..{last_max}, not the APK's {min}..{needed_max}"));
    }
}

/// Parses and checks one signer; returns the content digests its verified
/// signatures ask for.
fn parse_signer(
    scheme: Scheme,
    blob: &[u8],
    scheme_min: u32,
    scheme_max: u32,
    params: &VerifyParams,
    signer: &mut SignerResult,
    unsupported: &mut Vec<String>,
) -> Vec<ContentDigest> {
    let mut r = Reader::new(blob);
    let malformed = |signer: &mut SignerResult, e: String| {
        signer.errors.push(format!("malformed signer: {e}"));
    };
    let signed_data = match length_prefixed(&mut r) {
        Ok(s) => s,
        Err(e) => {
            malformed(signer, e);
            return Vec::new();
        }
    };
    let (mut sig_min, mut sig_max) = (i64::from(scheme_min), i64::from(scheme_max));
    if scheme != Scheme::V2 {
        let (Ok(lo), Ok(hi)) = (r.u32_le(), r.u32_le()) else {
            malformed(signer, "missing SDK range".into());
            return Vec::new();
        };
        let (lo, hi) = (i64::from(lo as i32), i64::from(hi as i32));
        signer.min_sdk = Some(lo);
        signer.max_sdk = Some(hi);
        if lo < 0 || lo > hi {
            signer.errors.push(format!("invalid SDK range {lo}..{hi}"));
        }
        sig_min = lo;
        sig_max = hi;
    }
    let (signatures, public_key) = match (length_prefixed(&mut r), length_prefixed(&mut r)) {
        (Ok(s), Ok(k)) => (s, k),
        (Err(e), _) | (_, Err(e)) => {
            malformed(signer, e);
            return Vec::new();
        }
    };

    // Signatures record: (algorithm ID, signature bytes).
    let mut all_sig_ids = Vec::new();
    let mut known: Vec<(SigAlgorithm, &[u8])> = Vec::new();
    let sig_items = match items(signatures, "signatures") {
        Ok(s) => s,
        Err(e) => {
            signer.errors.push(e);
            return Vec::new();
        }
    };
    for item in sig_items {
        let mut sr = Reader::new(item);
        let (Ok(id), Ok(bytes)) = (sr.u32_le(), length_prefixed(&mut sr)) else {
            signer.errors.push("malformed signature record".into());
            return Vec::new();
        };
        all_sig_ids.push(id);
        if let Some(alg) = signature_algorithm(id) {
            known.push((alg, bytes));
        }
    }
    if all_sig_ids.is_empty() {
        signer.errors.push("no signatures".into());
        return Vec::new();
    }
    let to_verify = match signatures_to_verify(&known, sig_min, sig_max) {
        Some(v) => v,
        None => {
            signer.errors.push("no supported signatures".into());
            return Vec::new();
        }
    };
    let key = match crypto::parse_spki(public_key) {
        Ok(k) => k,
        Err(e) => {
            signer.errors.push(format!("malformed public key: {e}"));
            return Vec::new();
        }
    };
    let mut verified_digests = Vec::new();
    for (alg, sig) in &to_verify {
        match crypto::verify(&key, alg.padding, alg.hash, signed_data, sig) {
            Ok(true) => verified_digests.push(alg.content),
            Ok(false) => {
                signer.errors.push(format!("signature {:#06x} over signed data did not verify", alg.id));
                return Vec::new();
            }
            Err(CryptoError::Unsupported(what)) => {
                unsupported.push(format!("signer #{}: {what}", signer.index + 1));
                verified_digests.push(alg.content);
            }
            Err(CryptoError::BadKey(e)) => {
                signer.errors.push(format!("malformed public key: {e}"));
                return Vec::new();
            }
        }
    }

    // Signed data: digests, certificates, [v3: min/max SDK], attributes.
    let mut sd = Reader::new(signed_data);
    let digests = length_prefixed(&mut sd);
    let certs = length_prefixed(&mut sd);
    let (Ok(digests), Ok(certs)) = (digests, certs) else {
        malformed(signer, "signed data truncated".into());
        return Vec::new();
    };
    if scheme != Scheme::V2 {
        let (Ok(lo), Ok(hi)) = (sd.u32_le(), sd.u32_le()) else {
            malformed(signer, "signed data lacks SDK range".into());
            return Vec::new();
        };
        if Some(i64::from(lo as i32)) != signer.min_sdk || Some(i64::from(hi as i32)) != signer.max_sdk {
            signer.errors.push("SDK range differs between signer and signed data".into());
        }
    }
    let attributes = match length_prefixed(&mut sd) {
        Ok(a) => a,
        Err(e) => {
            malformed(signer, format!("additional attributes: {e}"));
            return Vec::new();
        }
    };
    match items(certs, "certificates") {
        Ok(list) => signer.certificates = list.into_iter().map(<[u8]>::to_vec).collect(),
        Err(e) => {
            signer.errors.push(e);
            return Vec::new();
        }
    }
    let Some(first_cert) = signer.certificates.first() else {
        signer.errors.push("no certificates".into());
        return Vec::new();
    };
    match cert_fields(first_cert) {
        Ok(fields) if fields.spki == public_key => {}
        Ok(_) => {
            signer.errors.push("public key differs from the first certificate's key".into());
            return Vec::new();
        }
        Err(e) => {
            signer.errors.push(format!("malformed certificate #1: {e}"));
            return Vec::new();
        }
    }
    let digest_items = match items(digests, "digests") {
        Ok(d) => d,
        Err(e) => {
            signer.errors.push(e);
            return Vec::new();
        }
    };
    for item in digest_items {
        let mut dr = Reader::new(item);
        let (Ok(id), Ok(bytes)) = (dr.u32_le(), length_prefixed(&mut dr)) else {
            signer.errors.push("malformed digest record".into());
            return Vec::new();
        };
        signer.content_digests.push((id, bytes.to_vec()));
    }
    let digest_ids: Vec<u32> = signer.content_digests.iter().map(|(id, _)| *id).collect();
    if digest_ids != all_sig_ids {
        signer.errors.push("signature algorithms differ between signatures and digests records".into());
        return Vec::new();
    }
    let attr_items = match items(attributes, "additional attributes") {
        Ok(a) => a,
        Err(e) => {
            signer.errors.push(e);
            return Vec::new();
        }
    };
    for item in attr_items {
        let mut ar = Reader::new(item);
        let Ok(id) = ar.u32_le() else {
            signer.errors.push("malformed additional attribute".into());
            return Vec::new();
        };
        let value = item.get(4..).unwrap_or_default();
        match (scheme, id) {
            (Scheme::V2, ATTR_STRIPPING_PROTECTION) => {
                if let Ok(v) = Reader::new(value).u32_le() {
                    signer.stripping_protection.push(v);
                }
            }
            (Scheme::V3 | Scheme::V31, ATTR_PROOF_OF_ROTATION) => match parse_lineage(value) {
                Ok(lineage) => {
                    if lineage.last() != signer.certificates.first() {
                        signer
                            .errors
                            .push("proof-of-rotation does not end with the signer's certificate".into());
                    }
                    signer.lineage = lineage;
                }
                Err(e) => signer.errors.push(format!("proof-of-rotation: {e}")),
            },
            (Scheme::V3 | Scheme::V31, ATTR_ROTATION_MIN_SDK) => {
                signer.rotation_min_sdk = Reader::new(value).u32_le().ok();
            }
            _ => {}
        }
    }
    let _ = params;
    verified_digests
}

/// apksig's `getSignaturesToVerify`: the best signature per platform level
/// at which its algorithm becomes available, within [min, max].
fn signatures_to_verify<'a>(
    known: &[(SigAlgorithm, &'a [u8])],
    min: i64,
    max: i64,
) -> Option<Vec<(SigAlgorithm, &'a [u8])>> {
    let mut best: Vec<(SigAlgorithm, &'a [u8])> = Vec::new();
    let mut min_provided = i64::MAX;
    for (alg, sig) in known {
        let alg_min = i64::from(alg.min_sdk);
        if alg_min > max {
            continue;
        }
        min_provided = min_provided.min(alg_min);
        match best.iter_mut().find(|(b, _)| b.min_sdk == alg.min_sdk) {
            Some(slot) => {
                if preference(alg) > preference(&slot.0) {
                    *slot = (*alg, sig);
                }
            }
            None => best.push((*alg, sig)),
        }
    }
    if best.is_empty() || min < min_provided {
        return None;
    }
    best.sort_by_key(|(a, _)| a.id);
    Some(best)
}

/// Proof-of-rotation: version 1, then nodes (signed data{cert, sig alg},
/// flags, sig alg, signature); each node is signed by the previous node's key.
pub fn parse_lineage(value: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut r = Reader::new(value);
    let version = r.u32_le().map_err(|e| e.to_string())?;
    if version != 1 {
        return Err(format!("unknown lineage version {version}"));
    }
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut previous: Option<(PublicKey, u32)> = None;
    while r.remaining() > 0 {
        if certs.len() >= MAX_ITEMS {
            return Err("too many lineage nodes".into());
        }
        let node = length_prefixed(&mut r)?;
        let mut nr = Reader::new(node);
        let signed = length_prefixed(&mut nr)?;
        let _flags = nr.u32_le().map_err(|e| e.to_string())?;
        let sig_alg_id = nr.u32_le().map_err(|e| e.to_string())?;
        let signature = length_prefixed(&mut nr)?;
        let mut sr = Reader::new(signed);
        let cert = length_prefixed(&mut sr)?;
        let signed_sig_alg = sr.u32_le().map_err(|e| e.to_string())?;
        if let Some((key, prev_alg_id)) = &previous {
            if *prev_alg_id != signed_sig_alg {
                return Err("signature algorithm ID mismatch between lineage nodes".into());
            }
            let alg = signature_algorithm(*prev_alg_id)
                .ok_or_else(|| format!("unknown lineage signature algorithm {prev_alg_id:#x}"))?;
            match crypto::verify(key, alg.padding, alg.hash, signed, signature) {
                Ok(true) | Err(CryptoError::Unsupported(_)) => {}
                Ok(false) => {
                    return Err(format!("lineage node #{} signature did not verify", certs.len() + 1))
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        if certs.iter().any(|c| c == cert) {
            return Err("duplicate certificate in lineage".into());
        }
        let fields = cert_fields(cert).map_err(|e| e.to_string())?;
        let key = crypto::parse_spki(fields.spki).map_err(|e| e.to_string())?;
        previous = Some((key, sig_alg_id));
        certs.push(cert.to_vec());
    }
    Ok(certs)
}

/// SHA-256 of each signer's own certificate.
pub fn signer_fingerprints(v: &SchemeVerification) -> Vec<String> {
    v.signers.iter().filter_map(|s| s.certificates.first()).map(|c| certificate::sha256_hex(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::signing::block::tests::build_apk;

    fn lp(data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u32).to_le_bytes().to_vec();
        v.extend_from_slice(data);
        v
    }

    fn params() -> VerifyParams {
        VerifyParams {
            min_sdk: 24,
            max_sdk: i32::MAX as u32,
            found_scheme_ids: vec![],
            rotation_min_sdk: None,
        }
    }

    #[test]
    fn chunked_digest_matches_hand_computation() {
        let (data, layout) = build_apk(b"hello", &[(0x1234, vec![0; 4])], b"cd");
        let block_offset = 5;
        let input = DigestInput { data: &data, layout: &layout, block_offset };
        let got = compute_content_digest(ContentDigest::ChunkedSha256, &input).unwrap();
        let mut eocd = data[layout.eocd_offset as usize..].to_vec();
        eocd[16..20].copy_from_slice(&5u32.to_le_bytes());
        let chunk = |d: &[u8]| {
            let mut v = vec![0xa5];
            v.extend_from_slice(&(d.len() as u32).to_le_bytes());
            v.extend_from_slice(d);
            HashAlg::Sha256.digest(&v).unwrap()
        };
        let mut top = vec![0x5a, 3, 0, 0, 0];
        top.extend(chunk(b"hello"));
        top.extend(chunk(b"cd"));
        top.extend(chunk(&eocd));
        assert_eq!(got, HashAlg::Sha256.digest(&top).unwrap());
        assert!(compute_content_digest(ContentDigest::VerityChunkedSha256, &input).is_none());
    }

    #[test]
    fn malformed_blocks_fail_without_panicking() {
        let (data, layout) = build_apk(b"x", &[], b"");
        let input = DigestInput { data: &data, layout: &layout, block_offset: 1 };
        let mut cache = DigestCache::default();
        for value in [
            vec![],
            vec![1, 2],
            lp(&[]),
            lp(&lp(&[0xff; 3])),
            lp(&lp(&lp(&[1, 2, 3]))),
            lp(&[0xff, 0xff, 0xff, 0xff]),
        ] {
            for scheme in [Scheme::V2, Scheme::V3] {
                let v = verify_scheme(scheme, &value, &input, &params(), &mut cache);
                assert_eq!(v.verdict(), Some(false), "{value:?}");
            }
        }
    }

    #[test]
    fn unknown_algorithms_are_not_supported() {
        // signer: signed data (empty digests/certs/attrs), one signature with an unknown ID, key.
        let signed = [lp(&[]), lp(&[]), lp(&[])].concat();
        let mut sig = 0x9999u32.to_le_bytes().to_vec();
        sig.extend(lp(&[1, 2, 3]));
        let signer = [lp(&signed), lp(&lp(&sig)), lp(b"key")].concat();
        let value = lp(&lp(&signer));
        let (data, layout) = build_apk(b"x", &[], b"");
        let input = DigestInput { data: &data, layout: &layout, block_offset: 1 };
        let v = verify_scheme(Scheme::V2, &value, &input, &params(), &mut DigestCache::default());
        assert!(v.errors.iter().any(|e| e.contains("no supported signatures")), "{:?}", v.errors);
    }

    #[test]
    fn picks_best_signature_per_platform_level() {
        let a = signature_algorithm(0x0103).unwrap();
        let b = signature_algorithm(0x0104).unwrap();
        let c = signature_algorithm(0x0421).unwrap();
        let known = [(a, &[1u8][..]), (b, &[2u8][..]), (c, &[3u8][..])];
        let chosen = signatures_to_verify(&known, 24, i32::MAX as i64).unwrap();
        let ids: Vec<u32> = chosen.iter().map(|(a, _)| a.id).collect();
        assert_eq!(ids, vec![0x0104, 0x0421]);
        assert!(signatures_to_verify(&[(c, &[3u8][..])], 24, i32::MAX as i64).is_none());
        assert!(parse_lineage(&[2, 0, 0, 0]).is_err());
        assert_eq!(parse_lineage(&[1, 0, 0, 0]).unwrap().len(), 0);
        assert!(parse_lineage(&[1, 0, 0, 0, 9, 0, 0, 0]).is_err());
    }
}
