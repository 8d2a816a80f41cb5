//! Self-signed X.509 v3 certificates for the demo signing keys, built with
//! [`crate::der`]: sha256WithRSAEncryption, subject == issuer (C, O, CN),
//! fixed validity and serial so the DER is reproducible.

use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

use crate::der;

/// The subject (and issuer) of a demo certificate.
#[derive(Clone, Copy, Debug)]
pub struct DistinguishedName {
    pub country: &'static str,
    pub organization: &'static str,
    pub common_name: &'static str,
}

const OID_RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const OID_SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const OID_COUNTRY: &[u64] = &[2, 5, 4, 6];
const OID_ORGANIZATION: &[u64] = &[2, 5, 4, 10];
const OID_COMMON_NAME: &[u64] = &[2, 5, 4, 3];
const NOT_BEFORE: &str = "240101000000Z";
const NOT_AFTER: &str = "490101000000Z";

/// AlgorithmIdentifier for sha256WithRSAEncryption (with NULL parameters).
pub fn sha256_with_rsa_algorithm() -> Vec<u8> {
    der::sequence(&[der::oid(OID_SHA256_WITH_RSA), der::null()])
}

/// AlgorithmIdentifier for rsaEncryption (with NULL parameters).
pub fn rsa_encryption_algorithm() -> Vec<u8> {
    der::sequence(&[der::oid(OID_RSA_ENCRYPTION), der::null()])
}

/// X.509 Name as a sequence of single-attribute RDNs: C, O, CN.
pub fn name(dn: &DistinguishedName) -> Vec<u8> {
    let rdn = |oid: &[u64], value: Vec<u8>| der::set(&[der::sequence(&[der::oid(oid), value])]);
    der::sequence(&[
        rdn(OID_COUNTRY, der::printable_string(dn.country)),
        rdn(OID_ORGANIZATION, der::utf8_string(dn.organization)),
        rdn(OID_COMMON_NAME, der::utf8_string(dn.common_name)),
    ])
}

/// SubjectPublicKeyInfo holding an RSAPublicKey.
pub fn subject_public_key_info(key: &RsaPublicKey) -> Vec<u8> {
    let rsa_public_key = der::sequence(&[
        der::unsigned_integer(&key.n().to_bytes_be()),
        der::unsigned_integer(&key.e().to_bytes_be()),
    ]);
    der::sequence(&[rsa_encryption_algorithm(), der::bit_string(&rsa_public_key)])
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `message` (deterministic).
pub fn sign_sha256(key: &RsaPrivateKey, message: &[u8]) -> Vec<u8> {
    let digest = Sha256::digest(message);
    key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).expect("RSA-2048 signs a SHA-256 digest")
}

/// A self-signed certificate for `key` naming `dn` as subject and issuer.
pub fn self_signed_certificate(key: &RsaPrivateKey, dn: &DistinguishedName, serial: u64) -> Vec<u8> {
    let tbs = der::sequence(&[
        der::explicit(0, &der::small_integer(2)), // v3
        der::small_integer(serial),
        sha256_with_rsa_algorithm(),
        name(dn),
        der::sequence(&[der::utc_time(NOT_BEFORE), der::utc_time(NOT_AFTER)]),
        name(dn),
        subject_public_key_info(&key.to_public_key()),
    ]);
    let signature = sign_sha256(key, &tbs);
    der::sequence(&[tbs, sha256_with_rsa_algorithm(), der::bit_string(&signature)])
}
