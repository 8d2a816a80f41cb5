#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = appvet::formats::codesign::parse(data);
    let _ = appvet::formats::codesign::der_entitlements_map(data);
});
