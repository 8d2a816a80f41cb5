//! APK Signature Scheme v2 signer (source.android.com/docs/security/features/apksigning/v2).
//!
//! The v2 block sits in the APK Signing Block, inserted between the last
//! entry and the central directory. Its digest covers three sections of the
//! *final* file: the entries (0..signing block), the central directory, and
//! the EOCD with its central-directory offset pointing at the signing block.
//! That offset equals the unsigned archive's own CD offset, so the digest can
//! be taken over the unsigned archive as written. Each section is cut into
//! 1 MiB chunks: chunk digest = SHA-256(0xa5 || u32le len || chunk), top digest
//! = SHA-256(0x5a || u32le chunk count || chunk digests...).

use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

use crate::x509;
use crate::zip::{layout, put_u32, put_u64};

/// Block id of the APK Signature Scheme v2 block inside the signing block.
pub const V2_BLOCK_ID: u32 = 0x7109_871a;
/// RSASSA-PKCS1-v1_5 with SHA-256, digest CHUNKED_SHA256.
pub const RSA_PKCS1_V1_5_WITH_SHA256: u32 = 0x0103;
/// Magic at the end of every APK Signing Block.
pub const SIGNING_BLOCK_MAGIC: &[u8; 16] = b"APK Sig Block 42";
const CHUNK_SIZE: usize = 1 << 20;

/// A key and its certificate (DER).
pub struct Signer {
    pub key: RsaPrivateKey,
    pub certificate: Vec<u8>,
}

/// Signs an unsigned archive written by [`crate::zip::ZipWriter`].
pub fn sign(unsigned_zip: &[u8], signer: &Signer) -> Vec<u8> {
    let block = signing_block(unsigned_zip, signer);
    insert_signing_block(unsigned_zip, &block)
}

/// The complete APK Signing Block for `unsigned_zip`.
pub fn signing_block(unsigned_zip: &[u8], signer: &Signer) -> Vec<u8> {
    let digest = chunked_sha256(unsigned_zip);

    let mut digest_entry = Vec::new();
    put_u32(&mut digest_entry, RSA_PKCS1_V1_5_WITH_SHA256);
    length_prefixed(&mut digest_entry, &digest);

    let mut signed_data = Vec::new();
    length_prefixed(&mut signed_data, &prefixed_sequence(&[digest_entry]));
    length_prefixed(&mut signed_data, &prefixed_sequence(std::slice::from_ref(&signer.certificate)));
    length_prefixed(&mut signed_data, &[]); // no additional attributes

    let mut signature_entry = Vec::new();
    put_u32(&mut signature_entry, RSA_PKCS1_V1_5_WITH_SHA256);
    length_prefixed(&mut signature_entry, &x509::sign_sha256(&signer.key, &signed_data));

    let mut signer_bytes = Vec::new();
    length_prefixed(&mut signer_bytes, &signed_data);
    length_prefixed(&mut signer_bytes, &prefixed_sequence(&[signature_entry]));
    length_prefixed(&mut signer_bytes, &x509::subject_public_key_info(&signer.key.to_public_key()));
    let mut v2_block = Vec::new();
    length_prefixed(&mut v2_block, &prefixed_sequence(&[signer_bytes]));

    let mut pairs = Vec::new();
    put_u64(&mut pairs, 4 + v2_block.len() as u64);
    put_u32(&mut pairs, V2_BLOCK_ID);
    pairs.extend_from_slice(&v2_block);

    // The size fields count everything after the first one: pairs, the second
    // size field and the magic.
    let size = (pairs.len() + 8 + 16) as u64;
    let mut block = Vec::new();
    put_u64(&mut block, size);
    block.extend_from_slice(&pairs);
    put_u64(&mut block, size);
    block.extend_from_slice(SIGNING_BLOCK_MAGIC);
    block
}

/// Inserts `block` before the central directory and moves the EOCD's CD
/// offset past it. Also used to graft a signing block onto tampered content.
pub fn insert_signing_block(unsigned_zip: &[u8], block: &[u8]) -> Vec<u8> {
    let parts = layout(unsigned_zip);
    let cd = parts.central_directory_offset;
    let mut out = Vec::with_capacity(unsigned_zip.len() + block.len());
    out.extend_from_slice(&unsigned_zip[..cd]);
    out.extend_from_slice(block);
    out.extend_from_slice(&unsigned_zip[cd..]);
    let moved = u32::try_from(cd + block.len()).expect("fits in u32");
    let at = parts.eocd_offset + block.len() + 16;
    out[at..at + 4].copy_from_slice(&moved.to_le_bytes());
    out
}

/// CHUNKED_SHA256 over entries, central directory and EOCD of an unsigned zip.
pub fn chunked_sha256(unsigned_zip: &[u8]) -> Vec<u8> {
    let parts = layout(unsigned_zip);
    let sections = [
        &unsigned_zip[..parts.central_directory_offset],
        &unsigned_zip[parts.central_directory_offset..parts.eocd_offset],
        &unsigned_zip[parts.eocd_offset..],
    ];
    let mut chunk_digests = Vec::new();
    let mut count = 0u32;
    for section in sections {
        for chunk in section.chunks(CHUNK_SIZE) {
            let mut hasher = Sha256::new();
            hasher.update([0xa5]);
            hasher.update((chunk.len() as u32).to_le_bytes());
            hasher.update(chunk);
            chunk_digests.extend_from_slice(&hasher.finalize());
            count += 1;
        }
    }
    let mut top = Sha256::new();
    top.update([0x5a]);
    top.update(count.to_le_bytes());
    top.update(&chunk_digests);
    top.finalize().to_vec()
}

fn length_prefixed(out: &mut Vec<u8>, value: &[u8]) {
    put_u32(out, u32::try_from(value.len()).expect("fits in u32"));
    out.extend_from_slice(value);
}

fn prefixed_sequence(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        length_prefixed(&mut out, item);
    }
    out
}
