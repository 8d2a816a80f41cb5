//! Signing verification against the real corpus: for every APK where
//! `apksigner verify` gave a verdict, `signing.verified` must equal it, and
//! the certificates androguard reports must all be among ours. Skips when
//! `../shared/corpus` is absent.
//!
//! Entries are read with a small local central-directory reader (the same
//! the APK would give apksig), and also through `ZipArchive` when it parses,
//! so this test does not depend on the ZIP module's state.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use appvet::archive::zip::{Budget, Limits, ZipArchive};
use appvet::formats::signing::{self, block, jar, ZipSections};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

struct LocalEntry {
    name: String,
    method: u16,
    compressed_size: usize,
    local_header_offset: usize,
}

/// Central directory records of `data` (no ZIP64; enough for the corpus).
fn local_entries(data: &[u8]) -> Option<(ZipSections, Vec<LocalEntry>)> {
    let layout = block::find_eocd(data).ok()?;
    let count = u16::from_le_bytes(data.get(layout.eocd_offset as usize + 10..)?.get(..2)?.try_into().ok()?);
    let mut pos = layout.cd_offset as usize;
    let mut out = Vec::new();
    for _ in 0..count {
        let rec = data.get(pos..pos + 46)?;
        if rec[..4] != [0x50, 0x4b, 0x01, 0x02] {
            return None;
        }
        let u16_at = |o: usize| u16::from_le_bytes([rec[o], rec[o + 1]]) as usize;
        let u32_at = |o: usize| u32::from_le_bytes([rec[o], rec[o + 1], rec[o + 2], rec[o + 3]]) as usize;
        let (name_len, extra_len, comment_len) = (u16_at(28), u16_at(30), u16_at(32));
        let name = String::from_utf8_lossy(data.get(pos + 46..pos + 46 + name_len)?).into_owned();
        out.push(LocalEntry {
            name,
            method: u16_at(10) as u16,
            compressed_size: u32_at(20),
            local_header_offset: u32_at(42),
        });
        pos += 46 + name_len + extra_len + comment_len;
    }
    Some((layout, out))
}

fn read_local(data: &[u8], e: &LocalEntry) -> Result<Vec<u8>, String> {
    let h = e.local_header_offset;
    let lh = data.get(h..h + 30).ok_or("local header out of range")?;
    let name_len = u16::from_le_bytes([lh[26], lh[27]]) as usize;
    let extra_len = u16::from_le_bytes([lh[28], lh[29]]) as usize;
    let start = h + 30 + name_len + extra_len;
    let raw = data.get(start..start + e.compressed_size).ok_or("entry data out of range")?;
    match e.method {
        0 => Ok(raw.to_vec()),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(raw).read_to_end(&mut out).map_err(|e| e.to_string())?;
            Ok(out)
        }
        m => Err(format!("unsupported compression method {m}")),
    }
}

fn min_sdk(reference: &serde_json::Value) -> Option<u32> {
    let ag = reference.pointer("/androguard/min_sdk").and_then(|v| v.as_str());
    let aapt = reference.pointer("/aapt_badging/sdk_version").and_then(|v| v.as_str());
    let text = ag.or(aapt)?;
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    // A codename: apksig takes the level of the release it names.
    Some(match text.chars().next()? {
        'I' => 14,
        'V' => 35,
        'U' => 34,
        'T' => 33,
        _ => 1,
    })
}

#[test]
fn verdicts_and_certificates_agree_with_reference_tools() {
    let corpus = shared().join("corpus/apk");
    let Ok(dir) = std::fs::read_dir(&corpus) else {
        return;
    };
    let mut files: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "apk"))
        .collect();
    files.sort();
    let (mut verdicts, mut verdict_ok, mut cert_sets, mut cert_ok) = (0, 0, 0, 0);
    let (mut scheme_total, mut scheme_ok) = (0, 0);
    let (mut subject_total, mut subject_ok) = (0, 0);
    let mut via_zip_runs = 0;
    let mut disagreements = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let reference_path = shared().join(format!("reference/apk/{name}.json"));
        let Ok(text) = std::fs::read_to_string(&reference_path) else {
            continue;
        };
        let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
        let data = std::fs::read(&path).unwrap();
        let Some((layout, local)) = local_entries(&data) else {
            continue;
        };
        let entries: Vec<jar::JarEntry> = local
            .iter()
            .map(|e| jar::JarEntry {
                name: e.name.clone(),
                local_header_offset: e.local_header_offset as u64,
            })
            .collect();
        let mut read = |i: usize| read_local(&data, &local[i]).map(Cow::Owned);
        let sdk = min_sdk(&reference);
        let outcome = signing::analyze_parts(&data, Some(&layout), &entries, &mut read, sdk, None);

        // The same through ZipArchive, once it is implemented.
        if let Ok(zip) = ZipArchive::parse(&data, &Limits::default()) {
            let mut budget = Budget::new(&Limits::default());
            let via_zip = appvet::android::signing::analyze(&zip, &mut budget, sdk, None);
            via_zip_runs += 1;
            if via_zip.signing.verified != outcome.signing.verified {
                disagreements.push(format!(
                    "{name}: ZipArchive path gives {:?}, local reader {:?}",
                    via_zip.signing.verified, outcome.signing.verified
                ));
            }
        }

        let a = &reference["apksigner"];
        let want = if a["verdict"] == "Verifies" {
            Some(true)
        } else if a["verdict"] == "DOES NOT VERIFY"
            || (a["exit"].as_i64().is_some_and(|x| x != 0)
                && a["errors"].as_array().is_some_and(|e| !e.is_empty())
                && a["exception"].as_array().is_none_or(|e| e.is_empty())
                && a["exception"].as_str().is_none_or(str::is_empty))
        {
            Some(false)
        } else {
            None
        };
        if let Some(want) = want {
            verdicts += 1;
            if outcome.signing.verified == Some(want) {
                verdict_ok += 1;
            } else {
                disagreements.push(format!(
                    "{name}: verified {:?}, apksigner {want} ({:?}); ours: {:?}",
                    outcome.signing.verified,
                    a["errors"].as_array().and_then(|e| e.first()).and_then(|e| e.as_str()).unwrap_or(""),
                    outcome
                        .signing
                        .schemes
                        .iter()
                        .map(|s| (&s.scheme, s.verified, &s.errors))
                        .collect::<Vec<_>>()
                ));
            }
        }
        // Per-scheme agreement is informational: apksigner prints it only on success.
        if let Some(vs) = a["verified_schemes"].as_object() {
            for (scheme, theirs) in vs {
                let ours = outcome.signing.schemes.iter().any(|s| &s.scheme == scheme && s.verified);
                scheme_total += 1;
                if theirs.as_bool() == Some(ours) {
                    scheme_ok += 1;
                } else {
                    eprintln!("{name}: scheme {scheme}: apksigner {theirs}, ours {ours}");
                }
            }
        }
        let expected: Vec<String> = reference
            .pointer("/androguard/certificates")
            .and_then(|c| c.as_array())
            .map(|c| c.iter().filter_map(|x| x["sha256"].as_str().map(str::to_lowercase)).collect())
            .unwrap_or_default();
        if !expected.is_empty() {
            cert_sets += 1;
            let ours: Vec<&str> = outcome.signing.certificates.iter().map(|c| c.sha256.as_str()).collect();
            let missing: Vec<&String> = expected.iter().filter(|h| !ours.contains(&h.as_str())).collect();
            for theirs in
                reference.pointer("/androguard/certificates").and_then(|c| c.as_array()).into_iter().flatten()
            {
                let ours = outcome
                    .signing
                    .certificates
                    .iter()
                    .find(|c| Some(c.sha256.as_str()) == theirs["sha256"].as_str());
                if let (Some(ours), Some(subject)) = (ours, theirs["subject"].as_str()) {
                    subject_total += 1;
                    if ours.subject == subject {
                        subject_ok += 1;
                    } else {
                        eprintln!("{name}: subject {:?} vs androguard {subject:?}", ours.subject);
                    }
                }
            }
            if missing.is_empty() {
                cert_ok += 1;
            } else {
                disagreements.push(format!("{name}: missing certificates {missing:?}"));
            }
        }
    }
    eprintln!(
        "signing corpus: verdicts {verdict_ok}/{verdicts}, certificate sets {cert_ok}/{cert_sets}, per-scheme flags {scheme_ok}/{scheme_total}, subjects {subject_ok}/{subject_total}, ZipArchive runs {via_zip_runs}"
    );
    assert!(disagreements.is_empty(), "disagreements:\n{}", disagreements.join("\n"));
}

#[test]
fn tampered_and_truncated_v2_apk() {
    let path = shared().join("corpus/apk/f-droid__fdroidserver__tests__v2.only.sig_2.apk");
    let Ok(original) = std::fs::read(&path) else {
        return;
    };
    let run = |data: &[u8]| {
        let Some((layout, local)) = local_entries(data) else {
            return signing::analyze_parts(data, None, &[], &mut |_| Err("none".into()), Some(27), None);
        };
        let entries: Vec<jar::JarEntry> = local
            .iter()
            .map(|e| jar::JarEntry {
                name: e.name.clone(),
                local_header_offset: e.local_header_offset as u64,
            })
            .collect();
        let mut read = |i: usize| read_local(data, &local[i]).map(Cow::Owned);
        signing::analyze_parts(data, Some(&layout), &entries, &mut read, Some(27), None)
    };
    assert_eq!(run(&original).signing.verified, Some(true));

    // One flipped bit in the first entry's data: the v2 content digest catches it.
    let mut tampered = original.clone();
    tampered[40] ^= 1;
    let out = run(&tampered);
    assert_eq!(out.signing.verified, Some(false));
    assert!(out.diagnostics.iter().any(|d| d.code == "signing.digest_mismatch"));

    // A flipped bit inside the signing block's signed data: the signature fails.
    let layout = block::find_eocd(&original).unwrap();
    let found = block::locate(&original, &layout).unwrap().unwrap();
    let v2_offset = found.pairs.iter().find(|p| p.id == block::ID_V2).unwrap().offset;
    let mut tampered = original.clone();
    tampered[v2_offset + 12 + 4 + 4 + 4 + 40] ^= 1;
    let out = run(&tampered);
    assert_eq!(out.signing.verified, Some(false));

    // Truncations and a signing-block-only view never panic.
    for cut in (0..original.len()).step_by(original.len() / 97 + 1) {
        let _ = run(&original[..cut]);
        let _ = signing::inspect_signing_block(&original[..cut]);
    }
}

/// Regression: a v2-signed APK whose central directory runs into the end
/// record cannot be verified (apksigner: "not a ZIP archive"), but its signer
/// is still reported, as androguard reports it.
#[test]
fn damaged_directory_still_names_the_signer() {
    let path = shared()
        .join("corpus/apk/androguard__androguard__tests__data__APK__apksig__v2-only-truncated-cd.apk");
    let Ok(data) = std::fs::read(&path) else { return };
    let scanner = appvet::scan::Scanner::new(appvet::database::Database::embedded(), Limits::default());
    let report = scanner.scan_bytes(&data, "v2-only-truncated-cd.apk").unwrap().report;
    assert_eq!(report.signing.verified, Some(false));
    assert!(report.signing.certificates.iter().any(|c| c.sha256.starts_with("fb5dbd3c669af9fc")));
    assert!(report.diagnostics.iter().any(|d| d.code == "signing.unverifiable_block"));
}
