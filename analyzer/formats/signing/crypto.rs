//! Hashes, public keys and signature checks shared by the JAR (v1) and the
//! APK Signature Scheme v2/v3 verifiers.
//!
//! Keys come from a certificate's or signer's SubjectPublicKeyInfo. RSA
//! (PKCS#1 v1.5 and PSS), ECDSA on P-256 / P-384 are verified; DSA and P-521
//! are reported as unsupported so the caller can say "cannot tell"
//! instead of "does not verify".

use md5::Md5;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use thiserror::Error;

use super::der::{self, TAG_BIT_STRING, TAG_INTEGER, TAG_OID, TAG_SEQUENCE};

/// Largest RSA modulus accepted (apksig test vectors go up to 8192 bits;
/// the `rsa` crate's default cap of 4096 would refuse those).
const MAX_RSA_BITS: usize = 16384;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    #[error("unsupported algorithm: {0}")]
    Unsupported(String),
    #[error("malformed public key: {0}")]
    BadKey(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Md5 => "MD5",
            HashAlg::Sha1 => "SHA-1",
            HashAlg::Sha224 => "SHA-224",
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
        }
    }

    /// Digest of `data` (`None` only if an algorithm lacks an implementation).
    pub fn digest(self, data: &[u8]) -> Option<Vec<u8>> {
        let mut h = Hasher::new(self)?;
        h.update(data);
        Some(h.finish())
    }

    /// DER DigestInfo prefix for PKCS#1 v1.5 signatures.
    fn pkcs1_prefix(self) -> &'static [u8] {
        match self {
            HashAlg::Md5 => &[
                0x30, 0x20, 0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05, 0x05,
                0x00, 0x04, 0x10,
            ],
            HashAlg::Sha1 => {
                &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]
            }
            HashAlg::Sha224 => &[
                0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04,
                0x05, 0x00, 0x04, 0x1c,
            ],
            HashAlg::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
                0x05, 0x00, 0x04, 0x20,
            ],
            HashAlg::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
                0x05, 0x00, 0x04, 0x30,
            ],
            HashAlg::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
                0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    fn output_len(self) -> usize {
        match self {
            HashAlg::Md5 => 16,
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 => 28,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
}

/// Incremental hash over one of the supported algorithms.
pub enum Hasher {
    Md5(Md5),
    Sha1(Sha1),
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(alg: HashAlg) -> Option<Self> {
        Some(match alg {
            HashAlg::Md5 => Hasher::Md5(Md5::new()),
            HashAlg::Sha1 => Hasher::Sha1(Sha1::new()),
            HashAlg::Sha224 => Hasher::Sha224(Sha224::new()),
            HashAlg::Sha256 => Hasher::Sha256(Sha256::new()),
            HashAlg::Sha384 => Hasher::Sha384(Sha384::new()),
            HashAlg::Sha512 => Hasher::Sha512(Sha512::new()),
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// How the signature bytes are laid out for a given key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigPadding {
    RsaPkcs1,
    /// RSA-PSS with MGF1 over the same hash and a salt as long as the hash.
    RsaPss,
    /// ECDSA, DER-encoded (r, s).
    Ecdsa,
    Dsa,
}

/// A public key decoded from SubjectPublicKeyInfo.
#[derive(Debug, Clone)]
pub enum PublicKey {
    Rsa(RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    /// Recognised but not verifiable here (DSA, P-521, other curves).
    Unsupported(String),
}

pub const OID_RSA: &str = "1.2.840.113549.1.1.1";
pub const OID_EC: &str = "1.2.840.10045.2.1";
pub const OID_DSA: &str = "1.2.840.10040.4.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";

impl PublicKey {
    /// Key family and size, e.g. ("RSA", 2048).
    pub fn describe(&self) -> (String, Option<u32>) {
        match self {
            PublicKey::Rsa(k) => ("RSA".into(), u32::try_from(k.n().bits()).ok()),
            PublicKey::P256(_) => ("EC".into(), Some(256)),
            PublicKey::P384(_) => ("EC".into(), Some(384)),
            PublicKey::Unsupported(s) => (s.clone(), None),
        }
    }
}

/// Decodes a DER SubjectPublicKeyInfo.
pub fn parse_spki(spki: &[u8]) -> Result<PublicKey, CryptoError> {
    let bad = |e: der::DerError| CryptoError::BadKey(e.to_string());
    let top = der::parse(spki).map_err(bad)?.expect(TAG_SEQUENCE).map_err(bad)?;
    let mut kids = top.children();
    let alg = kids.next_tlv().map_err(bad)?.expect(TAG_SEQUENCE).map_err(bad)?;
    let key_bits = kids.next_tlv().map_err(bad)?.expect(TAG_BIT_STRING).map_err(bad)?;
    let mut alg_kids = alg.children();
    let alg_oid = alg_kids.next_tlv().map_err(bad)?.expect(TAG_OID).map_err(bad)?;
    let alg_oid = der::oid_to_string(alg_oid.content).unwrap_or_default();
    // BIT STRING content starts with the count of unused bits (always 0 here).
    let key = key_bits.content.get(1..).ok_or_else(|| CryptoError::BadKey("empty key".into()))?;
    match alg_oid.as_str() {
        OID_RSA => {
            let seq = der::parse(key).map_err(bad)?.expect(TAG_SEQUENCE).map_err(bad)?;
            let mut parts = seq.children();
            let n = parts.next_tlv().map_err(bad)?.expect(TAG_INTEGER).map_err(bad)?;
            let e = parts.next_tlv().map_err(bad)?.expect(TAG_INTEGER).map_err(bad)?;
            let n = BigUint::from_bytes_be(n.content);
            let e = BigUint::from_bytes_be(e.content);
            RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
                .map(PublicKey::Rsa)
                .map_err(|err| CryptoError::BadKey(err.to_string()))
        }
        OID_EC => {
            let curve = alg_kids
                .next_tlv()
                .ok()
                .filter(|t| t.tag == TAG_OID)
                .and_then(|t| der::oid_to_string(t.content))
                .unwrap_or_default();
            match curve.as_str() {
                OID_P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map(PublicKey::P256)
                    .map_err(|e| CryptoError::BadKey(e.to_string())),
                OID_P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map(PublicKey::P384)
                    .map_err(|e| CryptoError::BadKey(e.to_string())),
                OID_P521 => Ok(PublicKey::Unsupported("EC P-521".into())),
                other => Ok(PublicKey::Unsupported(format!("EC curve {other}"))),
            }
        }
        OID_DSA => Ok(PublicKey::Unsupported("DSA".into())),
        other => Ok(PublicKey::Unsupported(format!("key algorithm {other}"))),
    }
}

/// Checks `signature` over `message`. `Ok(false)` = a well-formed check that
/// failed; `Err(Unsupported)` = this build cannot check it.
pub fn verify(
    key: &PublicKey,
    padding: SigPadding,
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let digest =
        hash.digest(message).ok_or_else(|| CryptoError::Unsupported(format!("{} digest", hash.name())))?;
    verify_prehashed(key, padding, hash, &digest, signature)
}

/// Like [`verify`], with the message digest already computed.
pub fn verify_prehashed(
    key: &PublicKey,
    padding: SigPadding,
    hash: HashAlg,
    digest: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    match (key, padding) {
        (PublicKey::Rsa(k), SigPadding::RsaPkcs1) => Ok(verify_pkcs1v15(k, hash, digest, signature)),
        (PublicKey::Rsa(k), SigPadding::RsaPss) => {
            let sig = left_pad(signature, k.size());
            let scheme = match hash {
                HashAlg::Sha256 => rsa::Pss::new::<Sha256>(),
                HashAlg::Sha512 => rsa::Pss::new::<Sha512>(),
                other => return Err(CryptoError::Unsupported(format!("RSA-PSS with {}", other.name()))),
            };
            Ok(k.verify(scheme, digest, &sig).is_ok())
        }
        (PublicKey::P256(k), SigPadding::Ecdsa) => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else {
                return Ok(false);
            };
            let sig = sig.normalize_s().unwrap_or(sig);
            Ok(k.verify_prehash(digest, &sig).is_ok())
        }
        (PublicKey::P384(k), SigPadding::Ecdsa) => {
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            let Ok(sig) = p384::ecdsa::Signature::from_der(signature) else {
                return Ok(false);
            };
            let sig = sig.normalize_s().unwrap_or(sig);
            Ok(k.verify_prehash(digest, &sig).is_ok())
        }
        (PublicKey::Unsupported(what), _) => Err(CryptoError::Unsupported(what.clone())),
        (_, SigPadding::Dsa) => Err(CryptoError::Unsupported("DSA".into())),
        // Key type does not match the signature algorithm: Java throws
        // InvalidKeyException, which apksig reports as a failed verification.
        _ => Ok(false),
    }
}

/// Java accepts RSA signatures shorter than the modulus (leading zeros dropped).
/// RSASSA-PKCS1-v1_5 verification (RFC 8017 section 8.2.2): `signature^e mod n`
/// must equal the EMSA-PKCS1-v1_5 encoding of `digest`.
///
/// The `rsa` crate's generic modular exponentiation spends ~9M instructions
/// on one 4096-bit signature, most of a small app's scan; APK keys use
/// e = 65537, for which plain square-and-multiply is several times cheaper.
fn verify_pkcs1v15(k: &RsaPublicKey, hash: HashAlg, digest: &[u8], signature: &[u8]) -> bool {
    let size = k.size();
    let prefix = hash.pkcs1_prefix();
    let t_len = prefix.len() + digest.len();
    if digest.len() != hash.output_len() || signature.len() > size || size < t_len + 11 {
        return false;
    }
    let s = BigUint::from_bytes_be(signature);
    if &s >= k.n() {
        return false;
    }
    let m = public_exponent(&s, k.e(), k.n()).to_bytes_be();
    if m.len() > size {
        return false;
    }
    let mut expected = Vec::with_capacity(size);
    expected.extend_from_slice(&[0x00, 0x01]);
    expected.resize(size - t_len - 1, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(prefix);
    expected.extend_from_slice(digest);
    left_pad(&m, size) == expected
}

/// `base^e mod n` for `base < n`: square-and-multiply in Montgomery form
/// for an odd modulus and an exponent of up to 64 bits (every RSA key
/// seen in APKs), the generic exponentiation otherwise.
fn public_exponent(base: &BigUint, e: &BigUint, n: &BigUint) -> BigUint {
    let e_bytes = e.to_bytes_be();
    let odd = n.to_bytes_le().first().is_some_and(|b| b & 1 == 1);
    if e_bytes.len() > 8 || e_bytes.iter().all(|b| *b == 0) || !odd {
        return base.modpow(e, n);
    }
    let e = e_bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let m = Montgomery::new(n);
    let k = m.n.len();
    let r2 = to_limbs(&((BigUint::from(1u8) << (128 * k)) % n), k);
    let x = m.mul(&to_limbs(base, k), &r2);
    let mut acc = x.clone();
    for bit in (0..63 - e.leading_zeros()).rev() {
        acc = m.mul(&acc, &acc);
        if e >> bit & 1 == 1 {
            acc = m.mul(&acc, &x);
        }
    }
    let mut one = vec![0u64; k];
    one[0] = 1;
    from_limbs(&m.mul(&acc, &one))
}

/// Little-endian 64-bit limbs of `v`, `k` of them (`v` must fit).
fn to_limbs(v: &BigUint, k: usize) -> Vec<u64> {
    let mut limbs = vec![0u64; k];
    for (i, chunk) in v.to_bytes_le().chunks(8).enumerate().take(k) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        limbs[i] = u64::from_le_bytes(word);
    }
    limbs
}

fn from_limbs(limbs: &[u64]) -> BigUint {
    let bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    BigUint::from_bytes_le(&bytes)
}

/// Montgomery multiplication modulo an odd `n` (CIOS, R = 2^(64k)).
struct Montgomery {
    n: Vec<u64>,
    /// -n^-1 mod 2^64.
    n0inv: u64,
}

impl Montgomery {
    fn new(n: &BigUint) -> Self {
        let k = n.to_bytes_le().len().div_ceil(8).max(1);
        let n = to_limbs(n, k);
        // Newton's iteration doubles the correct low bits each step: 1 -> 64 in 6.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        Montgomery { n, n0inv: inv.wrapping_neg() }
    }

    /// `a * b / R mod n` for `a, b < n`.
    fn mul(&self, a: &[u64], b: &[u64]) -> Vec<u64> {
        let n = &self.n[..];
        let k = n.len();
        let b = &b[..k.min(b.len())];
        let mut t = vec![0u64; k + 2];
        for &ai in a.iter().take(k) {
            let mut carry: u128 = 0;
            for (tj, &bj) in t[..k].iter_mut().zip(b) {
                let s = u128::from(*tj) + u128::from(ai) * u128::from(bj) + carry;
                *tj = s as u64;
                carry = s >> 64;
            }
            let s = u128::from(t[k]) + carry;
            t[k] = s as u64;
            t[k + 1] = (s >> 64) as u64;
            // Add m * n, which makes the lowest limb zero, then shift it out.
            let m = t[0].wrapping_mul(self.n0inv);
            let mut carry: u128 = 0;
            for (tj, &nj) in t[..k].iter_mut().zip(n) {
                let s = u128::from(*tj) + u128::from(m) * u128::from(nj) + carry;
                *tj = s as u64;
                carry = s >> 64;
            }
            let s = u128::from(t[k]) + carry;
            t[k] = s as u64;
            t[k + 1] += (s >> 64) as u64;
            t.copy_within(1..k + 2, 0);
            t[k + 1] = 0;
        }
        // t < 2n: one conditional subtraction.
        let ge = t[k] != 0 || (0..k).rev().find(|&i| t[i] != n[i]).is_none_or(|i| t[i] > n[i]);
        if ge {
            let mut borrow = 0u64;
            for i in 0..k {
                let (d1, b1) = t[i].overflowing_sub(n[i]);
                let (d2, b2) = d1.overflowing_sub(borrow);
                t[i] = d2;
                borrow = u64::from(b1 || b2);
            }
        }
        t.truncate(k);
        t
    }
}

fn left_pad(signature: &[u8], len: usize) -> Vec<u8> {
    if signature.len() >= len {
        return signature.to_vec();
    }
    let mut out = vec![0u8; len - signature.len()];
    out.extend_from_slice(signature);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_known_vectors() {
        assert_eq!(
            hex::encode(HashAlg::Sha256.digest(b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(HashAlg::Sha1.digest(b"abc").unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex::encode(HashAlg::Md5.digest(b"abc").unwrap()), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn malformed_keys_are_errors_not_panics() {
        assert!(parse_spki(&[]).is_err());
        assert!(parse_spki(&[0x30, 0x00]).is_err());
        assert!(parse_spki(&[0x30, 0x03, 0x30, 0x01, 0x06]).is_err());
        // SEQ { SEQ { OID rsaEncryption }, BIT STRING { 00, garbage } }
        let spki = [
            0x30, 0x12, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x03,
            0x03, 0x00, 0x30, 0x05,
        ];
        assert!(parse_spki(&spki).is_err());
    }

    #[test]
    fn pkcs1v15_agrees_with_the_rsa_crate() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::Pkcs1v15Sign;
        let pem = include_str!("../../../samples/keys/notes-demo.pk8.pem");
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
        let public = private.to_public_key();
        for hash in [HashAlg::Sha1, HashAlg::Sha256, HashAlg::Sha512] {
            let digest = hash.digest(b"signed data").unwrap();
            let scheme =
                Pkcs1v15Sign { hash_len: Some(hash.output_len()), prefix: hash.pkcs1_prefix().into() };
            let sig = private.sign(scheme.clone(), &digest).unwrap();
            assert!(verify_pkcs1v15(&public, hash, &digest, &sig));
            assert!(public.verify(scheme, &digest, &sig).is_ok());
            // A signature with its leading zero bytes dropped still verifies (left-padded).
            let trimmed: Vec<u8> = sig.iter().copied().skip_while(|b| *b == 0).collect();
            assert!(verify_pkcs1v15(&public, hash, &digest, &trimmed));
            let mut bad = sig.clone();
            bad[10] ^= 1;
            assert!(!verify_pkcs1v15(&public, hash, &digest, &bad));
            let mut other = digest.clone();
            other[0] ^= 1;
            assert!(!verify_pkcs1v15(&public, hash, &other, &sig));
            assert!(!verify_pkcs1v15(&public, hash, &digest[1..], &sig));
            assert!(!verify_pkcs1v15(&public, hash, &digest, &[]));
            let mut long = vec![1u8];
            long.extend_from_slice(&sig);
            assert!(!verify_pkcs1v15(&public, hash, &digest, &long));
        }
        // Montgomery square-and-multiply equals the generic exponentiation,
        // including bases near n and exponents beyond 64 bits (generic path).
        let n = public.n();
        let n_minus_1 = n - BigUint::from(1u8);
        let small_odd = BigUint::from(0xffff_fffb_u64);
        for base in [
            BigUint::from_bytes_be(b"some base value"),
            BigUint::from(0u8),
            BigUint::from(1u8),
            n_minus_1.clone(),
            &n_minus_1 >> 3,
        ] {
            for e in [1u64, 3, 17, 65537, u64::MAX] {
                let e = BigUint::from(e);
                assert_eq!(public_exponent(&base, &e, n), base.modpow(&e, n));
            }
            let big_e = BigUint::from_bytes_be(&[1; 9]);
            assert_eq!(public_exponent(&base, &big_e, n), base.modpow(&big_e, n));
            let b = &base % &small_odd;
            assert_eq!(
                public_exponent(&b, &BigUint::from(65537u32), &small_odd),
                b.modpow(&BigUint::from(65537u32), &small_odd)
            );
        }
    }
}
