//! samples/malformed/*: archives and files broken on purpose, each the way
//! real malware or hostile uploads break them. Analyzers must report them
//! with diagnostics, never crash, and never allocate or inflate without bound.

use crate::apk_sign_v2;
use crate::arsc;
use crate::axml;
use crate::dex::{self, header};
use crate::zip::{self, Compression, EntryQuirks, ZipWriter};

use super::benign;

/// Bytes the zip-bomb entry inflates to: 1 GiB of zeros.
pub const BOMB_INFLATED_SIZE: u64 = 1 << 30;
/// What the zip-bomb entry's headers claim instead (a lie).
pub const BOMB_DECLARED_SIZE: u32 = 1 << 20;

/// The first half of benign.apk: no central directory, no EOCD.
pub fn truncated(benign_apk: &[u8]) -> Vec<u8> {
    benign_apk[..benign_apk.len() / 2].to_vec()
}

/// A valid small app plus assets/bomb.bin: ~1 MiB of deflate that inflates to
/// 1 GiB of zeros while both headers declare 1 MiB uncompressed.
pub fn zip_bomb() -> Vec<u8> {
    let (stream, crc) = zip::deflate_zeros(BOMB_INFLATED_SIZE);
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &benign::manifest(), Compression::Deflated);
    zip.add("classes.dex", &benign::classes_dex(), Compression::Deflated);
    zip.add_encoded(
        b"assets/bomb.bin",
        &stream,
        Compression::Deflated,
        crc,
        // The true size (1 GiB) still fits the u32 field; we lie on purpose.
        u32::try_from(BOMB_INFLATED_SIZE).expect("1 GiB fits in u32"),
        &EntryQuirks { declared_uncompressed_size: Some(BOMB_DECLARED_SIZE), ..EntryQuirks::default() },
    );
    zip.finish()
}

/// benign's content whose AndroidManifest.xml has a string pool with a bogus
/// string count (0x0fffffff) and an out-of-range string offset; v2-signed, so
/// only the manifest is broken.
pub fn bad_string_pool() -> Vec<u8> {
    let mut manifest = benign::manifest();
    axml::corrupt_string_pool(&mut manifest);
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &manifest, Compression::Deflated);
    zip.add("classes.dex", &benign::classes_dex(), Compression::Deflated);
    zip.add("resources.arsc", &arsc::app_resources(benign::PACKAGE, "Notes"), Compression::Stored);
    apk_sign_v2::sign(&zip.finish(), &benign::signer())
}

/// A Janus polyglot (CVE-2017-13156): a DEX at offset 0 followed by a valid
/// (unsigned) zip whose central-directory offsets count the DEX prefix. The
/// DEX header's file_size, data_size, checksum and signature cover the whole
/// file, so it is also a valid DEX.
pub fn janus() -> Vec<u8> {
    let mut spec = dex::DexSpec::default();
    spec.class("Lcom/example/janus/Injected;", "Ljava/lang/Object;")
        .method("Ljava/lang/Runtime;->exec(Ljava/lang/String;)Ljava/lang/Process;")
        .string("https://janus.example.net/stage2");
    let prefix = dex::build(&spec);
    let mut zip = ZipWriter::with_prefix(prefix);
    zip.add("AndroidManifest.xml", &benign::manifest(), Compression::Deflated);
    zip.add("classes.dex", &benign::classes_dex(), Compression::Deflated);
    let mut out = zip.finish();
    let total = out.len() as u32;
    let data_off = zip::read_u32(&out, header::DATA_OFF);
    out[header::FILE_SIZE..header::FILE_SIZE + 4].copy_from_slice(&total.to_le_bytes());
    out[header::DATA_SIZE..header::DATA_SIZE + 4].copy_from_slice(&(total - data_off).to_le_bytes());
    dex::fix_checksums(&mut out);
    out
}

/// Hostile entry names and header lies: a duplicated classes.dex, path
/// traversal, an absolute path, a name with a newline and a NUL byte, the
/// encrypted flag on plain data, and compression method 99 on deflated data.
pub fn evil_names() -> Vec<u8> {
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &benign::manifest(), Compression::Deflated);
    zip.add("classes.dex", &benign::classes_dex(), Compression::Deflated);
    zip.add("classes.dex", &super::datahungry::payload_dex(), Compression::Deflated);
    zip.add("../../etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", Compression::Stored);
    zip.add("/data/local/tmp/absolute.txt", b"absolute path\n", Compression::Stored);
    zip.add_with_quirks(
        b"assets/evil\nname\0.txt",
        b"newline and NUL in the name\n",
        Compression::Stored,
        &EntryQuirks::default(),
    );
    zip.add_with_quirks(
        b"assets/not-really-encrypted.bin",
        b"plain bytes behind an encrypted flag\n",
        Compression::Stored,
        &EntryQuirks { extra_flags: 0x0001, ..EntryQuirks::default() },
    );
    zip.add_with_quirks(
        b"assets/method99.bin",
        b"deflated data labelled with compression method 99 (AE-x)\n",
        Compression::Deflated,
        &EntryQuirks { method_override: Some(99), ..EntryQuirks::default() },
    );
    zip.finish()
}

/// benign's content with a classes.dex whose header tables point out of
/// bounds (string_ids beyond the file, a huge method_ids count, class_defs
/// offset past the end) and one string_data offset out of range; checksum and
/// signature are recomputed so only the structure is wrong.
pub fn bad_dex() -> Vec<u8> {
    let mut dex = benign::classes_dex();
    let len = dex.len() as u32;
    let string_ids_off = zip::read_u32(&dex, header::STRING_IDS_OFF) as usize;
    // string_ids[0] -> far outside the file.
    dex[string_ids_off..string_ids_off + 4].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let put = |dex: &mut Vec<u8>, at: usize, value: u32| {
        dex[at..at + 4].copy_from_slice(&value.to_le_bytes());
    };
    put(&mut dex, header::METHOD_IDS_SIZE, 0x00ff_ffff);
    put(&mut dex, header::CLASS_DEFS_OFF, len + 0x1000);
    put(&mut dex, header::STRING_IDS_SIZE, 0x0100_0000);
    dex::fix_checksums(&mut dex);
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &benign::manifest(), Compression::Deflated);
    zip.add("classes.dex", &dex, Compression::Deflated);
    apk_sign_v2::sign(&zip.finish(), &benign::signer())
}

/// benign.apk with assets/about.txt changed after signing (same length, CRC
/// updated so the zip itself is consistent): the v2 digest no longer matches.
pub fn tampered() -> Vec<u8> {
    let original = benign::unsigned(benign::ABOUT_TEXT);
    let block = apk_sign_v2::signing_block(&original, &benign::signer());
    let modified_text = benign::ABOUT_TEXT.replace("api.example.org", "api.example.net");
    assert_eq!(modified_text.len(), benign::ABOUT_TEXT.len());
    let modified = benign::unsigned(&modified_text);
    apk_sign_v2::insert_signing_block(&modified, &block)
}
