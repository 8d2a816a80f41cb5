//! The signer's certificate chain up to one of Apple's published roots.
//!
//! iOS trusts a code signature only when its signer chains to an Apple
//! root (through the Worldwide Developer Relations intermediate); a chain
//! to any other root, however well formed, is a test or forged identity.
//! Each link's signature is checked with the issuer's key and every issuer
//! must be a CA. Validity periods are not checked: a signature made while
//! the certificate was valid stays valid on iOS (the provisioning profile's
//! expiry is the `provisioning_expired` policy rule, a certificate's the
//! `certificate_expired` rule, and validity at the signing time the
//! signature states is `dates`), and nothing here depends on the day of the
//! scan.

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::formats::signing::certificate::sha256_hex;
use crate::formats::signing::crypto::{self, CryptoError};
use crate::formats::signing::pkcs7;

/// Apple's root certificates (`roots/SOURCES.md`): name, DER, published SHA-256.
pub const APPLE_ROOTS: &[(&str, &[u8], &str)] = &[
    (
        "Apple Root CA",
        include_bytes!("roots/AppleRootCA.cer"),
        "b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024",
    ),
    (
        "Apple Root CA - G2",
        include_bytes!("roots/AppleRootCA-G2.cer"),
        "c2b9b042dd57830e7d117dac55ac8ae19407d38e41d88f3215bc3a890444a050",
    ),
    (
        "Apple Root CA - G3",
        include_bytes!("roots/AppleRootCA-G3.cer"),
        "63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179",
    ),
];

/// Longest chain followed (Apple's are three certificates).
const MAX_CHAIN: usize = 8;

/// What the chain check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainOutcome {
    /// Every link verifies and the chain ends at this Apple root.
    Apple(&'static str),
    /// The chain is broken or ends elsewhere; why.
    Untrusted(String),
    /// A link uses an algorithm this build cannot check.
    Unsupported(String),
}

/// Whether `cert` carries a valid signature by `issuer`'s key, and `issuer`
/// may issue certificates.
pub fn issued_by(cert: &[u8], issuer: &[u8]) -> Result<bool, CryptoError> {
    let bad = |what: &str| CryptoError::BadKey(what.to_string());
    let (_, child) = X509Certificate::from_der(cert).map_err(|_| bad("unreadable certificate"))?;
    let (_, parent) = X509Certificate::from_der(issuer).map_err(|_| bad("unreadable issuer certificate"))?;
    if child.issuer().as_raw() != parent.subject().as_raw() {
        return Ok(false);
    }
    let is_ca = parent.basic_constraints().ok().flatten().is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Ok(false);
    }
    let key = crypto::parse_spki(parent.public_key().raw)?;
    let oid = child.signature_algorithm.algorithm.to_id_string();
    let Some((padding, hash)) = pkcs7::signature_scheme(&oid) else {
        return Err(CryptoError::Unsupported(format!("certificate signature algorithm {oid}")));
    };
    crypto::verify(&key, padding, hash, child.tbs_certificate.as_ref(), &child.signature_value.data)
}

/// The Apple root named by fingerprint, or the one that issued `cert`.
fn apple_root_for(cert: &[u8]) -> Result<Option<&'static str>, CryptoError> {
    let fingerprint = sha256_hex(cert);
    if let Some((name, _, _)) = APPLE_ROOTS.iter().find(|(_, _, sha)| *sha == fingerprint) {
        return Ok(Some(name));
    }
    for (name, der, _) in APPLE_ROOTS {
        if issued_by(cert, der)? {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Checks the chain from the signer (`leaf` in the SignedData's certificate
/// set) through the certificates the signature carries up to an Apple root.
/// The root need not be carried: the last carried certificate may be
/// issued by an embedded root.
pub fn check(sd: &pkcs7::SignedData<'_>, leaf: usize) -> ChainOutcome {
    let chain = pkcs7::certificate_chain(sd, leaf);
    let chain = chain.get(..chain.len().min(MAX_CHAIN)).unwrap_or_default();
    let Some((&last, _)) = chain.split_last() else {
        return ChainOutcome::Untrusted("the signer certificate is missing".into());
    };
    for pair in chain.windows(2) {
        let [child, parent] = pair else { continue };
        match issued_by(child, parent) {
            Ok(true) => {}
            Ok(false) => {
                return ChainOutcome::Untrusted(format!(
                    "{} is not validly issued by {}",
                    subject_of(child),
                    subject_of(parent)
                ))
            }
            Err(CryptoError::Unsupported(what)) => return ChainOutcome::Unsupported(what),
            Err(CryptoError::BadKey(e)) => return ChainOutcome::Untrusted(e),
        }
    }
    match apple_root_for(last) {
        Ok(Some(root)) => ChainOutcome::Apple(root),
        Ok(None) => ChainOutcome::Untrusted(format!(
            "the certificate chain ends at {}, not at an Apple root",
            subject_of(last)
        )),
        Err(CryptoError::Unsupported(what)) => ChainOutcome::Unsupported(what),
        Err(CryptoError::BadKey(e)) => ChainOutcome::Untrusted(e),
    }
}

fn subject_of(cert: &[u8]) -> String {
    X509Certificate::from_der(cert)
        .map(|(_, c)| c.subject().to_string())
        .unwrap_or_else(|_| "an unreadable certificate".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_match_their_published_fingerprints_and_are_self_issued() {
        for (name, der, sha) in APPLE_ROOTS {
            assert_eq!(sha256_hex(der), *sha, "{name}");
            assert_eq!(issued_by(der, der), Ok(true), "{name} verifies under its own key");
            assert_eq!(apple_root_for(der), Ok(Some(*name)));
        }
    }

    #[test]
    fn a_root_does_not_issue_another() {
        let [(_, root, _), (_, g2, _), (_, g3, _)] = APPLE_ROOTS else { panic!("three roots") };
        assert_eq!(issued_by(g2, root), Ok(false));
        assert_eq!(issued_by(g3, g2), Ok(false));
    }

    #[test]
    fn a_tampered_root_no_longer_verifies() {
        let (_, root, _) = APPLE_ROOTS[0];
        let mut copy = root.to_vec();
        // A byte inside the subject's organisation name, within the signed part.
        let at = copy.windows(5).position(|w| w == b"Apple").unwrap();
        copy[at] = b'B';
        assert_eq!(apple_root_for(&copy), Ok(None));
        // A flipped bit in the signature itself.
        let mut copy = root.to_vec();
        *copy.last_mut().unwrap() ^= 1;
        assert_eq!(issued_by(&copy, &copy), Ok(false));
    }
}
