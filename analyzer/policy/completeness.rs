//! Whether the analysis saw everything the verdict rests on. A tool that
//! vets apps must not approve what it could not read: a missing or
//! encrypted main executable, a DEX Android would refuse, a manifest that
//! does not decode, code a packer hides, an archive cut short by the
//! resource limits. Each becomes a [`Gap`] naming the diagnostic that shows
//! it; any gap makes the analysis incomplete, and every policy then sends
//! the app to review at least ([`super::Policy::evaluate`]).
//!
//! The gaps are derived from the report alone (its diagnostics and facts),
//! so a rescore from stored reports finds the same ones.

use crate::diagnostic::Level;
use crate::report::{Analysis, Diagnostic, Gap, GapKind, InputKind, Platform, Report};

/// Diagnostics that always mean part of the app went unread.
fn gap_of_code(code: &str) -> Option<GapKind> {
    Some(match code {
        "manifest.missing"
        | "manifest.undecodable"
        | "manifest.unexpected_root"
        | "ios.info_plist_missing" => GapKind::Manifest,
        "ios.no_app_bundle" => GapKind::AppBundle,
        "ios.main_executable_missing" => GapKind::MainExecutable,
        "dex.unreadable" | "dex.big_endian" | "dex.compact_dex" | "macho.unreadable" | "elf.unreadable" => {
            GapKind::Code
        }
        "macho.fairplay_encrypted" | "macho.encrypted" => GapKind::EncryptedCode,
        "code.packed" => GapKind::PackedCode,
        "archive.nested_unreadable" | "archive.nesting_limit" | "bundle.split_unreadable" => {
            GapKind::NestedArchive
        }
        "zip.eocd_missing" | "zip.central_directory_damaged" => GapKind::Archive,
        "zip.bomb" | "zip.budget_exhausted" | "zip.too_many_entries" | "zip.entry_too_large" => {
            GapKind::ResourceLimits
        }
        _ => return None,
    })
}

/// Entries whose loss leaves the verdict without its grounds: code and the
/// files that say what the app is.
fn is_essential_entry(location: &str) -> bool {
    let entry = location.split(": ").next().unwrap_or(location);
    let name = entry.rsplit(['/', '!']).next().unwrap_or(entry);
    name.ends_with(".dex")
        || name.ends_with(".so")
        || name == "AndroidManifest.xml"
        || name == "Info.plist"
        || name == "resources.arsc"
}

/// Reading failures that matter only for an essential entry.
fn is_entry_read_failure(code: &str) -> bool {
    matches!(
        code,
        "zip.entry_unreadable"
            | "zip.entry_truncated"
            | "zip.unknown_method"
            | "zip.crc_mismatch"
            | "zip.encrypted_flag"
            | "zip.size_mismatch"
    )
}

fn gap_from(d: &Diagnostic) -> Option<Gap> {
    let location = d.location.as_deref().unwrap_or_default();
    let error = d.level == Level::Error;
    let what = if let Some(kind) = gap_of_code(&d.code) {
        kind
    } else if error && ["dex.", "macho.", "elf."].iter().any(|p| d.code.starts_with(p)) {
        // An error-level finding in code (a DEX with a bad checksum, tables
        // out of bounds or bad indexes; Mach-O load commands or slices that
        // do not fit; a damaged ELF dynamic section): the platform refuses
        // such a file, and what was read of it may be only part of it.
        GapKind::Code
    } else if error && d.code.starts_with("axml.") && is_manifest(location) {
        GapKind::Manifest
    } else if is_entry_read_failure(&d.code) && is_essential_entry(location) {
        if is_manifest(location) {
            GapKind::Manifest
        } else {
            GapKind::Code
        }
    } else {
        return None;
    };
    let why = match &d.location {
        Some(loc) => format!("{loc}: {}", d.message),
        None => d.message.clone(),
    };
    Some(Gap { what, why, diagnostic: Some(d.code.clone()) })
}

/// The files that say what the app is (identity, permissions, labels), as
/// opposed to its code.
fn is_manifest(location: &str) -> bool {
    ["AndroidManifest.xml", "Info.plist", "resources.arsc"].iter().any(|f| location.contains(f))
}

/// The gaps of `report`, from its diagnostics and its facts.
pub fn assess(report: &Report) -> Analysis {
    let mut gaps: Vec<Gap> = report.diagnostics.iter().filter_map(gap_from).collect();
    let has_gap = |gaps: &[Gap], kind: GapKind| gaps.iter().any(|g| g.what == kind);
    // A bare DEX, ELF or Mach-O is judged by what was read of it; only an
    // app container promises a manifest and a main executable.
    let container = matches!(
        report.input.kind,
        InputKind::Apk | InputKind::Xapk | InputKind::Apks | InputKind::Aab | InputKind::Ipa | InputKind::App
    );
    match (container, report.app.platform) {
        (false, _) => {}
        (true, Some(Platform::Android)) => {
            let declares_code = report.app.android.as_ref().and_then(|a| a.has_code) != Some(false);
            let readable_dex = report.code.dex.iter().any(|d| d.primary && d.classes > 0);
            if declares_code && !readable_dex && !has_gap(&gaps, GapKind::Code) {
                gaps.push(Gap {
                    what: GapKind::NoCode,
                    why: "the manifest declares code (android:hasCode is not false) but no primary classes*.dex \
                          with classes could be read"
                        .into(),
                    diagnostic: None,
                });
            }
        }
        (true, Some(Platform::Ios)) => {
            let executable_read = report.code.macho.iter().any(|m| m.file_type.as_deref() == Some("EXECUTE"));
            if !executable_read
                && !has_gap(&gaps, GapKind::MainExecutable)
                && !has_gap(&gaps, GapKind::AppBundle)
            {
                gaps.push(Gap {
                    what: GapKind::MainExecutable,
                    why: "no main executable (a Mach-O of type EXECUTE) could be read".into(),
                    diagnostic: None,
                });
            }
        }
        (true, None) => {
            if !has_gap(&gaps, GapKind::Manifest) && !has_gap(&gaps, GapKind::AppBundle) {
                gaps.push(Gap {
                    what: GapKind::Manifest,
                    why: "the app's platform could not be established: no manifest or Info.plist was read"
                        .into(),
                    diagnostic: None,
                });
            }
        }
    }
    gaps.dedup_by(|a, b| a.what == b.what && a.why == b.why);
    Analysis { complete: gaps.is_empty(), gaps }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{AndroidFacts, DexSummary, InputKind, MachoSummary};
    use crate::risk::tests_support;

    fn android_with_dex() -> Report {
        let mut r = tests_support::report();
        r.code.dex.push(DexSummary {
            entry: "classes.dex".into(),
            classes: 3,
            primary: true,
            ..Default::default()
        });
        r
    }

    fn kinds(a: &Analysis) -> Vec<GapKind> {
        a.gaps.iter().map(|g| g.what).collect()
    }

    #[test]
    fn an_app_read_whole_is_complete() {
        let a = assess(&android_with_dex());
        assert!(a.complete, "{:?}", a.gaps);
        assert!(a.gaps.is_empty());
    }

    #[test]
    fn each_unreadable_part_is_a_gap_naming_its_diagnostic() {
        let cases = [
            (Diagnostic::warning("manifest.missing", "no AndroidManifest.xml"), GapKind::Manifest),
            (Diagnostic::error("ios.no_app_bundle", "no .app bundle in the archive"), GapKind::AppBundle),
            (
                Diagnostic::error("ios.main_executable_missing", "CFBundleExecutable \"X\""),
                GapKind::MainExecutable,
            ),
            (Diagnostic::warning("macho.fairplay_encrypted", "arm64 slice"), GapKind::EncryptedCode),
            (Diagnostic::warning("code.packed", "packed with Jiagu"), GapKind::PackedCode),
            (
                Diagnostic::warning("archive.nested_unreadable", "not a readable archive"),
                GapKind::NestedArchive,
            ),
            (Diagnostic::error("zip.budget_exhausted", "inflate budget"), GapKind::ResourceLimits),
            (Diagnostic::warning("zip.eocd_missing", "no end record"), GapKind::Archive),
            (Diagnostic::error("dex.bad_checksum", "Adler-32").at("classes2.dex"), GapKind::Code),
            (Diagnostic::error("macho.bad_command_size", "load command 3"), GapKind::Code),
            (Diagnostic::warning("zip.entry_unreadable", "bad method").at("classes.dex"), GapKind::Code),
            (
                Diagnostic::warning("zip.entry_truncated", "cut short").at("Payload/A.app/Info.plist"),
                GapKind::Manifest,
            ),
            (Diagnostic::warning("zip.crc_mismatch", "CRC").at("resources.arsc"), GapKind::Manifest),
            (Diagnostic::error("axml.truncated_chunk", "chunk").at("AndroidManifest.xml"), GapKind::Manifest),
        ];
        for (d, kind) in cases {
            let code = d.code.clone();
            let mut r = android_with_dex();
            r.diagnostics.push(d);
            let a = assess(&r);
            assert!(!a.complete, "{code} left the analysis complete");
            assert_eq!(kinds(&a), [kind], "{code}");
            assert_eq!(a.gaps[0].diagnostic.as_deref(), Some(code.as_str()));
        }
    }

    #[test]
    fn findings_that_do_not_hide_anything_are_not_gaps() {
        let mut r = android_with_dex();
        r.diagnostics.push(Diagnostic::error("zip.prepended_data", "Janus"));
        r.diagnostics.push(Diagnostic::warning("dex.trailing_data", "bytes follow"));
        r.diagnostics.push(Diagnostic::warning("manifest.debuggable", "debuggable"));
        // An image that does not inflate is not part of what the verdict rests on.
        r.diagnostics
            .push(Diagnostic::warning("zip.entry_unreadable", "bad method").at("res/drawable/a.png"));
        assert!(assess(&r).complete);
    }

    #[test]
    fn an_apk_that_declares_code_and_carries_none_is_incomplete_unless_has_code_is_false() {
        let mut r = tests_support::report();
        assert_eq!(kinds(&assess(&r)), [GapKind::NoCode]);
        r.app.android = Some(AndroidFacts { has_code: Some(false), ..Default::default() });
        assert!(assess(&r).complete);
    }

    #[test]
    fn an_ipa_without_a_readable_main_executable_is_incomplete() {
        let mut r = tests_support::report();
        r.input.kind = InputKind::Ipa;
        r.app.platform = Some(Platform::Ios);
        r.code.macho.push(MachoSummary { file_type: Some("DYLIB".into()), ..Default::default() });
        assert_eq!(kinds(&assess(&r)), [GapKind::MainExecutable]);
        r.code.macho.push(MachoSummary { file_type: Some("EXECUTE".into()), ..Default::default() });
        assert!(assess(&r).complete);
    }

    #[test]
    fn an_app_container_without_a_platform_is_incomplete_but_a_bare_binary_is_not() {
        let mut r = tests_support::report();
        r.app.platform = None;
        assert_eq!(kinds(&assess(&r)), [GapKind::Manifest]);
        r.input.kind = InputKind::Dex;
        assert!(assess(&r).complete);
    }
}
