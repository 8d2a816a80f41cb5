//! One Mach-O into the report and the evidence: its summary in
//! `code.macho[]`, ObjC classes, imported symbols and linked libraries as a
//! code unit, C strings scanned for hosts, signature findings as diagnostics.

use crate::context::Context;
use crate::evidence::{CodeUnit, UnitKind};
use crate::formats::codesign::CodeSignature;
use crate::formats::macho::{self, MachoFile};
use crate::report::{Diagnostic, EvidenceKind};

/// Parses `data` as Mach-O and adds it to the report; `None` (with a
/// diagnostic) when it is not a readable Mach-O.
pub fn add_macho(ctx: &mut Context, entry: &str, data: &[u8]) -> Option<MachoFile> {
    let file = match macho::parse(data) {
        Ok(f) => f,
        Err(e) => {
            ctx.diag(
                Diagnostic::warning("macho.unreadable", format!("not a readable Mach-O: {e}")).at(entry),
            );
            return None;
        }
    };
    ctx.report.code.macho.push(file.summary(entry));
    ctx.diags_at("", entry, file.diagnostics.clone());
    let mut unit = CodeUnit::new(entry, UnitKind::Macho);
    for slice in &file.slices {
        ctx.diags_at("", entry, slice.diagnostics.clone());
        for d in &slice.dylibs {
            if !unit.libraries.contains(&d.path) {
                unit.libraries.push(&d.path);
            }
        }
        unit.apis.extend(&slice.imported_symbols);
        unit.classes.extend(&slice.objc_classes);
    }
    unit.apis.sort_unstable_dedup();
    unit.classes.sort_unstable_dedup();
    // Slices of one binary usually carry the same strings: scan each text once.
    let mut seen = std::collections::HashSet::new();
    for slice in &file.slices {
        for s in &slice.strings {
            if seen.insert(s.as_str()) {
                ctx.hosts.scan(entry, EvidenceKind::String, s);
            }
        }
    }
    signature_findings(ctx, entry, &file);
    ctx.evidence.units.push(unit);
    Some(file)
}

fn signature_findings(ctx: &mut Context, entry: &str, file: &MachoFile) {
    for slice in &file.slices {
        let Some(sig) = &slice.code_signature else {
            ctx.diag(
                Diagnostic::warning("macho.unsigned", format!("{} slice has no code signature", slice.arch))
                    .at(entry),
            );
            continue;
        };
        ctx.diags_at("", entry, sig.diagnostics.clone());
        if sig.adhoc() {
            ctx.diag(
                Diagnostic::warning(
                    "macho.adhoc_signed",
                    format!("{} slice is signed ad hoc (no signer identity): it runs only on jailbroken or development devices", slice.arch),
                )
                .at(entry),
            );
        }
    }
    if file.slices.iter().any(|s| s.encrypted()) {
        ctx.diag(
            Diagnostic::warning(
                "macho.fairplay_encrypted",
                "FairPlay-encrypted binary (App Store build): code, class names and strings are hidden from analysis; \
                 only load commands, linked libraries and imported symbols are read",
            )
            .at(entry),
        );
    }
}

/// The first code signature over the slices (they agree in practice).
pub fn signature(file: &MachoFile) -> Option<&CodeSignature> {
    file.slices.iter().find_map(|s| s.code_signature.as_ref())
}
