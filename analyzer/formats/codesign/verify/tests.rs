use super::*;
use crate::formats::codesign::tests::{blob, superblob};
use crate::formats::codesign::{
    parse, CS_ADHOC, MAGIC_BLOB_WRAPPER, MAGIC_CODE_DIRECTORY, MAGIC_ENTITLEMENTS, SLOT_CMS_SIGNATURE,
    SLOT_CODE_DIRECTORY,
};
use crate::test_support::{each_flip, each_truncation};

const PAGE_SHIFT: u8 = 12;

fn sha256(data: &[u8]) -> Vec<u8> {
    HashAlg::Sha256.digest(data).unwrap()
}

/// A version 0x20400 CodeDirectory over `binary[..limit]` with the given
/// special-slot hashes (slot 1 first).
fn code_directory(binary: &[u8], specials: &[Vec<u8>]) -> Vec<u8> {
    let ident = b"com.example\0";
    let header = 88usize;
    let hash_offset = header + ident.len() + 32 * specials.len();
    let pages = binary.len().div_ceil(1 << PAGE_SHIFT);
    // The blob without its 8-byte header: blob offset N is body offset N - 8.
    let mut body = vec![0u8; header - 8];
    let mut put = |at: usize, v: u32| body[at - 8..at - 4].copy_from_slice(&v.to_be_bytes());
    put(8, 0x20400);
    put(16, hash_offset as u32);
    put(20, header as u32);
    put(24, specials.len() as u32);
    put(28, pages as u32);
    put(32, binary.len() as u32);
    // Hash size, hash type (sha256), platform, log2 page size.
    body[28..32].copy_from_slice(&[32, 2, 0, PAGE_SHIFT]);
    body.extend_from_slice(ident);
    for s in specials.iter().rev() {
        body.extend_from_slice(s);
    }
    for chunk in binary.chunks(1 << PAGE_SHIFT) {
        body.extend(sha256(chunk));
    }
    blob(MAGIC_CODE_DIRECTORY, &body)
}

const INFO: &[u8] = b"<plist><dict/></plist>";
const ENTITLEMENTS: &[u8] =
    b"<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>a</key><true/></dict></plist>";

/// An ad-hoc signature over a 9000-byte binary binding Info.plist and entitlements.
fn adhoc(binary: &[u8]) -> CodeSignature {
    let entitlements = blob(MAGIC_ENTITLEMENTS, ENTITLEMENTS);
    let specials = vec![sha256(INFO), vec![0; 32], vec![0; 32], vec![0; 32], sha256(&entitlements)];
    let mut cd = code_directory(binary, &specials);
    cd[12..16].copy_from_slice(&CS_ADHOC.to_be_bytes());
    parse(&superblob(&[
        (SLOT_CODE_DIRECTORY, cd),
        (SLOT_ENTITLEMENTS, entitlements),
        (SLOT_CMS_SIGNATURE, blob(MAGIC_BLOB_WRAPPER, &[])),
    ]))
}

fn binary() -> Vec<u8> {
    (0..9000u32).map(|i| (i % 251) as u8).collect()
}

fn bound() -> BoundFiles<'static> {
    BoundFiles { info_plist: Some(INFO), code_resources: None, in_bundle: true }
}

#[test]
fn intact_adhoc_signature_fails_only_for_want_of_a_signer() {
    let bin = binary();
    let sig = adhoc(&bin);
    assert!(sig.diagnostics.is_empty(), "{:?}", sig.diagnostics);
    let v = verify(&bin, &sig, &bound(), None);
    assert_eq!(v.outcome, Outcome::Failed);
    assert_eq!(v.errors.len(), 1, "{:?}", v.errors);
    assert!(v.errors[0].starts_with("signed ad hoc"), "{:?}", v.errors);
}

#[test]
fn a_changed_page_is_named() {
    let bin = binary();
    let sig = adhoc(&bin);
    let mut tampered = bin.clone();
    tampered[5000] ^= 1;
    let v = verify(&tampered, &sig, &bound(), None);
    assert!(
        v.errors.iter().any(|e| e.contains("1 of 3 pages differ") && e.contains("page 1")),
        "{:?}",
        v.errors
    );
}

#[test]
fn encrypted_pages_are_not_verifiable_not_failed() {
    let bin = binary();
    let sig = adhoc(&bin);
    let mut encrypted = bin.clone();
    encrypted[5000] ^= 1;
    let v = verify(&encrypted, &sig, &bound(), Some((4096, 8192)));
    assert!(!v.errors.iter().any(|e| e.contains("pages differ")), "{:?}", v.errors);
    assert!(v.unverifiable.iter().any(|e| e.contains("1 FairPlay-encrypted pages")), "{:?}", v.unverifiable);
}

#[test]
fn special_slots_bind_info_plist_and_entitlements() {
    let bin = binary();
    let sig = adhoc(&bin);
    let other = BoundFiles {
        info_plist: Some(b"<plist><dict><key>x</key></dict></plist>"),
        code_resources: None,
        in_bundle: true,
    };
    let v = verify(&bin, &sig, &other, None);
    assert!(v.errors.iter().any(|e| e.contains("Info.plist differs")), "{:?}", v.errors);
    let lacking = BoundFiles { in_bundle: true, ..BoundFiles::default() };
    let v = verify(&bin, &sig, &lacking, None);
    assert!(v.errors.iter().any(|e| e.contains("Info.plist is signed but missing")), "{:?}", v.errors);
    // A bare binary: the Info.plist it binds is elsewhere.
    let v = verify(&bin, &sig, &BoundFiles::default(), None);
    assert!(v.unverifiable.iter().any(|e| e.contains("Info.plist is outside")), "{:?}", v.unverifiable);
    // Entitlements swapped for others after signing.
    let mut sig = sig;
    sig.slot_blobs.insert(SLOT_ENTITLEMENTS, blob(MAGIC_ENTITLEMENTS, b"<plist><dict/></plist>"));
    let v = verify(&bin, &sig, &bound(), None);
    assert!(v.errors.iter().any(|e| e.contains("entitlements differs")), "{:?}", v.errors);
}

#[test]
fn a_code_limit_past_the_end_or_a_wrong_slot_count_fails() {
    let bin = binary();
    let sig = adhoc(&bin);
    let v = verify(&bin[..4000], &sig, &bound(), None);
    assert!(v.errors.iter().any(|e| e.contains("past the end")), "{:?}", v.errors);
    let mut short = sig.clone();
    short.code_directories[0].code_slots = 2;
    let v = verify(&bin, &short, &bound(), None);
    assert!(v.errors.iter().any(|e| e.contains("2 code slots for 3 pages")), "{:?}", v.errors);
}

#[test]
fn a_cms_signature_without_signers_or_unreadable_fails() {
    let bin = binary();
    let mut sig = adhoc(&bin);
    sig.cms = vec![0x30, 0x03, 0x02, 0x01, 0x01];
    let v = verify(&bin, &sig, &bound(), None);
    assert!(v.errors.iter().any(|e| e.starts_with("CMS signature:")), "{:?}", v.errors);
}

#[test]
fn no_code_directory_fails() {
    let v = verify(b"", &CodeSignature::default(), &BoundFiles::default(), None);
    assert_eq!(v.outcome, Outcome::Failed);
}

#[test]
fn mangled_signatures_never_panic() {
    let bin = binary();
    let entitlements = blob(MAGIC_ENTITLEMENTS, ENTITLEMENTS);
    let bytes = superblob(&[
        (SLOT_CODE_DIRECTORY, code_directory(&bin, &[sha256(INFO)])),
        (SLOT_ENTITLEMENTS, entitlements),
        (SLOT_CMS_SIGNATURE, blob(MAGIC_BLOB_WRAPPER, &[])),
    ]);
    each_truncation(&bytes, |cut| drop(verify(&bin, &parse(cut), &bound(), None)));
    each_flip(&bytes, &[0x00, 0x7f, 0x80, 0xff], |_, _, copy| {
        drop(verify(&bin, &parse(copy), &bound(), None))
    });
}
