//! Code-signature verification of an iOS app: the main executable, each
//! framework, extension and loose dylib, each against the bundle files its
//! signature binds (`formats::codesign::verify`). The app's
//! `signing.verified` is true only when every signed binary read verifies
//! and chains to Apple's roots, false when one does not, and otherwise null
//! with `signing.not_verifiable` saying why.

use crate::archive::zip::ZipArchive;
use crate::context::Context;
use crate::formats::codesign::seal::{Seal, MAX_SEALED};
use crate::formats::codesign::verify::{self, BoundFiles, Outcome, Verification};
use crate::formats::codesign::CodeSignature;
use crate::formats::macho::MachoFile;
use crate::report::{Diagnostic, SchemeResult};
use std::collections::HashMap;

/// Verdicts on the binaries read so far, by entry path.
#[derive(Debug, Default)]
pub struct Tally {
    binaries: Vec<(String, Verification)>,
    /// The main executable was read (its absence is a gap, not a verdict).
    main_read: bool,
}

/// Where a binary sits: its bundle's directory holding Info.plist and
/// `_CodeSignature/` (`None` for a loose dylib, which binds neither).
pub struct Placement<'a> {
    pub path: &'a str,
    pub bundle_dir: Option<&'a str>,
    pub main: bool,
    /// Read from an app bundle (false for a bare Mach-O given alone).
    pub in_bundle: bool,
}

/// Verifies every signed slice of `file` (read from `data`) and records the
/// binary's verdict.
pub fn check_binary(
    ctx: &mut Context,
    zip: Option<&ZipArchive>,
    tally: &mut Tally,
    at: &Placement<'_>,
    file: &MachoFile,
    data: &[u8],
) {
    tally.main_read |= at.main;
    let read = |ctx: &mut Context, name: String| {
        let zip = zip?;
        let entry = zip.by_name(&name)?.clone();
        ctx.read_entry(zip, &entry, "").map(|d| d.into_owned())
    };
    let (info, resources) = match at.bundle_dir {
        Some(dir) => {
            (read(ctx, format!("{dir}Info.plist")), read(ctx, format!("{dir}_CodeSignature/CodeResources")))
        }
        None => (None, None),
    };
    // The stated signing time against the certificates' dates, once per binary (slices share a signer).
    if let Some(sig) = file.slices.iter().find_map(|s| s.code_signature.as_ref()) {
        for d in crate::formats::codesign::dates::check(&sig.cms) {
            ctx.diag(d.at(at.path));
        }
    }
    let mut combined: Option<Verification> = None;
    for slice in &file.slices {
        let arch = |e: String| if file.fat { format!("{}: {e}", slice.arch) } else { e };
        let verdict = match &slice.code_signature {
            None => Verification {
                outcome: Outcome::Failed,
                errors: vec!["not signed".to_string()],
                unverifiable: Vec::new(),
                root: None,
            },
            Some(sig) => {
                let bytes = usize::try_from(slice.offset)
                    .ok()
                    .zip(usize::try_from(slice.size).ok())
                    .and_then(|(start, size)| data.get(start..start.checked_add(size)?))
                    .unwrap_or(data);
                // Without a bundle, the Info.plist slot binds the embedded one.
                let embedded = slice.info_plist_section.and_then(|(offset, size)| {
                    let start = usize::try_from(offset).ok()?;
                    bytes.get(start..start.checked_add(usize::try_from(size).ok()?)?)
                });
                let files = BoundFiles {
                    info_plist: info.as_deref().or(embedded),
                    code_resources: resources.as_deref(),
                    in_bundle: at.in_bundle,
                };
                let encrypted = slice
                    .encryption
                    .filter(|e| e.cryptid != 0)
                    .map(|e| (u64::from(e.cryptoff), u64::from(e.cryptoff) + u64::from(e.cryptsize)));
                verify::verify(bytes, sig, &files, encrypted)
            }
        };
        combined = Some(match combined {
            None => Verification {
                errors: verdict.errors.into_iter().map(arch).collect(),
                unverifiable: verdict.unverifiable.into_iter().map(arch).collect(),
                ..verdict
            },
            Some(mut all) => {
                all.errors.extend(verdict.errors.into_iter().map(arch));
                all.unverifiable.extend(verdict.unverifiable.into_iter().map(arch));
                all.outcome = worst(all.outcome, verdict.outcome);
                all
            }
        });
    }
    let Some(mut verdict) = combined else { return };
    if let (Some(zip), Some(dir), Some(seal)) = (zip, at.bundle_dir, resources.as_deref()) {
        // The seal binds the bundle's files; check it once the signature binds the seal.
        if verdict.outcome != Outcome::Failed {
            check_seal(ctx, zip, dir, at.path, seal, &mut verdict);
        }
    }
    match verdict.outcome {
        Outcome::Failed => ctx.diag(
            Diagnostic::error(
                "codesign.not_verified",
                format!("the code signature does not verify: {}", verdict.errors.join("; ")),
            )
            .at(at.path),
        ),
        Outcome::NotVerifiable => ctx.diag(
            Diagnostic::info(
                "codesign.not_verifiable",
                format!("the code signature could not be checked: {}", verdict.unverifiable.join("; ")),
            )
            .at(at.path),
        ),
        Outcome::Verified => {}
    }
    tally.binaries.push((at.path.to_string(), verdict));
}

/// Checks the resource seal of the bundle at `dir` against the archive's
/// entries under it; a broken seal fails the binary's verdict, a sealed file
/// that could not be read (resource limits) leaves it not verifiable.
fn check_seal(
    ctx: &mut Context,
    zip: &ZipArchive,
    dir: &str,
    executable: &str,
    seal: &[u8],
    verdict: &mut Verification,
) {
    let seal = match Seal::parse(seal) {
        Ok(seal) => seal,
        Err(e) => {
            verdict.errors.push(e);
            verdict.outcome = Outcome::Failed;
            return;
        }
    };
    let entries: HashMap<&str, &crate::archive::zip::ZipEntry> = zip
        .entries
        .iter()
        .filter(|e| !e.is_dir())
        .filter_map(|e| Some((e.name.strip_prefix(dir)?, e)))
        .take(MAX_SEALED.saturating_mul(2))
        .collect();
    let present: Vec<&str> = entries.keys().copied().collect();
    let own_executable = executable.strip_prefix(dir).unwrap_or(executable);
    let check = seal.check(
        &present,
        |p| p == own_executable || p.starts_with("_CodeSignature/"),
        |p| {
            let entry = (*entries.get(p)?).clone();
            ctx.read_entry(zip, &entry, "").map(|d| d.into_owned())
        },
    );
    if !check.errors.is_empty() {
        verdict.errors.extend(check.errors);
        verdict.outcome = Outcome::Failed;
    } else if !check.unreadable.is_empty() {
        verdict
            .unverifiable
            .push(format!("sealed resources could not be read: {}", check.unreadable.join(", ")));
        verdict.outcome = worst(verdict.outcome, Outcome::NotVerifiable);
    }
}

fn worst(a: Outcome, b: Outcome) -> Outcome {
    match (a, b) {
        (Outcome::Failed, _) | (_, Outcome::Failed) => Outcome::Failed,
        (Outcome::NotVerifiable, _) | (_, Outcome::NotVerifiable) => Outcome::NotVerifiable,
        _ => Outcome::Verified,
    }
}

/// Sets `signing.verified` / `not_verifiable` and the `apple-codesign`
/// scheme from the tally; `main` is the main executable's signature, whose
/// certificates name the signer.
pub fn conclude(ctx: &mut Context, tally: &Tally, main: Option<&CodeSignature>) {
    let failed: Vec<String> = tally
        .binaries
        .iter()
        .filter(|(_, v)| v.outcome == Outcome::Failed)
        .flat_map(|(path, v)| v.errors.iter().map(move |e| format!("{path}: {e}")))
        .collect();
    let unverifiable: Vec<String> = tally
        .binaries
        .iter()
        .filter(|(_, v)| v.outcome == Outcome::NotVerifiable)
        .flat_map(|(path, v)| v.unverifiable.iter().map(move |e| format!("{path}: {e}")))
        .collect();
    let signing = &mut ctx.report.signing;
    (signing.verified, signing.not_verifiable) = if !failed.is_empty() {
        (Some(false), None)
    } else if !tally.main_read {
        (None, Some("the main executable could not be read".to_string()))
    } else if !unverifiable.is_empty() {
        (None, Some(unverifiable.join("; ")))
    } else {
        (Some(true), None)
    };
    let adhoc = main.is_some_and(CodeSignature::adhoc);
    let signers = main.map(|s| s.certificates.iter().map(|c| c.sha256.clone()).collect()).unwrap_or_default();
    if tally.main_read || main.is_some() {
        signing.schemes.push(SchemeResult {
            scheme: if adhoc { "apple-codesign-adhoc".into() } else { "apple-codesign".into() },
            verified: signing.verified == Some(true),
            errors: failed,
            signers,
        });
    }
    if let Some(sig) = main {
        for c in &sig.certificates {
            if !signing.certificates.iter().any(|have| have.sha256 == c.sha256) {
                signing.certificates.push(c.clone());
            }
        }
    }
}
