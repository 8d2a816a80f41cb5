//! Code-signature verification over the corpus IPAs and zipped apps: every
//! signed main executable is verified against its bundle's Info.plist and
//! resource seal; any that verifies must stop verifying when one byte of
//! its code, of its Info.plist or of the CodeDirectory the CMS signature
//! covers changes (what
//! `codesign --verify` reports for such a tampered copy). Skips when
//! ../shared is absent.

mod common;

use appvet::formats::codesign::verify::{verify, BoundFiles, Outcome};
use appvet::formats::macho;

/// Runs the check over one slice's signature.
fn outcome(binary: &[u8], info: Option<&[u8]>, resources: Option<&[u8]>) -> Option<(Outcome, Vec<String>)> {
    let file = macho::parse(binary).ok()?;
    let slice = file.slices.first()?;
    let sig = slice.code_signature.as_ref()?;
    let start = usize::try_from(slice.offset).ok()?;
    let bytes = binary.get(start..start + usize::try_from(slice.size).ok()?)?;
    let files = BoundFiles { info_plist: info, code_resources: resources, in_bundle: true };
    let encrypted = slice
        .encryption
        .filter(|e| e.cryptid != 0)
        .map(|e| (u64::from(e.cryptoff), u64::from(e.cryptoff) + u64::from(e.cryptsize)));
    let v = verify(bytes, sig, &files, encrypted);
    Some((v.outcome, v.errors))
}

#[test]
fn intact_signatures_verify_and_tampered_copies_do_not() {
    let Some(dir) = common::corpus_dir() else { return };
    let mut verified = 0;
    for path in std::fs::read_dir(dir.join("ipa")).unwrap().flatten().map(|e| e.path()) {
        let name = common::rel(&path);
        let data = std::fs::read(&path).unwrap();
        let entries = common::zip_entries(&data);
        let find = |n: &str| entries.iter().find(|(e, _)| e == n).map(|(_, d)| d.clone());
        // The main executable: the app root's Info.plist names it.
        let Some((plist_name, info)) =
            entries.iter().find(|(n, _)| n.ends_with(".app/Info.plist") && n.matches(".app/").count() == 1)
        else {
            continue;
        };
        let root = plist_name.trim_end_matches("Info.plist");
        let Ok(dict) = appvet::formats::property_list::parse_dict(info) else { continue };
        let Some(exe) = appvet::formats::property_list::string_of(&dict, "CFBundleExecutable") else {
            continue;
        };
        let Some(binary) = find(&format!("{root}{exe}")) else { continue };
        let resources = find(&format!("{root}_CodeSignature/CodeResources"));
        let Some((result, errors)) = outcome(&binary, Some(info), resources.as_deref()) else { continue };
        eprintln!("{name}: {result:?} {errors:?}");
        if result != Outcome::Verified {
            continue;
        }
        verified += 1;
        let file = macho::parse(&binary).unwrap();
        let slice = &file.slices[0];
        // One byte of code (past the load commands, inside the signed range).
        let mut code = binary.clone();
        let at = slice.offset as usize + 0x4000.min(slice.size as usize / 2);
        code[at] ^= 0x01;
        let (r, e) = outcome(&code, Some(info), resources.as_deref()).unwrap();
        assert_eq!(r, Outcome::Failed, "{name}: a changed code byte");
        assert!(e.iter().any(|e| e.contains("pages differ")), "{name}: {e:?}");
        // One byte of Info.plist.
        let mut plist = info.clone();
        let last = plist.len() - 2;
        plist[last] ^= 0x01;
        let (r, e) = outcome(&binary, Some(&plist), resources.as_deref()).unwrap();
        assert_eq!(r, Outcome::Failed, "{name}: a changed Info.plist");
        assert!(e.iter().any(|e| e.contains("Info.plist differs")), "{name}: {e:?}");
        // One byte of the CodeDirectory's identifier: the pages still match,
        // the CMS signature over the CodeDirectory no longer does.
        let sig = slice.code_signature.as_ref().unwrap();
        let cd = &sig.code_directories[0].raw;
        let cd_at = binary.windows(cd.len()).position(|w| w == cd.as_slice()).unwrap();
        let ident = u32::from_be_bytes(cd[20..24].try_into().unwrap()) as usize;
        let mut renamed = binary.clone();
        renamed[cd_at + ident] ^= 0x01;
        let (r, e) = outcome(&renamed, Some(info), resources.as_deref()).unwrap();
        assert_eq!(r, Outcome::Failed, "{name}: a changed CodeDirectory");
        assert!(e.iter().any(|e| e.contains("CMS signature")), "{name}: {e:?}");
        seal_holds_and_breaks(&name, &entries, root, &exe, resources.as_deref().unwrap());
    }
    assert!(verified > 0, "no corpus app's signature verified");
}

/// The bundle's resource seal holds over the archive's files; a changed,
/// missing or added file breaks it and is named (`codesign --verify`:
/// "a sealed resource is missing or invalid", "file modified", "file added").
fn seal_holds_and_breaks(name: &str, entries: &[(String, Vec<u8>)], root: &str, exe: &str, seal: &[u8]) {
    use appvet::formats::codesign::seal::Seal;
    let seal = Seal::parse(seal).unwrap();
    let files: Vec<(&str, &[u8])> = entries
        .iter()
        .filter(|(n, _)| !n.ends_with('/'))
        .filter_map(|(n, d)| Some((n.strip_prefix(root)?, d.as_slice())))
        .collect();
    let exclude = |p: &str| p == exe || p.starts_with("_CodeSignature/");
    let check = |files: &[(&str, Vec<u8>)]| {
        let present: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
        seal.check(&present, exclude, |p| files.iter().find(|(q, _)| *q == p).map(|(_, d)| d.clone()))
    };
    let owned: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, d)| (*p, d.to_vec())).collect();
    let intact = check(&owned);
    assert!(intact.errors.is_empty() && intact.unreadable.is_empty(), "{name}: {intact:?}");
    // A sealed resource (not Info.plist, which the seal omits, nor code).
    let victim = owned
        .iter()
        .map(|(p, _)| *p)
        .find(|p| {
            p.ends_with(".car") || p.ends_with(".nib") || p.ends_with(".png") || p.ends_with(".strings")
        })
        .unwrap();
    let mut changed = owned.clone();
    if let Some((_, d)) = changed.iter_mut().find(|(p, _)| *p == victim) {
        d.push(0);
    }
    let e = check(&changed).errors;
    assert!(e.iter().any(|e| e.contains("modified") && e.contains(victim)), "{name}: {e:?}");
    let missing: Vec<(&str, Vec<u8>)> = owned.iter().filter(|(p, _)| *p != victim).cloned().collect();
    let e = check(&missing).errors;
    // A missing localisation (`*.lproj/`) is optional; anything else is missing.
    assert!(
        victim.contains(".lproj/") || e.iter().any(|e| e.contains("missing") && e.contains(victim)),
        "{name}: {e:?}"
    );
    let mut added = owned.clone();
    added.push(("inject.dylib", b"code".to_vec()));
    let e = check(&added).errors;
    assert!(e.iter().any(|e| e.contains("added") && e.contains("inject.dylib")), "{name}: {e:?}");
}

/// The generated demo IPA is signed by a test identity over real page
/// hashes: the code, Info.plist and CMS signature check out and only the
/// chain (not Apple's) fails; its tampered copy fails on the changed page.
#[test]
fn the_test_signed_sample_fails_only_on_its_chain_and_its_tampered_copy_on_a_page() {
    let scanner = appvet::scan::Scanner::new(
        appvet::database::Database::embedded(),
        appvet::archive::zip::Limits::default(),
    );
    let scan = |name: &str| {
        let path = common::root().join("samples").join(name);
        scanner.scan_path(&path).unwrap().report.signing
    };
    let intact = scan("demo-tracker.ipa");
    assert_eq!(intact.verified, Some(false));
    let errors = &intact.schemes[0].errors;
    let main: Vec<&String> =
        errors.iter().filter(|e| e.starts_with("Payload/DemoTracker.app/DemoTracker:")).collect();
    assert_eq!(main.len(), 1, "{errors:?}");
    assert!(main[0].contains("not at an Apple root"), "{errors:?}");
    assert!(!errors.iter().any(|e| e.contains("pages differ") || e.contains("CMS")), "{errors:?}");
    let tampered = scan("malformed/demo-tracker-tampered.ipa");
    assert_eq!(tampered.verified, Some(false));
    assert!(
        tampered.schemes[0]
            .errors
            .iter()
            .any(|e| e.contains("DemoKeyboard: CodeDirectory: 1 of 1 pages differ")),
        "{:?}",
        tampered.schemes[0].errors
    );
}
