//! APK signing: JAR signatures (v1), the APK Signing Block (v2, v3, v3.1),
//! and the certificates behind them, verified the way `apksigner verify`
//! (apksig's `ApkVerifier`) decides for the app's SDK range.
//!
//! Submodules: `block` finds the signing block, `v2v3` verifies its scheme
//! blocks, `jar` verifies MANIFEST.MF / .SF, `pkcs7` the signature block
//! files, `crypto` the signature algorithms, `certificate` describes
//! certificates, `der` is the ASN.1 walker underneath.
//!
//! Everything here works on bytes: the whole file, the offsets of its ZIP
//! structures ([`ZipSections`]), and entry bytes read by the caller. Walking
//! the archive (which entries, under which inflate budget, reusing digests
//! the analysis computes anyway) is `android::signing`'s job.

pub mod block;
pub mod certificate;
pub mod crypto;
pub mod der;
pub mod jar;
pub mod pkcs7;
pub mod v2v3;

use super::summary::{Certificate, SchemeResult, Signing};
use crate::diagnostic::Diagnostic;

pub use block::ZipSections;
use block::{BlockError, SigningBlock};
use v2v3::{DigestCache, DigestInput, Scheme, SchemeVerification, VerifyParams, SDK_N, SDK_P, SDK_T};

/// Result of a verification: the report section and what was noticed on the way.
#[derive(Debug, Clone, Default)]
pub struct SigningOutcome {
    pub signing: Signing,
    pub diagnostics: Vec<Diagnostic>,
}

/// When the central directory is too damaged to verify anything (apksigner
/// and the installer refuse such a file), a signing block still sitting
/// before it names who signed the APK: report those certificates as
/// evidence, without letting them count as verified. `sections`: where the
/// caller assumes the directory and end record are despite the damage.
pub fn salvage_certificates(data: &[u8], sections: &ZipSections, outcome: &mut SigningOutcome) {
    let Ok(Some(block)) = block::locate(data, sections) else { return };
    let input = DigestInput { data, layout: sections, block_offset: block.offset };
    let params = VerifyParams::every_sdk();
    let mut cache = DigestCache::default();
    let before = outcome.signing.certificates.len();
    for (id, scheme) in [(block::ID_V31, Scheme::V31), (block::ID_V3, Scheme::V3), (block::ID_V2, Scheme::V2)]
    {
        if let Some(value) = block.find(id) {
            let v = v2v3::verify_scheme(scheme, value, &input, &params, &mut cache);
            add_scheme_certs(&v, &mut outcome.signing.certificates);
        }
    }
    if outcome.signing.certificates.len() > before {
        // It is signed, just not verifiably.
        outcome.diagnostics.retain(|d| d.code != "signing.unsigned");
        outcome.diagnostics.push(Diagnostic::warning(
            "signing.unverifiable_block",
            "APK Signing Block read for its certificates only: the central directory is damaged, so no signature can be verified and Android refuses to install the file",
        ));
    }
}

/// Verifies an APK's signatures for platforms `min_sdk..=max_sdk`, in one
/// go over the pieces it needs: the whole file `data`, where its ZIP
/// structures are (`None`: no usable end record, so no signing block), its
/// entries, and a reader of their uncompressed bytes.
///
/// `min_sdk`: the manifest's minSdkVersion (apksigner's default 1 when
/// absent). `max_sdk`: pass `None` to match `apksigner verify` (it checks up
/// to the newest platform; Android ignores the manifest's maxSdkVersion).
/// Callers that read the entries anyway use [`verify_block_schemes`] and
/// [`finish_v1`] around their own reads instead.
pub fn analyze_parts(
    data: &[u8],
    layout: Option<&ZipSections>,
    entries: &[jar::JarEntry],
    read: &mut jar::EntryReader<'_, '_>,
    min_sdk: Option<u32>,
    max_sdk: Option<u32>,
) -> SigningOutcome {
    let phase = verify_block_schemes(data, layout, min_sdk, max_sdk);
    finish_v1(phase, entries, read, &jar::EntryDigests::default())
}

/// What the APK Signing Block decided, before v1: the first half of a
/// verification, from [`verify_block_schemes`], completed by [`finish_v1`].
pub struct BlockPhase {
    min: u32,
    max: u32,
    diags: Vec<Diagnostic>,
    schemes: Vec<SchemeResult>,
    certs: Vec<Certificate>,
    failed: bool,
    indeterminate: bool,
    found_ids: Vec<u32>,
    v2_result: Option<SchemeVerification>,
    v3_result: Option<SchemeVerification>,
}

impl BlockPhase {
    /// v1: required before Android N, or when no block scheme was found.
    pub fn v1_needed(&self) -> bool {
        !self.failed && (self.min < SDK_N || self.found_ids.is_empty())
    }

    /// What v1 verification (and planning its entry digests) needs to know.
    pub fn v1_params(&self) -> jar::V1Params {
        jar::V1Params { min_sdk: self.min, max_sdk: self.max, found_scheme_ids: self.found_ids.clone() }
    }
}

/// Finds and verifies the APK Signing Block schemes (v3.1, v3, v2) of
/// `data` for platforms `min_sdk..=max_sdk` (see [`analyze_parts`]).
pub fn verify_block_schemes(
    data: &[u8],
    layout: Option<&ZipSections>,
    min_sdk: Option<u32>,
    max_sdk: Option<u32>,
) -> BlockPhase {
    let min = min_sdk.unwrap_or(1);
    let max = max_sdk.unwrap_or(i32::MAX as u32).max(min);
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut schemes: Vec<SchemeResult> = Vec::new();
    let mut certs: Vec<Certificate> = Vec::new();
    // Some(false) once any required scheme fails; None once something cannot be checked.
    let mut failed = false;
    let mut indeterminate = false;

    let block = match layout {
        Some(layout) => locate_block(data, layout, &mut diags),
        None => None,
    };

    let mut found_ids: Vec<u32> = Vec::new();
    let mut v2_result: Option<SchemeVerification> = None;
    let mut v3_result: Option<SchemeVerification> = None;
    if let (Some(block), Some(layout)) = (&block, layout) {
        let input = DigestInput { data, layout, block_offset: block.offset };
        let mut cache = DigestCache::default();
        let mut params =
            VerifyParams { min_sdk: min, max_sdk: max, found_scheme_ids: Vec::new(), rotation_min_sdk: None };

        if let Some(value) = block.find(block::ID_V31) {
            if max >= SDK_T {
                let v = v2v3::verify_scheme(Scheme::V31, value, &input, &params, &mut cache);
                if v.verdict() == Some(true) {
                    params.rotation_min_sdk =
                        v.signers.iter().filter_map(|s| s.min_sdk).min().map(|m| m.max(0) as u32);
                }
                record_scheme(&v, &mut schemes, &mut certs, &mut diags, &mut failed, &mut indeterminate);
            }
        }
        if !failed && max >= SDK_P {
            if let Some(value) = block.find(block::ID_V3) {
                let v = v2v3::verify_scheme(Scheme::V3, value, &input, &params, &mut cache);
                found_ids.push(3);
                record_scheme(&v, &mut schemes, &mut certs, &mut diags, &mut failed, &mut indeterminate);
                v3_result = Some(v);
            }
        }
        if !failed && max >= SDK_N && (min < SDK_P || found_ids.is_empty()) {
            if let Some(value) = block.find(block::ID_V2) {
                params.found_scheme_ids = found_ids.clone();
                let v = v2v3::verify_scheme(Scheme::V2, value, &input, &params, &mut cache);
                found_ids.push(2);
                record_scheme(&v, &mut schemes, &mut certs, &mut diags, &mut failed, &mut indeterminate);
                v2_result = Some(v);
            }
        } else if let Some(value) = block.find(block::ID_V2) {
            // Not needed for the verdict; listed so the report shows it exists.
            let signers = v2v3::verify_scheme(Scheme::V2, value, &input, &params, &mut cache);
            add_scheme_certs(&signers, &mut certs);
            schemes.push(SchemeResult {
                scheme: "v2".into(),
                verified: false,
                errors: vec!["not checked: Android verifies v3 instead on this SDK range".into()],
                signers: v2v3::signer_fingerprints(&signers),
            });
        }
    }

    BlockPhase { min, max, diags, schemes, certs, failed, indeterminate, found_ids, v2_result, v3_result }
}

/// Second half of a verification: v1 (JAR signing) when `phase` says
/// Android would check it, and the overall verdict. `digests`: entry
/// digests computed ahead by the caller; other entries are read with `read`.
pub fn finish_v1(
    phase: BlockPhase,
    entries: &[jar::JarEntry],
    read: &mut jar::EntryReader<'_, '_>,
    digests: &jar::EntryDigests,
) -> SigningOutcome {
    let v1_needed = phase.v1_needed();
    let params = phase.v1_params();
    let BlockPhase {
        min: _,
        max: _,
        mut diags,
        mut schemes,
        mut certs,
        mut failed,
        mut indeterminate,
        found_ids,
        v2_result,
        v3_result,
    } = phase;
    let mut v1: Option<jar::V1Result> = None;
    if v1_needed {
        let r = jar::verify_with_digests(entries, read, &params, digests);
        let verdict = r.verdict();
        if r.present || found_ids.is_empty() {
            schemes.push(SchemeResult {
                scheme: "v1".into(),
                verified: verdict == Some(true),
                errors: r
                    .errors
                    .iter()
                    .chain(r.unsupported.iter())
                    .chain(r.exception.iter())
                    .cloned()
                    .collect(),
                signers: r
                    .signers
                    .iter()
                    .filter_map(|s| s.chain.first())
                    .map(|c| certificate::sha256_hex(c))
                    .collect(),
            });
        }
        match verdict {
            Some(false) => failed = true,
            None => indeterminate = true,
            Some(true) => {}
        }
        v1_diagnostics(&r, &mut diags);
        v1 = Some(r);
    } else if jar::has_signature_files(entries) {
        let bag = jar::collect_certificates(entries, read);
        for (der_cert, source) in &bag {
            push_cert(&mut certs, der_cert, source);
        }
        schemes.push(SchemeResult {
            scheme: "v1".into(),
            verified: false,
            errors: vec![if failed {
                "not checked: the APK Signing Block already fails".into()
            } else {
                "not checked: Android ignores v1 when v2/v3 verifies and min SDK >= 24".into()
            }],
            signers: Vec::new(),
        });
    }
    if v1.is_some() && jar::has_signature_files(entries) {
        // Verification may stop before reading the signature blocks; the
        // certificates are still worth reporting.
        for (der_cert, source) in &jar::collect_certificates(entries, read) {
            push_cert(&mut certs, der_cert, source);
        }
    }
    if let Some(r) = &v1 {
        for signer in &r.signers {
            for c in &signer.chain {
                push_cert(&mut certs, c, &signer.block);
            }
        }
        for (c, source) in &r.certificates {
            push_cert(&mut certs, c, source);
        }
    }

    if !failed && !indeterminate {
        if let Some(e) = cross_check(v1.as_ref(), v2_result.as_ref(), v3_result.as_ref()) {
            diags.push(Diagnostic::error("signing.signer_mismatch", e));
            failed = true;
        }
    }

    let any_scheme =
        !found_ids.is_empty() || v1.as_ref().is_some_and(|r| r.present) || jar::has_signature_files(entries);
    if !any_scheme {
        diags.push(Diagnostic::warning("signing.unsigned", "the APK carries no signature"));
    } else if found_ids.is_empty() && v1.as_ref().is_some_and(|r| r.verdict() == Some(true)) {
        diags.push(Diagnostic::warning(
            "signing.v1_only",
            "signed with JAR signing (v1) only: on Android < 7 the signature does not protect the whole file (Janus, CVE-2017-13156)",
        ));
    }
    certificate_diagnostics(&certs, &mut diags);

    let verified = if failed || !any_scheme {
        Some(false)
    } else if indeterminate {
        diags.push(Diagnostic::warning(
            "signing.unsupported_algorithm",
            "a signature uses an algorithm or key this build cannot check (DSA or EC P-521)",
        ));
        None
    } else {
        Some(true)
    };
    SigningOutcome {
        signing: Signing { schemes, verified, not_verifiable: None, certificates: certs },
        diagnostics: diags,
    }
}

fn locate_block<'a>(
    data: &'a [u8],
    layout: &ZipSections,
    diags: &mut Vec<Diagnostic>,
) -> Option<SigningBlock<'a>> {
    match block::locate(data, layout) {
        Ok(Some(b)) => {
            if let Some(e) = &b.pairs_error {
                diags.push(
                    Diagnostic::warning("signing.block_malformed", format!("APK Signing Block entries: {e}"))
                        .at(format!("offset {:#x}", b.offset)),
                );
            }
            for pair in &b.pairs {
                let what = match pair.id {
                    block::ID_V2 | block::ID_V3 | block::ID_V31 => continue,
                    id => block::pair_name(id)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("unknown ID {id:#010x}")),
                };
                diags.push(
                    Diagnostic::info("signing.block_entry", format!("APK Signing Block carries {what}"))
                        .at(format!("offset {:#x}", pair.offset)),
                );
            }
            Some(b)
        }
        Ok(None) => None,
        Err(e @ BlockError::SizeMismatch { .. }) => {
            diags.push(Diagnostic::error(
                "signing.block_size_mismatch",
                format!("{e}: the block is invalid and Android ignores it"),
            ));
            None
        }
        Err(e) => {
            diags.push(Diagnostic::error(
                "signing.block_malformed",
                format!("{e}: Android ignores the block"),
            ));
            None
        }
    }
}

fn add_scheme_certs(v: &SchemeVerification, certs: &mut Vec<Certificate>) {
    let source = match v.scheme {
        Scheme::V2 => "APK Signature Scheme v2",
        Scheme::V3 => "APK Signature Scheme v3",
        Scheme::V31 => "APK Signature Scheme v3.1",
    };
    for signer in &v.signers {
        for c in &signer.certificates {
            push_cert(certs, c, source);
        }
        for c in &signer.lineage {
            push_cert(certs, c, &format!("{source} lineage"));
        }
    }
}

fn record_scheme(
    v: &SchemeVerification,
    schemes: &mut Vec<SchemeResult>,
    certs: &mut Vec<Certificate>,
    diags: &mut Vec<Diagnostic>,
    failed: &mut bool,
    indeterminate: &mut bool,
) {
    add_scheme_certs(v, certs);
    let label = v.scheme.label();
    match v.verdict() {
        Some(false) => {
            *failed = true;
            let code =
                if v.digest_mismatch { "signing.digest_mismatch" } else { "signing.signature_invalid" };
            for e in &v.errors {
                diags.push(Diagnostic::error(code, format!("{label}: {e}")));
            }
        }
        None => *indeterminate = true,
        Some(true) => {}
    }
    for s in &v.skipped_digests {
        diags.push(Diagnostic::info(
            "signing.digest_not_checked",
            format!("{label}: {s} content digest not computed"),
        ));
    }
    schemes.push(SchemeResult {
        scheme: label.into(),
        verified: v.verdict() == Some(true),
        errors: v.errors.iter().chain(v.unsupported.iter()).cloned().collect(),
        signers: v2v3::signer_fingerprints(v),
    });
}

fn v1_diagnostics(r: &jar::V1Result, diags: &mut Vec<Diagnostic>) {
    if !r.present {
        return;
    }
    if !r.uncovered.is_empty() {
        let sample: Vec<&str> = r.uncovered.iter().take(5).map(String::as_str).collect();
        diags.push(Diagnostic::warning(
            "signing.entries_not_covered",
            format!(
                "{} entries are not covered by the JAR signature (e.g. {})",
                r.uncovered.len(),
                sample.join(", ")
            ),
        ));
    }
    let code = if r.digest_mismatch { "signing.digest_mismatch" } else { "signing.signature_invalid" };
    for e in r.errors.iter().filter(|e| !e.starts_with("no digest for")).take(20) {
        let code = if e.contains("stripped?") { "signing.scheme_stripped" } else { code };
        diags.push(Diagnostic::error(code, format!("v1: {e}")));
    }
    if let Some(e) = &r.exception {
        diags.push(Diagnostic::error("signing.malformed", format!("v1: {e}")));
    }
}

/// apksig's final checks: v1 and v2 signers must be the same certificates,
/// and a v3 signer must match (or descend by rotation from) the older scheme's.
fn cross_check(
    v1: Option<&jar::V1Result>,
    v2: Option<&SchemeVerification>,
    v3: Option<&SchemeVerification>,
) -> Option<String> {
    let v1 = v1.filter(|r| r.verdict() == Some(true));
    let v2 = v2.filter(|r| r.verdict() == Some(true));
    let v3 = v3.filter(|r| r.verdict() == Some(true));
    let v1_certs: Vec<&Vec<u8>> =
        v1.map(|r| r.signers.iter().filter_map(|s| s.chain.first()).collect()).unwrap_or_default();
    let v2_certs: Vec<&Vec<u8>> =
        v2.map(|r| r.signers.iter().filter_map(|s| s.certificates.first()).collect()).unwrap_or_default();
    if v1.is_some()
        && v2.is_some()
        && (v1_certs.iter().any(|c| !v2_certs.contains(c)) || v2_certs.iter().any(|c| !v1_certs.contains(c)))
    {
        return Some("v1 and v2 signers differ".into());
    }
    let v3 = v3?;
    let old = if v1.is_some() { v1_certs.first().copied() } else { v2_certs.first().copied() }?;
    let lineage = v3.signers.iter().map(|s| &s.lineage).max_by_key(|l| l.len()).filter(|l| !l.is_empty());
    match lineage {
        None => {
            let v3_cert = v3.signers.first().and_then(|s| s.certificates.first());
            (v3.signers.len() != 1 || v3_cert != Some(old))
                .then(|| "v3 signer differs from the v1/v2 signer".into())
        }
        Some(l) => {
            (l.first() != Some(old)).then(|| "v1/v2 signer is not the root of the v3 rotation lineage".into())
        }
    }
}

fn push_cert(certs: &mut Vec<Certificate>, der_cert: &[u8], source: &str) {
    let sha = certificate::sha256_hex(der_cert);
    if certs.iter().any(|c| c.sha256 == sha) {
        return;
    }
    certs.push(certificate::describe(der_cert, source));
}

fn certificate_diagnostics(certs: &[Certificate], diags: &mut Vec<Diagnostic>) {
    for c in certs {
        let at = format!("{} ({})", c.source, &c.sha256[..16.min(c.sha256.len())]);
        if c.debug {
            diags.push(
                Diagnostic::warning("signing.debug_certificate", "signed with the Android debug certificate")
                    .at(&at),
            );
        }
        if let Some(w) = certificate::weakness(c) {
            diags
                .push(Diagnostic::warning("signing.weak_algorithm", format!("certificate uses {w}")).at(&at));
        }
        // Android ignores certificate validity dates for APK signers, and a
        // report must not change with the day it is made, so dates are only
        // reported (`not_before`, `not_after`), never compared with the clock.
        if let (Some(nb), Some(na)) = (&c.not_before, &c.not_after) {
            // ISO 8601 strings compare in time order.
            if na < nb {
                diags.push(
                    Diagnostic::info(
                        "signing.certificate_validity_inverted",
                        format!("certificate validity ends ({na}) before it starts ({nb})"),
                    )
                    .at(&at),
                );
            }
        }
    }
}

/// Verifies the APK Signing Block of a whole file with default SDK bounds,
/// for fuzzing and quick inspection: no ZIP entries are read.
pub fn inspect_signing_block(data: &[u8]) -> Vec<SchemeResult> {
    let Ok(layout) = block::find_eocd(data) else {
        return Vec::new();
    };
    let Ok(Some(block)) = block::locate(data, &layout) else {
        return Vec::new();
    };
    let input = DigestInput { data, layout: &layout, block_offset: block.offset };
    let params = VerifyParams::every_sdk();
    let mut cache = DigestCache::default();
    let mut out = Vec::new();
    for (id, scheme) in [(block::ID_V31, Scheme::V31), (block::ID_V3, Scheme::V3), (block::ID_V2, Scheme::V2)]
    {
        if let Some(value) = block.find(id) {
            let v = v2v3::verify_scheme(scheme, value, &input, &params, &mut cache);
            out.push(SchemeResult {
                scheme: scheme.label().into(),
                verified: v.verdict() == Some(true),
                errors: v.errors.clone(),
                signers: v2v3::signer_fingerprints(&v),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn unsigned_input_does_not_verify() {
        let (data, layout) = block::tests::build_apk(b"", &[], b"");
        // No block magic before the CD at all: strip the block by using a plain layout.
        let entries = vec![jar::JarEntry { name: "classes.dex".into(), local_header_offset: 0 }];
        let out = analyze_parts(
            &data,
            Some(&layout),
            &entries,
            &mut |_| Ok(Cow::Borrowed(&b""[..])),
            Some(21),
            None,
        );
        assert_eq!(out.signing.verified, Some(false));
        assert!(out.diagnostics.iter().any(|d| d.code == "signing.unsigned"));
    }

    #[test]
    fn size_mismatch_falls_back_to_v1() {
        let (mut data, layout) =
            block::tests::build_apk(b"0123456789abcdef", &[(block::ID_V2, vec![0; 12])], b"");
        data[16] ^= 0x40;
        let out = analyze_parts(&data, Some(&layout), &[], &mut |_| Err("none".into()), Some(24), None);
        assert_eq!(out.signing.verified, Some(false));
        assert!(out.diagnostics.iter().any(|d| d.code == "signing.block_size_mismatch"));
    }

    #[test]
    fn inspect_handles_garbage() {
        assert!(inspect_signing_block(b"").is_empty());
        assert!(inspect_signing_block(&[0x50, 0x4b, 0x05, 0x06]).is_empty());
        let (data, _) = block::tests::build_apk(b"x", &[(block::ID_V2, vec![1, 2, 3, 4, 5])], b"");
        let r = inspect_signing_block(&data);
        assert_eq!(r.len(), 1);
        assert!(!r[0].verified);
    }
}
