//! JAR signing (APK Signature Scheme v1): the full verification flow of
//! apksig's `V1SchemeVerifier`, which encodes how Android itself checks JAR
//! signatures on each platform version (digest algorithm choice by API
//! level, stripping protection, every entry outside META-INF/ covered by the
//! same signers).
//!
//! `manifest` reads the MANIFEST.MF / `.SF` text format, `entry_digests`
//! holds entry digests computed ahead by the caller; this file verifies.

use std::borrow::Cow;
use std::collections::HashMap;

use super::crypto::Hasher;
use super::pkcs7::{self, SignerCheck};

mod entry_digests;
pub mod manifest;

pub use entry_digests::EntryDigests;
pub use manifest::{base64_decode, ManifestParser, Section};
use manifest::{digest_matches, digests_to_verify};

pub const MANIFEST: &str = "META-INF/MANIFEST.MF";
/// apksig refuses more JAR signers than this.
const MAX_SIGNERS: usize = 10;
const SDK_N: u32 = 24;
const SDK_P: u32 = 28;

/// A zip entry as the v1 verifier sees it.
#[derive(Debug, Clone)]
pub struct JarEntry {
    pub name: String,
    pub local_header_offset: u64,
}

/// Reads an entry's uncompressed bytes by its index in the entry list.
pub type EntryReader<'r, 'a> = dyn FnMut(usize) -> Result<Cow<'a, [u8]>, String> + 'r;

#[derive(Debug, Clone, Default)]
pub struct V1Signer {
    /// Signature block entry, e.g. `META-INF/CERT.RSA`.
    pub block: String,
    /// DER certificates: signing certificate first, then its issuers.
    pub chain: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct V1Result {
    /// Any JAR signing material present (manifest or signature files).
    pub present: bool,
    pub verified: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Checks this build cannot perform (DSA or P-521 key).
    pub unsupported: Vec<String>,
    /// Fatal structural problems apksig reports as an exception (no verdict).
    pub exception: Option<String>,
    pub signers: Vec<V1Signer>,
    /// Every certificate of every signature block, with its block name.
    pub certificates: Vec<(Vec<u8>, String)>,
    /// Scheme IDs named by `X-Android-APK-Signed` in any .SF.
    pub apk_signed_schemes: Vec<u32>,
    /// Entries outside META-INF/ with no manifest digest.
    pub uncovered: Vec<String>,
    pub digest_mismatch: bool,
}

impl V1Result {
    /// `Some(true)` verified, `Some(false)` failed, `None` cannot tell.
    pub fn verdict(&self) -> Option<bool> {
        if !self.errors.is_empty() {
            Some(false)
        } else if self.exception.is_some() || !self.unsupported.is_empty() {
            None
        } else {
            Some(self.verified)
        }
    }
}

/// What v1 verification needs to know about the rest of the APK.
#[derive(Debug, Clone)]
pub struct V1Params {
    pub min_sdk: u32,
    pub max_sdk: u32,
    /// APK Signature Scheme IDs found and verified in the signing block.
    pub found_scheme_ids: Vec<u32>,
}

struct Signer {
    name: String,
    block_index: usize,
    sf_index: usize,
    sf_bytes: Vec<u8>,
    chain: Vec<Vec<u8>>,
    errors: Vec<String>,
    ignored: bool,
    sf_entry_names: Vec<String>,
}

/// Verifies the JAR signature of an APK whose (non-directory and directory)
/// entries are `entries`.
pub fn verify(entries: &[JarEntry], read: &mut EntryReader<'_, '_>, params: &V1Params) -> V1Result {
    verify_with_digests(entries, read, params, &EntryDigests::default())
}

/// [`verify`], taking entry digests from `digests` where they were
/// computed, reading (inflating) only the other entries.
pub fn verify_with_digests(
    entries: &[JarEntry],
    read: &mut EntryReader<'_, '_>,
    params: &V1Params,
    digests: &EntryDigests,
) -> V1Result {
    let mut out = V1Result::default();
    // Directory entries are ignored, as Android does.
    let records: Vec<usize> = (0..entries.len()).filter(|&i| !entries[i].name.ends_with('/')).collect();
    out.present = records.iter().any(|&i| {
        let n = &entries[i].name;
        n == MANIFEST || (n.starts_with("META-INF/") && is_sig_file(n))
    });

    let mut names: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    for &i in &records {
        if names.insert(entries[i].name.as_str(), i).is_some() {
            let msg = format!("duplicate entry name {:?}", entries[i].name);
            if !out.errors.contains(&msg) {
                out.errors.push(msg);
            }
        }
    }
    if !out.errors.is_empty() {
        return out;
    }

    let mut manifest_index = None;
    let mut sf_files: HashMap<&str, usize> = HashMap::new();
    let mut blocks: Vec<usize> = Vec::new();
    for &i in &records {
        let name = entries[i].name.as_str();
        if !name.starts_with("META-INF/") {
            continue;
        }
        if manifest_index.is_none() && name == MANIFEST {
            manifest_index = Some(i);
            continue;
        }
        if name.ends_with(".SF") {
            sf_files.insert(name, i);
        } else if name.ends_with(".RSA") || name.ends_with(".DSA") || name.ends_with(".EC") {
            blocks.push(i);
        }
    }
    let Some(manifest_index) = manifest_index else {
        out.errors.push(format!("missing {MANIFEST}"));
        return out;
    };
    let manifest = match read(manifest_index) {
        Ok(m) => m.into_owned(),
        Err(e) => {
            out.exception = Some(format!("cannot read {MANIFEST}: {e}"));
            return out;
        }
    };
    let mut parser = ManifestParser::new(&manifest);
    let main_section = parser.read_section();
    let sections = parser.read_all_sections();
    let mut by_name: HashMap<String, Section> = HashMap::with_capacity(sections.len());
    for (n, section) in sections.into_iter().enumerate() {
        let Some(name) = section.name().map(str::to_string) else {
            out.errors.push(format!("manifest section #{} has no name", n + 1));
            continue;
        };
        if by_name.contains_key(&name) {
            out.errors.push(format!("duplicate manifest section for {name:?}"));
            continue;
        }
        if !names.contains_key(name.as_str()) {
            out.errors.push(format!("{name} entry referenced by {MANIFEST} not found in the APK"));
        }
        by_name.insert(name, section);
    }
    if !out.errors.is_empty() {
        return out;
    }

    let mut signers: Vec<Signer> = Vec::new();
    for &bi in &blocks {
        let block_name = &entries[bi].name;
        let Some(dot) = block_name.rfind('.') else {
            continue;
        };
        let sf_name = format!("{}.SF", &block_name[..dot]);
        let Some(&sf_index) = sf_files.get(sf_name.as_str()) else {
            out.warnings.push(format!("{block_name} has no matching {sf_name}"));
            continue;
        };
        signers.push(Signer {
            name: block_name["META-INF/".len()..].to_string(),
            block_index: bi,
            sf_index,
            sf_bytes: Vec::new(),
            chain: Vec::new(),
            errors: Vec::new(),
            ignored: false,
            sf_entry_names: Vec::new(),
        });
    }
    if signers.is_empty() {
        out.errors.push("no JAR signatures".into());
        return out;
    }
    if signers.len() > MAX_SIGNERS {
        out.errors.push(format!("{} JAR signers exceed the maximum of {MAX_SIGNERS}", signers.len()));
        return out;
    }

    // Each signature block must verify over its .SF.
    for signer in &mut signers {
        verify_block_against_sf(entries, read, signer, params, &mut out);
        if out.exception.is_some() {
            return out;
        }
        for e in &signer.errors {
            out.errors.push(format!("JAR signer {}: {e}", signer.name));
        }
    }
    if !out.errors.is_empty() || !out.unsupported.is_empty() {
        return out;
    }

    // Each .SF must verify against the manifest.
    for signer in &mut signers {
        if let Err(e) =
            verify_sf_against_manifest(signer, &manifest, main_section.as_ref(), &by_name, params, &mut out)
        {
            out.exception = Some(e);
            return out;
        }
        if !signer.ignored {
            for e in &signer.errors {
                out.errors.push(format!("JAR signer {}: {e}", signer.name));
            }
        }
    }
    if !out.errors.is_empty() {
        return out;
    }
    signers.retain(|s| !s.ignored);
    if signers.is_empty() {
        out.errors.push("no JAR signatures".into());
        return out;
    }

    // Every entry outside META-INF/ must be in the manifest, signed by the
    // same signers, with matching digests.
    let mut ordered = records.clone();
    ordered.sort_by_key(|&i| entries[i].local_header_offset);
    let mut first_signers: Option<Vec<usize>> = None;
    for &i in &ordered {
        let name = &entries[i].name;
        if name.starts_with("META-INF/") {
            continue;
        }
        let Some(section) = by_name.get(name.as_str()) else {
            out.uncovered.push(name.clone());
            out.errors.push(format!("no digest for {name} in {MANIFEST}"));
            continue;
        };
        let entry_signers: Vec<usize> =
            (0..signers.len()).filter(|&s| signers[s].sf_entry_names.iter().any(|n| n == name)).collect();
        if entry_signers.is_empty() {
            out.uncovered.push(name.clone());
            out.errors.push(format!("{name} is not signed by any JAR signer"));
            continue;
        }
        match &first_signers {
            None => first_signers = Some(entry_signers),
            Some(first) if *first != entry_signers => {
                out.errors
                    .push(format!("{name} is signed by a different set of JAR signers than other entries"));
                continue;
            }
            Some(_) => {}
        }
        let expected = match digests_to_verify(section, "-Digest", params.min_sdk, params.max_sdk) {
            Ok(d) => d,
            Err(e) => {
                out.exception = Some(e);
                return out;
            }
        };
        if expected.is_empty() {
            out.errors.push(format!("no usable digest for {name} in {MANIFEST}"));
            continue;
        }
        if let Some(actual) = digests.lookup(i, &expected) {
            for (d, actual) in expected.iter().zip(actual) {
                if actual != d.digest.as_slice() {
                    out.digest_mismatch = true;
                    out.errors.push(format!("{} digest of {name} does not match {MANIFEST}", d.alg.name()));
                }
            }
            continue;
        }
        let data = match read(i) {
            Ok(d) => d,
            Err(e) => {
                out.exception = Some(format!("cannot read {name}: {e}"));
                return out;
            }
        };
        for d in &expected {
            let Some(mut h) = Hasher::new(d.alg) else {
                out.unsupported.push(format!("{} digest of {name}", d.alg.name()));
                continue;
            };
            h.update(&data);
            if h.finish() != d.digest {
                out.digest_mismatch = true;
                out.errors.push(format!("{} digest of {name} does not match {MANIFEST}", d.alg.name()));
            }
        }
    }
    if first_signers.is_none() {
        out.errors.push("no signed entries".into());
    }
    for &i in &records {
        let name = &entries[i].name;
        let is_signature_file =
            name == MANIFEST || signers.iter().any(|s| s.block_index == i || s.sf_index == i);
        if name.starts_with("META-INF/") && !is_signature_file {
            out.warnings.push(format!("{name} is not protected by the JAR signature"));
        }
    }
    for signer in &signers {
        out.signers
            .push(V1Signer { block: entries[signer.block_index].name.clone(), chain: signer.chain.clone() });
    }
    out.verified = out.errors.is_empty() && out.unsupported.is_empty();
    out
}

/// Whether any JAR signature block or .SF file is present.
pub fn has_signature_files(entries: &[JarEntry]) -> bool {
    entries.iter().any(|e| e.name.starts_with("META-INF/") && is_sig_file(&e.name))
}

/// Certificates of every signature block, without verifying anything (for
/// reporting when Android would not look at the JAR signature).
pub fn collect_certificates(entries: &[JarEntry], read: &mut EntryReader<'_, '_>) -> Vec<(Vec<u8>, String)> {
    let mut out: Vec<(Vec<u8>, String)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let n = &e.name;
        if !(n.starts_with("META-INF/") && (n.ends_with(".RSA") || n.ends_with(".DSA") || n.ends_with(".EC")))
        {
            continue;
        }
        let Ok(bytes) = read(i) else { continue };
        let Ok(sd) = pkcs7::parse(&bytes) else {
            continue;
        };
        for cert in sd.certificates {
            if !out.iter().any(|(c, _)| c.as_slice() == cert) {
                out.push((cert.to_vec(), n.clone()));
            }
        }
    }
    out
}

fn is_sig_file(name: &str) -> bool {
    name.ends_with(".SF") || name.ends_with(".RSA") || name.ends_with(".DSA") || name.ends_with(".EC")
}

fn verify_block_against_sf(
    entries: &[JarEntry],
    read: &mut EntryReader<'_, '_>,
    signer: &mut Signer,
    params: &V1Params,
    out: &mut V1Result,
) {
    let block_name = entries[signer.block_index].name.clone();
    let block = match read(signer.block_index) {
        Ok(b) => b.into_owned(),
        Err(e) => {
            out.exception = Some(format!("cannot read {block_name}: {e}"));
            return;
        }
    };
    match read(signer.sf_index) {
        Ok(sf) => signer.sf_bytes = sf.into_owned(),
        Err(e) => {
            out.exception = Some(format!("cannot read {}: {e}", entries[signer.sf_index].name));
            return;
        }
    }
    let sd = match pkcs7::parse(&block) {
        Ok(sd) => sd,
        Err(e) => {
            signer.errors.push(format!("failed to parse {block_name}: {e}"));
            return;
        }
    };
    for cert in &sd.certificates {
        if !out.certificates.iter().any(|(c, _)| c.as_slice() == *cert) {
            out.certificates.push((cert.to_vec(), block_name.clone()));
        }
    }
    if sd.signer_infos.is_empty() {
        signer.errors.push(format!("{block_name} has no signers"));
        return;
    }
    let tries = if params.min_sdk < SDK_N { &sd.signer_infos[..1] } else { &sd.signer_infos[..] };
    let mut first_verified = None;
    for info in tries {
        match pkcs7::verify_signer_info(&sd, info, &signer.sf_bytes, params.min_sdk, params.max_sdk) {
            SignerCheck::Verified(cert) => {
                first_verified.get_or_insert(cert);
            }
            SignerCheck::NotVerified => {}
            SignerCheck::Fatal(e) => {
                signer.errors.push(format!("{block_name}: {e}"));
                return;
            }
            SignerCheck::Unsupported(what) => {
                out.unsupported.push(format!("{block_name}: {what}"));
                return;
            }
        }
    }
    match first_verified {
        Some(cert) => {
            signer.chain = pkcs7::certificate_chain(&sd, cert).into_iter().map(<[u8]>::to_vec).collect();
        }
        None => signer
            .errors
            .push(format!("{block_name} signature over {} did not verify", entries[signer.sf_index].name)),
    }
}

fn verify_sf_against_manifest(
    signer: &mut Signer,
    manifest: &[u8],
    main_section: Option<&Section>,
    by_name: &HashMap<String, Section>,
    params: &V1Params,
    out: &mut V1Result,
) -> Result<(), String> {
    let sf_bytes = std::mem::take(&mut signer.sf_bytes);
    let mut sf = ManifestParser::new(&sf_bytes);
    let Some(sf_main) = sf.read_section().filter(|s| s.get("Signature-Version").is_some()) else {
        signer.errors.push("signature file has no Signature-Version".into());
        signer.ignored = true;
        return Ok(());
    };

    if let Some(list) = sf_main.get("X-Android-APK-Signed") {
        let ids: Vec<u32> = list.split(',').filter_map(|t| t.trim().parse().ok()).collect();
        for id in &ids {
            if !out.apk_signed_schemes.contains(id) {
                out.apk_signed_schemes.push(*id);
            }
        }
        if params.max_sdk >= SDK_N {
            let supported: &[u32] = if params.max_sdk >= SDK_P { &[2, 3] } else { &[2] };
            for id in ids.iter().filter(|id| supported.contains(id)) {
                if !params.found_scheme_ids.contains(id) {
                    signer.errors.push(format!(
                        "signature file says the APK is signed with APK Signature Scheme v{id} but no such signature was found (stripped?)"
                    ));
                }
            }
            if !signer.errors.is_empty() {
                return Ok(());
            }
        }
    }

    let signtool = sf_main.get("Created-By").is_some_and(|c| c.contains("signtool"));
    let whole_suffix = if signtool { "-Digest" } else { "-Digest-Manifest" };
    let whole = digests_to_verify(&sf_main, whole_suffix, params.min_sdk, params.max_sdk)?;
    let manifest_verified = !whole.is_empty() && digest_matches(&whole, manifest) == Some(true);
    if !signtool {
        if let Some(main) = main_section {
            let expected = digests_to_verify(
                &sf_main,
                "-Digest-Manifest-Main-Attributes",
                params.min_sdk,
                params.max_sdk,
            )?;
            let bytes = manifest.get(main.start..main.start + main.size).unwrap_or_default();
            if !expected.is_empty() && digest_matches(&expected, bytes) == Some(false) {
                signer.errors.push("digest of the manifest main section does not match".into());
            }
        }
    }
    if !signer.errors.is_empty() {
        return Ok(());
    }
    let mut seen: Vec<String> = Vec::new();
    for (n, section) in sf.read_all_sections().into_iter().enumerate() {
        let Some(name) = section.name().map(str::to_string) else {
            signer.errors.push(format!("signature file section #{} has no name", n + 1));
            signer.ignored = true;
            return Ok(());
        };
        if seen.contains(&name) {
            signer.errors.push(format!("duplicate signature file section for {name:?}"));
            signer.ignored = true;
            return Ok(());
        }
        seen.push(name.clone());
        if manifest_verified {
            continue;
        }
        let Some(manifest_section) = by_name.get(&name) else {
            signer.errors.push(format!("{name} is in the signature file but not in the manifest"));
            signer.ignored = true;
            continue;
        };
        let expected = digests_to_verify(&section, "-Digest", params.min_sdk, params.max_sdk)?;
        if expected.is_empty() {
            signer.errors.push(format!("no digest for {name} in the signature file"));
            continue;
        }
        let mut size = manifest_section.size;
        let start = manifest_section.start;
        if signtool
            && size >= 2
            && manifest.get(start + size - 1) == Some(&b'\n')
            && manifest.get(start + size - 2) == Some(&b'\n')
        {
            size -= 1;
        }
        let bytes = manifest.get(start..start + size).unwrap_or_default();
        match digest_matches(&expected, bytes) {
            Some(true) => {}
            Some(false) => {
                out.digest_mismatch = true;
                signer.errors.push(format!(
                    "digest of {MANIFEST} section for {name} does not match the signature file"
                ));
            }
            None => out.unsupported.push(format!("MD5 digest of manifest section {name}")),
        }
    }
    signer.sf_entry_names = seen;
    signer.sf_bytes = sf_bytes;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn entries(names: &[&str]) -> Vec<JarEntry> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| JarEntry { name: n.to_string(), local_header_offset: i as u64 })
            .collect()
    }

    #[test]
    fn unsigned_and_broken_jars_do_not_verify() {
        let params = V1Params { min_sdk: 21, max_sdk: u32::MAX, found_scheme_ids: vec![] };
        let list = entries(&["classes.dex"]);
        let r = verify(&list, &mut |_| Ok(Cow::Borrowed(&b""[..])), &params);
        assert!(!r.present);
        assert_eq!(r.verdict(), Some(false));

        let list = entries(&["META-INF/MANIFEST.MF", "classes.dex"]);
        let mf = b"Manifest-Version: 1.0\r\n\r\nName: classes.dex\r\nSHA-256-Digest: Zm9v\r\n\r\n".to_vec();
        let r = verify(&list, &mut |i| Ok(Cow::Owned(if i == 0 { mf.clone() } else { vec![] })), &params);
        assert!(r.present);
        assert!(r.errors.iter().any(|e| e.contains("no JAR signatures")));

        let list = entries(&["a", "a"]);
        let r = verify(&list, &mut |_| Ok(Cow::Borrowed(&b""[..])), &params);
        assert!(r.errors[0].contains("duplicate"));

        let list = entries(&["META-INF/MANIFEST.MF", "META-INF/CERT.SF", "META-INF/CERT.RSA", "classes.dex"]);
        let r = verify(
            &list,
            &mut |i| Ok(Cow::Owned(if i == 0 { mf.clone() } else { b"\x30\x80garbage".to_vec() })),
            &params,
        );
        assert_eq!(r.verdict(), Some(false));
        assert!(r.errors.iter().any(|e| e.contains("CERT.RSA")), "{:?}", r.errors);
    }
}
