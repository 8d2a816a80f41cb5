#![no_main]
use appvet::formats::codesign::verify::{verify, BoundFiles};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let sig = appvet::formats::codesign::parse(data);
    let _ = appvet::formats::codesign::der_entitlements_map(data);
    // The signature checked against its own bytes as the binary: page
    // hashes, special slots, CMS and chain walk over hostile input.
    let files = BoundFiles { info_plist: Some(data), code_resources: None, in_bundle: true };
    let _ = verify(data, &sig, &files, None);
});
