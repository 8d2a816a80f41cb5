//! A small Mach-O writer: little-endian arm64 executables and dylibs with a
//! `__TEXT` segment (`__cstring`, `__objc_classname`), dylib / rpath /
//! build-version / encryption-info load commands, a symbol table of imports,
//! and an embedded code signature (SuperBlob with a CodeDirectory, XML and
//! DER entitlements and a CMS blob carrying certificates). The CodeDirectory
//! hashes every 4 KiB page up to the signature and binds Info.plist and the
//! entitlement blobs in its special slots; with a signer, the CMS SignedData
//! signs the CodeDirectory as `codesign` does (contentType and messageDigest
//! signed attributes, RSA PKCS#1 v1.5 SHA-256). Enough structure for an
//! analyzer to read and verify; nothing here would run.

use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

use crate::der;
use crate::x509::{self, DistinguishedName};

const MH_MAGIC_64: u32 = 0xfeed_facf;
const CPU_TYPE_ARM64: u32 = 0x0100_000c;
pub const MH_EXECUTE: u32 = 2;
pub const MH_DYLIB: u32 = 6;

const LC_SEGMENT_64: u32 = 0x19;
const LC_SYMTAB: u32 = 0x2;
const LC_LOAD_DYLIB: u32 = 0xc;
const LC_ID_DYLIB: u32 = 0xd;
const LC_LOAD_WEAK_DYLIB: u32 = 0x8000_0018;
const LC_RPATH: u32 = 0x8000_001c;
const LC_CODE_SIGNATURE: u32 = 0x1d;
const LC_ENCRYPTION_INFO_64: u32 = 0x2c;
const LC_BUILD_VERSION: u32 = 0x32;
const PLATFORM_IOS: u32 = 2;

/// Where the code signature's certificates come from.
#[derive(Clone, Debug, Default)]
pub struct Signature {
    pub identifier: String,
    pub team_id: Option<String>,
    /// XML plist entitlements, if any.
    pub entitlements_xml: Option<String>,
    /// `(key, value)` boolean entitlements in the DER form.
    pub der_entitlements: Vec<(String, bool)>,
    /// DER certificates placed in the CMS blob (empty: ad hoc).
    pub certificates: Vec<Vec<u8>>,
    /// Who signs the CodeDirectory: key, and issuer and serial of its
    /// certificate (one of `certificates`). Without it the CMS blob carries
    /// the certificates and no signer.
    pub signer: Option<(RsaPrivateKey, DistinguishedName, u64)>,
    /// The bundle's Info.plist, bound in special slot 1.
    pub info_plist: Option<Vec<u8>>,
}

/// What to put in one binary.
#[derive(Clone, Debug, Default)]
pub struct MachoSpec {
    pub file_type: u32,
    /// LC_ID_DYLIB (dylibs and frameworks).
    pub id_dylib: Option<String>,
    pub dylibs: Vec<String>,
    pub weak_dylibs: Vec<String>,
    pub rpaths: Vec<String>,
    /// `(major, minor)` of the minimum iOS version.
    pub min_ios: (u32, u32),
    pub cryptid: u32,
    pub cstrings: Vec<String>,
    pub objc_classes: Vec<String>,
    pub imports: Vec<String>,
    pub signature: Option<Signature>,
}

fn u32s(out: &mut Vec<u8>, values: &[u32]) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn padded_string_command(cmd: u32, fixed: &[u32], text: &str) -> Vec<u8> {
    let header = 8 + 4 * fixed.len();
    let size = (header + text.len() + 1).div_ceil(8) * 8;
    let mut c = Vec::new();
    u32s(&mut c, &[cmd, size as u32]);
    u32s(&mut c, fixed);
    c.extend_from_slice(text.as_bytes());
    c.resize(size, 0);
    c
}

fn dylib_command(cmd: u32, path: &str) -> Vec<u8> {
    // name offset 24, timestamp 2, current 1.0.0, compatibility 1.0.0
    padded_string_command(cmd, &[24, 2, 0x1_0000, 0x1_0000], path)
}

fn nul_joined(items: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in items {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    out
}

/// Writes the binary.
pub fn build(spec: &MachoSpec) -> Vec<u8> {
    let cstrings = nul_joined(&spec.cstrings);
    let classnames = nul_joined(&spec.objc_classes);
    let mut strtab = vec![0u8];
    let mut symbols = Vec::new();
    for name in &spec.imports {
        let strx = strtab.len() as u32;
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
        // nlist_64: undefined external, ordinal 1 in n_desc.
        let mut n = strx.to_le_bytes().to_vec();
        n.extend_from_slice(&[0x01, 0, 0x00, 0x01]);
        n.extend_from_slice(&0u64.to_le_bytes());
        symbols.extend(n);
    }
    while strtab.len() % 8 != 0 {
        strtab.push(0);
    }

    // Load commands first (their sizes fix the data offsets).
    let section_count = 2u32;
    let segment_size = 72 + 80 * section_count;
    let mut fixed: Vec<Vec<u8>> = Vec::new();
    if let Some(id) = &spec.id_dylib {
        fixed.push(dylib_command(LC_ID_DYLIB, id));
    }
    for d in &spec.dylibs {
        fixed.push(dylib_command(LC_LOAD_DYLIB, d));
    }
    for d in &spec.weak_dylibs {
        fixed.push(dylib_command(LC_LOAD_WEAK_DYLIB, d));
    }
    for r in &spec.rpaths {
        fixed.push(padded_string_command(LC_RPATH, &[12], r));
    }
    let version = (spec.min_ios.0 << 16) | (spec.min_ios.1 << 8);
    let mut build_version = Vec::new();
    u32s(&mut build_version, &[LC_BUILD_VERSION, 24, PLATFORM_IOS, version, version, 0]);
    fixed.push(build_version);
    let fixed_size: usize = fixed.iter().map(Vec::len).sum();
    let sizeofcmds = segment_size as usize
        + fixed_size
        + 24 // encryption info
        + 24 // symtab
        + if spec.signature.is_some() { 16 } else { 0 };
    let text_start = (32 + sizeofcmds).div_ceil(16) * 16;
    let cstring_at = text_start;
    let classname_at = cstring_at + cstrings.len();
    let text_end = (classname_at + classnames.len()).div_ceil(16) * 16;
    let sym_at = text_end;
    let str_at = sym_at + symbols.len();
    let sig_at = (str_at + strtab.len()).div_ceil(16) * 16;
    // LC_CODE_SIGNATURE gives the signature's size before the bytes it hashes
    // are written; the size depends only on how many pages there are, so a
    // pass over placeholder bytes of the same length gives it.
    let signature_len = spec.signature.as_ref().map(|sig| code_signature(sig, &vec![0; sig_at]).len());

    let mut out = Vec::new();
    let ncmds = 1 + fixed.len() as u32 + 2 + u32::from(spec.signature.is_some());
    u32s(
        &mut out,
        &[MH_MAGIC_64, CPU_TYPE_ARM64, 0, spec.file_type, ncmds, sizeofcmds as u32, 0x0020_0085, 0],
    );
    // __TEXT segment mapping the file from 0 to the end of the text.
    u32s(&mut out, &[LC_SEGMENT_64, segment_size]);
    let mut name = [0u8; 16];
    name[..6].copy_from_slice(b"__TEXT");
    out.extend_from_slice(&name);
    for v in [0x1_0000_0000u64, text_end as u64, 0, text_end as u64] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    u32s(&mut out, &[5, 5, section_count, 0]);
    for (sect, at, len, kind) in [
        ("__cstring", cstring_at, cstrings.len(), 2u32),
        ("__objc_classname", classname_at, classnames.len(), 2),
    ] {
        let mut s = [0u8; 80];
        s[..sect.len()].copy_from_slice(sect.as_bytes());
        s[16..22].copy_from_slice(b"__TEXT");
        s[32..40].copy_from_slice(&(0x1_0000_0000u64 + at as u64).to_le_bytes());
        s[40..48].copy_from_slice(&(len as u64).to_le_bytes());
        s[48..52].copy_from_slice(&(at as u32).to_le_bytes());
        s[64..68].copy_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&s);
    }
    for c in &fixed {
        out.extend_from_slice(c);
    }
    u32s(
        &mut out,
        &[LC_ENCRYPTION_INFO_64, 24, text_start as u32, (text_end - text_start) as u32, spec.cryptid, 0],
    );
    u32s(
        &mut out,
        &[LC_SYMTAB, 24, sym_at as u32, spec.imports.len() as u32, str_at as u32, strtab.len() as u32],
    );
    if let Some(len) = signature_len {
        u32s(&mut out, &[LC_CODE_SIGNATURE, 16, sig_at as u32, len as u32]);
    }
    out.resize(text_start, 0);
    out.extend_from_slice(&cstrings);
    out.extend_from_slice(&classnames);
    out.resize(sym_at, 0);
    out.extend_from_slice(&symbols);
    out.extend_from_slice(&strtab);
    if let Some(sig) = &spec.signature {
        out.resize(sig_at, 0);
        let blob = code_signature(sig, &out);
        assert_eq!(Some(blob.len()), signature_len, "the signature's size depends only on the page count");
        out.extend(blob);
    }
    out
}

fn blob(magic: u32, body: &[u8]) -> Vec<u8> {
    let mut b = magic.to_be_bytes().to_vec();
    b.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
    b.extend_from_slice(body);
    b
}

const PAGE_SHIFT: u8 = 12;
/// Special slots written: 1 Info.plist .. 7 DER entitlements.
const SPECIAL_SLOTS: usize = 7;

/// A version 0x20400 CodeDirectory hashing `code` page by page (SHA-256),
/// with `specials[i]` the hash bound in special slot `i + 1` (zeros: none).
fn code_directory(
    identifier: &str,
    team_id: Option<&str>,
    flags: u32,
    code: &[u8],
    specials: &[[u8; 32]; SPECIAL_SLOTS],
) -> Vec<u8> {
    let header = 88u32;
    let ident_offset = header;
    let team_offset = team_id.map(|_| ident_offset + identifier.len() as u32 + 1).unwrap_or(0);
    let names_len = identifier.len() + 1 + team_id.map_or(0, |t| t.len() + 1);
    let hash_offset = header as usize + names_len + 32 * SPECIAL_SLOTS;
    let pages = code.len().div_ceil(1 << PAGE_SHIFT);
    let mut body = Vec::new();
    for v in [
        0x20400u32,
        flags,
        hash_offset as u32,
        ident_offset,
        SPECIAL_SLOTS as u32,
        pages as u32,
        code.len() as u32,
    ] {
        body.extend_from_slice(&v.to_be_bytes());
    }
    body.extend_from_slice(&[32, 2, 0, PAGE_SHIFT]); // hash size, sha256, platform, 4 KiB pages
    for v in [0u32, 0, team_offset, 0] {
        body.extend_from_slice(&v.to_be_bytes());
    }
    body.resize((header - 8) as usize, 0);
    body.extend_from_slice(identifier.as_bytes());
    body.push(0);
    if let Some(team) = team_id {
        body.extend_from_slice(team.as_bytes());
        body.push(0);
    }
    // Special slots are stored in reverse: slot N lies N hashes before slot 0.
    for special in specials.iter().rev() {
        body.extend_from_slice(special);
    }
    for page in code.chunks(1 << PAGE_SHIFT) {
        body.extend_from_slice(&Sha256::digest(page));
    }
    blob(0xfade_0c02, &body)
}

fn der_entitlements(pairs: &[(String, bool)]) -> Vec<u8> {
    let items: Vec<Vec<u8>> = pairs
        .iter()
        .map(|(k, v)| der::sequence(&[der::utf8_string(k), der::tlv(0x01, &[if *v { 0xff } else { 0 }])]))
        .collect();
    der::tlv(0x70, &[der::small_integer(1), der::set(&items)].concat())
}

/// A CMS SignedData carrying `certificates`; with a signer, one SignerInfo
/// over `code_directory`, else none (the certificates name a signer that
/// cannot be verified).
fn cms(
    certificates: &[Vec<u8>],
    signer: Option<&(RsaPrivateKey, DistinguishedName, u64)>,
    code_directory: &[u8],
) -> Vec<u8> {
    let data_oid = der::oid(&[1, 2, 840, 113549, 1, 7, 1]);
    let sha256 = der::sequence(&[der::oid(&[2, 16, 840, 1, 101, 3, 4, 2, 1]), der::null()]);
    let signer_infos: Vec<Vec<u8>> = signer
        .map(|(key, issuer, serial)| {
            // DER orders a SET OF by encoding: contentType (shorter) first.
            let attributes = [
                der::sequence(&[
                    der::oid(&[1, 2, 840, 113549, 1, 9, 3]),
                    der::set(std::slice::from_ref(&data_oid)),
                ]),
                der::sequence(&[
                    der::oid(&[1, 2, 840, 113549, 1, 9, 4]),
                    der::set(&[der::octet_string(&Sha256::digest(code_directory))]),
                ]),
            ];
            let signed = der::set(&attributes);
            der::sequence(&[
                der::small_integer(1),
                der::sequence(&[x509::name(issuer), der::small_integer(*serial)]),
                sha256.clone(),
                der::tlv(0xa0, &attributes.concat()), // [0] IMPLICIT signed attributes
                x509::rsa_encryption_algorithm(),
                der::octet_string(&x509::sign_sha256(key, &signed)),
            ])
        })
        .into_iter()
        .collect();
    let signed_data = der::sequence(&[
        der::small_integer(1),
        der::set(&[sha256]),
        der::sequence(&[data_oid]),
        der::tlv(0xa0, &certificates.concat()),
        der::set(&signer_infos),
    ]);
    der::sequence(&[der::oid(&[1, 2, 840, 113549, 1, 7, 2]), der::explicit(0, &signed_data)])
}

/// The SuperBlob for `sig` over `code` (the binary up to the signature).
fn code_signature(sig: &Signature, code: &[u8]) -> Vec<u8> {
    let adhoc = sig.certificates.is_empty();
    let mut specials = [[0u8; 32]; SPECIAL_SLOTS];
    let mut blobs: Vec<(u32, Vec<u8>)> = Vec::new();
    if let Some(info) = &sig.info_plist {
        specials[0] = Sha256::digest(info).into();
    }
    if let Some(xml) = &sig.entitlements_xml {
        let b = blob(0xfade_7171, xml.as_bytes());
        specials[4] = Sha256::digest(&b).into();
        blobs.push((5, b));
    }
    if !sig.der_entitlements.is_empty() {
        let b = blob(0xfade_7172, &der_entitlements(&sig.der_entitlements));
        specials[6] = Sha256::digest(&b).into();
        blobs.push((7, b));
    }
    let cd =
        code_directory(&sig.identifier, sig.team_id.as_deref(), if adhoc { 0x2 } else { 0 }, code, &specials);
    let cms_body = if adhoc { Vec::new() } else { cms(&sig.certificates, sig.signer.as_ref(), &cd) };
    blobs.insert(0, (0, cd));
    blobs.push((0x10000, blob(0xfade_0b01, &cms_body)));
    let header = 12 + 8 * blobs.len();
    let mut index = Vec::new();
    let mut payload = Vec::new();
    for (slot, b) in &blobs {
        index.extend_from_slice(&slot.to_be_bytes());
        index.extend_from_slice(&((header + payload.len()) as u32).to_be_bytes());
        payload.extend_from_slice(b);
    }
    let mut out = 0xfade_0cc0u32.to_be_bytes().to_vec();
    out.extend_from_slice(&((header + payload.len()) as u32).to_be_bytes());
    out.extend_from_slice(&(blobs.len() as u32).to_be_bytes());
    out.extend(index);
    out.extend(payload);
    out
}
