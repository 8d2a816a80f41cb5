#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(dex) = appvet::formats::dex::parse(data) {
        let _ = dex.method_refs().count();
        let _ = dex.class_names().count();
    }
});
