//! PKCS#7 / CMS SignedData as found in JAR signature block files
//! (`META-INF/*.RSA|DSA|EC`), and the check of one SignerInfo against the
//! `.SF` file it signs, following apksig's `V1SchemeVerifier` (which follows
//! Android's own behaviour, not the full CMS specification).

use thiserror::Error;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

use super::certificate::{self, cert_fields};
use super::crypto::{self, CryptoError, HashAlg, SigPadding};
use super::der::{self, DerError, Tlv, TAG_INTEGER, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE, TAG_SET};

const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const OID_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";

/// Android KitKat (19): signed attributes are only trusted from here on.
const SDK_KITKAT: u32 = 19;

/// Caps on SignedData lists.
const MAX_CERTS: usize = 64;
const MAX_SIGNER_INFOS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Pkcs7Error {
    #[error("malformed PKCS#7: {0}")]
    Der(#[from] DerError),
    #[error("unsupported ContentInfo type {0}")]
    NotSignedData(String),
    #[error("malformed PKCS#7: {0}")]
    Structure(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedData<'a> {
    /// eContentType of encapContentInfo.
    pub content_type: String,
    /// DER certificates, as stored.
    pub certificates: Vec<&'a [u8]>,
    pub signer_infos: Vec<SignerInfo<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerInfo<'a> {
    /// IssuerAndSerialNumber; `None` when the signer is named by key identifier
    /// (Android does not support that).
    pub issuer_and_serial: Option<(&'a [u8], &'a [u8])>,
    pub digest_oid: String,
    pub signature_oid: String,
    /// Raw `[0] IMPLICIT` signed attributes, header included.
    pub signed_attrs: Option<&'a [u8]>,
    pub signature: &'a [u8],
}

/// Parses a ContentInfo holding SignedData.
pub fn parse(data: &[u8]) -> Result<SignedData<'_>, Pkcs7Error> {
    let ci = der::parse(data)?.expect(TAG_SEQUENCE)?;
    let mut ci_kids = ci.children();
    let oid = ci_kids.next_tlv()?.expect(TAG_OID)?;
    let oid = der::oid_to_string(oid.content).unwrap_or_default();
    if oid != OID_SIGNED_DATA {
        return Err(Pkcs7Error::NotSignedData(oid));
    }
    let explicit = ci_kids.next_tlv()?.expect(0xa0)?;
    let sd = explicit.children().next_tlv()?.expect(TAG_SEQUENCE)?;
    let mut f = sd.children();
    let _version = f.next_tlv()?.expect(TAG_INTEGER)?;
    let _digest_algorithms = f.next_tlv()?.expect(TAG_SET)?;
    let encap = f.next_tlv()?.expect(TAG_SEQUENCE)?;
    let content_type = encap.children().next_tlv()?.expect(TAG_OID)?;
    let content_type = der::oid_to_string(content_type.content).unwrap_or_default();
    let mut certificates = Vec::new();
    if let Some(certs) = f.next_if(0xa0)? {
        for cert in certs.children() {
            let cert = cert?;
            if certificates.len() >= MAX_CERTS {
                return Err(Pkcs7Error::Structure("too many certificates"));
            }
            certificates.push(cert.raw);
        }
    }
    f.next_if(0xa1)?; // CRLs
    let infos = f.next_tlv()?.expect(TAG_SET)?;
    let mut signer_infos = Vec::new();
    for info in infos.children() {
        if signer_infos.len() >= MAX_SIGNER_INFOS {
            return Err(Pkcs7Error::Structure("too many SignerInfos"));
        }
        signer_infos.push(parse_signer_info(info?)?);
    }
    Ok(SignedData { content_type, certificates, signer_infos })
}

fn parse_signer_info(info: Tlv<'_>) -> Result<SignerInfo<'_>, Pkcs7Error> {
    let mut f = info.expect(TAG_SEQUENCE)?.children();
    let _version = f.next_tlv()?.expect(TAG_INTEGER)?;
    let sid = f.next_tlv()?;
    let issuer_and_serial = if sid.tag == TAG_SEQUENCE {
        let mut s = sid.children();
        let issuer = s.next_tlv()?.expect(TAG_SEQUENCE)?;
        let serial = s.next_tlv()?.expect(TAG_INTEGER)?;
        Some((issuer.raw, der::integer_magnitude(serial.content)))
    } else {
        None
    };
    let digest_oid = der::algorithm_oid(f.next_tlv()?)?;
    let signed_attrs = f.next_if(0xa0)?.map(|t| t.raw);
    let signature_oid = der::algorithm_oid(f.next_tlv()?)?;
    let signature = f.next_tlv()?;
    if signature.tag != TAG_OCTET_STRING {
        return Err(Pkcs7Error::Structure("signature is not an OCTET STRING"));
    }
    Ok(SignerInfo {
        issuer_and_serial,
        digest_oid,
        signature_oid,
        signed_attrs,
        signature: signature.content,
    })
}

/// Outcome of checking one SignerInfo against the signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerCheck {
    /// Verified; index of the signing certificate in `SignedData::certificates`.
    Verified(usize),
    /// Did not verify, but other SignerInfos may still be tried.
    NotVerified,
    /// Android rejects the whole signature block.
    Fatal(String),
    /// This build cannot check the algorithm or key (DSA, P-521).
    Unsupported(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digest {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

fn digest_from_oid(oid: &str) -> Option<Digest> {
    Some(match oid {
        "1.2.840.113549.2.5" => Digest::Md5,
        "1.3.14.3.2.26" => Digest::Sha1,
        "2.16.840.1.101.3.4.2.4" => Digest::Sha224,
        "2.16.840.1.101.3.4.2.1" => Digest::Sha256,
        "2.16.840.1.101.3.4.2.2" => Digest::Sha384,
        "2.16.840.1.101.3.4.2.3" => Digest::Sha512,
        _ => return None,
    })
}

fn hash_of(d: Digest) -> HashAlg {
    match d {
        Digest::Md5 => HashAlg::Md5,
        Digest::Sha1 => HashAlg::Sha1,
        Digest::Sha224 => HashAlg::Sha224,
        Digest::Sha256 => HashAlg::Sha256,
        Digest::Sha384 => HashAlg::Sha384,
        Digest::Sha512 => HashAlg::Sha512,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    Dsa,
    Ec,
}

/// Signature OID -> key family and, for "XwithY" OIDs, the hash it implies.
fn signature_from_oid(oid: &str) -> Option<(KeyKind, Option<Digest>)> {
    use Digest::*;
    use KeyKind::*;
    Some(match oid {
        crypto::OID_RSA => (Rsa, None),
        "1.2.840.113549.1.1.4" => (Rsa, Some(Md5)),
        "1.2.840.113549.1.1.5" => (Rsa, Some(Sha1)),
        "1.2.840.113549.1.1.14" => (Rsa, Some(Sha224)),
        "1.2.840.113549.1.1.11" => (Rsa, Some(Sha256)),
        "1.2.840.113549.1.1.12" => (Rsa, Some(Sha384)),
        "1.2.840.113549.1.1.13" => (Rsa, Some(Sha512)),
        crypto::OID_DSA => (Dsa, None),
        "1.2.840.10040.4.3" => (Dsa, Some(Sha1)),
        "2.16.840.1.101.3.4.3.1" => (Dsa, Some(Sha224)),
        "2.16.840.1.101.3.4.3.2" => (Dsa, Some(Sha256)),
        crypto::OID_EC => (Ec, None),
        "1.2.840.10045.4.1" => (Ec, Some(Sha1)),
        "1.2.840.10045.4.3.1" => (Ec, Some(Sha224)),
        "1.2.840.10045.4.3.2" => (Ec, Some(Sha256)),
        "1.2.840.10045.4.3.3" => (Ec, Some(Sha384)),
        "1.2.840.10045.4.3.4" => (Ec, Some(Sha512)),
        _ => return None,
    })
}

/// Padding and hash of an "XwithY" signature OID (certificate signatures);
/// `None` for a bare key OID or one this module does not know.
pub fn signature_scheme(oid: &str) -> Option<(SigPadding, HashAlg)> {
    let (kind, hash) = signature_from_oid(oid)?;
    Some((padding_of(kind), hash_of(hash?)))
}

fn padding_of(kind: KeyKind) -> SigPadding {
    match kind {
        KeyKind::Rsa => SigPadding::RsaPkcs1,
        KeyKind::Dsa => SigPadding::Dsa,
        KeyKind::Ec => SigPadding::Ecdsa,
    }
}

const ALL: &[(u32, u32)] = &[(0, u32::MAX)];
const FROM_9: &[(u32, u32)] = &[(9, u32::MAX)];
const FROM_18: &[(u32, u32)] = &[(18, u32::MAX)];
const FROM_21: &[(u32, u32)] = &[(21, u32::MAX)];
const FROM_22: &[(u32, u32)] = &[(22, u32::MAX)];
const ONLY_21: &[(u32, u32)] = &[(21, 21)];
const L21_23: &[(u32, u32)] = &[(21, 23)];
const TO_8_FROM_18: &[(u32, u32)] = &[(0, 8), (18, u32::MAX)];
const TO_8_FROM_21: &[(u32, u32)] = &[(0, 8), (21, u32::MAX)];
const NONE: &[(u32, u32)] = &[];

/// Platform levels on which Android accepts this digest / signature
/// algorithm pair in a JAR signature (apksig's table, derived from testing
/// each platform release).
fn supported_levels(digest: Digest, key: KeyKind, sig_hash: Option<Digest>) -> &'static [(u32, u32)] {
    use Digest::*;
    use KeyKind::*;
    match (key, sig_hash) {
        (Rsa, None) => match digest {
            Md5 | Sha1 => ALL,
            Sha224 => TO_8_FROM_21,
            Sha256 => TO_8_FROM_18,
            Sha384 | Sha512 => FROM_18,
        },
        (Rsa, Some(s)) if s == digest => match digest {
            Md5 => TO_8_FROM_21,
            Sha1 => ALL,
            Sha224 => TO_8_FROM_21,
            Sha256 => TO_8_FROM_18,
            Sha384 | Sha512 => FROM_21,
        },
        (Rsa, Some(s)) => match (digest, s) {
            (Sha224, Sha256) | (Sha256, Sha1) | (Sha512, Sha384) => ONLY_21,
            _ => L21_23,
        },
        (Dsa, None) => match digest {
            Sha1 => ALL,
            Sha224 | Sha256 => FROM_22,
            _ => NONE,
        },
        (Dsa, Some(s)) if s == digest => match digest {
            Sha1 => FROM_9,
            _ => FROM_21,
        },
        (Dsa, Some(_)) => L21_23,
        (Ec, None) => match digest {
            Md5 => NONE,
            Sha224 => FROM_21,
            _ => FROM_18,
        },
        (Ec, Some(s)) if s == digest => match digest {
            Sha1 => FROM_18,
            _ => FROM_21,
        },
        (Ec, Some(_)) => L21_23,
    }
}

/// Whether every level in [min, max] lies in one of `ranges`.
fn covers(ranges: &[(u32, u32)], min: u32, max: u32) -> bool {
    let mut level = min;
    loop {
        let Some(&(_, hi)) = ranges.iter().find(|(lo, hi)| *lo <= level && level <= *hi) else {
            return false;
        };
        if hi >= max {
            return true;
        }
        level = hi + 1;
    }
}

/// Checks `info` against the signed `content` (the .SF bytes).
pub fn verify_signer_info(
    sd: &SignedData<'_>,
    info: &SignerInfo<'_>,
    content: &[u8],
    min_sdk: u32,
    max_sdk: u32,
) -> SignerCheck {
    let (Some(digest), Some((key_kind, sig_hash))) =
        (digest_from_oid(&info.digest_oid), signature_from_oid(&info.signature_oid))
    else {
        return SignerCheck::Fatal(format!(
            "unsupported digest / signature algorithm {} / {}",
            info.digest_oid, info.signature_oid
        ));
    };
    if !covers(supported_levels(digest, key_kind, sig_hash), min_sdk, max_sdk) {
        return SignerCheck::Fatal(format!(
            "digest {} with signature {} is not supported on every API level in {min_sdk}..",
            info.digest_oid, info.signature_oid
        ));
    }
    let Some(cert_index) = find_certificate(sd, info) else {
        return SignerCheck::Fatal(
            "signing certificate referenced in SignerInfo not found in SignedData".into(),
        );
    };
    let cert_der = sd.certificates[cert_index];
    if let Ok((_, cert)) = X509Certificate::from_der(cert_der) {
        if let Ok(Some(ku)) = cert.key_usage() {
            if !ku.value.digital_signature() && !ku.value.non_repudiation() {
                return SignerCheck::Fatal(
                    "signing certificate not authorized for digital signatures".into(),
                );
            }
        }
    }
    let key = match cert_fields(cert_der)
        .map_err(|e| e.to_string())
        .and_then(|f| crypto::parse_spki(f.spki).map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => return SignerCheck::Fatal(format!("signing certificate key: {e}")),
    };
    let message: Vec<u8>;
    let signed: &[u8] = match info.signed_attrs {
        None => content,
        Some(raw) => {
            if min_sdk < SDK_KITKAT {
                return SignerCheck::Fatal(format!(
                    "signed attributes are broken on platforms with API level < {SDK_KITKAT}"
                ));
            }
            match check_signed_attributes(raw, sd, digest, content, max_sdk) {
                Ok(true) => {}
                Ok(false) => return SignerCheck::NotVerified,
                Err(e) => return SignerCheck::Fatal(e),
            }
            // Android verifies over the original encoding with the
            // IMPLICIT [0] tag replaced by SET, without re-encoding.
            let mut m = raw.to_vec();
            m[0] = 0x31;
            message = m;
            &message
        }
    };
    let padding = padding_of(key_kind);
    let hash = hash_of(sig_hash.unwrap_or(digest));
    match crypto::verify(&key, padding, hash, signed, info.signature) {
        Ok(true) => SignerCheck::Verified(cert_index),
        Ok(false) => SignerCheck::NotVerified,
        Err(CryptoError::Unsupported(what)) => SignerCheck::Unsupported(what),
        Err(CryptoError::BadKey(e)) => SignerCheck::Fatal(e),
    }
}

/// `Ok(false)`: the attributes do not match this content (try the next SignerInfo).
fn check_signed_attributes(
    raw: &[u8],
    sd: &SignedData<'_>,
    digest: Digest,
    content: &[u8],
    max_sdk: u32,
) -> Result<bool, String> {
    let set = der::parse(raw).map_err(|e| e.to_string())?;
    let mut content_type: Option<String> = None;
    let mut message_digest: Option<&[u8]> = None;
    let mut seen: Vec<String> = Vec::new();
    for attr in set.children() {
        let attr = attr.map_err(|e| e.to_string())?;
        let mut f = attr.children();
        let oid = f.next_tlv().and_then(|t| t.expect(TAG_OID)).map_err(|e| e.to_string())?;
        let oid = der::oid_to_string(oid.content).unwrap_or_default();
        if seen.contains(&oid) {
            return Err(format!("duplicate signed attribute {oid}"));
        }
        seen.push(oid.clone());
        let values = f.next_tlv().map_err(|e| e.to_string())?;
        let vals: Vec<Tlv<'_>> = values.children().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
        if vals.len() > 1 && (oid == OID_CONTENT_TYPE || oid == OID_MESSAGE_DIGEST) {
            return Err(format!("attribute {oid} has multiple values"));
        }
        match (oid.as_str(), vals.first()) {
            (OID_CONTENT_TYPE, Some(v)) if v.tag == TAG_OID => content_type = der::oid_to_string(v.content),
            (OID_MESSAGE_DIGEST, Some(v)) if v.tag == TAG_OCTET_STRING => message_digest = Some(v.content),
            (OID_CONTENT_TYPE | OID_MESSAGE_DIGEST, Some(_)) => {
                return Err(format!("attribute {oid} malformed"))
            }
            _ => {}
        }
    }
    if max_sdk >= 24 {
        match content_type {
            None => return Err("no content type in signed attributes".into()),
            Some(ct) if ct != sd.content_type => return Ok(false),
            Some(_) => {}
        }
    }
    let Some(expected) = message_digest else {
        return Err("no content digest in signed attributes".into());
    };
    let Some(actual) = hash_of(digest).digest(content) else {
        return Err("MD5 message digest is not supported".into());
    };
    Ok(expected == actual.as_slice())
}

/// The certificate named by the SignerInfo's issuer and serial number.
fn find_certificate(sd: &SignedData<'_>, info: &SignerInfo<'_>) -> Option<usize> {
    let (issuer, serial) = info.issuer_and_serial?;
    let issuer_text =
        || X509Name::from_der(issuer).ok().map(|(_, n)| certificate::rfc4514(&n).to_lowercase());
    sd.certificates.iter().position(|c| {
        let Ok(fields) = cert_fields(c) else {
            return false;
        };
        if fields.serial != serial {
            return false;
        }
        if fields.issuer == issuer {
            return true;
        }
        // X500Principal equality is on canonical form (case, spacing, string type).
        let theirs =
            X509Name::from_der(fields.issuer).ok().map(|(_, n)| certificate::rfc4514(&n).to_lowercase());
        theirs.is_some() && theirs == issuer_text()
    })
}

/// The chain from the signing certificate up through issuers present in the bag.
pub fn certificate_chain<'a>(sd: &SignedData<'a>, leaf: usize) -> Vec<&'a [u8]> {
    let mut chain = Vec::new();
    let mut used = vec![false; sd.certificates.len()];
    let mut current = Some(leaf);
    while let Some(index) = current.take() {
        let Some(cert) = sd.certificates.get(index) else {
            break;
        };
        if used[index] {
            break;
        }
        used[index] = true;
        chain.push(*cert);
        let Ok((_, parsed)) = X509Certificate::from_der(cert) else {
            break;
        };
        let issuer = parsed.issuer().as_raw();
        if parsed.subject().as_raw() == issuer {
            break;
        }
        current = sd.certificates.iter().enumerate().position(|(i, c)| {
            !used[i]
                && X509Certificate::from_der(c).map(|(_, p)| p.subject().as_raw() == issuer).unwrap_or(false)
        });
    }
    chain
}

/// Parses a signature block and checks each SignerInfo against `content`
/// (for fuzzing and quick inspection).
pub fn inspect(block: &[u8], content: &[u8]) -> Vec<SignerCheck> {
    let Ok(sd) = parse(block) else {
        return Vec::new();
    };
    sd.signer_infos.iter().map(|info| verify_signer_info(&sd, info, content, 24, i32::MAX as u32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_table_matches_apksig_examples() {
        use Digest::*;
        // SHA-256 with RSA needs API 18+ (JB MR2) apart from the 0-8 window.
        assert!(!covers(supported_levels(Sha256, KeyKind::Rsa, Some(Sha256)), 14, u32::MAX));
        assert!(covers(supported_levels(Sha256, KeyKind::Rsa, Some(Sha256)), 18, u32::MAX));
        assert!(covers(supported_levels(Sha1, KeyKind::Rsa, Some(Sha1)), 1, u32::MAX));
        assert!(covers(supported_levels(Sha1, KeyKind::Rsa, None), 1, u32::MAX));
        assert!(!covers(supported_levels(Sha256, KeyKind::Rsa, Some(Sha1)), 21, u32::MAX));
        assert!(covers(supported_levels(Sha256, KeyKind::Ec, Some(Sha256)), 21, u32::MAX));
        assert!(!covers(NONE, 0, 0));
    }

    #[test]
    fn rejects_malformed_content_info() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0x30, 0x00]).is_err());
        // ContentInfo with the id-data OID instead of signedData.
        let data_ci = [0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
        assert!(matches!(parse(&data_ci), Err(Pkcs7Error::NotSignedData(_))));
        // signedData OID but truncated body.
        let truncated =
            [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x05];
        assert!(parse(&truncated).is_err());
    }
}
