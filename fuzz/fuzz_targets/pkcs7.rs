#![no_main]
// PKCS#7 SignedData parsing and SignerInfo checks over a JAR signature block file.
libfuzzer_sys::fuzz_target!(|data: &[u8]| drop(appvet::formats::signing::pkcs7::inspect(
    data, b"content"
)));
