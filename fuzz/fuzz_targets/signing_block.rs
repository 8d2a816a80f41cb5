#![no_main]
// APK Signing Block location, pair parsing and v2/v3/v3.1 verification over a whole file.
libfuzzer_sys::fuzz_target!(
    |data: &[u8]| drop(appvet::formats::signing::inspect_signing_block(data))
);
