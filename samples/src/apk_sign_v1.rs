//! JAR (APK v1) signing: META-INF/MANIFEST.MF with a SHA-256 digest per entry,
//! META-INF/CERT.SF with digests of the manifest and of each of its sections
//! (plus `X-Android-APK-Signed: 2`, which tells verifiers that a v2 signature
//! must also be present, defeating stripping), and META-INF/CERT.RSA, a
//! detached PKCS#7 SignedData over CERT.SF without signed attributes.

use sha2::{Digest, Sha256};

use crate::apk_sign_v2::Signer;
use crate::der;
use crate::x509::{self, DistinguishedName};

const OID_SIGNED_DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 2];
const OID_DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 1];
const OID_SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];

/// The three META-INF entries (name, bytes) signing `entries` (name, data).
pub fn signature_files(
    entries: &[(&str, &[u8])],
    signer: &Signer,
    subject: &DistinguishedName,
    serial: u64,
) -> Vec<(&'static str, Vec<u8>)> {
    let header = "Manifest-Version: 1.0\r\nCreated-By: appvet-samples\r\n\r\n";
    let mut manifest = header.to_string();
    let mut signature_file_sections = String::new();
    for (name, data) in entries {
        assert!(name.len() < 60, "long names would need 72-byte line wrapping");
        let section = format!("Name: {name}\r\nSHA-256-Digest: {}\r\n\r\n", base64(&Sha256::digest(data)));
        signature_file_sections.push_str(&format!(
            "Name: {name}\r\nSHA-256-Digest: {}\r\n\r\n",
            base64(&Sha256::digest(section.as_bytes()))
        ));
        manifest.push_str(&section);
    }
    let signature_file = format!(
        "Signature-Version: 1.0\r\nCreated-By: appvet-samples\r\n\
         SHA-256-Digest-Manifest: {}\r\nX-Android-APK-Signed: 2\r\n\r\n{}",
        base64(&Sha256::digest(manifest.as_bytes())),
        signature_file_sections
    );
    let block = pkcs7_signed_data(signature_file.as_bytes(), signer, subject, serial);
    vec![
        ("META-INF/MANIFEST.MF", manifest.into_bytes()),
        ("META-INF/CERT.SF", signature_file.into_bytes()),
        ("META-INF/CERT.RSA", block),
    ]
}

/// Detached PKCS#7 SignedData: one certificate, one SignerInfo whose
/// encryptedDigest is RSA PKCS#1 v1.5 SHA-256 over `content`.
fn pkcs7_signed_data(content: &[u8], signer: &Signer, subject: &DistinguishedName, serial: u64) -> Vec<u8> {
    let sha256 = der::sequence(&[der::oid(OID_SHA256), der::null()]);
    let signer_info = der::sequence(&[
        der::small_integer(1),
        der::sequence(&[x509::name(subject), der::small_integer(serial)]),
        sha256.clone(),
        x509::rsa_encryption_algorithm(),
        der::octet_string(&x509::sign_sha256(&signer.key, content)),
    ]);
    let signed_data = der::sequence(&[
        der::small_integer(1),
        der::set(&[sha256]),
        der::sequence(&[der::oid(OID_DATA)]),
        der::tlv(0xa0, &signer.certificate), // [0] IMPLICIT certificates
        der::set(&[signer_info]),
    ]);
    der::sequence(&[der::oid(OID_SIGNED_DATA), der::explicit(0, &signed_data)])
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
